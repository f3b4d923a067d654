// Copyright 2026 the wal-db authors. MIT license.
// Tests for src/shim_checksum.ts: which frame checksum a log's writer gets, and which raw CRC
// the search after damage gets, and that the shim's give what the TypeScript ones do, frame for
// frame, register for register and log for log. The shim-side tests are ignored (and reported
// as such) without a binary for this platform or without --allow-ffi.

import { deepEqual, equal, notEqual, ok } from "node:assert/strict";
import { join } from "node:path";
import fc from "fast-check";
import { embeddedShimTarget } from "../ffi/mod.ts";
import { CRC_CHECKPOINT_SPACING } from "../src/constants.ts";
import { crc32cRaw, frameChecksum } from "../src/crc32c.ts";
import { MemStore } from "../src/mem_store.ts";
import { Wal } from "../src/open.ts";
import { frame } from "../src/record.ts";
import { chooseFrameChecksum, chooseRawCrc } from "../src/shim_checksum.ts";
import { bytes, concat, payload as bytesOf, withTempDir } from "./_helpers.ts";

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

Deno.test("chooseRawCrc() keeps the TypeScript raw CRC for durability runtime", () => {
  equal(chooseRawCrc("runtime", "/no/such/lib.so"), crc32cRaw);
});

Deno.test({
  name: "chooseRawCrc() keeps the TypeScript raw CRC when the shim cannot load",
  permissions: { read: true, write: true, env: true, ffi: false },
  fn() {
    equal(chooseRawCrc("auto", undefined), crc32cRaw);
    equal(chooseRawCrc("shim", undefined), crc32cRaw);
  },
});

/** The RFC 3720 (iSCSI) CRC32C vectors and the standard check value, with their CRCs. */
const SPEC_VECTORS: [Uint8Array, number][] = [
  [new Uint8Array(32), 0x8a91_36aa],
  [new Uint8Array(32).fill(0xff), 0x62a8_ab43],
  [Uint8Array.from({ length: 32 }, (_, i) => i), 0x46dd_794e],
  [Uint8Array.from({ length: 32 }, (_, i) => 31 - i), 0x113f_db5c],
  [bytes("123456789"), 0xe306_9283],
];

Deno.test({
  name: "chooseRawCrc() takes the shim's CRC when it loads, equal to crc32cRaw()",
  ignore: !SHIM_USABLE,
  fn() {
    const raw = chooseRawCrc("auto", undefined);
    notEqual(raw, crc32cRaw);
    equal(chooseRawCrc("shim", undefined), raw, "made once per shim");
    for (const [data, crc] of SPEC_VECTORS) {
      // From the initial register, the raw CRC is the CRC before its final inversion.
      equal(raw(0xffff_ffff, data), (~crc) >>> 0);
      equal(crc32cRaw(0xffff_ffff, data), (~crc) >>> 0);
      // From zero, zeros leave the register zero: no inversion hides in it.
      equal(raw(0, new Uint8Array(data.length)), 0);
    }
    for (let length = 0; length <= EVERY_LENGTH_UP_TO; length++) {
      const data = bytesOf(length, length + 1);
      const register = (length * 2654435761) >>> 0;
      equal(raw(register, data), crc32cRaw(register, data), `length ${length}`);
    }
    // A view into a larger buffer: the CRC covers the view only.
    const view = bytesOf(600, 9).subarray(13, 525);
    equal(raw(0x1234_5678, view), crc32cRaw(0x1234_5678, view));
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 0xffff_ffff }),
        fc.uint8Array({ maxLength: 1500 }),
        (register, data) => {
          const got = raw(register, data);
          equal(got, crc32cRaw(register, data));
          ok(Number.isInteger(got) && got >= 0 && got <= 0xffff_ffff, "a u32");
        },
      ),
    );
  },
});

/**
 * The records found in a log of records too long for the search after damage to check each
 * directly, with random bytes over its middle, opened read-only with the "skip" policy.
 */
function recordsAfterDamage(path: string, durability: "auto" | "runtime") {
  using wal = Wal.open(path, { durability, readOnly: true, recoveryPolicy: "skip" });
  return {
    records: [...wal.iter()].map(({ lsn, data }) => ({ lsn, data: [...data] })),
    recovery: wal.recovery,
  };
}

Deno.test({
  name: "Wal.open() with the shim finds the same records after damage as with durability runtime",
  ignore: !SHIM_USABLE,
  async fn() {
    await withTempDir((dir) => {
      // Past 2 * CRC_CHECKPOINT_SPACING: the search checks them through range checksums.
      const long = 2 * CRC_CHECKPOINT_SPACING + 500;
      const records = Array.from({ length: 60 }, (_, i) => bytesOf(long + i * 37, i + 1));
      const log = concat(records.map((record) => frame(record)));
      const middle = Math.floor(log.length / 2);
      log.set(bytesOf(5000, 99), middle);
      const path = join(dir, "damaged.wal");
      Deno.writeFileSync(path, log);
      const shim = recordsAfterDamage(path, "auto");
      const typescript = recordsAfterDamage(path, "runtime");
      deepEqual(shim, typescript);
      // Records on both sides of the damage, so the search after it found the first one past it.
      ok(shim.records.some((r) => r.lsn < middle), "records before the damage");
      ok(shim.records.some((r) => r.lsn > middle + 5000), "records after the damage");
      ok(shim.recovery.ranges.length > 0, "a damaged range was skipped");
    });
  },
});
