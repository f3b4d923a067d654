// Copyright 2026 the wal-db authors. MIT license.
// Tests of the simulated disk itself: that it keeps what the contracts promise, loses what they
// allow to be lost (in every way the model describes), and injects faults as asked. The crash
// simulation is only as good as this model, so each rule gets a test that can fail.

import { deepEqual, equal, ok, rejects, throws } from "node:assert/strict";
import { WalError } from "../mod.ts";
import { Rng } from "./_rng.ts";
import { concat } from "./_helpers.ts";
import {
  CRASH_MODEL_DEFAULT,
  CRASH_MODEL_KEEP_ALL,
  CRASH_MODEL_LOSE_ALL,
  SECTOR_SIZE,
  SimDirectory,
  SimDisk,
  SimIoError,
  SimPowerLoss,
  SimProcessKilled,
  SimStore,
} from "./_sim_disk.ts";

const SEEDS = 300;

function filled(size: number, value: number): Uint8Array {
  return new Uint8Array(size).fill(value);
}

/** A disk with file `a` holding `flushed` durably and `volatile` appended after it. */
function diskWith(flushed: Uint8Array, volatile: Uint8Array[]): SimDisk {
  const disk = new SimDisk();
  const dir = SimDirectory.open(disk);
  const file = dir.open("a", true);
  file.append(flushed);
  file.flushSync();
  dir.sync();
  for (const part of volatile) file.append(part);
  return disk;
}

Deno.test("SimDisk keeps flushed bytes through every crash and loses only unflushed ones", () => {
  const flushed = filled(700, 1);
  for (let seed = 0; seed < SEEDS; seed++) {
    const disk = diskWith(flushed, [filled(900, 2), filled(100, 3)]);
    const after = disk.crash(new Rng(seed)).bytesOf("a")!;
    ok(after.length >= flushed.length, `seed ${seed}: flushed size survives`);
    deepEqual(after.subarray(0, flushed.length), flushed, `seed ${seed}: flushed bytes survive`);
    for (let i = flushed.length; i < after.length; i++) {
      ok([0, 2, 3].includes(after[i]!), `seed ${seed}: byte ${i} is written data or zero`);
    }
  }
});

Deno.test("SimDisk drops, keeps and tears unflushed appends, a sector piece at a time", () => {
  const outcomes = new Set<string>();
  const written = filled(3 * SECTOR_SIZE, 7);
  for (let seed = 0; seed < SEEDS; seed++) {
    const after = diskWith(filled(100, 1), [written]).crash(new Rng(seed)).bytesOf("a")!;
    // Pieces of the append: [100, 512), [512, 1024), [1024, 1536), [1536, 1636).
    const pieces = [[100, 512], [512, 1024], [1024, 1536], [1536, 1636]].map(([from, to]) => {
      const bytes = after.subarray(from!, Math.min(to!, after.length));
      ok(bytes.every((b) => b === bytes[0]), `seed ${seed}: piece ${from} is all or nothing`);
      return bytes.length === 0 ? "end" : bytes[0] === 7 ? "kept" : "lost";
    });
    outcomes.add(pieces.every((p) => p === "end") ? "dropped" : pieces.join(","));
  }
  ok(outcomes.has("dropped"), "some appends are dropped whole");
  ok(outcomes.has("kept,kept,kept,kept"), "some appends are kept whole");
  ok([...outcomes].some((o) => o.includes("lost,kept")), "some keep a later piece, not an earlier");
  ok([...outcomes].some((o) => o.endsWith("lost")), "some extend the size over unwritten zeros");
});

Deno.test("SimDisk crash is a pure function of the seed", () => {
  const image = (seed: number) =>
    diskWith(filled(10, 1), [filled(2000, 2), filled(30, 3)]).crash(new Rng(seed)).bytesOf("a");
  for (let seed = 0; seed < 20; seed++) deepEqual(image(seed), image(seed));
});

Deno.test("SimDisk with the lose-all model finds exactly the durable state, keep-all the current", () => {
  const volatile = [filled(600, 2)];
  deepEqual(
    diskWith(filled(5, 1), volatile).crash(new Rng(1), CRASH_MODEL_LOSE_ALL).bytesOf("a"),
    filled(5, 1),
  );
  deepEqual(
    diskWith(filled(5, 1), volatile).crash(new Rng(1), CRASH_MODEL_KEEP_ALL).bytesOf("a"),
    concat([filled(5, 1), filled(600, 2)]),
  );
});

Deno.test("SimDisk flush covers the writes made before it was called, not those during it", async () => {
  const disk = new SimDisk({ rng: new Rng(3) });
  const dir = SimDirectory.open(disk);
  const file = dir.open("a", true);
  dir.sync();
  file.append(filled(4, 1));
  const flushing = file.flush();
  file.append(filled(4, 2));
  await flushing;
  deepEqual(disk.crash(new Rng(0), CRASH_MODEL_LOSE_ALL).bytesOf("a"), filled(4, 1));
});

Deno.test("SimDisk forgets an unsynced create, rename or remove, and keeps synced ones", () => {
  const disk = new SimDisk();
  const dir = SimDirectory.open(disk);
  for (const name of ["old", "gone"]) {
    const file = dir.open(name, true);
    file.append(filled(3, 9));
    file.flushSync();
    file.close();
  }
  dir.sync();
  const fresh = dir.open("new", true);
  fresh.append(filled(2, 1));
  fresh.flushSync();
  dir.rename("old", "renamed");
  dir.remove("gone");
  deepEqual(disk.names(), ["new", "renamed"]);
  const lost = disk.crash(new Rng(0), CRASH_MODEL_LOSE_ALL);
  deepEqual(lost.names(), ["gone", "old"], "create, rename and remove all lost");
  deepEqual(lost.bytesOf("gone"), filled(3, 9), "a removed file comes back with its content");
  const kept = new SimDisk();
  kept.writeFile("x", filled(1, 1));
  const keptDir = SimDirectory.open(kept);
  keptDir.open("y", true).close();
  keptDir.rename("x", "z");
  keptDir.sync();
  deepEqual(kept.crash(new Rng(0), CRASH_MODEL_LOSE_ALL).names(), ["y", "z"]);
});

