// Copyright 2026 the wal-db authors. MIT license.
// Tests for src/scanned_chunk.ts: the chunk a frame scanner checked, and the frames it vouched for.

import { deepEqual, equal, ok, throws } from "node:assert/strict";
import { REPLAY_CHUNK_SIZE } from "../src/constants.ts";
import { scanFrames } from "../src/frame_scan.ts";
import { ScannedChunk } from "../src/scanned_chunk.ts";
import { bytes, logImage, lsnsOf, payload } from "./_helpers.ts";

/** A source over an array that counts its reads and notes the ranges read. */
function sourceOf(image: Uint8Array) {
  const source = {
    reads: 0,
    ranges: [] as [number, number][],
    readAt(offset: number, buffer: Uint8Array): number {
      source.reads++;
      source.ranges.push([offset, Math.min(offset + buffer.length, image.length)]);
      const part = image.subarray(offset, offset + buffer.length);
      buffer.set(part);
      return part.length;
    },
  };
  return source;
}

/** The end of the frame at `lsn`: taken from the chunk, after a scan when the chunk has none. */
function takeOrScan(chunks: ScannedChunk, lsn: number, copy: boolean): number {
  const next = chunks.take(lsn, copy);
  if (next >= 0) return next;
  equal(chunks.scan(lsn, copy), true);
  return chunks.take(lsn, copy);
}

Deno.test("ScannedChunk hands out the frames one scan vouched for, in order, then nothing", () => {
  const payloads = [bytes("one"), new Uint8Array(0), bytes("three")];
  const image = logImage(payloads);
  const lsns = [...lsnsOf(payloads), image.length];
  const source = sourceOf(image);
  const chunks = new ScannedChunk(source, image.length, 64, scanFrames);
  equal(chunks.take(0, true), -1);
  equal(chunks.scan(0, true), true);
  equal(source.reads, 1);
  for (let i = 0; i < payloads.length; i++) {
    equal(chunks.take(lsns[i]! + 1, true), -1, "only the frame at the next LSN");
    equal(chunks.take(lsns[i]!, true), lsns[i + 1]);
    deepEqual(chunks.payload(lsns[i]!, lsns[i + 1]!), payloads[i]);
  }
  equal(chunks.take(image.length, true), -1);
  deepEqual(chunks.headerAt(lsns[2]!), {
    length: 5,
    crc: new DataView(image.buffer).getUint32(lsns[2]!, true),
  });
  equal(chunks.headerAt(image.length), undefined);
});

Deno.test("ScannedChunk.takeRun() hands out at once what take() hands out one by one", () => {
  const payloads = [bytes("one"), new Uint8Array(0), bytes("three"), bytes("four")];
  const image = logImage(payloads);
  const lsns = [...lsnsOf(payloads), image.length];
  const chunks = new ScannedChunk(sourceOf(image), image.length, 64, scanFrames);
  equal(chunks.takeRun(0), undefined, "nothing scanned yet");
  equal(chunks.scan(0, false), true);
  equal(chunks.take(0, false), lsns[1]);
  equal(chunks.takeRun(lsns[0]!), undefined, "only from the next LSN");
  const run = chunks.takeRun(lsns[1]!)!;
  equal(run.count, 3);
  deepEqual([0, 1, 2].map((k) => run.lsnAt(k)), lsns.slice(1, 4));
  equal(run.end, image.length);
  equal(chunks.take(image.length, false), -1);
  equal(chunks.takeRun(image.length), undefined);
});

Deno.test("ScannedChunk reads each chunk where the last one ended, carrying a straddling frame over", () => {
  // Frames of 1,008 bytes: most chunk borders fall inside a frame.
  const payloads = Array.from({ length: 900 }, (_, i) => payload(1000, i));
  const image = logImage(payloads);
  const lsns = [...lsnsOf(payloads), image.length];
  for (const copy of [false, true]) {
    const source = sourceOf(image);
    const chunks = new ScannedChunk(source, image.length, 4096, scanFrames);
    const kept: Uint8Array[] = [];
    for (let i = 0; i < payloads.length; i++) {
      const next = takeOrScan(chunks, lsns[i]!, copy);
      equal(next, lsns[i + 1]);
      kept.push(copy ? chunks.payload(lsns[i]!, next) : chunks.payload(lsns[i]!, next).slice());
    }
    kept.forEach((data, i) => deepEqual(data, payloads[i], `record ${i}, copy ${copy}`));
    ok(source.reads > 2, `${source.reads} reads`);
    // Every read starts where the one before it ended: no byte is read twice.
    source.ranges.forEach(([from], i) => equal(from, i === 0 ? 0 : source.ranges[i - 1]![1]));
    equal(source.ranges.at(-1)![1], image.length);
  }
});

