// Copyright 2026 the wal-db authors. MIT license.

import { equal, throws } from "node:assert/strict";
import fc from "fast-check";
import { CRC_CHECKPOINT_SPACING, READ_CHUNK_SIZE } from "../src/constants.ts";
import { MemStore } from "../src/mem_store.ts";
import { RangeChecksums } from "../src/range_checksums.ts";
import { frameCrc } from "../src/record.ts";
import { failingOnceFrom } from "./_helpers.ts";

Deno.test("RangeChecksums gives every frame the checksum computed directly", () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 8, maxLength: 6 * CRC_CHECKPOINT_SPACING }),
      fc.nat(),
      fc.nat(),
      fc.nat(),
      (bytes, startSeed, lsnSeed, lengthSeed) => {
        const start = startSeed % (bytes.length - 8 + 1);
        const lsn = start + (lsnSeed % (bytes.length - 8 - start + 1));
        const length = lengthSeed % (bytes.length - 8 - lsn + 1);
        const payload = bytes.subarray(lsn + 8, lsn + 8 + length);
        // frameCrc takes the length from the payload, the range from the stored length bytes.
        const framed = bytes.slice();
        new DataView(framed.buffer).setUint32(lsn + 4, length, true);
        const real = new RangeChecksums(new MemStore(framed), start, framed.length);
        equal(real.frameChecksum(lsn, length), frameCrc(payload));
      },
    ),
    { numRuns: 300 },
  );
});

Deno.test("RangeChecksums answers queries in any order and refuses ranges it does not cover", () => {
  const bytes = new Uint8Array(20 * 1024).map((_, i) => (i * 131) ^ (i >>> 7));
  const view = new DataView(bytes.buffer);
  const frames = [[15_000, 4000], [200, 19_000], [100, 0], [5000, 7]] as const;
  for (const [lsn, length] of frames) view.setUint32(lsn + 4, length, true);
  const ranges = new RangeChecksums(new MemStore(bytes), 100, bytes.length);
  for (const [lsn, length] of frames) {
    equal(ranges.frameChecksum(lsn, length), frameCrc(bytes.subarray(lsn + 8, lsn + 8 + length)));
  }
  throws(() => ranges.frameChecksum(50, 10));
  throws(() => ranges.frameChecksum(200, bytes.length));
});

Deno.test("RangeChecksums used again after a read that threw checks frames against the source's bytes", () => {
  // More than a chunk, so that a long frame's far end needs a second chunk read while the first
  // chunk is still held for the frames near the start.
  const bytes = new Uint8Array(READ_CHUNK_SIZE + 4096).map((_, i) => (i * 131) ^ (i >>> 7));
  const view = new DataView(bytes.buffer);
  const frames = [[100, 1000], [1000, READ_CHUNK_SIZE], [2000, 100]] as const;
  for (const [lsn, length] of frames) view.setUint32(lsn + 4, length, true);
  const expected = (lsn: number, length: number) =>
    frameCrc(bytes.subarray(lsn + 8, lsn + 8 + length));
  // The first read of the second chunk fails, after scribbling over the buffer it was given.
  const source = failingOnceFrom(new MemStore(bytes), READ_CHUNK_SIZE);
  const ranges = new RangeChecksums(source, 0, bytes.length);
  equal(ranges.frameChecksum(100, 1000), expected(100, 1000));
  throws(() => ranges.frameChecksum(1000, READ_CHUNK_SIZE), /EIO/);
  // A frame inside the first chunk, whose start no earlier query computed: the chunk the failed
  // read scribbled over must not be taken for the first chunk's bytes.
  equal(ranges.frameChecksum(2000, 100), expected(2000, 100));
  equal(ranges.frameChecksum(1000, READ_CHUNK_SIZE), expected(1000, READ_CHUNK_SIZE));
});
