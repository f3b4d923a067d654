// Copyright 2026 the wal-db authors. MIT license.

import { deepEqual, equal, throws } from "node:assert/strict";
import fc from "fast-check";
import { CandidateBatch, FarState, plausibleHeader } from "../src/candidate_batch.ts";
import { FAR_READ_GAP_MAX, READ_CHUNK_SIZE } from "../src/constants.ts";
import type { ByteSource } from "../src/read_window.ts";

/** A source over `bytes` that records each read as [offset, size]. */
class CountingSource implements ByteSource {
  reads: [number, number][] = [];
  constructor(readonly bytes: Uint8Array) {}
  readAt(offset: number, buffer: Uint8Array): number {
    this.reads.push([offset, buffer.length]);
    const part = this.bytes.subarray(offset, offset + buffer.length);
    buffer.set(part);
    return part.length;
  }
}

/** The state of a frame ending at `far`, from the 8 bytes there read on their own. */
function stateByItself(bytes: Uint8Array, far: number, max: number): FarState {
  if (far + 8 > bytes.length) return FarState.Plausible;
  return plausibleHeader(bytes, far, far, max, bytes.length)
    ? FarState.Plausible
    : FarState.Implausible;
}

/** Bytes whose 4-byte words are mostly small lengths: many frames fit, many ends are plausible. */
const lengthy = (size: number) =>
  fc.array(
    fc.oneof(fc.nat({ max: 4 * size }), fc.constant(0), fc.nat({ max: 0xffff_ffff })),
    { minLength: size / 4, maxLength: size / 4 },
  ).map((words) => new Uint8Array(new Uint32Array(words).buffer));

Deno.test("CandidateBatch.resolve() settles every end as reading its header on its own does", () => {
  fc.assert(
    fc.property(
      lengthy(64 * 1024),
      fc.array(fc.tuple(fc.nat(), fc.nat()), { minLength: 1, maxLength: 300 }),
      fc.constantFrom(64, 4096, 1 << 20),
      (bytes, picks, max) => {
        const source = new CountingSource(bytes);
        const batch = new CandidateBatch(source, bytes.length, max);
        const lsns = [...new Set(picks.map(([at]) => at % (bytes.length - 8)))].sort((a, b) =>
          a - b
        );
        batch.clear(lsns.length);
        const lengths = lsns.map((lsn, i) => picks[i]![1] % (bytes.length - lsn - 8 + 1));
        lsns.forEach((lsn, i) => batch.add(lsn, lengths[i]!, i, FarState.Unread));
        batch.resolve();
        for (let i = 0; i < lsns.length; i++) {
          equal(batch.lsnAt(i), lsns[i]);
          equal(batch.lengthAt(i), lengths[i]);
          equal(batch.crcAt(i), i);
          equal(batch.stateAt(i), stateByItself(bytes, lsns[i]! + 8 + lengths[i]!, max));
        }
        for (const [offset, size] of source.reads) {
          if (offset + size > bytes.length || size > READ_CHUNK_SIZE) {
            throw new Error(`read [${offset}, +${size}) is past the end or a chunk`);
          }
        }
      },
    ),
    { numRuns: 200 },
  );
});

Deno.test("CandidateBatch.resolve() reads close ends in one call and far ones on their own", () => {
  const bytes = new Uint8Array(4 * 1024 * 1024);
  const source = new CountingSource(bytes);
  const batch = new CandidateBatch(source, bytes.length, bytes.length);
  batch.clear(64);
  // 40 ends 1 KiB apart, in reverse order of their candidates: one read, sorted by offset.
  for (let i = 0; i < 40; i++) batch.add(i, 100_000 + (40 - i) * 1024, 0, FarState.Unread);
  // Then ends two gaps apart: a read each, of one header.
  for (let i = 0; i < 3; i++) batch.add(100 + i, 1_000_000 + i * 2 * FAR_READ_GAP_MAX, 0, 0);
  batch.resolve();
  deepEqual(source.reads, [
    [39 + 8 + 100_000 + 1024, (0 + 40 * 1024) - (39 + 1024) + 8],
    [100 + 8 + 1_000_000, 8],
    [101 + 8 + 1_000_000 + 2 * FAR_READ_GAP_MAX, 8],
    [102 + 8 + 1_000_000 + 4 * FAR_READ_GAP_MAX, 8],
  ]);
  // Zeros follow every one of them.
  for (let i = 0; i < batch.count; i++) equal(batch.stateAt(i), FarState.Plausible);
});

