// Copyright 2026 the wal-db authors. MIT license.
// The snapshot file's bytes (src/snapshot.ts): the layout docs/ON_DISK_FORMAT.md gives, and
// every way a header can be wrong.

import { deepEqual, equal, ok } from "node:assert/strict";
import fc from "fast-check";
import { crc32c } from "../mod.ts";
import { SNAPSHOT_HEADER_SIZE } from "../src/constants.ts";
import { decodeSnapshotHeader, encodeSnapshot } from "../src/snapshot.ts";

Deno.test("encodeSnapshot: the documented layout, byte for byte", () => {
  const data = new Uint8Array([1, 2, 3]);
  const bytes = encodeSnapshot(0x0102_0304_0506, data);
  const view = new DataView(bytes.buffer);
  equal(bytes.length, 35);
  equal(new TextDecoder().decode(bytes.subarray(0, 4)), "WSNP");
  equal(view.getUint32(4, true), 1);
  equal(view.getBigUint64(8, true), 0x0102_0304_0506n);
  equal(view.getBigUint64(16, true), 3n);
  equal(view.getUint32(24, true), crc32c(data));
  equal(view.getUint32(28, true), crc32c(bytes.subarray(0, 28)));
  deepEqual(bytes.subarray(32), data);
});

Deno.test("decodeSnapshotHeader: reads back any LSN and payload", () => {
  fc.assert(
    fc.property(fc.nat(), fc.uint8Array({ maxLength: 3000 }), (lsn, data) => {
      const bytes = encodeSnapshot(lsn, data);
      const header = decodeSnapshotHeader(bytes.subarray(0, SNAPSHOT_HEADER_SIZE), bytes.length);
      deepEqual(header, { lsn, length: data.length, payloadCrc: crc32c(data) });
    }),
  );
});

Deno.test("decodeSnapshotHeader: any single flipped header bit is damage", () => {
  const bytes = encodeSnapshot(4096, new Uint8Array(10));
  for (let bit = 0; bit < SNAPSHOT_HEADER_SIZE * 8; bit++) {
    const copy = bytes.slice(0, SNAPSHOT_HEADER_SIZE);
    copy[bit >> 3]! ^= 1 << (bit & 7);
    ok("damage" in decodeSnapshotHeader(copy, bytes.length), `bit ${bit}`);
  }
});

Deno.test("decodeSnapshotHeader: a size that does not match, a short header, another version", () => {
  const bytes = encodeSnapshot(8, new Uint8Array(10));
  const header = bytes.subarray(0, SNAPSHOT_HEADER_SIZE);
  ok("damage" in decodeSnapshotHeader(header, bytes.length - 1));
  ok("damage" in decodeSnapshotHeader(header, bytes.length + 1));
  ok("damage" in decodeSnapshotHeader(header.subarray(0, 31), 31));
  const other = header.slice();
  new DataView(other.buffer).setUint32(4, 2, true);
  new DataView(other.buffer).setUint32(28, crc32c(other.subarray(0, 28)), true);
  deepEqual(decodeSnapshotHeader(other, bytes.length), {
    damage: "version 2, this wal-db reads 1",
  });
  const far = header.slice();
  new DataView(far.buffer).setBigUint64(8, 2n ** 60n, true);
  new DataView(far.buffer).setUint32(28, crc32c(far.subarray(0, 28)), true);
  ok("damage" in decodeSnapshotHeader(far, bytes.length));
});
