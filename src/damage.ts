// Copyright 2026 the wal-db authors. MIT license.
// What the bytes after the intact prefix of a log are: zeros reserved ahead of the end, a write
// that a crash cut short, or damage; and which intact records follow them. Pure: no `Deno.*`;
// reads only through a `RecordReader` and a map of the medium's sectors.

import { assert } from "./assert.ts";
import { HEADER_SIZE, SECTOR_SIZE, TORN_ZERO_RUN_MIN } from "./constants.ts";
import type { DamageReason, HeaderLookup, ReadResult, RecordReader } from "./reader.ts";
import { frameSize } from "./record.ts";
import type { RecordRun } from "./record_run.ts";

/** Where the disk sector holding a byte ends, and whether a file holds that byte at all. */
export interface SectorInfo {
  /** The LSN one past the sector's last byte. */
  readonly end: number;
  /**
   * True when no file backs the byte (a segment file that is missing): the zeros read there
   * are the store's, not the disk's, so they say nothing about a crash.
   */
  readonly missing: boolean;
}

/** Maps an LSN to its sector; stores whose files start at LSN 0 use {@linkcode fileSectors}. */
export type SectorMap = (lsn: number) => SectorInfo;

/** The sectors of a log kept in one file from LSN 0: every 512 bytes, all backed by the file. */
export function fileSectors(lsn: number): SectorInfo {
  return { end: lsn - (lsn % SECTOR_SIZE) + SECTOR_SIZE, missing: false };
}

/**
 * What the bytes from the first non-record to the end are:
 * - `"reserve"`: nothing but zeros, as preallocation leaves ahead of the end (or a file system
 *   that extended the file before the data landed): no record was ever there;
 * - `"torn"`: the frame a crash in the middle of an append leaves: it runs past the end, or one
 *   of its sectors is zero from the frame's first byte in it to the sector's end (the sector
 *   never reached the disk, or an older write of it did);
 * - `"damage"`: anything else, which no crash leaves: a flipped bit, garbage, a lost segment.
 */
export type TailKind = "reserve" | "torn" | "damage";

/** The first non-record and what it is. */
export interface Stop {
  readonly lsn: number;
  readonly reason: DamageReason;
  readonly kind: TailKind;
  /** Where the frame at `lsn` ends by its header, or the header's end when it has no length. */
  readonly frameEnd: number;
  /** The first intact record after `lsn`, if any: found once, and reused by `walkAfter`. */
  readonly next: number | undefined;
}

/**
 * Classifies the damage the reader found at `lsn`; `end` is where the store ends. A crash leaves
 * a torn frame only at the end of what landed: a frame cut short by the end of the file counts
 * only when no intact record starts after it, and a torn sector counts only before the first
 * intact record after it (a length field that bit rot enlarged claims bytes that are not its
 * frame's, the writer's reserve among them).
 */
export function classify(reader: RecordReader, sectors: SectorMap, lsn: number, end: number): Stop {
  const found = reader.peek(lsn, false);
  assert(found.kind === "damage", "classify() is called where the reader found damage");
  const { reason, length } = found;
  // An implausible length says nothing of the frame's extent: only its header is known.
  const frameEnd = length === undefined || reason === "implausible-length"
    ? lsn + Math.min(HEADER_SIZE, end - lsn)
    : lsn + frameSize(length);
  if (reader.isZero(lsn, end)) return { lsn, reason, kind: "reserve", frameEnd, next: undefined };
  const next = reader.findNext(lsn + 1);
  const torn = (reason === "partial-header" || reason === "partial-record")
    ? next === undefined
    : hasTornSector(reader, sectors, lsn, Math.min(frameEnd, next ?? end), end) === "torn" ||
      tornByZeros(reader, lsn, frameEnd, end, next);
  return { lsn, reason, kind: torn ? "torn" : "damage", frameEnd, next };
}

/**
 * `"torn"` when a sector of `[lsn, frameEnd)` is zero from its first byte in the frame to the
 * sector's end (or the store's end). Only whole sectors vanish in a crash, so a zero run that
 * stops short of a sector's end is the record's own bytes, not a lost write.
 */
