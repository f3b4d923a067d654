// Copyright 2026 the wal-db authors. MIT license.

import { deepEqual, equal, throws } from "node:assert/strict";
import fc from "fast-check";
import { scanFrames } from "../src/frame_scan.ts";
import { RecordReader } from "../src/reader.ts";
import { frame } from "../src/record.ts";
import { bytes, concat, logImage } from "./_helpers.ts";

/** The slow path's answer: the ends of the records `RecordReader` reads from `start` on. */
function slowEnds(image: Uint8Array, start: number, end: number, max: number, cap: number) {
  const reader = new RecordReader(
    {
      readAt(offset: number, buffer: Uint8Array): number {
        const n = Math.max(0, Math.min(buffer.length, image.length - offset));
        buffer.set(image.subarray(offset, offset + n));
        return n;
      },
    },
    start,
    end,
    max,
  );
  const ends: number[] = [];
  while (ends.length < cap && reader.next(false).kind === "record") ends.push(reader.position);
  return ends;
}

function fastEnds(image: Uint8Array, start: number, end: number, max: number, cap: number) {
  const ends = new Uint32Array(cap);
  const count = scanFrames(image, start, end, max, ends);
  return [...ends.subarray(0, count)];
}

/** A log image with damage of one of several kinds in it. */
const damagedLog = fc.record({
  payloads: fc.array(
    fc.oneof(
      { weight: 4, arbitrary: fc.uint8Array({ maxLength: 64 }) },
      { weight: 1, arbitrary: fc.uint8Array({ minLength: 1025, maxLength: 3000 }) },
    ),
    { maxLength: 12 },
  ),
  damage: fc.oneof(
    fc.constant({ kind: "none" as const }),
    fc.record({ kind: fc.constant("flip" as const), at: fc.nat(), bit: fc.nat(7) }),
    fc.record({ kind: fc.constant("cut" as const), at: fc.nat() }),
    fc.record({ kind: fc.constant("zeros" as const), at: fc.nat(), size: fc.nat(600) }),
    fc.record({ kind: fc.constant("garbage" as const), at: fc.nat(), bytes: fc.uint8Array() }),
  ),
});

/** One of the damage kinds `damagedLog` draws. */
interface Damage {
  kind: string;
  at?: number;
  bit?: number;
  size?: number;
  bytes?: Uint8Array;
}

function applyDamage(image: Uint8Array, damage: Damage): Uint8Array {
  if (damage.kind === "none" || image.length === 0) return image;
  const at = damage.at! % image.length;
  if (damage.kind === "flip") {
    const copy = image.slice();
    copy[at]! ^= 1 << damage.bit!;
    return copy;
  }
  if (damage.kind === "cut") return image.subarray(0, at);
  const copy = image.slice();
  const fill = damage.kind === "zeros" ? new Uint8Array(damage.size!) : damage.bytes!;
  copy.set(fill.subarray(0, copy.length - at), at);
  return copy;
}

Deno.test("scanFrames() finds the ends RecordReader reads, on any log, range and capacity", () => {
  fc.assert(
    fc.property(
      damagedLog,
      fc.nat(),
      fc.nat(),
      fc.integer({ min: 1, max: 20 }),
      fc.constantFrom(64, 1024, 4096),
      ({ payloads, damage }, startSeed, endSeed, cap, max) => {
        const image = applyDamage(logImage(payloads), damage);
        // A frame boundary to start from (or any offset), and an end inside the image.
        const boundaries = [0];
        for (const p of payloads) boundaries.push(boundaries.at(-1)! + 8 + p.length);
        const candidates = boundaries.filter((b) => b <= image.length);
        const start = startSeed % 3 === 0
          ? startSeed % (image.length + 1)
          : candidates[startSeed % candidates.length]!;
        const end = start +
          (endSeed % 2 === 0 ? image.length - start : endSeed % (image.length - start + 1));
        deepEqual(fastEnds(image, start, end, max, cap), slowEnds(image, start, end, max, cap));
      },
    ),
    { numRuns: 1000 },
  );
});

Deno.test("scanFrames() checking frames two at a time agrees with RecordReader on aligned logs", () => {
  // Payload lengths that are whole words keep every frame on a 4-byte boundary: the scanner
  // then checks pairs of frames with one word loop, and damage in the first or second frame of
  // a pair, or a capacity that splits one, must still give the reader's ends. The log sits at
  // any byte offset of its buffer.
  fc.assert(
    fc.property(
      fc.array(fc.nat({ max: 150 }).map((words) => new Uint8Array(4 * words)), { maxLength: 10 }),
      fc.option(fc.record({ at: fc.nat(), bit: fc.nat(7) })),
      fc.integer({ min: 1, max: 12 }),
      fc.nat({ max: 7 }),
      (payloads, flip, cap, lead) => {
        for (const [i, p] of payloads.entries()) p.fill(i * 37 + 1);
        const log = logImage(payloads);
        const image = new Uint8Array(lead + log.length).subarray(lead);
        image.set(log);
        if (flip !== null && image.length > 0) image[flip.at % image.length]! ^= 1 << flip.bit;
        deepEqual(
          fastEnds(image, 0, image.length, 1024, cap),
          slowEnds(image, 0, image.length, 1024, cap),
        );
      },
    ),
    { numRuns: 1000 },
  );
});

Deno.test("scanFrames() reads offsets relative to the array, from any start", () => {
  const image = concat([bytes("xyz"), logImage([bytes("abc"), bytes("hello")])]);
  deepEqual(fastEnds(image, 3, image.length, 1024, 8), [14, 27]);
});

Deno.test("scanFrames() stops at a frame that runs past end, and when ends is full", () => {
  const image = logImage([bytes("a"), bytes("b"), bytes("c")]);
  deepEqual(fastEnds(image, 0, image.length - 1, 1024, 8), [9, 18]);
  deepEqual(fastEnds(image, 0, image.length, 1024, 2), [9, 18]);
  equal(scanFrames(image, 0, image.length, 1024, new Uint32Array(0)), 0);
});

Deno.test("scanFrames() stops at a length above maxRecordSize, and at zeros", () => {
  const image = concat([frame(new Uint8Array(10)), frame(new Uint8Array(11)), new Uint8Array(16)]);
  deepEqual(fastEnds(image, 0, image.length, 10, 8), [18]);
  deepEqual(fastEnds(image, 0, image.length, 11, 8), [18, 37]);
});

Deno.test("scanFrames() never reads past the array whatever end says", () => {
  const image = logImage([bytes("abc")]);
  deepEqual(fastEnds(image, 0, image.length + 100, 1024, 8), [11]);
  deepEqual(fastEnds(image.subarray(0, 10), 0, 100, 1024, 8), []);
});

Deno.test("scanFrames() refuses a start, end or maxRecordSize that is not a non-negative integer, as the shim's scanner does", () => {
  const log = logImage([bytes("one"), bytes("two")]);
  const ends = new Uint32Array(8);
  for (const bad of [-8, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53]) {
    throws(() => scanFrames(log, bad, log.length, 1024, ends), RangeError, `start ${bad}`);
    throws(() => scanFrames(log, 0, bad, 1024, ends), RangeError, `end ${bad}`);
    throws(() => scanFrames(log, 0, log.length, bad, ends), RangeError, `max ${bad}`);
  }
  // In range, past the array, or a start past the end: what the contract says, no error.
  equal(scanFrames(log, 0, 1e12, 1024, ends), 2);
  equal(scanFrames(log, log.length, 0, 1024, ends), 0);
});
