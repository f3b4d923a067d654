// Copyright 2026 the wal-db authors. MIT license.
// The shim's CRC32C and frame scan, wrapped for TypeScript: argument checks, then one FFI call.
// Used through `loadShim().crc`; importing this file loads nothing.

import type { ShimSymbols } from "./symbols.ts";

/**
 * The CRC32C code the shim runs on this CPU, detected once inside the library.
 *
 * | path | meaning |
 * | --- | --- |
 * | `"sse4.2+pclmul"` | x86_64: the `crc32` instruction in three interleaved streams, joined with `pclmulqdq` |
 * | `"sse4.2"` | x86_64 without `pclmulqdq`: the `crc32` instruction in one stream |
 * | `"armv8"` | aarch64: the ARMv8 `crc32c` instructions in one stream |
 * | `"table"` | any other CPU: portable C, one table lookup per byte (slower than the TypeScript slicing-by-8 code) |
 *
 * @example Preferring TypeScript where the shim has no CRC instructions
 * ```ts
 * import type { Crc32cPath } from "./mod.ts";
 * import assert from "node:assert/strict";
 *
 * const useShim = (path: Crc32cPath) => path !== "table";
 * assert.equal(useShim("sse4.2+pclmul"), true);
 * assert.equal(useShim("table"), false);
 * ```
 */
export type Crc32cPath = "table" | "sse4.2" | "sse4.2+pclmul" | "armv8";

/** Path names by the `WAL_CRC32C_*` code that `wal_crc32c_impl()` returns. */
const PATHS: readonly Crc32cPath[] = ["table", "sse4.2", "sse4.2+pclmul", "armv8"];

/** The most a u32 argument can carry: offsets into one chunk, and lengths per call. */
const U32_MAX = 0xffff_ffff;

/** Bytes per call when a buffer is longer than a u32 length can say. */
const CRC_PIECE = 1 << 30;

/**
 * CRC32C and frame checks run by the native shim (`loadShim().crc`): the same results as
 * `crc32c` and `scanFrames` in TypeScript, at the speed of the CPU's CRC instructions where it
 * has them. Both functions are plain closures, so they can be passed around detached.
 *
 * @example Checking a chunk of frames in one call
 * ```ts ignore
 * import { loadShim } from "./mod.ts";
 *
 * const { crc } = loadShim();
 * console.log(`CRC32C via ${crc.path}`);
 * const chunk = await Deno.readFile("./app.wal");
 * const ends = new Uint32Array(4096);
 * const count = crc.scanFrames(chunk, 0, chunk.length, 64 << 20, ends);
 * console.log(`${count} intact frames, the last ending at ${ends[count - 1] ?? 0}`);
 * ```
 */
export interface ShimCrc {
  /** The code path the shim took for this CPU. */
  readonly path: Crc32cPath;
  /**
   * The CRC32C of `data`; `seed` is the CRC of the bytes before it (0 to start), as in the
   * TypeScript `crc32c`.
   *
   * @throws {TypeError} If `data` is not a Uint8Array.
   * @throws {RangeError} If `seed` is not a u32.
   */
  crc32c(data: Uint8Array, seed?: number): number;
  /**
   * `crc32c(data, seed) | 0`, for a hot path (each record append): the same CRC as a signed
   * 32-bit integer (`>>> 0` gives the unsigned one), which V8 keeps unboxed where an unsigned
   * value of 2^31 or more returned from a call takes a new heap number each time. Checks
   * nothing: `data` must be a Uint8Array shorter than 4 GiB and `seed` a u32.
   */
  crc32cInt32(data: Uint8Array, seed: number): number;
  /**
   * Walks the intact frames of `buf[start, end)` from `start` on and writes where each ends
   * (an offset into `buf`) into `ends`; returns how many it wrote. The contract is the one of
   * the TypeScript `scanFrames`: a frame is intact when its header, a length of at most
   * `maxRecordSize` and its whole payload lie before `end` (which is capped at `buf.length`)
   * and its CRC32C matches; the walk stops at the first frame that is not, at `end`, or once
   * `ends` is full, and `start > end` writes nothing.
   *
   * @throws {TypeError} If `buf` is not a Uint8Array or `ends` not a Uint32Array.
   * @throws {RangeError} If `start`, `end` or `maxRecordSize` is not a non-negative safe
   * integer, or the part of `buf` to scan reaches past 4 GiB (offsets are u32).
   */
  scanFrames(
    buf: Uint8Array,
    start: number,
    end: number,
    maxRecordSize: number,
    ends: Uint32Array,
  ): number;
}

/**
 * Wraps the CRC functions of an opened shim (ABI version 4 or later); the loader does this for
 * every library it opens, as `Shim.crc`.
 *
 * @param symbols The library's functions, as `Deno.dlopen` returns them.
 * @returns The wrapper.
 * @throws {RangeError} If the library reports a CRC path this code does not know.
 *
 * @example Usage
 * ```ts ignore
 * import { shimCrc } from "./crc.ts";
 * import { SHIM_SYMBOLS } from "./symbols.ts";
 *
 * const library = Deno.dlopen("./libwal_shim.so", SHIM_SYMBOLS);
 * console.log(shimCrc(library.symbols).path);
 * ```
 */
export function shimCrc(symbols: ShimSymbols): ShimCrc {
  const code = symbols.wal_crc32c_impl();
  const path = PATHS[code];
  if (path === undefined) throw new RangeError(`The shim reports an unknown CRC32C path ${code}`);
  const crc = symbols.wal_crc32c;
  const scan = symbols.wal_scan_frames;
  return {
    path,
    crc32c(data: Uint8Array, seed = 0): number {
      if (!(data instanceof Uint8Array)) {
        throw new TypeError(`Cannot compute CRC32C: data must be a Uint8Array, got ${typeof data}`);
      }
      if (!Number.isInteger(seed) || seed < 0 || seed > U32_MAX) {
        throw new RangeError(`Cannot compute CRC32C: seed must be a u32, got ${seed}`);
      }
      if (data.length <= U32_MAX) return crc(data, data.length, seed);
      let result = seed;
      for (let at = 0; at < data.length; at += CRC_PIECE) {
        const piece = data.subarray(at, at + CRC_PIECE);
        result = crc(piece, piece.length, result);
      }
      return result;
    },
    crc32cInt32: (data: Uint8Array, seed: number): number => crc(data, data.length, seed) | 0,
    scanFrames(buf, start, end, maxRecordSize, ends): number {
      if (!(buf instanceof Uint8Array)) {
        throw new TypeError(`Cannot scan frames: buf must be a Uint8Array, got ${typeof buf}`);
      }
      if (!(ends instanceof Uint32Array)) {
        throw new TypeError(`Cannot scan frames: ends must be a Uint32Array, got ${typeof ends}`);
      }
      checkCount("start", start);
      checkCount("end", end);
      checkCount("maxRecordSize", maxRecordSize);
      // Never past the array, whatever `end` says: the C code would read out of bounds.
      const limit = end < buf.length ? end : buf.length;
      if (start >= limit) return 0;
      if (limit > U32_MAX) {
        throw new RangeError(`Cannot scan frames: offset ${limit} is past 4 GiB; scan in chunks`);
      }
      // A length is a u32, so every larger maximum means "no limit" alike.
      const max = maxRecordSize < U32_MAX ? maxRecordSize : U32_MAX;
      const cap = ends.length < U32_MAX ? ends.length : U32_MAX;
      return scan(buf, start, limit, max, ends, cap);
    },
  };
}

function checkCount(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(
      `Cannot scan frames: ${name} must be a non-negative safe integer, got ${value}`,
    );
  }
}
