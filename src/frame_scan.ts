// Copyright 2026 the wal-db authors. MIT license.
// The fast path of replay: checks every frame of a chunk of bytes in one call and says where
// each intact one ends. The native shim implements the same contract (`wal_scan_frames`).
// Pure: no I/O and no `Deno.*`.

import { frameChecksumPairWords, frameChecksumWords, wordsOf } from "./crc32c.ts";
import {
  CRC_WORD_LOOP_MIN_BYTES,
  HEADER_CRC_OFFSET,
  HEADER_LENGTH_OFFSET,
  HEADER_SIZE,
} from "./constants.ts";
import { readU32 } from "./record.ts";

/** Where `frameChecksumPairWords` leaves the two checksums: one array for every call. */
const PAIR = new Uint32Array(2);

/**
 * The signature of {@linkcode scanFrames}: the TypeScript one, or the shim's, which a reader
 * takes as an option so that either can check its chunks.
 */
export type FrameScanner = (
  buf: Uint8Array,
  start: number,
  end: number,
  maxRecordSize: number,
  ends: Uint32Array,
) => number;

/**
 * Walks the intact frames of `buf[start, end)` from `start` on and writes where each ends
 * (an offset into `buf`) into `ends`, in order; returns how many it wrote.
 *
 * A frame is intact when its 8 header bytes, a length of at most `maxRecordSize` and the whole
 * payload lie before `end`, and its CRC32C (of the four length bytes, then the payload) matches
 * the stored one. The walk stops at the first frame that is not intact, at `end`, or once
 * `ends` is full: it never says why, and never guesses past a frame it cannot check. The
 * caller hands whatever follows the last end to its slow path, which classifies it (damage, a
 * frame that runs past the chunk, the end).
 *
 * @param buf The bytes: a chunk of the log.
 * @param start Where the first frame starts in `buf`.
 * @param end One past the last byte of `buf` that may be read.
 * @param maxRecordSize The largest payload a frame may have.
 * @param ends Receives the end offset of each intact frame; its length caps the count.
 * @returns How many frames are intact from `start` on (and how many ends were written).
 * @throws {RangeError} If `start`, `end` or `maxRecordSize` is not a non-negative integer.
 *
 * @example Two intact frames, then a damaged one
 * ```ts
 * import { scanFrames } from "./frame_scan.ts";
 * import { frame } from "./record.ts";
 * import { deepEqual, equal } from "node:assert/strict";
 *
 * const bytes = new Uint8Array(3 * 10);
 * for (let i = 0; i < 3; i++) bytes.set(frame(new Uint8Array([i, i])), i * 10);
 * bytes[29]! ^= 1;
 * const ends = new Uint32Array(8);
 * equal(scanFrames(bytes, 0, bytes.length, 1024, ends), 2);
 * deepEqual([...ends.subarray(0, 2)], [10, 20]);
 * ```
 */
export function scanFrames(
  buf: Uint8Array,
  start: number,
  end: number,
  maxRecordSize: number,
  ends: Uint32Array,
): number {
  // As the shim's scanner does: a bad offset or limit is the caller's bug, not "no frames".
  checkCount("start", start);
  checkCount("end", end);
  checkCount("maxRecordSize", maxRecordSize);
  const capacity = ends.length;
  let count = 0;
  // Never past the array, whatever `end` says: a frame there cannot be checked.
  const limit = Math.min(end, buf.length);
  // One word view per call: the checksums read the chunk four bytes at a time through it.
  const words = wordsOf(buf);
  let at = start;
  while (count < capacity && at + HEADER_SIZE <= limit) {
    const length = readU32(buf, at + HEADER_LENGTH_OFFSET);
    if (length > maxRecordSize || length > limit - at - HEADER_SIZE) break;
    const payload = at + HEADER_SIZE;
    const next = payload + length;
    // Two frames at once when the next one fits too: their checksums overlap in the CPU. The
    // second is reported only if the first checks out, as one by one.
    const pairs = count + 2 <= capacity && length >= CRC_WORD_LOOP_MIN_BYTES;
    if (pairs && next + HEADER_SIZE <= limit) {
      const length2 = readU32(buf, next + HEADER_LENGTH_OFFSET);
      if (
        length2 >= CRC_WORD_LOOP_MIN_BYTES && length2 <= maxRecordSize &&
        length2 <= limit - next - HEADER_SIZE
      ) {
        const pair = PAIR;
        frameChecksumPairWords(buf, words, payload, length, next + HEADER_SIZE, length2, pair);
        if (pair[0] !== readU32(buf, at + HEADER_CRC_OFFSET)) break;
        ends[count++] = next;
        if (pair[1] !== readU32(buf, next + HEADER_CRC_OFFSET)) break;
        at = next + HEADER_SIZE + length2;
        ends[count++] = at;
        continue;
      }
    }
    const crc = frameChecksumWords(length, buf, words, payload, next);
    if (crc !== readU32(buf, at + HEADER_CRC_OFFSET)) break;
    ends[count++] = next;
    at = next;
  }
  return count;
}

function checkCount(name: string, value: number): void {
  if (Number.isSafeInteger(value) && value >= 0) return;
  throw new RangeError(
    `Cannot scan frames: ${name} must be a non-negative safe integer, got ${value}`,
  );
}
