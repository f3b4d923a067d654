// Copyright 2026 the wal-db authors. MIT license.
// Tests for src/mark_list.ts: fingerprints kept in one typed array, checked against a plain
// array doing the same steps.

import { deepEqual, equal, throws } from "node:assert/strict";
import fc from "fast-check";
import { MARK_LIST_CAPACITY_MIN } from "../src/constants.ts";
import { type Mark, MarkList } from "../src/mark_list.ts";

type Step = { op: "push"; mark: Mark } | { op: "pop" } | { op: "shift" };

const step: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record({
      lsn: fc.maxSafeNat(),
      length: fc.nat(0xffff_ffff),
      crc: fc.nat(0xffff_ffff),
    })
      .map((mark) => ({ op: "push" as const, mark })),
  },
  { weight: 1, arbitrary: fc.constant({ op: "pop" as const }) },
  { weight: 3, arbitrary: fc.constant({ op: "shift" as const }) },
);

Deno.test("MarkList holds what an array of marks holds after the same pushes and removals", () => {
  fc.assert(
    fc.property(
      fc.array(step, {
        minLength: 2 * MARK_LIST_CAPACITY_MIN,
        maxLength: 6 * MARK_LIST_CAPACITY_MIN,
      }),
      (steps) => {
        const list = new MarkList();
        const model: Mark[] = [];
        for (const s of steps) {
          if (s.op === "push") {
            list.push(s.mark.lsn, s.mark.length, s.mark.crc);
            model.push(s.mark);
          } else if (model.length > 0) {
            list[s.op]();
            model[s.op]();
          }
          equal(list.length, model.length);
        }
        deepEqual(Array.from({ length: list.length }, (_, i) => list.at(i)), model);
        model.forEach((mark, i) => {
          equal(list.lsnAt(i), mark.lsn);
          equal(list.lengthAt(i), mark.length);
        });
        list.clear();
        equal(list.length, 0);
        list.push(5, 6, 7);
        deepEqual(list.at(0), { lsn: 5, length: 6, crc: 7 });
      },
    ),
    { numRuns: 300 },
  );
});

Deno.test("MarkList refuses an index outside it, and removal from an empty list", () => {
  const list = new MarkList();
  throws(() => list.pop(), /invariant/);
  throws(() => list.shift(), /invariant/);
  list.push(1, 2, 3);
  throws(() => list.at(1), /invariant/);
  throws(() => list.lsnAt(-1), /invariant/);
  list.shift();
  throws(() => list.at(0), /invariant/);
});
