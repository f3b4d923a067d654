// Copyright 2026 the wal-db authors. MIT license.
// Tests for ffi/crc.ts: the shim's CRC32C (hardware path and table path) against the TypeScript
// reference in src/crc32c.ts, and its frame scan against a plain TypeScript scan built from
// src/crc32c.ts and src/record.ts. Ignored (and reported as such) without a binary for this
// platform or without --allow-ffi.
//
// A machine exercises the path its CPU gets (and the table path through wal_crc32c_sw). To run
// every test on another path, build the library so that the CPU check answers differently and
// point WAL_DB_SHIM at it, e.g. the table path alone (no GNU C extensions):
//   cc -O2 -fPIC -U__GNUC__ -Ishim -c -o crc.o shim/wal_crc32c.c
//   cc -O2 -fPIC -Ishim -c -o shim.o shim/wal_shim.c && cc -shared -o table.so shim.o crc.o
//   WAL_DB_SHIM=$PWD/table.so deno test -A tests/ffi_crc_test.ts
// (the step that names the path prints "table"). The same with detect_path() returning
// WAL_CRC32C_SSE42 covers the x86_64 path without PCLMULQDQ.

import assert from "node:assert/strict";
import { join } from "node:path";
import fc from "fast-check";
import { crc32c } from "../src/crc32c.ts";
import { decodeHeader, frame, frameCrc } from "../src/record.ts";
import { embeddedShimTarget, loadShim, type ShimCrc } from "../ffi/mod.ts";
import { SHIM_SYMBOLS } from "../ffi/symbols.ts";

const NO_BINARY = embeddedShimTarget() === undefined;
const NO_FFI = Deno.permissions.querySync({ name: "ffi" }).state !== "granted";

/** The longest length that is checked one by one. */
const EVERY_LENGTH_UP_TO = 4096;
const MIB = 1 << 20;

/** The CRC of the table path, whatever the CPU: bound straight from the library. */
type Crc = (data: Uint8Array, seed: number) => number;

function hex(bytes: string): Uint8Array {
  return Uint8Array.from(bytes.split(" "), (b) => parseInt(b, 16));
}

/** Fills `bytes` from a seed with xorshift32: fast for MiB-sized inputs. */
function fill(bytes: Uint8Array, seed: number): Uint8Array {
  let x = seed | 1;
  for (let i = 0; i < bytes.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    bytes[i] = x & 0xff;
  }
  return bytes;
}

/** The frame scan as the contract states it, one frame at a time, with the reference CRC. */
function referenceScan(
  buf: Uint8Array,
  start: number,
  end: number,
  maxRecordSize: number,
  cap: number,
): number[] {
  const limit = Math.min(end, buf.length);
  const ends: number[] = [];
  let at = start;
  while (ends.length < cap && at + 8 <= limit) {
    const { crc, length } = decodeHeader(buf, at);
    if (length > maxRecordSize || at + 8 + length > limit) break;
    if (frameCrc(buf.subarray(at + 8, at + 8 + length)) !== crc) break;
    at += 8 + length;
    ends.push(at);
  }
  return ends;
}

/** One way to damage a log of frames, applied in order. */
type Damage =
  | { kind: "flip"; at: number; bit: number }
  | { kind: "zeros"; at: number; count: number }
  | { kind: "cut"; keep: number }
  | { kind: "length"; frame: number; excess: number };

const damageArb: fc.Arbitrary<Damage> = fc.oneof(
  fc.record({
    kind: fc.constant("flip" as const),
    at: fc.nat(),
    bit: fc.integer({ min: 0, max: 7 }),
  }),
  fc.record({
    kind: fc.constant("zeros" as const),
    at: fc.nat(),
    count: fc.integer({ min: 1, max: 64 }),
  }),
  fc.record({ kind: fc.constant("cut" as const), keep: fc.nat() }),
  fc.record({ kind: fc.constant("length" as const), frame: fc.nat(), excess: fc.nat() }),
);

/** Payload lengths: mostly small records, some above 1 KiB (up to 5 KiB). */
const payloadLengthArb = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 0, max: 300 }) },
  { weight: 1, arbitrary: fc.integer({ min: 1025, max: 5 * 1024 }) },
);

