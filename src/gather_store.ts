// Copyright 2026 the wal-db authors. MIT license.
// The gathered write mode (`writeMode: "gathered"`): a store in front of the real one that keeps
// the frames appended during one turn of the event loop in memory and hands them to the real
// store with one write before the turn ends (at a size cap, a flush, a read or close earlier).
// I/O core: talks to the store it wraps only through the `WalStore` interface.

import { assert } from "./assert.ts";
import { GATHER_SIZE_MAX } from "./constants.ts";
import type { SectorInfo } from "./damage.ts";
import type { SetAsideOptions, WalStore } from "./store.ts";

/**
 * Called when a deferred write fails. `end` is where the real store ended before the write:
 * the log must end there whatever part of the write landed. It must not throw.
 */
export type GatherFailure = (cause: unknown, end: number) => void;

/**
 * A {@linkcode WalStore} that gathers appends. `size` counts the gathered bytes, so the log's
 * LSNs are the same as without it; every operation that looks at the real store's bytes or size
 * (a read, a flush, a truncation, a set-aside, close) writes the gathered bytes out first, so
 * callers see one store whichever mode is on.
 *
 * The write-out runs in a microtask queued by the first append after the last write-out. A
 * microtask runs before the event loop takes its next task (a timer, I/O, a flush completing),
 * so the gathered bytes reach the operating system before this turn of the loop ends. A write
 * that fails there has no caller to throw to: it goes to `onFailure`, which fails the log.
 */
