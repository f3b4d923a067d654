// Copyright 2026 the wal-db authors. MIT license.

import { equal, ok } from "node:assert/strict";
import fc from "fast-check";
import { BoundaryIndex } from "../src/boundary_index.ts";
import { BOUNDARY_SAMPLE_INTERVAL } from "../src/constants.ts";
import { MemStore } from "../src/mem_store.ts";
import { bytes, concat, logImage, lsnsOf, payload } from "./_helpers.ts";

/** A store holding `count` records of varied sizes, and an index fed with all of them. */
function fixture(count: number): { store: MemStore; index: BoundaryIndex; lsns: number[] } {
  const payloads = Array.from({ length: count }, (_, i) => payload(i % 50, i));
  const lsns = lsnsOf(payloads);
  const index = new BoundaryIndex(0);
  for (const lsn of lsns) index.add(lsn);
  return { store: new MemStore(logImage(payloads)), index, lsns };
}

Deno.test("BoundaryIndex.isBoundary() is true exactly at record starts", () => {
  const { store, index, lsns } = fixture(1000);
  const starts = new Set(lsns);
  for (let lsn = 0; lsn < store.size; lsn++) {
    equal(index.isBoundary(lsn, store, store.size), starts.has(lsn), `lsn ${lsn}`);
  }
});

Deno.test("BoundaryIndex keeps one sample per interval, so a check reads few headers", () => {
  const { store, index, lsns } = fixture(10_000);
  ok(index.sampleCount <= 10_000 / BOUNDARY_SAMPLE_INTERVAL + 2, `${index.sampleCount} samples`);
  let reads = 0;
  const counting = { readAt: (o: number, b: Uint8Array) => (reads++, store.readAt(o, b)) };
  ok(index.isBoundary(lsns[9_999]!, counting, store.size));
  ok(reads <= BOUNDARY_SAMPLE_INTERVAL, `${reads} header reads`);
});

Deno.test("BoundaryIndex.addRun() keeps the samples add() of each record keeps", () => {
  const { store, index, lsns } = fixture(3000);
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 1, max: 400 }), { minLength: 1 }), (lengths) => {
      const runs = new BoundaryIndex(0);
      for (let from = 0, i = 0; from < lsns.length; i++) {
        const count = Math.min(lengths[i % lengths.length]!, lsns.length - from);
        const slice = lsns.slice(from, from + count);
        runs.addRun({ count, end: lsns[from + count] ?? store.size, lsnAt: (k) => slice[k]! });
        from += count;
      }
      equal(runs.sampleCount, index.sampleCount);
      equal(runs.lastSample, index.lastSample);
      // Samples in the same places: a check reads the same headers with either index.
      for (const lsn of [lsns[777]!, lsns[2999]!, lsns[1500]! + 1]) {
        const reads = [0, 0];
        for (const [i, which] of [index, runs].entries()) {
          const counting = {
            readAt: (o: number, b: Uint8Array) => (reads[i]!++, store.readAt(o, b)),
          };
          equal(which.isBoundary(lsn, counting, store.size), lsns.includes(lsn));
        }
        equal(reads[0], reads[1]);
      }
    }),
    { numRuns: 100 },
  );
});

Deno.test("BoundaryIndex.truncateAfter() and truncateBefore() keep the answers right", () => {
  const { store, index, lsns } = fixture(500);
  const cut = lsns[300]!;
  index.truncateAfter(cut);
  equal(index.isBoundary(lsns[299]!, store, cut), true);
  equal(index.isBoundary(lsns[300]!, store, cut), false, "the cut is the end, not a record");
  const head = lsns[100]!;
  index.truncateBefore(head);
  equal(index.isBoundary(head, store, cut), true);
  equal(index.isBoundary(lsns[150]!, store, cut), true);
  equal(index.isBoundary(lsns[150]! + 1, store, cut), false);
});

Deno.test("BoundaryIndex.skip() makes a damaged range no boundary and resumes after it", () => {
  // Records at 0 and 9, a damaged range [18, 30), records at 30 and 39.
  const image = concat([
    logImage([bytes("a"), bytes("b")]),
    new Uint8Array(12).fill(0xee),
    logImage([bytes("c"), bytes("d")]),
  ]);
  const store = new MemStore(image);
  const index = new BoundaryIndex(0);
  index.add(0);
  index.add(9);
  index.skip(18, 30);
  index.add(30);
  index.add(39);
  for (const lsn of [0, 9, 30, 39]) {
    equal(index.isBoundary(lsn, store, image.length), true, `${lsn}`);
  }
  for (const lsn of [18, 20, 29, 31]) {
    equal(index.isBoundary(lsn, store, image.length), false, `${lsn}`);
  }
  equal(index.resumeAfter(18), 30);
  equal(index.resumeAfter(9), undefined);
  index.truncateAfter(18);
  equal(index.resumeAfter(18), undefined, "a cut drops the skipped ranges past it");
});

Deno.test("BoundaryIndex walks over a skipped range it reaches, also after a cut at its end", () => {
  // Damage at the head [0, 12), records at 12 and 21, then a cut at 21 and a new record there.
  const image = concat([new Uint8Array(12).fill(0xee), logImage([bytes("c"), bytes("d")])]);
  const store = new MemStore(image);
  const index = new BoundaryIndex(0);
  index.skip(0, 12);
  index.add(12);
  index.add(21);
  equal(index.isBoundary(0, store, image.length), false, "no record starts at damaged head");
  equal(index.isBoundary(12, store, image.length), true);
  index.truncateAfter(12);
  equal(index.lastSample, 0, "the sample at the range's end went with the cut");
  equal(index.isBoundary(12, store, 12 + 9), true, "the walk jumps from the head to 12");
  equal(index.isBoundary(21, store, image.length), true);
});
