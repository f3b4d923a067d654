// Copyright 2026 the wal-db authors. MIT license.
// Reads records in order from any byte source and classifies what it finds at each offset.
// Pure: no `Deno.*`; the only I/O is through the `ByteSource` it is given.

import { assert } from "./assert.ts";
import { CandidateBatch, FarState, plausibleHeader } from "./candidate_batch.ts";
import {
  CRC_CHECKPOINT_SPACING,
  FIND_BATCH_GROWTH,
  FIND_BATCH_MAX,
  FIND_BATCH_SPAN_MAX,
  HEADER_CRC_OFFSET,
  HEADER_LENGTH_OFFSET,
  HEADER_SIZE,
  READ_CHUNK_SIZE,
} from "./constants.ts";
import { crc32c, frameChecksum, frameChecksumIn, type RawCrc } from "./crc32c.ts";
import type { FrameScanner } from "./frame_scan.ts";
import { RangeChecksums } from "./range_checksums.ts";
import { type ByteSource, ReadWindow } from "./read_window.ts";
import { ScannedChunk } from "./scanned_chunk.ts";
import { frameCrc, frameSize, readU32 } from "./record.ts";
import type { RecordRun } from "./record_run.ts";

// Defined beside the window every reader reads through; re-exported here, where readers look.
export type { ByteSource };

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

/** The header fields of records, from bytes a reader already holds. */
export interface HeaderLookup {
  /**
   * The length and CRC fields of the header at `lsn` when the 8 bytes are in what the reader
   * holds now, else undefined. Never reads the source.
   */
  headerAt(lsn: number): { length: number; crc: number } | undefined;
}

/**
 * A forward reader over the records of `[start, end)` of a source.
 *
 * It fetches the source in chunks of {@linkcode READ_CHUNK_SIZE} so that small records cost no
 * read call each. A length field is checked against `maxRecordSize` and against the bytes that
 * are left before anything is allocated for the payload, so a corrupt length can never drive a
 * large allocation: the most it allocates is one chunk plus one payload of at most
 * `maxRecordSize` that really is present in the source.
 *
 * Given a `scanner`, `next` takes a fast path first: it reads `REPLAY_CHUNK_SIZE`
 * bytes at once and has the scanner check every frame in them in one call; the records it
 * vouches for are returned without another check, and wherever it stops (damage, a frame that
 * runs past the chunk or is larger than one, the end) the slow path above classifies the bytes,
 * exactly as without a scanner (see {@linkcode ScannedChunk}). With `copy`, each chunk is read
 * into a new array and payloads are views into it: they belong to the caller, as the array is
 * never written again.
 *
 * `rawCrc` computes the range checksums with which `findNext` checks long candidates (see
 * {@linkcode RangeChecksums}); `crc32cRaw` (TypeScript) when absent.
 */
export class RecordReader implements HeaderLookup {
  readonly #source: ByteSource;
  readonly #end: number;
  readonly #maxRecordSize: number;
  /** What `#ranges` computes its registers with; `crc32cRaw` when undefined. */
  readonly #rawCrc: RawCrc | undefined;
  #position: number;
  /** The slow path's bytes: a chunk read at the offset a classification needed. */
  readonly #window = new ReadWindow(READ_CHUNK_SIZE);
  #ranges: RangeChecksums | undefined;
  /** The search after damage's candidates, made at its first use. */
  #batch: CandidateBatch | undefined;
  /** The fast path: the chunk the scanner checked, and the frames it vouched for. */
  readonly #chunks: ScannedChunk | undefined;

