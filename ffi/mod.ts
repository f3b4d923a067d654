// Copyright 2026 the wal-db authors. MIT license.
// The public surface of the durability shim's loader: named re-exports only.
// ffi/ imports nothing from src/, and importing it loads and writes nothing.

export type { Crc32cPath, ShimCrc } from "./crc.ts";
export {
  embeddedShimTarget,
  loadShim,
  type Shim,
  ShimCallError,
  type ShimFile,
  type ShimFileIdentity,
  type ShimOptions,
  ShimUnavailableError,
  type ShimUnavailableReason,
} from "./loader.ts";
