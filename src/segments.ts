// Copyright 2026 the wal-db authors. MIT license.
// The segmented layout's names and numbers: segment file names, the bytes of the `head` and
// `segment-size` files, and which segment sizes the files on disk allow. Pure: no I/O and no `Deno.*`.

import { crc32c } from "./crc32c.ts";
import {
  HEAD_FILE_SIZE,
  LOG_SIZE_LIMIT,
  SEGMENT_NAME_DIGITS,
  SEGMENT_NAME_SUFFIX,
  SEGMENT_SIZE_FILE_MAGIC,
  SEGMENT_SIZE_FILE_SIZE,
  SEGMENT_SIZE_FILE_VERSION,
} from "./constants.ts";

const SEGMENT_NAME = new RegExp(`^[0-9]{${SEGMENT_NAME_DIGITS}}\\${SEGMENT_NAME_SUFFIX}$`);

/** The file name of segment `index`: 20 decimal digits, zero padded, then `.wal`. */
export function segmentName(index: number): string {
  return String(index).padStart(SEGMENT_NAME_DIGITS, "0") + SEGMENT_NAME_SUFFIX;
}

/**
 * The index a segment file name stands for, or `undefined` for any other name (which the
 * layout ignores). Indices beyond what an LSN can address are not segments of ours either.
 */
export function parseSegmentName(name: string): number | undefined {
  if (!SEGMENT_NAME.test(name)) return undefined;
  const index = Number(name.slice(0, SEGMENT_NAME_DIGITS));
  return Number.isSafeInteger(index) ? index : undefined;
}

/** Checks a segment size: a positive integer. */
export function checkSegmentSize(segmentSize: unknown): number {
  if (
    typeof segmentSize !== "number" || !Number.isSafeInteger(segmentSize) || segmentSize <= 0 ||
    segmentSize > LOG_SIZE_LIMIT
  ) {
    throw new RangeError(
      `Cannot open segmented log: segmentSize must be a positive integer, got ${
        String(segmentSize)
      }`,
    );
  }
  return segmentSize;
}

/** The 12 bytes of a `head` file: the head LSN (u64 LE), then the CRC32C of those 8 bytes. */
export function encodeHead(head: number): Uint8Array {
  const bytes = new Uint8Array(HEAD_FILE_SIZE);
  const view = new DataView(bytes.buffer);
  view.setBigUint64(0, BigInt(head), true);
  view.setUint32(8, crc32c(bytes.subarray(0, 8)), true);
  return bytes;
}

/** The head a `head` file holds, or `undefined` when it is short, long or fails its CRC. */
export function decodeHead(bytes: Uint8Array): number | undefined {
  if (bytes.length !== HEAD_FILE_SIZE) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(8, true) !== crc32c(bytes.subarray(0, 8))) return undefined;
  const head = view.getBigUint64(0, true);
  return head <= BigInt(LOG_SIZE_LIMIT) ? Number(head) : undefined;
}

/** What a segment-size file says: the size it records, or why it cannot be trusted. */
export type SegmentSizeRecord = { readonly segmentSize: number } | { readonly damage: string };

const MAGIC = new TextEncoder().encode(SEGMENT_SIZE_FILE_MAGIC);
const SIZE_FILE_CRC_OFFSET = SEGMENT_SIZE_FILE_SIZE - 4;

/**
 * The 20 bytes of a `segment-size` file: `WSEG`, the version (u32 LE), the segment size
 * (u64 LE), then the CRC32C of those 16 bytes (u32 LE).
 */
export function encodeSegmentSize(segmentSize: number): Uint8Array {
  const bytes = new Uint8Array(SEGMENT_SIZE_FILE_SIZE);
  const view = new DataView(bytes.buffer);
  bytes.set(MAGIC, 0);
  view.setUint32(4, SEGMENT_SIZE_FILE_VERSION, true);
  view.setBigUint64(8, BigInt(segmentSize), true);
  view.setUint32(SIZE_FILE_CRC_OFFSET, crc32c(bytes.subarray(0, SIZE_FILE_CRC_OFFSET)), true);
  return bytes;
}

