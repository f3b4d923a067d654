// Copyright 2026 the wal-db authors. MIT license.
// The append path's scratch buffer: where the writer frames records before handing them to the
// store, with no allocation per append. Pure: no I/O and no `Deno.*`.

import { SCRATCH_SIZE_MAX } from "./constants.ts";

/**
 * One buffer, grown by doubling up to {@linkcode SCRATCH_SIZE_MAX}; a larger frame gets an array
 * of its own that is not kept, so one huge record does not pin its size for the life of the log.
 */
export class FrameScratch {
  #buffer = new Uint8Array(4096);
  /**
   * The last view handed out, reused while frames keep its size: a `subarray` per append would
   * be the hot path's only allocation.
   */
  #view: Uint8Array = this.#buffer.subarray(0, 0);

  /** A buffer of at least `size` bytes to frame into, from offset 0. */
  bufferFor(size: number): Uint8Array {
    if (size > SCRATCH_SIZE_MAX) return new Uint8Array(size);
    if (this.#buffer.length < size) {
      this.#buffer = new Uint8Array(
        Math.min(SCRATCH_SIZE_MAX, Math.max(size, this.#buffer.length * 2)),
      );
    }
    return this.#buffer;
  }

  /** `buffer[0, size)` of the buffer `bufferFor(size)` returned: the same view while it can. */
  viewOf(buffer: Uint8Array, size: number): Uint8Array {
    if (buffer.length === size) return buffer;
    const view = this.#view;
    if (view.length === size && view.buffer === buffer.buffer) return view;
    return this.#view = buffer.subarray(0, size);
  }
}
