// Copyright 2026 the wal-db authors. MIT license.
// Which frame checksum a log's writer computes: the shim's CRC32C when the shim loads (its CPU
// instructions take about 30 ns for a 256 B record where the TypeScript table takes about 170),
// else the portable TypeScript one. Backend: talks to `ffi/`.

import { loadShim, type ShimCrc, ShimUnavailableError } from "../ffi/mod.ts";
import type { DurabilityMode } from "./config.ts";
import { frameChecksum } from "./crc32c.ts";
import type { FrameChecksum } from "./record.ts";

/** The frame checksum of each shim's CRC, made once: logs opened on one shim share it. */
const made = new WeakMap<ShimCrc, FrameChecksum>();

/** Used to take the CRC of a frame's length bytes alone, in TypeScript (four table steps). */
const NO_PAYLOAD = new Uint8Array(0);

/**
 * The checksum a writer frames records with (`ResolvedConfig.checksum`): the shim's CRC when
 * `durability` allows native code (`"auto"` or `"shim"`) and the shim loads without a prompt,
 * else {@linkcode frameChecksum}. Both give the same CRC for every frame (the shim's as a signed
 * 32-bit integer, which encodes to the same four bytes). `"runtime"` means no
 * native code at all, so it keeps the TypeScript CRC (the way to force it off). A shim whose
 * CRC is the portable C table is not used: the TypeScript slicing-by-8 code is faster. Never
 * throws for want of the shim: a log that can flush without it can also checksum without it.
 *
 * @param durability The log's durability mode.
 * @param shimPath An explicit shim library, as for the durability shim.
 * @returns The checksum to frame records with.
 */
export function chooseFrameChecksum(
  durability: DurabilityMode,
  shimPath: string | undefined,
): FrameChecksum {
  if (durability === "runtime") return frameChecksum;
  let crc: ShimCrc;
  try {
    crc = loadShim(shimPath === undefined ? {} : { path: shimPath }).crc;
  } catch (error) {
    if (error instanceof ShimUnavailableError) return frameChecksum;
    throw error;
  }
  if (crc.path === "table") return frameChecksum;
  let checksum = made.get(crc);
  if (checksum === undefined) {
    const crc32c = crc.crc32cInt32;
    // The frame's CRC covers its four length bytes, then the payload: the length's CRC (in
    // TypeScript, no array needed) seeds the shim's CRC of the payload. One FFI call, and no
    // allocation: the payload is passed as it is, and the CRC comes back signed (see
    // `crc32cInt32`; a frame stores the same four bytes). The writer checked `payload`.
    checksum = (length, payload) => crc32c(payload, frameChecksum(length, NO_PAYLOAD));
    made.set(crc, checksum);
  }
  return checksum;
}
