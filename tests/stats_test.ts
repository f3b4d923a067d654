// Copyright 2026 the wal-db authors. MIT license.
// Tests for src/stats.ts: every counter of `wal.stats`, the histogram and its percentiles.

import { equal } from "node:assert/strict";
import { MemStore, Wal } from "../mod.ts";
import { FLUSH_HISTOGRAM_BUCKETS } from "../src/constants.ts";
import { bucketUpperMs, latencyBucket, StatsRecorder } from "../src/stats.ts";

/** A MemStore whose blocking flush advances a fake clock by `flushMs`. */
class SlowStore extends MemStore {
  constructor(readonly clock: { now: number }, readonly flushMs: number) {
    super();
  }
  override flushSync(): void {
    this.clock.now += this.flushMs;
    super.flushSync();
  }
}

Deno.test("latencyBucket() puts each latency at or below its bucket's upper edge", () => {
  for (const ms of [0, 0.0005, 0.001, 0.0013, 0.25, 1, 3.7, 1000, 1e9]) {
    const bucket = latencyBucket(ms);
    equal(bucket >= 0 && bucket < FLUSH_HISTOGRAM_BUCKETS, true);
    if (bucket < FLUSH_HISTOGRAM_BUCKETS - 1) {
      equal(ms <= bucketUpperMs(bucket) * (1 + 1e-12), true);
    }
    if (bucket > 0) equal(ms > bucketUpperMs(bucket - 1), true);
  }
  equal(latencyBucket(1e12), FLUSH_HISTOGRAM_BUCKETS - 1);
});

Deno.test("StatsRecorder: percentiles come from the histogram, capped at the exact maximum", () => {
  const stats = new StatsRecorder(7, () => 0);
  equal(stats.snapshot().flushLatencyMs.p50, 0);
  for (let i = 0; i < 98; i++) stats.flushed(1, 0);
  stats.flushed(10, 0);
  stats.flushed(100, 0);
  const { flushLatencyMs, flushes, flushMs, recoveryMs } = stats.snapshot();
  equal(flushes, 100);
  equal(flushMs, 98 + 110);
  equal(recoveryMs, 7);
  equal(flushLatencyMs.p50, bucketUpperMs(latencyBucket(1)));
  equal(flushLatencyMs.p90, bucketUpperMs(latencyBucket(1)));
  equal(flushLatencyMs.p99, bucketUpperMs(latencyBucket(10)));
  equal(flushLatencyMs.max, 100);
  // Within the histogram's resolution: four buckets per doubling.
  equal(flushLatencyMs.p50 >= 1 && flushLatencyMs.p50 < 1.19, true);
});

Deno.test("StatsRecorder: each record counts once as flushed, also across a truncation", () => {
  const stats = new StatsRecorder();
  stats.appends = 3;
  stats.flushed(1, 3);
  stats.flushed(1, 3); // nothing new
  equal(stats.snapshot().flushedRecords, 3);
  stats.appends = 5;
  stats.truncated(); // what is left is durable: the two new records are not counted later
  stats.appends = 6;
  stats.flushed(1, 6);
  const snapshot = stats.snapshot();
  equal(snapshot.flushedRecords, 4);
  equal(snapshot.recordsPerFlush, 4 / 3);
});

Deno.test("wal.stats counts appends, bytes and writes in both write modes", async () => {
  for (const writeMode of ["immediate", "gathered"] as const) {
    using wal = Wal.withStore(new MemStore(), { writeMode });
    wal.append(new Uint8Array(10));
    wal.appendBatch([new Uint8Array(1), new Uint8Array(2)]);
    wal.appendBatch([]);
    await Promise.resolve();
    const stats = wal.stats;
    equal(stats.appends, 3);
    equal(stats.appendedBytes, 18 + 9 + 10);
    equal(stats.writes, writeMode === "immediate" ? 2 : 1);
  }
});

Deno.test("wal.stats counts flushes, records per flush and the flush latency", async () => {
  using wal = Wal.withStore(new MemStore());
  await Promise.all([1, 2, 3, 4].map(async () => {
    wal.append(new Uint8Array(1));
    await wal.sync();
  }));
  wal.append(new Uint8Array(1));
  await wal.sync();
  await wal.sync(); // nothing new: no flush
  const stats = wal.stats;
  equal(stats.flushes, 2);
  equal(stats.flushedRecords, 5);
  equal(stats.recordsPerFlush, 2.5);
  equal(stats.flushLatencyMs.max >= stats.flushLatencyMs.p50, true);
  equal(stats.flushMs >= stats.flushLatencyMs.max, true);
  equal(stats.syncBlockedMs, 0);
});

Deno.test("wal.stats counts the time syncSync blocks the thread", () => {
  const clock = { now: 0 };
  const store = new SlowStore(clock, 5);
  const realNow = performance.now;
  // The recorder reads performance.now: a fake clock makes the blocked time exact.
  performance.now = () => clock.now;
  try {
    using wal = Wal.withStore(store);
    wal.append(new Uint8Array(1));
    wal.syncSync();
    wal.append(new Uint8Array(1));
    wal.syncSync();
    wal.syncSync(); // nothing new: not blocked
    const stats = wal.stats;
    // Recovery flushed once too, before the log existed: not a flush of this log.
    equal(stats.syncBlockedMs, 10);
    equal(stats.flushes, 2);
    equal(stats.flushLatencyMs.max, 5);
    equal(stats.recoveryMs, 5);
  } finally {
    performance.now = realNow;
  }
});

Deno.test("wal.stats of a read-only log: zeros, and the recovery time", () => {
  const source = new MemStore();
  Wal.withStore(source).close();
  using wal = Wal.withStore(source, { readOnly: true });
  const stats = wal.stats;
  equal(stats.appends + stats.writes + stats.flushes, 0);
  equal(stats.recoveryMs >= 0, true);
});
