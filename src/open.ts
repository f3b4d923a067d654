// Copyright 2026 the wal-db authors. MIT license.
// Opening a log: the factories (a file, a segmented directory, any store) and the recovery
// wiring. The only core module that knows the backends; the log itself (src/wal.ts) only
// knows the `WalStore` interface.

import { BoundaryIndex } from "./boundary_index.ts";
import { resolveConfig, type ResolvedConfig, type WalConfig } from "./config.ts";
import { RECOVERY_PROGRESS_STEP } from "./constants.ts";
import { chooseScanner } from "./durability.ts";
import { isPermissionError, WalError } from "./errors.ts";
import { forgetUndiscarded, rememberUndiscarded, undiscardedOf } from "./failed_tails.ts";
import { FileStore } from "./file_store.ts";
import { SeenRecords } from "./follower.ts";
import { FsDirectory } from "./fs_directory.ts";
import { messageOf } from "./lsn.ts";
import { firstAtOrAfter, type RecordRun } from "./record_run.ts";
import { recover } from "./recovery.ts";
import type { WalDirectory } from "./directory.ts";
import { SegmentedStore } from "./segmented_store.ts";
import { checkSegmentSize } from "./segments.ts";
import { chooseFrameChecksum, chooseRawCrc } from "./shim_checksum.ts";
import type { WalStore } from "./store.ts";
import { startBackgroundTimer } from "./timer.ts";
import { type Codec, TypedWal } from "./typed.ts";
import { discardAfter, durableCut } from "./write_failure.ts";
import { WalAsyncCuts } from "./wal_async_cuts.ts";

export type { Entry, Lsn, TailOptions } from "./cursor.ts";

/** The methods a store must have; the optional ones are checked where they are used. */
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
export class Wal extends WalAsyncCuts {
  /**
   * Opens the log file at `path`, creating it (and flushing its directory) when it is missing,
   * takes the log's exclusive lock (on the file itself; on Windows on `<path>.wal-db-lock` beside
   * it, see docs/DURABILITY.md "Locks") and recovers it.
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
    return Wal.#recoverOrClose(store, withScanner(resolved));
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
   * flush. `dir` may also be a `WalDirectory` object: a `MemDirectory` (no permissions, for
   * tests), or an `FsDirectory` the caller opened so that `Snapshots` can write checkpoints into
   * the same directory. It is used as it is (`durability`, `shimPath` and `lock` do not apply),
   * and the log owns it from then on: it closes it when it closes, or when the open fails.
   *
   * @param dir The log's directory: a path, or an open `WalDirectory`.
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
   *
   * @example A segmented log in memory
   * ```ts
   * import { MemDirectory, Wal } from "@wal-db/wal-db";
   * import { equal } from "node:assert/strict";
   *
   * using wal = Wal.openSegmented(new MemDirectory(), 64);
   * for (let i = 0; i < 10; i++) wal.append(new Uint8Array(20));
   * await wal.sync();
   * equal(wal.truncateBefore(wal.nextLsn), 280);
   * ```
   */
  static openSegmented(
    dir: string | URL | WalDirectory,
    segmentSize: number,
    config?: WalConfig,
  ): Wal {
    let resolved: ResolvedConfig;
    try {
      checkSegmentSize(segmentSize);
      resolved = resolveConfig(config);
    } catch (error) {
      // A directory given is the log's from the call on: a refused open closes it too.
      if (isDirectory(dir)) dir.close();
      throw error;
    }
    const directory = isDirectory(dir) ? dir : FsDirectory.open(dir, {
      durability: resolved.durability,
      shimPath: resolved.shimPath,
      readOnly: resolved.readOnly,
      ...(resolved.lock === undefined ? {} : { lock: resolved.lock }),
    });
    const store = SegmentedStore.open(directory, segmentSize, { readOnly: resolved.readOnly });
    return Wal.#recoverOrClose(store, isDirectory(dir) ? resolved : withScanner(resolved));
  }

  static #recoverOrClose(store: WalStore, config: ResolvedConfig): Wal {
    let wrote = false;
    try {
      discardLeftover(store, config.readOnly);
      const index = new BoundaryIndex(store.head);
      const seen = config.readOnly ? new SeenRecords() : undefined;
      const recoveryStarted = performance.now();
      const progress = progressOf(config.onRecoveryProgress, store.head, store.size);
      const report = recover(watchWrites(store, () => wrote = true), {
        ...config,
        onRecord: (lsn, headers) => {
          index.add(lsn);
          seen?.note(lsn, headers);
          progress?.record(lsn);
        },
        onRun: (run, headers) => {
          index.addRun(run);
          seen?.noteRun(run, headers);
          progress?.run(run);
        },
        onSkip: (from, to) => {
          index.skip(from, to);
          progress?.record(to);
        },
      });
      // What a crashed process wrote may still be only in the page cache; make it durable
      // before anyone acts on it, so a later power loss cannot roll back replayed state.
      if (!config.readOnly) {
        wrote = true;
        store.flushSync();
      }
      const recoveryMs = performance.now() - recoveryStarted;
      seen?.seal(store);
      return new Wal({
        store,
        // The writer's CRC: the shim's when it loads (see shim_checksum.ts).
        config: config.readOnly
          ? config
          : { ...config, checksum: chooseFrameChecksum(config.durability, config.shimPath) },
        recovery: report,
        index,
        seen,
        recoveryMs,
        startTimer: (tick) =>
          config.syncIntervalMs === undefined
            ? undefined
            : startBackgroundTimer(config.syncIntervalMs, tick),
      });
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
  typed<T>(codec: Codec<T>): TypedWal<T, Wal> {
    return new TypedWal<T, Wal>(this, codec);
  }
}

/**
 * `config` with the shim's frame scanner, and its raw CRC for the search after damage, when its
 * durability mode allows and the shim loads (the raw CRC also wants the CPU's CRC instructions).
 */
function withScanner(config: ResolvedConfig): ResolvedConfig {
  return {
    ...config,
    scanner: chooseScanner({ mode: config.durability, shimPath: config.shimPath }),
    rawCrc: chooseRawCrc(config.durability, config.shimPath),
  };
}

/** True for a `WalDirectory` object (a `MemDirectory`, an `FsDirectory`), not a path. */
function isDirectory(dir: string | URL | WalDirectory): dir is WalDirectory {
  return typeof dir === "object" && dir !== null && !(dir instanceof URL) &&
    typeof (dir as WalDirectory).list === "function";
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

/** Progress reports of a recovery scan, fed record by record or a run at a time. */
interface Progress {
  record(lsn: number): void;
  run(run: RecordRun): void;
}

/**
 * Calls `report` with the bytes scanned so far at the first record at or past another
 * {@linkcode RECOVERY_PROGRESS_STEP} since the last report: one comparison per record, or per
 * run (where a search finds that record, so runs report what records one by one would).
 */
function progressOf(
  report: ((scanned: number, total: number) => void) | undefined,
  head: number,
  end: number,
): Progress | undefined {
  if (report === undefined) return undefined;
  let next = head + RECOVERY_PROGRESS_STEP;
  const record = (lsn: number) => {
    if (lsn < next) return;
    next = lsn + RECOVERY_PROGRESS_STEP;
    report(lsn - head, end - head);
  };
  return {
    record,
    run: (run) => {
      for (let index = firstAtOrAfter(run, next); index < run.count;) {
        record(run.lsnAt(index));
        index = firstAtOrAfter(run, next);
      }
    },
  };
}
