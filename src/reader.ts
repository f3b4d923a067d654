// Copyright 2026 the wal-db authors. MIT license.
// Reads records in order from any byte source and classifies what it finds at each offset.
// Pure: no `Deno.*`; the only I/O is through the `ByteSource` it is given.

import { assert } from "./assert.ts";
import { HEADER_SIZE, READ_CHUNK_SIZE } from "./constants.ts";
import { decodeHeader, frameCrc, frameSize } from "./record.ts";

/** Anything the reader can pull bytes from: a store, or an array in a test. */
export interface ByteSource {
  /**
   * Copies the bytes at `offset` into `buffer` and returns how many were copied. Fewer than
   * `buffer.length` only when the source ends before the buffer is full.
   */
  readAt(offset: number, buffer: Uint8Array): number;
}

/**
 * Why the bytes at an offset are not an intact record, in the order the reader checks:
 * fewer than 8 bytes left, a length above `maxRecordSize`, fewer payload bytes left than the
 * length says, or a checksum that does not match.
 */
export type DamageReason =
  | "partial-header"
  | "implausible-length"
  | "partial-record"
  | "crc-mismatch";

/** What the reader found at one offset. */
export type ReadResult =
  | { kind: "record"; lsn: number; length: number; data: Uint8Array | undefined }
  | { kind: "end"; lsn: number }
  | { kind: "damage"; lsn: number; reason: DamageReason; length: number | undefined };

/**
 * A forward reader over the records of `[start, end)` of a source.
 *
 * It fetches the source in chunks of {@linkcode READ_CHUNK_SIZE} so that small records cost no
 * read call each. A length field is checked against `maxRecordSize` and against the bytes that
 * are left before anything is allocated for the payload, so a corrupt length can never drive a
 * large allocation: the most it allocates is one chunk plus one payload of at most
 * `maxRecordSize` that really is present in the source.
 */
export class RecordReader {
  readonly #source: ByteSource;
  readonly #end: number;
  readonly #maxRecordSize: number;
  #position: number;
  #buffer: Uint8Array | undefined;
  #windowStart = 0;
  #windowLength = 0;

  constructor(source: ByteSource, start: number, end: number, maxRecordSize: number) {
    assert(start >= 0 && start <= end, `reader range [${start}, ${end}) is valid`);
    this.#source = source;
    this.#position = start;
    this.#end = end;
    this.#maxRecordSize = maxRecordSize;
  }

  /** The offset of the next record to read. */
  get position(): number {
    return this.#position;
  }

  /** Moves the reader to `offset` (for a resync search). */
  seek(offset: number): void {
    assert(offset >= 0 && offset <= this.#end, `seek target ${offset} is inside the range`);
    this.#position = offset;
  }

  /**
   * Reads the record at the current position. An intact record advances the position past it;
   * damage or the end leaves the position where it is. With `copy`, the record's payload is
   * returned in a new array that belongs to the caller.
   */
  next(copy: boolean): ReadResult {
    const result = this.peek(this.#position, copy);
    if (result.kind === "record") this.#position += frameSize(result.length);
    return result;
  }

  /** Classifies the bytes at `lsn` without moving the reader. */
  peek(lsn: number, copy: boolean): ReadResult {
    const left = this.#end - lsn;
    if (left === 0) return { kind: "end", lsn };
    if (left < HEADER_SIZE) {
      return { kind: "damage", lsn, reason: "partial-header", length: undefined };
    }
    const header = this.#bytes(lsn, HEADER_SIZE);
    if (header.length < HEADER_SIZE) {
      return { kind: "damage", lsn, reason: "partial-header", length: undefined };
    }
    const { crc, length } = decodeHeader(header, 0);
    if (length > this.#maxRecordSize) {
      return { kind: "damage", lsn, reason: "implausible-length", length };
    }
    if (length > left - HEADER_SIZE) {
      return { kind: "damage", lsn, reason: "partial-record", length };
    }
    const payload = this.#bytes(lsn + HEADER_SIZE, length);
    if (payload.length < length) {
      return { kind: "damage", lsn, reason: "partial-record", length };
    }
    if (frameCrc(payload) !== crc) {
      return { kind: "damage", lsn, reason: "crc-mismatch", length };
    }
    return { kind: "record", lsn, length, data: copy ? payload.slice() : undefined };
  }

  /**
   * Finds the first intact record at or after `from` and returns its LSN, or `undefined` when
   * there is none before the end. Used after damage, to tell a torn tail (nothing intact
   * follows) from damage in the middle of a log.
   *
   * Runs of zero bytes are skipped at scanning speed: a header is never eight zero bytes (the
   * CRC32C of an empty record's zero length is not zero), so no record can start more than
   * seven bytes before the next non-zero byte.
   */
  findNext(from: number): number | undefined {
    for (let lsn = from; lsn + HEADER_SIZE <= this.#end; lsn++) {
      const nonZero = this.#nextNonZero(lsn);
      if (nonZero === undefined) return undefined;
      lsn = Math.max(lsn, nonZero - HEADER_SIZE + 1);
      if (lsn + HEADER_SIZE > this.#end) return undefined;
      if (this.peek(lsn, false).kind === "record") return lsn;
    }
    return undefined;
  }

  /** The first offset at or after `from` that holds a non-zero byte, if any. */
  #nextNonZero(from: number): number | undefined {
    for (let at = from; at < this.#end;) {
      const chunk = this.#bytes(at, Math.min(READ_CHUNK_SIZE, this.#end - at));
      if (chunk.length === 0) return undefined;
      for (let i = 0; i < chunk.length; i++) if (chunk[i] !== 0) return at + i;
      at += chunk.length;
    }
    return undefined;
  }

  /**
   * Returns up to `size` bytes at `offset`, from the window when they are in it. The result is
   * a view that is only valid until the next call; it is shorter than `size` only when the
   * source ended early.
   */
  #bytes(offset: number, size: number): Uint8Array {
    const from = offset - this.#windowStart;
    if (this.#buffer !== undefined && from >= 0 && from + size <= this.#windowLength) {
      return this.#buffer.subarray(from, from + size);
    }
    if (size > READ_CHUNK_SIZE) {
      // A payload larger than a chunk gets its own array; its size was checked against both
      // maxRecordSize and the end of the source before we got here.
      const big = new Uint8Array(size);
      return big.subarray(0, this.#source.readAt(offset, big));
    }
    this.#buffer ??= new Uint8Array(READ_CHUNK_SIZE);
    const want = Math.min(READ_CHUNK_SIZE, this.#end - offset);
    this.#windowStart = offset;
    this.#windowLength = this.#source.readAt(offset, this.#buffer.subarray(0, want));
    return this.#buffer.subarray(0, Math.min(this.#windowLength, size));
  }
}
