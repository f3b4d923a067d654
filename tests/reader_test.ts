// Copyright 2026 the wal-db authors. MIT license.

import { deepEqual, equal, ok, throws } from "node:assert/strict";
import fc from "fast-check";
import {
  CRC_CHECKPOINT_SPACING,
  FIND_BATCH_SPAN_MAX,
  READ_CHUNK_SIZE,
  REPLAY_CHUNK_SIZE,
} from "../src/constants.ts";
import { type FrameScanner, scanFrames } from "../src/frame_scan.ts";
import { type ByteSource, type ReadResult, RecordReader } from "../src/reader.ts";
import { frame, frameCrc } from "../src/record.ts";
import { bytes, concat, failingOnceFrom, hex, logImage, payload } from "./_helpers.ts";

/** A source over an array that remembers the largest buffer it was asked to fill. */
/** A payload length the search after damage checks from range checksums, not from its window. */
const LONG = 2 * CRC_CHECKPOINT_SPACING + 1000;

class ArraySource implements ByteSource {
  largestRead = 0;
  reads = 0;
  constructor(readonly data: Uint8Array) {}
  readAt(offset: number, buffer: Uint8Array): number {
    this.reads++;
    this.largestRead = Math.max(this.largestRead, buffer.length);
    const n = Math.max(0, Math.min(buffer.length, this.data.length - offset));
    buffer.set(this.data.subarray(offset, offset + n));
    return n;
  }
}

function readerOver(data: Uint8Array, max = 1024): RecordReader {
  return new RecordReader(new ArraySource(data), 0, data.length, max);
}

Deno.test("RecordReader.next() reads the spec's two-record log with LSNs 0 and 11", () => {
  const reader = readerOver(logImage([bytes("abc"), bytes("hello")]));
  deepEqual(reader.next(true), { kind: "record", lsn: 0, length: 3, data: bytes("abc") });
  deepEqual(reader.next(true), { kind: "record", lsn: 11, length: 5, data: bytes("hello") });
  deepEqual(reader.next(true), { kind: "end", lsn: 24 });
  equal(reader.position, 24);
});

Deno.test("RecordReader.next() reports a torn header at the end as partial-header", () => {
  const image = concat([logImage([bytes("abc")]), hex("01 02 03")]);
  const reader = readerOver(image);
  equal(reader.next(false).kind, "record");
  deepEqual(reader.next(false), {
    kind: "damage",
    lsn: 11,
    reason: "partial-header",
    length: undefined,
  });
  equal(reader.position, 11);
});

Deno.test("RecordReader.next() reports a payload cut short as partial-record", () => {
  const image = logImage([bytes("hello")]).subarray(0, 10);
  deepEqual(readerOver(image).next(false), {
    kind: "damage",
    lsn: 0,
    reason: "partial-record",
    length: 5,
  });
});

Deno.test("RecordReader.next() reports a flipped payload byte as crc-mismatch", () => {
  const image = logImage([bytes("hello")]);
  image[9]! ^= 0x01;
  deepEqual(readerOver(image).next(false), {
    kind: "damage",
    lsn: 0,
    reason: "crc-mismatch",
    length: 5,
  });
});

Deno.test("RecordReader.next() reads zero bytes as damage, never as a record", () => {
  const result = readerOver(new Uint8Array(64)).next(false);
  deepEqual(result, { kind: "damage", lsn: 0, reason: "crc-mismatch", length: 0 });
});

Deno.test("RecordReader.next() rejects a 0xFFFFFFF0 length without reading its payload", () => {
  const image = concat([hex("00 00 00 00 f0 ff ff ff"), new Uint8Array(100)]);
  const source = new ArraySource(image);
  const reader = new RecordReader(source, 0, image.length, 64 * 1024 * 1024);
  deepEqual(reader.next(false), {
    kind: "damage",
    lsn: 0,
    reason: "implausible-length",
    length: 0xfffffff0,
  });
  ok(source.largestRead <= image.length, `read ${source.largestRead} bytes at most`);
});

