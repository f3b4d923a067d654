// Copyright 2026 the wal-db authors. MIT license.
// Fault injection through the store and directory seams (the simulated disk of _sim_disk.ts).
//
// Goal: whatever single operation fails (a flush, a write, a read, a truncate, a rename, a
// remove, a directory sync), (1) no sync resolves for bytes a successful flush did not cover,
// (2) after a failed write or flush the log is failed (kind "failed") until it is reopened, and
// (3) a remount of what survives holds every synced record. Method: one fixed scenario per
// operation and layout, each remounted with nothing volatile kept (the worst case) and under
// several seeded crash outcomes; then random faults across thousands of simulated schedules.

import { deepEqual, equal, ok, rejects, throws } from "node:assert/strict";
import { SegmentedStore, Wal, WalError } from "../mod.ts";
import { Rng } from "./_rng.ts";
import { formatFailure, formatFigures, runSchedules } from "./_sim.ts";
import {
  CRASH_MODEL_DEFAULT,
  CRASH_MODEL_LOSE_ALL,
  openSimLog,
  SIM_LAYOUTS,
  SimDirectory,
  SimDisk,
  type SimFault,
  type SimLayout,
  type SimOperationKind,
  SimStore,
} from "./_sim_disk.ts";
import { bytes, ForwardingStore } from "./_helpers.ts";

const SEGMENT_SIZE = 16;
/** Crash outcomes each scenario is remounted under, besides the lose-everything one. */
const REMOUNT_SEEDS = 12;
const RANDOM_FAULT_SCHEDULES = 2_000;
const RANDOM_FAULT_PERCENT = 3;

type Layout = SimLayout;
const LAYOUTS = SIM_LAYOUTS;

let faultsInjected = 0;

const open = (disk: SimDisk, layout: Layout): Wal => openSimLog(disk, layout, SEGMENT_SIZE);

/** Fails the `nth` (1-based) operation of `kind` (on a file whose name matches), once. */
function failNth(
  disk: SimDisk,
  kind: SimOperationKind,
  nth = 1,
  fault: SimFault = { code: "EIO" },
  name: RegExp = /.*/,
): void {
  let seen = 0;
  disk.faults = (operation) => {
    if (operation.kind !== kind || !name.test(operation.name) || ++seen !== nth) return undefined;
    faultsInjected++;
    return fault;
  };
}

const failed = (e: unknown) => e instanceof WalError && e.kind === "failed";
const io = (e: unknown) => e instanceof WalError && e.kind === "io";

function payloads(wal: Wal): string[] {
  return [...wal.iter()].map((e) => new TextDecoder().decode(e.data));
}

/** The log refuses every write and sync until it is reopened. */
async function assertFailed(wal: Wal): Promise<void> {
  throws(() => wal.append(bytes("after")), failed);
  throws(() => wal.appendBatch([bytes("after")]), failed);
  throws(() => wal.syncSync(), failed);
  throws(() => wal.truncateFrom(wal.head), failed);
  throws(() => wal.truncateBefore(wal.nextLsn), failed);
  await rejects(wal.sync(), failed);
}

/**
 * Remounts the dead disk under the worst case and several seeded crash outcomes and checks
 * each: the records are a prefix of `appended` from some allowed head that holds every record
 * of `synced`.
 */
function assertEveryRemount(
  disk: SimDisk,
  layout: Layout,
  synced: string[],
  appended: string[],
): void {
  const outcomes = [CRASH_MODEL_LOSE_ALL, ...Array(REMOUNT_SEEDS).fill(CRASH_MODEL_DEFAULT)];
  for (const [seed, model] of outcomes.entries()) {
    using wal = open(disk.crash(new Rng(seed), model), layout);
    const found = payloads(wal);
    const start = appended.indexOf(found[0] ?? synced[0] ?? "");
    deepEqual(
      found,
      appended.slice(start, start + found.length),
      `remount ${seed}: a clean prefix`,
    );
    for (const record of synced) {
      ok(found.includes(record), `remount ${seed}: synced "${record}" kept`);
    }
  }
}

