// Copyright 2026 the wal-db authors. MIT license.
// Consecutive intact records handed out at once, so a scan's bookkeeping costs a call per chunk
// instead of a call per record.
// Pure: no `Deno.*`.

/**
 * Consecutive intact records, in log order: the `index`th (0 ≤ index < count) starts at
 * `lsnAt(index)`, and the last ends at `end`. A run a reader hands out is valid until the
 * reader's next call: it may view the reader's scratch arrays.
 *
 * @example A run of three records
 * ```ts
 * import type { RecordRun } from "./record_run.ts";
 * import { equal } from "node:assert/strict";
 *
 * const starts = [0, 12, 30];
 * const run: RecordRun = { count: 3, end: 41, lsnAt: (index) => starts[index]! };
 * equal(run.lsnAt(run.count - 1), 30);
 * ```
 */
export interface RecordRun {
  /** How many records the run holds; at least one. */
  readonly count: number;
  /** Where the last record of the run ends: the LSN after it. */
  readonly end: number;
  /** The LSN of the `index`th record of the run. */
  lsnAt(index: number): number;
}

/**
 * Visits the LSNs of the records of `run` that a count of one per record would pick when it
 * picks every `interval`th record and `since` records were counted since the last one picked:
 * the records a `if (++since === interval)` test per record picks, found with one step per
 * pick. Returns the count since the last pick after the run.
 *
 * @example Every 4th record, two counted already
 * ```ts
 * import { sampleRun } from "./record_run.ts";
 * import { deepEqual, equal } from "node:assert/strict";
 *
 * const run = { count: 7, end: 70, lsnAt: (index: number) => index * 10 };
 * const picked: number[] = [];
 * equal(sampleRun(run, 2, 4, (lsn) => picked.push(lsn)), 1);
 * deepEqual(picked, [10, 50]);
 * ```
 */
export function sampleRun(
  run: RecordRun,
  since: number,
  interval: number,
  visit: (lsn: number) => void,
): number {
  for (let index = interval - 1 - since; index < run.count; index += interval) {
    visit(run.lsnAt(index));
  }
  return (since + run.count) % interval;
}

/**
 * The index of the first record of `run` that starts at or after `lsn` (`run.count` when none
 * does), by binary search: a run's LSNs increase.
 *
 * @example
 * ```ts
 * import { firstAtOrAfter } from "./record_run.ts";
 * import { equal } from "node:assert/strict";
 *
 * const run = { count: 4, end: 40, lsnAt: (index: number) => index * 10 };
 * equal(firstAtOrAfter(run, 0), 0);
 * equal(firstAtOrAfter(run, 11), 2);
 * equal(firstAtOrAfter(run, 30), 3);
 * equal(firstAtOrAfter(run, 31), 4);
 * ```
 */
export function firstAtOrAfter(run: RecordRun, lsn: number): number {
  let low = 0;
  let high = run.count;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (run.lsnAt(middle) < lsn) low = middle + 1;
    else high = middle;
  }
  return low;
}
