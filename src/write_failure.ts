// Copyright 2026 the wal-db authors. MIT license.
// The writer's sticky failure: the first failure is kept, the log is cut back to its durable end
// once, and the message says what that cut did. I/O core: talks to its store through the
// `WalStore` interface.

import type { BoundaryIndex } from "./boundary_index.ts";
import type { ChangeSignal } from "./change_signal.ts";
import type { Epoch } from "./epoch.ts";
import { WalError } from "./errors.ts";
import { rememberUndiscarded } from "./failed_tails.ts";
import type { GroupCommit } from "./group_commit.ts";
import { messageOf } from "./lsn.ts";
import type { WalStore } from "./store.ts";

/** What a failure touches: the store it cuts, and the parts of the log that track its end. */
export interface FailureParts {
  readonly store: WalStore;
  readonly commit: Pick<GroupCommit, "durableEnd" | "truncated" | "markFailed">;
  readonly index: Pick<BoundaryIndex, "truncateAfter">;
  readonly epoch: Pick<Epoch, "cutAfter">;
  readonly changes: Pick<ChangeSignal, "notify">;
}

/**
 * The failed state of a writer. Once failed, a log stays failed: every later failure returns
 * the first error, and the cut back to the durable end runs once.
 */
export class WriteFailure {
  readonly #parts: FailureParts;
  #failure: WalError | undefined;
  /** After a failure: what cutting back to the durable end did, for the message. */
  #discarded: string | undefined;
  /**
   * Where the log ends after a failure that left bytes past it in the store: the end of the last
   * append that succeeded when an append failed (a short write may have left part of it), or
   * the durable end when the cut back to it failed too.
   */
  #endAfterFailure: number | undefined;

  constructor(parts: FailureParts) {
    this.#parts = parts;
  }

  /** The first failure, or undefined while the log has not failed. */
  get error(): WalError | undefined {
    return this.#failure;
  }

  /** Where the log ends after a failure that could not drop what follows; see the field. */
  get endAfterFailure(): number | undefined {
    return this.#endAfterFailure;
  }

  /**
   * Fails the log after an append that threw. The store may hold part of it (a short write,
   * say ENOSPC part way): the log's end never passes `end`, where the last successful append
   * ended, so neither the next LSN nor iteration reaches a partial frame. The failure then cuts
   * the log back to its durable end (see {@linkcode WriteFailure.fail}), which drops the
   * partial bytes with the rest of the unsynced tail; if that cut fails, reopening cuts them.
   */
  failWrite(cause: unknown, end: number): WalError {
    this.#endAfterFailure ??= end;
    return this.fail(cause, "write to the log");
  }

  /**
   * Enters the failed state (once), cuts the log back to its durable end, and returns the error
   * for the failing call. Every failure cuts, not only a failed sync: an append or a truncation
   * may flush too (a segment rotation, a cut), and the store cannot say which step failed.
   */
  fail(cause: unknown, action: string): WalError {
    const outcome = this.#discardUnflushed();
    this.#failure ??= new WalError(
      "failed",
      `Cannot ${action}: ${messageOf(cause)}. The log is now failed: every later append and ` +
        `sync fails. ${outcome}`,
      { cause },
    );
    this.#parts.commit.markFailed(this.#failure);
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
    const { store, commit } = this.#parts;
    const end = durableCut(store, commit.durableEnd);
    try {
      discardAfter(store, end);
    } catch (error) {
      const identity = store.identity;
      if (identity !== undefined) rememberUndiscarded(identity, end);
      // The log ends at `end` all the same: the failed cut may have removed or cut some of the
      // bytes after it (a segmented log's files), and cursors must not read into what is left.
      this.#endAfterFailure = Math.min(this.#endAfterFailure ?? end, end);
      this.#forget(end);
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
    this.#forget(end);
    this.#discarded = `The log was cut back to LSN ${end}, its durable end: every record ` +
      `whose sync resolved is kept, and the records appended after the last one are gone ` +
      `(a failed flush may have left them in the cache only). Reopen the log to go on`;
    return this.#discarded;
  }

  /** Tells the coordinator, the index and the cursors that the log now ends at `end`. */
  #forget(end: number): void {
    const { commit, index, epoch, changes } = this.#parts;
    commit.truncated(end);
    index.truncateAfter(end);
    epoch.cutAfter(end);
    changes.notify();
  }
}

/** Where a cut back to the durable end lands: never past the end, never before the head. */
export function durableCut(store: WalStore, durableEnd: number): number {
  return Math.max(store.head, Math.min(durableEnd, store.size));
}

/** Drops the bytes at and after `end` after a failed flush; see `WalStore.discardUnflushed`. */
export function discardAfter(store: WalStore, end: number): void {
  if (store.discardUnflushed !== undefined) store.discardUnflushed(end);
  else store.truncate(end);
}
