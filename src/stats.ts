// Copyright 2026 the wal-db authors. MIT license.
// The counters behind `wal.stats`: cheap enough to be always on (a few additions per append, a
// clock read and a histogram bucket per flush, and no allocation until a snapshot is taken).
// Pure: no I/O and no `Deno.*`.

import { FLUSH_HISTOGRAM_BUCKETS, FLUSH_HISTOGRAM_BUCKETS_PER_DOUBLING } from "./constants.ts";

/**
 * Flush latency percentiles, in milliseconds; see {@linkcode WalStats}.
 *
 * @example
 * ```ts
 * import { MemStore, Wal } from "@wal-db/wal-db";
 * import { equal } from "node:assert/strict";
 *
 * using wal = Wal.withStore(new MemStore());
 * equal(wal.stats.flushLatencyMs.p99, 0); // no flush yet
 * ```
 */
export interface FlushLatency {
  /** Half of the flushes took at most this long. */
  p50: number;
  /** 90% of the flushes took at most this long. */
  p90: number;
  /** 99% of the flushes took at most this long. */
  p99: number;
  /** The slowest flush, measured exactly. */
  max: number;
}

/**
 * A snapshot of what a log did since it was opened; see `Wal.stats`. Counts cover this open
 * only (a reopened log starts from zero), and only the writing side: a read-only log reports
 * zeros and its recovery time.
 *
 * @example Watching group commit share flushes
 * ```ts
 * import { MemStore, Wal, type WalStats } from "@wal-db/wal-db";
 * import { equal } from "node:assert/strict";
 *
 * using wal = Wal.withStore(new MemStore());
 * await Promise.all(Array.from({ length: 8 }, async () => {
 *   wal.append(new Uint8Array(16));
 *   await wal.sync();
 * }));
 * const stats: WalStats = wal.stats;
 * equal(stats.flushes, 1);
 * equal(stats.recordsPerFlush, 8);
 * ```
 */
export interface WalStats {
  /** Records appended (by `append` and `appendBatch`). */
  appends: number;
  /** Bytes appended, 8-byte record headers included: what the log grew by. */
  appendedBytes: number;
  /**
   * Writes the log handed to its store: one per `append` or `appendBatch` by default, one per
   * turn of the event loop (or size cap, or flush) with `writeMode: "gathered"`.
   */
  writes: number;
  /** Flushes that completed: `sync` (shared by its callers), `syncSync`, interval syncs. */
  flushes: number;
  /** Records those flushes made durable (each record counts once). */
  flushedRecords: number;
  /** `flushedRecords / flushes`: how well group commit shares flushes; 0 before any flush. */
  recordsPerFlush: number;
  /** Total time flushes took, in milliseconds, from asking the store to seeing it done. */
  flushMs: number;
  /**
   * Flush latency percentiles in milliseconds, from a fixed histogram with four buckets per
   * doubling (each percentile is the upper edge of its bucket, at most 19% above the true
   * value, and never above `max`); all 0 before the first flush.
   */
  flushLatencyMs: FlushLatency;
  /** Time the thread was blocked in `syncSync`, in ms (flushes inside truncations not counted). */
  syncBlockedMs: number;
  /** How long recovery took when the log was opened, in milliseconds. */
  recoveryMs: number;
}

/** The histogram bucket of a latency: 4 per doubling from 1 µs; below 1 µs is bucket 0. */
export function latencyBucket(ms: number): number {
  const microseconds = ms * 1000;
  if (!(microseconds > 1)) return 0;
  const bucket = Math.ceil(Math.log2(microseconds) * FLUSH_HISTOGRAM_BUCKETS_PER_DOUBLING);
  return Math.min(bucket, FLUSH_HISTOGRAM_BUCKETS - 1);
}

/** The largest latency, in milliseconds, that falls in `bucket`. */
export function bucketUpperMs(bucket: number): number {
  return 2 ** (bucket / FLUSH_HISTOGRAM_BUCKETS_PER_DOUBLING) / 1000;
}

/** The counters of one open log. The writer calls it; `Wal.stats` takes snapshots. */
export class StatsRecorder {
  appends = 0;
  appendedBytes = 0;
  writes = 0;
  flushes = 0;
  flushedRecords = 0;
  flushMs = 0;
  syncBlockedMs = 0;
  readonly recoveryMs: number;
  readonly #histogram = new Uint32Array(FLUSH_HISTOGRAM_BUCKETS);
  #maxFlushMs = 0;
  /** `appends` when the records up to the durable end were counted as flushed. */
  #durableAppends = 0;
  /** The clock, in milliseconds: `performance.now` unless a test gives its own. */
  readonly now: () => number;

  constructor(recoveryMs = 0, now: () => number = () => performance.now()) {
    this.recoveryMs = recoveryMs;
    this.now = now;
  }

  /**
   * Counts a completed flush that took `ms` and covered every record appended before it began
   * (`appendsAtStart`, the value of `appends` then).
   */
  flushed(ms: number, appendsAtStart: number): void {
    this.flushes++;
    this.flushMs += ms;
    if (ms > this.#maxFlushMs) this.#maxFlushMs = ms;
    this.#histogram[latencyBucket(ms)]!++;
    if (appendsAtStart > this.#durableAppends) {
      this.flushedRecords += appendsAtStart - this.#durableAppends;
      this.#durableAppends = appendsAtStart;
    }
  }

  /** After a truncation every record the log still holds is durable: none is counted again. */
  truncated(): void {
    this.#durableAppends = this.appends;
  }

  /** A copy of the counters; `writes` is given when the store counts them (gathered mode). */
  snapshot(writes: number = this.writes): WalStats {
    return {
      appends: this.appends,
      appendedBytes: this.appendedBytes,
      writes,
      flushes: this.flushes,
      flushedRecords: this.flushedRecords,
      recordsPerFlush: this.flushes === 0 ? 0 : this.flushedRecords / this.flushes,
      flushMs: this.flushMs,
      flushLatencyMs: {
        p50: this.#percentile(0.5),
        p90: this.#percentile(0.9),
        p99: this.#percentile(0.99),
        max: this.#maxFlushMs,
      },
      syncBlockedMs: this.syncBlockedMs,
      recoveryMs: this.recoveryMs,
    };
  }

  /** Nearest rank over the histogram: the upper edge of the bucket, capped at the maximum. */
  #percentile(p: number): number {
    if (this.flushes === 0) return 0;
    const rank = Math.max(1, Math.ceil(p * this.flushes));
    let seen = 0;
    for (let bucket = 0; bucket < FLUSH_HISTOGRAM_BUCKETS; bucket++) {
      seen += this.#histogram[bucket]!;
      if (seen >= rank) return Math.min(bucketUpperMs(bucket), this.#maxFlushMs);
    }
    return this.#maxFlushMs;
  }
}
