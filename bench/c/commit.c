// Copyright 2026 the wal-db authors. MIT license.
// C floor for durable commits: each round writes WRITERS records, then makes them durable with
// ONE fdatasync. WRITERS=1 is the classic write+fdatasync per record loop; larger values show
// what the disk allows when a batch of that size shares one flush (ideal group commit).
// Usage: commit PATH WRITERS MAX_COMMITS MAX_SECONDS RECORD_BYTES [LATENCY_FILE]
// LATENCY_FILE, if given, receives every commit's latency in microseconds as native-endian
// float64 values, so a harness can merge samples from several runs exactly.
// A commit's latency runs from its record's write() to the end of the round's fdatasync.
// Prints one JSON line with commits/s, mean/p50/p99 commit latency in microseconds, and the
// time spent inside fdatasync.
// Two variants, chosen by environment variables so the harness's arguments stay the same:
// - COMMIT_BATCH_WRITE=1: each round writes its W records with ONE write (the disk's limit for
//   that batch size: what a log that gathers a turn's appends can reach) instead of one each.
// - COMMIT_PREALLOCATE=BYTES: reserve the file in chunks of BYTES ahead of the end (fallocate,
//   then pwrite at the log's end), as wal-db's single-file log does by default, so a flush does
//   not also record a new file size. Unset or 0: the file grows with every write (O_APPEND).
// - COMMIT_FLUSH_THREAD=1: the fdatasync runs on a second thread, which the writing thread wakes
//   and then waits for, as an event loop hands its flush to a worker thread and is woken when it
//   ends. Not an anchor to beat: it prices the two thread wake-ups a non-blocking flush costs,
//   so a mean flush can be split into time in fdatasync and time in the hand-over.

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum { ARG_COUNT = 6, ARG_COUNT_WITH_DUMP = 7, RECORD_BYTES_MAX = 1 << 20, WRITERS_MAX = 1 << 20 };
static const double NS_PER_S = 1e9;
static const double NS_PER_US = 1e3;
static const double P50 = 0.50;
static const double P99 = 0.99;

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * NS_PER_S + (double)ts.tv_nsec;
}

static void die(const char *what) {
  fprintf(stderr, "commit: %s: %s\n", what, strerror(errno));
  exit(1);
}

// The log's end and the end of the space reserved ahead of it (COMMIT_PREALLOCATE).
static long long log_end = 0, reserved_end = 0, reserve_chunk = 0;

// Appends at the log's end: write() on an O_APPEND file, or pwrite() inside the reserve.
static void write_all(int fd, const unsigned char *data, size_t length) {
  if (reserve_chunk > 0 && log_end + (long long)length > reserved_end) {
    long long target = (log_end + (long long)length + reserve_chunk - 1) / reserve_chunk * reserve_chunk;
    if (posix_fallocate(fd, reserved_end, target - reserved_end) != 0) die("fallocate");
    reserved_end = target;
  }
  while (length > 0) {
    ssize_t written = reserve_chunk > 0 ? pwrite(fd, data, length, log_end) : write(fd, data, length);
    if (written < 0) {
      if (errno == EINTR) continue;
      die("write");
    }
    data += written;
    length -= (size_t)written;
    log_end += written;
  }
}

// The flushing thread of COMMIT_FLUSH_THREAD: one request at a time, `pending` set by the
// writing thread and cleared by the flusher, each side waiting on the condition variable.
static pthread_mutex_t flush_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t flush_changed = PTHREAD_COND_INITIALIZER;
static int flush_pending = 0, flush_stop = 0, flush_fd = -1, flush_result = 0;
static double flush_inside_ns = 0; // time inside fdatasync, measured on the flushing thread

static void *flusher_main(void *unused) {
  (void)unused;
  pthread_mutex_lock(&flush_lock);
  for (;;) {
    while (!flush_pending && !flush_stop) pthread_cond_wait(&flush_changed, &flush_lock);
    if (flush_stop) break;
    pthread_mutex_unlock(&flush_lock);
    double started = now_ns();
    int result = fdatasync(flush_fd);
    double ended = now_ns();
    pthread_mutex_lock(&flush_lock);
    flush_inside_ns += ended - started;
    flush_result = result == 0 ? 0 : errno;
    flush_pending = 0;
    pthread_cond_broadcast(&flush_changed);
  }
  pthread_mutex_unlock(&flush_lock);
  return NULL;
}

// Hands one fdatasync to the flushing thread and waits until it is done.
static void flush_on_thread(void) {
  pthread_mutex_lock(&flush_lock);
  flush_pending = 1;
  pthread_cond_broadcast(&flush_changed);
  while (flush_pending) pthread_cond_wait(&flush_changed, &flush_lock);
  int result = flush_result;
  pthread_mutex_unlock(&flush_lock);
  if (result != 0) {
    errno = result;
    die("fdatasync (flush thread)");
  }
}

// Writes the latencies in microseconds, in commit order (before sorting).
static void dump_latencies(const char *path, const double *latency_ns, long count) {
  FILE *out = fopen(path, "wb");
  if (out == NULL) die("fopen LATENCY_FILE");
  for (long i = 0; i < count; i++) {
    double us = latency_ns[i] / NS_PER_US;
    if (fwrite(&us, sizeof us, 1, out) != 1) die("fwrite LATENCY_FILE");
  }
  if (fclose(out) != 0) die("fclose LATENCY_FILE");
}

