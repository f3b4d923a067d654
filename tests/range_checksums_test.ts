// Copyright 2026 the wal-db authors. MIT license.

import { equal, throws } from "node:assert/strict";
import fc from "fast-check";
import { CRC_CHECKPOINT_SPACING } from "../src/constants.ts";
import { MemStore } from "../src/mem_store.ts";
import { RangeChecksums } from "../src/range_checksums.ts";
import { frameCrc } from "../src/record.ts";

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
