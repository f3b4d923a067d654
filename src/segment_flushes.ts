// Copyright 2026 the wal-db authors. MIT license.
// The write path of a segmented log's files: the segment being written (opened, created,
// rotated), what is not flushed yet (segments with unflushed bytes, the directory's entries),
// and the flushes that settle them.
// I/O core: talks only to the `WalDirectory` interface, never to `Deno.*`.

import type { DirectoryFile, WalDirectory } from "./directory.ts";
import type { SegmentHandles } from "./segment_handles.ts";
import { flushFile, syncDirectoryAsync } from "./segment_files.ts";
import { SPARE_SEGMENT_FILE_NAME } from "./constants.ts";
import { segmentName } from "./segments.ts";
import { FlushRecord, type FlushStart, flushStart } from "./segment_flush_record.ts";

/**
 * Tracks unflushed segments by a version that changes with every append to them, so a flush
 * that ran while a segment was appended to does not mark it flushed, and the directory by a
 * version that changes with every segment created or removed. Each segment is flushed through
 * the handle it was written with when that is still open (see {@linkcode SegmentHandles}).
 */
export class SegmentFlushes {
  readonly #dir: WalDirectory;
  readonly #handles: SegmentHandles;
  readonly #exists: (index: number) => boolean;
  readonly #last: () => number | undefined;
  /** What is known flushed, and the record of it a writer's next open trusts. */
  readonly record: FlushRecord;
  /** Segments with unflushed bytes, and a version that changes with every append to them. */
  readonly #unflushed = new Map<number, number>();
  #appendVersion = 0;
  /** See {@linkcode SegmentFlushes.flushFirst}. */
  readonly #filesFirst: string[] = [];
  #directoryVersion = 0;
  #directorySynced = 0;
  /** The directory flush started ahead of need after a segment was created, while it runs. */
  #ahead: Promise<void> | undefined;
  /** What a flush started ahead of need threw: the next flush (or rotation) throws it. */
  #aheadError: unknown;
  /** The next segment, created ahead of need by a flush under a temporary name. */
  #spare: DirectoryFile | undefined;
  #closed = false;

  constructor(
    dir: WalDirectory,
    handles: SegmentHandles,
    exists: (index: number) => boolean,
    last: () => number | undefined = () => undefined,
  ) {
    this.#dir = dir;
    this.#handles = handles;
    this.#exists = exists;
    this.#last = last;
    this.record = new FlushRecord(dir, exists);
  }

