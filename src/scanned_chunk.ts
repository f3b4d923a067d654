// Copyright 2026 the wal-db authors. MIT license.
// The replay fast path's state: the chunk a frame scanner checked and the frame ends it reported,
// which a reader hands out without checking them again.
// Pure: no `Deno.*`; the only I/O is through the `ByteSource` it is given.

import {
  HEADER_CRC_OFFSET,
  HEADER_LENGTH_OFFSET,
  HEADER_SIZE,
  REPLAY_CHUNK_SIZE,
  SCAN_BATCH_MAX,
} from "./constants.ts";
import type { FrameScanner } from "./frame_scan.ts";
import type { ByteSource } from "./range_checksums.ts";
import { readU32 } from "./record.ts";
import type { RecordRun } from "./record_run.ts";

/**
 * The chunk of `[0, end)` of a source that a frame scanner last checked, and the frames in it the
 * scanner vouched for. `scan` reads {@linkcode REPLAY_CHUNK_SIZE} bytes at once (or rescans what
 * the chunk still holds) and has the scanner check every frame in one call; `take` then hands
 * out the vouched frames in order, with no read and no check.
 *
 * With `copy`, each chunk is read into a new array that is never written again, so payload views
 * into it belong to the caller; without, one scratch array is reused, and `take(lsn, true)` never
 * hands out a frame of it.
 *
 * @example Two frames vouched for by one scan
 * ```ts
 * import { ScannedChunk } from "./scanned_chunk.ts";
 * import { scanFrames } from "./frame_scan.ts";
 * import { frame } from "./record.ts";
 * import { deepEqual, equal } from "node:assert/strict";
 *
 * const log = new Uint8Array([...frame(new Uint8Array([7])), ...frame(new Uint8Array(0))]);
 * const source = { readAt: (at: number, out: Uint8Array) => (out.set(log.subarray(at, at + out.length)), Math.min(out.length, log.length - at)) };
 * const chunks = new ScannedChunk(source, log.length, 1024, scanFrames);
 * equal(chunks.take(0, true), -1); // nothing scanned yet
 * equal(chunks.scan(0, true), true);
 * equal(chunks.take(0, true), 9);
 * deepEqual(chunks.payload(0, 9), new Uint8Array([7]));
 * equal(chunks.take(9, true), 17);
 * equal(chunks.take(17, true), -1);
 * ```
 */
export class ScannedChunk {
  readonly #source: ByteSource;
  readonly #end: number;
  readonly #maxRecordSize: number;
  readonly #scanner: FrameScanner;
  #chunk: Uint8Array | undefined;
  /** The source offset of `#chunk[0]`. */
  #start = 0;
  /** True when `#chunk` is a new array that is never written again: payloads may view it. */
  #owned = false;
  #scratch: Uint8Array | undefined;
  #ends: Uint32Array | undefined;
  #endAt = 0;
  #endCount = 0;
  /** Where the frame of `#ends[#endAt]` starts. */
  #next = -1;
  /** Where a fresh chunk's scan last stopped at once: the slow path reads the frame there. */
  #stoppedAt = -1;

  constructor(source: ByteSource, end: number, maxRecordSize: number, scanner: FrameScanner) {
    this.#source = source;
    this.#end = end;
    this.#maxRecordSize = maxRecordSize;
    this.#scanner = scanner;
  }

