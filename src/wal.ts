// Copyright 2026 the wal-db authors. MIT license.
// The log's instance API: append, sync, truncate, iterate, follow, close. It checks that the
// log is open and that LSNs are boundaries, and hands the work to the writer (src/writer.ts),
// the cursors (src/cursor.ts) and, for a read-only log, the follower (src/follower.ts). The
// factories that open a log live in src/open.ts, the only core module that knows the backends.
// I/O core: talks to its store through the `WalStore` interface.

import type { BoundaryIndex } from "./boundary_index.ts";
import { ChangeSignal } from "./change_signal.ts";
import type { ResolvedConfig } from "./config.ts";
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
import { isPermissionError, WalError } from "./errors.ts";
import { Follower, type SeenRecords } from "./follower.ts";
import { checkBoundary, messageOf } from "./lsn.ts";
import type { RecordReader } from "./reader.ts";
import type { RecoveryReport } from "./recovery.ts";
import type { WalStore } from "./store.ts";
import { Writer } from "./writer.ts";

export type { Entry, Lsn, TailOptions };

const TAIL_POLL_MS_DEFAULT = 50;

/** What opening a log hands its constructor: the store, recovered, and what recovery learned. */
export interface RecoveredLog {
  readonly store: WalStore;
  readonly config: ResolvedConfig;
  readonly recovery: RecoveryReport;
  readonly index: BoundaryIndex;
  /** For a read-only log: fingerprints of the records recovery read. */
  readonly seen: SeenRecords | undefined;
  /** Starts the interval-sync timer, if the config asks for one; returns how to stop it. */
  readonly startTimer: (tick: () => void) => (() => void) | undefined;
}

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
export class WalCore implements Disposable, AsyncDisposable {
  readonly #store: WalStore;
  readonly #config: ResolvedConfig;
  readonly #recovery: RecoveryReport;
  readonly #index: BoundaryIndex;
  readonly #writer: Writer;
  /** Set for a read-only log: what it has seen of the log another process writes. */
  readonly #follower: Follower | undefined;
  #closed = false;
  #stopTimer: (() => void) | undefined;
  /** Settles once the store is closed; see {@linkcode WalCore.closed}. */
  readonly #storeClosed = Promise.withResolvers<void>();
  /** Wakes tails when the log changes (durable end, truncation, refresh, close). */
  readonly #changes = new ChangeSignal();
  /** Advances with every truncation, at either end; cursors compare it with what they saw. */
  readonly #epoch = new Epoch();
  /** What cursors read through. */
  readonly #cursors: CursorSource;

  /**
   * Wraps a recovered store; use `Wal.open`, `Wal.openSegmented` or `Wal.withStore`.
   *
   * @param log The recovered store and what recovery learned.
   */
  protected constructor(log: RecoveredLog) {
    const { store, config, recovery, index, seen } = log;
    this.#store = store;
    this.#index = index;
    this.#config = config;
    this.#recovery = recovery;
    this.#writer = new Writer(store, config, index, this.#epoch, this.#changes);
    this.#follower = seen === undefined
      ? undefined
      : new Follower(store, index, this.#epoch, seen, recovery.endLsn, config.maxRecordSize);
    this.#cursors = this.#cursorSource();
    // Reported through `closed` (and by `close()` itself when it can): never unhandled.
    this.#storeClosed.promise.catch(() => {});
    this.#stopTimer = log.startTimer(() => {
      if (!this.#closed) this.#writer.backgroundSync();
    });
  }

  /**
   * Where the next append lands: one past the end of the last record. For a read-only log, the
   * end of the intact records it has seen (see {@linkcode WalCore.refresh}).
   */
  get nextLsn(): Lsn {
    return this.#follower?.end ?? this.#writer.end;
  }

  /**
   * The end of the durable prefix: every record that ends at or below it survives a crash. A
   * read-only log cannot know what its writer made durable: it reports `nextLsn`.
   */
  get durableLsn(): Lsn {
    return this.#follower?.end ?? this.#writer.durableEnd;
  }

  /**
   * Where the log starts: the LSN of its first record. 0 unless {@linkcode WalCore.truncateBefore}
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
   * {@linkcode WalCore.sync} to make it durable. Empty records are valid.
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
    return this.#writer.append(data);
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
    return this.#writer.appendBatch(records);
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
    return this.#writer.sync();
  }

  /**
   * Like {@linkcode WalCore.sync}, but blocks the thread until the records are durable. Use it in
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
    this.#writer.syncSync();
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
    this.#writer.truncateAt(lsn);
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
    this.#writer.truncateAfterRecord(lsn);
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
    return this.#writer.truncateBefore(lsn);
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
    if (this.#follower === undefined) return this.nextLsn;
    if (this.#follower.refresh((reader) => this.#read(reader, false))) this.#changes.notify();
    return this.#follower.end;
  }

  /**
   * Yields the records from `from` on, then each new record once it is durable (once it is
   * visible, for a read-only log, which polls with {@linkcode WalCore.refresh}), until `signal`
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
      following: this.#follower !== undefined,
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
   * throws it (`"io"`) when the store closes at once, and {@linkcode WalCore.closed} rejects with
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
    this.#writer.abandon(closedError());
    this.#changes.notify();
    const settled = this.#writer.settled;
    if (settled === undefined) {
      const error = this.#closeStore();
      if (error !== undefined) throw error;
    } else {
      settled.then(() => this.#closeStore());
    }
  }

  /**
   * Settles once the store is closed after {@linkcode WalCore.close}: resolves when it closed
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

  /**
   * Closes the log and resolves once its store is closed and its lock released, also when a
   * flush was running: `await using wal = ...` ends its scope with the log fully closed, so the
   * same log can be opened again right after.
   *
   * @example
   * ```ts
   * import { MemStore, Wal } from "@wal-db/wal-db";
   *
   * const store = new MemStore();
   * {
   *   await using wal = Wal.withStore(store);
   *   wal.append(new Uint8Array(1));
   *   wal.sync();
   * }
   * ```
   */
  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
    await this.closed;
  }

  #read(reader: RecordReader, copy = true): ReturnType<RecordReader["next"]> {
    try {
      return reader.next(copy);
    } catch (error) {
      if (error instanceof WalError || isPermissionError(error)) throw error;
      throw new WalError("io", `Cannot read the log: ${messageOf(error)}`, { cause: error });
    }
  }

  #checkOpen(): void {
    if (this.#closed) throw closedError();
  }

  #checkWritable(): void {
    this.#checkOpen();
    this.#writer.checkWritable();
  }

  /** Throws unless `lsn` is a record boundary (or, with `allowEnd`, the head or end). */
  #checkBoundary(lsn: unknown, action: string, allowEnd: boolean): asserts lsn is number {
    checkBoundary(lsn, action, allowEnd, {
      head: this.#store.head,
      end: this.nextLsn,
      index: this.#index,
      bytes: this.#store,
    });
  }
}

function closedError(): WalError {
  return new WalError("closed", "The log is closed; open it again to use it");
}