/**
 * Reads a `segment-size` file. Anything but the exact bytes {@linkcode encodeSegmentSize}
 * writes is damage, with the reason in words: a file that cannot be trusted must not be
 * mistaken for "no size recorded", or a damaged file would switch the check off.
 */
export function decodeSegmentSize(bytes: Uint8Array): SegmentSizeRecord {
  if (bytes.length !== SEGMENT_SIZE_FILE_SIZE) {
    return { damage: `it is ${bytes.length} bytes, a valid one is ${SEGMENT_SIZE_FILE_SIZE}` };
  }
  if (!MAGIC.every((byte, i) => bytes[i] === byte)) {
    return { damage: `it does not start with "${SEGMENT_SIZE_FILE_MAGIC}"` };
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const crc = crc32c(bytes.subarray(0, SIZE_FILE_CRC_OFFSET));
  if (view.getUint32(SIZE_FILE_CRC_OFFSET, true) !== crc) {
    return { damage: "its CRC does not match" };
  }
  const version = view.getUint32(4, true);
  if (version !== SEGMENT_SIZE_FILE_VERSION) {
    return { damage: `its version is ${version}, this wal-db reads ${SEGMENT_SIZE_FILE_VERSION}` };
  }
  const size = view.getBigUint64(8, true);
  if (size === 0n || size > BigInt(LOG_SIZE_LIMIT)) {
    return { damage: `it records ${size}, which is not a segment size` };
  }
  return { segmentSize: Number(size) };
}

/** One segment file on disk: its index and its size in bytes. */
export interface SegmentExtent {
  /** The segment's index (its name as a number). */
  readonly index: number;
  /** The file's size. */
  readonly size: number;
}

/** Why segment files cannot have been written with a segment size, and what size they imply. */
export interface SegmentSizeMismatch {
  /** What in the files rules the size out, in words. */
  readonly reason: string;
  /**
   * The sizes the files allow, as words that follow "a segment size": `"of 4096"`,
   * `"between 4000 and 4111"` or `"of at least 5000"`.
   */
  readonly implied: string;
  /**
   * False when the clue is one a crash could also leave in a log written with `segmentSize`
   * (short segments, which only count without a recorded size): the files alone cannot tell.
   */
  readonly certain: boolean;
}

/**
 * Checks segment files against `segmentSize`. Returns `undefined` when they fit it, and the
 * reason with the size they imply when they cannot have been written with it.
 *
 * - A segment larger than `segmentSize` rules it out whatever else holds: a writer never puts
 *   more than one segment's bytes in a file, and a crash never lengthens one.
 * - When the size is not `recorded` (no segment-size file: a log of the Rust crate or of an
 *   older wal-db), the files are the only evidence, so two more clues count: every segment
 *   before the last holding the same other number of bytes (with the last no larger), and a
 *   `head` that `segmentSize` cannot place inside the segments while another size can.
 *   With a recorded size these are not clues: a power loss can leave segments before the last
 *   short (their bytes and sizes were not flushed yet), and recovery reads those as holes.
 *
 * @param segments The segment files, in index order.
 * @param head The log's head (0 without a `head` file).
 * @param segmentSize The size the log is being opened with.
 * @param recorded Whether the directory's segment-size file vouches for `segmentSize`.
 */
export function segmentSizeMismatch(
  segments: readonly SegmentExtent[],
  head: number,
  segmentSize: number,
  recorded: boolean,
): SegmentSizeMismatch | undefined {
  const first = segments[0];
  const last = segments.at(-1);
  if (first === undefined || last === undefined) return undefined;
  const largest = segments.reduce((a, b) => b.size > a.size ? b : a);
  if (largest.size > segmentSize) {
    return {
      reason: `segment ${largest.index} holds ${largest.size} bytes, more than ${segmentSize}`,
      implied: impliedText(segments, head) ?? `of at least ${largest.size}`,
      certain: true,
    };
  }
  if (recorded) return undefined;
  const uniform = uniformInnerSize(segments);
  if (uniform !== undefined && uniform !== segmentSize) {
    return {
      reason: `every segment before the last holds ${uniform} bytes, not ${segmentSize}`,
      implied: `of ${uniform}`,
      certain: false,
    };
  }
  const placed = first.index * segmentSize <= head &&
    head <= last.index * segmentSize + last.size;
  const implied = impliedText(segments, head);
  if (head > 0 && !placed && implied !== undefined) {
    return {
      reason: `its head (LSN ${head}) does not lie in segments ${first.index} to ${last.index} ` +
        `when each holds ${segmentSize} bytes`,
      implied,
      certain: false,
    };
  }
  return undefined;
}

/**
 * The size every segment before the last holds, when they all hold the same positive number
 * of bytes and the last holds no more; `undefined` otherwise (one segment, or sizes that differ:
 * holes or damage, which say nothing).
 */
function uniformInnerSize(segments: readonly SegmentExtent[]): number | undefined {
  if (segments.length < 2) return undefined;
  const size = segments[0]!.size;
  if (size === 0 || segments.at(-1)!.size > size) return undefined;
  return segments.slice(1, -1).every((s) => s.size === size) ? size : undefined;
}

/**
 * The segment sizes the files allow, in words that follow "a segment size", or `undefined`
 * when none does. Every file holds
 * at most one segment; the head lies at or after the start of the first segment and at or
 * before the end of the last.
 */
function impliedText(segments: readonly SegmentExtent[], head: number): string | undefined {
  const uniform = uniformInnerSize(segments);
  if (uniform !== undefined) return `of ${uniform}`;
  const first = segments[0]!;
  const last = segments.at(-1)!;
  let low = 1;
  for (const segment of segments) low = Math.max(low, segment.size);
  let high = LOG_SIZE_LIMIT;
  if (head > 0 && last.index > 0) low = Math.max(low, Math.ceil((head - last.size) / last.index));
  if (first.index > 0) high = Math.floor(head / first.index);
  if (low > high) return undefined;
  if (low === high) return `of ${low}`;
  return high === LOG_SIZE_LIMIT ? `of at least ${low}` : `between ${low} and ${high}`;
}

/**
 * The indices of a segmented log's segment files, with the lowest and highest kept up to date,
 * so that finding the last segment does not walk every index (a log may have thousands).
 * Removing the highest or lowest steps over the indices between to the next one present:
 * segments are contiguous but for rare holes, so that walk is short.
 */
export class SegmentSet extends Set<number> {
  #first: number | undefined;
  #last: number | undefined;

  /** A set holding `indices`. */
  static of(indices: Iterable<number>): SegmentSet {
    const set = new SegmentSet();
    for (const index of indices) set.add(index);
    return set;
  }

  /** The lowest index, if any. */
  get first(): number | undefined {
    return this.#first;
  }

  /** The highest index, if any. */
  get last(): number | undefined {
    return this.#last;
  }

  override add(index: number): this {
    super.add(index);
    if (this.#first === undefined || index < this.#first) this.#first = index;
    if (this.#last === undefined || index > this.#last) this.#last = index;
    return this;
  }

  override delete(index: number): boolean {
    if (!super.delete(index)) return false;
    if (this.size === 0) {
      this.#first = this.#last = undefined;
      return true;
    }
    if (index === this.#last) {
      let below = index - 1;
      while (!this.has(below)) below--;
      this.#last = below;
    }
    if (index === this.#first) {
      let above = index + 1;
      while (!this.has(above)) above++;
      this.#first = above;
    }
    return true;
  }

  override clear(): void {
    super.clear();
    this.#first = this.#last = undefined;
  }
}
