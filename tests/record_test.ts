// Copyright 2026 the wal-db authors. MIT license.

import { deepEqual, equal } from "node:assert/strict";
import { crc32c, frameChecksum } from "../src/crc32c.ts";
import { decodeHeader, encodeFrame, frame, frameCrc, frameSize } from "../src/record.ts";
import { bytes, hex } from "./_helpers.ts";

const VECTORS: [string, Uint8Array, string][] = [
  ["empty", new Uint8Array(0), "c7 4b 67 48 00 00 00 00"],
  ["abc", bytes("abc"), "f8 83 14 55 03 00 00 00 61 62 63"],
  ["hello", bytes("hello"), "a1 b1 17 4e 05 00 00 00 68 65 6c 6c 6f"],
];

for (const [name, data, expected] of VECTORS) {
  Deno.test(`frame() of the ${name} payload equals the spec's test vector`, () => {
    deepEqual(frame(data), hex(expected));
  });
}

Deno.test("encodeFrame() writes at an offset inside a larger buffer and returns the size", () => {
  const target = new Uint8Array(20).fill(0xee);
  equal(encodeFrame(bytes("abc"), target, 5), 11);
  deepEqual(target.subarray(5, 16), hex("f8 83 14 55 03 00 00 00 61 62 63"));
  equal(target[4], 0xee);
  equal(target[16], 0xee);
});

Deno.test("decodeHeader() reads the CRC and length little-endian", () => {
  deepEqual(decodeHeader(hex("a1 b1 17 4e 05 00 00 00"), 0), { crc: 0x4e17b1a1, length: 5 });
});

Deno.test("frameCrc() covers the length bytes, so a changed length changes the CRC", () => {
  const payload = bytes("abc");
  equal(frameCrc(payload), 0x551483f8);
  equal(frameCrc(payload), crc32c(payload, crc32c(hex("03 00 00 00"))));
  equal(frameChecksum(4, payload) === frameCrc(payload), false);
});

Deno.test("frameSize() is the payload plus the 8-byte header", () => {
  equal(frameSize(0), 8);
  equal(frameSize(5), 13);
});