  constructor(
    source: ByteSource,
    start: number,
    end: number,
    maxRecordSize: number,
    scanner?: FrameScanner,
    rawCrc?: RawCrc,
  ) {
    assert(start >= 0 && start <= end, "reader range is valid");
    this.#source = source;
    this.#position = start;
    this.#end = end;
    this.#maxRecordSize = maxRecordSize;
    this.#rawCrc = rawCrc;
    this.#chunks = scanner === undefined
      ? undefined
      : new ScannedChunk(source, end, maxRecordSize, scanner);
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
    const chunks = this.#chunks;
    if (chunks !== undefined) {
      const lsn = this.#position;
      let next = chunks.take(lsn, copy);
      if (next < 0 && chunks.scan(lsn, copy)) next = chunks.take(lsn, copy);
      if (next >= 0) {
        this.#position = next;
        const data = copy ? chunks.payload(lsn, next) : undefined;
        return { kind: "record", lsn, length: next - lsn - HEADER_SIZE, data };
      }
    }
    const result = this.peek(this.#position, copy);
    if (result.kind === "record") this.#position += frameSize(result.length);
    return result;
  }

  /**
   * The payload of the record at the position when the scanner already vouched for it in a
   * chunk the caller may keep views of, and moves past it; else undefined, changing nothing
   * (then `next(true)` reads it). Never reads the source, so it cannot throw: the replay loop
   * takes most records here, without a result object each.
   */
  nextVouched(): Uint8Array | undefined {
    const lsn = this.#position;
    const next = this.#chunks?.take(lsn, true) ?? -1;
    if (next < 0) return undefined;
    this.#position = next;
    return this.#chunks!.payload(lsn, next);
  }

  /**
   * Moves past every record from the position that the scanner already vouched for in the
   * chunk it holds, and returns them as one run (valid until the reader's next call); else
   * undefined, changing nothing (then `next(false)` reads the record). The recovery scan's loop:
   * no result object, read or call per record.
   */
  skipVouchedRun(): RecordRun | undefined {
    const run = this.#chunks?.takeRun(this.#position);
    if (run !== undefined) this.#position = run.end;
    return run;
  }

  /** See {@linkcode HeaderLookup.headerAt}: from the current chunk, else the window. */
  headerAt(lsn: number): { length: number; crc: number } | undefined {
    const inChunk = this.#chunks?.headerAt(lsn);
    if (inChunk !== undefined) return inChunk;
    const from = this.#window.indexOf(lsn, HEADER_SIZE);
    if (from < 0) return undefined;
    const bytes = this.#window.array;
    return {
      length: readU32(bytes, from + HEADER_LENGTH_OFFSET),
      crc: readU32(bytes, from + HEADER_CRC_OFFSET),
    };
  }

  /** Classifies the bytes at `lsn` without moving the reader. */
  peek(lsn: number, copy: boolean): ReadResult {
    // Decoded in place, with no object per header: this runs once per record replayed.
    const left = this.#end - lsn;
    if (left === 0) return { kind: "end", lsn };
    const at = left < HEADER_SIZE ? -1 : this.#headerIndex(lsn);
    if (at < 0) return { kind: "damage", lsn, reason: "partial-header", length: undefined };
    const buffer = this.#window.array;
    const crc = readU32(buffer, at + HEADER_CRC_OFFSET);
    const length = readU32(buffer, at + HEADER_LENGTH_OFFSET);
    if (length > this.#maxRecordSize) {
      return { kind: "damage", lsn, reason: "implausible-length", length };
    }
    if (length > left - HEADER_SIZE) {
      return { kind: "damage", lsn, reason: "partial-record", length };
    }
    if (!copy && length > READ_CHUNK_SIZE) {
      // Checked in pieces through the window: a large record costs no allocation unless the
      // caller wants its payload.
      if (this.#streamedCrc(lsn + HEADER_SIZE, length) !== crc) {
        return { kind: "damage", lsn, reason: "crc-mismatch", length };
      }
      return { kind: "record", lsn, length, data: undefined };
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

  /** Where the 8 header bytes at `lsn` lie in the window, or -1 when the source ends first. */
  #headerIndex(lsn: number): number {
    const from = this.#window.indexOf(lsn, HEADER_SIZE);
    if (from >= 0) return from;
    return this.#bytes(lsn, HEADER_SIZE).length < HEADER_SIZE ? -1 : lsn - this.#window.start;
  }

  /** The frame checksum of the `length` payload bytes at `offset`, read chunk by chunk. */
  #streamedCrc(offset: number, length: number): number {
    let crc = 0;
    for (let done = 0; done < length;) {
      const chunk = this.#bytes(offset + done, Math.min(READ_CHUNK_SIZE, length - done));
      if (chunk.length === 0) break;
      crc = done === 0 ? frameChecksum(length, chunk) : crc32c(chunk, crc);
      done += chunk.length;
    }
    return crc;
  }

  /**
   * Finds the first intact record at or after `from` and returns its LSN, or `undefined` when
   * there is none before the end. Used after damage, to tell what follows it.
   *
   * The search's checksums cost about one pass over the bytes, whatever `maxRecordSize` is:
   * - runs of zero bytes are skipped at scanning speed: a header is never eight zero bytes (the
   *   CRC32C of an empty record's zero length is not zero), so no record can start more than
   *   seven bytes before the next non-zero byte;
   * - an offset is checksummed only when its frame fits before the end and is followed by the
   *   end, by zeros, or by another frame that fits, so the random lengths that damaged bytes
   *   decode to rarely cost a checksum;
   * - the headers that follow candidate frames are read a batch at a time, in the order of their
   *   offsets (see {@linkcode CandidateBatch}), not with a read call each; the batches grow from
   *   one candidate, end at the first candidate that may be the record whose end the window
   *   holds, and span at most {@linkcode FIND_BATCH_SPAN_MAX} bytes: a record whose end lies
   *   past the window is a candidate like any other, and the search may collect candidates up
   *   to that span past it (and read the headers at their ends) before it returns it;
   * - a checksum reads through the window and allocates nothing.
   */
  findNext(from: number): number | undefined {
    const batch = this.#batch ??= new CandidateBatch(this.#source, this.#end, this.#maxRecordSize);
    batch.clear(1);
    for (let lsn = this.#nextFitting(from); lsn >= 0; lsn = this.#nextFitting(lsn + 1)) {
      // A batch ends where it would span too much: the search never looks far past its answer.
      if (batch.count > 0 && lsn - batch.lsnAt(0) > FIND_BATCH_SPAN_MAX) {
        const found = this.#settleOrGrow(batch);
        if (found !== undefined) return found;
      }
      if (!this.#consider(lsn, batch)) continue;
      const found = this.#settleOrGrow(batch);
      if (found !== undefined) return found;
    }
    return this.#settle(batch);
  }

  /** {@linkcode RecordReader.#settle}, then, when nothing was found, empties `batch` for a larger one. */
  #settleOrGrow(batch: CandidateBatch): number | undefined {
    const found = this.#settle(batch);
    if (found === undefined) batch.clear(Math.min(batch.limit * FIND_BATCH_GROWTH, FIND_BATCH_MAX));
    return found;
  }

  /**
   * The first offset at or after `from` whose header gives a length that fits (at most
   * `maxRecordSize`, and before the end), or -1: the loop that runs at every offset of a damaged
   * region, apart from what a candidate costs.
   */
  #nextFitting(from: number): number {
    for (let lsn = from; lsn + HEADER_SIZE <= this.#end; lsn++) {
      // Decoded in place, so nothing allocates.
      let at = this.#windowIndex(lsn, HEADER_SIZE);
      let buffer = this.#window.array;
      if (readU32(buffer, at) === 0 && readU32(buffer, at + 4) === 0) {
        const nonZero = this.#nextNonZero(lsn, this.#end);
        if (nonZero === undefined) return -1;
        lsn = Math.max(lsn, nonZero - HEADER_SIZE + 1);
        if (lsn + HEADER_SIZE > this.#end) return -1;
        at = this.#windowIndex(lsn, HEADER_SIZE);
        buffer = this.#window.array;
      }
      const length = readU32(buffer, at + HEADER_LENGTH_OFFSET);
      if (length <= this.#maxRecordSize && length <= this.#end - lsn - HEADER_SIZE) return lsn;
    }
    return -1;
  }

  /**
   * Reads the far ends of `batch`'s candidates and returns the first that checks out, in order:
   * the record that follows the damage, if the batch holds it.
   */
  #settle(batch: CandidateBatch): number | undefined {
    batch.resolve();
    for (let i = 0; i < batch.count; i++) {
      const state = batch.stateAt(i);
      if (state === FarState.Intact) return batch.lsnAt(i);
      if (state !== FarState.Plausible) continue;
      if (this.#intactAt(batch.lsnAt(i), batch.crcAt(i), batch.lengthAt(i))) return batch.lsnAt(i);
    }
    return undefined;
  }

  /**
   * Adds the frame at `lsn` (its header in the window: {@linkcode RecordReader.findNext} just
   * read it) to `batch`, unless what the window holds at its end rules it out or its checksum,
   * checked now, does; returns whether the batch is done. The batch holds candidates whose ends
   * are unread, then at most one that may be the record: one checked whole, or a long one that
   * must wait for those before it (range checksums see candidates in order), with which the
   * batch ends. A candidate whose end the window does not hold is added unread, even when it is
   * the record: the batch then goes on, up to its limit or span.
   */
  #consider(lsn: number, batch: CandidateBatch): boolean {
    const at = this.#windowIndex(lsn, HEADER_SIZE);
    const buffer = this.#window.array;
    const length = readU32(buffer, at + HEADER_LENGTH_OFFSET);
    const crc = readU32(buffer, at + HEADER_CRC_OFFSET);
    const state = this.#farState(lsn + frameSize(length));
    if (state === FarState.Implausible) return false;
    if (state === FarState.Unread) {
      batch.add(lsn, length, crc, state);
      return batch.full;
    }
    if (batch.count > 0 && length > 2 * CRC_CHECKPOINT_SPACING) {
      batch.add(lsn, length, crc, state);
      return true;
    }
    // Checked now: no candidate before it is left undecided, or it is short (checked from the
    // window, not from range checksums). One that does not check out is dropped.
    if (!this.#intactAt(lsn, crc, length)) return false;
    batch.add(lsn, length, crc, FarState.Intact);
    return true;
  }

  /**
   * What can be told of the bytes at `far`, where a candidate frame would end, without a read:
   * the end, or the header the window holds there; else {@linkcode FarState.Unread}.
   */
  #farState(far: number): FarState {
    if (far + HEADER_SIZE > this.#end) return FarState.Plausible;
    const from = this.#window.indexOf(far, HEADER_SIZE);
    if (from < 0) return FarState.Unread;
    return plausibleHeader(this.#window.array, from, far, this.#maxRecordSize, this.#end)
      ? FarState.Plausible
      : FarState.Implausible;
  }

  /** Where `[offset, offset + size)` lies in the window, loading it there first if needed. */
  #windowIndex(offset: number, size: number): number {
    const from = this.#window.indexOf(offset, size);
    if (from >= 0) return from;
    const bytes = this.#bytes(offset, size);
    assert(bytes.length === size, "the window holds what lies before the end");
    return offset - this.#window.start;
  }

  /**
   * Whether the frame at `lsn` checks out. A long one is checked from range checksums, so the
   * search costs about one pass over the bytes however long the lengths it meets.
   */
  #intactAt(lsn: number, crc: number, length: number): boolean {
    if (length <= 2 * CRC_CHECKPOINT_SPACING) {
      const from = this.#window.indexOf(lsn + HEADER_SIZE, length);
      if (from >= 0) {
        return frameChecksumIn(length, this.#window.array, from, from + length) === crc;
      }
      return this.peek(lsn, false).kind === "record";
    }
    if (this.#ranges === undefined || lsn < this.#ranges.start) {
      this.#ranges = new RangeChecksums(this.#source, lsn, this.#end, this.#rawCrc);
    }
    return this.#ranges.frameChecksum(lsn, length) === crc;
  }

  /** A copy of up to `size` bytes at `offset` (fewer past the end). */
  copyAt(offset: number, size: number): Uint8Array {
    assert(offset >= 0 && offset <= this.#end, "copy offset is inside the reader");
    return this.#bytes(offset, Math.min(size, this.#end - offset)).slice();
  }

  /** Whether `[from, to)` holds at least `length` zero bytes in a row. */
  hasZeroRun(from: number, to: number, length: number): boolean {
    assert(from >= 0 && from <= to && to <= this.#end, "zero run range is inside the reader");
    let run = 0;
    for (let at = from; at < to;) {
      const chunk = this.#bytes(at, Math.min(READ_CHUNK_SIZE, to - at));
      if (chunk.length === 0) return false;
      for (let i = 0; i < chunk.length; i++) {
        run = chunk[i] === 0 ? run + 1 : 0;
        if (run >= length) return true;
      }
      at += chunk.length;
    }
    return false;
  }

  /** Whether every byte of `[from, to)` is zero. */
  isZero(from: number, to: number): boolean {
    assert(from >= 0 && from <= to && to <= this.#end, "zero check range is inside the reader");
    const nonZero = this.#nextNonZero(from, to);
    return nonZero === undefined;
  }

  /** The first offset in `[from, to)` that holds a non-zero byte, if any. */
  #nextNonZero(from: number, to: number): number | undefined {
    for (let at = from; at < to;) {
      // Whatever the window already holds from `at` on: the search calls this at every offset,
      // and asking for a whole chunk each time would read the source again at every offset.
      const held = this.#window.indexOf(at, 1) >= 0 ? this.#window.end - at : READ_CHUNK_SIZE;
      const chunk = this.#bytes(at, Math.min(held, to - at));
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
    const from = this.#window.indexOf(offset, size);
    if (from >= 0) return this.#window.array.subarray(from, from + size);
    if (size > READ_CHUNK_SIZE) {
      // A payload larger than a chunk gets its own array; its size was checked against both
      // maxRecordSize and the end of the source before we got here.
      const big = new Uint8Array(size);
      return big.subarray(0, this.#source.readAt(offset, big));
    }
    const got = this.#window.load(
      this.#source,
      offset,
      Math.min(READ_CHUNK_SIZE, this.#end - offset),
    );
    return this.#window.array.subarray(0, Math.min(got, size));
  }
}
