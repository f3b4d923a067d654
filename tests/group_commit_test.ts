// Copyright 2026 the wal-db authors. MIT license.

import { equal, ok, rejects } from "node:assert/strict";
import fc from "fast-check";
import { GroupCommit, type GroupCommitTarget } from "../src/group_commit.ts";

/** A log stand-in whose flushes take a few event-loop turns and are all recorded. */
class FakeLog implements GroupCommitTarget {
  appendedEnd = 0;
  flushesStarted = 0;
  inFlight = 0;
  maxInFlight = 0;
  /** The end each completed flush covered: the appended end when it started. */
  coveredEnd = 0;
  failNext = false;
  failCalls = 0;
  constructor(readonly delays: () => number) {}

  async flush(): Promise<void> {
    const covers = this.appendedEnd;
    const fails = this.failNext;
    this.failNext = false;
    this.flushesStarted++;
    this.maxInFlight = Math.max(this.maxInFlight, ++this.inFlight);
    await new Promise((resolve) => setTimeout(resolve, this.delays()));
    this.inFlight--;
    if (fails) throw new Error("EIO: injected flush failure");
    this.coveredEnd = Math.max(this.coveredEnd, covers);
  }

  fail(cause: unknown): Error {
    this.failCalls++;
    return new Error("log failed", { cause });
  }
}

Deno.test("GroupCommit resolves a sync only after a flush that started after its bytes", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.array(fc.integer({ min: 1, max: 300 }), { minLength: 1, maxLength: 6 }), {
        minLength: 1,
        maxLength: 40,
      }),
      fc.integer({ min: 0, max: 3 }),
      async (writers, delay) => {
        const log = new FakeLog(() => delay);
        const commit = new GroupCommit(log, 0);
        let syncs = 0;
        await Promise.all(writers.map(async (sizes) => {
          for (const size of sizes) {
            log.appendedEnd += size;
            const end = log.appendedEnd;
            syncs++;
            await commit.waitFor(end);
            ok(log.coveredEnd >= end, `sync to ${end} resolved with ${log.coveredEnd} flushed`);
            ok(commit.durableEnd >= end);
          }
        }));
        ok(log.maxInFlight <= 1, "at most one flush in flight");
        // Concurrency must coalesce: at least the first round of writers shares flushes.
        if (writers.length >= 8) ok(log.flushesStarted < syncs, `${log.flushesStarted} flushes`);
      },
    ),
    { numRuns: 60 },
  );
});

Deno.test("GroupCommit serves 256 concurrent writers with far fewer flushes than syncs", async () => {
  const log = new FakeLog(() => 1);
  const commit = new GroupCommit(log, 0);
  const rounds = 20;
  await Promise.all(Array.from({ length: 256 }, async () => {
    for (let i = 0; i < rounds; i++) {
      log.appendedEnd += 264;
      await commit.waitFor(log.appendedEnd);
    }
  }));
  const syncs = 256 * rounds;
  ok(log.flushesStarted <= syncs / 50, `${log.flushesStarted} flushes for ${syncs} syncs`);
  equal(commit.durableEnd, log.appendedEnd);
});

Deno.test("GroupCommit starts a flush after the turn's microtasks: writers woken by one flush all share the next", async () => {
  // Starting the flush as soon as the first writer asks would send that writer's record alone
  // and the other 255 in a flush of their own: two flushes per round instead of one.
  const log = new FakeLog(() => 1);
  const commit = new GroupCommit(log, 0);
  const rounds = 12;
  await Promise.all(Array.from({ length: 256 }, async () => {
    for (let i = 0; i < rounds; i++) {
      log.appendedEnd += 264;
      await commit.waitFor(log.appendedEnd);
    }
  }));
  equal(log.flushesStarted, rounds);
  equal(commit.durableEnd, log.appendedEnd);
});

Deno.test("GroupCommit returns at once, without a flush, when the target is durable", async () => {
  const log = new FakeLog(() => 0);
  const commit = new GroupCommit(log, 100);
  await commit.waitFor(100);
  await commit.waitFor(0);
  equal(log.flushesStarted, 0);
});

Deno.test("GroupCommit fails every waiting caller when a flush fails, and stays failed", async () => {
  const log = new FakeLog(() => 2);
  const commit = new GroupCommit(log, 0);
  log.appendedEnd = 10;
  log.failNext = true;
  const first = commit.waitFor(10); // the flush that will fail
  await Promise.resolve();
  log.appendedEnd = 20;
  const second = commit.waitFor(20); // queued for the next flush
  await rejects(first, /log failed/);
  await rejects(second, /log failed/);
  // The next flush would succeed (fsyncgate): the coordinator must not try it.
  log.appendedEnd = 30;
  await rejects(commit.waitFor(30), /log failed/);
  await rejects(commit.waitFor(5), /log failed/);
  equal(log.failCalls, 1);
  equal(log.flushesStarted, 1);
  equal(commit.durableEnd, 0);
});

Deno.test("GroupCommit keeps the durable end of a flush that succeeded before a failure", async () => {
  const log = new FakeLog(() => 1);
  const commit = new GroupCommit(log, 0);
  log.appendedEnd = 10;
  await commit.waitFor(10);
  log.appendedEnd = 20;
  log.failNext = true;
  await rejects(commit.waitFor(20));
  equal(commit.durableEnd, 10);
});