static int compare_doubles(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

// Nearest-rank percentile of sorted values (the same rule the TypeScript harness uses).
static double percentile(const double *sorted, long count, double p) {
  long rank = (long)ceil(p * (double)count);
  if (rank < 1) rank = 1;
  return sorted[rank - 1];
}

int main(int argc, char **argv) {
  if (argc != ARG_COUNT && argc != ARG_COUNT_WITH_DUMP) {
    fprintf(stderr,
            "usage: commit PATH WRITERS MAX_COMMITS MAX_SECONDS RECORD_BYTES [LATENCY_FILE]\n");
    return 2;
  }
  long writers = atol(argv[2]);
  long max_commits = atol(argv[3]);
  double max_ns = atof(argv[4]) * NS_PER_S;
  long record_bytes = atol(argv[5]);
  if (writers <= 0 || writers > WRITERS_MAX || max_commits < writers || max_ns <= 0 ||
      record_bytes <= 0 || record_bytes > RECORD_BYTES_MAX) {
    fprintf(stderr, "commit: bad arguments (need 0 < WRITERS <= MAX_COMMITS, seconds > 0)\n");
    return 2;
  }
  const char *batch_env = getenv("COMMIT_BATCH_WRITE");
  const char *reserve_env = getenv("COMMIT_PREALLOCATE");
  const char *thread_env = getenv("COMMIT_FLUSH_THREAD");
  int batch_write = batch_env != NULL && atoi(batch_env) != 0;
  int flush_thread = thread_env != NULL && atoi(thread_env) != 0;
  reserve_chunk = reserve_env == NULL ? 0 : atoll(reserve_env);
  if (reserve_chunk < 0) reserve_chunk = 0;
  int fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC | (reserve_chunk > 0 ? 0 : O_APPEND), 0644);
  if (fd < 0) die("open");
  pthread_t flusher;
  flush_fd = fd;
  if (flush_thread && pthread_create(&flusher, NULL, flusher_main, NULL) != 0) die("pthread_create");
  unsigned char *batch = batch_write ? malloc((size_t)record_bytes * (size_t)writers) : NULL;
  if (batch_write && batch == NULL) die("malloc");
  unsigned char *record = malloc((size_t)record_bytes);
  double *latency_ns = malloc(sizeof(double) * (size_t)max_commits);
  double *written_at = malloc(sizeof(double) * (size_t)writers);
  if (record == NULL || latency_ns == NULL || written_at == NULL) die("malloc");
  memset(record, 0xab, (size_t)record_bytes);

  long commits = 0, rounds = 0;
  double flush_ns = 0; // time spent inside fdatasync: the rest is the cost of writing
  double start = now_ns(), end = start;
  // Stop at the first round boundary past either limit, so every round is whole.
  while (commits + writers <= max_commits && end - start < max_ns) {
    if (batch_write) {
      // The records are copied into one buffer, as a gathering log copies its appends.
      for (long w = 0; w < writers; w++) {
        written_at[w] = now_ns();
        memcpy(batch + (size_t)w * (size_t)record_bytes, record, (size_t)record_bytes);
      }
      write_all(fd, batch, (size_t)record_bytes * (size_t)writers);
    } else {
      for (long w = 0; w < writers; w++) {
        written_at[w] = now_ns();
        write_all(fd, record, (size_t)record_bytes);
      }
    }
    double flush_start = now_ns();
    if (flush_thread) flush_on_thread();
    else if (fdatasync(fd) != 0) die("fdatasync");
    end = now_ns();
    flush_ns += end - flush_start;
    for (long w = 0; w < writers; w++) latency_ns[commits++] = end - written_at[w];
    rounds++;
  }
  if (flush_thread) {
    pthread_mutex_lock(&flush_lock);
    flush_stop = 1;
    pthread_cond_broadcast(&flush_changed);
    pthread_mutex_unlock(&flush_lock);
    if (pthread_join(flusher, NULL) != 0) die("pthread_join");
  }
  if (close(fd) != 0) die("close");

  if (argc == ARG_COUNT_WITH_DUMP) dump_latencies(argv[6], latency_ns, commits);
  double sum = 0;
  for (long i = 0; i < commits; i++) sum += latency_ns[i];
  qsort(latency_ns, (size_t)commits, sizeof(double), compare_doubles);
  double seconds = (end - start) / NS_PER_S;
  printf("{\"program\":\"commit\",\"batch_write\":%d,\"flush_thread\":%d,\"preallocate\":%lld,\"writers\":%ld,\"record_bytes\":%ld,\"commits\":%ld,"
         "\"flushes\":%ld,\"flush_seconds\":%.4f,\"fdatasync_seconds\":%.4f,\"seconds\":%.4f,\"commits_per_s\":%.1f,"
         "\"mean_us\":%.2f,\"p50_us\":%.2f,\"p99_us\":%.2f}\n",
         batch_write, flush_thread, reserve_chunk, writers, record_bytes, commits, rounds, flush_ns / NS_PER_S,
         (flush_thread ? flush_inside_ns : flush_ns) / NS_PER_S, seconds,
         (double)commits / seconds, sum / (double)commits / NS_PER_US,
         percentile(latency_ns, commits, P50) / NS_PER_US,
         percentile(latency_ns, commits, P99) / NS_PER_US);
  free(record);
  free(batch);
  free(latency_ns);
  free(written_at);
  return 0;
}
