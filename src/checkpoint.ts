// Copyright 2026 the wal-db authors. MIT license.
// Checkpoints: a durable snapshot of the caller's state beside the log, then the log before it
// dropped, and the way back on start (load the snapshot, replay from its LSN). I/O core: talks
// to a `WalDirectory` and to the log's public API, never to `Deno.*`.

import { join } from "node:path";
import { SNAPSHOT_FILE_NAME, SNAPSHOT_HEADER_SIZE, SNAPSHOT_TEMP_FILE_NAME } from "./constants.ts";
import { crc32c } from "./crc32c.ts";
import type { Lsn } from "./cursor.ts";
import type { WalDirectory } from "./directory.ts";
import { isPermissionError, WalError } from "./errors.ts";
import { messageOf } from "./lsn.ts";
import { writeAtomically, writeAtomicallyAsync } from "./segment_files.ts";
import { decodeSnapshotHeader, encodeSnapshot, type Snapshot } from "./snapshot.ts";
import type { WalWrites } from "./wal_writes.ts";

export type { Snapshot } from "./snapshot.ts";

/**
 * What a checkpoint needs of a log: its positions, `iterFrom` (to check an LSN is a record
 * boundary), `sync` and `truncateBefore`, and `truncateBeforeAsync` where it has it (then no
 * step of the checkpoint blocks the thread on a flush). Every `Wal` has them all.
 */
export type CheckpointLog =
  & Pick<WalWrites, "head" | "nextLsn" | "durableLsn" | "iterFrom" | "sync" | "truncateBefore">
  & Partial<Pick<WalWrites, "truncateBeforeAsync">>;

/** Where to start after {@linkcode Snapshots.load}: the snapshot's bytes, and where to replay. */
export interface Restored {
  /** The snapshot's bytes, or `undefined` when there is none yet (start from an empty state). */
  readonly data: Uint8Array | undefined;
  /** Replay the log from here: the snapshot's LSN, or the log's head without a snapshot. */
  readonly lsn: Lsn;
}

/**
 * Checkpoints of a log: one snapshot file (`snapshot`) in a directory, written atomically and
 * durably (temp file, flush, rename, directory flush: the steps the log uses for its own `head`
 * file), and the checkpoint call that writes it and then drops the log before it.
 *
 * For a segmented log, give it the log's own directory: open it with `FsDirectory.open` (or
 * use a `MemDirectory` in tests) and pass the same object to `Wal.openSegmented`. For a
 * single-file log, give it a directory of its own (`FsDirectory.open("data/app.snapshots")`):
 * a single file cannot drop its prefix, so a checkpoint writes the snapshot and keeps the log
 * whole; replay still starts at the snapshot.
 *
 * One `Snapshots` per log, used by the log's one writer: a checkpoint is serialized with the
 * others of the same object, not with calls to `truncateBefore` made directly.
 *
 * @example The service pattern: restore, apply after sync, checkpoint, restart
 * ```ts
 * import { entryEnd, MemDirectory, Snapshots, Wal } from "@wal-db/wal-db";
 * import { deepEqual, equal } from "node:assert/strict";
 *
 * const text = new TextEncoder();
 * const dir = new MemDirectory();
 * {
 *   using wal = Wal.openSegmented(dir, 4096);
 *   const snapshots = new Snapshots(dir);
 *   const state: string[] = [];
 *   const data = text.encode("a");
 *   const lsn = wal.append(data);
 *   await wal.sync(); // apply only once durable
 *   state.push("a");
 *   const applied = entryEnd({ lsn, data }); // the state holds every record before this LSN
 *   await snapshots.checkpoint(wal, text.encode(JSON.stringify(state)), applied);
 *   equal(wal.head, applied);
 *   wal.append(text.encode("b"));
 *   await wal.sync();
 * }
 * // Restart: the snapshot, then the records after it.
 * const again = dir.reopen();
 * using wal = Wal.openSegmented(again, 4096);
 * const restored = new Snapshots(again).load(wal);
 * const state: string[] = JSON.parse(new TextDecoder().decode(restored.data));
 * for (const entry of wal.iterFrom(restored.lsn)) state.push(new TextDecoder().decode(entry.data));
 * deepEqual(state, ["a", "b"]);
 * ```
 */
