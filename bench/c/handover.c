// Copyright 2026 the wal-db authors. MIT license.
// A shared library for bench/handover_bench.ts: the ways a flush can be handed from Deno's event
// loop to another thread and its completion handed back, each doing the same work, so that the
// round trip minus the work is the hand-over. Built with `cc -O2 -shared -fPIC -pthread`.
//
// The work (ho_work): with mode 0 nothing (the pure hand-over); with mode 1 one pwrite of
// HO_RECORD_BYTES at the file's next offset, then fdatasync (a real flush, so the flushing thread
// sleeps in the disk as it would in the log). Its duration is kept in last_work_ns.
//
// One persistent flusher thread (ho_start ... ho_stop) serves one request at a time: ho_submit
// sets it and signals a condition variable; the thread does the work, publishes the result and
// the request's number in `done`, broadcasts, and, when the request asked for it, calls the
// callback given to ho_start (a Deno threadsafe UnsafeCallback, which runs on the event loop).
// ho_wait blocks until the last submitted request is done (bound nonblocking by Deno, it prices
// "a worker waits on the condvar"); ho_done reads the finished request's number without
// blocking (a status word JS can check when it next runs). ho_c_roundtrips prices the same
// hand-over between two C threads, the floor any of the others can reach.

#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

enum { HO_RECORD_BYTES = 264 };
static const double NS_PER_S = 1e9;

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * NS_PER_S + (double)ts.tv_nsec;
}

static unsigned char record[HO_RECORD_BYTES];
static long long next_offset = 0;
static double last_work_ns = 0;

// Runs the work on the calling thread; returns 0 or -errno.
int32_t ho_work(int32_t fd, int32_t mode) {
  double start = now_ns();
  int32_t result = 0;
  if (mode == 1) {
    if (pwrite(fd, record, sizeof record, next_offset) != (ssize_t)sizeof record) {
      result = -errno;
    } else {
      next_offset += (long long)sizeof record;
      if (fdatasync(fd) != 0) result = -errno;
    }
  }
  last_work_ns = now_ns() - start;
  return result;
}

double ho_last_work_ns(void) { return last_work_ns; }

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t changed = PTHREAD_COND_INITIALIZER;
static pthread_t flusher;
static void (*on_done)(void) = 0;
static int running = 0, stop = 0;
static uint32_t requested = 0, done = 0;
static int32_t request_fd = -1, request_mode = 0, request_notify = 0, result = 0;

static void *flusher_main(void *unused) {
  (void)unused;
  pthread_mutex_lock(&lock);
  for (;;) {
    while (done == requested && !stop) pthread_cond_wait(&changed, &lock);
    if (stop) break;
    uint32_t number = requested;
    int32_t fd = request_fd, mode = request_mode, notify = request_notify;
    pthread_mutex_unlock(&lock);
    int32_t outcome = ho_work(fd, mode);
    pthread_mutex_lock(&lock);
    result = outcome;
    done = number;
    pthread_cond_broadcast(&changed);
    if (notify && on_done != 0) {
      // Outside the lock: Deno's threadsafe callback blocks this thread until the event loop
      // has run it, and the loop may submit the next request from inside it.
      pthread_mutex_unlock(&lock);
      on_done();
      pthread_mutex_lock(&lock);
    }
  }
  pthread_mutex_unlock(&lock);
  return 0;
}

// Starts the flusher thread; callback may be NULL. Returns 0 or -errno.
int32_t ho_start(void (*callback)(void)) {
  if (running) return -EBUSY;
  on_done = callback;
  stop = 0;
  int error = pthread_create(&flusher, 0, flusher_main, 0);
  if (error != 0) return -error;
  running = 1;
  return 0;
}

// Hands one request to the flusher thread; returns its number at once.
uint32_t ho_submit(int32_t fd, int32_t mode, int32_t notify) {
  pthread_mutex_lock(&lock);
  request_fd = fd;
  request_mode = mode;
  request_notify = notify;
  uint32_t number = ++requested;
  pthread_cond_broadcast(&changed);
  pthread_mutex_unlock(&lock);
  return number;
}

// The number of the last finished request (0 before any); never blocks.
uint32_t ho_done(void) {
  pthread_mutex_lock(&lock);
  uint32_t number = done;
  pthread_mutex_unlock(&lock);
  return number;
}

// Blocks until the last submitted request is done; returns its result.
int32_t ho_wait(void) {
  pthread_mutex_lock(&lock);
  while (done != requested) pthread_cond_wait(&changed, &lock);
  int32_t outcome = result;
  pthread_mutex_unlock(&lock);
  return outcome;
}

// count round trips between this thread and the flusher thread, each hand-over (round trip minus
// the work) in nanoseconds into out[i]. Returns 0 or the first failed work's result.
int32_t ho_c_roundtrips(int32_t fd, int32_t mode, uint32_t count, double *out) {
  for (uint32_t i = 0; i < count; i++) {
    double start = now_ns();
    ho_submit(fd, mode, 0);
    int32_t outcome = ho_wait();
    out[i] = now_ns() - start - last_work_ns;
    if (outcome != 0) return outcome;
  }
  return 0;
}

void ho_stop(void) {
  if (!running) return;
  pthread_mutex_lock(&lock);
  stop = 1;
  pthread_cond_broadcast(&changed);
  pthread_mutex_unlock(&lock);
  pthread_join(flusher, 0);
  running = 0;
}
