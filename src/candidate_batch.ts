// Copyright 2026 the wal-db authors. MIT license.
// The frames the search after damage could start at, a batch at a time, and whether the bytes at
// each one's end could follow a record: the headers there, read in few calls. Pure: no `Deno.*`.

import { assert } from "./assert.ts";
import {
  FAR_READ_GAP_MAX,
  HEADER_CRC_OFFSET,
  HEADER_LENGTH_OFFSET,
  HEADER_SIZE,
  READ_CHUNK_SIZE,
} from "./constants.ts";
import type { ByteSource } from "./read_window.ts";
import { readU32 } from "./record.ts";

/** What is known of a candidate's end so far. */
export const FarState = {
  /** Its end's header is not read yet: {@linkcode CandidateBatch.resolve} reads it. */
  Unread: 0,
  /** Its end is the source's end, zeros, or a frame that fits: its checksum decides. */
  Plausible: 1,
  /** Its end holds a header no record can be followed by: not a record. */
  Implausible: 2,
  /** Already checked whole: an intact record. */
  Intact: 3,
} as const;

/** One of the {@linkcode FarState} values. */
export type FarState = typeof FarState[keyof typeof FarState];

/**
 * Whether a record could follow one that ends at `far`, from the header `bytes[at, at + 8)` that
 * lies there: zeros (the reserve, or sectors a crash lost), or a frame of at most
 * `maxRecordSize` that ends by `end`. A record followed by a frame running past the end is not
 * one the search finds: it stays inside the damaged range.
 */
export function plausibleHeader(
  bytes: Uint8Array,
  at: number,
  far: number,
  maxRecordSize: number,
  end: number,
): boolean {
  const crc = readU32(bytes, at + HEADER_CRC_OFFSET);
  const length = readU32(bytes, at + HEADER_LENGTH_OFFSET);
  return (crc === 0 && length === 0) ||
    (length <= maxRecordSize && far + HEADER_SIZE + length <= end);
}

/**
 * Candidate frames (their offset, length and stored checksum) in the order the search met them,
 * and what lies at each one's end. A frame can only be a record if what follows it could follow
 * a record: the end of the source, zeros, or a header whose length fits. Damaged bytes decode to
 * random lengths, so the far ends of a batch lie anywhere ahead; reading the 8 bytes at each on
 * its own costs a read call (and a seek) per candidate, 1.6% of the offsets of random garbage
 * when `maxRecordSize` is 64 MiB. {@linkcode CandidateBatch.resolve} reads them in the order of
 * their offsets instead, one call for every run of ends at most {@linkcode FAR_READ_GAP_MAX}
 * apart (up to a chunk): each batch costs at most one pass over the region its ends lie in,
 * whatever their number, and much less than a call per end when they are many. The bytes between
 * ends are the price: a search over damage followed by a long log may read several times more
 * bytes than one read per end did, in far fewer calls.
 */
export class CandidateBatch {
  readonly #source: ByteSource;
  readonly #end: number;
  readonly #maxRecordSize: number;
  // Offsets in plain arrays, not Float64Arrays: a number read from a Float64Array is a boxed
  // double, and one that reached the reader's window (as the LSN found) made V8 store the
  // window's offsets as doubles from then on, which slowed every later scan by ~70%. (Offsets
  // past 2 GiB are doubles anyway, in any array: no worse than before this class.)
  #lsns: number[] = [];
  #fars: number[] = [];
  #lengths = new Uint32Array(0);
  #crcs = new Uint32Array(0);
  #states = new Uint8Array(0);
  #count = 0;
  #limit = 0;
  /** The unread candidates' indexes, sorted by where their ends lie. */
  #order = new Uint32Array(0);
  /** Where a run of ends is read: allocated at the first run of more than one. */
  #span: Uint8Array | undefined;
  readonly #header = new Uint8Array(HEADER_SIZE);

  /** Candidates in `[0, end)` of `source`, whose records are at most `maxRecordSize` long. */
  constructor(source: ByteSource, end: number, maxRecordSize: number) {
    this.#source = source;
    this.#end = end;
    this.#maxRecordSize = maxRecordSize;
  }