function hasTornSector(
  reader: RecordReader,
  sectors: SectorMap,
  lsn: number,
  frameEnd: number,
  end: number,
): TailKind {
  for (let at = lsn; at < Math.min(frameEnd, end);) {
    const sector = sectors(at);
    const to = Math.min(sector.end, end);
    if (!sector.missing && reader.isZero(at, to)) return "torn";
    at = sector.end;
  }
  return "damage";
}

/**
 * Whether bytes with no intact record anywhere could be a log's first appends, all cut short
 * by a crash: from `stop` on, frames that each run past a sector-aligned end or hold a torn
 * sector, chained by their lengths, until the end or zeros to the end. A sector of zeros where
 * a header should be ends the check with a yes: that header never reached the disk, so where
 * the frames after it lie cannot be known, and such bytes are kept rather than refused. A file
 * that ends inside a frame must end at a sector's end (a crash keeps whole sectors): a file of
 * a few bytes is never a log's. Nor is a length above `maxRecordSize`.
 */
export function couldBeFirstAppends(
  reader: RecordReader,
  sectors: SectorMap,
  stop: Stop,
  end: number,
): boolean {
  if (stop.kind !== "torn") return false;
  for (let at = stop.lsn; at < end;) {
    if (reader.isZero(at, Math.min(sectors(at).end, end))) return true;
    const found = reader.peek(at, false);
    if (found.kind === "record") {
      at += frameSize(found.length);
      continue;
    }
    if (found.kind === "end") return true;
    if (found.reason === "implausible-length") return false;
    // A crash keeps whole sectors: a file that ends inside a frame ends at a sector's end.
    if (found.reason === "partial-record" || found.reason === "partial-header") {
      return sectors(end - 1).end === end;
    }
    const frameEnd = at + frameSize(found.length!);
    const torn = hasTornSector(reader, sectors, at, frameEnd, end) === "torn" ||
      reader.hasZeroRun(at, Math.min(frameEnd, end), TORN_ZERO_RUN_MIN);
    if (!torn) return false;
    at = frameEnd;
  }
  return true;
}

/**
 * Damage that the sector rule cannot place can still be bytes that never landed, when a write
 * tore at finer than a sector (a file system that keeps only some write calls, or parts of one,
 * as LazyFS's torn-seq and torn-op faults do). Unwritten bytes read as the zeros that were there
 * before, so three more shapes are torn writes: a frame whose 8 header bytes are all zero (its
 * write never landed; records after it landed out of order); a frame whose last
 * `TORN_ZERO_RUN_MIN` bytes are zero with an intact record right after it (its end never
 * landed, the next append did); and, with nothing intact after it, a damaged tail holding
 * `TORN_ZERO_RUN_MIN` zeros in a row (parts of the last append lost). Intact records after a
 * torn write are copied aside before the cut, so none of these rules can destroy one.
 */
function tornByZeros(
  reader: RecordReader,
  lsn: number,
  frameEnd: number,
  end: number,
  next: number | undefined,
): boolean {
  if (reader.isZero(lsn, Math.min(lsn + HEADER_SIZE, end))) return true;
  if (next === undefined) return reader.hasZeroRun(lsn, end, TORN_ZERO_RUN_MIN);
  // The frame's last bytes never landed, and the next append did (a write split over two
  // segment files, or two write calls of which the first was lost).
  const tail = frameEnd - TORN_ZERO_RUN_MIN;
  return next === frameEnd && tail >= lsn + HEADER_SIZE && reader.isZero(tail, frameEnd);
}

/**
 * Signatures (offset, bytes) of file formats that recovery must never take for a log whose first
 * appends a crash cut short. Four bytes or more each, so a torn first append, whose first four
 * bytes are a checksum, matches one only by a 1 in 2^32 chance per entry.
 */
