// Copyright 2026 the wal-db authors. MIT license.
// The files of a segmented log's directory, read and checked: the segment listing, the `head`
// and `segment-size` files, the checks an open makes of the layout, and atomic replacement of a
// small file. I/O core: talks only to the `WalDirectory` interface, never to `Deno.*`.

import { join } from "node:path";
import {
  HEAD_FILE_NAME,
  SEGMENT_GAP_BYTES_MAX,
  SEGMENT_SIZE_FILE_MAGIC,
  SEGMENT_SIZE_FILE_NAME,
  SEGMENT_SIZE_FILE_SIZE,
  SET_ASIDE_CHUNK_SIZE,
} from "./constants.ts";
import type { WalDirectory } from "./directory.ts";
import { WalError } from "./errors.ts";
import {
  decodeHead,
  decodeSegmentSize,
  parseSegmentName,
  segmentName,
  SegmentSet,
  segmentSizeMismatch,
} from "./segments.ts";

/** What an open finds in a segmented log's directory, after checking it against `segmentSize`. */
export interface DirectoryScan {
  /** Every name in the directory. */
  names: string[];
  /** The indices of the segment files. */
  segments: SegmentSet;
  /** The segment size the `segment-size` file records, if there is one. */
  recorded: number | undefined;
  /** The head the `head` file records (0 without one). */
  head: number;
  /** Where the log ends: the end of its last segment file. */
  size: number;
}

/**
 * Lists and checks the directory: the segment-size and head files, then the segment files
 * against the size and the head; throws `"corruption"` (changing nothing) on any mismatch.
 */
export function scanDirectory(dir: WalDirectory, segmentSize: number): DirectoryScan {
  const names = dir.list();
  const segments = segmentsIn(names);
  const recorded = readSegmentSize(dir, names.includes(SEGMENT_SIZE_FILE_NAME));
  const head = readHead(dir, names.includes(HEAD_FILE_NAME));
  // The size is checked before anything reads the segments with it: with a wrong size every
  // later check (and recovery) would misplace their bytes and take the log for damaged.
  checkSegmentSizes(dir, head, segments, segmentSize, recorded);
  checkLayout(dir.path, head, segments, segmentSize);
  checkGaps(dir.path, head, segments, segmentSize);
  const size = endOf(dir, segments, head, segmentSize);
  if (head > size) {
    throw new WalError(
      "corruption",
      `Cannot open segmented log "${dir.path}": its head (${head}) is past its end ` +
        `(${size}); segments at the end are missing`,
      { lsn: head },
    );
  }
  return { names, segments, recorded, head, size };
}

/** Flushes file `name` through a handle of its own. */
export function flushFile(dir: WalDirectory, name: string): void {
  const file = dir.open(name, false);
  try {
    file.flushSync();
  } finally {
    file.close();
  }
}

/** Cuts segment file `index` to `length` bytes and flushes it, through a handle of its own. */
export function cutSegmentFile(dir: WalDirectory, index: number, length: number): void {
  const file = dir.open(segmentName(index), false);
  try {
    file.truncate(length);
    file.flushSync();
  } finally {
    file.close();
  }
}

/** Where the log ends: the end of its last segment file, or `head` without one. */
export function endOf(
  dir: WalDirectory,
  segments: Set<number>,
  head: number,
  segmentSize: number,
): number {
  const last = lastOf(segments);
  return last === undefined ? head : last * segmentSize + (dir.sizeOf(segmentName(last)) ?? 0);
}

/**
 * Copies `[offset, end)` of the log, read with `read`, to a new `<kind>-<offset>` file in the
 * directory (`.1`, `.2`, … when taken), flushes it and the directory; returns its path.
 */
export function copyAside(
  dir: WalDirectory,
  offset: number,
  end: number,
  kind: "damaged" | "unsynced",
  read: (at: number, buffer: Uint8Array) => number,
): string {
  const base = `${kind}-${offset}`;
  let name = base;
  const names = new Set(dir.list());
  for (let n = 1; names.has(name); n++) name = `${base}.${n}`;
  const copy = dir.open(name, true);
  try {
    const chunk = new Uint8Array(SET_ASIDE_CHUNK_SIZE);
    for (let at = offset; at < end;) {
      const n = read(at, chunk.subarray(0, Math.min(chunk.length, end - at)));
      copy.append(chunk.subarray(0, n));
      at += n;
    }
    copy.flushSync();
  } finally {
    copy.close();
  }
  dir.sync();
  return join(dir.path, name);
}

/** The segment indices among `names`. */
export function segmentsIn(names: readonly string[]): SegmentSet {
  const segments = new SegmentSet();
  for (const name of names) {
    const index = parseSegmentName(name);
    if (index !== undefined) segments.add(index);
  }
  return segments;
}

