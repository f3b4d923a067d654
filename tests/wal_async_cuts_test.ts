// Copyright 2026 the wal-db authors. MIT license.
// Tests for src/wal_async_cuts.ts: truncateFromAsync and truncateAfterAsync leave what the
// blocking cuts leave, flushing only off the main thread; what runs beside them (nothing is
// appended, sync waits, cursors see the cut at once), close, a failed flush, a crash at every
// step, the gathered write mode, and a store without an asynchronous cut.

import { deepEqual, equal, ok, rejects, throws } from "node:assert/strict";
import type { WalConfig } from "../src/config.ts";
import { WalError } from "../src/errors.ts";
import { MemStore } from "../src/mem_store.ts";
import { Wal } from "../src/open.ts";
import { SegmentedStore } from "../src/segmented_store.ts";
import type { WalStore } from "../src/store.ts";
import { bytes } from "./_helpers.ts";
import { fillWords, twinLogs } from "./_no_blocking.ts";
import { Rng } from "./_rng.ts";
import {
  CRASH_MODEL_DEFAULT,
  CRASH_MODEL_KEEP_ALL,
  CRASH_MODEL_LOSE_ALL,
  SIM_LAYOUTS,
  SimDirectory,
  SimDisk,
  type SimLayout,
  SimStore,
} from "./_sim_disk.ts";

const busy = (e: unknown) => e instanceof WalError && e.kind === "busy";
const failed = (e: unknown) => e instanceof WalError && e.kind === "failed";

Deno.test("truncateFromAsync and truncateAfterAsync leave the files the blocking ones do, across segments, flushing only off the main thread", async () => {
  const { blocking, slow, fast, slowDisk, fastDisk, lsns } = twinLogs(40);
  slow.syncSync();
  fast.syncSync();
  // Cuts inside the last segment, several segments back, at a segment's first byte, and a
  // truncateAfter of the last record (which changes nothing).
  for (
    const [at, kind] of [[39, "after"], [37, "from"], [30, "after"], [12, "from"], [
      3,
      "after",
    ]] as const
  ) {
    if (kind === "from") slow.truncateFrom(lsns[at]!);
    else slow.truncateAfter(lsns[at]!);
    blocking.forbid = true; // a blocking flush, directory flush, segment cut or removal throws now
    if (kind === "from") await fast.truncateFromAsync(lsns[at]!);
    else await fast.truncateAfterAsync(lsns[at]!);
    blocking.forbid = false;
    equal(fast.nextLsn, slow.nextLsn);
    equal(fast.durableLsn, slow.durableLsn);
    deepEqual(fastDisk.names(), slowDisk.names(), `${kind} ${at}`);
    for (const name of slowDisk.names()) deepEqual(fastDisk.bytesOf(name), slowDisk.bytesOf(name));
    deepEqual([...fast.iter()], [...slow.iter()]);
  }
  // Appends go on at the cut.
  equal(fast.append(bytes("next")), slow.append(bytes("next")));
  slow.close();
  fast.close();
});

/** What each of `count` calls of `next` does: the LSN it yields, "done", or the error kind. */
function steps(cursor: Iterator<{ lsn: number }>, count: number): string[] {
  const seen: string[] = [];
  for (let i = 0; i < count; i++) {
    try {
      const step = cursor.next();
      seen.push(step.done ? "done" : String(step.value.lsn));
    } catch (error) {
      seen.push(error instanceof WalError ? error.kind : String(error));
    }
  }
  return seen;
}

