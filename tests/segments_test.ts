// Copyright 2026 the wal-db authors. MIT license.

import { deepEqual, equal, throws } from "node:assert/strict";
import {
  checkSegmentSize,
  decodeHead,
  encodeHead,
  parseSegmentName,
  segmentName,
} from "../src/segments.ts";
import { hex } from "./_helpers.ts";

Deno.test("encodeHead() writes the spec's vector for head 27", () => {
  deepEqual(encodeHead(27), hex("1b 00 00 00 00 00 00 00 8d 38 21 91"));
});

Deno.test("decodeHead() reads a valid head and rejects short, long and damaged files", () => {
  equal(decodeHead(hex("1b 00 00 00 00 00 00 00 8d 38 21 91")), 27);
  equal(decodeHead(encodeHead(0)), 0);
  equal(decodeHead(encodeHead(2 ** 40 + 5)), 2 ** 40 + 5);
  equal(decodeHead(hex("1b 00 00 00 00 00 00 00")), undefined, "the 8-byte 0.9.0 marker");
  equal(decodeHead(hex("1b 00 00 00 00 00 00 00 8d 38 21 91 00")), undefined);
  equal(decodeHead(hex("1c 00 00 00 00 00 00 00 8d 38 21 91")), undefined);
  equal(decodeHead(new Uint8Array(12)), undefined);
});

Deno.test("segmentName() pads the index to 20 digits and adds .wal", () => {
  equal(segmentName(0), "00000000000000000000.wal");
  equal(segmentName(1), "00000000000000000001.wal");
  equal(segmentName(123456789), "00000000000123456789.wal");
});

Deno.test("parseSegmentName() accepts exactly 20 digits plus .wal and nothing else", () => {
  equal(parseSegmentName("00000000000000000000.wal"), 0);
  equal(parseSegmentName("00000000000000000042.wal"), 42);
  for (
    const name of [
      "0000000000000000042.wal", // 19 digits
      "000000000000000000042.wal", // 21 digits
      "0000000000000000004x.wal",
      "00000000000000000042.WAL",
      "00000000000000000042.wal.tmp",
      "42.wal",
      "head",
      "head.tmp",
      "wal.lock",
      "damaged-13",
      "99999999999999999999.wal", // beyond what an LSN can address
    ]
  ) {
    equal(parseSegmentName(name), undefined, name);
  }
});

Deno.test("checkSegmentSize() accepts positive integers only", () => {
  equal(checkSegmentSize(16), 16);
  for (const bad of [0, -1, 1.5, NaN, Infinity, "16", undefined]) {
    throws(() => checkSegmentSize(bad), RangeError, String(bad));
  }
});
