// Copyright 2026 the wal-db authors. MIT license.

import { equal, throws } from "node:assert/strict";
import fc from "fast-check";
import { crc32c, crc32cRaw, crc32cShift } from "../src/crc32c.ts";
import { bytes } from "./_helpers.ts";

/** Bit-at-a-time CRC32C straight from the definition, to check the sliced tables against. */
function crc32cBitwise(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of data) {
    crc ^= byte;
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

Deno.test("crc32c() gives the standard check value for 123456789", () => {
  equal(crc32c(bytes("123456789")), 0xe3069283);
});

Deno.test("crc32c() of the empty input is 0 and of four zero bytes is 0x48674BC7", () => {
  equal(crc32c(new Uint8Array(0)), 0);
  equal(crc32c(new Uint8Array(4)), 0x48674bc7);
});

Deno.test("crc32c() matches the bitwise definition for any input and any split", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(), (data, cut) => {
      const at = data.length === 0 ? 0 : cut % (data.length + 1);
      const whole = crc32c(data);
      equal(whole, crc32cBitwise(data));
      equal(crc32c(data.subarray(at), crc32c(data.subarray(0, at))), whole);
    }),
    { numRuns: 500 },
  );
});

Deno.test("crc32c() matches the bitwise definition for lengths up to 4 KiB at any offset", () => {
  // Past the 16-byte main loop and its byte-at-a-time tail, on views that start anywhere.
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 1, maxLength: 4096 }), fc.nat(), (data, skip) => {
      const view = data.subarray(skip % data.length);
      equal(crc32c(view), crc32cBitwise(view.slice()));
    }),
    { numRuns: 200 },
  );
});

Deno.test("crc32c() works on a view that does not start at offset 0 of its buffer", () => {
  const buffer = new Uint8Array(32).map((_, i) => i * 7);
  const view = buffer.subarray(3, 29);
  equal(crc32c(view), crc32cBitwise(view.slice()));
});

Deno.test("crc32c() rejects a non-Uint8Array and a bad seed", () => {
  throws(() => crc32c("abc" as unknown as Uint8Array), TypeError);
  throws(() => crc32c(new Uint8Array(1), -1), RangeError);
  throws(() => crc32c(new Uint8Array(1), 2 ** 32), RangeError);
});

Deno.test("crc32cShift() runs a register over zero bytes, as crc32cRaw() over zeros does", () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 0xffff_ffff }), fc.nat({ max: 5000 }), (reg, n) => {
      equal(crc32cShift(reg, n), crc32cRaw(reg, new Uint8Array(n)));
    }),
    { numRuns: 200 },
  );
});

Deno.test("the CRC of a range follows from the raw CRCs of two prefixes", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 3000 }), fc.nat(), fc.nat(), (data, x, y) => {
      const a = x % (data.length + 1);
      const b = a + (y % (data.length - a + 1));
      const prefix = (i: number) => crc32cRaw(0, data.subarray(0, i));
      const raw = (prefix(b) ^ crc32cShift(prefix(a), b - a)) >>> 0;
      equal(raw, crc32cRaw(0, data.subarray(a, b)));
      equal(~(crc32cShift(0xffff_ffff, b - a) ^ raw) >>> 0, crc32c(data.subarray(a, b)));
    }),
  );
});
