// Copyright 2026 the wal-db authors. MIT license.

import { deepEqual, equal, match, ok, throws } from "node:assert/strict";
import {
  checkSegmentSize,
  decodeHead,
  decodeSegmentSize,
  encodeHead,
  encodeSegmentSize,
  parseSegmentName,
  type SegmentExtent,
  segmentName,
  SegmentSet,
  segmentSizeMismatch,
} from "../src/segments.ts";
import { crc32c } from "../src/crc32c.ts";
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
      "segment-size",
      "segment-size.tmp",
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

Deno.test("encodeSegmentSize() writes the documented vector for 4096", () => {
  // docs/ON_DISK_FORMAT.md carries the same bytes; the CRC was checked with an independent
  // CRC32C (Python, bit by bit) when the vector was made.
  deepEqual(
    encodeSegmentSize(4096),
    hex("57 53 45 47 01 00 00 00 00 10 00 00 00 00 00 00 06 c4 21 fd"),
  );
});

Deno.test("decodeSegmentSize() reads what encodeSegmentSize() writes and names every damage", () => {
  for (const size of [1, 16, 4096, 16 << 20, 2 ** 40 + 3, Number.MAX_SAFE_INTEGER]) {
    deepEqual(decodeSegmentSize(encodeSegmentSize(size)), { segmentSize: size });
  }
  const good = encodeSegmentSize(4096);
  const damage = (bytes: Uint8Array) => {
    const record = decodeSegmentSize(bytes);
    ok("damage" in record, JSON.stringify(record));
    return record.damage;
  };
  /** `good` with `edit` applied to the 16 covered bytes and the CRC made valid again. */
  const resealed = (edit: (view: DataView) => void) => {
    const bytes = good.slice();
    const view = new DataView(bytes.buffer);
    edit(view);
    view.setUint32(16, crc32c(bytes.subarray(0, 16)), true);
    return bytes;
  };
  match(damage(good.subarray(0, 19)), /19 bytes/);
  match(damage(new Uint8Array([...good, 0])), /21 bytes/);
  match(damage(new Uint8Array(20)), /does not start with "WSEG"/);
  for (let at = 4; at < 20; at++) {
    const flipped = good.slice();
    flipped[at]! ^= 0x10;
    match(damage(flipped), /CRC/, `byte ${at}`);
  }
  match(damage(resealed((v) => v.setUint32(4, 2, true))), /version is 2/);
  match(damage(resealed((v) => v.setBigUint64(8, 0n, true))), /records 0/);
  match(damage(resealed((v) => v.setBigUint64(8, 2n ** 53n, true))), /not a segment size/);
});

/** Segment files of a log of `length` bytes from `head`, written with `size`-byte segments. */
function extentsOf(size: number, length: number, head = 0): SegmentExtent[] {
  const extents: SegmentExtent[] = [];
  const first = Math.min(Math.floor(head / size), Math.max(0, Math.ceil(length / size) - 1));
  for (let k = first; k * size < length || k === first; k++) {
    extents.push({ index: k, size: Math.min(size, length - k * size) });
  }
  return extents;
}

Deno.test("segmentSizeMismatch() accepts the size the files were written with", () => {
  for (const recorded of [true, false]) {
    for (const [length, head] of [[0, 0], [50, 0], [300, 0], [320, 0], [300, 200], [300, 300]]) {
      equal(segmentSizeMismatch(extentsOf(64, length!, head), head!, 64, recorded), undefined);
    }
  }
});

Deno.test("segmentSizeMismatch() refuses a smaller size and names the size the files imply", () => {
  for (const recorded of [true, false]) {
    const many = segmentSizeMismatch(extentsOf(64, 300), 0, 32, recorded);
    equal(many?.implied, "of 64");
    match(many!.reason, /segment 0 holds 64 bytes, more than 32/);
    const one = segmentSizeMismatch(extentsOf(64, 50), 0, 32, recorded);
    equal(one?.implied, "of at least 50");
    // After a checkpoint that kept only segment 4 (44 bytes) with its head at 300: the head
    // lies in segment 4, so the size is between (300 - 44) / 4 and 300 / 4.
    const late = segmentSizeMismatch(extentsOf(64, 300, 300), 300, 32, recorded);
    equal(late?.implied, "between 64 and 75");
  }
});

Deno.test("segmentSizeMismatch() without a recorded size refuses a larger size the files rule out", () => {
  const many = segmentSizeMismatch(extentsOf(64, 300), 0, 128, false);
  equal(many?.implied, "of 64");
  equal(many?.certain, false, "a crash can leave segments short too");
  equal(segmentSizeMismatch(extentsOf(64, 300), 0, 32, false)?.certain, true);
  match(many!.reason, /every segment before the last holds 64 bytes, not 128/);
  const checkpointed = segmentSizeMismatch(extentsOf(64, 300, 200), 200, 128, false);
  equal(checkpointed?.implied, "of 64");
  const late = segmentSizeMismatch(extentsOf(64, 300, 300), 300, 128, false);
  equal(late?.implied, "between 64 and 75");
  match(late!.reason, /head \(LSN 300\) does not lie in segments 4 to 4/);
  // One segment numbered 0 with no head: every size at least its length reads the same LSNs.
  equal(segmentSizeMismatch(extentsOf(64, 50), 0, 128, false), undefined);
});

Deno.test("segmentSizeMismatch() with a recorded size reads short segments as holes", () => {
  // A power loss can leave segments before the last short (their sizes were not flushed):
  // with the size recorded, that is damage for recovery, not a clue to another size.
  const torn: SegmentExtent[] = [{ index: 0, size: 64 }, { index: 1, size: 8 }, {
    index: 2,
    size: 8,
  }, { index: 3, size: 4 }];
  equal(segmentSizeMismatch(torn, 0, 64, true), undefined);
  // Without it, the same files are what a log of 8-byte segments looks like.
  equal(segmentSizeMismatch(torn.slice(1), 8, 64, false)?.implied, "of 8");
  // Sizes that differ before the last (holes, damage) imply nothing, recorded or not.
  equal(segmentSizeMismatch(torn, 0, 64, false), undefined);
  equal(
    segmentSizeMismatch([{ index: 0, size: 0 }, { index: 1, size: 0 }], 0, 64, false),
    undefined,
  );
});

Deno.test("SegmentSet keeps its first and last index through adds and removals, holes included", () => {
  const set = SegmentSet.of([5, 3, 4, 9]);
  deepEqual([set.first, set.last], [3, 9]);
  set.delete(9); // steps over the hole 6..8
  deepEqual([set.first, set.last], [3, 5]);
  set.delete(3);
  deepEqual([set.first, set.last], [4, 5]);
  set.add(12).add(1);
  deepEqual([set.first, set.last], [1, 12]);
  equal(set.delete(7), false);
  for (const index of [...set]) set.delete(index);
  deepEqual([set.first, set.last, set.size], [undefined, undefined, 0]);
  set.add(2);
  set.clear();
  deepEqual([set.first, set.last], [undefined, undefined]);
});