for (const layout of SIM_LAYOUTS) {
  Deno.test(`truncateFromAsync (${layout}): the log ends at the cut at once; appends and syncSync are busy, sync waits for the cut`, async () => {
    const disk = new SimDisk();
    const wal = openLog(disk, layout);
    const lsns = fillWords(wal, 30);
    const durable = wal.sync();
    const early = wal.iterFrom(lsns[1]!);
    early.next();
    const late = wal.iterFrom(lsns[24]!);
    late.next();
    const cut = wal.truncateFromAsync(lsns[20]!);
    // In the call's own turn: the end, the durable end and the cursors see the cut.
    equal(wal.nextLsn, lsns[20]);
    ok(wal.durableLsn <= lsns[20]!);
    throws(() => wal.append(bytes("meanwhile")), busy);
    throws(() => wal.appendBatch([bytes("meanwhile")]), busy);
    throws(() => wal.syncSync(), busy);
    throws(() => wal.truncateFrom(lsns[25]!), busy);
    throws(() => wal.truncateAfter(lsns[5]!), busy);
    await rejects(wal.truncateFromAsync(lsns[10]!), busy);
    await rejects(wal.truncateAfterAsync(lsns[10]!), busy);
    await rejects(wal.truncateBeforeAsync(lsns[10]!), busy);
    equal(wal.nextLsn, lsns[20], "a busy call changes nothing");
    const synced = wal.sync().then(() => wal.durableLsn);
    await durable;
    await cut;
    equal(wal.durableLsn, lsns[20]);
    // The durable end reaches the cut only once the cut's flush is done.
    equal(await synced, lsns[20], "a sync called during the cut resolves after it");
    deepEqual(steps(late, 1), ["truncated"]);
    equal(steps(early, 40).filter((step) => Number(step) >= lsns[20]!).length, 0);
    const next = wal.append(bytes("next")); // a Raft follower appends at once
    equal(next, lsns[20]);
    await wal.sync();
    wal.close();
    using again = openLog(disk.crash(new Rng(1), CRASH_MODEL_LOSE_ALL), layout);
    deepEqual([...again.iter()].map((e) => e.lsn), [...lsns.slice(0, 20), next]);
  });

  Deno.test(`truncateAfterAsync (${layout}): cursors open across the cut behave as with truncateAfter`, async () => {
    const outcomes: string[][] = [];
    for (const asynchronous of [false, true]) {
      const wal = openLog(new SimDisk(), layout);
      const lsns = fillWords(wal, 12);
      const cursors = [0, 5, 6, 9].map((i) => {
        const cursor = wal.iterFrom(lsns[i]!);
        cursor.next();
        return cursor;
      });
      if (asynchronous) await wal.truncateAfterAsync(lsns[5]!);
      else wal.truncateAfter(lsns[5]!);
      outcomes.push(cursors.flatMap((cursor) => steps(cursor, 7)));
      wal.close();
    }
    deepEqual(outcomes[1], outcomes[0]);
  });

  Deno.test(`truncateFromAsync (${layout}): close() waits for the cut, which is durable`, async () => {
    const disk = new SimDisk();
    const wal = openLog(disk, layout);
    const lsns = fillWords(wal, 20);
    wal.syncSync();
    const cut = wal.truncateFromAsync(lsns[7]!);
    wal.close();
    throws(
      () => wal.append(bytes("x")),
      (e: unknown) => e instanceof WalError && e.kind === "closed",
    );
    await cut;
    await wal.closed;
    equal(disk.openFileCount, 0);
    using again = openLog(disk.crash(new Rng(3), CRASH_MODEL_LOSE_ALL), layout);
    deepEqual([...again.iter()].map((e) => e.lsn), lsns.slice(0, 7));
  });

  Deno.test(`truncateFromAsync (${layout}): a sync() called during the cut, then close(), resolves: the cut made its bytes durable`, async () => {
    const disk = new SimDisk();
    const wal = openLog(disk, layout);
    const lsns = fillWords(wal, 20);
    const cut = wal.truncateFromAsync(lsns[7]!);
    const synced = wal.sync();
    wal.close();
    await cut;
    await synced;
    equal(wal.durableLsn, lsns[7]);
    await rejects(wal.sync(), (e: unknown) => e instanceof WalError && e.kind === "closed");
    await wal.closed;
    using again = openLog(disk.crash(new Rng(5), CRASH_MODEL_LOSE_ALL), layout);
    deepEqual([...again.iter()].map((e) => e.lsn), lsns.slice(0, 7));
  });

  Deno.test(`truncateFromAsync (${layout}): a sync() called just before the cut (with or without a flush running), then close(), resolves once the cut is durable`, async () => {
    for (const flushRunning of [false, true]) {
      const disk = new SimDisk();
      const wal = openLog(disk, layout);
      const lsns = fillWords(wal, 20);
      const running = flushRunning ? wal.sync() : undefined;
      if (flushRunning) {
        await Promise.resolve(); // the flush starts after the turn's microtasks
        wal.append(bytes("after the flush started"));
      }
      const synced = wal.sync();
      const cut = wal.truncateFromAsync(lsns[7]!);
      wal.close();
      await cut;
      await running;
      await synced;
      equal(wal.durableLsn, lsns[7], `flush running: ${flushRunning}`);
      await wal.closed;
    }
  });

  Deno.test(`truncateFromAsync (${layout}): a sync() queued before a cut that fails rejects "failed", also when the log closes meanwhile, and no flush starts on the failing log`, async () => {
    for (const closing of [false, true]) {
      const disk = new SimDisk();
      const wal = openLog(disk, layout);
      const lsns = fillWords(wal, 20);
      let flushes = 0;
      disk.faults = (op) => {
        if (op.kind !== "flush") return undefined;
        return ++flushes === 1 ? { code: "EIO" } : undefined; // the cut's own flush fails
      };
      const synced = wal.sync();
      const cut = wal.truncateFromAsync(lsns[7]!);
      if (closing) wal.close();
      await rejects(cut, failed);
      await rejects(synced, failed, `closing: ${closing}`);
      const afterFailure = flushes;
      await new Promise((resolve) => setTimeout(resolve, 0));
      equal(flushes, afterFailure, "no flush started after the failure");
      disk.faults = undefined;
      if (!closing) wal.close();
      await wal.closed.catch(() => {});
    }
  });

  Deno.test(`truncateFromAsync (${layout}): a sync() held while the cut fails rejects "failed" to its holder, never as an unhandled rejection`, async () => {
    const disk = new SimDisk();
    const wal = openLog(disk, layout);
    const lsns = fillWords(wal, 20);
    disk.faults = (op) => op.kind === "flush" ? { code: "EIO" } : undefined;
    const cut = wal.truncateFromAsync(lsns[12]!);
    const synced = wal.sync(); // held: its handler comes only after the cut is awaited
    await rejects(cut, failed);
    // Several turns of the event loop: an unhandled rejection would fail this test here.
    for (let i = 0; i < 3; i++) await new Promise((resolve) => setTimeout(resolve, 0));
    await rejects(synced, failed);
    disk.faults = undefined;
    wal.close();
    await wal.closed.catch(() => {});
  });

  Deno.test(`truncateFromAsync (${layout}): a failed flush during the cut fails the log`, async () => {
    const disk = new SimDisk();
    const wal = openLog(disk, layout);
    const lsns = fillWords(wal, 20);
    wal.syncSync();
    wal.append(bytes("not durable"));
    let faults = 1; // the cut's flush fails; the cut back to the durable end then works
    disk.faults = (op) => op.kind === "flush" && faults-- > 0 ? { code: "EIO" } : undefined;
    await rejects(wal.truncateFromAsync(lsns[12]!), failed);
    disk.faults = undefined;
    throws(() => wal.append(bytes("x")), failed);
    throws(() => wal.syncSync(), failed);
    await rejects(wal.sync(), failed);
    ok(wal.nextLsn <= lsns[12]!);
    wal.close();
    await wal.closed.catch(() => {});
    using again = openLog(disk.crash(new Rng(4), CRASH_MODEL_KEEP_ALL), layout);
    deepEqual([...again.iter()].map((e) => e.lsn), lsns.slice(0, 12));
  });

  Deno.test(`truncateFromAsync (${layout}): a crash at any point leaves the old tail or the cut one, the cut one once it resolved`, async () => {
    let crashes = 0;
    for (const at of [17, 9, 2]) {
      for (let operations = 0;; operations++) {
        let finished = false;
        for (
          const [m, model] of [CRASH_MODEL_LOSE_ALL, CRASH_MODEL_KEEP_ALL, CRASH_MODEL_DEFAULT]
            .entries()
        ) {
          for (let seed = 0; seed < (m === 2 ? 6 : 1); seed++) {
            const where = `cut at record ${at}, ${operations} operations, model ${m}, seed ${seed}`;
            const disk = new SimDisk({ rng: new Rng(seed) });
            const wal = openLog(disk, layout);
            const lsns = fillWords(wal, 20);
            wal.syncSync();
            disk.powerOffAfter(operations);
            const resolved = await wal.truncateFromAsync(lsns[at]!).then(() => true, () => false);
            if (resolved && !disk.dead) finished = true;
            else crashes++;
            disk.powerOff();
            using again = openLog(disk.crash(new Rng(seed * 7 + m), model), layout);
            const found = [...again.iter()].map((e) => e.lsn);
            if (resolved) deepEqual(found, lsns.slice(0, at), where);
            else {ok(
                [lsns.slice(0, at), lsns].some((l) => l.join() === found.join()),
                `${where}: ${found}`,
              );}
          }
        }
        if (finished) break;
      }
    }
    ok(crashes > 10, `only ${crashes} crashes`);
  });
}

