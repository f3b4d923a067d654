// Copyright 2026 the wal-db authors. MIT license.
// The asynchronous suffix cuts of the log's API: truncateFromAsync and truncateAfterAsync, whose
// store work runs off the main thread. The checks and the cut itself are WalWrites' and the
// writer's; this layer is their contract. I/O core: no `Deno.*`.

import type { Lsn } from "./cursor.ts";
import { WalWrites } from "./wal_writes.ts";

/**
 * The suffix truncations without blocking the event loop, on top of {@linkcode WalWrites}.
 * Every log is a `Wal`, which adds the factories.
 *
 * @example
 * ```ts
 * import { MemStore, Wal } from "@wal-db/wal-db";
 * import { equal } from "node:assert/strict";
 *
 * using wal = Wal.withStore(new MemStore()); // in memory the cut is done in the call
 * const conflict = wal.append(new Uint8Array([1]));
 * await wal.truncateFromAsync(conflict);
 * equal(wal.nextLsn, conflict);
 * ```
 */
export class WalAsyncCuts extends WalWrites {
  /**
   * {@linkcode WalWrites.truncateFrom} without blocking the event loop: the cut of the file and
   * its flush (for a segmented log, the cut segment's, each removal and the directory's flush)
   * run on worker threads, in the same order, and a crash at any point leaves the old tail or
   * the cut one. Durable when the promise resolves, as `truncateFrom` is when it returns.
   *
   * - The log ends at `lsn` in the call's own turn: `nextLsn`, `durableLsn` and cursors (which
   *   throw `"truncated"` past the cut, as after `truncateFrom`) see the cut at once.
   * - Until the promise settles nothing is appended: `append`, `appendBatch` and `syncSync`
   *   throw `"busy"`, as does any truncation, changing nothing. `sync()` waits for the cut and
   *   resolves once it is durable. Reads go on. After `await`, appends continue at `lsn`.
   * - A failed step fails the log (`"failed"`), as a failed `truncateFrom` does.
   * - `close()` waits for it to finish before it closes the files.
   * - A store without an asynchronous cut (a log in memory, a third-party store) does the
   *   blocking one in the call.
   *
   * @param lsn A record boundary, the head, or `nextLsn`. At `nextLsn` nothing is cut and
   * nothing is flushed: the promise resolves at once and `durableLsn` stays where it was (call
   * `sync()` for that).
   * @returns A promise that resolves once the shorter log is durable. Every error arrives as its
   * rejection, none is thrown by the call: a `TypeError` if `lsn` is not a number; a
   * {@linkcode WalError} `"invalid-lsn"`, `"busy"`, `"read-only"`, `"closed"`, `"failed"` (a
   * step of the cut failed, or the log had failed before), or `"io"` (reading a header for the
   * boundary check failed).
   *
   * @example A Raft follower drops a conflicting suffix and appends the leader's entries
   * ```ts
   * import { Wal } from "@wal-db/wal-db";
   * import { equal } from "node:assert/strict";
   *
   * const dir = Deno.makeTempDirSync();
   * {
   *   await using wal = Wal.openSegmented(dir, 4096);
   *   const lsns = Array.from({ length: 100 }, () => wal.append(new Uint8Array(100)));
   *   const cut = wal.truncateFromAsync(lsns[60]!);
   *   equal(wal.nextLsn, lsns[60]); // at once
   *   await cut; // durable now
   *   equal(wal.append(new Uint8Array(100)), lsns[60]);
   * }
   * Deno.removeSync(dir, { recursive: true });
   * ```
   */
  truncateFromAsync(lsn: Lsn): Promise<void> {
    return this.cutAsync(lsn, false);
  }

  /**
   * {@linkcode WalWrites.truncateAfter} without blocking the event loop: keeps the record at
   * `lsn` and drops every record after it, with the same rules as
   * {@linkcode WalAsyncCuts.truncateFromAsync}. Durable when the promise resolves.
   *
   * @param lsn The LSN of the last record to keep.
   * @returns A promise that resolves once the shorter log is durable (at once, with nothing
   * flushed, when `lsn` is the last record). Errors arrive as its rejection, as for
   * `truncateFromAsync`; `"invalid-lsn"` if no record starts at `lsn`.
   *
   * @example
   * ```ts
   * import { Wal } from "@wal-db/wal-db";
   * import { equal } from "node:assert/strict";
   *
   * const dir = Deno.makeTempDirSync();
   * {
   *   await using wal = Wal.open(`${dir}/app.wal`);
   *   const kept = wal.append(new Uint8Array([1]));
   *   wal.append(new Uint8Array([2]));
   *   await wal.truncateAfterAsync(kept);
   *   equal(wal.nextLsn, kept + 9);
   * }
   * Deno.removeSync(dir, { recursive: true });
   * ```
   */
  truncateAfterAsync(lsn: Lsn): Promise<void> {
    return this.cutAsync(lsn, true);
  }
}