  /** The segments with unflushed bytes. */
  get segments(): number[] {
    return [...this.#unflushed.keys()];
  }

  /**
   * Notes bytes appended to (or cut from) segment `index`. What the flush record knew of it no
   * longer holds: a flush that settled it (while it was being written, say) did not cover these
   * bytes, and a fingerprint that dates no change cannot tell.
   */
  appended(index: number): void {
    // Marked unflushed already: then it is in no record (settling removes the mark), and the
    // hot path of a segment being written costs one lookup.
    if (!this.#unflushed.has(index)) this.record.changed(index);
    this.#unflushed.set(index, ++this.#appendVersion);
  }

  /**
   * Marks the segments from `first` on, but those `trusted` (the flush record vouches for them),
   * and the directory, unflushed (at open).
   */
  assumeUnflushed(
    segments: Iterable<number>,
    first: number,
    trusted: ReadonlySet<number> = new Set(),
  ): void {
    let any = false;
    for (const index of segments) {
      any = true;
      if (index >= first && !trusted.has(index)) this.appended(index);
    }
    if (any) this.directoryChanged();
  }

  /**
   * Files the next flush makes durable first, through handles of their own (at open: the head
   * and segment-size files, which a copied directory may hold in the page cache only). Their
   * flush is part of recovery's, so its failure fails the log like any failed flush.
   */
  flushFirst(names: string[]): void {
    this.#filesFirst.push(...names);
  }

  /** Notes a segment created or removed: the directory needs a flush. */
  directoryChanged(): void {
    this.#directoryVersion++;
  }

  /** Forgets segment `index` (removed). */
  forget(index: number): void {
    this.#unflushed.delete(index);
    this.record.changed(index);
  }

  /**
   * Forgets every segment (after a failed flush's cut flushed what is kept). The store failed:
   * it writes no flush record again.
   */
  forgetAll(): void {
    this.#unflushed.clear();
    this.record.fail();
  }

  /**
   * Keeps the handle of a segment left behind: parked while its bytes are unflushed (flushing
   * the oldest parked one past the bound), retired otherwise.
   */
  park(index: number, file: DirectoryFile): void {
    if (!this.#unflushed.has(index)) return this.#handles.retire(file);
    const evicted = this.#handles.park(index, file);
    if (evicted === undefined) return;
    const [oldest, handle] = evicted;
    const start = flushStart();
    this.#failing(() => handle.flushSync());
    this.#settle(oldest, this.#unflushed.get(oldest)!, start);
  }

  /**
   * The handle of segment `index` for appending, creating the segment (and adding it to
   * `segments`) when it is missing. The segment written before is parked or retired.
   */
  writer(index: number, segments: Set<number>): DirectoryFile {
    const active = this.#handles.active;
    if (active?.index === index) return active.file;
    // Written from now on: what the flush record knew of it no longer holds.
    this.record.changed(index);
    // The previous segment is no longer written: keep its handle for the flush that its
    // unflushed bytes still need, or close it.
    const previous = this.#handles.deactivate();
    if (previous !== undefined) this.park(previous.index, previous.file);
    this.#handles.dropReader(index);
    const parked = this.#handles.unpark(index);
    if (parked !== undefined) {
      this.#handles.activate(index, parked);
      return parked;
    }
    const created = !segments.has(index);
    // A segment may exist after a power loss only if every segment before it does: make the
    // creations so far durable before creating another one. The flush started ahead of need
    // after the last creation has usually done it by now; if not, this one blocks.
    if (created) {
      this.#throwAheadError();
      this.syncDirectory();
    }
    const file = created ? this.#create(index) : this.#dir.open(segmentName(index), false);
    this.#handles.activate(index, file);
    if (created) {
      segments.add(index);
      this.directoryChanged();
      // Started once this turn's code is done: handing a call to a worker thread costs 30-55 µs
      // on the main thread here, as much as the rename; in the append it would double the
      // rotation's cost. Nothing needs it sooner: a flush waits for it, and a creation that
      // comes before it finished flushes the directory itself.
      queueMicrotask(() => {
        if (!this.#closed) this.#syncAhead();
      });
    }
    return file;
  }

  /** Flushes every unflushed segment and then the directory, blocking the thread. */
  flushSync(): void {
    this.#throwAheadError();
    const start = flushStart();
    this.#failing(() => {
      this.#flushFilesFirst();
      for (const [index, version] of [...this.#unflushed]) {
        const file = this.#handles.writtenHandle(index);
        if (file !== undefined) file.flushSync();
        else this.#handles.withFile(index, (fresh) => fresh.flushSync());
        this.#settle(index, version, start);
      }
      this.syncDirectory();
      const sealedBelow = this.#sealedBelow();
      if (this.record.due(sealedBelow)) this.record.writeSync(sealedBelow);
    });
  }

  /** Runs `work`, a flush; if it throws, no flush record is written again. */
  #failing<T>(work: () => T): T {
    try {
      return work();
    } catch (error) {
      this.record.fail();
      throw error;
    }
  }

  /** Segments below this are no longer written: the one being written, or the last. */
  #sealedBelow(): number {
    return Math.min(this.#handles.active?.index ?? Infinity, this.#last() ?? 0);
  }

  /** Flushes the segments unflushed when called, then the directory. */
  /** Flushes the files of {@linkcode SegmentFlushes.flushFirst} (two small files, once). */
  #flushFilesFirst(): void {
    for (const name of this.#filesFirst) flushFile(this.#dir, name);
    this.#filesFirst.length = 0;
  }

  async flush(): Promise<void> {
    this.#throwAheadError();
    const snapshot = [...this.#unflushed];
    const active = this.#handles.active;
    const start = flushStart();
    this.#handles.flushStarted();
    try {
      this.#flushFilesFirst();
      for (const [index, version] of snapshot) {
        // A handle may be retired (by a rotation, a settle or a removal) while this await
        // runs; retired handles stay open until no flush runs, so none is closed under its
        // own flush.
        const file = active?.index === index ? active.file : this.#handles.writtenHandle(index);
        if (file !== undefined) await file.flush();
        else await this.#flushClosed(index);
        this.#settle(index, version, start);
      }
      // The directory flush started ahead of need, if one runs (a rotation starts it when its
      // turn's code is done, so it may have started during this flush): this flush resolves
      // only if it succeeded, as after a failed one a later one that succeeds proves nothing.
      // Awaited only when there is one: every group commit passes here. It never rejects.
      if (this.#ahead !== undefined) await this.#ahead;
      this.#throwAheadError();
      await this.syncDirectoryAsync();
      const sealedBelow = this.#sealedBelow();
      if (this.record.due(sealedBelow)) await this.record.writeAsync(sealedBelow);
      await this.#prepareSpare();
    } catch (error) {
      this.record.fail();
      throw error;
    } finally {
      this.#handles.flushEnded();
    }
  }

  /** Creates segment `index`: renames the spare a flush made ahead of need, or creates it. */
  #create(index: number): DirectoryFile {
    const spare = this.#spare;
    if (spare === undefined) return this.#dir.open(segmentName(index), true);
    this.#spare = undefined;
    try {
      this.#dir.rename(SPARE_SEGMENT_FILE_NAME, segmentName(index));
    } catch (error) {
      spare.close();
      throw error;
    }
    return spare;
  }

  /**
   * Part of a flush, after the log's bytes are durable: creates the next segment's file off the
   * main thread, under a name that is not a segment's, for the next rotation to rename (a rename
   * costs a fraction of a creation). Best effort: without a spare, a rotation creates the file.
   */
  async #prepareSpare(): Promise<void> {
    const dir = this.#dir;
    if (this.#spare !== undefined || dir.openAsync === undefined) return;
    let file: DirectoryFile;
    try {
      file = await dir.openAsync(SPARE_SEGMENT_FILE_NAME, true);
    } catch {
      return;
    }
    // A spare is never written; a file left under its name by a crash may have been.
    if (this.#closed || this.#spare !== undefined || file.size !== 0) file.close();
    else this.#spare = file;
  }

  /** At the store's close: closes and removes the spare, if one was made (best effort). */
  close(): void {
    this.#closed = true;
    const spare = this.#spare;
    this.#spare = undefined;
    if (spare === undefined) return;
    try {
      spare.close();
      this.#dir.remove(SPARE_SEGMENT_FILE_NAME);
    } catch {
      // A writer's next open removes it.
    }
  }

  /** Flushes the directory if a segment was created or removed since it was last flushed. */
  syncDirectory(): void {
    const version = this.#directoryVersion;
    if (version === this.#directorySynced) return;
    this.#dir.sync();
    this.#directorySynced = Math.max(this.#directorySynced, version);
  }

  /**
   * Starts a directory flush off the main thread, unless one runs: by the time the segment just
   * created is full, its creation is durable, and the rotation to the next one need not wait
   * for it. Its failure is kept for the next flush or rotation to throw: the log then fails.
   */
  #syncAhead(): void {
    if (this.#ahead !== undefined || this.#dir.syncAsync === undefined) return;
    this.#ahead = this.syncDirectoryAsync().then(
      () => {
        this.#ahead = undefined;
      },
      (error) => {
        this.#ahead = undefined;
        this.#aheadError ??= error;
        this.record.fail();
      },
    );
  }

  #throwAheadError(): void {
    if (this.#aheadError !== undefined) throw this.#aheadError;
  }

  /** {@linkcode SegmentFlushes.syncDirectory} off the main thread, when the directory can. */
  async syncDirectoryAsync(): Promise<void> {
    const version = this.#directoryVersion;
    if (version === this.#directorySynced) return;
    await syncDirectoryAsync(this.#dir);
    this.#directorySynced = Math.max(this.#directorySynced, version);
  }

  async #flushClosed(index: number): Promise<void> {
    if (!this.#exists(index)) return; // removed by a truncation since it was written
    const file = this.#dir.open(segmentName(index), false);
    try {
      await file.flush();
    } finally {
      file.close();
    }
  }

  /**
   * Forgets segment `index`'s unflushed mark, unless it was appended to since `version`; a flush
   * that started at `start` made it durable.
   */
  #settle(index: number, version: number, start: FlushStart): void {
    if (this.#unflushed.get(index) !== version) return;
    this.#unflushed.delete(index);
    this.record.settled(index, start);
    const parked = this.#handles.unpark(index);
    if (parked !== undefined) this.#handles.retire(parked);
  }
}