Deno.test("ScannedChunk forgets its chunk when a read fails, so no header is read from moved bytes", () => {
  // Frames of 1,008 bytes: the first chunk ends inside a frame, which the next read carries.
  const payloads = Array.from({ length: 600 }, (_, i) => payload(1000, i));
  const image = logImage(payloads);
  const lsns = [...lsnsOf(payloads), image.length];
  const source = sourceOf(image);
  let failing = false;
  const flaky = {
    readAt: (offset: number, buffer: Uint8Array) => {
      if (failing) throw new Error("EIO");
      return source.readAt(offset, buffer);
    },
  };
  const chunks = new ScannedChunk(flaky, image.length, 4096, scanFrames);
  equal(chunks.scan(0, false), true);
  let i = 0;
  while (chunks.take(lsns[i]!, false) >= 0) i++;
  const straddling = lsns[i]!;
  const before = chunks.headerAt(lsns[i - 1]!);
  ok(before !== undefined);
  failing = true;
  throws(() => chunks.scan(straddling, false), /EIO/);
  // The scratch array's bytes moved for the carry: the chunk is no longer described by them.
  equal(chunks.headerAt(lsns[i - 1]!), undefined);
  equal(chunks.take(straddling, false), -1);
  failing = false;
  equal(chunks.scan(straddling, false), true);
  equal(chunks.take(straddling, false), lsns[i + 1]);
  deepEqual(chunks.payload(straddling, lsns[i + 1]!), payloads[i]);
});

Deno.test("ScannedChunk never hands out a payload of its reused scratch array to a caller who keeps it", () => {
  const image = logImage([bytes("a"), bytes("b")]);
  const chunks = new ScannedChunk(sourceOf(image), image.length, 64, scanFrames);
  equal(chunks.scan(0, false), true);
  equal(chunks.take(0, true), -1);
  equal(chunks.take(0, false), 9);
  // A caller who keeps payloads gets a chunk of its own, read again.
  equal(chunks.scan(9, true), true);
  equal(chunks.take(9, true), 18);
  deepEqual(chunks.payload(9, 18), bytes("b"));
});

Deno.test("ScannedChunk reads a new array per chunk when payloads are kept", () => {
  const payloads = Array.from({ length: 40 }, (_, i) => payload(20_000, i));
  const image = logImage(payloads);
  const lsns = lsnsOf(payloads);
  const chunks = new ScannedChunk(sourceOf(image), image.length, 1 << 20, scanFrames);
  const kept: Uint8Array[] = [];
  for (let i = 0; i < payloads.length; i++) {
    const next = takeOrScan(chunks, lsns[i]!, true);
    kept.push(chunks.payload(lsns[i]!, next));
  }
  // More than one chunk was read, and no later read changed an earlier payload.
  equal(image.length > REPLAY_CHUNK_SIZE, true);
  kept.forEach((data, i) => deepEqual(data, payloads[i]));
});

Deno.test("ScannedChunk stops at damage inside its chunk without reading it again", () => {
  const image = logImage([bytes("one"), bytes("two"), bytes("three")]);
  image[12]! ^= 1; // inside the payload of "two"
  const source = sourceOf(image);
  const chunks = new ScannedChunk(source, image.length, 64, scanFrames);
  equal(chunks.scan(0, true), true);
  equal(chunks.take(0, true), 11);
  equal(chunks.take(11, true), -1);
  // The damaged frame lies wholly inside the chunk: a rescan fails there without a read.
  equal(chunks.scan(11, true), false);
  equal(source.reads, 1);
  // Asked again at the same LSN (the slow path classifies it), it does not scan again.
  equal(chunks.scan(11, true), false);
  equal(source.reads, 1);
  // Past the damage (a skipped range), the frames the chunk still holds are scanned again.
  equal(chunks.scan(22, true), true);
  equal(chunks.take(22, true), image.length);
  equal(source.reads, 1);
});

Deno.test("ScannedChunk reads again for a frame that runs past its chunk", () => {
  const big = payload(REPLAY_CHUNK_SIZE, 3);
  const image = logImage([bytes("x"), big]);
  const source = sourceOf(image);
  const chunks = new ScannedChunk(source, image.length, 2 * REPLAY_CHUNK_SIZE, scanFrames);
  equal(chunks.scan(0, true), true);
  equal(chunks.take(0, true), 9);
  // The second frame does not fit in the first chunk, nor in one read at its LSN (larger than
  // a chunk): the slow path reads it.
  equal(chunks.scan(9, true), false);
  equal(source.reads, 2);
});