/** The highest index in `segments`, if any. */
export function lastOf(segments: Set<number>): number | undefined {
  if (segments instanceof SegmentSet) return segments.last;
  let last: number | undefined;
  for (const index of segments) if (last === undefined || index > last) last = index;
  return last;
}

/** The head the `head` file records (0 without one); a damaged one refuses the open. */
export function readHead(dir: WalDirectory, present: boolean): number {
  if (!present) return 0;
  const bytes = readSmallFile(dir, HEAD_FILE_NAME);
  const head = decodeHead(bytes);
  if (head === undefined) {
    throw new WalError(
      "corruption",
      `Cannot open segmented log "${dir.path}": its head file is damaged (${bytes.length} ` +
        `bytes, a valid one is 12 with a matching CRC), so where the log starts is unknown. ` +
        `Nothing was changed; restore the head file or inspect the segments`,
    );
  }
  return head;
}

/** The first bytes of a small file; a longer one is damage, and its first bytes say so. */
export function readSmallFile(dir: WalDirectory, name: string): Uint8Array {
  const file = dir.open(name, false);
  try {
    const bytes = new Uint8Array(Math.min(file.size, 64));
    return bytes.subarray(0, file.readAt(0, bytes));
  } finally {
    file.close();
  }
}

/** The segment size the directory records, or `undefined` when it has no segment-size file. */
export function readSegmentSize(dir: WalDirectory, present: boolean): number | undefined {
  if (!present) return undefined;
  const size = dir.sizeOf(SEGMENT_SIZE_FILE_NAME) ?? 0;
  const record = size === SEGMENT_SIZE_FILE_SIZE
    ? decodeSegmentSize(readSmallFile(dir, SEGMENT_SIZE_FILE_NAME))
    : { damage: `it is ${size} bytes` };
  if ("segmentSize" in record) return record.segmentSize;
  throw new WalError(
    "corruption",
    `Cannot open segmented log "${dir.path}": its ${SEGMENT_SIZE_FILE_NAME} file is damaged ` +
      `(${record.damage}; a valid one is ${SEGMENT_SIZE_FILE_SIZE} bytes, starts with ` +
      `"${SEGMENT_SIZE_FILE_MAGIC}" and has a matching CRC), ` +
      `so the segment size cannot be checked. Nothing was changed; restore the file, or ` +
      `remove it to have the next writable open check the segment files and record the size`,
  );
}

/**
 * Refuses a `segmentSize` other than the one the log was written with, as far as the
 * segment-size file and the segment files tell it; see {@linkcode segmentSizeMismatch}.
 */
export function checkSegmentSizes(
  dir: WalDirectory,
  head: number,
  segments: Set<number>,
  segmentSize: number,
  recorded: number | undefined,
): void {
  const path = dir.path;
  if (recorded !== undefined && recorded !== segmentSize) {
    throw new WalError(
      "corruption",
      `Cannot open segmented log "${path}": wrong segment size: it was written with segment ` +
        `size ${recorded} (recorded in its ${SEGMENT_SIZE_FILE_NAME} file), not ${segmentSize}. ` +
        `Nothing was changed; open it with segmentSize ${recorded}`,
    );
  }
  const extents = [...segments].sort((a, b) => a - b).map((index) => ({
    index,
    size: dir.sizeOf(segmentName(index)) ?? 0,
  }));
  const mismatch = segmentSizeMismatch(extents, head, segmentSize, recorded !== undefined);
  if (mismatch === undefined) return;
  const against = recorded !== undefined
    ? `not the ${segmentSize} its ${SEGMENT_SIZE_FILE_NAME} file records: the file or the ` +
      `segments come from another log. Nothing was changed`
    : `not ${segmentSize}. Nothing was changed; open it with the segment size it was written ` +
      `with` + (mismatch.certain ? "" : `. If that is ${segmentSize} and a crash left segments ` +
        `short, record it in a ${SEGMENT_SIZE_FILE_NAME} file first (docs/RECOVERY.md)`);
  throw new WalError(
    "corruption",
    `Cannot open segmented log "${path}": wrong segment size: ${mismatch.reason}, so the ` +
      `segment files imply a segment size ${mismatch.implied}, ${against}`,
  );
}

/** Refuses a log whose leading segments (up to the head's) are missing. */
export function checkLayout(
  path: string,
  head: number,
  segments: Set<number>,
  segmentSize: number,
): void {
  let first: number | undefined;
  for (const index of segments) if (first === undefined || index < first) first = index;
  const needed = Math.floor(head / segmentSize);
  if (first === undefined ? head > 0 : first > needed) {
    throw new WalError(
      "corruption",
      `Cannot open segmented log "${path}": the log starts at LSN ${head} (segment ${needed}), ` +
        `but ${first === undefined ? "no segment exists" : `the first segment is ${first}`}. ` +
        `Leading segments are missing; nothing was changed. Restore them, or check that ` +
        `segmentSize (${segmentSize}) is the size the log was written with`,
      { lsn: head },
    );
  }
}