const FOREIGN_SIGNATURES: readonly { name: string; at: number; bytes: readonly number[] }[] = [
  { name: "an ELF executable", at: 0, bytes: [0x7f, 0x45, 0x4c, 0x46] },
  { name: "a Mach-O executable", at: 0, bytes: [0xfe, 0xed, 0xfa, 0xce] },
  { name: "a Mach-O executable", at: 0, bytes: [0xfe, 0xed, 0xfa, 0xcf] },
  { name: "a Mach-O executable", at: 0, bytes: [0xce, 0xfa, 0xed, 0xfe] },
  { name: "a Mach-O executable", at: 0, bytes: [0xcf, 0xfa, 0xed, 0xfe] },
  { name: "a Mach-O universal binary", at: 0, bytes: [0xca, 0xfe, 0xba, 0xbe] },
  { name: "a WebAssembly module", at: 0, bytes: [0x00, 0x61, 0x73, 0x6d] },
  { name: "a zip archive", at: 0, bytes: [0x50, 0x4b, 0x03, 0x04] },
  { name: "an empty zip archive", at: 0, bytes: [0x50, 0x4b, 0x05, 0x06] },
  { name: "a gzip file", at: 0, bytes: [0x1f, 0x8b, 0x08, 0x00] },
  { name: "a tar archive", at: 257, bytes: [0x75, 0x73, 0x74, 0x61, 0x72] },
  { name: "a 7-Zip archive", at: 0, bytes: [0x37, 0x7a, 0xbc, 0xaf] },
  { name: "an xz file", at: 0, bytes: [0xfd, 0x37, 0x7a, 0x58] },
  { name: "a zstd file", at: 0, bytes: [0x28, 0xb5, 0x2f, 0xfd] },
  { name: "a PNG image", at: 0, bytes: [0x89, 0x50, 0x4e, 0x47] },
  { name: "a GIF image", at: 0, bytes: [0x47, 0x49, 0x46, 0x38] },
  { name: "a JPEG image", at: 0, bytes: [0xff, 0xd8, 0xff, 0xe0] },
  { name: "a JPEG image", at: 0, bytes: [0xff, 0xd8, 0xff, 0xe1] },
  { name: "a PDF document", at: 0, bytes: [0x25, 0x50, 0x44, 0x46] },
  { name: "a RIFF file (WAV, AVI, WebP)", at: 0, bytes: [0x52, 0x49, 0x46, 0x46] },
  { name: "an Ogg stream", at: 0, bytes: [0x4f, 0x67, 0x67, 0x53] },
  { name: "a FLAC file", at: 0, bytes: [0x66, 0x4c, 0x61, 0x43] },
  { name: "a Matroska or WebM file", at: 0, bytes: [0x1a, 0x45, 0xdf, 0xa3] },
  { name: "a SQLite database", at: 0, bytes: [0x53, 0x51, 0x4c, 0x69, 0x74, 0x65, 0x20] },
  { name: "a wal-db segment-size file", at: 0, bytes: [0x57, 0x53, 0x45, 0x47] },
];

/** The format whose signature the bytes at `head` carry, if any (see FOREIGN_SIGNATURES). */
export function foreignFormat(reader: RecordReader, head: number, end: number): string | undefined {
  const bytes = reader.copyAt(head, Math.min(end - head, 512));
  return FOREIGN_SIGNATURES.find(({ at, bytes: signature }) =>
    at + signature.length <= bytes.length && signature.every((b, i) => bytes[at + i] === b)
  )?.name ?? (isUtf16Text(bytes) ? "UTF-16 text" : undefined);
}

/**
 * True when the first 8 bytes (after a byte-order mark, if any) are 4 characters of UTF-16 text
 * in either byte order: a text character and a zero byte, alternating. Its bytes 4..7 read as a
 * length of a few MB, which runs past a small file's end like a first append cut short; no
 * checksum and length of a real frame look like this but by a chance of about 1 in 10^11.
 */
function isUtf16Text(bytes: Uint8Array): boolean {
  const start = (bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff)
    ? 2
    : 0;
  const text = bytes.subarray(start, start + UTF16_TEXT_PROBE);
  if (text.length < UTF16_TEXT_PROBE) return false;
  const zeroFirst = text[0] === 0;
  return text.every((b, i) => (i % 2 === 0) === zeroFirst ? b === 0 : isTextByte(b));
}