Deno.test("SimDisk loses some directory changes and keeps others under the default model", () => {
  const seen = new Set<string>();
  for (let seed = 0; seed < 50; seed++) {
    const disk = new SimDisk();
    const dir = SimDirectory.open(disk);
    dir.open("a", true).close();
    dir.open("b", true).close();
    seen.add(disk.crash(new Rng(seed), CRASH_MODEL_DEFAULT).names().join(","));
  }
  deepEqual([...seen].sort(), ["", "a", "a,b", "b"]);
});

Deno.test("SimDisk failed flush marks data clean without saving it, so a later flush cannot", () => {
  const disk = new SimDisk();
  const dir = SimDirectory.open(disk);
  const file = dir.open("a", true);
  dir.sync();
  file.append(filled(8, 5));
  disk.faults = (op) => op.kind === "flush" ? { code: "EIO" } : undefined;
  throws(() => file.flushSync(), (e) => e instanceof SimIoError && e.code === "EIO");
  disk.faults = undefined;
  file.flushSync();
  deepEqual(disk.bytesOf("a"), filled(8, 5), "reads still see the data");
  deepEqual(disk.crash(new Rng(0), CRASH_MODEL_KEEP_ALL).bytesOf("a"), new Uint8Array(0));
  equal(disk.stats.faultsInjected, 1);
});

Deno.test("SimDisk short write puts a prefix of the data in the file, then throws", () => {
  const disk = new SimDisk();
  const file = SimDirectory.open(disk).open("a", true);
  disk.faults = (op) => op.kind === "append" ? { code: "ENOSPC", shortBytes: 3 } : undefined;
  throws(() => file.append(filled(10, 4)), (e) => e instanceof SimIoError && e.code === "ENOSPC");
  deepEqual(disk.bytesOf("a"), filled(3, 4));
});

Deno.test("SimDisk power-off countdown fails the next operation and flushes in flight", async () => {
  const disk = new SimDisk();
  const dir = SimDirectory.open(disk);
  const file = dir.open("a", true);
  dir.sync();
  disk.powerOffAfter(2);
  file.append(filled(1, 1)); // 1
  const flushing = file.flush(); // 2: the flush starts, its completion finds the power off
  await rejects(flushing, SimPowerLoss);
  ok(disk.dead);
  throws(() => file.append(filled(1, 1)), SimPowerLoss);
  throws(() => file.readAt(0, new Uint8Array(1)), SimPowerLoss);
  deepEqual(disk.crash(new Rng(0), CRASH_MODEL_LOSE_ALL).bytesOf("a"), new Uint8Array(0));
});

Deno.test("SimDisk kill keeps the page cache, fails old handles and releases the lock", async () => {
  const disk = new SimDisk();
  const dir = SimDirectory.open(disk);
  const file = dir.open("a", true);
  file.append(filled(2, 6));
  const flushing = file.flush();
  disk.kill();
  await rejects(flushing, SimProcessKilled);
  throws(() => file.append(filled(1, 1)), SimProcessKilled);
  throws(() => dir.list(), SimProcessKilled);
  equal(disk.openFileCount, 0);
  const again = SimDirectory.open(disk);
  deepEqual(again.open("a", false).size, 2);
  deepEqual(disk.crash(new Rng(0), CRASH_MODEL_LOSE_ALL).names(), [], "never synced: gone");
});

Deno.test("SimDirectory and SimStore hold an exclusive lock until closed", () => {
  const disk = new SimDisk();
  const dir = SimDirectory.open(disk);
  throws(() => SimDirectory.open(disk), (e) => e instanceof WalError && e.kind === "locked");
  dir.close();
  dir.close();
  SimDirectory.open(disk).close();
  const store = SimStore.open(disk);
  throws(() => SimStore.open(disk), (e) => e instanceof WalError && e.kind === "locked");
  store.close();
  SimStore.open(disk).close();
  ok(!disk.locked);
});

Deno.test("SimStore creates its file durably and truncates durably", () => {
  const disk = new SimDisk();
  const store = SimStore.open(disk);
  store.append(filled(10, 1));
  store.flushSync();
  store.append(filled(10, 2));
  store.truncate(5);
  deepEqual(disk.crash(new Rng(0), CRASH_MODEL_LOSE_ALL).bytesOf("log.wal"), filled(5, 1));
});

Deno.test("SimDisk handles refuse use after close", () => {
  const disk = new SimDisk();
  const file = SimDirectory.open(disk).open("a", true);
  file.close();
  throws(() => file.append(filled(1, 1)), /used after close/);
  equal(disk.openFileCount, 0);
});

Deno.test("SimDisk rejects an inconsistent crash model", () => {
  const disk = new SimDisk();
  throws(
    () => disk.crash(new Rng(0), { ...CRASH_MODEL_DEFAULT, writeDroppedPercent: 80 }),
    RangeError,
  );
  throws(
    () => disk.crash(new Rng(0), { ...CRASH_MODEL_DEFAULT, entryLostPercent: 101 }),
    RangeError,
  );
});
