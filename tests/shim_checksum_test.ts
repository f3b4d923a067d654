// Copyright 2026 the wal-db authors. MIT license.
// Tests for src/shim_checksum.ts: which frame checksum a log's writer gets, and that the shim's
// gives what the TypeScript one does, frame for frame and log for log. The shim-side tests are
// ignored (and reported as such) without a binary for this platform or without --allow-ffi.

import { deepEqual, equal, notEqual } from "node:assert/strict";
import fc from "fast-check";
import { embeddedShimTarget } from "../ffi/mod.ts";
import { frameChecksum } from "../src/crc32c.ts";
import { MemStore } from "../src/mem_store.ts";
import { Wal } from "../src/open.ts";
import { chooseFrameChecksum } from "../src/shim_checksum.ts";
import { payload as bytesOf } from "./_helpers.ts";

const SHIM_USABLE = embeddedShimTarget() !== undefined &&
  Deno.permissions.querySync({ name: "ffi" }).state === "granted";
/** Every length up to this one is checked, then a few long ones. */
const EVERY_LENGTH_UP_TO = 1024;
const LONG_LENGTHS = [4095, 4096, 65_537, 1 << 20];

Deno.test("chooseFrameChecksum() keeps the TypeScript CRC for durability runtime", () => {
  // "runtime" means no native code: not even a load is tried (the path does not exist).
  equal(chooseFrameChecksum("runtime", "/no/such/lib.so"), frameChecksum);
});

Deno.test({
  name: "chooseFrameChecksum() keeps the TypeScript CRC when the shim cannot load",
  permissions: { read: true, write: true, env: true, ffi: false },
  fn() {
    equal(chooseFrameChecksum("auto", undefined), frameChecksum);
    equal(chooseFrameChecksum("shim", undefined), frameChecksum);
  },
});

Deno.test({
  name: "chooseFrameChecksum() takes the shim's CRC when it loads, equal to the TypeScript one",
  ignore: !SHIM_USABLE,
  fn() {
    const shim = chooseFrameChecksum("auto", undefined);
    notEqual(shim, frameChecksum);
    for (let length = 0; length <= EVERY_LENGTH_UP_TO; length++) {
      const payload = bytesOf(length, length + 1);
      equal(shim(length, payload) >>> 0, frameChecksum(length, payload), `length ${length}`);
    }
    for (const length of LONG_LENGTHS) {
      const payload = bytesOf(length, length);
      equal(shim(length, payload) >>> 0, frameChecksum(length, payload), `length ${length}`);
    }
    // A view into a larger buffer: the CRC covers the view only.
    const backing = bytesOf(300, 7);
    const view = backing.subarray(13, 270);
    equal(shim(view.length, view) >>> 0, frameChecksum(view.length, view));
    fc.assert(fc.property(fc.uint8Array({ maxLength: 600 }), (payload) => {
      equal(shim(payload.length, payload) >>> 0, frameChecksum(payload.length, payload));
    }));
  },
});

/** The bytes and LSNs of one sequence of appends, on a log opened with `durability`. */
function appendAll(durability: "auto" | "runtime", records: Uint8Array[]) {
  const store = new MemStore();
  using wal = Wal.withStore(store, { durability });
  const lsns = records.map((record) => wal.append(record));
  lsns.push(...wal.appendBatch(records.slice(0, 5)));
  return { lsns, bytes: store.bytes() };
}

Deno.test({
  name: "Wal.withStore() appends with the shim's CRC write the same log as with TypeScript's",
  ignore: !SHIM_USABLE,
  fn() {
    const records = Array.from({ length: 300 }, (_, i) => bytesOf(i * 7 % 1000, i + 3));
    const shim = appendAll("auto", records);
    const typescript = appendAll("runtime", records);
    deepEqual(shim.lsns, typescript.lsns);
    deepEqual(shim.bytes, typescript.bytes);
    // Each record reads back, so each CRC is the one the reader checks.
    using wal = Wal.withStore(new MemStore(shim.bytes), { recoveryPolicy: "strict" });
    equal([...wal.iter()].length, records.length + 5);
  },
});
