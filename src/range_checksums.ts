// Copyright 2026 the wal-db authors. MIT license.
// The frame checksum of any byte range of a source at a bounded cost, for the search for intact
// records after damage. Pure: no `Deno.*`; reads only through a `ByteSource`.

import { assert } from "./assert.ts";
import {
  CRC_CHECKPOINT_SPACING,
  HEADER_LENGTH_OFFSET,
  HEADER_SIZE,
  READ_CHUNK_SIZE,
} from "./constants.ts";
import { crc32cRaw, crc32cShift, type RawCrc } from "./crc32c.ts";
import { type ByteSource, ReadWindow } from "./read_window.ts";

// Defined beside the window every reader reads through; re-exported where readers look for it.
export type { ByteSource };

/**
 * Raw CRC32C registers of the prefixes `[start, start + i·spacing)` of a source, computed
 * forward on demand, once. A frame's checksum covers `[lsn + 4, lsn + 8 + length)`: from the
 * registers of its two ends (a checkpoint, then at most `spacing` bytes each) and one shift over
 * the range's length, whatever that length is. Checking every candidate frame after damage
 * directly would cost its length each: quadratic in the damaged region.
 *
 * The registers come from `rawCrc`: {@linkcode crc32cRaw} by default, or the shim's CRC, which a
 * log opened with the shim passes in (see `ResolvedConfig.rawCrc`).
 */
export class RangeChecksums {
  readonly #source: ByteSource;
  readonly #start: number;
  readonly #end: number;
  readonly #rawCrc: RawCrc;
  #checkpoints = new Uint32Array(64);
  #count = 1;
  readonly #scratch = new Uint8Array(CRC_CHECKPOINT_SPACING);
  /** The chunk the checkpoints were last computed from. */
  readonly #window = new ReadWindow(READ_CHUNK_SIZE);
  /** The registers last computed, for a candidate's two ends. */
  readonly #recent = [{ at: -1, register: 0 }, { at: -1, register: 0 }];
  #nextRecent = 0;

  constructor(source: ByteSource, start: number, end: number, rawCrc: RawCrc = crc32cRaw) {
    assert(start >= 0 && start <= end, "range checksums cover a valid range");
    this.#source = source;
    this.#start = start;
    this.#end = end;
    this.#rawCrc = rawCrc;
  }

  /** The first offset covered. */
  get start(): number {
    return this.#start;
  }

  /** The checksum a frame at `lsn` with a `length`-byte payload must carry to be intact. */
  frameChecksum(lsn: number, length: number): number {
    const from = lsn + HEADER_LENGTH_OFFSET;
    const to = lsn + HEADER_SIZE + length;
    assert(from >= this.#start && to <= this.#end, "the frame lies in the covered range");
    // With init ~0 and final ~0: ~(shift(~0 ^ raw(start..from), n) ^ raw(start..to)).
    const head = (this.#registerAt(from) ^ 0xffff_ffff) >>> 0;
    return ~(crc32cShift(head, to - from) ^ this.#registerAt(to)) >>> 0;
  }

  /** The raw register of `[start, at)`, from zero. */
  #registerAt(at: number): number {
    const index = Math.floor((at - this.#start) / CRC_CHECKPOINT_SPACING);
    this.#extendTo(index);
    let base = this.#start + index * CRC_CHECKPOINT_SPACING;
    let register = this.#checkpoints[index]!;
    // Candidates come in order, so each end is usually a few bytes past where the previous
    // candidate's was: start from that when it is closer than the checkpoint.
    const slot = this.#recent.findIndex((r) => r.at >= base && r.at <= at);
    if (slot !== -1) {
      base = this.#recent[slot]!.at;
      register = this.#recent[slot]!.register;
    }
    register = this.#rawCrc(register, this.#bytes(base, at - base));
    this.#recent[this.#nextRecent] = { at, register };
    this.#nextRecent = (this.#nextRecent + 1) % this.#recent.length;
    return register;
  }

  /**
   * `size` bytes at `offset`: from the last chunk read when it holds them (a frame's start is
   * near the previous candidate's), else read on their own (a frame's end may lie anywhere).
   */
  #bytes(offset: number, size: number): Uint8Array {
    const from = this.#window.indexOf(offset, size);
    if (from >= 0) return this.#window.array.subarray(from, from + size);
    const bytes = this.#scratch.subarray(0, size);
    const got = this.#source.readAt(offset, bytes);
    assert(got === size, "a covered range reads whole");
    return bytes;
  }

  /** Computes checkpoints forward, a chunk read at a time, until `index` exists. */
  #extendTo(index: number): void {
    while (this.#count <= index) {
      const at = this.#start + (this.#count - 1) * CRC_CHECKPOINT_SPACING;
      const got = this.#window.load(this.#source, at, Math.min(READ_CHUNK_SIZE, this.#end - at));
      const chunk = this.#window.array;
      let register = this.#checkpoints[this.#count - 1]!;
      const rawCrc = this.#rawCrc;
      let done = 0;
      for (; done + CRC_CHECKPOINT_SPACING <= got; done += CRC_CHECKPOINT_SPACING) {
        register = rawCrc(register, chunk.subarray(done, done + CRC_CHECKPOINT_SPACING));
        this.#push(register);
      }
      assert(done > 0 || this.#count > index, "checkpoints advance");
    }
  }

  #push(register: number): void {
    if (this.#count === this.#checkpoints.length) {
      const grown = new Uint32Array(this.#checkpoints.length * 2);
      grown.set(this.#checkpoints);
      this.#checkpoints = grown;
    }
    this.#checkpoints[this.#count++] = register;
  }
}
