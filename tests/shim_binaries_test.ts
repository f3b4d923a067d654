// Copyright 2026 the wal-db authors. MIT license.
// Tests for ffi/bin/: each embedded shim decodes to the binary its metadata describes,
// for the right OS and CPU, as a shared library that exports the shim's functions.

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { EMBEDDED_SHIMS, type EmbeddedShim } from "../ffi/bin/mod.ts";

const FUNCTIONS = [
  "wal_shim_version",
  "wal_shim_open",
  "wal_shim_datasync",
  "wal_shim_sync_dir",
  "wal_shim_preallocate",
  "wal_shim_close",
  "wal_shim_identity",
  "wal_shim_pwrite",
  "wal_shim_pwrite_frame",
  "wal_crc32c_impl",
  "wal_crc32c",
  "wal_crc32c_sw",
  "wal_scan_frames",
];

function decode(shim: EmbeddedShim): Uint8Array {
  return Uint8Array.fromBase64(shim.SHIM_BASE64);
}

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function checkElf(bytes: Uint8Array, machine: number): void {
  const data = view(bytes);
  assert.deepEqual([...bytes.subarray(0, 4)], [0x7f, 0x45, 0x4c, 0x46], "ELF magic");
  assert.equal(bytes[4], 2, "ELFCLASS64");
  assert.equal(bytes[5], 1, "little-endian");
  assert.equal(data.getUint16(16, true), 3, "e_type ET_DYN");
  assert.equal(data.getUint16(18, true), machine, "e_machine");
}

function checkMachO(bytes: Uint8Array, cpuType: number): void {
  const data = view(bytes);
  assert.equal(data.getUint32(0, true), 0xfeedfacf, "MH_MAGIC_64");
  assert.equal(data.getUint32(4, true), cpuType, "cputype");
  assert.equal(data.getUint32(12, true), 6, "filetype MH_DYLIB");
}

function checkPe(bytes: Uint8Array): void {
  const data = view(bytes);
  assert.equal(String.fromCharCode(bytes[0]!, bytes[1]!), "MZ", "DOS magic");
  const pe = data.getUint32(0x3c, true);
  assert.deepEqual([...bytes.subarray(pe, pe + 4)], [0x50, 0x45, 0, 0], "PE signature");
  assert.equal(data.getUint16(pe + 4, true), 0x8664, "Machine AMD64");
  assert.equal(data.getUint32(pe + 8, true), 0, "TimeDateStamp cleared for a reproducible build");
  assert.equal(data.getUint16(pe + 22, true) & 0x2000, 0x2000, "IMAGE_FILE_DLL");
}

const EXPECTED: Record<string, { extension: string; check(bytes: Uint8Array): void }> = {
  darwin_aarch64: { extension: ".dylib", check: (b) => checkMachO(b, 0x0100000c) },
  darwin_x86_64: { extension: ".dylib", check: (b) => checkMachO(b, 0x01000007) },
  linux_aarch64: { extension: ".so", check: (b) => checkElf(b, 0xb7) },
  linux_x86_64: { extension: ".so", check: (b) => checkElf(b, 0x3e) },
  windows_x86_64: { extension: ".dll", check: checkPe },
};

Deno.test("EMBEDDED_SHIMS has one binary per shipped platform", () => {
  assert.deepEqual(Object.keys(EMBEDDED_SHIMS).sort(), Object.keys(EXPECTED).sort());
});

for (const [key, expected] of Object.entries(EXPECTED)) {
  Deno.test(`ffi/bin/${key}.ts decodes to a ${key} shared library`, async (t) => {
    const shim = EMBEDDED_SHIMS[key]!;
    const bytes = decode(shim);
    const sha256 = createHash("sha256").update(bytes).digest("hex");

    await t.step("size and SHA-256 match the metadata", () => {
      assert.equal(bytes.length, shim.SHIM_SIZE);
      assert.equal(sha256, shim.SHIM_SHA256);
    });

    await t.step("the file name carries the hash prefix and the OS's extension", () => {
      assert.equal(shim.SHIM_FILE_NAME, `libwal_shim-${sha256.slice(0, 16)}${expected.extension}`);
    });

    await t.step("the header names the right format, CPU and library type", () => {
      expected.check(bytes);
    });

    await t.step("every shim function name is in the binary", () => {
      const text = new TextDecoder("latin1").decode(bytes);
      for (const name of FUNCTIONS) assert.ok(text.includes(`${name}\0`), `${key} lacks ${name}`);
    });
  });
}