Deno.test(`a power loss during a segmented suffix cut, blocking or not, never makes "strict" refuse: the segments the cut had not removed yet are the unsynced tail, copied aside`, async () => {
  let leftovers = 0;
  for (const asynchronous of [false, true]) {
    for (let operations = 0; operations < 40; operations++) {
      const where = `${asynchronous ? "async" : "blocking"} cut, ${operations} operations`;
      const disk = new SimDisk({ rng: new Rng(operations) });
      const wal = openLog(disk, "segmented");
      const lsns = fillWords(wal, 20);
      wal.syncSync();
      disk.powerOffAfter(operations);
      try {
        if (asynchronous) await wal.truncateFromAsync(lsns[3]!);
        else wal.truncateFrom(lsns[3]!);
      } catch {
        // the power went off
      }
      disk.powerOff();
      const crashed = disk.crash(new Rng(operations), CRASH_MODEL_DEFAULT);
      using again = openLog(crashed, "segmented", { recoveryPolicy: "strict" });
      const found = [...again.iter()].map((e) => e.lsn);
      ok([lsns.slice(0, 3), lsns].some((l) => l.join() === found.join()), `${where}: ${found}`);
      const damage = again.recovery.damage;
      if (damage === undefined) continue;
      leftovers++;
      equal(damage.tornTail, true, where);
      equal(damage.lsn, lsns[3], where);
      ok(damage.setAsidePath?.includes(`unsynced-${lsns[3]}`), `${where}: ${damage.setAsidePath}`);
    }
  }
  ok(leftovers > 5, `only ${leftovers} crashes left segments past the cut`);
});

