// Copyright 2026 the wal-db authors. MIT license.
// Tests for src/open.ts: the factories and the recovery wiring.

import { deepEqual, equal, ok, throws } from "node:assert/strict";
import { dirname, join } from "node:path";
import { loadShim, type ShimCrc } from "../ffi/mod.ts";
import type { RecoveryPolicy, WalConfig } from "../src/config.ts";
import { REPLAY_CHUNK_SIZE } from "../src/constants.ts";
import { crc32c } from "../src/crc32c.ts";
import { WalError } from "../src/errors.ts";
import { MemStore } from "../src/mem_store.ts";
import { Wal } from "../src/open.ts";
import type { WalStore } from "../src/store.ts";
import { bytes, concat, logImage, lsnsOf, payload, readBytes, withTempDir } from "./_helpers.ts";
import { Rng } from "./_rng.ts";

Deno.test("Wal.withStore checks the store's methods and recovers what it holds", () => {
  throws(() => Wal.withStore(null as unknown as WalStore), TypeError);
  throws(() => Wal.withStore({ readAt() {} } as unknown as WalStore), /no append\(\) method/);
  const image = logImage([bytes("one"), bytes("two")]);
  using wal = Wal.withStore(new MemStore(image));
  equal(wal.nextLsn, image.length);
  equal(wal.recovery.endLsn, image.length);
  equal(
    [
      ...wal.typed({
        encode: (v: string) => bytes(v),
        decode: (b) => new TextDecoder().decode(b),
      }).iter(),
    ].length,
    2,
  );
});

Deno.test("Wal.openSegmented rejects a segment size that is not a positive integer", () => {
  throws(() => Wal.openSegmented("unused", 0), RangeError);
  throws(() => Wal.openSegmented("unused", 1.5), RangeError);
});

Deno.test("the open reports its scan's progress once per MiB, and never for a small log", () => {
  const payload = new Uint8Array(100 * 1024 - 8);
  const image = logImage(Array.from({ length: 35 }, () => payload)); // 35 × 100 KiB
  const calls: [number, number][] = [];
  Wal.withStore(new MemStore(image), {
    onRecoveryProgress: (scanned, total) => calls.push([scanned, total]),
  }).close();
  // Records start every 100 KiB: the first at or past each MiB step after the last report.
  const step = 1024 * 1024;
  const expected: [number, number][] = [];
  let next = step;
  for (let lsn = 0; lsn < image.length; lsn += 100 * 1024) {
    if (lsn >= next) {
      expected.push([lsn, image.length]);
      next = lsn + step;
    }
  }
  equal(JSON.stringify(calls), JSON.stringify(expected));
  equal(calls.length, 3);
  const small: number[] = [];
  Wal.withStore(new MemStore(logImage([bytes("a")])), {
    onRecoveryProgress: (scanned) => small.push(scanned),
  }).close();
  equal(small.length, 0);
});

Deno.test("the open of a file reports the progress a record-by-record scan reports, also when it scans a chunk at a time", async () => {
  await withTempDir((dir) => {
    // Records of a few KiB: a 256 KiB chunk holds dozens, handed to the scan as one run.
    const payloads = Array.from({ length: 900 }, (_, i) => payload(1000 + (i % 7) * 900, i));
    const image = logImage(payloads);
    const path = join(dir, "progress.wal");
    Deno.writeFileSync(path, image);
    const step = 1024 * 1024;
    const expected: number[] = [];
    let next = step;
    for (const lsn of lsnsOf(payloads)) {
      if (lsn < next) continue;
      expected.push(lsn);
      next = lsn + step;
    }
    ok(expected.length >= 3);
    for (const durability of ["runtime", "auto"] as const) {
      for (const readOnly of [true, false]) {
        const calls: number[] = [];
        Wal.open(path, {
          durability,
          readOnly,
          onRecoveryProgress: (scanned, total) => {
            equal(total, image.length);
            calls.push(scanned);
          },
        }).close();
        deepEqual(calls, expected, `${durability}, readOnly ${readOnly}`);
      }
    }
  });
});

// ---------------------------------------------------------------------------------------------
// The shim's frame scanner against the TypeScript one, through the public API.

/** The shim's CRC functions, when the shim loads here (undefined: the tests below are skipped). */
function loadedShimCrc(): ShimCrc | undefined {
  try {
    return loadShim().crc;
  } catch {
    return undefined;
  }
}

const shimCrc = loadedShimCrc();

