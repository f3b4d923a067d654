// Copyright 2026 the wal-db authors. MIT license.
// The writing side of the log's API: append, sync, and truncation at either end. It checks that
// the log may write and that LSNs are boundaries, and hands the work to the writer.
// I/O core: no `Deno.*`.

import type { Lsn } from "./cursor.ts";
import { checkBoundary } from "./lsn.ts";
import { assemble, checkWritable, type LogParts, type RecoveredLog } from "./log_parts.ts";
import type { WalStats } from "./stats.ts";
import { WalCore } from "./wal.ts";

/**
 * Writing and truncation, on top of {@linkcode WalCore}. Every log is a `Wal`, which adds the
 * factories; a read-only log's writes throw `"read-only"`.
 *
 * @example
 * ```ts
 * import { MemStore, Wal } from "@wal-db/wal-db";
 * import { equal } from "node:assert/strict";
 *
 * using wal = Wal.withStore(new MemStore());
 * wal.append(new Uint8Array([1]));
 * wal.syncSync();
 * equal(wal.durableLsn, wal.nextLsn);
 * ```
 */
export class WalWrites extends WalCore {
  readonly #parts: LogParts;

  /**
   * Builds the log around a recovered store; use `Wal.open`, `Wal.openSegmented` or
   * `Wal.withStore`.
   *
   * @param log The recovered store and what recovery learned.
   */
  protected constructor(log: RecoveredLog) {
    const parts = assemble(log);
    super(parts);
    this.#parts = parts;
  }

  /**
   * Appends one record and returns its LSN. When it returns, the record is in the operating
   * system's page cache (it survives a crash of this process, not a power loss); call
   * {@linkcode WalWrites.sync} to make it durable. Empty records are valid.
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
    checkWritable(this.#parts);
    return this.#parts.writer.append(data);
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
    checkWritable(this.#parts);
    return this.#parts.writer.appendBatch(records);
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
      checkWritable(this.#parts);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#parts.writer.sync();
  }

  /**
   * Like {@linkcode WalWrites.sync}, but blocks the thread until the records are durable. Use it in
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
    checkWritable(this.#parts);
    this.#parts.writer.syncSync();
  }

  /**
   * Drops the record at `lsn` and every record after it, as after a Raft log conflict; appends
   * continue at `lsn`. Unlike `truncateAfter` and `truncateBefore`, which keep the record at
   * the LSN they are given, this drops it: "from" includes `lsn`. `truncateFrom(head)` empties the log. Durable when it returns: the
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
    this.#checkWritableAndWritten();
    this.#parts.writer.checkIdle(`truncate from LSN ${lsn}`);
    this.#checkBoundary(lsn, "truncate from", true);
    this.#parts.writer.truncateAt(lsn);
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
    this.#checkWritableAndWritten();
    this.#parts.writer.checkIdle(`truncate after LSN ${lsn}`);
    this.#checkBoundary(lsn, "truncate after", false);
    const writer = this.#parts.writer;
    writer.truncateAt(writer.endOfRecord(lsn));
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
    this.#checkWritableAndWritten();
    this.#parts.writer.checkIdle(`truncate before LSN ${lsn}`);
    this.#checkBoundary(lsn, "truncate before", true);
    return this.#parts.writer.truncateBefore(lsn);
  }

  /**
   * What the log did since it was opened: appends, bytes, writes, flushes, records per flush,
   * flush latency percentiles, time blocked in `syncSync`, and how long recovery took. The
   * counters are always on (they cost a few additions per append); each read returns a new
   * snapshot. See {@linkcode WalStats}.
   *
   * @example Group commit at work
   * ```ts
   * import { MemStore, Wal } from "@wal-db/wal-db";
   * import { equal } from "node:assert/strict";
   *
   * using wal = Wal.withStore(new MemStore());
   * await Promise.all([0, 1, 2].map(async () => {
   *   wal.append(new Uint8Array(24));
   *   await wal.sync();
   * }));
   * const stats = wal.stats;
   * equal(stats.appends, 3);
   * equal(stats.appendedBytes, 3 * 32);
   * equal(stats.flushes, 1);
   * equal(stats.recordsPerFlush, 3);
   * ```
   */
  get stats(): WalStats {
    return this.#parts.writer.stats;
  }