/** Bytes of text the UTF-16 probe looks at: four characters. */
const UTF16_TEXT_PROBE = 8;

/** A printable ASCII character, a tab or a line break. */
function isTextByte(b: number): boolean {
  return (b >= 0x20 && b <= 0x7e) || b === 0x09 || b === 0x0a || b === 0x0d;
}

/** What a walk over the bytes after damage found. */
export interface Followers {
  /** Intact records found after the damage. */
  count: number;
  /** Their bytes, headers included. */
  size: number;
  /** Where the last of them ends (the damage's LSN when there is none). */
  lastEnd: number;
}

/** Who hears of intact records: one by one, or (when `onRun` is given) a run at a time. */
export interface IntactVisitor {
  /** Each intact record, with the reader, which can tell its header without a read. */
  onRecord?: ((lsn: number, headers?: HeaderLookup) => void) | undefined;
  /** Instead of `onRecord`, a run of them the frame scanner vouched for; valid for the call. */
  onRun?: ((run: RecordRun, headers: HeaderLookup) => void) | undefined;
}

/**
 * Reads intact records from the reader's position until damage or the end, telling `visit` of
 * each (the runs the scanner vouched for come as runs: no result object or call per record).
 * Returns how many there were, their bytes, where the last ends (the start position when there
 * was none) and what stopped the read; the reader stays at it.
 */
export function readIntact(reader: RecordReader, visit: IntactVisitor): Followers & {
  stop: Exclude<ReadResult, { kind: "record" }>;
} {
  const { onRecord, onRun } = visit;
  const found = { count: 0, size: 0, lastEnd: reader.position };
  for (;;) {
    const run = reader.skipVouchedRun();
    if (run !== undefined) {
      if (onRun !== undefined) onRun(run, reader);
      else if (onRecord !== undefined) {
        for (let index = 0; index < run.count; index++) onRecord(run.lsnAt(index), reader);
      }
      found.count += run.count;
      found.size += run.end - run.lsnAt(0);
      found.lastEnd = run.end;
      continue;
    }
    const result = reader.next(false);
    if (result.kind !== "record") return { ...found, stop: result };
    onRecord?.(result.lsn, reader);
    found.count++;
    found.size += frameSize(result.length);
    found.lastEnd = result.lsn + frameSize(result.length);
  }
}

/** Called for each damaged range `[from, to)` a walk passes; `to` starts an intact record. */
export type RangeVisitor = (from: number, to: number) => boolean;

/**
 * Walks from the damage at `lsn` to the end: finds the next intact record, reads the intact
 * records from there (see {@linkcode readIntact}), and so on, in one pass. `onRange` sees each
 * damaged range that intact records follow and may stop the walk there (return `false`); `visit`
 * hears of every intact record after it. Returns the counts and where the last damaged range
 * (the one with nothing intact after it) starts, or `undefined` when the walk ended on an intact
 * record or was stopped.
 */
export function walkAfter(
  reader: RecordReader,
  stop: Stop,
  onRange: RangeVisitor,
  visit: IntactVisitor = {},
): Followers & { last: number | undefined; stoppedAt: number | undefined } {
  const found = { count: 0, size: 0, lastEnd: stop.lsn };
  for (let at = stop.lsn;;) {
    // The first search after the stop was made when it was classified.
    const next = at === stop.lsn ? stop.next : reader.findNext(at + 1);
    if (next === undefined) return { ...found, last: at, stoppedAt: undefined };
    if (!onRange(at, next)) return { ...found, last: undefined, stoppedAt: at };
    reader.seek(next);
    const read = readIntact(reader, visit);
    assert(read.count > 0, "a walk resumes at the intact record the search found: LSN", next);
    found.count += read.count;
    found.size += read.size;
    found.lastEnd = read.lastEnd;
    if (read.stop.kind === "end") return { ...found, last: undefined, stoppedAt: undefined };
    at = reader.position;
  }
}
