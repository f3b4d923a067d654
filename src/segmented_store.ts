// Copyright 2026 the wal-db authors. MIT license.
// A store that splits the log's address space over fixed-size segment files in a directory.
// I/O core: talks only to the `WalDirectory` interface, never to `Deno.*`.

import { assert } from "./assert.ts";
import { runEach } from "./cleanup.ts";
import {
  FLUSH_RECORD_TEMP_FILE_NAME as RECORD_TEMP,
  HEAD_FILE_NAME,
  HEAD_TEMP_FILE_NAME,
  SECTOR_SIZE,
  SEGMENT_SIZE_FILE_NAME,
  SEGMENT_SIZE_TEMP_FILE_NAME,
  SPARE_SEGMENT_FILE_NAME as SPARE,
} from "./constants.ts";
import type { WalDirectory } from "./directory.ts";
import { isPermissionError, WalError } from "./errors.ts";
import { checkSegmentSize, encodeSegmentSize, segmentName, type SegmentSet } from "./segments.ts";
import type { SectorInfo } from "./damage.ts";
import {
  type CutParts,
  cutSegments,
  cutSegmentsAsync,
  discardSegments,
  moveHead,
  moveHeadAsync,
} from "./segment_cuts.ts";
import { SegmentFlushes } from "./segment_flushes.ts";
import { SegmentHandles } from "./segment_handles.ts";
import { copyAside, refreshSegments, scanDirectory, writeAtomically } from "./segment_files.ts";
import type { SetAsideOptions, WalStore } from "./store.ts";

/**
 * A {@linkcode WalStore} over segment files: segment `k` holds bytes `[k·S, (k+1)·S)` of the
 * log, named by `k` as 20 digits plus `.wal`; records span segments freely; a `head` file marks
 * where the log starts after prefix truncation. Byte-compatible with the Rust wal-db 1.x layout.
 *
 * What it adds over the original, for crash safety:
 * - a flush covers every segment that received bytes since it was last flushed, tracked per
 *   segment, so no segment is ever skipped, and the directory is flushed after segments are
 *   created or removed;
 * - `head` is replaced atomically (temp file, flush, rename, directory flush) before any
 *   segment below it is removed, and a damaged `head` or missing leading segments refuse the
 *   open instead of silently restarting from 0;
 * - the segment size is recorded in a `segment-size` file (which the original ignores) and
 *   checked on every open, against that file and against the sizes of the segment files: a
 *   wrong size refuses the open, changing nothing, instead of misreading the log as damaged;
 * - a missing or short segment inside the log reads as zeros, so recovery sees it as damage at
 *   that LSN and sets aside the intact segments after it instead of deleting them;
 * - a segment is flushed through the handle it was written with, so a write-back error that
 *   one flush reported is reported to the next flush too;
 * - open handles are bounded: the segment being written, a few written but not yet flushed,
 *   and a few cached for reading.
 */
export class SegmentedStore implements WalStore {
  readonly #dir: WalDirectory;
  readonly #segmentSize: number;
  #head: number;
  #size: number;
  /** The indices of the segment files that exist. */
  readonly #segments: SegmentSet;
  readonly #handles: SegmentHandles;
  readonly #flushes: SegmentFlushes;
  /** The store's files and flushes, for the truncations in segment_cuts.ts. */
  readonly #cutParts: CutParts;
  #readOnly = false;
  #closed = false;
  /** The directory has no segment-size file yet: the next flush writes one. */
  #segmentSizeUnrecorded = false;

  private constructor(
    dir: WalDirectory,
    segmentSize: number,
    head: number,
    segments: SegmentSet,
    size: number,
  ) {
    this.#dir = dir;
    this.#handles = new SegmentHandles(dir);
    this.#flushes = new SegmentFlushes(
      dir,
      this.#handles,
      (index) => segments.has(index),
      () => segments.last,
    );
    this.#segmentSize = segmentSize;
    this.#head = head;
    this.#segments = segments;
    this.#size = size;
    const [handles, flushes] = [this.#handles, this.#flushes];
    const [flushSync, flush] = [() => this.flushSync(), () => this.flush()];
    this.#cutParts = { dir, segments, handles, flushes, segmentSize, flushSync, flush };
  }

