// Copyright 2026 the wal-db authors. MIT license.
// An in-memory store: no permissions, no durability; for tests, examples and ephemeral logs.

import { assert } from "./assert.ts";
import type { SetAsideOptions, WalStore } from "./store.ts";

/**
 * A {@linkcode WalStore} that keeps the log in memory. It needs no permissions, so the examples
 * use it; nothing in it survives the process, so "durable" means "in this object".
 *
 * @example A log in memory
 * ```ts
 * import { MemStore, Wal } from "@wal-db/wal-db";
 * import { deepEqual } from "node:assert/strict";
 *
 * const store = new MemStore();
 * const wal = Wal.withStore(store);
 * wal.append(new TextEncoder().encode("abc"));
 * deepEqual(Array.from(store.bytes()), [0xf8, 0x83, 0x14, 0x55, 3, 0, 0, 0, 0x61, 0x62, 0x63]);
 * ```
 */
export class MemStore implements WalStore {
  #bytes: Uint8Array;
  #size: number;
  #flushCount = 0;
  #closed = false;
  readonly #setAside = new Map<string, Uint8Array>();

  /**
   * Creates a store, empty or holding a copy of `initial` (a log image to recover).
   *
   * @param initial Bytes the log starts with.
   */
  constructor(initial: Uint8Array = new Uint8Array(0)) {
    if (!(initial instanceof Uint8Array)) {
      throw new TypeError("Cannot create MemStore: initial must be a Uint8Array");
    }
    this.#bytes = initial.slice();
    this.#size = initial.length;
  }

  /** One past the last byte of the log. */
  get size(): number {
    return this.#size;
  }

  /** Always 0: a memory store keeps its whole log. */
  get head(): number {
    return 0;
  }

  /** Always `"memory (no durability)"`. */
  get durability(): string {
    return "memory (no durability)";
  }

  /** How many times `flush` or `flushSync` ran: lets tests see group commit at work. */
  get flushCount(): number {
    return this.#flushCount;
  }

  /** The copies `setAside` made, by the name it returned. */
  get setAsideCopies(): ReadonlyMap<string, Uint8Array> {
    return this.#setAside;
  }

  /** A copy of the log's bytes. */
  bytes(): Uint8Array {
    return this.#bytes.slice(0, this.#size);
  }

  /** Copies bytes at `offset` into `buffer`. */
  readAt(offset: number, buffer: Uint8Array): number {
    this.#checkOpen();
    const count = Math.max(0, Math.min(buffer.length, this.#size - offset));
    buffer.set(this.#bytes.subarray(offset, offset + count));
    return count;
  }

  /** Appends `data`. */
  append(data: Uint8Array): void {
    this.#checkOpen();
    const needed = this.#size + data.length;
    if (needed > this.#bytes.length) {
      // Doubling keeps appends amortized O(1).
      const grown = new Uint8Array(Math.max(needed, this.#bytes.length * 2, 1024));
      grown.set(this.#bytes.subarray(0, this.#size));
      this.#bytes = grown;
    }
    this.#bytes.set(data, this.#size);
    this.#size = needed;
  }

  /** Counts a flush; memory has nothing to flush. */
  flushSync(): void {
    this.#checkOpen();
    this.#flushCount++;
  }

  /** Counts a flush, resolving on a later microtask like a real asynchronous flush. */
  async flush(): Promise<void> {
    this.#checkOpen();
    await Promise.resolve();
    this.#flushCount++;
  }

  /** Cuts the log to `size` bytes. */
  truncate(size: number): void {
    this.#checkOpen();
    assert(size >= 0 && size <= this.#size, "a truncation is inside the log: size", size);
    this.#size = size;
  }

  /** Cuts the log to `size` bytes: memory has no cache that could hold unwritten bytes. */
  discardUnflushed(size: number): void {
    this.truncate(size);
  }

  /** Keeps a copy of `[offset, end)` under the name `<kind>-<offset>` (`damaged-` by default). */
  setAside(offset: number, copy: SetAsideOptions = {}): string {
    this.#checkOpen();
    const base = `${copy.kind ?? "damaged"}-${offset}`;
    let name = base;
    for (let n = 1; this.#setAside.has(name); n++) name = `${base}.${n}`;
    this.#setAside.set(
      name,
      this.#bytes.slice(offset, Math.min(copy.end ?? this.#size, this.#size)),
    );
    return name;
  }

  /**
   * Changes nothing and returns 0: a single file cannot drop its prefix without rewriting the
   * whole log, so `Wal.truncateBefore` throws `"unsupported"`. Use a segmented log for
   * checkpoints that reclaim space.
   */
  truncateBefore(_head: number): number {
    return 0;
  }

  /** Marks the store closed. Idempotent. */
  close(): void {
    this.#closed = true;
  }

  #checkOpen(): void {
    assert(!this.#closed, "a closed MemStore is not used");
  }
}
