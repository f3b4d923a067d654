// Copyright 2026 the wal-db authors. MIT license.
// The log's reading side and life cycle: positions, iterate, follow, refresh, close. Writes are
// in wal_writes.ts, the factories in open.ts. I/O core: talks to its store as a `WalStore`.

import type { ChangeSignal } from "./change_signal.ts";
import {
  type CursorSource,
  type CursorState,
  entries,
  type Entry,
  follow,
  type Lsn,
  type TailOptions,
} from "./cursor.ts";
import { TAIL_POLL_MS_DEFAULT } from "./constants.ts";
import { isPermissionError, WalError } from "./errors.ts";
import type { Follower } from "./follower.ts";
import { checkBoundary, messageOf, readRecord } from "./lsn.ts";
import type { RecoveryReport } from "./recovery.ts";
import type { WalStore } from "./store.ts";
import type { Writer } from "./writer.ts";
import { closedError, type LogParts } from "./log_parts.ts";

/**
 * The reading side of a log, and its life cycle: positions, iteration, following, refresh and
 * close. {@linkcode Wal} adds writing, truncation and the factories; every log is a `Wal`.
 *
 * @example A log's positions
 * ```ts
 * import { MemStore, Wal } from "@wal-db/wal-db";
 * import { equal } from "node:assert/strict";
 *
 * using wal = Wal.withStore(new MemStore());
 * wal.append(new Uint8Array(2));
 * equal(wal.head, 0);
 * equal(wal.nextLsn, 10);
 * equal(wal.durableLsn, 0);
 * ```
 */
export class WalCore implements Disposable, AsyncDisposable {
  readonly #parts: LogParts;
  readonly #store: WalStore;
  readonly #writer: Writer;
  readonly #follower: Follower | undefined;
  readonly #changes: ChangeSignal;
  readonly #stopTimer: (() => void) | undefined;
  /** Settles once the store is closed; see {@linkcode WalCore.closed}. */
  readonly #storeClosed = Promise.withResolvers<void>();
  /** What cursors read through. */
  readonly #cursors: CursorSource;

  /**
   * Wraps the parts of an open log; use `Wal.open`, `Wal.openSegmented` or `Wal.withStore`.
   *
   * @param parts The recovered store and the parts built around it.
   */
  protected constructor(parts: LogParts) {
    this.#parts = parts;
    this.#store = parts.store;
    this.#writer = parts.writer;
    this.#follower = parts.follower;
    this.#changes = parts.changes;
    this.#cursors = this.#cursorSource();
    // Reported through `closed` (and by `close()` itself when it can): never unhandled.
    this.#storeClosed.promise.catch(() => {});
    this.#stopTimer = parts.startTimer(() => {
      if (!parts.state.closed) this.#writer.backgroundSync();
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
    return this.#parts.recovery;
  }

  /**
   * Words for the flush mechanism in use, e.g. `"fdatasync via shim"`: what the `durability`
   * option (a mode such as `"auto"`) resolved to on this machine, not the mode itself.
   */
  get durability(): string {
    return this.#store.durability;
  }

  /**
   * Replays the log from its start, up to its end when `iter` is called, never moving the append
   * position. Each `data` is the caller's: a view of a 256 KiB read-ahead chunk it keeps alive.
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
    const cursor: CursorState = {
      epoch: this.#parts.epoch.value,
      position: lsn,
      end: this.nextLsn,
    };
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
   * For a read-only log: looks for records a writer appended since the log was opened (or last
   * refreshed) and makes them visible to `iter`, `iterFrom` and `tail`. Stops at the first
   * record the writer has not finished. It reconciles the head and the end with the files: a
   * checkpoint or a cut it finds advances the epoch, so cursors it passed throw `"truncated"`.
   * A writer's own log sees its appends at once, so this changes nothing there.
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
    this.#refresh(false);
    return this.#follower?.end ?? this.nextLsn;
  }

  /** {@linkcode WalCore.refresh}; `damaged`: a cursor read damage (see `Follower.refresh`). */
  #refresh(damaged: boolean): void {
    this.#checkOpen();
    const follower = this.#follower;
    if (follower?.refresh((reader) => readRecord(reader, false), damaged)) this.#changes.notify();
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
   * A record already read is handed out when `next()` is called: calls made without awaiting
   * each other get the records the log held then, and a cut made before they are awaited is
   * reported by the first call after it.
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
    const cursor: CursorState = {
      epoch: this.#parts.epoch.value,
      position: start,
      end: undefined,
    };
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
      epoch: this.#parts.epoch,
      changes: this.#changes,
      maxRecordSize: this.#parts.config.maxRecordSize,
      scanner: this.#parts.config.scanner,
      following: this.#follower !== undefined,
      get isClosed() {
        return wal.#parts.state.closed;
      },
      checkOpen: () => this.#checkOpen(),
      read: (reader, copy) => readRecord(reader, copy),
      resumeAfter: (lsn) => this.#parts.index.resumeAfter(lsn),
      refresh: (damaged) => this.#refresh(damaged ?? false),
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
    if (this.#parts.state.closed) return;
    this.#parts.state.closed = true;
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

  #checkOpen(): void {
    if (this.#parts.state.closed) throw closedError();
  }

  /** Throws unless `lsn` is a record boundary (or, with `allowEnd`, the head or end). */
  #checkBoundary(lsn: unknown, action: string, allowEnd: boolean): asserts lsn is number {
    checkBoundary(lsn, action, allowEnd, {
      head: this.#store.head,
      end: this.nextLsn,
      index: this.#parts.index,
      bytes: this.#store,
    });
  }
}