Deno.test("RecordReader.next() never asks for more than one chunk for a length past the end", () => {
  // A plausible length (under the maximum) that the source does not hold: no big buffer.
  const image = concat([hex("00 00 00 00 00 00 00 04"), new Uint8Array(16)]);
  const source = new ArraySource(image);
  const reader = new RecordReader(source, 0, image.length, 0xffffffff);
  equal(reader.next(false).kind, "damage");
  ok(source.largestRead <= READ_CHUNK_SIZE);
});

Deno.test("RecordReader reads records larger than a chunk and batches small ones", () => {
  const big = payload(READ_CHUNK_SIZE * 2 + 5, 1);
  const small = Array.from({ length: 100 }, (_, i) => payload(i, i));
  const image = logImage([...small, big, ...small]);
  const source = new ArraySource(image);
  const reader = new RecordReader(source, 0, image.length, big.length);
  const seen: Uint8Array[] = [];
  for (let r = reader.next(true); r.kind === "record"; r = reader.next(true)) seen.push(r.data!);
  deepEqual(seen, [...small, big, ...small]);
  ok(source.reads < 10, `${source.reads} reads for 201 records`);
});

Deno.test("RecordReader.next(true) returns payloads the caller owns", () => {
  const reader = readerOver(logImage([bytes("abc"), bytes("xyz")]));
  const first = reader.next(true);
  const second = reader.next(true);
  ok(first.kind === "record" && second.kind === "record");
  deepEqual(first.data, bytes("abc"));
  deepEqual(second.data, bytes("xyz"));
  ok(first.data!.buffer !== second.data!.buffer);
});

Deno.test("RecordReader.findNext() finds the first intact record after damage", () => {
  const good = logImage([bytes("abc"), bytes("hello")]);
  const image = concat([hex("ff ff ff ff 00"), new Uint8Array(4096), good]);
  const reader = readerOver(image);
  equal(reader.findNext(0), 5 + 4096);
  equal(reader.findNext(5 + 4096 + 1), 5 + 4096 + 11);
  equal(reader.findNext(5 + 4096 + 12), undefined);
});

Deno.test("RecordReader.findNext() finds an empty record right after a zero run", () => {
  const image = concat([new Uint8Array(1000), logImage([new Uint8Array(0)])]);
  equal(readerOver(image).findNext(1), 1000);
});

Deno.test("RecordReader.findNext() returns undefined over zeros and garbage", () => {
  equal(readerOver(new Uint8Array(10000)).findNext(0), undefined);
  equal(readerOver(payload(5000, 9)).findNext(0), undefined);
});

/** A source over `bytes` that counts its calls and the bytes asked, and gives up past `budget`. */
class BudgetSource implements ByteSource {
  asked = 0;
  calls = 0;
  constructor(readonly bytes: Uint8Array, readonly budget: number) {}
  readAt(offset: number, buffer: Uint8Array): number {
    this.calls++;
    this.asked += buffer.length;
    if (this.asked > this.budget) throw new Error(`read ${this.asked} bytes, over the budget`);
    const part = this.bytes.subarray(offset, offset + buffer.length);
    buffer.set(part);
    return part.length;
  }
}

Deno.test("RecordReader.findNext() reads a bounded multiple of the damage, in few calls, whatever maxRecordSize is", () => {
  // 4 MiB of small nibbles: nearly every offset decodes to a length that fits, and so does the
  // header after it. Checksumming each candidate directly would read gigabytes. The headers at
  // candidates' ends are read in runs, the bytes between them included: that spends bytes to
  // save calls (a call costs about what copying 16 KiB does). This bound was 16x the damage in
  // bytes when each end was read on its own (3.4x measured, in 213,000 calls); batches read 20x
  // (in 43,000 calls), so it is 32x now, with a bound on calls beside it. Both hold here because
  // nothing follows the damage: with 64 MiB of records after it, the batches read 165x the damage
  // in bytes (the ends of candidates lie anywhere ahead), and one read per end read 26x in 1.4
  // million calls (docs/BENCHMARKS.md, Recovery).
  const size = 4 * 1024 * 1024;
  const damage = payload(size, 42).map((b) => b & 0x0f);
  const record = logImage([bytes("found")]);
  const source = new BudgetSource(concat([damage, record]), 32 * size);
  const reader = new RecordReader(source, 0, size + record.length, 1024 * 1024 * 1024);
  equal(reader.findNext(0), size);
  ok(source.asked <= 32 * size, `read ${source.asked} bytes`);
  ok(source.calls <= size / 64, `${source.calls} read calls`);
});