Deno.test("truncateFromAsync on a gathered log cuts among records still gathered", async () => {
  for (const layout of SIM_LAYOUTS) {
    const outcomes: { names: string[]; lsns: number[] }[] = [];
    for (const asynchronous of [false, true]) {
      const disk = new SimDisk();
      const wal = openLog(disk, layout, { writeMode: "gathered" });
      const lsns = fillWords(wal, 10);
      await wal.sync();
      const more = fillWords(wal, 10); // gathered, not written yet
      if (asynchronous) {
        const cut = wal.truncateFromAsync(more[4]!);
        equal(wal.nextLsn, more[4]);
        await cut;
      } else {
        wal.truncateFrom(more[4]!);
      }
      equal(wal.durableLsn, more[4]);
      wal.append(bytes("after"));
      wal.close();
      using again = openLog(disk.crash(new Rng(5), CRASH_MODEL_LOSE_ALL), layout);
      outcomes.push({ names: disk.names(), lsns: [...again.iter()].map((e) => e.lsn) });
      deepEqual(outcomes.at(-1)!.lsns, [...lsns, ...more.slice(0, 4)], layout);
    }
    deepEqual(outcomes[1], outcomes[0]);
  }
});

for (
  const [name, cut] of [
    ["truncateFromAsync(nextLsn)", (wal: Wal) => wal.truncateFromAsync(wal.nextLsn)],
    ["truncateAfterAsync(last record)", (wal: Wal) => wal.truncateAfterAsync(wal.nextLsn - 12)],
  ] as const
) {
  Deno.test(`${name} cuts nothing and flushes nothing: it resolves with durableLsn where it was`, async () => {
    const disk = new SimDisk();
    const wal = openLog(disk, "single file");
    fillWords(wal, 3);
    wal.syncSync();
    const durable = wal.durableLsn;
    wal.append(bytes("word")); // 4 bytes: a 12-byte frame, not durable yet
    const end = wal.nextLsn;
    disk.faults = (op) => op.kind === "flush" ? { code: "EIO" } : undefined;
    await cut(wal); // a flush would have failed the log
    disk.faults = undefined;
    equal(wal.nextLsn, end);
    equal(wal.durableLsn, durable);
    await wal.sync();
    equal(wal.durableLsn, end);
    wal.close();
  });
}