export class GatherStore implements WalStore {
  readonly #inner: WalStore;
  readonly #onFailure: GatherFailure;
  #buffer = new Uint8Array(0);
  /** Gathered bytes not handed to the real store yet: `#buffer[0, #pending)`. */
  #pending = 0;
  #scheduled = false;
  /** Write-outs so far: how many writes the real store took (for `wal.stats`). */
  #writes = 0;
  /** The microtask, made once: a closure per append would allocate on the hot path. */
  readonly #drainTask = (): void => {
    this.#scheduled = false;
    this.#drain(false);
  };
  readonly sectorAt?: (lsn: number) => SectorInfo;
  readonly identity?: string;
  readonly identifiesLog?: boolean;
  /** The real store's checkpoint off the main thread, after the gathered bytes are written. */
  readonly truncateBeforeAsync?: (head: number, moved: (head: number) => void) => Promise<number>;
  /** The real store's suffix cut off the main thread, after the gathered bytes are written. */
  readonly truncateAsync?: (size: number) => Promise<void>;

  /**
   * @param inner The real store; this one owns it from now on.
   * @param onFailure Where a deferred write's failure goes (see {@linkcode GatherFailure}).
   */
  constructor(inner: WalStore, onFailure: GatherFailure) {
    this.#inner = inner;
    this.#onFailure = onFailure;
    const sectorAt = inner.sectorAt;
    if (sectorAt !== undefined) this.sectorAt = (lsn) => sectorAt.call(inner, lsn);
    if (inner.identity !== undefined) this.identity = inner.identity;
    if (inner.identifiesLog !== undefined) this.identifiesLog = inner.identifiesLog;
    const truncateBeforeAsync = inner.truncateBeforeAsync;
    if (truncateBeforeAsync !== undefined) {
      this.truncateBeforeAsync = (head, moved) => {
        try {
          this.#drain(true);
        } catch (error) {
          return Promise.reject(error);
        }
        return truncateBeforeAsync.call(inner, head, moved);
      };
    }
    const truncateAsync = inner.truncateAsync;
    if (truncateAsync !== undefined) {
      this.truncateAsync = (size) => {
        try {
          this.#drain(true);
        } catch (error) {
          return Promise.reject(error);
        }
        return truncateAsync.call(inner, size);
      };
    }
  }

  /** The real store's end plus the gathered bytes: where the next append lands. */
  get size(): number {
    return this.#inner.size + this.#pending;
  }

  /** Where the bytes handed to the real store end. */
  get writtenEnd(): number {
    return this.#inner.size;
  }

  /** How many writes the real store took. */
  get writes(): number {
    return this.#writes;
  }

  get head(): number {
    return this.#inner.head;
  }

  get durability(): string {
    return this.#inner.durability;
  }

  /** Gathers `data`; writes everything out at once when the gathered bytes pass the cap. */
  append(data: Uint8Array): void {
    const length = data.length;
    if (this.#pending + length > GATHER_SIZE_MAX) {
      this.#drain(true);
      // Too large to gather at all: straight through, as the default mode would.
      if (length > GATHER_SIZE_MAX) return this.#writeThrough(data);
    }
    if (this.#pending + length > this.#buffer.length) this.#grow(this.#pending + length);
    this.#buffer.set(data, this.#pending);
    this.#pending += length;
    if (!this.#scheduled) {
      this.#scheduled = true;
      queueMicrotask(this.#drainTask);
    }
  }

  /**
   * Reads the written bytes from the real store and the gathered ones from memory. A read never
   * writes: a write failing would be a reader's error, while it must fail the log.
   */
  readAt(offset: number, buffer: Uint8Array): number {
    const written = this.#inner.size;
    if (this.#pending === 0 || offset + buffer.length <= written) {
      return this.#inner.readAt(offset, buffer);
    }
    let count = 0;
    if (offset < written) {
      count = this.#inner.readAt(offset, buffer.subarray(0, written - offset));
      if (count < written - offset) return count;
    }
    const from = offset + count - written;
    const n = Math.max(0, Math.min(buffer.length - count, this.#pending - from));
    buffer.set(this.#buffer.subarray(from, from + n), count);
    return count + n;
  }

  /** Writes out what is gathered now; a failure goes to `onFailure` and is thrown. */
  writeOut(): void {
    this.#drain(true);
  }

  flushSync(): void {
    this.#drain(true);
    this.#inner.flushSync();
  }

  flush(): Promise<void> {
    try {
      this.#drain(true);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#inner.flush();
  }

  truncate(size: number): void {
    this.#drain(true);
    this.#inner.truncate(size);
  }

  /**
   * After a failure: drops the gathered bytes (they were never written, so no cache holds them)
   * and lets the real store drop what it holds at and after `size`.
   */
  discardUnflushed(size: number): void {
    this.#pending = 0;
    const inner = this.#inner;
    if (size > inner.size) return;
    if (inner.discardUnflushed !== undefined) inner.discardUnflushed(size);
    else inner.truncate(size);
  }

  setAside(offset: number, copy?: SetAsideOptions): string {
    this.#drain(true);
    return this.#inner.setAside(offset, copy);
  }

  truncateBefore(head: number): number {
    this.#drain(true);
    return this.#inner.truncateBefore(head);
  }

  /** Writes out what is gathered, then closes the real store (also when the write fails). */
  close(): void {
    try {
      this.#drain(true);
    } finally {
      this.#inner.close();
    }
  }

  /**
   * Hands the gathered bytes to the real store with one append. A failure is reported to
   * `onFailure` and, when a caller is waiting (`rethrow`), thrown to it too.
   */
  #drain(rethrow: boolean): void {
    const pending = this.#pending;
    if (pending === 0) return;
    this.#pending = 0;
    this.#append(this.#buffer.subarray(0, pending), rethrow);
  }

  #writeThrough(data: Uint8Array): void {
    assert(this.#pending === 0, "a write-through follows a write-out: pending", this.#pending);
    this.#append(data, true);
  }

  #append(data: Uint8Array, rethrow: boolean): void {
    const end = this.#inner.size;
    this.#writes++;
    try {
      this.#inner.append(data);
    } catch (error) {
      this.#onFailure(error, end);
      if (rethrow) throw error;
    }
  }

  #grow(needed: number): void {
    // Doubling, capped: the buffer settles at the size one turn of appends needs.
    const grown = new Uint8Array(
      Math.min(GATHER_SIZE_MAX, Math.max(needed, this.#buffer.length * 2)),
    );
    grown.set(this.#buffer.subarray(0, this.#pending));
    this.#buffer = grown;
  }
}
