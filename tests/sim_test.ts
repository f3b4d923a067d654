// Copyright 2026 the wal-db authors. MIT license.
// The crash simulation (tests/_sim.ts) over a fixed range of seeds, plus the smallest
// reproductions of what it found, each a fixed sequence on the simulated disk.
//
// Goal: after any power loss, process kill or clean reopen, the reopened log holds every record
// whose sync resolved (minus what an acknowledged truncation dropped), in order, with nothing
// that was never appended; and opening never throws for a history made only of crashes.
// Method: seeded random workloads on the real Wal, checked against a model. `WAL_SEED=n deno
// test -A tests/sim_test.ts` (or `WAL_SEED=n deno task sim`) replays seed n with a trace.

import { deepEqual, equal, ok } from "node:assert/strict";
import { MemStore, SegmentedStore, Wal } from "../mod.ts";
import { frame } from "../src/record.ts";
import { Rng } from "./_rng.ts";
import { formatFailure, formatFigures, runSchedule, runSchedules } from "./_sim.ts";
import { CRASH_MODEL_DEFAULT, CRASH_MODEL_LOSE_ALL, SimDirectory, SimDisk } from "./_sim_disk.ts";
import { bytes, concat } from "./_helpers.ts";

/** Schedules the suite runs: the issue asks for at least 10,000 on every CI run. */
const SCHEDULES = 10_000;
const FIRST_SEED = 1;
const FAILURES_SHOWN_MAX = 10;
const SEGMENT_SIZE = 16;

function openSegmented(disk: SimDisk, config = {}): Wal {
  return Wal.withStore(SegmentedStore.open(SimDirectory.open(disk), SEGMENT_SIZE), config);
}

function payloads(wal: Wal): Uint8Array[] {
  return [...wal.iter()].map((entry) => entry.data);
}

Deno.test({
  name: "crash simulation: every acknowledged record survives 10,000 seeded crash schedules",
  ignore: Deno.env.get("WAL_SEED") !== undefined,
  async fn() {
    const summary = await runSchedules(FIRST_SEED, SCHEDULES);
    console.log(formatFigures(summary.figures));
    const shown = summary.failures.slice(0, FAILURES_SHOWN_MAX).map((f) => formatFailure(f));
    equal(
      summary.failures.length,
      0,
      `${summary.failures.length} schedules failed:\n${shown.join("\n")}`,
    );
    equal(summary.figures.acknowledgedLost, 0);
    ok(summary.figures.crashes >= SCHEDULES, "every schedule lost power at least once");
    ok(summary.figures.acknowledgedChecked > SCHEDULES, "acknowledged records were checked");
  },
});

Deno.test("crash simulation: seeds found by review with more faults than the suite's (24060 and 20074 at 10%: an open that failed on its directory flush; 24182 at 3%: a failed cut whose cut back failed too, then read in the same process)", async () => {
  // 780148 at 3%: a refused short first write whose open faulted on its directory flush first.
  for (const [seed, faultPercent] of [[24060, 10], [20074, 10], [24182, 3], [780148, 3]] as const) {
    const result = await runSchedule(seed, { faultPercent });
    equal(result.failure, undefined, formatFailure(result));
  }
});

Deno.test({
  name: "crash simulation: WAL_SEED replays one schedule with its trace",
  ignore: Deno.env.get("WAL_SEED") === undefined,
  async fn() {
    const result = await runSchedule(Number(Deno.env.get("WAL_SEED")), { trace: true });
    console.log(result.trace.join("\n"));
    equal(result.failure, undefined, formatFailure(result));
  },
});

// Found by the simulation; each was a failing seed first.

Deno.test("a segmented log reopened after a process crash makes the records it replays durable", async () => {
  const disk = new SimDisk();
  const crashed = openSegmented(disk);
  crashed.append(bytes("in the page cache only")); // the process dies before syncing it
  disk.kill();
  const wal = openSegmented(disk);
  equal(wal.durableLsn, wal.nextLsn, "the reopened log reports the replayed record durable");
  await wal.sync();
  const afterPowerLoss = openSegmented(disk.crash(new Rng(0), CRASH_MODEL_LOSE_ALL));
  deepEqual(payloads(afterPowerLoss), [bytes("in the page cache only")]);
});

Deno.test("a checkpoint at the unsynced end of a segmented log leaves a log that opens after a power loss", () => {
  const disk = new SimDisk();
  const wal = openSegmented(disk);
  wal.append(bytes("synced"));
  wal.syncSync();
  wal.append(bytes("not synced yet"));
  wal.truncateBefore(wal.nextLsn); // returns: the new head is durable
  const after = openSegmented(disk.crash(new Rng(0), CRASH_MODEL_LOSE_ALL));
  deepEqual(payloads(after), []);
});

Deno.test("a new segmented log opens after any crash, whichever segment creations were lost", () => {
  for (let seed = 0; seed < 64; seed++) {
    const disk = new SimDisk();
    const wal = openSegmented(disk);
    wal.append(new Uint8Array(40).fill(7)); // segments 0, 1 and 2; nothing synced
    const crashed = disk.crash(new Rng(seed), CRASH_MODEL_DEFAULT);
    const names = crashed.names().join(" ");
    let after: Wal;
    try {
      after = openSegmented(crashed);
    } catch (error) {
      throw new Error(`seed ${seed}, surviving files [${names}]: ${error}`, { cause: error });
    }
    ok(payloads(after).length <= 1, `seed ${seed}`);
    after.close();
  }
});

/** Bytes no record starts in: an implausible length, then zeros. */
const damage = concat([
  new Uint8Array(4).fill(0xab),
  new Uint8Array(4).fill(0xff),
  new Uint8Array(8),
]);

Deno.test('truncateAfter keeps the last record before a range the "skip" policy left in place', () => {
  const [a, b, c] = [bytes("a"), bytes("bb"), bytes("ccc")];
  const store = new MemStore(concat([frame(a), frame(b), damage, frame(c)]));
  const wal = Wal.withStore(store, { recoveryPolicy: "skip" });
  deepEqual(payloads(wal), [a, b, c]);
  wal.truncateAfter(frame(a).length);
  deepEqual(payloads(wal), [a, b]);
});

Deno.test('the "skip" policy opens a log whose first bytes are damaged', () => {
  const [a, b] = [bytes("a"), bytes("bb")];
  const wal = Wal.withStore(new MemStore(concat([damage, frame(a), frame(b)])), {
    recoveryPolicy: "skip",
  });
  deepEqual(payloads(wal), [a, b]);
});

Deno.test('a record appended where a "skip" range ends is a valid LSN after truncateFrom there', () => {
  const [a, b, c] = [bytes("a"), bytes("bb"), bytes("ccc")];
  const wal = Wal.withStore(new MemStore(concat([frame(a), damage, frame(b)])), {
    recoveryPolicy: "skip",
  });
  const resume = frame(a).length + damage.length;
  wal.truncateFrom(resume);
  const lsn = wal.append(c);
  equal(lsn, resume);
  deepEqual([...wal.iterFrom(lsn)].map((e) => e.data), [c]);
});