export class Snapshots {
  readonly #dir: WalDirectory;
  /** The checkpoint running now: the next one starts after it. */
  #running: Promise<unknown> = Promise.resolve();

  /**
   * Snapshots kept in `directory`. Nothing is read or written until a method is called.
   *
   * @param directory Where the `snapshot` file lives; it stays the caller's (or the log's).
   */
  constructor(directory: WalDirectory) {
    if (typeof directory !== "object" || directory === null || !("list" in directory)) {
      throw new TypeError("Cannot use snapshots: directory must be a WalDirectory");
    }
    this.#dir = directory;
  }

  /** The snapshot file's path, for messages. */
  get path(): string {
    return join(this.#dir.path, SNAPSHOT_FILE_NAME);
  }

  /**
   * Reads and checks the snapshot file, without a log: its header's CRC, its length, its
   * payload's CRC.
   *
   * @returns The snapshot, or `undefined` when there is no snapshot file.
   * @throws {WalError} `"corruption"` when the file is damaged or not a snapshot (never an
   * empty state in its place); `"io"` when it cannot be read.
   *
   * @example
   * ```ts
   * import { MemDirectory, Snapshots } from "@wal-db/wal-db";
   * import { deepEqual, equal } from "node:assert/strict";
   *
   * const snapshots = new Snapshots(new MemDirectory());
   * equal(snapshots.read(), undefined);
   * snapshots.write(new Uint8Array([1, 2]), 0);
   * deepEqual(snapshots.read(), { lsn: 0, data: new Uint8Array([1, 2]) });
   * ```
   */
  read(): Snapshot | undefined {
    try {
      return this.#read();
    } catch (error) {
      throw wrap(error, `read the snapshot "${this.path}"`);
    }
  }

  /**
   * Replaces the snapshot file with `data` taken at `lsn`, atomically and durably: written to
   * `snapshot.tmp`, flushed, renamed over `snapshot`, and the directory flushed. A crash leaves
   * the old snapshot or the new one, never a mix; a leftover `snapshot.tmp` is ignored and
   * replaced by the next write. Use {@linkcode Snapshots.checkpoint} to also drop the log
   * before `lsn`: this call alone does not check `lsn` against any log.
   *
   * @param data The state, as bytes.
   * @param lsn The LSN of the first record the state does not include.
   * @throws {TypeError} If `data` is not a `Uint8Array` or `lsn` is not a number.
   * @throws {RangeError} If `lsn` is not a non-negative safe integer.
   * @throws {WalError} `"io"` when writing fails: before the rename the previous snapshot is
   * still there; a failed flush of the directory after it may leave either one.
   *
   * @example
   * ```ts
   * import { MemDirectory, Snapshots } from "@wal-db/wal-db";
   * import { equal } from "node:assert/strict";
   *
   * const snapshots = new Snapshots(new MemDirectory());
   * snapshots.write(new TextEncoder().encode("state"), 42);
   * equal(snapshots.read()?.lsn, 42);
   * ```
   */
  write(data: Uint8Array, lsn: Lsn): void {
    checkData(data);
    checkLsn(lsn);
    try {
      writeAtomically(
        this.#dir,
        SNAPSHOT_TEMP_FILE_NAME,
        SNAPSHOT_FILE_NAME,
        encodeSnapshot(lsn, data),
      );
    } catch (error) {
      throw wrap(error, `write the snapshot "${this.path}"`);
    }
  }

  /**
   * Where to start after opening `wal`: the latest snapshot and the LSN to replay from. The
   * snapshot must fit the log: its LSN a record boundary (or the end) in `[head, nextLsn]`.
   *
   * @param wal The log the snapshot belongs to, already open (recovered).
   * @returns The snapshot's bytes and its LSN; without a snapshot, no bytes and the head.
   * @throws {WalError} `"corruption"` when the snapshot file is damaged, when it does not fit
   * the log (a snapshot of another log, or a log that lost records), or when the log's head is
   * past 0 but there is no snapshot (the state before the head would be lost). Never an empty
   * state in place of a snapshot that cannot be used.
   *
   * @example
   * ```ts
   * import { MemDirectory, Snapshots, Wal } from "@wal-db/wal-db";
   * import { deepEqual } from "node:assert/strict";
   *
   * const dir = new MemDirectory();
   * using wal = Wal.openSegmented(dir, 4096);
   * deepEqual(new Snapshots(dir).load(wal), { data: undefined, lsn: 0 });
   * ```
   */
  load(wal: CheckpointLog): Restored {
    const snapshot = this.read();
    const { head, nextLsn } = wal;
    if (snapshot === undefined) {
      if (head === 0) return { data: undefined, lsn: head };
      throw this.#misfit(
        `there is no snapshot, but the log starts at LSN ${head}: the state before it is gone`,
        head,
      );
    }
    const lsn = snapshot.lsn;
    if (lsn < head) {
      throw this.#misfit(
        `the snapshot was taken at LSN ${lsn}, but the log starts later, at ${head}: the ` +
          `records between are gone`,
        lsn,
      );
    }
    if (lsn > nextLsn) {
      throw this.#misfit(
        `the snapshot was taken at LSN ${lsn}, past the log's end (${nextLsn}): it is a ` +
          `snapshot of another log, or the log lost records it held`,
        lsn,
      );
    }
    try {
      wal.iterFrom(lsn);
    } catch (error) {
      if (!(error instanceof WalError) || error.kind !== "invalid-lsn") throw error;
      throw this.#misfit(
        `no record of the log starts at the snapshot's LSN ${lsn}: it is a snapshot of ` +
          `another log`,
        lsn,
      );
    }
    return { data: snapshot.data, lsn };
  }

  /**
   * A checkpoint: writes `data` as the snapshot at `lsn`, then drops the log before `lsn`
   * (`truncateBefore`). Each step completes before the next, so a crash at any point leaves a
   * snapshot and a log that {@linkcode Snapshots.load} restores:
   *
   * 1. `wal.sync()`: the records before `lsn` are made durable (a snapshot never holds
   *    records a crash could take from the log), and a read-only or failed log is refused
   *    before anything is written;
   * 2. the snapshot is written atomically and durably ({@linkcode Snapshots.write});
   * 3. `wal.truncateBefore(lsn)`: the head moves to `lsn` and whole segments below it are
   *    removed. A crash before this step leaves the log whole and the snapshot new, which is
   *    consistent: replay starts at the snapshot. A store that cannot drop a prefix (a single
   *    file, memory) keeps the log whole; that is not an error here.
   *
   * Checkpoints on one `Snapshots` run one at a time, in call order.
   *
   * @param wal The log, open for writing.
   * @param data The caller's state with every record before `lsn` applied, and none after.
   * @param lsn A record boundary or `nextLsn`, at or after the head.
   * @returns The log's head afterwards.
   * @throws {TypeError} If `data` is not a `Uint8Array` or `lsn` not a number.
   * @throws {WalError} `"invalid-lsn"` (nothing written); `"io"` when the snapshot cannot be
   * written (the log is untouched); what `sync` and `truncateBefore` throw.
   *
   * @example
   * ```ts
   * import { MemDirectory, Snapshots, Wal } from "@wal-db/wal-db";
   * import { equal } from "node:assert/strict";
   *
   * const dir = new MemDirectory();
   * using wal = Wal.openSegmented(dir, 64);
   * for (let i = 0; i < 20; i++) wal.append(new Uint8Array(10));
   * const end = wal.nextLsn;
   * equal(await new Snapshots(dir).checkpoint(wal, new Uint8Array([20]), end), end);
   * equal(wal.head, end);
   * ```
   */
  checkpoint(wal: CheckpointLog, data: Uint8Array, lsn: Lsn): Promise<Lsn> {
    const run = this.#running.then(() => this.#checkpoint(wal, data, lsn));
    this.#running = run.catch(() => {});
    return run;
  }

  async #checkpoint(wal: CheckpointLog, data: Uint8Array, lsn: Lsn): Promise<Lsn> {
    checkData(data);
    wal.iterFrom(lsn); // throws "invalid-lsn" (or TypeError) unless a boundary in the log
    // Always: it makes the records before `lsn` durable, and it refuses a read-only, failed or
    // closed log before any snapshot is written (with nothing new, it flushes nothing).
    await wal.sync();
    // Checked again after awaiting: a cut made meanwhile may have removed the records.
    wal.iterFrom(lsn);
    if (lsn > wal.durableLsn) {
      throw new WalError(
        "invalid-lsn",
        `Cannot checkpoint at LSN ${lsn}: the log is durable only up to ${wal.durableLsn}`,
        { lsn },
      );
    }
    await this.#writeAsync(data, lsn);
    try {
      // Off the thread where the log can: a checkpoint must not stall the service's event loop.
      return await (wal.truncateBeforeAsync?.(lsn) ?? wal.truncateBefore(lsn));
    } catch (error) {
      if (error instanceof WalError && error.kind === "unsupported") return wal.head;
      if (error instanceof WalError && error.kind === "busy") {
        // Not "nothing was changed": the snapshot is in place. It fits the log unless the
        // running truncation is a suffix cut below `lsn`, which the caller must not make: a
        // snapshot's records are applied state, and a log cut below it no longer leads to it.
        throw new WalError(
          "busy",
          `Checkpoint at LSN ${lsn}: the snapshot was written, but the log's head was not ` +
            `moved: another truncation is running (now ending the log at ${wal.nextLsn}). ` +
            `Run checkpoints through one Snapshots and never cut the suffix below a checkpoint`,
          { lsn, cause: error },
        );
      }
      throw error;
    }
  }

  /** {@linkcode Snapshots.write} with its flushes off the main thread where the directory can. */
  async #writeAsync(data: Uint8Array, lsn: Lsn): Promise<void> {
    try {
      await writeAtomicallyAsync(
        this.#dir,
        SNAPSHOT_TEMP_FILE_NAME,
        SNAPSHOT_FILE_NAME,
        encodeSnapshot(lsn, data),
      );
    } catch (error) {
      throw wrap(error, `write the snapshot "${this.path}"`);
    }
  }

  #read(): Snapshot | undefined {
    const size = this.#dir.sizeOf(SNAPSHOT_FILE_NAME);
    if (size === undefined) return undefined;
    const file = this.#dir.open(SNAPSHOT_FILE_NAME, false);
    try {
      const header = new Uint8Array(Math.min(size, SNAPSHOT_HEADER_SIZE));
      const decoded = decodeSnapshotHeader(header.subarray(0, file.readAt(0, header)), size);
      if ("damage" in decoded) throw this.#damaged(decoded.damage);
      const data = new Uint8Array(decoded.length);
      const got = file.readAt(SNAPSHOT_HEADER_SIZE, data);
      if (got !== data.length) throw this.#damaged(`it ended after ${got} payload bytes`);
      if (crc32c(data) !== decoded.payloadCrc) throw this.#damaged("its payload fails its CRC32C");
      return { lsn: decoded.lsn, data };
    } finally {
      file.close();
    }
  }

  #damaged(why: string): WalError {
    return new WalError(
      "corruption",
      `The snapshot "${this.path}" is damaged: ${why}. It was not used, and nothing was ` +
        `changed; restore it from a backup, or move it away to rebuild the state from the log ` +
        `alone (only possible while the log still starts at LSN 0)`,
    );
  }

  #misfit(why: string, lsn: number): WalError {
    return new WalError(
      "corruption",
      `Cannot restore from the snapshot "${this.path}": ${why}. Nothing was changed`,
      { lsn },
    );
  }
}

function checkData(data: unknown): asserts data is Uint8Array {
  if (!(data instanceof Uint8Array)) {
    throw new TypeError("Cannot write a snapshot: data must be a Uint8Array");
  }
}

function checkLsn(lsn: unknown): asserts lsn is number {
  if (typeof lsn !== "number") throw new TypeError("Cannot write a snapshot: lsn must be a number");
  if (!Number.isSafeInteger(lsn) || lsn < 0) {
    throw new RangeError(`Cannot write a snapshot: lsn must be a non-negative integer, got ${lsn}`);
  }
}

/** I/O errors become `"io"`; WalErrors and missing permissions pass unchanged. */
function wrap(error: unknown, action: string): unknown {
  if (error instanceof WalError || !(error instanceof Error) || isPermissionError(error)) {
    return error;
  }
  return new WalError("io", `Cannot ${action}: ${messageOf(error)}`, { cause: error });
}