// The fast path: chunks checked by a frame scanner, against the per-record slow path.

/** A log with some damage (a flipped bit, a cut, zeros or garbage), records up to 3 KiB. */
const damagedImage = fc.record({
  payloads: fc.array(
    fc.oneof(
      { weight: 4, arbitrary: fc.uint8Array({ maxLength: 64 }) },
      { weight: 1, arbitrary: fc.uint8Array({ minLength: 1025, maxLength: 3000 }) },
    ),
    { maxLength: 14 },
  ),
  kind: fc.constantFrom("none", "flip", "cut", "zeros", "garbage"),
  at: fc.nat(),
  fill: fc.uint8Array({ maxLength: 600 }),
}).map(({ payloads, kind, at, fill }) => {
  const image = logImage(payloads);
  if (kind === "none" || image.length === 0) return image;
  const where = at % image.length;
  if (kind === "cut") return image.subarray(0, where);
  const copy = image.slice();
  if (kind === "flip") copy[where]! ^= 1 << (at % 8);
  else {copy.set(
      (kind === "zeros" ? new Uint8Array(fill.length) : fill).subarray(0, copy.length - where),
      where,
    );}
  return copy;
});

/**
 * Every result `next` gives until the end, with seeks to `jumps` after damage (as cursors do).
 * With `vouched`, a record whose payload is kept is taken by `nextVouched` first, as the replay
 * loop does; with `runs`, records whose payload is not kept are taken by `skipVouchedRun` first,
 * as the recovery scan does (a run takes many records, so `runs` wants `copies` of `[false]`).
 */
function readAll(
  reader: RecordReader,
  copies: readonly boolean[],
  jumps: number[],
  { vouched = false, runs = false, limit = 200 } = {},
): ReadResult[] {
  const results: ReadResult[] = [];
  while (results.length < limit) {
    const copy = copies[results.length % copies.length]!;
    const lsn = reader.position;
    const data = vouched && copy ? reader.nextVouched() : undefined;
    if (data !== undefined) {
      results.push({ kind: "record", lsn, length: reader.position - lsn - 8, data });
      continue;
    }
    const run = runs && !copy ? reader.skipVouchedRun() : undefined;
    if (run !== undefined) {
      for (let k = 0; k < run.count; k++) {
        const start = run.lsnAt(k);
        const end = k + 1 < run.count ? run.lsnAt(k + 1) : run.end;
        results.push({ kind: "record", lsn: start, length: end - start - 8, data: undefined });
      }
      equal(reader.position, run.end);
      continue;
    }
    const result = reader.next(copy);
    results.push(result);
    if (result.kind === "end") break;
    if (result.kind === "damage") {
      const to = jumps.find((lsn) => lsn > result.lsn);
      if (to === undefined) break;
      reader.seek(to);
    }
  }
  return results;
}

/**
 * Logs of two to three replay chunks: records of a few sizes in turn (so frames straddle the
 * chunk borders at many offsets, and a record may be larger than a chunk), with one damage.
 */