  /**
   * A truncation reads headers to check its LSN: in the gathered mode the gathered records are
   * written first, so that their write failing fails the log (`"failed"`) rather than the check.
   */
  #checkWritableAndWritten(): void {
    checkWritable(this.#parts);
    this.#parts.writer.writeOut();
  }

  /**
   * Checkpoint without blocking the event loop: {@linkcode WalWrites.truncateBefore} with every
   * flush it makes (the log's, the `head` file's, the directory's) on a worker thread. The steps,
   * their order and what a crash at any of them leaves are the same. Appends, `sync` and reads go
   * on while it runs.
   *
   * - The head moves (`head` changes, cursors below it throw `"truncated"`) in the turn the new
   *   head is durable, before any segment below it is removed; the promise resolves once they
   *   are removed. Until then `head` is the old one and every record is readable.
   * - Truncations run one at a time: any truncation (this one again, `truncateFrom`,
   *   `truncateAfter`, `truncateBefore` or their asynchronous variants) called before the
   *   promise settles throws `"busy"` and changes nothing.
   * - `close()` waits for it to finish before it closes the files.
   * - A store without an asynchronous prefix truncation (a single file, a log in memory, a
   *   third-party store) does the blocking one: `"unsupported"` where that throws it.
   *
   * @param lsn A record boundary at or after the head, or `nextLsn` (drops everything).
   * @returns A promise of the new head.
   * @throws {TypeError} If `lsn` is not a number.
   * @throws {WalError} (as a rejection) `"invalid-lsn"`, `"unsupported"`, `"busy"`, `"failed"` if
   * a step fails, `"closed"`.
   *
   * @example A checkpoint of a segmented log while it is appended to
   * ```ts
   * import { Wal } from "@wal-db/wal-db";
   * import { equal } from "node:assert/strict";
   *
   * const dir = Deno.makeTempDirSync();
   * {
   *   await using wal = Wal.openSegmented(dir, 4096);
   *   const lsns = Array.from({ length: 100 }, () => wal.append(new Uint8Array(100)));
   *   const checkpoint = wal.truncateBeforeAsync(lsns[80]!);
   *   wal.append(new Uint8Array(100)); // appends go on meanwhile
   *   equal(await checkpoint, lsns[80]);
   *   equal(wal.head, lsns[80]);
   *   equal([...wal.iter()].length, 21);
   * }
   * Deno.removeSync(dir, { recursive: true });
   * ```
   */
  truncateBeforeAsync(lsn: Lsn): Promise<Lsn> {
    return this.#checkedAsync(
      lsn,
      "truncate before",
      true,
      (l) => this.#parts.writer.truncateBeforeAsync(l),
    );
  }

  /**
   * The asynchronous suffix cut behind `truncateFromAsync` and `truncateAfterAsync`
   * (wal_async_cuts.ts): every truncation's checks, then the cut at `lsn` or, with
   * `afterRecord`, after the record there.
   *
   * @ignore
   */
  protected cutAsync(lsn: Lsn, afterRecord: boolean): Promise<void> {
    const writer = this.#parts.writer;
    const action = afterRecord ? "truncate after" : "truncate from";
    return this.#checkedAsync(
      lsn,
      action,
      !afterRecord,
      (l) => writer.truncateAtAsync(afterRecord ? writer.endOfRecord(l) : l),
    );
  }

  /** The checks of a truncation, then `run`; every throw becomes a rejection. */
  #checkedAsync<T>(
    lsn: Lsn,
    action: string,
    allowEnd: boolean,
    run: (lsn: Lsn) => Promise<T>,
  ): Promise<T> {
    try {
      this.#checkWritableAndWritten();
      this.#parts.writer.checkIdle(`${action} LSN ${lsn}`);
      this.#checkBoundary(lsn, action, allowEnd);
      return run(lsn);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Throws unless `lsn` is a record boundary (or, with `allowEnd`, the head or end). */
  #checkBoundary(lsn: unknown, action: string, allowEnd: boolean): asserts lsn is number {
    checkBoundary(lsn, action, allowEnd, {
      head: this.#parts.store.head,
      end: this.nextLsn,
      index: this.#parts.index,
      bytes: this.#parts.store,
    });
  }
}
