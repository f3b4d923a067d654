// Copyright 2026 the wal-db authors. MIT license.
// The truncation epoch: every cut of the log (either end) advances it, and cursors compare it
// with the epoch they last saw. Pure: no I/O and no `Deno.*`.

import { CUT_HISTORY_MAX } from "./constants.ts";

/**
 * Counts truncations and remembers where the recent suffix cuts landed, so a cursor that saw
 * epoch `e` can ask where the log was cut since. The head needs no history: it only moves
 * forward, so a cursor compares its position with the head it reads now.
 */
export class Epoch {
  #value = 0;
  /** Suffix cuts, oldest first: the epoch each one made and where it cut. */
  readonly #cuts: { epoch: number; lsn: number }[] = [];
  /** The epoch of the newest cut no longer remembered (0: none forgotten). */
  #forgotten = 0;

  /** Advances with every truncation; a cursor that saw this value has seen every cut. */
  get value(): number {
    return this.#value;
  }

  /** Notes that the log now ends at `lsn`: every record at or after it is gone. */
  cutAfter(lsn: number): void {
    this.#value++;
    this.#cuts.push({ epoch: this.#value, lsn });
    if (this.#cuts.length > CUT_HISTORY_MAX) this.#forgotten = this.#cuts.shift()!.epoch;
  }

  /** Notes that the head moved forward: the records before it are gone. */
  headMoved(): void {
    this.#value++;
  }

  /**
   * The lowest LSN the log was cut at after epoch `seen`, or undefined if there was no suffix
   * cut since. `fallback` (the head) when the cuts since `seen` are no longer all remembered.
   */
  lowestCutSince(seen: number, fallback: number): number | undefined {
    if (seen === this.#value) return undefined;
    if (seen < this.#forgotten) return fallback;
    let lowest: number | undefined;
    for (let i = this.#cuts.length - 1; i >= 0 && this.#cuts[i]!.epoch > seen; i--) {
      lowest = Math.min(lowest ?? Infinity, this.#cuts[i]!.lsn);
    }
    return lowest;
  }
}