const multiChunkImage = fc.record({
  sizes: fc.array(
    fc.oneof(
      { weight: 6, arbitrary: fc.nat({ max: 600 }) },
      { weight: 2, arbitrary: fc.integer({ min: 1025, max: 9000 }) },
      {
        weight: 1,
        arbitrary: fc.integer({ min: REPLAY_CHUNK_SIZE - 300, max: REPLAY_CHUNK_SIZE + 300 }),
      },
    ),
    { minLength: 1, maxLength: 8 },
  ),
  kind: fc.constantFrom("none", "flip", "cut", "zeros"),
  at: fc.nat(),
}).map(({ sizes, kind, at }) => {
  const payloads: Uint8Array[] = [];
  let total = 0;
  const target = 2 * REPLAY_CHUNK_SIZE + (at % REPLAY_CHUNK_SIZE);
  for (let i = 0; total < target; i++) {
    const data = payload(sizes[i % sizes.length]!, i);
    payloads.push(data);
    total += data.length + 8;
  }
  const image = logImage(payloads);
  const where = at % image.length;
  if (kind === "cut") return image.subarray(0, where);
  if (kind === "flip") image[where]! ^= 1 << (at % 8);
  if (kind === "zeros") image.fill(0, where, where + 1 + (at % 5000));
  return image;
});

/** A reader with the scanner (taking vouched records or not) reads what one without it reads. */
function sameAsWithoutScanner(take: "next" | "vouched" | "runs", multiChunk = false): void {
  fc.assert(
    fc.property(
      multiChunk ? multiChunkImage : damagedImage,
      take === "runs"
        ? fc.constant([false])
        : fc.array(fc.boolean(), { minLength: 1, maxLength: 4 }),
      fc.array(fc.nat(), { maxLength: 4 }),
      fc.constantFrom(64, 1024, 4096),
      (image, copies, jumpSeeds, max) => {
        const jumps = jumpSeeds.map((s) => s % (image.length + 1)).sort((a, b) => a - b);
        const slow = new RecordReader(new ArraySource(image), 0, image.length, max);
        const fast = new RecordReader(new ArraySource(image), 0, image.length, max, scanFrames);
        const limit = multiChunk ? 100_000 : 200;
        const how = { vouched: take === "vouched", runs: take === "runs", limit };
        deepEqual(readAll(fast, copies, jumps, how), readAll(slow, copies, jumps, { limit }));
      },
    ),
    { numRuns: multiChunk ? 40 : 500 },
  );
}

Deno.test("RecordReader with a scanner reads what it reads without one, damage and seeks included", () => {
  sameAsWithoutScanner("next");
});

Deno.test("RecordReader.nextVouched() reads what next() reads without a scanner", () => {
  sameAsWithoutScanner("vouched");
});

Deno.test("RecordReader.skipVouchedRun() passes the records next() reads without a scanner", () => {
  sameAsWithoutScanner("runs");
});

Deno.test("RecordReader with a scanner reads what it reads without one over several chunks", async (t) => {
  // Frames that straddle a chunk border are carried into the next chunk, not read again.
  for (const take of ["next", "vouched", "runs"] as const) {
    await t.step(take, () => sameAsWithoutScanner(take, true));
  }
});

Deno.test("RecordReader.nextVouched() and skipVouchedRun() hand out nothing unchecked, nor views of a reused chunk", () => {
  const image = logImage([bytes("one"), bytes("two"), bytes("three")]);
  const plain = new RecordReader(new ArraySource(image), 0, image.length, 64);
  equal(plain.nextVouched(), undefined);
  equal(plain.skipVouchedRun(), undefined);
  equal(plain.position, 0);
  const reader = new RecordReader(new ArraySource(image), 0, image.length, 64, scanFrames);
  // Nothing scanned yet: nothing is vouched for.
  equal(reader.nextVouched(), undefined);
  // A chunk read for next(false) is the reader's scratch array: its payloads are not handed out.
  equal(reader.next(false).kind, "record");
  equal(reader.nextVouched(), undefined);
  // The records left in the chunk, as one run.
  const run = reader.skipVouchedRun()!;
  deepEqual([run.count, run.lsnAt(0), run.lsnAt(1), run.end], [2, 11, 22, image.length]);
  equal(reader.position, image.length);
  equal(reader.skipVouchedRun(), undefined);
  equal(reader.next(true).kind, "end");
  // A chunk read for next(true) is the caller's: its payloads are handed out.
  const again = new RecordReader(new ArraySource(image), 0, image.length, 64, scanFrames);
  equal(again.next(false).kind, "record");
  equal(again.next(false).kind, "record");
  deepEqual(again.next(true), { kind: "record", lsn: 22, length: 5, data: bytes("three") });
  equal(again.nextVouched(), undefined);
  const owned = new RecordReader(new ArraySource(image), 0, image.length, 64, scanFrames);
  deepEqual(owned.next(true), { kind: "record", lsn: 0, length: 3, data: bytes("one") });
  deepEqual(owned.nextVouched(), bytes("two"));
  equal(owned.position, 22);
});