for (const layout of LAYOUTS) {
  Deno.test(`${layout}: a flush that fails once fails the log, and no later sync resolves`, async () => {
    const disk = new SimDisk();
    const wal = open(disk, layout);
    wal.append(bytes("synced first"));
    await wal.sync();
    wal.append(bytes("then lost"));
    failNth(disk, "flush");
    const callers = [wal.sync(), wal.sync()];
    for (const caller of callers) await rejects(caller, failed);
    let flushes = 0;
    disk.faults = (operation) => (operation.kind === "flush" && flushes++, undefined);
    await assertFailed(wal);
    equal(
      flushes,
      0,
      "no flush is retried after a failed one (the kernel may have dropped the data)",
    );
    assertEveryRemount(disk, layout, ["synced first"], ["synced first", "then lost"]);
  });

  Deno.test(`${layout}: a blocking flush that fails fails the log`, async () => {
    const disk = new SimDisk();
    const wal = open(disk, layout);
    wal.append(bytes("synced first"));
    wal.syncSync();
    wal.append(bytes("then lost"));
    failNth(disk, "flush");
    throws(() => wal.syncSync(), failed);
    await assertFailed(wal);
    assertEveryRemount(disk, layout, ["synced first"], ["synced first", "then lost"]);
  });

  Deno.test(`${layout}: ENOSPC on append fails the log and writes nothing`, async () => {
    const disk = new SimDisk();
    const wal = open(disk, layout);
    wal.append(bytes("synced"));
    await wal.sync();
    const end = wal.nextLsn;
    failNth(disk, "append", 1, { code: "ENOSPC" });
    throws(() => wal.append(bytes("no room for this one")), failed);
    equal(wal.nextLsn, end);
    await assertFailed(wal);
    assertEveryRemount(disk, layout, ["synced"], ["synced"]);
  });

  Deno.test(`${layout}: a short write fails the log, and reopening cuts the torn record`, async () => {
    const disk = new SimDisk();
    const wal = open(disk, layout);
    wal.append(bytes("synced"));
    await wal.sync();
    // The record spans segments; its second write stops after 3 bytes.
    const end = wal.nextLsn;
    failNth(disk, "append", layout === "segmented" ? 2 : 1, { code: "ENOSPC", shortBytes: 3 });
    throws(() => wal.append(bytes("torn by a short write")), failed);
    equal(wal.nextLsn, end, "the failed log ends at its last complete frame");
    deepEqual(payloads(wal), ["synced"], "and reads no partial frame as damage");
    await assertFailed(wal);
    disk.kill();
    disk.faults = undefined;
    using reopened = open(disk, layout);
    deepEqual(
      payloads(reopened),
      ["synced"],
      "the page cache still holds the torn bytes; recovery cuts them",
    );
    reopened.append(bytes("after reopen"));
    reopened.syncSync();
    reopened.close();
    assertEveryRemount(disk, layout, ["synced", "after reopen"], ["synced", "after reopen"]);
  });

  Deno.test(`${layout}: a close that fails is reported, and every handle and the lock released`, async () => {
    const disk = new SimDisk();
    const wal = open(disk, layout);
    wal.append(bytes("synced"));
    wal.syncSync();
    // A log file's close.
    failNth(disk, "close", 1, { code: "EIO" }, /\.wal$/);
    let error: unknown;
    try {
      wal.close();
    } catch (thrown) {
      error = thrown;
    }
    ok(!disk.locked, "the lock was released");
    equal(disk.openFileCount, 0, "every file was closed");
    ok(io(error), `close() reports the failure as io: ${error}`);
    await rejects(wal.closed, io);
    disk.faults = undefined;
    using again = open(disk, layout);
    deepEqual(payloads(again), ["synced"]);
  });

  Deno.test(`${layout}: a close that fails after a running flush is reported by wal.closed`, async () => {
    const disk = new SimDisk();
    const wal = open(disk, layout);
    // Short enough for one segment: no segment is retired (and closed) by the flush itself.
    wal.append(bytes("synced"));
    failNth(disk, "close", 1, { code: "EIO" }, /\.wal$/);
    const pending = wal.sync();
    await Promise.resolve();
    wal.close(); // the flush runs: the store closes when it settles, after close() returned
    await pending;
    await rejects(wal.closed, io);
    ok(!disk.locked, "the lock was released");
    equal(disk.openFileCount, 0, "every file was closed");
    disk.faults = undefined;
    assertEveryRemount(disk, layout, ["synced"], ["synced"]);
  });

  Deno.test(`${layout}: an EIO on read surfaces from iteration as WalError io`, () => {
    const disk = new SimDisk();
    using wal = open(disk, layout);
    wal.append(bytes("one"));
    wal.append(bytes("two"));
    failNth(disk, "read");
    throws(() => [...wal.iter()], io);
    disk.faults = undefined;
    deepEqual(payloads(wal), ["one", "two"], "a failed read does not change the log");
  });

  Deno.test(`${layout}: an EIO on read during recovery fails the open cleanly`, () => {
    const disk = new SimDisk();
    const wal = open(disk, layout);
    wal.append(bytes("synced"));
    wal.syncSync();
    wal.close();
    failNth(disk, "read");
    throws(() => open(disk, layout), io);
    ok(!disk.locked, "the failed open released its lock");
    disk.faults = undefined;
    using again = open(disk, layout);
    deepEqual(payloads(again), ["synced"]);
  });

  Deno.test(`${layout}: a failed truncate in truncateFrom fails the log; synced records survive`, async () => {
    const disk = new SimDisk();
    const wal = open(disk, layout);
    wal.append(bytes("kept"));
    const cut = wal.append(bytes("cut away"));
    wal.append(bytes("also cut"));
    await wal.sync();
    failNth(disk, "truncate");
    throws(() => wal.truncateFrom(cut), failed);
    await assertFailed(wal);
    assertEveryRemount(disk, layout, ["kept"], ["kept", "cut away", "also cut"]);
  });
}