/** Builds the frames, then applies the damage. Returns the bytes and where each frame started. */
function buildLog(
  lengths: number[],
  seed: number,
  damage: Damage[],
  maxRecordSize: number,
): { bytes: Uint8Array; starts: number[] } {
  const frames = lengths.map((length, i) => frame(fill(new Uint8Array(length), seed + i)));
  const total = frames.reduce((sum, f) => sum + f.length, 0);
  let bytes = new Uint8Array(total);
  const starts: number[] = [];
  let at = 0;
  for (const f of frames) {
    starts.push(at);
    bytes.set(f, at);
    at += f.length;
  }
  const view = new DataView(bytes.buffer);
  for (const d of damage) {
    if (bytes.length === 0) break;
    if (d.kind === "flip") bytes[d.at % bytes.length]! ^= 1 << d.bit;
    else if (d.kind === "zeros") {
      bytes.fill(0, d.at % bytes.length, (d.at % bytes.length) + d.count);
    } else if (d.kind === "cut") bytes = bytes.subarray(0, d.keep % (bytes.length + 1));
    else if (starts.length > 0) {
      const start = starts[d.frame % starts.length]!;
      const length = maxRecordSize + 1 + (d.excess % 1_000_000);
      if (start + 8 <= bytes.length && length <= 0xffff_ffff) {
        view.setUint32(start + 4, length, true);
      }
    }
  }
  return { bytes, starts };
}