  /** Empties the batch; it then takes up to `limit` candidates. */
  clear(limit: number): void {
    assert(Number.isInteger(limit) && limit > 0, "a batch takes a candidate at least", limit);
    if (limit > this.#lengths.length) {
      this.#lengths = new Uint32Array(limit);
      this.#crcs = new Uint32Array(limit);
      this.#states = new Uint8Array(limit);
      this.#order = new Uint32Array(limit);
    }
    this.#count = 0;
    this.#limit = limit;
    this.#lsns.length = 0;
    this.#fars.length = 0;
  }

  /** How many candidates the batch takes, as `clear` last said. */
  get limit(): number {
    return this.#limit;
  }

  /** How many candidates the batch holds. */
  get count(): number {
    return this.#count;
  }

  /** Whether the batch takes no more candidates. */
  get full(): boolean {
    return this.#count === this.#limit;
  }

  /**
   * Adds the frame at `lsn` with a `length`-byte payload and stored checksum `crc`, in the state
   * the caller knows: {@linkcode FarState.Unread} unless it could tell without reading.
   */
  add(lsn: number, length: number, crc: number, state: FarState): void {
    assert(this.#count < this.#limit, "a batch takes no more than its limit");
    assert(this.#count === 0 || lsn > this.#lsns[this.#count - 1]!, "candidates come in order");
    const i = this.#count++;
    this.#lsns.push(lsn);
    this.#lengths[i] = length;
    this.#crcs[i] = crc;
    this.#fars.push(lsn + HEADER_SIZE + length);
    this.#states[i] = state;
  }

  /** The offset of candidate `i`. */
  lsnAt(i: number): number {
    return this.#lsns[i]!;
  }

  /** The payload length candidate `i`'s header gives. */
  lengthAt(i: number): number {
    return this.#lengths[i]!;
  }

  /** The checksum candidate `i`'s header stores. */
  crcAt(i: number): number {
    return this.#crcs[i]!;
  }

  /** What is known of candidate `i`'s end: never {@linkcode FarState.Unread} after `resolve`. */
  stateAt(i: number): FarState {
    return this.#states[i]! as FarState;
  }

  /** Reads the header at the end of every unread candidate and settles each one's state. */
  resolve(): void {
    const unread = this.#sortUnread();
    const fars = this.#fars;
    const order = this.#order;
    for (let first = 0; first < unread;) {
      const start = fars[order[first]!]!;
      let last = first;
      while (last + 1 < unread) {
        const next = fars[order[last + 1]!]!;
        if (next - fars[order[last]!]! > FAR_READ_GAP_MAX) break;
        if (next + HEADER_SIZE - start > READ_CHUNK_SIZE) break;
        last++;
      }
      this.#readRun(order.subarray(first, last + 1), start);
      first = last + 1;
    }
  }

  /** Puts the unread candidates' indexes in `#order`, sorted by their ends; returns how many. */
  #sortUnread(): number {
    let unread = 0;
    for (let i = 0; i < this.#count; i++) {
      if (this.#states[i] !== FarState.Unread) continue;
      // An end with no whole header before the source's end needs no read: the end follows.
      if (this.#fars[i]! + HEADER_SIZE > this.#end) this.#states[i] = FarState.Plausible;
      else this.#order[unread++] = i;
    }
    const fars = this.#fars;
    this.#order.subarray(0, unread).sort((a, b) => fars[a]! - fars[b]!);
    return unread;
  }

  /** Reads the headers of candidates `run` (sorted by their ends, the first at `start`). */
  #readRun(run: Uint32Array, start: number): void {
    const fars = this.#fars;
    const size = fars[run[run.length - 1]!]! + HEADER_SIZE - start;
    const buffer = size === HEADER_SIZE
      ? this.#header
      : (this.#span ??= new Uint8Array(READ_CHUNK_SIZE)).subarray(0, size);
    const got = this.#source.readAt(start, buffer);
    for (let k = 0; k < run.length; k++) {
      const i = run[k]!;
      const at = fars[i]! - start;
      // A source that ends early: what follows is its end, as for a frame that ends there.
      const plausible = at + HEADER_SIZE > got ||
        plausibleHeader(buffer, at, fars[i]!, this.#maxRecordSize, this.#end);
      this.#states[i] = plausible ? FarState.Plausible : FarState.Implausible;
    }
  }
}