Deno.test("CandidateBatch.resolve() splits a run of ends at a chunk", () => {
  const bytes = new Uint8Array(3 * READ_CHUNK_SIZE);
  const source = new CountingSource(bytes);
  const batch = new CandidateBatch(source, bytes.length, bytes.length);
  const step = FAR_READ_GAP_MAX;
  const count = Math.ceil((2 * READ_CHUNK_SIZE) / step);
  batch.clear(count);
  for (let i = 0; i < count; i++) batch.add(i, i * (step - 1), 0, FarState.Unread);
  batch.resolve();
  equal(source.reads.length, 2);
  for (const [, size] of source.reads) equal(size <= READ_CHUNK_SIZE, true);
});

Deno.test("CandidateBatch.resolve() reads no end it knows, and takes a short read as the end", () => {
  const bytes = new Uint8Array(1000);
  new DataView(bytes.buffer).setUint32(504, 0xffff, true); // a length that cannot fit
  const shorter = new CountingSource(bytes.subarray(0, 800)); // ends before what the batch says
  const batch = new CandidateBatch(shorter, 1000, 1000);
  batch.clear(4);
  batch.add(0, 100, 0, FarState.Implausible); // settled by the caller
  batch.add(1, 989, 0, FarState.Unread); // no whole header before the end: the end follows
  batch.add(2, 490, 0, FarState.Unread); // a header whose length cannot fit
  batch.add(3, 900, 0, FarState.Unread); // past what the source has, and read with the last
  batch.resolve();
  deepEqual(
    [0, 1, 2, 3].map((i) => batch.stateAt(i)),
    [FarState.Implausible, FarState.Plausible, FarState.Implausible, FarState.Plausible],
  );
  deepEqual(shorter.reads, [[500, 911 + 8 - 500]]);
});

Deno.test("CandidateBatch takes candidates in order and no more than its limit", () => {
  const batch = new CandidateBatch(new CountingSource(new Uint8Array(100)), 100, 100);
  batch.clear(2);
  batch.add(5, 1, 0, FarState.Unread);
  throws(() => batch.add(5, 1, 0, FarState.Unread), /in order/);
  batch.add(6, 1, 0, FarState.Unread);
  equal(batch.full, true);
  throws(() => batch.add(7, 1, 0, FarState.Unread), /limit/);
  batch.clear(1);
  equal(batch.count, 0);
  equal(batch.full, false);
});

Deno.test("CandidateBatch.resolve() reads no header past what a short read returned, whatever its buffer held", () => {
  // Every header reads as an impossible length, so a stale byte would show as "implausible".
  const bytes = new Uint8Array(4096).fill(0xff);
  let limit = bytes.length;
  const source: ByteSource = {
    readAt: (offset, buffer) => {
      const part = bytes.subarray(offset, Math.min(offset + buffer.length, limit));
      buffer.set(part);
      return part.length;
    },
  };
  const batch = new CandidateBatch(source, bytes.length, 1024);
  const fill = () => {
    batch.clear(2);
    batch.add(0, 992, 0, FarState.Unread); // ends at 1000
    batch.add(1, 1091, 0, FarState.Unread); // ends at 1100: one read with the first
    batch.resolve();
    return [batch.stateAt(0), batch.stateAt(1)];
  };
  deepEqual(fill(), [FarState.Implausible, FarState.Implausible]); // the span now holds 0xff
  limit = 1050; // the source shrank: the second end is past what it has, so the end follows
  deepEqual(fill(), [FarState.Implausible, FarState.Plausible]);
});

Deno.test("CandidateBatch.resolve() never reads a run longer than a chunk, its last header included", () => {
  // Ends 16 KiB apart from 0, then one whose header would end 4 bytes past a chunk from the
  // first: it must be read on its own, and its 0xff header seen.
  const bytes = new Uint8Array(2 * READ_CHUNK_SIZE);
  const last = READ_CHUNK_SIZE - 4;
  bytes.fill(0xff, last + 100, last + 108); // every end lies 100 bytes on
  const source = new CountingSource(bytes);
  const batch = new CandidateBatch(source, bytes.length, bytes.length);
  const ends = [...Array.from({ length: 16 }, (_, k) => k * FAR_READ_GAP_MAX), last];
  batch.clear(ends.length);
  ends.forEach((end, i) => batch.add(i, end - i - 8 + 100, 0, FarState.Unread));
  batch.resolve();
  deepEqual(source.reads.at(-1), [last + 100, 8]);
  equal(batch.stateAt(ends.length - 1), FarState.Implausible);
});
