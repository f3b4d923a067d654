// Copyright 2026 the wal-db authors. MIT license.
// One truncation at a time: an asynchronous truncation holds the gate until it settles, and any
// truncation asked for meanwhile is refused as busy. Pure: no I/O and no `Deno.*`.

import { WalError } from "./errors.ts";

/**
 * The gate a log's truncations pass. A truncation whose flushes run off the main thread leaves
 * the log usable meanwhile (appends, syncs, reads), but a second truncation could race its steps
 * (a suffix cut below a head being written, two head files in flight), so none may start until
 * it settles.
 */
export class TruncationGate {
  /** Set while an asynchronous truncation runs; settles (never rejects) when it ends. */
  #running: Promise<void> | undefined;

  /** Settles once the running truncation ends; undefined when none runs. Never rejects. */
  get settled(): Promise<void> | undefined {
    return this.#running;
  }

  /** Throws `"busy"` while an asynchronous truncation runs. */
  check(action: string): void {
    if (this.#running === undefined) return;
    throw new WalError(
      "busy",
      `Cannot ${action}: an asynchronous truncation is still running, and truncations run one ` +
        `at a time; nothing was changed. Await it first`,
    );
  }

  /**
   * Runs `work`, an asynchronous truncation, holding the gate until it settles: the gate opens
   * again before the caller hears of the outcome. Rejects with `"busy"` (running nothing) while
   * another one runs.
   */
  run<T>(action: string, work: () => Promise<T>): Promise<T> {
    try {
      this.check(action);
    } catch (error) {
      return Promise.reject(error);
    }
    const ended = Promise.withResolvers<void>();
    this.#running = ended.promise;
    const outcome = (async () => {
      try {
        return await work();
      } finally {
        this.#running = undefined;
        ended.resolve();
      }
    })();
    return outcome;
  }
}