/** Refuses a log whose missing segments add up to more than `SEGMENT_GAP_BYTES_MAX`. */
export function checkGaps(
  path: string,
  head: number,
  segments: Set<number>,
  segmentSize: number,
): void {
  const first = Math.floor(head / segmentSize);
  const last = lastOf(segments);
  if (last === undefined) return;
  let present = 0;
  for (const index of segments) if (index >= first) present++;
  const missing = (last - first + 1 - present) * segmentSize;
  if (missing <= SEGMENT_GAP_BYTES_MAX) return;
  throw new WalError(
    "corruption",
    `Cannot open segmented log "${path}": segments ${first} to ${last} span the log, but ` +
      `${missing} bytes of them are missing (more than ${SEGMENT_GAP_BYTES_MAX}). A segment ` +
      `file far past the others is likely stray; nothing was changed. Move it away, restore ` +
      `the missing segments, or check that segmentSize (${segmentSize}) is right`,
    { lsn: head },
  );
}

/**
 * {@linkcode writeAtomically} with the flushes of the file and the directory off the main
 * thread (see `WalDirectory.syncAsync`).
 */
export async function writeAtomicallyAsync(
  dir: WalDirectory,
  temp: string,
  name: string,
  bytes: Uint8Array,
): Promise<void> {
  await writeTempAsync(dir, temp, bytes);
  dir.rename(temp, name);
  await syncDirectoryAsync(dir);
}

/** The first step of {@linkcode writeAtomicallyAsync}: `temp` holds `bytes`, flushed. */
export async function writeTempAsync(
  dir: WalDirectory,
  temp: string,
  bytes: Uint8Array,
): Promise<void> {
  const file = dir.open(temp, true);
  try {
    file.truncate(0);
    file.append(bytes);
    await file.flush();
  } finally {
    file.close();
  }
}

/** Flushes the directory's entries off the main thread when it can, else blocking. */
export function syncDirectoryAsync(dir: WalDirectory): Promise<void> {
  if (dir.syncAsync !== undefined) return dir.syncAsync();
  try {
    dir.sync();
    return Promise.resolve();
  } catch (error) {
    return Promise.reject(error);
  }
}

/** Replaces file `name` with `bytes`: through `temp`, flushed, renamed, directory flushed. */
export function writeAtomically(
  dir: WalDirectory,
  temp: string,
  name: string,
  bytes: Uint8Array,
): void {
  writeTemp(dir, temp, bytes);
  dir.rename(temp, name);
  dir.sync();
}

/** The first step of {@linkcode writeAtomically}: `temp` holds `bytes`, flushed. */
export function writeTemp(dir: WalDirectory, temp: string, bytes: Uint8Array): void {
  const file = dir.open(temp, true);
  try {
    file.truncate(0);
    file.append(bytes);
    file.flushSync();
  } finally {
    file.close();
  }
}

/**
 * Re-reads what a writer in another process may have changed: the head it moved, the segments
 * it removed below the head or after a cut, and the segments it appended. Looks up only the
 * segments around the ends by name, never the whole directory, so a refresh costs in proportion
 * to what changed, not to the number of segments. Segments are created in order (each after the
 * creation of the one before is durable), so the first name missing past the last segment ends
 * the log. Updates `segments`; returns the head and the end.
 */
export function refreshSegments(
  dir: WalDirectory,
  segments: SegmentSet,
  head: number,
  segmentSize: number,
): { head: number; size: number } {
  if (dir.sizeOf(HEAD_FILE_NAME) !== undefined) head = readHead(dir, true);
  // A checkpoint removes whole segments below the head's, lowest first, never the last one.
  const below = Math.floor(head / segmentSize);
  for (let first = segments.first; first !== undefined && first < below;) {
    if (first === segments.last || dir.sizeOf(segmentName(first)) !== undefined) break;
    segments.delete(first);
    first = segments.first;
  }
  // A cut removes segments from the last one down; appends add them after the last.
  let last = segments.last;
  while (last !== undefined && dir.sizeOf(segmentName(last)) === undefined) {
    segments.delete(last);
    last = segments.last;
  }
  for (let next = last === undefined ? below : last + 1;; next++) {
    if (dir.sizeOf(segmentName(next)) === undefined) break;
    segments.add(next);
  }
  return { head, size: endOf(dir, segments, head, segmentSize) };
}
