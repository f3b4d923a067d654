// Copyright 2026 the wal-db authors. MIT license.

import { equal, notEqual, ok, throws } from "node:assert/strict";
import fc from "fast-check";
import { embeddedShimTarget } from "../ffi/mod.ts";
import { CRC_CHECKPOINT_SPACING, READ_CHUNK_SIZE } from "../src/constants.ts";
import { crc32c, crc32cRaw, type RawCrc } from "../src/crc32c.ts";
import { MemStore } from "../src/mem_store.ts";
import { RangeChecksums } from "../src/range_checksums.ts";
import { frameCrc } from "../src/record.ts";
import { chooseRawCrc } from "../src/shim_checksum.ts";
import { failingOnceFrom, payload } from "./_helpers.ts";

const SHIM_USABLE = embeddedShimTarget() !== undefined &&
  Deno.permissions.querySync({ name: "ffi" }).state === "granted";
/** The shim's raw CRC; the TypeScript one without the shim or where its CRC is the C table. */
const SHIM_RAW_CRC = SHIM_USABLE ? chooseRawCrc("auto", undefined) : crc32cRaw;

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

Deno.test({
  name: "RangeChecksums with the shim's raw CRC gives every frame the TypeScript one's checksum",
  ignore: SHIM_RAW_CRC === crc32cRaw,
  fn() {
    fc.assert(
      fc.property(
        // Past a chunk: the checkpoints of a second chunk read too.
        fc.integer({ min: 8, max: READ_CHUNK_SIZE + 4 * CRC_CHECKPOINT_SPACING }),
        fc.nat(),
        fc.nat(),
        fc.array(fc.tuple(fc.nat(), fc.nat()), { minLength: 1, maxLength: 8 }),
        (size, seed, startSeed, candidates) => {
          const bytes = payload(size, seed);
          const start = startSeed % (size - 8 + 1);
          const source = new MemStore(bytes);
          const shim = new RangeChecksums(source, start, size, SHIM_RAW_CRC);
          const typescript = new RangeChecksums(source, start, size);
          // Several candidates on one instance, in any order: the registers it keeps for the
          // next candidate's ends are the shim's too.
          for (const [lsnSeed, lengthSeed] of candidates) {
            const lsn = start + (lsnSeed % (size - 8 - start + 1));
            const length = lengthSeed % (size - 8 - lsn + 1);
            const expected = typescript.frameChecksum(lsn, length);
            equal(shim.frameChecksum(lsn, length), expected, `frame at ${lsn}, ${length} bytes`);
            // The range's own four length bytes, whatever they say, then the payload.
            equal(expected, crc32c(bytes.subarray(lsn + 4, lsn + 8 + length)));
          }
        },
      ),
      { numRuns: 200 },
    );
  },
});

/** `bytes` with the length field of the frame at `lsn` set to `length`. */
function withLength(bytes: Uint8Array, lsn: number, length: number): Uint8Array {
  const framed = bytes.slice();
  new DataView(framed.buffer).setUint32(lsn + 4, length, true);
  return framed;
}

Deno.test("RangeChecksums computes its registers with the raw CRC it is given", () => {
  // A frame spanning several checkpoints, so both its ends need the checkpoints and a partial
  // CRC after one.
  const lsn = 100;
  const length = 5 * CRC_CHECKPOINT_SPACING + 77;
  const bytes = withLength(payload(8 * CRC_CHECKPOINT_SPACING, 11), lsn, length);
  const expected = frameCrc(bytes.subarray(lsn + 8, lsn + 8 + length));
  let calls = 0;
  const counting: RawCrc = (register, data) => {
    calls++;
    return crc32cRaw(register, data);
  };
  const ranges = new RangeChecksums(new MemStore(bytes), 0, bytes.length, counting);
  equal(ranges.frameChecksum(lsn, length), expected);
  ok(calls > 0, "the raw CRC given computes the registers");
  // A wrong one (it leaves out each piece's first byte) gives a wrong checksum: a RangeChecksums
  // that computed its registers some other way would still give the right one.
  const wrong: RawCrc = (register, data) => crc32cRaw(register, data.subarray(1));
  notEqual(
    new RangeChecksums(new MemStore(bytes), 0, bytes.length, wrong).frameChecksum(lsn, length),
    expected,
  );
});
