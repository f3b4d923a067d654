// Copyright 2026 the wal-db authors. MIT license.
// Snapshots and checkpoints (src/checkpoint.ts): the snapshot file's checks, what `load`
// refuses, and crash safety: a power loss or kill at every operation of a checkpoint, and the
// seeded checkpoint simulation (tests/_sim_checkpoint.ts).

import { deepEqual, equal, ok, rejects, throws } from "node:assert/strict";
import { join } from "node:path";
import { MemDirectory, MemStore, Snapshots, Wal, WalError } from "../mod.ts";
import { Rng } from "./_rng.ts";
import {
  apply,
  encodeState,
  restore,
  runCheckpointSchedule,
  type ServiceState,
} from "./_sim_checkpoint.ts";
import {
  CRASH_MODEL_DEFAULT,
  CRASH_MODEL_KEEP_ALL,
  CRASH_MODEL_LOSE_ALL,
  type CrashModel,
  SimDirectory,
  SimDisk,
  SimIoError,
  SimPowerLoss,
} from "./_sim_disk.ts";

const SEGMENT_SIZE = 64;
const SCHEDULES = 400;

function isKind(kind: string): (error: unknown) => boolean {
  return (error) => error instanceof WalError && error.kind === kind;
}

function corruption(text: RegExp): (error: unknown) => boolean {
  return (error) =>
    error instanceof WalError && error.kind === "corruption" && text.test(error.message);
}

/** A segmented log in memory with `count` records of `size` bytes, synced. */
async function memLog(count: number, size = 10) {
  const dir = new MemDirectory();
  const wal = Wal.openSegmented(dir, SEGMENT_SIZE);
  const lsns: number[] = [];
  for (let i = 0; i < count; i++) lsns.push(wal.append(new Uint8Array(size).fill(i)));
  await wal.sync();
  return { dir, wal, lsns, snapshots: new Snapshots(dir) };
}

Deno.test("checkpoint: writes the snapshot, moves the head, and a restart restores the state", async () => {
  const { dir, wal, lsns, snapshots } = await memLog(20);
  const head = await snapshots.checkpoint(wal, new Uint8Array([7, 7]), lsns[12]!);
  equal(head, lsns[12]);
  equal(wal.head, lsns[12]);
  deepEqual(snapshots.read(), { lsn: lsns[12], data: new Uint8Array([7, 7]) });
  ok(!dir.list().includes("snapshot.tmp"), "the temporary file was renamed");
  ok(dir.list().filter((n) => n.endsWith(".wal")).length < 4, "old segments were removed");
  wal.close();
  const again = dir.reopen();
  using reopened = Wal.openSegmented(again, SEGMENT_SIZE);
  const restored = new Snapshots(again).load(reopened);
  deepEqual(restored, { data: new Uint8Array([7, 7]), lsn: lsns[12] });
  deepEqual([...reopened.iterFrom(restored.lsn)].map((e) => e.data[0]), [
    12,
    13,
    14,
    15,
    16,
    17,
    18,
    19,
  ]);
});

Deno.test("checkpoint: syncs records it covers that are not durable yet, before the snapshot", async () => {
  const { wal, snapshots } = await memLog(0);
  wal.append(new Uint8Array(5));
  const end = wal.nextLsn;
  equal(wal.durableLsn, 0);
  await snapshots.checkpoint(wal, new Uint8Array(1), end);
  equal(wal.durableLsn, end);
  wal.close();
});

Deno.test("checkpoint: an LSN that is not a boundary, or before the head, writes nothing", async () => {
  const { wal, lsns, snapshots } = await memLog(5);
  await rejects(snapshots.checkpoint(wal, new Uint8Array(1), lsns[1]! + 1), isKind("invalid-lsn"));
  await rejects(
    snapshots.checkpoint(wal, new Uint8Array(1), wal.nextLsn + 18),
    isKind("invalid-lsn"),
  );
  equal(snapshots.read(), undefined);
  await snapshots.checkpoint(wal, new Uint8Array(1), lsns[3]!);
  await rejects(snapshots.checkpoint(wal, new Uint8Array(2), lsns[1]!), isKind("invalid-lsn"));
  deepEqual(snapshots.read(), { lsn: lsns[3], data: new Uint8Array(1) });
  await rejects(snapshots.checkpoint(wal, "x" as unknown as Uint8Array, lsns[3]!), TypeError);
  await rejects(snapshots.checkpoint(wal, new Uint8Array(1), "0" as unknown as number), TypeError);
  throws(() => snapshots.write(new Uint8Array(1), -1), RangeError);
  throws(() => snapshots.write(new Uint8Array(1), 1.5), RangeError);
  throws(() => new Snapshots(undefined as unknown as MemDirectory), TypeError);
  wal.close();
});