  /**
   * Opens the segmented log in `dir`. Checks `segmentSize` against the `segment-size` file and
   * the segment files, reads the `head` file and checks the segments against it; throws
   * `kind: "corruption"` (changing nothing) on a wrong segment size, a damaged `segment-size`
   * or `head` file, or missing leading segments. A writable open then removes leftover
   * temporary files of an interrupted write, and records the segment size when the directory
   * has no `segment-size` file yet: a new log at once, a log written by the Rust crate or an
   * older wal-db at its first flush (after recovery accepted it). A read-only open writes
   * nothing.
   *
   * @param dir The directory, already opened and locked. The store owns it from now on and
   * closes it when the store closes, or at once when opening fails.
   * @param segmentSize The segment size the log was written with.
   * @returns The open store.
   * @throws {RangeError} If `segmentSize` is not a positive integer (the directory stays open).
   * @throws {WalError} `"corruption"` as described above; a wrong segment size says "wrong
   * segment size" and names the size the files record or imply.
   *
   * @example A segmented store in a simulated or real directory
   * ```ts ignore
   * import { FsDirectory, SegmentedStore, Wal } from "@wal-db/wal-db";
   *
   * using wal = Wal.withStore(SegmentedStore.open(FsDirectory.open("/var/lib/app/wal"), 1 << 24));
   * ```
   */
  static open(
    dir: WalDirectory,
    segmentSize: number,
    options: SegmentedStoreOptions = {},
  ): SegmentedStore {
    checkSegmentSize(segmentSize);
    if (CLAIMED.has(dir)) {
      // The object holds the lock: a second store on it would be a writer the lock cannot see.
      throw new WalError(
        "locked",
        `Cannot open segmented log "${dir.path}": this directory object already serves a log; ` +
          `open the directory again (FsDirectory.open, MemDirectory.reopen) after closing that one`,
      );
    }
    CLAIMED.add(dir);
    try {
      return SegmentedStore.#open(dir, segmentSize, options.readOnly ?? false);
    } catch (error) {
      CLAIMED.delete(dir);
      dir.close();
      if (error instanceof WalError || !(error instanceof Error) || isPermissionError(error)) {
        throw error;
      }
      throw new WalError("io", `Cannot open segmented log "${dir.path}": ${error.message}`, {
        cause: error,
      });
    }
  }

