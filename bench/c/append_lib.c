// Copyright 2026 the wal-db authors. MIT license.
// A shared library for bench/append_file.ts: the C `write()` loop of bench/c/append.c, called
// from the Deno process that measures wal-db, so that both append to the same file system at the
// same moment, round by round, with the same dirty page cache behind them. A separate C process
// run minutes apart meets a different amount of write-back in flight, which moved the ratio
// between 1.5x and 2.1x from one `deno task bench` to the next. Built with
// `cc -O2 -shared -fPIC`.
//
// al_open opens a file in one of AL_SLOTS slots: with reserve_chunk 0 the file grows with every
// write (O_APPEND); otherwise space is reserved in chunks of reserve_chunk bytes ahead of the end
// (posix_fallocate) and records are written with pwrite at the log's end, as wal-db's single-file
// log does. al_append writes `count` copies of one record, one call per record, looping on short
// writes as any correct appender must; one FFI call per round, so the hand-over is not priced
// per record.

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

enum { AL_SLOTS = 4 };

// One open log: its descriptor, its end and the end of the space reserved ahead of it.
struct al_log {
  int fd;
  long long end;
  long long reserved_end;
  long long reserve_chunk;
};

static struct al_log logs[AL_SLOTS] = {{-1, 0, 0, 0}, {-1, 0, 0, 0}, {-1, 0, 0, 0}, {-1, 0, 0, 0}};

// Opens (creating or emptying) the file at path; returns the slot, or -errno (-EMFILE: no slot).
int32_t al_open(const char *path, int32_t reserve_chunk) {
  int slot = 0;
  while (slot < AL_SLOTS && logs[slot].fd >= 0) slot++;
  if (slot == AL_SLOTS) return -EMFILE;
  int flags = O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | (reserve_chunk > 0 ? 0 : O_APPEND);
  int fd = open(path, flags, 0644);
  if (fd < 0) return -errno;
  logs[slot] = (struct al_log){fd, 0, 0, reserve_chunk > 0 ? reserve_chunk : 0};
  return slot;
}

static int reserve(struct al_log *log, long long needed_end) {
  if (log->reserve_chunk == 0 || needed_end <= log->reserved_end) return 0;
  long long target = (needed_end + log->reserve_chunk - 1) / log->reserve_chunk * log->reserve_chunk;
  int result = posix_fallocate(log->fd, log->reserved_end, target - log->reserved_end);
  if (result != 0) return -result;
  log->reserved_end = target;
  return 0;
}

// Writes `count` records of `length` bytes, one write call each; returns 0 or -errno.
int32_t al_append(int32_t slot, const uint8_t *record, uint32_t length, uint32_t count) {
  if (slot < 0 || slot >= AL_SLOTS || logs[slot].fd < 0) return -EBADF;
  struct al_log *log = &logs[slot];
  for (uint32_t i = 0; i < count; i++) {
    int reserved = reserve(log, log->end + length);
    if (reserved != 0) return reserved;
    const uint8_t *data = record;
    size_t left = length;
    while (left > 0) {
      ssize_t written = log->reserve_chunk > 0 ? pwrite(log->fd, data, left, log->end)
                                               : write(log->fd, data, left);
      if (written < 0) {
        if (errno == EINTR) continue;
        return -errno;
      }
      data += written;
      left -= (size_t)written;
      log->end += written;
    }
  }
  return 0;
}

// Closes the slot's file; returns 0 or -errno.
int32_t al_close(int32_t slot) {
  if (slot < 0 || slot >= AL_SLOTS || logs[slot].fd < 0) return -EBADF;
  int result = close(logs[slot].fd);
  logs[slot].fd = -1;
  return result == 0 ? 0 : -errno;
}
