// Copyright 2026 the wal-db authors. MIT license.
// Tests for src/record_run.ts: picking every interval-th record of runs, as a count per record
// would.

import { deepEqual } from "node:assert/strict";
import fc from "fast-check";
import { firstAtOrAfter, type RecordRun, sampleRun } from "../src/record_run.ts";

/** A run over `lsns[from, from + count)`. */
function runOf(lsns: number[], from: number, count: number): RecordRun {
  return { count, end: lsns[from + count - 1]! + 1, lsnAt: (index) => lsns[from + index]! };
}

Deno.test("sampleRun() picks what one count per record picks, however the records are split into runs", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 70 }),
      fc.array(fc.integer({ min: 1, max: 200 }), { minLength: 1, maxLength: 12 }),
      fc.nat(),
      (interval, runLengths, seed) => {
        const total = runLengths.reduce((a, b) => a + b, 0);
        const lsns = Array.from({ length: total }, (_, i) => i * 3 + 5);
        let since = seed % interval;
        // The reference: one step per record, as BoundaryIndex.add and SeenRecords.note count.
        const expected: number[] = [];
        let counted = since;
        for (const lsn of lsns) {
          if (++counted < interval) continue;
          counted = 0;
          expected.push(lsn);
        }
        const picked: number[] = [];
        let from = 0;
        for (const count of runLengths) {
          since = sampleRun(runOf(lsns, from, count), since, interval, (lsn) => picked.push(lsn));
          from += count;
        }
        deepEqual(picked, expected);
        deepEqual(since, counted);
      },
    ),
    { numRuns: 500 },
  );
});

Deno.test("firstAtOrAfter() finds the first record at or after an LSN, as a scan from the start does", () => {
  fc.assert(
    fc.property(
      fc.uniqueArray(fc.nat({ max: 5000 }), { minLength: 1, maxLength: 300 }),
      fc.integer({ min: -5, max: 5100 }),
      (values, lsn) => {
        const lsns = values.sort((a, b) => a - b);
        const expected = lsns.findIndex((at) => at >= lsn);
        const found = firstAtOrAfter(runOf(lsns, 0, lsns.length), lsn);
        deepEqual(found, expected === -1 ? lsns.length : expected);
      },
    ),
    { numRuns: 500 },
  );
});