Deno.test("checkpoint: a read-only or failed log is refused before a snapshot is written", async () => {
  const { dir, wal, lsns } = await memLog(5);
  wal.close();
  const again = dir.reopen();
  using reader = Wal.openSegmented(again, SEGMENT_SIZE, { readOnly: true });
  const snapshots = new Snapshots(again);
  await rejects(snapshots.checkpoint(reader, new Uint8Array(1), lsns[2]!), isKind("read-only"));
  equal(snapshots.read(), undefined);
  deepEqual(snapshots.load(reader), { data: undefined, lsn: 0 });
  reader.close();
  await rejects(snapshots.checkpoint(reader, new Uint8Array(1), lsns[2]!), isKind("closed"));
  equal(again.readFile("snapshot"), undefined);
});

Deno.test("checkpoint: runs one at a time in call order; a later one behind the head is refused", async () => {
  const { wal, lsns, snapshots } = await memLog(10);
  const first = snapshots.checkpoint(wal, new Uint8Array([1]), lsns[8]!);
  const second = snapshots.checkpoint(wal, new Uint8Array([2]), lsns[2]!);
  equal(await first, lsns[8]);
  await rejects(second, isKind("invalid-lsn"));
  deepEqual(snapshots.read(), { lsn: lsns[8], data: new Uint8Array([1]) });
  wal.close();
});

Deno.test("checkpoint: a single-file log keeps its records; replay starts at the snapshot", async () => {
  const store = new MemStore();
  const wal = Wal.withStore(store);
  const snapshots = new Snapshots(new MemDirectory());
  const lsns = [1, 2, 3].map((i) => wal.append(new Uint8Array([i])));
  equal(await snapshots.checkpoint(wal, new Uint8Array([9]), lsns[2]!), 0);
  equal(wal.head, 0);
  const restored = snapshots.load(wal);
  deepEqual([...wal.iterFrom(restored.lsn)].map((e) => e.data[0]), [3]);
  wal.close();
});

Deno.test("load: no snapshot on a log that starts at 0 gives the head and no data", async () => {
  const { wal, snapshots } = await memLog(3);
  deepEqual(snapshots.load(wal), { data: undefined, lsn: 0 });
  wal.close();
});

Deno.test("load: a damaged snapshot file is refused as corruption, never an empty state", async () => {
  const { dir, wal, lsns, snapshots } = await memLog(4);
  snapshots.write(new Uint8Array(2000).fill(3), lsns[2]!);
  const good = dir.readFile("snapshot")!;
  const damages: [string, Uint8Array, RegExp][] = [
    ["a payload bit", flip(good, 1500), /payload fails its CRC32C/],
    ["a header bit", flip(good, 9), /header fails its CRC32C/],
    ["cut short", good.subarray(0, good.length - 1), /payload bytes/],
    ["bytes after it", concatBytes(good, new Uint8Array(3)), /payload bytes/],
    ["shorter than a header", good.subarray(0, 20), /shorter than the 32-byte header/],
    ["empty", new Uint8Array(0), /shorter than/],
    ["another file", new TextEncoder().encode("{ not a snapshot at all, just text }"), /WSNP/],
  ];
  for (const [what, bytes, message] of damages) {
    dir.writeFile("snapshot", bytes);
    throws(() => snapshots.load(wal), corruption(message), what);
    throws(() => snapshots.read(), corruption(/memory\/snapshot/), what);
    deepEqual(dir.readFile("snapshot"), bytes, `${what}: nothing changed`);
  }
  wal.close();
});

