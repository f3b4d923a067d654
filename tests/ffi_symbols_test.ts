// Copyright 2026 the wal-db authors. MIT license.
// Tests for ffi/symbols.ts: the table matches shim/wal_shim.h.

import assert from "node:assert/strict";
import { SHIM_ABI_VERSION, SHIM_SYMBOLS } from "../ffi/symbols.ts";

const HEADER = await Deno.readTextFile(new URL("../shim/wal_shim.h", import.meta.url));

/** The exported functions of wal_shim.h by name, with their C prototypes. */
function headerFunctions(): Map<string, string> {
  const functions = new Map<string, string>();
  for (const match of HEADER.matchAll(/^WAL_SHIM_API\s+(\w+)\s+(\w+)\(([^)]*)\);/gm)) {
    // A prototype may wrap over several lines.
    functions.set(match[2]!, `${match[1]} (${match[3]!.replace(/\s+/g, " ")})`);
  }
  return functions;
}

/** The FFI types a C type maps to. */
const C_TO_FFI: Readonly<Record<string, string>> = {
  "int32_t": "i32",
  "int64_t": "i64",
  "uint32_t": "u32",
  "const char *": "buffer",
  "uint64_t *": "buffer",
  "const uint8_t *": "buffer",
  "uint8_t *": "buffer",
  "uint32_t *": "buffer",
  "double": "f64",
};

function cParameterTypes(parameters: string): string[] {
  if (parameters.trim() === "void") return [];
  // Drop each parameter's name: "const char *path_utf8" becomes "const char *".
  return parameters.split(",").map((p) => p.replace(/\w+\s*$/, "").replace(/\s+/g, " ").trim());
}

Deno.test("SHIM_SYMBOLS binds every function of wal_shim.h with its C types", () => {
  const functions = headerFunctions();
  assert.deepEqual([...functions.keys()].sort(), [
    "wal_crc32c",
    "wal_crc32c_impl",
    "wal_crc32c_sw",
    "wal_scan_frames",
    "wal_shim_close",
    "wal_shim_datasync",
    "wal_shim_identity",
    "wal_shim_open",
    "wal_shim_preallocate",
    "wal_shim_pwrite",
    "wal_shim_pwrite_frame",
    "wal_shim_sync_dir",
    "wal_shim_version",
  ]);
  for (const [name, prototype] of functions) {
    const symbols: Readonly<Record<string, Deno.ForeignFunction>> = SHIM_SYMBOLS;
    const symbol = symbols[name];
    assert.ok(symbol !== undefined, `${name} is missing from SHIM_SYMBOLS`);
    const [result, parameters] = prototype.split(" (") as [string, string];
    const expected = cParameterTypes(parameters.slice(0, -1)).map((t) => C_TO_FFI[t]);
    assert.deepEqual(symbol.parameters, expected, `${name} parameters`);
    assert.equal(symbol.result, C_TO_FFI[result], `${name} result`);
    assert.equal(symbol.nonblocking ?? false, false, `${name} is blocking`);
  }
});

Deno.test("SHIM_SYMBOLS aliases wal_shim_datasync as a nonblocking call", () => {
  const { wal_shim_datasync: blocking, wal_shim_datasync_async: alias } = SHIM_SYMBOLS;
  assert.equal(alias.name, "wal_shim_datasync");
  assert.equal(alias.nonblocking, true);
  assert.deepEqual(alias.parameters, blocking.parameters);
  assert.equal(alias.result, blocking.result);
  const functions = headerFunctions();
  for (const [key, symbol] of Object.entries(SHIM_SYMBOLS)) {
    const cName = "name" in symbol ? symbol.name : key;
    assert.ok(functions.has(cName), `${key} names ${cName}, which wal_shim.h does not declare`);
  }
});

Deno.test("SHIM_ABI_VERSION equals WAL_SHIM_VERSION in wal_shim.h, which is 6", () => {
  const match = HEADER.match(/^#define WAL_SHIM_VERSION (\d+)$/m);
  assert.ok(match !== null, "wal_shim.h defines WAL_SHIM_VERSION");
  assert.equal(SHIM_ABI_VERSION, Number(match[1]));
  assert.equal(SHIM_ABI_VERSION, 6, "version 6 added wal_shim_pwrite_frame");
});
