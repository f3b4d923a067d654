// Copyright 2026 the wal-db authors. MIT license.
// C anchor for replay: reads a wal-db log with 1 MiB read() calls and checks every frame's
// CRC32C with the SSE4.2 instruction (8 bytes per _mm_crc32_u64), as a replay at the
// hardware's pace would. Frames that straddle two reads are moved to the front of the buffer.
// Usage: scan PATH MAX_RECORD_SIZE
// Prints one JSON line: {"program":"scan","bytes":N,"records":N,"intact_end":N,"seconds":S,
// "cpu_seconds":C}: wall-clock time and the CPU time the process used (user and system), which
// a machine shared with other work inflates far less.
// "intact_end" is where the intact frames end (the file's size when every frame checks out).

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <nmmintrin.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum { ARG_COUNT = 3, HEADER = 8, CHUNK = 1 << 20 };
static const double NS_PER_S = 1e9;

static double clock_s(clockid_t clock) {
  struct timespec ts;
  clock_gettime(clock, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / NS_PER_S;
}

static void die(const char *what) {
  fprintf(stderr, "scan: %s: %s\n", what, strerror(errno));
  exit(1);
}

static uint32_t load_u32(const unsigned char *p) {
  uint32_t v;
  memcpy(&v, p, sizeof v);
  return v; // x86_64 is little-endian, as the format is
}

// CRC32C of the 4 length bytes then the payload, as the frame's CRC field holds it.
static uint32_t frame_crc(const unsigned char *length_bytes, const unsigned char *p, size_t n) {
  uint64_t crc = 0xffffffffu;
  crc = _mm_crc32_u32((uint32_t)crc, load_u32(length_bytes));
  for (; n >= 8; n -= 8, p += 8) {
    uint64_t word;
    memcpy(&word, p, sizeof word);
    crc = _mm_crc32_u64(crc, word);
  }
  for (; n > 0; n--, p++) crc = _mm_crc32_u8((uint32_t)crc, *p);
  return (uint32_t)crc ^ 0xffffffffu;
}

int main(int argc, char **argv) {
  if (argc != ARG_COUNT) {
    fprintf(stderr, "usage: scan PATH MAX_RECORD_SIZE\n");
    return 2;
  }
  uint64_t max = strtoull(argv[2], NULL, 10);
  int fd = open(argv[1], O_RDONLY);
  if (fd < 0) die("open");
  // One chunk, plus room for the largest frame that can straddle two reads.
  size_t capacity = CHUNK + HEADER + (size_t)max;
  unsigned char *buf = malloc(capacity);
  if (buf == NULL) die("malloc");
  memset(buf, 0, capacity); // warm: first touch of the buffer is not what is measured

  double start = clock_s(CLOCK_MONOTONIC);
  double cpu_start = clock_s(CLOCK_PROCESS_CPUTIME_ID);
  uint64_t offset = 0, records = 0, bytes = 0;
  size_t held = 0;
  int damaged = 0, eof = 0;
  while (!damaged && !eof) {
    ssize_t got = read(fd, buf + held, capacity - held < CHUNK ? capacity - held : CHUNK);
    if (got < 0) die("read");
    if (got == 0) eof = 1;
    bytes += (uint64_t)got;
    held += (size_t)got;
    size_t at = 0;
    while (held - at >= HEADER) {
      uint32_t length = load_u32(buf + at + 4);
      if (length > max) {
        damaged = 1;
        break;
      }
      if (held - at - HEADER < length) break; // the rest comes with the next read
      if (frame_crc(buf + at + 4, buf + at + HEADER, length) != load_u32(buf + at)) {
        damaged = 1;
        break;
      }
      at += HEADER + length;
      records++;
    }
    offset += at;
    memmove(buf, buf + at, held - at);
    held -= at;
  }
  double seconds = clock_s(CLOCK_MONOTONIC) - start;
  double cpu_seconds = clock_s(CLOCK_PROCESS_CPUTIME_ID) - cpu_start;
  close(fd);
  free(buf);
  printf("{\"program\":\"scan\",\"bytes\":%llu,\"records\":%llu,\"intact_end\":%llu,"
         "\"seconds\":%.6f,\"cpu_seconds\":%.6f}\n",
         (unsigned long long)bytes, (unsigned long long)records, (unsigned long long)offset,
         seconds, cpu_seconds);
  return 0;
}