Deno.test("segmented: a failed segment removal in truncateFrom fails the log", async () => {
  const disk = new SimDisk();
  const wal = open(disk, "segmented");
  wal.append(bytes("kept"));
  const cut = wal.append(bytes("spans several segments"));
  await wal.sync();
  failNth(disk, "remove");
  throws(() => wal.truncateFrom(cut), failed);
  await assertFailed(wal);
  assertEveryRemount(disk, "segmented", ["kept"], ["kept", "spans several segments"]);
});

/** A segmented log with four synced records; `truncateBefore(third)` is the checkpoint. */
async function checkpointScenario(fail: (disk: SimDisk) => void): Promise<void> {
  const disk = new SimDisk();
  const wal = open(disk, "segmented");
  const records = ["first record", "second record", "third record", "fourth record"];
  const lsns = records.map((r) => wal.append(bytes(r)));
  await wal.sync();
  fail(disk);
  throws(() => wal.truncateBefore(lsns[2]!), failed);
  await assertFailed(wal);
  assertEveryRemount(disk, "segmented", records.slice(2), records);
}

Deno.test("segmented: a failed head.tmp creation in truncateBefore fails the log", async () => {
  await checkpointScenario((disk) => failNth(disk, "create", 1, { code: "ENOSPC" }, /^head\.tmp$/));
});

Deno.test("segmented: a failed head.tmp flush in truncateBefore fails the log", async () => {
  await checkpointScenario((disk) => failNth(disk, "flush", 1, { code: "EIO" }, /^head\.tmp$/));
});

Deno.test("segmented: a failed rename of head.tmp in truncateBefore fails the log", async () => {
  await checkpointScenario((disk) => failNth(disk, "rename"));
});

Deno.test("segmented: a failed directory sync in truncateBefore fails the log", async () => {
  await checkpointScenario((disk) => failNth(disk, "sync"));
});

Deno.test("segmented: a failed removal of an old segment in truncateBefore fails the log", async () => {
  await checkpointScenario((disk) => failNth(disk, "remove"));
});

Deno.test("segmented: a failed segment creation on rotation fails the log", async () => {
  const disk = new SimDisk();
  const wal = open(disk, "segmented");
  wal.append(bytes("synced"));
  await wal.sync();
  failNth(disk, "create", 1, { code: "ENOSPC" });
  throws(() => wal.append(bytes("needs a new segment")), failed);
  await assertFailed(wal);
  assertEveryRemount(disk, "segmented", ["synced"], ["synced", "needs a new segment"]);
});

Deno.test("segmented: a failed directory sync after rotation fails the sync and the log", async () => {
  const disk = new SimDisk();
  const wal = open(disk, "segmented");
  wal.append(bytes("synced"));
  await wal.sync();
  wal.append(bytes("in new segments"));
  failNth(disk, "sync");
  await rejects(wal.sync(), failed);
  await assertFailed(wal);
  assertEveryRemount(disk, "segmented", ["synced"], ["synced", "in new segments"]);
});

/** A store whose flush results reach the log only when `release` is called, like a worker
 * thread's result waiting for the event loop. */
class DeliveredLater extends ForwardingStore {
  #gate = Promise.withResolvers<void>();
  release(): void {
    this.#gate.resolve();
  }
  override flush(): Promise<void> {
    return this.inner.flush().then(
      () => this.#gate.promise,
      (e) => this.#gate.promise.then(() => Promise.reject(e)),
    );
  }
}