Deno.test("RecordReader with a scanner reads a chunk at once, and hands big records to the slow path", () => {
  const small = Array.from({ length: 9000 }, (_, i) => payload(256, i));
  const big = payload(REPLAY_CHUNK_SIZE + 5, 7);
  const image = logImage([...small, big, ...small]);
  const source = new ArraySource(image);
  const reader = new RecordReader(source, 0, image.length, big.length, scanFrames);
  const seen: Uint8Array[] = [];
  for (let r = reader.next(true); r.kind === "record"; r = reader.next(true)) seen.push(r.data!);
  deepEqual(seen, [...small, big, ...small]);
  // A read per chunk, and a few around the big record (a chunk that finds it too big, its own
  // read, a window of the slow path): not a read per record.
  const chunks = Math.ceil(image.length / REPLAY_CHUNK_SIZE);
  ok(source.reads <= chunks + 4, `${source.reads} reads for ${chunks} chunks`);
});

Deno.test("RecordReader with a scanner hands out payloads no later read changes", () => {
  // Over several chunks, mixing reads that copy with reads that do not (which reuse a buffer).
  const payloads = Array.from({ length: 6000 }, (_, i) => payload(1000, i));
  const image = logImage(payloads);
  const reader = new RecordReader(new ArraySource(image), 0, image.length, 4096, scanFrames);
  const kept: Uint8Array[] = [];
  for (let i = 0; i < payloads.length; i++) {
    const result = reader.next(i % 3 !== 0);
    ok(result.kind === "record");
    kept.push(result.data ?? payloads[i]!);
  }
  deepEqual(kept, payloads);
});

Deno.test("RecordReader uses the scanner it is given", () => {
  const image = logImage([bytes("abc"), bytes("hello"), bytes("!")]);
  let calls = 0;
  const counting: FrameScanner = (...args) => {
    calls++;
    return scanFrames(...args);
  };
  const reader = new RecordReader(new ArraySource(image), 0, image.length, 1024, counting);
  deepEqual(readAll(reader, [true], []).map((r) => r.kind), ["record", "record", "record", "end"]);
  ok(calls > 0);
});

Deno.test("RecordReader with a scanner steps over damage inside a chunk without reading it again", () => {
  // 300 records of 8 KB (2.4 MB), each followed by 5 bytes of damage: the cursor's
  // "skip" walk seeks past each.
  const damage = hex("ff ff ff ff 7f");
  const parts: Uint8Array[] = [];
  const starts: number[] = [];
  let at = 0;
  for (let i = 0; i < 300; i++) {
    const record = frame(payload(8000, i));
    starts.push(at);
    parts.push(record, damage);
    at += record.length + damage.length;
  }
  const image = concat(parts);
  const source = new ArraySource(image);
  const reader = new RecordReader(source, 0, image.length, 8192, scanFrames);
  let records = 0;
  for (const start of starts) {
    reader.seek(start);
    ok(reader.next(true).kind === "record");
    records++;
    equal(reader.next(true).kind, "damage");
  }
  equal(records, 300);
  // A chunk, and a window of the slow path that classifies the damage, per chunk's worth of
  // bytes: not a read per damaged range.
  const chunks = Math.ceil(image.length / Math.min(REPLAY_CHUNK_SIZE, READ_CHUNK_SIZE));
  ok(source.reads <= 2 * chunks + 2, `${source.reads} reads for ${chunks} chunks`);
});

