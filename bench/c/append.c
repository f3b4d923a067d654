// Copyright 2026 the wal-db authors. MIT license.
// C floor for appending: write() of fixed-size records to the end of a file, no flush.
// Usage: append PATH RECORDS RECORD_BYTES
// Prints one JSON line: {"program":"append",...,"ns_per_op":N}.
// APPEND_PREALLOCATE=BYTES reserves the file in chunks of BYTES ahead of the end (fallocate, then
// pwrite at the log's end), as wal-db's single-file log does by default; unset or 0: the file
// grows with every write (O_APPEND).

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum { ARG_COUNT = 4, RECORD_BYTES_MAX = 1 << 20 };
static const double NS_PER_S = 1e9;

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * NS_PER_S + (double)ts.tv_nsec;
}

static void die(const char *what) {
  fprintf(stderr, "append: %s: %s\n", what, strerror(errno));
  exit(1);
}

// The log's end and the end of the space reserved ahead of it (APPEND_PREALLOCATE).
static long long log_end = 0, reserved_end = 0, reserve_chunk = 0;

// Loops on short writes, as any correct appender must.
static void write_all(int fd, const unsigned char *data, size_t length) {
  if (reserve_chunk > 0 && log_end + (long long)length > reserved_end) {
    long long target =
        (log_end + (long long)length + reserve_chunk - 1) / reserve_chunk * reserve_chunk;
    if (posix_fallocate(fd, reserved_end, target - reserved_end) != 0) die("fallocate");
    reserved_end = target;
  }
  while (length > 0) {
    ssize_t written =
        reserve_chunk > 0 ? pwrite(fd, data, length, log_end) : write(fd, data, length);
    if (written < 0) {
      if (errno == EINTR) continue;
      die("write");
    }
    data += written;
    length -= (size_t)written;
    log_end += written;
  }
}

int main(int argc, char **argv) {
  if (argc != ARG_COUNT) {
    fprintf(stderr, "usage: append PATH RECORDS RECORD_BYTES\n");
    return 2;
  }
  long records = atol(argv[2]);
  long record_bytes = atol(argv[3]);
  if (records <= 0 || record_bytes <= 0 || record_bytes > RECORD_BYTES_MAX) {
    fprintf(stderr, "append: RECORDS and RECORD_BYTES must be positive (bytes <= %d)\n",
            RECORD_BYTES_MAX);
    return 2;
  }
  const char *reserve_env = getenv("APPEND_PREALLOCATE");
  reserve_chunk = reserve_env == NULL ? 0 : atoll(reserve_env);
  if (reserve_chunk < 0) reserve_chunk = 0;
  // O_APPEND when the file grows; a reserved file is written at the log's end with pwrite.
  int fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC | (reserve_chunk > 0 ? 0 : O_APPEND), 0644);
  if (fd < 0) die("open");
  unsigned char *record = malloc((size_t)record_bytes);
  if (record == NULL) die("malloc");
  memset(record, 0xab, (size_t)record_bytes);

  double start = now_ns();
  for (long i = 0; i < records; i++) write_all(fd, record, (size_t)record_bytes);
  double elapsed = now_ns() - start;

  if (close(fd) != 0) die("close");
  free(record);
  printf("{\"program\":\"append\",\"preallocate\":%lld,\"records\":%ld,\"record_bytes\":%ld,"
         "\"ns_per_op\":%.1f}\n",
         reserve_chunk, records, record_bytes, elapsed / (double)records);
  return 0;
}