/**
 * A log of random records (sizes 0 to past a replay chunk), then some of: a flipped byte in a
 * payload (damage), zeros, a frame cut short (a torn tail).
 */
function randomLog(rng: Rng): Uint8Array {
  const payloads: Uint8Array[] = [];
  const count = rng.int(1, 40);
  for (let i = 0; i < count; i++) {
    const size = rng.pick([
      0,
      1,
      7,
      256,
      4096,
      rng.int(0, 3000),
      REPLAY_CHUNK_SIZE + rng.int(1, 9),
    ]);
    payloads.push(rng.bytes(size));
  }
  const image = logImage(payloads);
  const parts = [image];
  if (rng.chance(50)) {
    // A flipped byte in a payload (or header) somewhere in the log.
    image[rng.below(image.length)]! ^= 1 << rng.below(8);
  }
  if (rng.chance(30)) parts.push(new Uint8Array(rng.int(1, 700)));
  if (rng.chance(40)) {
    const torn = logImage([rng.bytes(rng.int(1, 600))]);
    parts.push(torn.subarray(0, rng.int(1, torn.length - 1)));
  }
  return concat(parts);
}

/** What one open of `path` shows: the recovery report, the entries, and the bytes left. */
function observe(path: string, config: WalConfig) {
  try {
    using wal = Wal.open(path, config);
    const entries = [...wal.iter()].map((e) => [e.lsn, crc32c(e.data), e.data.length]);
    const mid = entries[entries.length >> 1]?.[0] ?? wal.nextLsn;
    const from = [...wal.iterFrom(mid)].map((e) => e.lsn);
    const recovery = JSON.parse(JSON.stringify(wal.recovery).replaceAll(dirname(path), "DIR"));
    return { recovery, nextLsn: wal.nextLsn, entries, from, bytes: readBytes(path) };
  } catch (error) {
    return { error: error instanceof WalError ? error.kind : String(error) };
  }
}

Deno.test({
  name: "Wal.open recovers and replays the same records with the shim's scanner and without",
  ignore: shimCrc === undefined,
  fn: () =>
    withTempDir((dir) => {
      const rng = new Rng(1207);
      const policies: RecoveryPolicy[] = ["tolerate-torn-tail", "strict", "skip", "truncate"];
      for (let round = 0; round < 16; round++) {
        const image = randomLog(rng);
        for (const policy of policies) {
          for (const readOnly of [false, true]) {
            const results = (["runtime", "shim"] as const).map((durability) => {
              // The same name in two folders: a set-aside file's name is in the report.
              const folder = join(dir, `${round}-${policy}-${readOnly}-${durability}`);
              Deno.mkdirSync(folder);
              const path = join(folder, "log.wal");
              Deno.writeFileSync(path, image);
              return observe(path, { durability, recoveryPolicy: policy, readOnly });
            });
            deepEqual(results[1], results[0], `round ${round}, ${policy}, readOnly ${readOnly}`);
          }
        }
      }
    }),
});

Deno.test({
  name:
    "Wal.open recovers, iterates and tails through the shim's scanner unless durability is runtime",
  ignore: shimCrc === undefined,
  fn: () =>
    withTempDir(async (dir) => {
      const path = join(dir, "log.wal");
      await Deno.writeFile(path, logImage([bytes("one"), bytes("two"), bytes("three")]));
      const original = shimCrc!.scanFrames;
      let calls = 0;
      // The loader hands out one wrapper per library: counting its calls counts the open's.
      const counted = shimCrc as { scanFrames: ShimCrc["scanFrames"] };
      counted.scanFrames = (...args) => {
        calls++;
        return original(...args);
      };
      try {
        for (const durability of ["auto", "runtime"] as const) {
          calls = 0;
          using wal = Wal.open(path, { durability });
          const recovered = calls;
          equal([...wal.iter()].length, 3);
          const iterated = calls - recovered;
          const stop = new AbortController();
          const tailed: number[] = [];
          for await (const entry of wal.tail(0, { signal: stop.signal })) {
            tailed.push(entry.lsn);
            if (tailed.length === 3) stop.abort();
          }
          const shim = durability === "auto";
          equal(recovered > 0, shim, `${durability}: the recovery scan`);
          equal(iterated > 0, shim, `${durability}: iter`);
          equal(calls - recovered - iterated > 0, shim, `${durability}: tail`);
        }
      } finally {
        counted.scanFrames = original;
      }
    }),
});
