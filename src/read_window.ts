// Copyright 2026 the wal-db authors. MIT license.
// A window of a source's bytes held in one reused array: which range it holds, and reading the
// next one. Pure: no `Deno.*`.

import { assert } from "./assert.ts";

/** Anything the reader can pull bytes from: a store, or an array in a test. */
export interface ByteSource {
  /**
   * Copies the bytes at `offset` into `buffer` and returns how many were copied. Fewer than
   * `buffer.length` only when the source ends before the buffer is full.
   */
  readAt(offset: number, buffer: Uint8Array): number;
}

const EMPTY = new Uint8Array(0);

/**
 * Up to `capacity` bytes of a source, read into one array that is reused, and the range they
 * came from. {@linkcode ReadWindow.load} empties the window before it reads: a read that throws
 * part way (a failing source may have written over the array first) leaves a window that holds
 * nothing, never one that claims old or scribbled bytes lie at the new offset. A reader used
 * again after an I/O error relies on that; the search after damage and the checksums of long
 * frames both read through a window.
 *
 * @example Load, find, load again
 * ```ts
 * import { ReadWindow } from "./read_window.ts";
 * import { equal } from "node:assert/strict";
 *
 * const bytes = new Uint8Array([10, 11, 12, 13, 14, 15]);
 * const source = { readAt: (at: number, into: Uint8Array) => {
 *   const part = bytes.subarray(at, at + into.length);
 *   into.set(part);
 *   return part.length;
 * } };
 * const window = new ReadWindow(4);
 * equal(window.indexOf(0, 1), -1);
 * equal(window.load(source, 2, 4), 4);
 * equal(window.indexOf(3, 2), 1);
 * equal(window.array[window.indexOf(3, 2)], 13);
 * equal(window.indexOf(5, 2), -1); // runs past what it holds
 * equal(window.end, 6);
 * ```
 */
export class ReadWindow {
  readonly #capacity: number;
  #array: Uint8Array = EMPTY;
  /** Where the window starts: -1 (no offset, all being ≥ 0) until the first load. */
  #start = -1;
  #length = 0;

  /** A window of at most `capacity` bytes; its array is allocated at the first load. */
  constructor(capacity: number) {
    assert(Number.isInteger(capacity) && capacity > 0, "a window holds some bytes", capacity);
    this.#capacity = capacity;
  }

  /** The array holding the window's bytes from index 0 (empty before the first load). */
  get array(): Uint8Array {
    return this.#array;
  }

  /** The offset of the window's first byte in the source (-1 before the first load). */
  get start(): number {
    return this.#start;
  }

  /** The offset just past the window's last byte. */
  get end(): number {
    return this.#start + this.#length;
  }

  /** Where `[offset, offset + size)` lies in `array` when the window holds all of it, else -1. */
  indexOf(offset: number, size: number): number {
    // No test of whether anything was loaded: it cost ~5% of the search after damage, which
    // calls this at every offset. Before the first load `#start` is -1, so no offset is held.
    const from = offset - this.#start;
    return from >= 0 && from + size <= this.#length ? from : -1;
  }

  /**
   * Reads `want` bytes (at most the capacity) at `offset` into the window, emptying it first;
   * returns how many the source had (fewer only where it ends).
   */
  load(source: ByteSource, offset: number, want: number): number {
    assert(want >= 0 && want <= this.#capacity, "a load fits the window: want", want);
    assert(offset >= 0, "a load starts inside the source: offset", offset);
    if (this.#array === EMPTY) this.#array = new Uint8Array(this.#capacity);
    this.#length = 0;
    this.#start = offset;
    this.#length = source.readAt(offset, this.#array.subarray(0, want));
    return this.#length;
  }
}
