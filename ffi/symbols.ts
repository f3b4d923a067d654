// Copyright 2026 the wal-db authors. MIT license.
// The FFI symbol table of the durability shim (shim/wal_shim.h), typed for Deno.dlopen.
// Data only: importing this file loads nothing.

/**
 * The version of the C ABI this package expects from `wal_shim_version()`.
 *
 * It mirrors `WAL_SHIM_VERSION` in `shim/wal_shim.h`; the loader refuses a
 * library that reports any other number.
 *
 * @example Usage
 * ```ts
 * import { SHIM_ABI_VERSION } from "./symbols.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(SHIM_ABI_VERSION, 6);
 * ```
 */
export const SHIM_ABI_VERSION = 6;

/**
 * The shim's symbols in the form `Deno.dlopen` takes.
 *
 * Keys are the C names, so one search finds a function in both languages. Every
 * `wal_shim_*` function returns 0 (or 1 for "succeeded, but macOS fell back to fsync") or a
 * negative error code: `-errno` on Unix, `-GetLastError()` on Windows. Handles
 * are `i64`, which Deno passes as `bigint`. Paths are NUL-terminated UTF-8 in a
 * `buffer`.
 *
 * `wal_shim_preallocate` returns `-EOPNOTSUPP`/`-ENOTSUP`/`-ENOSYS` (Windows:
 * `-50`, `ERROR_NOT_SUPPORTED`) when space cannot be reserved ahead on this OS or
 * filesystem.
 *
 * `wal_shim_datasync_async` is the same C function as `wal_shim_datasync`, bound
 * a second time with `nonblocking: true` so that Deno runs it on its blocking
 * thread pool and returns a promise.
 *
 * `wal_shim_pwrite` (version 5) writes all of a buffer at an offset (continuing short writes
 * inside the call) and returns 0 or a negative error code. Its offset is an `f64`: an `i64`
 * would take a BigInt (or leave the fast call path when given a number) on every append. It
 * blocks, on purpose: the append that calls it returns once the bytes are in the operating
 * system's cache. `wal_shim_pwrite_frame` (version 6) first fills a record frame's header (its
 * CRC32C and length) in the buffer, so that an append is one FFI call, then writes as
 * `wal_shim_pwrite` does.
 *
 * The `wal_crc32c*` and `wal_scan_frames` functions (version 4) cannot fail: they
 * return checksums and counts, and trust their arguments, which `ffi/crc.ts` checks.
 *
 * @example Usage
 * ```ts
 * import { SHIM_SYMBOLS } from "./symbols.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(SHIM_SYMBOLS.wal_shim_datasync_async.name, "wal_shim_datasync");
 * assert.equal(SHIM_SYMBOLS.wal_shim_datasync_async.nonblocking, true);
 * ```
 */
export const SHIM_SYMBOLS = {
  // int32_t wal_shim_version(void);
  wal_shim_version: { parameters: [], result: "i32" },
  // int64_t wal_shim_open(const char *path_utf8);
  wal_shim_open: { parameters: ["buffer"], result: "i64" },
  // int32_t wal_shim_datasync(int64_t handle);
  wal_shim_datasync: { parameters: ["i64"], result: "i32" },
  // int32_t wal_shim_datasync(int64_t handle); run on Deno's blocking pool, returns a Promise
  wal_shim_datasync_async: {
    name: "wal_shim_datasync",
    parameters: ["i64"],
    result: "i32",
    nonblocking: true,
  },
  // int32_t wal_shim_sync_dir(const char *dir_utf8);
  wal_shim_sync_dir: { parameters: ["buffer"], result: "i32" },
  // int32_t wal_shim_preallocate(int64_t handle, int64_t offset, int64_t length);
  // Blocking on purpose: called rarely, and the append that needs the space waits for it.
  wal_shim_preallocate: { parameters: ["i64", "i64", "i64"], result: "i32" },
  // int32_t wal_shim_identity(int64_t handle, uint64_t *out); out is two u64: device, file
  wal_shim_identity: { parameters: ["i64", "buffer"], result: "i32" },
  // int32_t wal_shim_pwrite(int64_t handle, const uint8_t *data, uint32_t length, double offset);
  wal_shim_pwrite: { parameters: ["i64", "buffer", "u32", "f64"], result: "i32" },
  // int32_t wal_shim_pwrite_frame(int64_t handle, uint8_t *frame, uint32_t payload_length,
  //                               double offset);
  wal_shim_pwrite_frame: { parameters: ["i64", "buffer", "u32", "f64"], result: "i32" },
  // int32_t wal_shim_close(int64_t handle);
  wal_shim_close: { parameters: ["i64"], result: "i32" },
  // int32_t wal_crc32c_impl(void); which CRC32C path this CPU uses (WAL_CRC32C_* codes)
  wal_crc32c_impl: { parameters: [], result: "i32" },
  // uint32_t wal_crc32c(const uint8_t *data, uint32_t length, uint32_t seed);
  wal_crc32c: { parameters: ["buffer", "u32", "u32"], result: "u32" },
  // uint32_t wal_crc32c_sw(const uint8_t *data, uint32_t length, uint32_t seed); for tests
  wal_crc32c_sw: { parameters: ["buffer", "u32", "u32"], result: "u32" },
  // uint32_t wal_scan_frames(const uint8_t *buf, uint32_t start, uint32_t end,
  //                          uint32_t max_record_size, uint32_t *ends, uint32_t ends_cap);
  wal_scan_frames: {
    parameters: ["buffer", "u32", "u32", "u32", "buffer", "u32"],
    result: "u32",
  },
} as const satisfies Deno.ForeignLibraryInterface;

/**
 * The functions of an opened shim library, as `Deno.dlopen` types them.
 *
 * @example Usage
 * ```ts ignore
 * import { SHIM_SYMBOLS, type ShimSymbols } from "./symbols.ts";
 *
 * const library = Deno.dlopen("./libwal_shim.so", SHIM_SYMBOLS);
 * const symbols: ShimSymbols = library.symbols;
 * console.log(symbols.wal_shim_version());
 * ```
 */
export type ShimSymbols = Deno.DynamicLibrary<typeof SHIM_SYMBOLS>["symbols"];