Deno.test("RecordReader.findNext() retried after a failed read finds the record it would have found", () => {
  // Damage, a frame whose checksum is wrong, then an intact frame whose end lies past the first
  // chunk: both long enough to be checked from range checksums, which read the source in chunks.
  const bad = frame(new Uint8Array(LONG));
  bad[0]! ^= 1;
  const intact = frame(payload(READ_CHUNK_SIZE, 3));
  const image = concat([hex("ff ff ff ff ff ff ff ff"), bad, intact]);
  const at = 8 + bad.length;
  const clean = new RecordReader(new ArraySource(image), 0, image.length, READ_CHUNK_SIZE);
  equal(clean.next(false).kind, "damage");
  equal(clean.findNext(1), at);
  // The first read past the first chunk fails, after scribbling over the buffer it was given.
  const flaky = failingOnceFrom(new ArraySource(image), READ_CHUNK_SIZE);
  const reader = new RecordReader(flaky, 0, image.length, READ_CHUNK_SIZE);
  equal(reader.next(false).kind, "damage");
  throws(() => reader.findNext(1), /EIO/);
  equal(reader.findNext(1), at);
});

/**
 * Every result of reading `reader` to its end, searching past damage, each call made again
 * when it throws (as a caller that retries after an I/O error would).
 */
function readRetrying(reader: RecordReader): (ReadResult | { found: number | undefined })[] {
  const results: (ReadResult | { found: number | undefined })[] = [];
  for (let i = 0; i < 100_000; i++) {
    const result = retried(() => reader.next(i % 3 === 0));
    results.push(result);
    if (result.kind === "end") break;
    if (result.kind === "damage") {
      const next = retried(() => reader.findNext(result.lsn + 1));
      results.push({ found: next });
      if (next === undefined) break;
      reader.seek(next);
    }
  }
  return results;
}

/** What `call` returns, called again while it throws (up to a bound: a source may not heal). */
function retried<T>(call: () => T): T {
  for (let tries = 0;; tries++) {
    try {
      return call();
    } catch (error) {
      if (tries > 50) throw error;
    }
  }
}

Deno.test("RecordReader used again after a failed read reads what a reader that never failed reads", () => {
  fc.assert(
    fc.property(
      multiChunkImage,
      fc.array(fc.nat({ max: 8 }), { minLength: 1, maxLength: 4 }),
      fc.constantFrom(4096, REPLAY_CHUNK_SIZE + 400),
      fc.boolean(),
      (image, failAt, max, withScanner) => {
        const scanner = withScanner ? scanFrames : undefined;
        // The source throws on the chosen calls (counted over the whole run), the failed call
        // is made again, as a caller that retries after an I/O error would.
        let calls = 0;
        const failing = new Set(failAt);
        const clean = new ArraySource(image);
        const flaky: ByteSource = {
          readAt(offset: number, buffer: Uint8Array): number {
            if (failing.has(calls++)) {
              buffer.fill(0x5a);
              throw new Error("EIO");
            }
            return clean.readAt(offset, buffer);
          },
        };
        const expected = readRetrying(
          new RecordReader(new ArraySource(image), 0, image.length, max, scanner),
        );
        const got = readRetrying(new RecordReader(flaky, 0, image.length, max, scanner));
        deepEqual(got, expected);
      },
    ),
    { numRuns: 150 },
  );
});