Deno.test({
  name: "the shim's CRC32C and frame scan agree with the TypeScript reference",
  ignore: NO_BINARY || NO_FFI,
  fn: async (t) => {
    const dir = await Deno.makeTempDir({ prefix: "wal_ffi_crc_" });
    let library: Deno.DynamicLibrary<typeof SHIM_SYMBOLS> | undefined;
    try {
      const shim = loadShim({ cacheDir: join(dir, "cache") });
      const crc: ShimCrc = shim.crc;
      // The table path is not reachable through ShimCrc on a CPU with CRC instructions, so the
      // test binds it itself from the same library file.
      library = Deno.dlopen(shim.path, SHIM_SYMBOLS);
      const symbols = library.symbols;
      const tableCrc: Crc = (data, seed) => symbols.wal_crc32c_sw(data, data.length, seed);
      const paths: [string, Crc][] = [
        [`shim (${crc.path})`, (data, seed) => crc.crc32c(data, seed)],
        // The same CRC, signed: unsigned again it must match everywhere the others do.
        [`shim crc32cInt32 (${crc.path})`, (data, seed) => crc.crc32cInt32(data, seed) >>> 0],
        ["shim table path", tableCrc],
      ];

      await t.step("crc32cInt32 returns the signed 32-bit CRC", () => {
        const check = new TextEncoder().encode("123456789");
        assert.equal(crc.crc32cInt32(check, 0), 0xe3069283 | 0);
        assert.ok(crc.crc32cInt32(check, 0) < 0, "0xe3069283 has its top bit set");
      });

      await t.step("the path names this CPU's instructions", () => {
        assert.ok(["table", "sse4.2", "sse4.2+pclmul", "armv8"].includes(crc.path), crc.path);
        if (Deno.build.arch === "aarch64" && Deno.build.os === "darwin") {
          assert.equal(crc.path, "armv8");
        }
        console.log(`      CRC32C path on this machine: ${crc.path}`);
      });

      await t.step(
        "both paths and TypeScript give the spec's check value and frame vectors",
        () => {
          const check = new TextEncoder().encode("123456789");
          assert.equal(crc32c(check), 0xe3069283);
          for (const [name, fn] of paths) assert.equal(fn(check, 0), 0xe3069283, name);
          const vectors = [
            ["", "c7 4b 67 48 00 00 00 00"],
            ["abc", "f8 83 14 55 03 00 00 00 61 62 63"],
            ["hello", "a1 b1 17 4e 05 00 00 00 68 65 6c 6c 6f"],
          ] as const;
          for (const [payload, bytes] of vectors) {
            const expected = hex(bytes);
            assert.deepEqual(frame(new TextEncoder().encode(payload)), expected, payload);
            const stored = new DataView(expected.buffer).getUint32(0, true);
            assert.equal(crc32c(expected.subarray(4)), stored, payload);
            for (const [name, fn] of paths) assert.equal(fn(expected.subarray(4), 0), stored, name);
          }
          // `abc` then `hello`: LSNs 0 and 11, next LSN 24.
          const log = new Uint8Array([...hex(vectors[1][1]), ...hex(vectors[2][1])]);
          const ends = new Uint32Array(4);
          assert.equal(crc.scanFrames(log, 0, log.length, 1024, ends), 2);
          assert.deepEqual([...ends.subarray(0, 2)], [11, 24]);
        },
      );

      await t.step(`every length from 0 to ${EVERY_LENGTH_UP_TO}, random content and seeds`, () => {
        fc.assert(
          fc.property(
            fc.integer({ min: 1, max: 0x7fff_ffff }),
            fc.integer({ min: 0, max: 0xffff_ffff }),
            fc.integer({ min: 0, max: 15 }),
            (contentSeed, seed, shift) => {
              const buffer = fill(new Uint8Array(EVERY_LENGTH_UP_TO + 32), contentSeed);
              for (let length = 0; length <= EVERY_LENGTH_UP_TO; length++) {
                const start = (shift + length) % 16; // every alignment, at every length
                const data = buffer.subarray(start, start + length);
                const s = length % 3 === 0 ? 0 : (seed ^ Math.imul(length, 0x9e37_79b1)) >>> 0;
                const expected = crc32c(data, s);
                for (const [name, fn] of paths) {
                  if (fn(data, s) !== expected) {
                    assert.fail(`${name}: length ${length}, start ${start}, seed ${s}`);
                  }
                }
              }
            },
          ),
          { numRuns: 6 },
        );
      });

      await t.step("MiB-sized inputs at unaligned starts, whole and split at any point", () => {
        fc.assert(
          fc.property(
            fc.integer({ min: MIB, max: 3 * MIB }),
            fc.integer({ min: 0, max: 63 }),
            fc.integer({ min: 1, max: 0x7fff_ffff }),
            fc.integer({ min: 0, max: 0xffff_ffff }),
            fc.nat(),
            (length, start, contentSeed, seed, cut) => {
              const data = fill(new Uint8Array(start + length), contentSeed).subarray(start);
              const expected = crc32c(data, seed);
              for (const [name, fn] of paths) assert.equal(fn(data, seed), expected, name);
              const at = cut % (length + 1);
              const first = crc.crc32c(data.subarray(0, at), seed);
              assert.equal(crc.crc32c(data.subarray(at), first), expected, `split at ${at}`);
            },
          ),
          { numRuns: 4 },
        );
      });

      await t.step("scanFrames() agrees with a frame-by-frame scan on damaged logs", () => {
        fc.assert(
          fc.property(
            fc.array(payloadLengthArb, { maxLength: 40 }),
            fc.integer({ min: 1, max: 0x7fff_ffff }),
            fc.array(damageArb, { maxLength: 4 }),
            fc.oneof(fc.integer({ min: 0, max: 6000 }), fc.constant(64 << 20), fc.constant(-1)),
            fc.integer({ min: 0, max: 50 }),
            fc.nat(),
            fc.nat(),
            fc.boolean(),
            (lengths, seed, damage, maxPick, cap, startPick, endPick, fromFrame) => {
              // -1: exactly the length of one of the frames, the edge of "length <= maximum".
              const maxRecordSize = maxPick >= 0
                ? maxPick
                : lengths.length === 0
                ? 0
                : lengths[(seed >>> 3) % lengths.length]!;
              const { bytes, starts } = buildLog(lengths, seed, damage, maxRecordSize);
              // A frame boundary most of the time, any offset (even past the end) otherwise.
              const start = fromFrame && starts.length > 0
                ? starts[startPick % starts.length]!
                : startPick % (bytes.length + 9);
              // The whole log, a part of it, or past the array (the scan must stop at its end).
              const end = endPick % 3 === 0
                ? bytes.length
                : endPick % 3 === 1
                ? endPick % (bytes.length + 1)
                : bytes.length + (endPick % 100);
              const expected = referenceScan(bytes, start, end, maxRecordSize, cap);
              const ends = new Uint32Array(cap).fill(0xdead_beef);
              const count = crc.scanFrames(bytes, start, end, maxRecordSize, ends);
              assert.equal(count, expected.length);
              assert.deepEqual([...ends.subarray(0, count)], expected);
              assert.ok(ends.subarray(count).every((v) => v === 0xdead_beef), "nothing past count");
            },
          ),
          { numRuns: 400 },
        );
      });

      await t.step("scanFrames() stops at ends.length and resumes where it stopped", () => {
        const frames = [0, 3, 1500, 7, 0, 2000].map((n) => frame(fill(new Uint8Array(n), n + 1)));
        const bytes = new Uint8Array(frames.reduce((sum, f) => sum + f.length, 0));
        let at = 0;
        for (const f of frames) at += (bytes.set(f, at), f.length);
        const all = referenceScan(bytes, 0, bytes.length, 4096, 100);
        assert.equal(all.length, 6);
        const got: number[] = [];
        const ends = new Uint32Array(2);
        for (let start = 0; start < bytes.length;) {
          const count = crc.scanFrames(bytes, start, bytes.length, 4096, ends);
          assert.ok(count > 0);
          got.push(...ends.subarray(0, count));
          start = ends[count - 1]!;
        }
        assert.deepEqual(got, all);
        assert.equal(crc.scanFrames(bytes, 0, bytes.length, 4096, new Uint32Array(0)), 0);
      });

      await t.step(
        "scanFrames() on edge inputs: empty, start past end, a zero-filled chunk",
        () => {
          const ends = new Uint32Array(8);
          assert.equal(crc.scanFrames(new Uint8Array(0), 0, 0, 100, ends), 0);
          const one = frame(new Uint8Array([1, 2, 3]));
          assert.equal(crc.scanFrames(one, 5, 2, 100, ends), 0);
          assert.equal(crc.scanFrames(one, 0, one.length - 1, 100, ends), 0, "a frame cut by end");
          assert.equal(crc.scanFrames(one, 0, 1 << 30, 100, ends), 1, "end is capped at the array");
          assert.equal(crc.scanFrames(one, 0, one.length, 2, ends), 0, "length above the maximum");
          assert.equal(crc.scanFrames(one, 0, one.length, 3, ends), 1, "length at the maximum");
          assert.equal(crc.scanFrames(new Uint8Array(4096), 0, 4096, 100, ends), 0, "zeros");
          const big = 2 ** 40; // a maximum past u32 means "no limit", as it does in TypeScript
          assert.equal(crc.scanFrames(one, 0, one.length, big, ends), 1);
        },
      );

      await t.step("the wrapper checks its arguments before the native call", () => {
        const asAny = crc as unknown as Record<string, (...args: unknown[]) => unknown>;
        assert.throws(() => asAny.crc32c!("abc"), TypeError);
        assert.throws(() => asAny.crc32c!([1, 2]), TypeError);
        for (const seed of [-1, 2 ** 32, 1.5, NaN]) {
          assert.throws(() => crc.crc32c(new Uint8Array(1), seed), RangeError, String(seed));
        }
        const buf = new Uint8Array(16);
        const ends = new Uint32Array(4);
        assert.throws(() => asAny.scanFrames!([1], 0, 1, 1, ends), TypeError);
        assert.throws(() => asAny.scanFrames!(buf, 0, 16, 1, new Int32Array(4)), TypeError);
        for (const bad of [-1, 0.5, NaN, Infinity]) {
          assert.throws(() => crc.scanFrames(buf, bad, 16, 1, ends), RangeError, `start ${bad}`);
          assert.throws(() => crc.scanFrames(buf, 0, bad, 1, ends), RangeError, `end ${bad}`);
          assert.throws(() => crc.scanFrames(buf, 0, 16, bad, ends), RangeError, `max ${bad}`);
        }
      });

      await t.step("its functions work detached from the object", () => {
        const { crc32c: detached, scanFrames } = crc;
        assert.equal(detached(new TextEncoder().encode("123456789")), 0xe3069283);
        const one = frame(new Uint8Array([9]));
        assert.equal(scanFrames(one, 0, one.length, 10, new Uint32Array(1)), 1);
      });
    } finally {
      library?.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
