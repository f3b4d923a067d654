// Copyright 2026 the wal-db authors. MIT license.
// Which CRC32C a log computes with: the shim's when the shim loads (its CPU instructions take
// about 30 ns for a 256 B record where the TypeScript table takes about 170), else the portable
// TypeScript one; for the writer's frame checksums and for the range checksums of the search
// after damage. Backend: talks to `ffi/`.

import { loadShim, type ShimCrc, ShimUnavailableError } from "../ffi/mod.ts";
import type { DurabilityMode } from "./config.ts";
import { crc32cRaw, frameChecksum, type RawCrc } from "./crc32c.ts";
import type { FrameChecksum } from "./record.ts";

/** The frame checksum of each shim's CRC, made once: logs opened on one shim share it. */
const made = new WeakMap<ShimCrc, FrameChecksum>();

/** The raw CRC of each shim's CRC, made once, as `made`. */
const madeRaw = new WeakMap<ShimCrc, RawCrc>();

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
  const crc = fastShimCrc(durability, shimPath);
  if (crc === undefined) return frameChecksum;
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

/**
 * The raw CRC the search for records after damage computes its range checksums with
 * (`ResolvedConfig.rawCrc`): the shim's CRC on the same terms as {@linkcode chooseFrameChecksum},
 * else {@linkcode crc32cRaw}. Both give the same register for every input. The checkpoint pass
 * over the rest of a log, one call per `CRC_CHECKPOINT_SPACING` bytes, ran about 3.3x as fast
 * with the shim's at a checkpoint every 512 bytes (5.4 against 1.6 GiB/s on x86_64,
 * sse4.2+pclmul: the view and FFI call of each took much of what the CPU's instructions save),
 * which is why checkpoints are now 4 KiB apart.
 *
 * @param durability The log's durability mode.
 * @param shimPath An explicit shim library, as for the durability shim.
 * @returns The raw CRC to compute range checksums with.
 */
export function chooseRawCrc(durability: DurabilityMode, shimPath: string | undefined): RawCrc {
  const crc = fastShimCrc(durability, shimPath);
  if (crc === undefined) return crc32cRaw;
  let raw = madeRaw.get(crc);
  if (raw === undefined) {
    const crc32c = crc.crc32cInt32;
    // crc32c(data, seed) is ~raw(~seed, data): seeded with the inverted register, the shim's
    // CRC inverted again is the raw register. One FFI call and no allocation, as above; the
    // ranges are chunks of a log, far below the 4 GiB `crc32cInt32` takes.
    raw = (register, data) => ~crc32c(data, ~register >>> 0) >>> 0;
    madeRaw.set(crc, raw);
  }
  return raw;
}

/**
 * The shim's CRC when `durability` allows native code and the shim loads and runs the CPU's
 * CRC instructions; else undefined, for the TypeScript CRC. The shim's table path is not used:
 * the TypeScript slicing-by-8 code is faster than its byte-at-a-time table.
 */
function fastShimCrc(
  durability: DurabilityMode,
  shimPath: string | undefined,
): ShimCrc | undefined {
  if (durability === "runtime") return undefined;
  let crc: ShimCrc;
  try {
    crc = loadShim(shimPath === undefined ? {} : { path: shimPath }).crc;
  } catch (error) {
    if (error instanceof ShimUnavailableError) return undefined;
    throw error;
  }
  return crc.path === "table" ? undefined : crc;
}
