// Copyright 2026 the wal-db authors. MIT license.
// The log: append, sync, iterate, close, and the sticky failure state that guards them.
// I/O core: talks to its store through the `WalStore` interface (file logs via `FileStore`).

import { BoundaryIndex } from "./boundary_index.ts";
import { ChangeSignal } from "./change_signal.ts";
import {
  type CursorSource,
  type CursorState,
  entries,
  type Entry,
  follow,
  type Lsn,
  type TailOptions,
} from "./cursor.ts";
import { Epoch } from "./epoch.ts";
import { resolveConfig, type ResolvedConfig, type WalConfig } from "./config.ts";
import { HEADER_SIZE, LOG_SIZE_LIMIT, SCRATCH_SIZE_MAX } from "./constants.ts";
import { isPermissionError, WalError } from "./errors.ts";
import { forgetUndiscarded, rememberUndiscarded, undiscardedOf } from "./failed_tails.ts";
import { FileStore } from "./file_store.ts";
import { SeenRecords } from "./follower.ts";
import { FsDirectory } from "./fs_directory.ts";
import { GroupCommit } from "./group_commit.ts";
import { startBackgroundTimer } from "./timer.ts";
import { RecordReader } from "./reader.ts";
import { decodeHeader, encodeFrame, frameSize } from "./record.ts";
import { recover, type RecoveryReport } from "./recovery.ts";
import { SegmentedStore } from "./segmented_store.ts";
import { checkSegmentSize } from "./segments.ts";
import type { WalStore } from "./store.ts";
import { type Codec, TypedWal } from "./typed.ts";

export type { Entry, Lsn, TailOptions };

const TAIL_POLL_MS_DEFAULT = 50;

const STORE_METHODS = [
  "readAt",
  "append",
  "flush",
  "flushSync",
  "truncate",
  "truncateBefore",
  "setAside",
  "close",
];

/**
 * A write-ahead log.
 *
 * `append` hands a record to the operating system and returns its LSN at once; `sync` makes
 * everything appended before it durable, sharing one flush among all concurrent callers (group
 * commit); `iter` replays the log. Opening recovers the log: a record cut short by a crash is
 * cut off, and damage followed by intact records is set aside rather than destroyed (see
 * {@linkcode RecoveryPolicy}).
 *
 * If a write or a flush fails, the log is failed: every later `append` and `sync` throws
 * `kind: "failed"` until it is reopened, and nothing appended after the failure is ever
 * reported durable. The log is also cut back to its durable end: after a failed flush the
 * operating system may keep bytes it failed to write in its cache, where a reopen would read
 * them back as if they were on disk (see docs/DURABILITY.md).
 *
 * @example Append, sync, replay
 * ```ts
 * import { MemStore, Wal } from "@wal-db/wal-db";
 * import { deepEqual, equal } from "node:assert/strict";
 *
 * using wal = Wal.withStore(new MemStore());
 * const encoder = new TextEncoder();
 * equal(wal.append(encoder.encode("abc")), 0);
 * equal(wal.append(encoder.encode("hello")), 11);
 * await wal.sync();
 * equal(wal.durableLsn, 24);
 * deepEqual([...wal.iter()].map((entry) => entry.lsn), [0, 11]);
 * ```
 */
export class Wal implements Disposable {
  readonly #store: WalStore;
  readonly #config: ResolvedConfig;
  readonly #recovery: RecoveryReport;
  readonly #commit: GroupCommit;
  readonly #index: BoundaryIndex;
  #scratch = new Uint8Array(4096);
  #failure: WalError | undefined;
  /** After a failure: what cutting back to the durable end did, for the message. */
  #discarded: string | undefined;
  #closed = false;
  #stopTimer: (() => void) | undefined;
  /** A read-only log's end: the end of the intact records it has seen. */
  #end: number | undefined;
  /**
   * Set when an append failed: the end of the last append that succeeded. The store may hold
   * part of the failed write past it (a short write); the log ends here all the same.
   */
  #writeFailedAt: number | undefined;
  /** Settles once the store is closed; see {@linkcode Wal.closed}. */
  readonly #storeClosed = Promise.withResolvers<void>();
  /** Wakes tails when the log changes (durable end, truncation, refresh, close). */
  readonly #changes = new ChangeSignal();
  /** Advances with every truncation, at either end; cursors compare it with what they saw. */
  readonly #epoch = new Epoch();
  /** A read-only log's fingerprints of what it has seen, to notice a writer's cuts. */
  readonly #seen: SeenRecords | undefined;
  /** The head a read-only log last saw. */
  #seenHead: number;
  /** What cursors read through. */
  readonly #cursors: CursorSource;