Deno.test("GroupCommit.abandon() rejects queued callers but lets the running flush finish", async () => {
  const log = new FakeLog(() => 2);
  const commit = new GroupCommit(log, 0);
  log.appendedEnd = 10;
  const running = commit.waitFor(10);
  await Promise.resolve();
  log.appendedEnd = 20;
  const queued = commit.waitFor(20);
  commit.abandon(new Error("closed"));
  await rejects(queued, /closed/);
  await running;
  equal(commit.durableEnd, 10);
  await commit.settled;
});

Deno.test("GroupCommit.abandon(): a wait for bytes already durable resolves, a wait past them rejects", async () => {
  const log = new FakeLog(() => 2);
  const commit = new GroupCommit(log, 0);
  log.appendedEnd = 10;
  await commit.waitFor(10);
  commit.abandon(new Error("closed"));
  await commit.waitFor(10);
  await commit.waitFor(4);
  log.appendedEnd = 20;
  await rejects(commit.waitFor(20), /closed/);
  equal(log.flushesStarted, 1);
});

Deno.test("GroupCommit.abandon() during exclusive work leaves its queued callers to the work's outcome", async () => {
  const log = new FakeLog(() => 2);
  const commit = new GroupCommit(log, 0);
  log.appendedEnd = 20;
  const queued = commit.waitFor(20);
  let release!: () => void;
  const work = commit.exclusive(async () => {
    await new Promise<void>((resolve) => release = resolve);
    commit.markDurable(10); // as the writer's cut does when its flush is done
  });
  commit.cutting(10);
  log.appendedEnd = 10;
  commit.abandon(new Error("closed"));
  await Promise.resolve();
  release();
  await work;
  // The work made everything appended durable: nothing was left for a flush to do.
  await queued;
  equal(log.flushesStarted, 0);
  log.appendedEnd = 30;
  await rejects(commit.waitFor(30), /closed/);
});

Deno.test("GroupCommit.abandon() leaves a running flush that fails its own failure", async () => {
  const log = new FakeLog(() => 2);
  const commit = new GroupCommit(log, 0);
  log.appendedEnd = 10;
  log.failNext = true;
  const running = commit.waitFor(10);
  await Promise.resolve();
  equal(log.flushesStarted, 1);
  commit.abandon(new Error("closed"));
  await rejects(running, (error: unknown) => {
    ok(error instanceof Error && error.message === "log failed", String(error));
    ok(error.cause instanceof Error && /EIO/.test(error.cause.message));
    return true;
  });
  equal(log.failCalls, 1, "the failure reached the log");
  await rejects(commit.waitFor(20), /log failed/);
});

Deno.test("GroupCommit rejects the flush in flight when the log fails meanwhile", async () => {
  const log = new FakeLog(() => 2);
  const commit = new GroupCommit(log, 0);
  log.appendedEnd = 10;
  const running = commit.waitFor(10);
  await Promise.resolve();
  await Promise.resolve();
  equal(log.flushesStarted, 1);
  // A blocking flush of the same log failed while this one ran: its success proves nothing.
  commit.markFailed(new Error("blocking flush failed"));
  await rejects(running, /blocking flush failed/);
  equal(commit.durableEnd, 0);
});

Deno.test("GroupCommit.exclusive waits for the flush in flight and starts none until its work ends", async () => {
  const log = new FakeLog(() => 2);
  const commit = new GroupCommit(log, 0);
  log.appendedEnd = 10;
  const first = commit.waitFor(10);
  await Promise.resolve(); // the flush starts after the turn's microtasks
  equal(log.inFlight, 1);
  // The log is cut to 6 in this turn: the durable end and the running flush stop there.
  commit.cutting(6);
  log.appendedEnd = 6;
  equal(commit.durableEnd, 0);
  const events: string[] = [];
  const work = commit.exclusive(async () => {
    events.push(`work starts, ${log.inFlight} in flight`);
    await new Promise((resolve) => setTimeout(resolve, 5));
    events.push(`work ends, ${log.flushesStarted} flushes started`);
    return "cut";
  });
  await first;
  equal(commit.durableEnd, 6, "a flush that straddles a cut makes durable what is below it");
  equal(await work, "cut");
  equal(log.flushesStarted, 1, "the durable end covers the sync: no second flush");
  equal(commit.durableEnd, 6);
  equal(events.join("; "), "work starts, 0 in flight; work ends, 1 flushes started");
});

Deno.test("GroupCommit.exclusive rejects, running nothing, when the flush it waited for failed", async () => {
  const log = new FakeLog(() => 1);
  const commit = new GroupCommit(log, 0);
  log.appendedEnd = 10;
  log.failNext = true;
  const first = commit.waitFor(10);
  await Promise.resolve();
  let ran = false;
  const work = commit.exclusive(() => {
    ran = true;
    return Promise.resolve();
  });
  await rejects(first);
  await rejects(work, /log failed/);
  equal(ran, false);
});

Deno.test("GroupCommit.exclusive: a flush asked for before the one in flight ends waits for the work too", async () => {
  const log = new FakeLog(() => 1);
  const commit = new GroupCommit(log, 0);
  log.appendedEnd = 10;
  const first = commit.waitFor(10);
  await Promise.resolve();
  log.appendedEnd = 20;
  const queued = commit.waitFor(20); // next in line behind the flush in flight
  commit.cutting(15);
  let started = -1;
  const work = commit.exclusive(() => {
    started = log.flushesStarted;
    log.appendedEnd = 15;
    commit.markDurable(15);
    return Promise.resolve();
  });
  await first;
  await work;
  equal(started, 1, "no flush started between the one in flight and the work");
  await queued; // covered by the cut's durable end
  equal(commit.durableEnd, 15);
});