Deno.test("RecordReader retried after any one read that fails reads what a reader that never failed reads", () => {
  // Damage before frames long enough to be checked from range checksums, which read the source
  // in chunks of their own: a failure of any one of those reads (the property above rarely
  // hits one) must leave nothing that the retried call then trusts.
  const damaged = (size: number, seed: number) => {
    const bytes = frame(payload(size, seed));
    bytes[0]! ^= 1;
    return bytes;
  };
  const image = concat([
    hex("ff ff ff ff ff ff ff ff"),
    damaged(LONG, 1),
    frame(payload(READ_CHUNK_SIZE, 2)),
    logImage([payload(300, 3), payload(LONG + 3000, 4)]),
    damaged(3 * READ_CHUNK_SIZE, 5),
    frame(payload(2 * READ_CHUNK_SIZE + 77, 6)),
    frame(payload(40, 7)),
  ]);
  const max = 4 * READ_CHUNK_SIZE;
  const source = new ArraySource(image);
  const expected = readRetrying(new RecordReader(source, 0, image.length, max));
  const reads = source.reads;
  ok(reads > 10, `${reads} reads`);
  for (let failing = 0; failing < reads; failing++) {
    let calls = 0;
    const flaky: ByteSource = {
      readAt(offset: number, buffer: Uint8Array): number {
        if (calls++ === failing) {
          buffer.fill(0x5a);
          throw new Error("EIO");
        }
        return source.readAt(offset, buffer);
      },
    };
    const got = readRetrying(new RecordReader(flaky, 0, image.length, max));
    deepEqual(got, expected, `read call ${failing} failed`);
  }
});

/** The first intact record at or after `from` found offset by offset, reading nothing twice. */
function findNextByHand(image: Uint8Array, from: number, max: number): number | undefined {
  const view = new DataView(image.buffer, image.byteOffset, image.byteLength);
  const fits = (at: number, length: number) => length <= max && at + 8 + length <= image.length;
  for (let lsn = from; lsn + 8 <= image.length; lsn++) {
    const length = view.getUint32(lsn + 4, true);
    if (!fits(lsn, length)) continue;
    const far = lsn + 8 + length;
    if (far + 8 <= image.length) {
      const zeros = view.getUint32(far, true) === 0 && view.getUint32(far + 4, true) === 0;
      if (!zeros && !fits(far, view.getUint32(far + 4, true))) continue;
    }
    if (frameCrc(image.subarray(lsn + 8, far)) === view.getUint32(lsn, true)) return lsn;
  }
  return undefined;
}

/**
 * Damage whose 4-byte words are mostly lengths that fit, with frames (short, and longer than a
 * range checksum's step) inside: the ends of most candidates lie chunks away, so the search reads
 * them in batches.
 */
const candidateHeavyImage = fc.record({
  seed: fc.nat(),
  words: fc.integer({ min: 2, max: 200_000 }),
  frames: fc.array(
    fc.tuple(
      fc.nat(),
      fc.oneof(
        fc.uint8Array({ maxLength: 40 }),
        fc.uint8Array({ minLength: LONG, maxLength: LONG + 4000 }),
      ),
    ),
    { maxLength: 4 },
  ),
  shift: fc.nat({ max: 3 }),
}).map(({ seed, words, frames, shift }) => {
  const lengths = new Uint32Array(words);
  let state = seed;
  for (let i = 0; i < words; i++) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    lengths[i] = state % 3 === 0 ? state : state % (3 * READ_CHUNK_SIZE);
  }
  const image = new Uint8Array(lengths.buffer).subarray(shift);
  for (const [at, body] of frames) {
    // A frame, then an empty one: what follows the first is a header that fits.
    const framed = concat([frame(body), frame(new Uint8Array(0))]);
    if (framed.length > image.length) continue;
    image.set(framed, at % (image.length - framed.length + 1));
  }
  return image;
});

Deno.test("RecordReader.findNext() finds what a search offset by offset finds", () => {
  // Counted, so that the test fails if its images stop exercising what it is for.
  const searches = { found: 0, batched: 0 };
  fc.assert(
    fc.property(
      candidateHeavyImage,
      fc.nat(),
      fc.constantFrom(1024, 64 * 1024, 1 << 30),
      (image, fromSeed, max) => {
        const from = fromSeed % (image.length + 1);
        // Reads other than a window's chunk: headers at candidates' ends (or range checksums').
        let aside = 0;
        const source: ByteSource = {
          readAt(offset, buffer) {
            if (buffer.length !== Math.min(READ_CHUNK_SIZE, image.length - offset)) aside++;
            const part = image.subarray(offset, offset + buffer.length);
            buffer.set(part);
            return part.length;
          },
        };
        const reader = new RecordReader(source, 0, image.length, max);
        const found = reader.findNext(from);
        equal(found, findNextByHand(image, from, max));
        if (found !== undefined) searches.found++;
        if (aside > 0) searches.batched++;
      },
    ),
    { numRuns: 60, endOnFailure: true },
  );
  ok(searches.found >= 10, `${searches.found} searches found a record`);
  ok(searches.batched >= 10, `${searches.batched} searches read ends outside the window`);
});