  private constructor(
    store: WalStore,
    config: ResolvedConfig,
    recovery: RecoveryReport,
    index: BoundaryIndex,
    seen: SeenRecords | undefined,
  ) {
    this.#store = store;
    this.#seen = seen;
    this.#seenHead = store.head;
    this.#index = index;
    this.#config = config;
    this.#recovery = recovery;
    this.#end = config.readOnly ? recovery.endLsn : undefined;
    this.#cursors = this.#cursorSource();
    // Reported through `closed` (and by `close()` itself when it can): never unhandled.
    this.#storeClosed.promise.catch(() => {});
    this.#commit = new GroupCommit(
      {
        get appendedEnd() {
          return store.size;
        },
        flush: () => store.flush(),
        fail: (cause) => this.#fail(cause, "flush the log to stable storage"),
        changed: () => this.#changes.notify(),
      },
      store.size,
      config.commitDelayMs,
    );
    if (config.syncIntervalMs !== undefined) {
      this.#stopTimer = startBackgroundTimer(config.syncIntervalMs, () => this.#backgroundSync());
    }
  }

  /** One tick of the interval policy: flush if anything is not durable yet. */
  #backgroundSync(): void {
    if (this.#closed || this.#failure !== undefined) return;
    // A failure here fails the log (through the coordinator); callers see it on their next call.
    this.#commit.waitFor(this.#store.size).catch(() => {});
  }

  /**
   * Opens the log file at `path`, creating it (and flushing its directory) when it is missing,
   * takes an exclusive lock on it and recovers it.
   *
   * Requires `--allow-read` and `--allow-write` permissions, and `--allow-ffi` for the native
   * flush (without it, `durability: "auto"` falls back to `FsFile.syncData`).
   *
   * @param path The log file.
   * @param config Options; see {@linkcode WalConfig}.
   * @returns The open log.
   * @throws {WalError} `"locked"` when the log is open elsewhere, `"corruption"` when recovery
   * refuses, `"io"` when the file cannot be opened or read.
   * @throws {TypeError} If `path` or a config value has the wrong type.
   * @throws {RangeError} If `maxRecordSize` is out of range.
   *
   * @example Opening a log file
   * ```ts ignore
   * import { Wal } from "@wal-db/wal-db";
   *
   * using wal = Wal.open("/var/lib/app/app.wal");
   * wal.append(new TextEncoder().encode("a change"));
   * await wal.sync();
   * ```
   */
  static open(path: string | URL, config?: WalConfig): Wal {
    const resolved = resolveConfig(config);
    const store = FileStore.open(path, {
      durability: resolved.durability,
      readOnly: resolved.readOnly,
      ...(resolved.shimPath === undefined ? {} : { shimPath: resolved.shimPath }),
      ...(resolved.preallocateSize === undefined
        ? {}
        : { preallocateSize: resolved.preallocateSize }),
      ...(resolved.lock === undefined ? {} : { lock: resolved.lock }),
    });
    return Wal.#recoverOrClose(store, resolved);
  }

  /**
   * Opens a log on any {@linkcode WalStore} and recovers it. The log owns the store from now
   * on and closes it when the log closes (also when recovery throws).
   *
   * @param store Where the log's bytes live.
   * @param config Options; see {@linkcode WalConfig}.
   * @returns The open log.
   * @throws {WalError} `"corruption"` when recovery refuses, `"io"` when the store fails.
   *
   * @example A log in memory
   * ```ts
   * import { MemStore, Wal } from "@wal-db/wal-db";
   * import { equal } from "node:assert/strict";
   *
   * using wal = Wal.withStore(new MemStore());
   * equal(wal.nextLsn, 0);
   * ```
   */
  static withStore(store: WalStore, config?: WalConfig): Wal {
    if (typeof store !== "object" || store === null) {
      throw new TypeError("Cannot open log: store must be a WalStore object");
    }
    for (const method of STORE_METHODS) {
      if (typeof (store as unknown as Record<string, unknown>)[method] !== "function") {
        throw new TypeError(`Cannot open log: store has no ${method}() method`);
      }
    }
    return Wal.#recoverOrClose(store, resolveConfig(config));
  }

  /**
   * Opens the segmented log in directory `dir` (creating it when missing), takes an exclusive
   * lock on it and recovers it. Segment `k` is the file `<k as 20 digits>.wal` and holds bytes
   * `[k·segmentSize, (k+1)·segmentSize)`; records span segments freely. The segment size is
   * recorded in a `segment-size` file in the directory, and an open with another size (or one
   * the segment files rule out) is refused, changing nothing.
   *
   * Requires `--allow-read` and `--allow-write` permissions, and `--allow-ffi` for the native
   * flush.
   *
   * @param dir The log's directory.
   * @param segmentSize Bytes per segment file, a positive integer.
   * @param config Options; see {@linkcode WalConfig}.
   * @returns The open log.
   * @throws {RangeError} If `segmentSize` is not a positive integer.
   * @throws {WalError} `"locked"`, `"corruption"` (a wrong segment size, a damaged `head` or
   * `segment-size` file, missing leading segments, or damage the policy refuses), `"io"`.
   *
   * @example Opening a segmented log
   * ```ts ignore
   * import { Wal } from "@wal-db/wal-db";
   *
   * using wal = Wal.openSegmented("/var/lib/app/wal", 16 * 1024 * 1024);
   * wal.append(new TextEncoder().encode("a change"));
   * await wal.sync();
   * ```
   */
  static openSegmented(dir: string | URL, segmentSize: number, config?: WalConfig): Wal {
    checkSegmentSize(segmentSize);
    const resolved = resolveConfig(config);
    const directory = FsDirectory.open(dir, {
      durability: resolved.durability,
      shimPath: resolved.shimPath,
      readOnly: resolved.readOnly,
      ...(resolved.lock === undefined ? {} : { lock: resolved.lock }),
    });
    const store = SegmentedStore.open(directory, segmentSize, { readOnly: resolved.readOnly });
    return Wal.#recoverOrClose(store, resolved);
  }

  static #recoverOrClose(store: WalStore, config: ResolvedConfig): Wal {
    let wrote = false;
    try {
      discardLeftover(store, config.readOnly);
      const index = new BoundaryIndex(store.head);
      const seen = config.readOnly ? new SeenRecords() : undefined;
      const report = recover(watchWrites(store, () => wrote = true), {
        ...config,
        onRecord: (lsn) => {
          index.add(lsn);
          seen?.note(lsn);
        },
        onSkip: (from, to) => index.skip(from, to),
      });
      // What a crashed process wrote may still be only in the page cache; make it durable
      // before anyone acts on it, so a later power loss cannot roll back replayed state.
      if (!config.readOnly) {
        wrote = true;
        store.flushSync();
      }
      seen?.seal(store);
      return new Wal(store, config, report, index, seen);
    } catch (error) {
      // A flush that failed here may have left what a crashed writer wrote clean in the cache
      // but not on disk, and which of it was already on disk is unknown: no cut can tell the
      // two apart, so this process does not open the log again.
      if (wrote && store.identity !== undefined) rememberUndiscarded(store.identity, undefined);
      // The open's error is the one to report; a close that fails too must not replace it,
      // and is told in its message rather than dropped.
      try {
        store.close();
      } catch (closeError) {
        if (error instanceof Error) {
          error.message += `; closing the log after the failed open also failed: ` +
            messageOf(closeError);
        }
      }
      if (error instanceof WalError || !(error instanceof Error) || isPermissionError(error)) {
        throw error;
      }
      throw new WalError("io", `Cannot recover log: ${error.message}`, { cause: error });
    }
  }

  /**
   * Where the next append lands: one past the end of the last record. For a read-only log, the
   * end of the intact records it has seen (see {@linkcode Wal.refresh}).
   */
  get nextLsn(): Lsn {
    if (this.#end !== undefined) return this.#end;
    const size = this.#store.size;
    return this.#writeFailedAt === undefined ? size : Math.min(size, this.#writeFailedAt);
  }

  /**
   * The end of the durable prefix: every record that ends at or below it survives a crash. A
   * read-only log cannot know what its writer made durable: it reports `nextLsn`.
   */
  get durableLsn(): Lsn {
    return this.#end ?? this.#commit.durableEnd;
  }

  /**
   * Where the log starts: the LSN of its first record. 0 unless {@linkcode Wal.truncateBefore}
   * dropped a prefix of a segmented log.
   */
  get head(): Lsn {
    return this.#store.head;
  }

  /** What recovery did when the log was opened. */
  get recovery(): RecoveryReport {
    return this.#recovery;
  }

  /** Words for the flush mechanism, e.g. `"fdatasync via shim"`. */
  get durability(): string {
    return this.#store.durability;
  }

  /**
   * Appends one record and returns its LSN. When it returns, the record is in the operating
   * system's page cache (it survives a crash of this process, not a power loss); call
   * {@linkcode Wal.sync} to make it durable. Empty records are valid.
   *
   * @param data The payload; the log copies it and does not keep it.
   * @returns The record's LSN.
   * @throws {TypeError} If `data` is not a `Uint8Array`.
   * @throws {WalError} `"record-too-large"` (nothing written), `"closed"`, or `"failed"`.
   *
   * @example
   * ```ts
   * import { MemStore, Wal } from "@wal-db/wal-db";
   * import { equal } from "node:assert/strict";
   *
   * using wal = Wal.withStore(new MemStore());
   * equal(wal.append(new Uint8Array(0)), 0);
   * equal(wal.append(new Uint8Array(3)), 8);
   * equal(wal.nextLsn, 19);
   * ```
   */
  append(data: Uint8Array): Lsn {
    this.#checkWritable();
    this.#checkRecord(data);
    const lsn = this.#store.size;
    const size = frameSize(data.length);
    this.#checkRoom(size);
    const target = size <= SCRATCH_SIZE_MAX ? this.#scratchOf(size) : new Uint8Array(size);
    encodeFrame(data, target, 0);
    this.#write(target.subarray(0, size));
    this.#index.add(lsn);
    return lsn;
  }

  /**
   * Appends many records with one write and returns their LSNs. Every record is checked first:
   * one bad record rejects the whole batch and nothing is written.
   *
   * @param records The payloads, in order.
   * @returns Their LSNs, in the same order.
   * @throws {TypeError} If `records` is not an array of `Uint8Array`.
   * @throws {WalError} `"record-too-large"` (nothing written), `"closed"`, or `"failed"`.
   *
   * @example
   * ```ts
   * import { MemStore, Wal } from "@wal-db/wal-db";
   * import { deepEqual } from "node:assert/strict";
   *
   * using wal = Wal.withStore(new MemStore());
   * const encoder = new TextEncoder();
   * deepEqual(wal.appendBatch([encoder.encode("abc"), encoder.encode("hello")]), [0, 11]);
   * ```
   */
  appendBatch(records: readonly Uint8Array[]): Lsn[] {
    this.#checkWritable();
    if (!Array.isArray(records)) {
      throw new TypeError("Cannot append batch: records must be an array of Uint8Array");
    }
    let size = 0;
    for (const record of records) {
      this.#checkRecord(record);
      size += frameSize(record.length);
    }
    this.#checkRoom(size);
    const target = size <= SCRATCH_SIZE_MAX ? this.#scratchOf(size) : new Uint8Array(size);
    const lsns: Lsn[] = [];
    let offset = 0;
    for (const record of records) {
      lsns.push(this.#store.size + offset);
      offset += encodeFrame(record, target, offset);
    }
    if (size > 0) this.#write(target.subarray(0, size));
    for (const lsn of lsns) this.#index.add(lsn);
    return lsns;
  }

  /**
   * Makes every record appended before the call durable. Concurrent callers share flushes
   * (group commit): a caller whose records a flush in flight already covers waits for it, and
   * all others share the next one. Returns at once when there is nothing new to flush.
   *
   * @returns A promise that resolves once the records are on stable storage.
   * @throws {WalError} `"failed"` if the flush (or an earlier write or flush) failed; `"closed"`.
   *
   * @example
   * ```ts
   * import { MemStore, Wal } from "@wal-db/wal-db";
   * import { equal } from "node:assert/strict";
   *
   * const store = new MemStore();
   * using wal = Wal.withStore(store);
   * const before = store.flushCount;
   * await Promise.all([0, 1, 2].map(async () => {
   *   wal.append(new Uint8Array(8));
   *   await wal.sync();
   * }));
   * equal(store.flushCount - before, 1);
   * ```
   */
  sync(): Promise<void> {
    try {
      this.#checkWritable();
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#commit.waitFor(this.#store.size);
  }

  /**
   * Like {@linkcode Wal.sync}, but blocks the thread until the records are durable. Use it in
   * scripts and single-writer loops; in a server, `await sync()` keeps the event loop serving.
   *
   * @throws {WalError} `"failed"` or `"closed"`.
   *
   * @example
   * ```ts
   * import { MemStore, Wal } from "@wal-db/wal-db";
   * import { equal } from "node:assert/strict";
   *
   * using wal = Wal.withStore(new MemStore());
   * wal.append(new Uint8Array(4));
   * wal.syncSync();
   * equal(wal.durableLsn, 12);
   * ```
   */
  syncSync(): void {
    this.#checkWritable();
    const end = this.#store.size;
    if (end <= this.#commit.durableEnd) return;
    try {
      this.#store.flushSync();
    } catch (error) {
      throw this.#fail(error, "flush the log to stable storage");
    }
    this.#commit.markDurable(end);
  }

  /**
   * Replays the log from its start, up to the end it has when `iter` is called. Reading never
   * moves the append position, and each entry's `data` is the caller's to keep.
   *
   * If the log is cut while the iterator is live (`truncateFrom`, `truncateAfter`, a failed
   * flush's cut back to the durable end, a checkpoint that passes it, or for a read-only log a
   * writer's cut that a refresh finds) and the cut removes a record it yielded or was to yield,
   * the iterator throws `"truncated"` rather than yield a record the log no longer holds.
   *
   * @returns The entries, in log order.
   * @throws {WalError} (from the iterator) `"truncated"` with the LSN to read again from;
   * `"corruption"` if damage appeared after the log was opened; `"io"` if a read fails;
   * `"closed"` if the log is or becomes closed.
   *
   * @example
   * ```ts
   * import { MemStore, Wal } from "@wal-db/wal-db";
   * import { deepEqual } from "node:assert/strict";
   *
   * using wal = Wal.withStore(new MemStore());
   * wal.append(new Uint8Array([1, 2]));
   * deepEqual([...wal.iter()], [{ lsn: 0, data: new Uint8Array([1, 2]) }]);
   * ```
   */
  iter(): IterableIterator<Entry> {
    this.#checkOpen();
    return this.#entriesFrom(this.#store.head);
  }

  #entriesFrom(lsn: Lsn): IterableIterator<Entry> {
    const cursor: CursorState = { epoch: this.#epoch.value, position: lsn, end: this.nextLsn };
    return entries(this.#cursors, cursor);
  }

  /**
   * Replays the log from the record at `lsn` (a record boundary, the head, or `nextLsn` for an
   * empty iteration), up to the end the log has when `iterFrom` is called. The LSN is checked
   * against a sparse index of boundaries, without scanning the log.
   *
   * @param lsn Where to start: an LSN this log returned, or `head`, or `nextLsn`.
   * @returns The entries from `lsn` on, in log order.
   * @throws {TypeError} If `lsn` is not a number.
   * @throws {WalError} `"invalid-lsn"` if `lsn` is not an integer, lies before the head or past
   * the end, or is not a record boundary; `"closed"`.
   *
   * @example
   * ```ts
   * import { MemStore, Wal } from "@wal-db/wal-db";
   * import { deepEqual } from "node:assert/strict";
   *
   * using wal = Wal.withStore(new MemStore());
   * wal.append(new Uint8Array([1]));
   * const second = wal.append(new Uint8Array([2]));
   * deepEqual([...wal.iterFrom(second)].map((e) => e.data), [new Uint8Array([2])]);
   * deepEqual([...wal.iterFrom(wal.nextLsn)], []);
   * ```
   */
  iterFrom(lsn: Lsn): IterableIterator<Entry> {
    this.#checkOpen();
    this.#checkBoundary(lsn, "iterate from", true);
    return this.#entriesFrom(lsn);
  }

  /**
   * Drops the record at `lsn` and every record after it, as after a Raft log conflict; appends
   * continue at `lsn`. `truncateFrom(head)` empties the log. Durable when it returns: the
   * shorter log (its size and every byte below it) is on stable storage.
   *
   * @param lsn A record boundary, the head, or `nextLsn` (which changes nothing).
   * @throws {TypeError} If `lsn` is not a number.
   * @throws {WalError} `"invalid-lsn"`; `"failed"` if the truncation fails (the log is then
   * failed until reopened); `"closed"`.
   *
   * @example
   * ```ts
   * import { MemStore, Wal } from "@wal-db/wal-db";
   * import { equal } from "node:assert/strict";
   *
   * using wal = Wal.withStore(new MemStore());
   * wal.append(new Uint8Array([1]));
   * const conflict = wal.append(new Uint8Array([2]));
   * wal.truncateFrom(conflict);
   * equal(wal.nextLsn, conflict);
   * equal(wal.append(new Uint8Array([3])), conflict);
   * ```
   */
  truncateFrom(lsn: Lsn): void {
    this.#checkWritable();
    this.#checkBoundary(lsn, "truncate from", true);
    this.#truncateAt(lsn);
  }

  /** Cuts the log at `lsn`, which the caller checked is the end of a record (or the head). */
  #truncateAt(lsn: Lsn): void {
    if (lsn === this.#store.size) return;
    try {
      this.#store.truncate(lsn);
    } catch (error) {
      throw this.#fail(error, `truncate the log at LSN ${lsn}`);
    }
    this.#commit.truncated(lsn);
    this.#index.truncateAfter(lsn);
    this.#epoch.cutAfter(lsn);
    this.#changes.notify();
  }

  /**
   * Keeps the record at `lsn` and drops every record after it. Durable when it returns.
   *
   * @param lsn The LSN of the last record to keep.
   * @throws {TypeError} If `lsn` is not a number.
   * @throws {WalError} `"invalid-lsn"` if no record starts at `lsn`; `"failed"`; `"closed"`.
   *
   * @example
   * ```ts
   * import { MemStore, Wal } from "@wal-db/wal-db";
   * import { equal } from "node:assert/strict";
   *
   * using wal = Wal.withStore(new MemStore());
   * const kept = wal.append(new Uint8Array([1]));
   * wal.append(new Uint8Array([2]));
   * wal.truncateAfter(kept);
   * equal(wal.nextLsn, kept + 9);
   * ```
   */
  truncateAfter(lsn: Lsn): void {
    this.#checkWritable();
    this.#checkBoundary(lsn, "truncate after", false);
    const header = new Uint8Array(HEADER_SIZE);
    this.#readChecked(lsn, header, "truncate after");
    // Not re-checked as a boundary: a range the "skip" policy left in place may start here.
    this.#truncateAt(lsn + frameSize(decodeHeader(header, 0).length));
  }

  /**
   * Checkpoint: drops the records before `lsn`, which becomes the head. Everything appended is
   * flushed first when `lsn` is past the durable end. On a segmented log the new head is then
   * written to the `head` file atomically (temp file, flush, rename, directory flush), and only
   * then are whole segments below it removed, so a crash at any step leaves either the old or
   * the new head. LSNs of the records kept do not change.
   *
   * A single-file log (and one in memory) cannot drop its prefix without rewriting the whole
   * log: there it throws `"unsupported"` and changes nothing, unless `lsn` is the head already.
   *
   * @param lsn A record boundary at or after the head, or `nextLsn` (drops everything).
   * @returns The new head.
   * @throws {TypeError} If `lsn` is not a number.
   * @throws {WalError} `"invalid-lsn"`; `"unsupported"` if the store cannot drop a prefix
   * (nothing changed, the log stays usable); `"failed"` if a step fails; `"closed"`.
   *
   * @example A single file cannot drop its prefix
   * ```ts
   * import { MemStore, Wal, WalError } from "@wal-db/wal-db";
   * import { equal, throws } from "node:assert/strict";
   *
   * using wal = Wal.withStore(new MemStore());
   * wal.append(new Uint8Array([1]));
   * const second = wal.append(new Uint8Array([2]));
   * throws(
   *   () => wal.truncateBefore(second),
   *   (e) => e instanceof WalError && e.kind === "unsupported",
   * );
   * equal(wal.head, 0);
   * ```
   */
  truncateBefore(lsn: Lsn): Lsn {
    this.#checkWritable();
    this.#checkBoundary(lsn, "truncate before", true);
    const before = this.#store.head;
    if (lsn === before) return lsn;
    // The new head must be durable before it is written, and the log must know it is: should
    // a later step fail, the log is cut back to its durable end, which must not fall below a
    // head that may already be on disk.
    if (lsn > this.#commit.durableEnd) this.syncSync();
    let head: number;
    try {
      head = this.#store.truncateBefore(lsn);
    } catch (error) {
      throw this.#fail(error, `move the head of the log to LSN ${lsn}`);
    }
    // A store that keeps one contiguous file returns its head unchanged and drops nothing
    // (see WalStore): say so, rather than let a checkpoint believe it reclaimed space.
    if (head === before) {
      throw new WalError(
        "unsupported",
        `Cannot truncate before LSN ${lsn}: this log keeps one contiguous file and cannot drop ` +
          `its prefix without rewriting the whole log; nothing was changed. Use a segmented ` +
          `log (Wal.openSegmented) for checkpoints that reclaim space`,
        { lsn },
      );
    }
    if (head === lsn) this.#index.truncateBefore(head);
    this.#epoch.headMoved();
    this.#changes.notify();
    return head;
  }

  /**
   * For a read-only log: looks for records a writer appended since the log was opened (or last
   * refreshed) and makes them visible to `iter`, `iterFrom` and `tail`. Stops at the first
   * record the writer has not finished. A writer's own log sees its appends at once, so this
   * changes nothing there.
   *
   * @returns The new `nextLsn`.
   * @throws {WalError} `"closed"`; `"io"` if reading fails.
   *
   * @example Following a log another process writes
   * ```ts ignore
   * import { Wal } from "@wal-db/wal-db";
   *
   * using reader = Wal.open("/var/lib/app/app.wal", { readOnly: true, lock: "none" });
   * const before = reader.nextLsn;
   * reader.refresh();
   * for (const entry of reader.iterFrom(before)) console.log(entry.lsn);
   * ```
   */
  refresh(): Lsn {
    this.#checkOpen();
    if (this.#end === undefined || this.#seen === undefined) return this.nextLsn;
    this.#store.refresh?.();
    const seen = this.#end;
    const head = this.#store.head;
    let changed = false;
    if (head > this.#seenHead) {
      // A checkpoint: the records before the new head are gone, and cursors below it say so.
      this.#seenHead = head;
      this.#index.truncateBefore(head);
      this.#seen.forgetBefore(head);
      this.#epoch.headMoved();
      changed = true;
    }
    let from = Math.max(seen, head);
    const cut = this.#seen.cutSince(this.#store, this.#store.size, head);
    if (cut !== undefined) {
      // The writer cut the log at or after `cut` (and may have appended since): what was seen
      // from there on is not what the log holds now.
      this.#index.truncateAfter(cut);
      this.#seen.forgetFrom(cut);
      this.#epoch.cutAfter(cut);
      from = cut;
      changed = true;
    }
    const reader = new RecordReader(
      this.#store,
      from,
      Math.max(from, this.#store.size),
      this.#config.maxRecordSize,
    );
    for (let r = this.#read(reader, false); r.kind === "record"; r = this.#read(reader, false)) {
      this.#index.add(r.lsn);
      this.#seen.note(r.lsn);
    }
    this.#seen.seal(this.#store);
    this.#end = reader.position;
    if (changed || this.#end !== seen) this.#changes.notify();
    return this.#end;
  }

  /**
   * Yields the records from `from` on, then each new record once it is durable (once it is
   * visible, for a read-only log, which polls with {@linkcode Wal.refresh}), until `signal`
   * aborts or the log closes. A follower's loop: apply each entry as it comes.
   *
   * @param from Where to start: a record boundary, the head (the default) or `nextLsn`.
   * @param options `signal` ends the iteration when aborted; `pollMs` is how often a read-only
   * log looks for new records (default 50).
   * A cut below what the tail has yielded (the Raft conflict case: the records it delivered
   * were replaced) ends it with `"truncated"`, whose `lsn` is where the log was cut, and so does
   * a checkpoint that removes records it has not delivered yet (`lsn` is the new head). A cut
   * ahead of it changes nothing: it goes on with the records that replace the cut ones.
   *
   * @returns The entries, in log order, as they become durable.
   * @throws {WalError} `"invalid-lsn"` for a bad `from`; `"closed"` if the log is closed first;
   * `"truncated"` (from the iterator) when a cut passes it.
   *
   * @example Tail a log until aborted
   * ```ts
   * import { MemStore, Wal } from "@wal-db/wal-db";
   * import { deepEqual } from "node:assert/strict";
   *
   * using wal = Wal.withStore(new MemStore());
   * const stop = new AbortController();
   * const seen: number[] = [];
   * const follower = (async () => {
   *   for await (const entry of wal.tail(0, { signal: stop.signal })) {
   *     seen.push(entry.data[0]!);
   *     if (seen.length === 2) stop.abort();
   *   }
   * })();
   * wal.append(new Uint8Array([1]));
   * wal.append(new Uint8Array([2]));
   * await wal.sync();
   * await follower;
   * deepEqual(seen, [1, 2]);
   * ```
   */
  tail(from?: Lsn, options: TailOptions = {}): AsyncIterableIterator<Entry> {
    this.#checkOpen();
    const start = from ?? this.head;
    this.#checkBoundary(start, "tail from", true);
    const cursor: CursorState = { epoch: this.#epoch.value, position: start, end: undefined };
    return follow(this.#cursors, cursor, options.signal, options.pollMs ?? TAIL_POLL_MS_DEFAULT);
  }

  /**
   * A typed view of this log: `append(value)` encodes with `codec`, iteration decodes. The view
   * shares this log's state; closing either closes both.
   *
   * @typeParam T The record type.
   * @param codec How values become bytes and back.
   * @returns The typed view.
   *
   * @example JSON records
   * ```ts
   * import { jsonCodec, MemStore, Wal } from "@wal-db/wal-db";
   * import { deepEqual } from "node:assert/strict";
   *
   * using wal = Wal.withStore(new MemStore());
   * const log = wal.typed(jsonCodec<{ op: string; key: string }>());
   * log.append({ op: "set", key: "a" });
   * deepEqual([...log.iter()].map((e) => e.value), [{ op: "set", key: "a" }]);
   * ```
   */
  typed<T>(codec: Codec<T>): TypedWal<T> {
    return new TypedWal(this, codec);
  }

  /** The log as its cursors see it. */
  #cursorSource(): CursorSource {
    // deno-lint-ignore no-this-alias
    const wal = this;
    return {
      bytes: this.#store,
      get head() {
        return wal.head;
      },
      get nextLsn() {
        return wal.nextLsn;
      },
      get durableLsn() {
        return wal.durableLsn;
      },
      epoch: this.#epoch,
      changes: this.#changes,
      maxRecordSize: this.#config.maxRecordSize,
      following: this.#end !== undefined,
      get isClosed() {
        return wal.#closed;
      },
      checkOpen: () => this.#checkOpen(),
      read: (reader, copy) => this.#read(reader, copy),
      resumeAfter: (lsn) => this.#index.resumeAfter(lsn),
      refresh: () => void this.refresh(),
    };
  }

  /**
   * Closes the log and its store, releasing the lock. Idempotent. Callers waiting in `sync`
   * for a flush that has not started are rejected with `"closed"`; a flush already running
   * finishes first (its callers get its real outcome, `"failed"` with its cause if it fails)
   * and the store closes when it settles.
   *
   * If closing the store fails, the store still releases what it can (the built-in stores
   * release every handle and the lock), and the error is reported, never dropped: `close()`
   * throws it (`"io"`) when the store closes at once, and {@linkcode Wal.closed} rejects with
   * it in every case, also when the store closes later, after a running flush.
   *
   * @throws {WalError} `"io"` if closing the store failed (the log is closed all the same).
   *
   * @example
   * ```ts
   * import { MemStore, Wal, WalError } from "@wal-db/wal-db";
   * import { throws } from "node:assert/strict";
   *
   * const wal = Wal.withStore(new MemStore());
   * wal.close();
   * wal.close();
   * throws(() => wal.append(new Uint8Array(1)), (e) => e instanceof WalError && e.kind === "closed");
   * ```
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#stopTimer?.();
    this.#commit.abandon(closedError());
    this.#changes.notify();
    const settled = this.#commit.settled;
    if (settled === undefined) {
      const error = this.#closeStore();
      if (error !== undefined) throw error;
    } else {
      settled.then(() => this.#closeStore());
    }
  }

  /**
   * Settles once the store is closed after {@linkcode Wal.close}: resolves when it closed
   * cleanly, rejects (usually `"io"`) with what closing it threw. Pending until `close()` is
   * called. Its rejection is never unhandled: await it where a failed close matters, above all
   * when `close()` was called while a `sync` was running, as the store then closes later.
   *
   * @example Waiting for the store to be closed
   * ```ts
   * import { MemStore, Wal } from "@wal-db/wal-db";
   *
   * const wal = Wal.withStore(new MemStore());
   * const pending = wal.sync();
   * wal.close();
   * await pending;
   * await wal.closed;
   * ```
   */
  get closed(): Promise<void> {
    return this.#storeClosed.promise;
  }

  /** Closes the store; settles `closed` with the outcome and returns the error, if any. */
  #closeStore(): unknown {
    try {
      this.#store.close();
    } catch (cause) {
      const error = cause instanceof WalError || isPermissionError(cause) ? cause : new WalError(
        "io",
        `Cannot close the log cleanly: ${messageOf(cause)}. The log is closed; every record ` +
          `whose sync resolved is durable`,
        { cause },
      );
      this.#storeClosed.reject(error);
      return error;
    }
    this.#storeClosed.resolve();
    return undefined;
  }

  /** Closes the log; lets `using wal = ...` close it at the end of the scope. */
  [Symbol.dispose](): void {
    this.close();
  }

  #read(reader: RecordReader, copy = true): ReturnType<RecordReader["next"]> {
    try {
      return reader.next(copy);
    } catch (error) {
      if (error instanceof WalError || isPermissionError(error)) throw error;
      throw new WalError("io", `Cannot read the log: ${messageOf(error)}`, { cause: error });
    }
  }

  #write(frames: Uint8Array): void {
    const end = this.#store.size;
    try {
      this.#store.append(frames);
    } catch (error) {
      throw this.#failWrite(error, end);
    }
  }

  /**
   * Fails the log after an append that threw. The store may hold part of it (a short write,
   * say ENOSPC part way): `nextLsn` never passes `end`, where the last successful append ended,
   * so neither it nor iteration reaches a partial frame. The failure then cuts the log back to
   * its durable end (see `#fail`), which drops the partial bytes with the rest of the unsynced
   * tail; if that cut fails, reopening cuts them.
   */
  #failWrite(cause: unknown, end: number): WalError {
    this.#writeFailedAt ??= end;
    return this.#fail(cause, "write to the log");
  }

  /**
   * Enters the failed state (once), cuts the log back to its durable end, and returns the error
   * for the failing call. Every failure cuts, not only a failed sync: an append or a truncation
   * may flush too (a segment rotation, a cut), and the store cannot say which step failed.
   */
  #fail(cause: unknown, action: string): WalError {
    const outcome = this.#discardUnflushed();
    this.#failure ??= new WalError(
      "failed",
      `Cannot ${action}: ${messageOf(cause)}. The log is now failed: every later append and ` +
        `sync fails. ${outcome}`,
      { cause },
    );
    this.#commit.markFailed(this.#failure);
    return this.#failure;
  }

  /**
   * After a failure, which may have been a failed flush: Linux may have marked the pages it
   * failed to write clean, so they read back but no later flush writes them. Cutting the log
   * back to its durable end drops them from the cache (and from the file); the store makes the
   * cut durable judging only errors from now on. If that fails too, this process remembers the
   * log (see failed_tails.ts). Runs once; returns the sentence the failure message ends with.
   */
  #discardUnflushed(): string {
    if (this.#discarded !== undefined) return this.#discarded;
    const end = durableCut(this.#store, this.#commit.durableEnd);
    try {
      discardAfter(this.#store, end);
    } catch (error) {
      const identity = this.#store.identity;
      if (identity !== undefined) rememberUndiscarded(identity, end);
      this.#discarded = `Cutting the log back to LSN ${end}, its durable end, failed too ` +
        `(${messageOf(error)}): the operating system may still hold bytes after it that ` +
        `never reached the disk. ${
          identity === undefined
            ? "Do not reopen the log before the machine restarts"
            : "A reopen in this process retries the cut first and is refused while it fails; " +
              "do not open the log from another process before the machine restarts"
        }`;
      return this.#discarded;
    }
    this.#commit.truncated(end);
    this.#index.truncateAfter(end);
    this.#epoch.cutAfter(end);
    this.#changes.notify();
    this.#discarded = `The log was cut back to LSN ${end}, its durable end: every record ` +
      `whose sync resolved is kept, and the records appended after the last one are gone ` +
      `(a failed flush may have left them in the cache only). Reopen the log to go on`;
    return this.#discarded;
  }

  #checkOpen(): void {
    if (this.#closed) throw closedError();
  }

  #checkWritable(): void {
    this.#checkOpen();
    if (this.#config.readOnly) {
      throw new WalError("read-only", "Cannot write: the log was opened with readOnly");
    }
    if (this.#failure !== undefined) {
      throw new WalError(
        "failed",
        `The log failed earlier, so it refuses writes and syncs: ${this.#failure.message}`,
        { cause: this.#failure.cause },
      );
    }
  }

  #checkRecord(data: unknown): asserts data is Uint8Array {
    if (!(data instanceof Uint8Array)) {
      throw new TypeError(`Cannot append record: data must be a Uint8Array, got ${typeName(data)}`);
    }
    if (data.length > this.#config.maxRecordSize) {
      throw new WalError(
        "record-too-large",
        `Cannot append record: size is ${data.length} bytes, which exceeds maxRecordSize ` +
          `${this.#config.maxRecordSize}; split it or open the log with a larger maxRecordSize`,
        { lsn: this.#store.size },
      );
    }
  }

  /** Throws unless `lsn` is a record boundary (or, with `allowEnd`, the end) of the log. */
  #checkBoundary(lsn: unknown, action: string, allowEnd: boolean): asserts lsn is number {
    if (typeof lsn !== "number") {
      throw new TypeError(`Cannot ${action}: lsn must be a number, got ${typeName(lsn)}`);
    }
    const head = this.#store.head;
    const size = this.nextLsn;
    const inRange = Number.isInteger(lsn) && lsn >= head && (allowEnd ? lsn <= size : lsn < size);
    // The head and the end are positions even when no record starts there (the "skip" policy
    // may leave damage at the head); `truncateAfter` needs a record, so it asks the index.
    const position = allowEnd && (lsn === size || lsn === head);
    if (inRange && (position || this.#isBoundary(lsn, size, action))) return;
    const range = allowEnd ? `[${head}, ${size}]` : `[${head}, ${size})`;
    throw new WalError(
      "invalid-lsn",
      `Cannot ${action} LSN ${lsn}: ${
        inRange ? "no record starts there" : `it is outside ${range}`
      }; ` +
        `use an LSN returned by append or read from the log`,
      Number.isFinite(lsn) ? { lsn } : {},
    );
  }

  #isBoundary(lsn: Lsn, size: number, action: string): boolean {
    try {
      return this.#index.isBoundary(lsn, this.#store, size);
    } catch (error) {
      throw readError(error, action, lsn);
    }
  }

  #readChecked(lsn: Lsn, buffer: Uint8Array, action: string): void {
    try {
      this.#store.readAt(lsn, buffer);
    } catch (error) {
      throw readError(error, action, lsn);
    }
  }

  #checkRoom(size: number): void {
    if (this.#store.size + size > LOG_SIZE_LIMIT) {
      throw new RangeError(`Cannot append: the log would pass ${LOG_SIZE_LIMIT} bytes`);
    }
  }

  #scratchOf(size: number): Uint8Array {
    if (this.#scratch.length < size) {
      this.#scratch = new Uint8Array(
        Math.min(SCRATCH_SIZE_MAX, Math.max(size, this.#scratch.length * 2)),
      );
    }
    return this.#scratch;
  }
}

/** Where a cut back to the durable end lands: never past the end, never before the head. */
function durableCut(store: WalStore, durableEnd: number): number {
  return Math.max(store.head, Math.min(durableEnd, store.size));
}

/** Drops the bytes at and after `end` after a failed flush; see `WalStore.discardUnflushed`. */
function discardAfter(store: WalStore, end: number): void {
  if (store.discardUnflushed !== undefined) store.discardUnflushed(end);
  else store.truncate(end);
}

/**
 * Before recovery reads anything: if a failed flush of this log, earlier in this process, left
 * bytes that could not be discarded, cut them now or refuse to open. A read-only open cannot
 * cut, and what it would read past the durable end may not be on disk: it is refused.
 */
function discardLeftover(store: WalStore, readOnly: boolean): void {
  const identity = store.identity;
  const left = identity === undefined ? undefined : undiscardedOf(identity);
  if (identity === undefined || left === undefined) return;
  const end = left.end;
  if (end === undefined) {
    throw new WalError(
      "failed",
      `Cannot open the log: a flush failed while it was opened earlier in this process, so ` +
        `bytes of it may be in the operating system's cache without being on disk, and which ` +
        `ones is unknown. It is not opened again in this process; open it after the machine ` +
        `restarts`,
    );
  }
  const what = `a flush of it failed earlier in this process, and the bytes after LSN ${end}, ` +
    `its durable end, may be in the operating system's cache without being on disk`;
  if (readOnly) {
    throw new WalError(
      "failed",
      `Cannot open the log read-only: ${what}. Open it for writing, which cuts them off, or ` +
        `open it after the machine restarts`,
      { lsn: end },
    );
  }
  try {
    discardAfter(store, durableCut(store, end));
  } catch (error) {
    throw new WalError(
      "failed",
      `Cannot open the log: ${what}, and cutting them off failed again ` +
        `(${messageOf(error)}). It is not opened while they are there; retry, or open it after ` +
        `the machine restarts`,
      { lsn: end, cause: error },
    );
  }
  forgetUndiscarded(identity);
}

/**
 * The store as recovery sees it, calling `wrote` when recovery starts a cut, which flushes the
 * log: a failure from then on may have been a failed flush of it. (A set-aside flushes its own
 * copy, not the log.)
 */
function watchWrites(store: WalStore, wrote: () => void): WalStore {
  return new Proxy(store, {
    get(target, property) {
      if (property === "truncate") wrote();
      const value = Reflect.get(target, property, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/** A read that fails while checking an LSN changes nothing: the log stays usable. */
function readError(error: unknown, action: string, lsn: Lsn): unknown {
  if (error instanceof WalError || isPermissionError(error)) return error;
  return new WalError(
    "io",
    `Cannot ${action} LSN ${lsn}: reading the log failed: ${messageOf(error)}`,
    { lsn, cause: error },
  );
}

function closedError(): WalError {
  return new WalError("closed", "The log is closed; open it again to use it");
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function typeName(value: unknown): string {
  if (value === null) return "null";
  if (typeof value !== "object") return typeof value;
  return (value as object).constructor?.name ?? "object";
}