Deno.test("a MemStore cuts at once: the asynchronous truncations resolve with the blocking one done", async () => {
  const store = new MemStore();
  using wal = Wal.withStore(store);
  const lsns = fillWords(wal, 5);
  const cut = wal.truncateAfterAsync(lsns[3]!);
  equal(wal.nextLsn, lsns[4]);
  wal.append(bytes("no cut runs")); // nothing holds the log: the cut was done in the call
  await cut;
  await wal.truncateFromAsync(lsns[2]!);
  equal(wal.nextLsn, lsns[2]);
  await rejects(
    wal.truncateFromAsync(lsns[2]! + 1),
    (e: unknown) => e instanceof WalError && e.kind === "invalid-lsn",
  );
  await rejects(wal.truncateFromAsync("x" as unknown as number), TypeError);
});

function openLog(disk: SimDisk, layout: SimLayout, config: WalConfig = {}): Wal {
  const store: WalStore = layout === "single file"
    ? SimStore.open(disk)
    : SegmentedStore.open(SimDirectory.open(disk), 64);
  return Wal.withStore(store, config);
}

Deno.test("the asynchronous cuts never throw in the call: a read-only, closed or failed log, a bad LSN, each a rejection", async () => {
  const kindOf = (kind: string) => (e: unknown) => e instanceof WalError && e.kind === kind;
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/log.wal`;
    const writer = Wal.open(path, { durability: "runtime" });
    const lsns = fillWords(writer, 4);
    writer.syncSync();
    writer.close();
    using reader = Wal.open(path, { readOnly: true, durability: "runtime" });
    for (const cut of [reader.truncateFromAsync, reader.truncateAfterAsync]) {
      const promise = cut.call(reader, lsns[1]!); // a throw here fails the test
      await rejects(promise, kindOf("read-only"));
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  const disk = new SimDisk();
  const failing = openLog(disk, "single file");
  const lsns = fillWords(failing, 4);
  disk.faults = (op) => op.kind === "flush" ? { code: "EIO" } : undefined;
  throws(() => failing.syncSync(), failed);
  disk.faults = undefined;
  await rejects(failing.truncateFromAsync(lsns[0]!), failed);
  await rejects(failing.truncateAfterAsync(lsns[0]!), failed);
  failing.close();
  await failing.closed.catch(() => {});
  await rejects(failing.truncateFromAsync(lsns[0]!), kindOf("closed"));
  await rejects(failing.truncateAfterAsync(-1), kindOf("closed"));
  using wal = openLog(new SimDisk(), "segmented");
  const more = fillWords(wal, 4);
  await rejects(wal.truncateAfterAsync(more[1]! + 3), kindOf("invalid-lsn"));
  await rejects(wal.truncateFromAsync(Number.NaN), kindOf("invalid-lsn"));
});
