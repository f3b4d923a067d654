// Copyright 2026 the wal-db authors. MIT license.
// The truncations of a segmented log's files, in the order that keeps every crash recoverable:
// a suffix cut (also after a failed flush) and a new head, blocking or with its flushes off the
// main thread. I/O core: talks only to the `WalDirectory` interface, never to `Deno.*`.

import { HEAD_FILE_NAME, HEAD_TEMP_FILE_NAME } from "./constants.ts";
import type { WalDirectory } from "./directory.ts";
import { cutSegmentFile, writeAtomically, writeAtomicallyAsync } from "./segment_files.ts";
import type { SegmentFlushes } from "./segment_flushes.ts";
import type { SegmentHandles } from "./segment_handles.ts";
import { encodeHead, segmentName, type SegmentSet } from "./segments.ts";

/** What the cuts need of the store: its files, and its flushes (which record the size). */
export interface CutParts {
  readonly dir: WalDirectory;
  readonly segments: SegmentSet;
  readonly handles: SegmentHandles;
  readonly flushes: SegmentFlushes;
  readonly segmentSize: number;
  /** The store's blocking flush of everything appended. */
  flushSync(): void;
  /** The store's flush of everything appended, off the main thread. */
  flush(): Promise<void>;
}

/**
 * Cuts the log's files to `size`: the segment the cut falls in is cut and flushed first, then
 * later segments are removed from the last one down, the directory flushed after each. A crash
 * at any point leaves a log that ends at the cut (zeros follow it, which recovery cuts as a torn
 * tail) and no missing segment inside it, which recovery would have to call damage.
 */
export function cutSegments(parts: CutParts, size: number): void {
  const keep = Math.floor(size / parts.segmentSize);
  const file = parts.flushes.writer(keep, parts.segments);
  file.truncate(size - keep * parts.segmentSize);
  parts.flushes.appended(keep);
  parts.flushSync();
  removeAfter(parts, keep);
}

/**
 * {@linkcode cutSegments} with the cut, every flush and every removal off the main thread, in
 * the same order. The segments past the cut leave the log at once; their files are removed one
 * at a time from the last one down, each removal made durable before the next.
 */
export async function cutSegmentsAsync(parts: CutParts, size: number): Promise<void> {
  const keep = Math.floor(size / parts.segmentSize);
  const file = parts.flushes.writer(keep, parts.segments);
  const within = size - keep * parts.segmentSize;
  await (file.truncateAsync?.(within) ?? Promise.resolve(file.truncate(within)));
  parts.flushes.appended(keep);
  await parts.flush();
  const doomed: number[] = [];
  for (let last = parts.segments.last; last !== undefined && last > keep;) {
    forgetSegment(parts, last);
    doomed.push(last);
    last = parts.segments.last;
  }
  for (const index of doomed) {
    const name = segmentName(index);
    await (parts.dir.removeAsync?.(name) ?? Promise.resolve(parts.dir.remove(name)));
    parts.flushes.directoryChanged();
    await parts.flushes.syncDirectoryAsync();
  }
}

/**
 * After a failed flush: cuts the files to `size` and makes that durable through handles opened
 * now (see `WalStore.discardUnflushed`), in the order {@linkcode cutSegments} uses.
 */
export function discardSegments(parts: CutParts, size: number): void {
  const { dir, segments, handles, flushes, segmentSize } = parts;
  const keep = Math.floor(size / segmentSize);
  handles.releaseWritten();
  if (segments.has(keep)) {
    handles.dropReader(keep);
    cutSegmentFile(dir, keep, size - keep * segmentSize);
  }
  for (const index of flushes.segments) {
    if (index < keep && segments.has(index)) handles.withFile(index, (f) => f.flushSync());
  }
  flushes.forgetAll();
  removeAfter(parts, keep);
  // A segment created since the last directory flush may be the one that failed.
  flushes.directoryChanged();
  flushes.syncDirectory();
}

/**
 * Moves the head: everything appended is flushed (the head must never point past the durable
 * end), the `head` file is replaced atomically and made durable, `moved` is called (the store
 * and the log move their head at that moment), and only then are whole segments below the
 * head's segment removed (never the last one).
 */
export function moveHead(parts: CutParts, head: number, moved: () => void): void {
  parts.flushSync();
  writeAtomically(parts.dir, HEAD_TEMP_FILE_NAME, HEAD_FILE_NAME, encodeHead(head));
  moved();
  if (removeBelow(parts, head)) parts.flushes.syncDirectory();
}

/**
 * {@linkcode moveHead} with every flush (the head file's, the directory's) on a worker thread:
 * the event loop goes on serving meanwhile. The steps and their order are the same, but for the
 * first: the caller has made the log durable up to `head` (see `WalStore.truncateBeforeAsync`).
 * `moved` runs in the same turn as the removals that follow it.
 */
export async function moveHeadAsync(
  parts: CutParts,
  head: number,
  moved: () => void,
): Promise<void> {
  // No flush of the log here: the caller made it durable up to `head` through its own flushes,
  // which run one at a time. A second flush running beside one of those could take a write-back
  // error that one then never hears of (one report per descriptor), and acknowledge lost bytes.
  await writeAtomicallyAsync(parts.dir, HEAD_TEMP_FILE_NAME, HEAD_FILE_NAME, encodeHead(head));
  moved();
  // The segments leave the log at once; their files are removed one at a time off the main
  // thread (freeing a large file's blocks takes a while), the directory flushed after.
  const doomed = segmentsBelow(parts, head);
  for (const index of doomed) forgetSegment(parts, index);
  for (const index of doomed) {
    const name = segmentName(index);
    await (parts.dir.removeAsync?.(name) ?? Promise.resolve(parts.dir.remove(name)));
    // Counted once removed: a directory flush that started earlier does not cover it.
    parts.flushes.directoryChanged();
  }
  await parts.flushes.syncDirectoryAsync();
}

/** Removes the whole segments below `head`'s (never the last); true if it removed any. */
function removeBelow(parts: CutParts, head: number): boolean {
  const doomed = segmentsBelow(parts, head);
  for (const index of doomed) removeSegment(parts, index);
  return doomed.length > 0;
}

/** The whole segments below `head`'s, lowest first (never the last one). */
function segmentsBelow(parts: CutParts, head: number): number[] {
  const { segments, segmentSize } = parts;
  const keepFrom = Math.min(Math.floor(head / segmentSize), segments.last ?? 0);
  const doomed: number[] = [];
  for (let index = segments.first; index !== undefined && index < keepFrom; index++) {
    if (segments.has(index)) doomed.push(index);
  }
  return doomed;
}

/** Removes the segments after `keep`, from the last one down, flushing the directory each time. */
function removeAfter(parts: CutParts, keep: number): void {
  for (let last = parts.segments.last; last !== undefined && last > keep;) {
    removeSegment(parts, last);
    parts.flushes.syncDirectory();
    last = parts.segments.last;
  }
}

function removeSegment(parts: CutParts, index: number): void {
  forgetSegment(parts, index);
  parts.dir.remove(segmentName(index));
  parts.flushes.directoryChanged();
}

/** Takes segment `index` out of the log: its handles, its place in the set, its flush. */
function forgetSegment(parts: CutParts, index: number): void {
  parts.handles.releaseSegment(index);
  parts.segments.delete(index);
  parts.flushes.forget(index);
}