/** Whether `syncSync` returned (acknowledged everything appended) rather than threw. */
function syncSyncReturns(wal: Wal): boolean {
  try {
    wal.syncSync();
    return true;
  } catch {
    return false;
  }
}

async function turns(count: number): Promise<void> {
  for (let i = 0; i < count; i++) await Promise.resolve();
}

Deno.test("a sync in flight does not resolve when a blocking flush of the same log fails meanwhile", async () => {
  const disk = new SimDisk();
  const store = new DeliveredLater(SimStore.open(disk));
  const wal = Wal.withStore(store);
  wal.append(bytes("appended before both flushes"));
  const inFlight = wal.sync();
  await turns(4); // the background flush has run; its result waits for the event loop
  failNth(disk, "flush");
  wal.append(bytes("more"));
  throws(() => wal.syncSync(), failed); // this flush fails: the kernel may drop the dirty pages
  store.release();
  const resolved = await inFlight.then(() => true, () => false);
  const after = open(disk.crash(new Rng(0), CRASH_MODEL_LOSE_ALL), "single file");
  ok(
    !resolved || payloads(after).includes("appended before both flushes"),
    "a resolved sync kept its record",
  );
  after.close();
  equal(resolved, false, "the log failed while the flush ran: its outcome cannot be trusted");
});

Deno.test("syncSync does not acknowledge records that a failing flush in flight has dropped", async () => {
  const disk = new SimDisk();
  const store = new DeliveredLater(SimStore.open(disk));
  const wal = Wal.withStore(store);
  wal.append(bytes("dropped by the failing flush"));
  failNth(disk, "flush");
  const inFlight = wal.sync();
  await turns(4); // the flush failed in the kernel; the error has not reached the log yet
  const acknowledged = syncSyncReturns(wal);
  store.release();
  await rejects(inFlight, failed);
  using after = open(disk.crash(new Rng(0), CRASH_MODEL_LOSE_ALL), "single file");
  ok(
    !acknowledged || payloads(after).includes("dropped by the failing flush"),
    "syncSync returned, so the record must survive",
  );
});

Deno.test("syncSync does not acknowledge a segment that a failing flush in flight has dropped", async () => {
  const disk = new SimDisk();
  const store = new DeliveredLater(SegmentedStore.open(SimDirectory.open(disk), SEGMENT_SIZE));
  const wal = Wal.withStore(store);
  wal.append(bytes("dropped")); // 15 bytes: segment 0
  wal.append(bytes("next segment")); // rotates: segment 0 is no longer the one written
  failNth(disk, "flush", 1, { code: "EIO" }, /00000000000000000000\.wal/);
  const inFlight = wal.sync();
  await turns(4); // segment 0's flush failed in the kernel; the log has not heard yet
  const acknowledged = syncSyncReturns(wal);
  store.release();
  await rejects(inFlight, failed);
  using after = open(disk.crash(new Rng(0), CRASH_MODEL_LOSE_ALL), "segmented");
  ok(
    !acknowledged || payloads(after).includes("dropped"),
    "syncSync returned: the record survives",
  );
  equal(acknowledged, false);
});

Deno.test("an injected fault while opening a segmented directory surfaces as WalError io", () => {
  const disk = new SimDisk();
  open(disk, "segmented").close();
  failNth(disk, "list");
  throws(() => SegmentedStore.open(SimDirectory.open(disk), SEGMENT_SIZE), io);
  ok(!disk.locked);
});

Deno.test("a read error while checking an LSN surfaces as WalError io", () => {
  const disk = new SimDisk();
  using wal = open(disk, "single file");
  wal.append(bytes("a"));
  const second = wal.append(bytes("b"));
  failNth(disk, "read");
  throws(() => wal.iterFrom(second), io);
});

Deno.test(`random write faults: ${RANDOM_FAULT_SCHEDULES} simulated schedules keep every synced record`, async () => {
  const options = { faultPercent: RANDOM_FAULT_PERCENT };
  const summary = await runSchedules(1, RANDOM_FAULT_SCHEDULES, options);
  console.log(formatFigures(summary.figures));
  faultsInjected += summary.figures.faultsInjected;
  console.log(`faults injected in this file: ${faultsInjected}`);
  const shown = summary.failures.slice(0, 10).map((f) => formatFailure(f, options));
  equal(summary.failures.length, 0, shown.join("\n"));
  equal(summary.figures.acknowledgedLost, 0);
  ok(summary.figures.faultsInjected > RANDOM_FAULT_SCHEDULES / 2, "faults were injected");
});