  /**
   * Where the vouched frame at `lsn` ends, moving past it; -1 when no vouched frame starts at
   * `lsn`, or (with `copy`) its chunk is the reused scratch array. Never reads the source.
   */
  take(lsn: number, copy: boolean): number {
    if (this.#endAt >= this.#endCount || this.#next !== lsn || (copy && !this.#owned)) return -1;
    const next = this.#start + this.#ends![this.#endAt++]!;
    this.#next = next;
    return next;
  }

  /**
   * Hands out every vouched frame left from `lsn` at once, moving past them all: what `take`
   * would hand out one by one. Undefined when `take(lsn, false)` would return -1. The run reads
   * the array of frame ends, so it is valid until the next `scan`.
   */
  takeRun(lsn: number): RecordRun | undefined {
    const from = this.#endAt;
    const count = this.#endCount - from;
    if (count <= 0 || this.#next !== lsn) return undefined;
    const run = new ChunkRun(lsn, this.#start, this.#ends!, from, count);
    this.#endAt = this.#endCount;
    this.#next = run.end;
    return run;
  }

  /** A view of the payload of the frame `[lsn, next)` that `take` just handed out. */
  payload(lsn: number, next: number): Uint8Array {
    const chunk = this.#chunk!;
    // A view made from the buffer directly: measured cheaper in V8 than `subarray`.
    const from = chunk.byteOffset + lsn - this.#start + HEADER_SIZE;
    return new Uint8Array(chunk.buffer, from, next - lsn - HEADER_SIZE);
  }

  /**
   * Has the scanner check the frames from `lsn` on: first in what the current chunk still
   * holds, else in a new chunk read at `lsn`. False when not one frame there checks out (or the
   * last scan already stopped at `lsn`), so the slow path must classify the bytes at `lsn`.
   */
  scan(lsn: number, copy: boolean): boolean {
    if (lsn === this.#stoppedAt) return false;
    const ends = this.#ends ??= new Uint32Array(SCAN_BATCH_MAX);
    const chunk = this.#chunk;
    const from = lsn - this.#start;
    if (
      chunk !== undefined && (this.#owned || !copy) && from >= 0 &&
      from + HEADER_SIZE <= chunk.length
    ) {
      this.#endCount = this.#scanner(chunk, from, chunk.length, this.#maxRecordSize, ends);
      this.#endAt = 0;
      this.#next = lsn;
      if (this.#endCount > 0) return true;
      // Read again only for a frame that runs past the chunk: one wholly inside it (damage)
      // would fail again, and reading a chunk at every damaged range would read them all twice.
      const length = readU32(chunk, from + HEADER_LENGTH_OFFSET);
      const inside = length > this.#maxRecordSize || from + HEADER_SIZE + length <= chunk.length;
      if (inside || this.#start + chunk.length >= this.#end) {
        this.#stoppedAt = lsn;
        return false;
      }
    }
    const size = Math.min(REPLAY_CHUNK_SIZE, this.#end - lsn);
    if (size < HEADER_SIZE) return false;
    // A payload the caller keeps is a view into the chunk: each chunk is then a new array.
    const buffer = copy
      ? new Uint8Array(size)
      : (this.#scratch ??= new Uint8Array(REPLAY_CHUNK_SIZE)).subarray(0, size);
    const carried = this.#dropChunk(lsn);
    const got = this.#fill(lsn, carried, buffer);
    this.#chunk = buffer.subarray(0, got);
    this.#start = lsn;
    this.#owned = copy;
    this.#endCount = this.#scanner(this.#chunk, 0, got, this.#maxRecordSize, ends);
    this.#endAt = 0;
    this.#next = lsn;
    if (this.#endCount > 0) return true;
    this.#stoppedAt = lsn;
    return false;
  }

  /**
   * Forgets the current chunk before a new one is read into memory it may share (the scratch
   * array): a read that throws then leaves no chunk described by bytes that moved. Returns the
   * bytes from `lsn` on that it held (the start of a frame that ran past its end), if any.
   */
  #dropChunk(lsn: number): Uint8Array | undefined {
    const chunk = this.#chunk;
    const from = lsn - this.#start;
    this.#chunk = undefined;
    this.#endCount = 0;
    this.#endAt = 0;
    this.#next = -1;
    return chunk === undefined || from < 0 || from >= chunk.length
      ? undefined
      : chunk.subarray(from);
  }

  /**
   * Reads `[lsn, lsn + buffer.length)` of the source into `buffer`. The `carried` bytes (the
   * last chunk's from `lsn` on) are copied, not read again, so that each read starts where the
   * last one ended: a file source then reads its chunks in order with no seek between them.
   */
  #fill(lsn: number, carried: Uint8Array | undefined, buffer: Uint8Array): number {
    const held = carried?.length ?? 0;
    if (held === 0 || held >= buffer.length) return this.#source.readAt(lsn, buffer);
    // `set` copies correctly when `buffer` is the scratch array `carried` views.
    buffer.set(carried!);
    return held + this.#source.readAt(lsn + held, buffer.subarray(held));
  }

  /** The length and CRC fields of the header at `lsn` if the chunk holds its 8 bytes. */
  headerAt(lsn: number): { length: number; crc: number } | undefined {
    const chunk = this.#chunk;
    const from = lsn - this.#start;
    if (chunk === undefined || from < 0 || from + HEADER_SIZE > chunk.length) return undefined;
    return {
      length: readU32(chunk, from + HEADER_LENGTH_OFFSET),
      crc: readU32(chunk, from + HEADER_CRC_OFFSET),
    };
  }
}

/** Frames of one scanned chunk: the first starts at `first`, each next where the last ends. */
class ChunkRun implements RecordRun {
  readonly count: number;
  readonly end: number;
  readonly #first: number;
  readonly #start: number;
  readonly #ends: Uint32Array;
  readonly #from: number;

  constructor(first: number, start: number, ends: Uint32Array, from: number, count: number) {
    this.count = count;
    this.#first = first;
    this.#start = start;
    this.#ends = ends;
    this.#from = from;
    this.end = start + ends[from + count - 1]!;
  }

  lsnAt(index: number): number {
    return index === 0 ? this.#first : this.#start + this.#ends[this.#from + index - 1]!;
  }
}