Deno.test("load: a snapshot that does not fit the log is refused", async () => {
  const { dir, wal, lsns, snapshots } = await memLog(6);
  snapshots.write(new Uint8Array(1), wal.nextLsn + 18);
  throws(() => snapshots.load(wal), corruption(/past the log's end/));
  snapshots.write(new Uint8Array(1), lsns[2]! + 3);
  throws(() => snapshots.load(wal), corruption(/no record of the log starts/));
  await snapshots.checkpoint(wal, new Uint8Array(1), lsns[4]!);
  snapshots.write(new Uint8Array(1), lsns[1]!);
  throws(() => snapshots.load(wal), corruption(/starts later/));
  dir.remove("snapshot");
  throws(() => snapshots.load(wal), corruption(/no snapshot, but the log starts at LSN/));
  wal.close();
});

Deno.test("load: a leftover snapshot.tmp is ignored, and the next write replaces it", async () => {
  const { dir, wal, lsns, snapshots } = await memLog(3);
  snapshots.write(new Uint8Array([1]), lsns[1]!);
  dir.writeFile("snapshot.tmp", new Uint8Array(500).fill(0xee));
  deepEqual(snapshots.load(wal), { data: new Uint8Array([1]), lsn: lsns[1] });
  snapshots.write(new Uint8Array([2]), lsns[2]!);
  ok(!dir.list().includes("snapshot.tmp"));
  deepEqual(snapshots.read(), { lsn: lsns[2], data: new Uint8Array([2]) });
  wal.close();
});

Deno.test("checkpoint: a failed snapshot write is 'io', keeps the old snapshot and the log", async () => {
  for (const failing of ["flush", "rename", "sync", "append"]) {
    const disk = new SimDisk();
    const dir = SimDirectory.open(disk);
    const wal = Wal.openSegmented(dir, SEGMENT_SIZE);
    const snapshots = new Snapshots(dir);
    wal.append(new Uint8Array(40));
    const first = wal.append(new Uint8Array(40));
    const second = wal.append(new Uint8Array(40));
    await wal.sync();
    await snapshots.checkpoint(wal, new Uint8Array([1]), first);
    disk.faults = (op) =>
      op.kind === failing && (op.name.startsWith("snapshot") || op.kind === "sync")
        ? { code: "EIO" }
        : undefined;
    await rejects(
      snapshots.checkpoint(wal, new Uint8Array([2]), second),
      (e) => isKind("io")(e) && (e as Error).cause instanceof SimIoError,
      failing,
    );
    disk.faults = undefined;
    equal(wal.head, first, `${failing}: the log was not cut`);
    const lsn = snapshots.read()!.lsn;
    ok(lsn === first || (failing === "sync" && lsn === second), `${failing}: a whole snapshot`);
    wal.append(new Uint8Array(1));
    await wal.sync();
    wal.close();
  }
});

Deno.test("checkpoint crash safety: a power loss or kill at every operation of a checkpoint", async () => {
  // Count the operations of a whole checkpoint first.
  const counting = new SimDisk();
  const base = await preparedWithDir(counting);
  const before = counting.stats.operations;
  await base.snapshots.checkpoint(base.wal, encodeState(base.all), base.wal.nextLsn);
  const operations = counting.stats.operations - before;
  ok(operations >= 8, `a checkpoint takes ${operations} counted operations`);
  base.wal.close();
  const models: [string, CrashModel][] = [
    ["lose all", CRASH_MODEL_LOSE_ALL],
    ["keep all", CRASH_MODEL_KEEP_ALL],
    ["default", CRASH_MODEL_DEFAULT],
  ];
  let checked = 0;
  for (let at = 0; at <= operations; at++) {
    for (const [name, model] of [...models, ["kill", undefined] as const]) {
      for (let seed = 1; seed <= (name === "default" ? 4 : 1); seed++) {
        const disk = new SimDisk();
        const run = await preparedWithDir(disk);
        disk.powerOffAfter(at);
        const outcome = await run.snapshots.checkpoint(
          run.wal,
          encodeState(run.all),
          run.wal.nextLsn,
        )
          .then(() => "done", (e) => e);
        if (at < operations) ok(simulatedLoss(outcome), `op ${at}: the checkpoint was cut short`);
        disk.powerOffAfter(undefined);
        let after: SimDisk;
        if (model === undefined) {
          if (!disk.dead) disk.kill();
          after = disk.dead ? disk.crash(new Rng(seed)) : disk;
        } else after = disk.crash(new Rng(seed), model);
        const dir = SimDirectory.open(after);
        using wal = Wal.openSegmented(dir, SEGMENT_SIZE);
        const snapshots = new Snapshots(dir);
        const where = `crash at operation ${at}/${operations} (${name}, seed ${seed})`;
        const restored = restore(wal, snapshots);
        ok(wal.head <= snapshots.read()!.lsn, `${where}: the head is at or before the snapshot`);
        ok(restored.count >= run.state.count, `${where}: acknowledged records survive`);
        ok(restored.count <= run.all.count, `${where}: nothing that was not appended`);
        if (restored.count === run.all.count) equal(restored.digest, run.all.digest, where);
        if (restored.count === run.state.count) equal(restored.digest, run.state.digest, where);
        // A checkpoint that returned promised its records were durable.
        if (outcome === "done") equal(restored.count, run.all.count, where);
        checked++;
      }
    }
  }
  ok(checked > operations * 6);
});

/** A log with an old snapshot and records after it, some synced and some not. */
async function preparedWithDir(disk: SimDisk) {
  const dir = SimDirectory.open(disk);
  const wal = Wal.openSegmented(dir, SEGMENT_SIZE);
  return { wal, ...(await preparedOn(wal, dir)) };
}

async function preparedOn(wal: Wal, dir: SimDirectory) {
  const snapshots = new Snapshots(dir);
  const rng = new Rng(42);
  const state: ServiceState = { count: 0, digest: 0 };
  const add = (n: number) => {
    for (let i = 0; i < n; i++) {
      const data = rng.bytes(rng.int(0, 90));
      wal.append(data);
      apply(state, data);
    }
  };
  add(7);
  await wal.sync();
  await snapshots.checkpoint(wal, encodeState(state), wal.durableLsn);
  add(9);
  await wal.sync();
  const synced = { ...state };
  add(3); // appended, not synced: the checkpoint syncs them first
  return { snapshots, state: synced, all: { ...state } };
}

function simulatedLoss(outcome: unknown): boolean {
  for (let e: unknown = outcome; e instanceof Error; e = e.cause) {
    if (e instanceof SimPowerLoss) return true;
  }
  return false;
}

Deno.test(`checkpoint simulation: ${SCHEDULES} seeded schedules of a service with crashes`, async () => {
  let crashesInCheckpoint = 0;
  let failedWrites = 0;
  let checkpoints = 0;
  let acknowledged = 0;
  const failures: string[] = [];
  for (let seed = 1; seed <= SCHEDULES; seed++) {
    const result = await runCheckpointSchedule(seed);
    crashesInCheckpoint += result.crashesInCheckpoint;
    failedWrites += result.failedSnapshotWrites;
    checkpoints += result.checkpoints;
    acknowledged += result.acknowledgedChecked;
    if (result.failure !== undefined) failures.push(`seed ${seed}: ${result.failure}`);
  }
  console.log(
    `checkpoints ${checkpoints}, crashes inside a checkpoint ${crashesInCheckpoint}, ` +
      `acknowledged records checked ${acknowledged}, snapshot writes failed ${failedWrites}`,
  );
  deepEqual(failures.slice(0, 5), []);
  ok(crashesInCheckpoint > SCHEDULES / 10, "crashes land inside checkpoints");
  ok(checkpoints > SCHEDULES, "checkpoints completed");
  ok(failedWrites > SCHEDULES / 20, "snapshot writes failed, leaving the log as it was");
});

Deno.test({
  name: "checkpoint on disk: FsDirectory shared by the log and the snapshots, then a restart",
  permissions: { read: true, write: true },
  async fn() {
    const root = Deno.makeTempDirSync();
    try {
      const path = join(root, "wal");
      const { FsDirectory } = await import("../mod.ts");
      {
        const dir = FsDirectory.open(path, { durability: "runtime" });
        using wal = Wal.openSegmented(dir, 4096);
        const snapshots = new Snapshots(dir);
        for (let i = 0; i < 100; i++) wal.append(new Uint8Array(100).fill(i));
        await snapshots.checkpoint(wal, new TextEncoder().encode("100 records"), wal.nextLsn);
        wal.append(new Uint8Array([100]));
        await wal.sync();
      }
      ok(Deno.statSync(join(path, "snapshot")).isFile);
      const dir = FsDirectory.open(path, { durability: "runtime" });
      using wal = Wal.openSegmented(dir, 4096);
      const restored = new Snapshots(dir).load(wal);
      equal(new TextDecoder().decode(restored.data), "100 records");
      deepEqual([...wal.iterFrom(restored.lsn)].map((e) => e.data[0]), [100]);
    } finally {
      Deno.removeSync(root, { recursive: true });
    }
  },
});

function flip(bytes: Uint8Array, at: number): Uint8Array {
  const copy = bytes.slice();
  copy[at]! ^= 0x10;
  return copy;
}

function concatBytes(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

Deno.test("checkpoint: a truncation already running makes it 'busy', with the snapshot written", async () => {
  const { MemDirectory, Snapshots, Wal, WalError } = await import("../mod.ts");
  const dir = new MemDirectory();
  using wal = Wal.openSegmented(dir, 64);
  const lsns = Array.from({ length: 20 }, () => wal.append(new Uint8Array(20)));
  await wal.sync();
  const snapshots = new Snapshots(dir);
  const running = wal.truncateBeforeAsync(lsns[2]!);
  await snapshots.checkpoint(wal, new Uint8Array([7]), lsns[10]!).then(
    () => {
      throw new Error("the checkpoint should have been refused");
    },
    (error: unknown) => {
      if (!(error instanceof WalError) || error.kind !== "busy") throw error;
      if (!/snapshot was written, but the log.s head was not moved/.test(error.message)) {
        throw error;
      }
    },
  );
  await running;
  const restored = snapshots.load(wal);
  if (restored.lsn !== lsns[10]) throw new Error(`snapshot at ${restored.lsn}`);
});
