// Copyright 2026 the wal-db authors. MIT license.
// The open files of a segmented log: the segment being written, segments written but not yet
// flushed (parked), a few cached for reading, and handles retired while a flush ran.
// I/O core: talks only to the `WalDirectory` interface, never to `Deno.*`.

import { SEGMENT_READERS_OPEN_MAX, SEGMENT_UNFLUSHED_OPEN_MAX } from "./constants.ts";
import type { DirectoryFile, WalDirectory } from "./directory.ts";
import { segmentName } from "./segments.ts";

/**
 * A pool of segment handles with bounded size. A segment is flushed through the handle it was
 * written with (so a write-back error one flush reported reaches the next), which is why
 * written segments stay open, parked, until flushed; a handle that stops being needed while a
 * flush runs is retired, and closed only once no flush runs, so none closes under its flush.
 */
export class SegmentHandles {
  readonly #dir: WalDirectory;
  #active: { index: number; file: DirectoryFile } | undefined;
  readonly #readers = new Map<number, DirectoryFile>();
  /** Earlier segments written in this session whose bytes are not flushed yet, oldest first. */
  readonly #parked = new Map<number, DirectoryFile>();
  /** Handles that stopped being needed while a flush ran; closed when no flush runs. */
  readonly #retired: DirectoryFile[] = [];
  #flushesRunning = 0;

  constructor(dir: WalDirectory) {
    this.#dir = dir;
  }

  /** How many files are open (for tests of the bound). */
  get openCount(): number {
    return this.#readers.size + this.#parked.size + (this.#active === undefined ? 0 : 1);
  }

  /** The segment being written and its handle, if any. */
  get active(): { index: number; file: DirectoryFile } | undefined {
    return this.#active;
  }

  /** Makes `file` the handle of the segment being written. */
  activate(index: number, file: DirectoryFile): void {
    this.#active = { index, file };
  }

  /** Stops writing the active segment; returns it, for the store to park or retire. */
  deactivate(): { index: number; file: DirectoryFile } | undefined {
    const previous = this.#active;
    this.#active = undefined;
    return previous;
  }

  /**
   * Keeps the handle of a segment left behind with unflushed bytes. Returns the oldest parked
   * segment when there are more than `SEGMENT_UNFLUSHED_OPEN_MAX`: the store flushes it.
   */
  park(index: number, file: DirectoryFile): [number, DirectoryFile] | undefined {
    this.#parked.set(index, file);
    if (this.#parked.size <= SEGMENT_UNFLUSHED_OPEN_MAX) return undefined;
    return this.#parked.entries().next().value!;
  }

  /** Takes a parked handle of segment `index` out of the pool, if there is one. */
  unpark(index: number): DirectoryFile | undefined {
    const parked = this.#parked.get(index);
    this.#parked.delete(index);
    return parked;
  }

  /** The handle a segment was written with in this session, if it is still open. */
  writtenHandle(index: number): DirectoryFile | undefined {
    return this.#active?.index === index ? this.#active.file : this.#parked.get(index);
  }

  /** A handle to read segment `index` through: the active one, or a cached one (LRU). */
  reader(index: number): DirectoryFile {
    if (this.#active?.index === index) return this.#active.file;
    const cached = this.#readers.get(index);
    if (cached !== undefined) {
      // Move to the back of the insertion order: the map doubles as an LRU list.
      this.#readers.delete(index);
      this.#readers.set(index, cached);
      return cached;
    }
    if (this.#readers.size >= SEGMENT_READERS_OPEN_MAX) {
      const [oldest] = this.#readers.keys();
      this.dropReader(oldest!);
    }
    const file = this.#dir.open(segmentName(index), false);
    this.#readers.set(index, file);
    return file;
  }

  /** Closes the cached reader of segment `index`, if any. */
  dropReader(index: number): void {
    this.#readers.get(index)?.close();
    this.#readers.delete(index);
  }

  /** Closes every cached reader (a follower's segments may have changed). */
  dropReaders(): void {
    for (const file of this.#readers.values()) file.close();
    this.#readers.clear();
  }

  /** Runs `use` on the active handle of `index`, or on a fresh one closed afterwards. */
  withFile(index: number, use: (file: DirectoryFile) => void): void {
    if (this.#active?.index === index) return use(this.#active.file);
    const file = this.#dir.open(segmentName(index), false);
    try {
      use(file);
    } finally {
      file.close();
    }
  }

  /** Closes `file` now, or once no flush runs. */
  retire(file: DirectoryFile): void {
    if (this.#flushesRunning > 0) this.#retired.push(file);
    else file.close();
  }

  /** Gives up every handle of segment `index` (it is being removed). */
  releaseSegment(index: number): void {
    if (this.#active?.index === index) {
      this.retire(this.#active.file);
      this.#active = undefined;
    }
    const parked = this.unpark(index);
    if (parked !== undefined) this.retire(parked);
    this.dropReader(index);
  }

  /** Gives up every handle written through (after a failed flush). */
  releaseWritten(): void {
    if (this.#active !== undefined) this.retire(this.#active.file);
    this.#active = undefined;
    for (const file of this.#parked.values()) this.retire(file);
    this.#parked.clear();
  }

  /** Notes that a flush starts; pair with {@linkcode SegmentHandles.flushEnded}. */
  flushStarted(): void {
    this.#flushesRunning++;
  }

  /** Notes that a flush ended; closes the retired handles once none runs. */
  flushEnded(): void {
    if (--this.#flushesRunning === 0) {
      for (const file of this.#retired.splice(0)) file.close();
    }
  }

  /** Takes every open handle out of the pool, for the store's close. */
  takeAll(): DirectoryFile[] {
    const files = [
      ...this.#readers.values(),
      ...this.#parked.values(),
      ...(this.#active === undefined ? [] : [this.#active.file]),
      ...this.#retired.splice(0),
    ];
    this.#readers.clear();
    this.#parked.clear();
    this.#active = undefined;
    return files;
  }
}