/** A source over `image` that remembers the furthest byte it was asked for. */
class FarthestSource implements ByteSource {
  farthest = 0;
  constructor(readonly image: Uint8Array) {}
  readAt(offset: number, buffer: Uint8Array): number {
    const n = Math.max(0, Math.min(buffer.length, this.image.length - offset));
    buffer.set(this.image.subarray(offset, offset + n));
    this.farthest = Math.max(this.farthest, offset + n);
    return n;
  }
}

Deno.test("RecordReader.findNext() reads no further than a chunk and a record past what it finds", () => {
  const max = 2 * LONG;
  // Damage whose every 8th offset is a long frame (checked from range checksums)
  // followed by a header that fits, with a wrong checksum: thousands of candidates to reject,
  // as a block of small integers (an index page, a bitmap) written over a log gives. Then 12 MB
  // of intact 4000-byte records: the first is what the search must find.
  const count = 6000;
  const damage = new Uint8Array(8 * count);
  const view = new DataView(damage.buffer);
  const noise = payload(4 * count, 3);
  for (let i = 0; i < count; i++) {
    view.setUint32(8 * i, new DataView(noise.buffer).getUint32(4 * i, true), true);
    view.setUint32(8 * i + 4, LONG, true);
  }
  const records = Array.from({ length: 3000 }, (_, i) => payload(4000, i + 10));
  const source = new FarthestSource(concat([damage, logImage(records)]));
  const found = new RecordReader(source, 0, source.image.length, max).findNext(0);
  equal(found, damage.length);
  ok(
    source.farthest <= damage.length + max + 2 * READ_CHUNK_SIZE,
    `read up to ${source.farthest}, ${source.farthest - damage.length} bytes past the record`,
  );
});

Deno.test("RecordReader.findNext() on a source shorter than its end finds the record the bytes it has hold", () => {
  // A file that shrank after its size was taken: the reader's end is past the source's.
  const damaged = frame(payload(LONG, 1));
  damaged[100]! ^= 1; // a long frame that the frame after it makes plausible
  const intact = frame(payload(LONG, 2));
  const held = concat([damaged, intact]);
  const reader = new RecordReader(new FarthestSource(held), 0, held.length + 64, 2 * LONG);
  equal(reader.findNext(0), damaged.length);
});

Deno.test("RecordReader.findNext() collects candidates at most a batch's span past a record whose end is beyond its window", () => {
  // Damage that is a candidate at every 8th offset (a wrong checksum, then a length whose end
  // lies past the window and inside the damage: a header that fits, read in batches), so the
  // batches grow; no other offset decodes to a length that fits. Then records longer than the
  // window, of text (no candidate inside): each is a candidate whose end must be read. Without
  // the span rule the batch that holds the first one collects them all, to the end of the log.
  const max = 64 * 1024 * 1024;
  const long = 300_000;
  const damage = new Uint8Array(1_200_000);
  const view = new DataView(damage.buffer);
  for (let at = 0; at < damage.length; at += 8) {
    view.setUint32(at, 0x0101_0101, true);
    view.setUint32(at + 4, long, true);
  }
  const text = new TextEncoder().encode("a log of text records, ".repeat(14_000)).subarray(0, long);
  const source = new FarthestSource(concat([damage, logImage(Array(40).fill(text))]));
  const found = new RecordReader(source, 0, source.image.length, max).findNext(0);
  equal(found, damage.length);
  const bound = damage.length + FIND_BATCH_SPAN_MAX + 2 * long + 2 * READ_CHUNK_SIZE;
  ok(source.farthest <= bound, `read up to ${source.farthest}, past ${bound}`);
});