  static #open(dir: WalDirectory, segmentSize: number, readOnly: boolean): SegmentedStore {
    const { names, segments, recorded, head, size } = scanDirectory(dir, segmentSize);
    const store = new SegmentedStore(dir, segmentSize, head, segments, size);
    store.#readOnly = readOnly;
    if (readOnly) return store;
    // A crashed writer may have left any segment (and its creation) in the page cache only: the
    // first flush covers the directory and each segment from the head on but those the flush
    // record vouches for by fingerprint (a copy or restore matches none: ON_DISK_FORMAT.md §6.2),
    // and the head and segment-size files (unflushed in a copy, and an empty one is refused).
    const first = Math.floor(head / segmentSize);
    const trusted = store.#flushes.record.trustAtOpen(names, segments, first);
    store.#flushes.assumeUnflushed(segments, first, trusted);
    const small = [HEAD_FILE_NAME, SEGMENT_SIZE_FILE_NAME];
    store.#flushes.flushFirst(small.filter((name) => names.includes(name)));
    for (const leftover of [HEAD_TEMP_FILE_NAME, SEGMENT_SIZE_TEMP_FILE_NAME, SPARE, RECORD_TEMP]) {
      if (!names.includes(leftover)) continue;
      dir.remove(leftover);
      store.#flushes.directoryChanged();
    }
    // Record the size (later opens check it even with one segment): a new log at once, or a
    // crash could leave short segments that look like another size; a log of the Rust crate or
    // an older wal-db at its first flush, once recovery accepted it (a refused open changes
    // nothing).
    if (recorded === undefined) {
      if (segments.size === 0) store.#recordSegmentSize();
      else store.#segmentSizeUnrecorded = true;
    }
    return store;
  }

  get size(): number {
    return this.#size;
  }

  get head(): number {
    return this.#head;
  }

  get durability(): string {
    return this.#dir.durability;
  }

  /** The directory's identity, when it has one (see `WalStore.identity`). */
  get identity(): string | undefined {
    return this.#dir.identity;
  }

  /** The segment size the store was opened with. */
  get segmentSize(): number {
    return this.#segmentSize;
  }

  /** The directory's path. */
  get path(): string {
    return this.#dir.path;
  }

  /** How many segment files exist. */
  get segmentCount(): number {
    return this.#segments.size;
  }

  /** How many files the store holds open right now (for tests of the handle bound). */
  get openFileCount(): number {
    return this.#handles.openCount;
  }

  /**
   * Re-reads what a writer in another process may have changed (see
   * {@linkcode refreshSegments}): a read-only store sees the segments it appended, removed or
   * cut and the head it moved, looking up only what changed.
   */
  refresh(): void {
    const found = refreshSegments(this.#dir, this.#segments, this.#head, this.#segmentSize);
    this.#head = found.head;
    this.#size = found.size;
    this.#handles.dropReaders();
  }

  /**
   * The end of the first segment, from the head's, that is shorter than the segment size and is
   * not the last (a suffix cut in progress, or a lost tail), else `size`. One size lookup per
   * segment: a follower asks only once it found a cut.
   */
  contiguousEnd(): number {
    const size = this.#segmentSize;
    const { first, last } = this.#segments;
    if (first === undefined || last === undefined) return this.#size;
    // From the head's segment: those below it are a checkpoint's, removed lowest first.
    for (let index = Math.max(first, Math.floor(this.#head / size)); index < last; index++) {
      // A missing segment is a hole: the log is contiguous only up to its first byte.
      const length = this.#segments.has(index) ? this.#dir.sizeOf(segmentName(index)) ?? 0 : 0;
      if (length < size) return Math.max(this.#head, index * size + length);
    }
    return this.#size;
  }

  readAt(offset: number, buffer: Uint8Array): number {
    const end = Math.min(offset + buffer.length, this.#size);
    for (let at = offset; at < end;) {
      const index = Math.floor(at / this.#segmentSize);
      const within = at - index * this.#segmentSize;
      const count = Math.min(end - at, this.#segmentSize - within);
      const target = buffer.subarray(at - offset, at - offset + count);
      const got = this.#segments.has(index) ? this.#readSegment(index, within, target) : 0;
      // A hole (a missing or short segment) reads as zeros: damage, with intact data searched after.
      target.fill(0, got);
      at += count;
    }
    return Math.max(0, end - offset);
  }

  /** Reads from one segment; see `readAt`. */
  #readSegment(index: number, within: number, target: Uint8Array): number {
    try {
      return this.#handles.reader(index).readAt(within, target);
    } catch (error) {
      if (!this.#readOnly) throw error;
      // A follower's writer may remove a segment (a cut, a checkpoint) after the last refresh
      // listed it: its bytes are gone, and read as a missing segment's do.
      if (this.#dir.sizeOf(segmentName(index)) === undefined) return 0;
    }
    // Made again since (appends after a cut): the new file is read, once more.
    return this.#handles.reader(index).readAt(within, target);
  }

  /** True: a directory of segment files is a wal-db log, whatever its bytes hold. */
  readonly identifiesLog = true;

  /**
   * Sectors are file-aligned: they restart at every segment's first byte. Bytes of a segment
   * file that does not exist are missing: their zeros are the store's, not a crash's.
   */
  sectorAt(lsn: number): SectorInfo {
    const index = Math.floor(lsn / this.#segmentSize);
    const within = lsn - index * this.#segmentSize;
    const segmentEnd = (index + 1) * this.#segmentSize;
    return {
      end: Math.min(lsn - (within % SECTOR_SIZE) + SECTOR_SIZE, segmentEnd),
      missing: !this.#segments.has(index),
    };
  }

  append(data: Uint8Array): void {
    this.#checkWritable();
    for (let done = 0; done < data.length;) {
      const index = Math.floor(this.#size / this.#segmentSize);
      const room = (index + 1) * this.#segmentSize - this.#size;
      const file = this.#flushes.writer(index, this.#segments);
      const part = data.subarray(done, done + Math.min(room, data.length - done));
      this.#flushes.appended(index);
      file.append(part);
      this.#size += part.length;
      done += part.length;
    }
  }

  flushSync(): void {
    if (this.#segmentSizeUnrecorded) this.#recordSegmentSize();
    this.#flushes.flushSync();
  }

  flush(): Promise<void> {
    try {
      if (this.#segmentSizeUnrecorded) this.#recordSegmentSize();
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#flushes.flush();
  }

  truncate(size: number): void {
    this.#checkInside(size);
    cutSegments(this.#cutParts, size);
    this.#size = size;
  }

  /** {@linkcode SegmentedStore.truncate} with its flushes and removals off the main thread. */
  async truncateAsync(size: number): Promise<void> {
    this.#checkInside(size);
    await cutSegmentsAsync(this.#cutParts, size);
    this.#size = size;
  }

  /**
   * After a failed flush: cuts the log to `size` and makes that durable. Removing the segments
   * past the cut and truncating the one it falls in drops their cached pages, also the ones the
   * failed flush left clean but unwritten. Every handle written through so far is given up: a
   * segment is flushed through a handle opened now, which reports only errors from now on.
   */
  discardUnflushed(size: number): void {
    this.#checkInside(size);
    discardSegments(this.#cutParts, size);
    this.#size = size;
  }

  setAside(offset: number, options: SetAsideOptions = {}): string {
    this.#checkWritable();
    const end = Math.min(options.end ?? this.#size, this.#size);
    const kind = options.kind ?? "damaged";
    return copyAside(this.#dir, offset, end, kind, (at, buffer) => this.readAt(at, buffer));
  }

  /**
   * Drops the prefix before `head`: the log is flushed, the `head` file is replaced atomically
   * and made durable, and only then are whole segments below the head's segment removed (never
   * the last one).
   */
  truncateBefore(head: number): number {
    this.#checkInside(head);
    moveHead(this.#cutParts, head, () => this.#head = head);
    return head;
  }

  /**
   * {@linkcode SegmentedStore.truncateBefore} with its flushes (the head file's, the
   * directory's) off the main thread; the caller made the log durable up to `head` first. The
   * head moves (and `moved` runs) in the turn the new head is durable, before any segment below
   * it is removed. One truncation at a time: the caller waits for one to settle.
   */
  async truncateBeforeAsync(head: number, moved?: (head: number) => void): Promise<number> {
    this.#checkInside(head);
    await moveHeadAsync(this.#cutParts, head, () => {
      this.#head = head;
      moved?.(head);
    });
    return head;
  }

  /** Throws unless writable; asserts that `lsn` (a cut, a new head) is inside the log. */
  #checkInside(lsn: number): void {
    this.#checkWritable();
    assert(lsn >= this.#head && lsn <= this.#size, "an LSN inside the log: lsn", lsn);
  }

  /**
   * Closes every file, then the directory and its lock. Each close runs even when an earlier
   * one throws, so a failure never keeps the lock held; it is thrown afterwards.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#flushes.close();
    const files = this.#handles.takeAll();
    runEach(
      [...files.map((file) => () => file.close()), () => this.#dir.close(), () => {
        CLAIMED.delete(this.#dir);
      }],
      `close segmented log "${this.#dir.path}"`,
    );
  }

  /** Writes the segment-size file, atomically; see {@linkcode SegmentedStore.open}. */
  #recordSegmentSize(): void {
    const bytes = encodeSegmentSize(this.#segmentSize);
    writeAtomically(this.#dir, SEGMENT_SIZE_TEMP_FILE_NAME, SEGMENT_SIZE_FILE_NAME, bytes);
    this.#segmentSizeUnrecorded = false;
  }

  /** Throws unless writable. */
  #checkWritable(): void {
    if (this.#readOnly) throw readOnlyError(this.#dir.path);
  }
}

/** Directory objects an open store serves: one log each, until that store closes them. */
const CLAIMED = new WeakSet<WalDirectory>();

function readOnlyError(path: string): WalError {
  return new WalError("read-only", `Cannot write to "${path}": it was opened read-only`);
}

/** Options for {@linkcode SegmentedStore.open}. */
export interface SegmentedStoreOptions {
  /**
   * Never write: appends and truncations throw `kind: "read-only"`, leftover temporary files
   * are left where they are, and a missing `segment-size` file is not written.
   *
   * @default {false}
   */
  readOnly?: boolean;
}
