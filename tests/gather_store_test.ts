// Copyright 2026 the wal-db authors. MIT license.
// Tests for src/gather_store.ts: the gathered write mode, alone and as a log's write mode,
// checked against the default (immediate) mode.

import { deepEqual, equal, ok, throws } from "node:assert/strict";
import fc from "fast-check";
import { MemStore, Wal, WalError, type WalStore } from "../mod.ts";
import { GATHER_SIZE_MAX } from "../src/constants.ts";
import { GatherStore } from "../src/gather_store.ts";

/** A MemStore that counts appends and can be told to fail the next one. */
class CountingStore extends MemStore {
  appends = 0;
  failNext = false;
  override append(data: Uint8Array): void {
    this.appends++;
    if (this.failNext) {
      this.failNext = false;
      throw new Error("disk full");
    }
    super.append(data);
  }
}

function gathered(inner = new CountingStore()) {
  const failures: { cause: unknown; end: number }[] = [];
  const store = new GatherStore(inner, (cause, end) => failures.push({ cause, end }));
  return { inner, store, failures };
}

const tick = () => Promise.resolve();

Deno.test("GatherStore writes the appends of one turn with one write, before the turn ends", async () => {
  const { inner, store } = gathered();
  store.append(new Uint8Array([1, 2]));
  store.append(new Uint8Array([3]));
  equal(store.size, 3);
  equal(inner.size, 0);
  equal(inner.appends, 0);
  await tick();
  equal(inner.appends, 1);
  deepEqual(Array.from(inner.bytes()), [1, 2, 3]);
  equal(store.writes, 1);
  // A new turn: a new write.
  store.append(new Uint8Array([4]));
  await tick();
  equal(inner.appends, 2);
  equal(store.writtenEnd, 4);
});

Deno.test("GatherStore reads gathered bytes from memory, and writes out first for flushes, truncations and close", async () => {
  const { inner, store } = gathered();
  store.append(new Uint8Array([1, 2]));
  await tick();
  store.append(new Uint8Array([3]));
  // Across the written and the gathered bytes, and short past the end; nothing is written.
  const buffer = new Uint8Array(4);
  equal(store.readAt(1, buffer), 2);
  deepEqual(Array.from(buffer), [2, 3, 0, 0]);
  equal(store.readAt(2, buffer.subarray(0, 1)), 1);
  deepEqual(buffer[0], 3);
  equal(store.readAt(0, buffer.subarray(0, 1)), 1);
  equal(inner.appends, 1);
  store.append(new Uint8Array([4]));
  store.flushSync();
  equal(inner.size, 4);
  equal(inner.flushCount, 1);
  store.append(new Uint8Array([5]));
  await store.flush();
  equal(inner.size, 5);
  store.append(new Uint8Array([6]));
  store.truncate(2);
  equal(store.size, 2);
  store.append(new Uint8Array([7]));
  store.close();
  deepEqual(Array.from(inner.bytes()), [1, 2, 7]);
});

Deno.test("GatherStore writes out at the size cap, and passes a larger frame straight through", () => {
  const { inner, store } = gathered();
  const half = new Uint8Array(GATHER_SIZE_MAX / 2 + 1);
  store.append(half);
  equal(inner.appends, 0);
  store.append(half); // would pass the cap: the first half goes out, the second is gathered
  equal(inner.appends, 1);
  equal(inner.size, half.length);
  store.append(new Uint8Array(GATHER_SIZE_MAX + 1));
  equal(inner.appends, 3);
  equal(inner.size, 2 * half.length + GATHER_SIZE_MAX + 1);
  equal(store.size, inner.size);
});

Deno.test("GatherStore reports a deferred write's failure with where the real store ended", async () => {
  const { inner, store, failures } = gathered();
  store.append(new Uint8Array([1]));
  await tick();
  inner.failNext = true;
  store.append(new Uint8Array([2]));
  await tick();
  equal(failures.length, 1);
  equal(failures[0]!.end, 1);
  // A write a caller waits for throws to it as well.
  inner.failNext = true;
  store.append(new Uint8Array([3]));
  throws(() => store.flushSync(), /disk full/);
  equal(failures.length, 2);
});

Deno.test("GatherStore.discardUnflushed drops the gathered bytes and cuts the real store", async () => {
  const { inner, store } = gathered();
  store.append(new Uint8Array([1, 2]));
  await tick();
  store.append(new Uint8Array([3]));
  store.discardUnflushed(1);
  equal(store.size, 1);
  await tick();
  deepEqual(Array.from(inner.bytes()), [1]);
});

Deno.test("Wal in gathered mode: a write that fails in the microtask fails the log", async () => {
  const inner = new CountingStore();
  const wal = Wal.withStore(inner, { writeMode: "gathered" });
  wal.append(new Uint8Array([1]));
  await wal.sync();
  inner.failNext = true;
  wal.append(new Uint8Array([2]));
  const pending = wal.sync();
  await pending.then(
    () => {
      throw new Error("the sync of a record whose write failed resolved");
    },
    (error) => equal((error as WalError).kind, "failed"),
  );
  throws(
    () => wal.append(new Uint8Array([3])),
    (e) => e instanceof WalError && e.kind === "failed",
  );
  // The log was cut back to its durable end: the record after it is gone.
  equal(wal.nextLsn, 9);
  deepEqual(Array.from(inner.bytes()).length, 9);
  wal.close();
});

/** One step of a workload, run the same way against both modes. */
type Step =
  | { kind: "append"; size: number }
  | { kind: "batch"; sizes: number[] }
  | { kind: "sync" }
  | { kind: "syncSync" }
  | { kind: "yield" }
  | { kind: "iterate" }
  | { kind: "truncateFrom"; pick: number };

const stepArbitrary: fc.Arbitrary<Step> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant("append" as const), size: sizes() }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("batch" as const),
      sizes: fc.array(sizes(), { maxLength: 4 }),
    }),
  },
  { weight: 2, arbitrary: fc.constant({ kind: "sync" as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: "syncSync" as const }) },
  { weight: 2, arbitrary: fc.constant({ kind: "yield" as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: "iterate" as const }) },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant("truncateFrom" as const), pick: fc.nat() }),
  },
);

function sizes(): fc.Arbitrary<number> {
  // Mostly small, some past a kilobyte, a few near the gathering cap.
  return fc.oneof(
    { weight: 8, arbitrary: fc.nat({ max: 300 }) },
    { weight: 2, arbitrary: fc.integer({ min: 1024, max: 8192 }) },
    { weight: 1, arbitrary: fc.integer({ min: GATHER_SIZE_MAX - 64, max: GATHER_SIZE_MAX + 64 }) },
  );
}

/** Runs `steps` on a log over `store`; returns every LSN and entry it saw, in order. */
async function run(store: WalStore, steps: Step[], gatheredMode: boolean): Promise<unknown[]> {
  const wal = Wal.withStore(store, { writeMode: gatheredMode ? "gathered" : "immediate" });
  const seen: unknown[] = [];
  const lsns: number[] = [];
  // Records still in the log: a cut drops those from it on, and later appends may reuse LSNs.
  let boundaries: number[] = [];
  let fill = 0;
  const payload = (size: number) => new Uint8Array(size).fill(++fill & 0xff);
  for (const step of steps) {
    switch (step.kind) {
      case "append": {
        const lsn = wal.append(payload(step.size));
        lsns.push(lsn);
        boundaries.push(lsn);
        break;
      }
      case "batch": {
        const batch = wal.appendBatch(step.sizes.map(payload));
        lsns.push(...batch);
        boundaries.push(...batch);
        break;
      }
      case "sync":
        await wal.sync();
        seen.push(["durable", wal.durableLsn]);
        break;
      case "syncSync":
        wal.syncSync();
        seen.push(["durable", wal.durableLsn]);
        break;
      case "yield":
        await Promise.resolve();
        break;
      case "iterate":
        seen.push([...wal.iter()].map((e) => [e.lsn, e.data.length, e.data[0]]));
        break;
      case "truncateFrom": {
        if (boundaries.length === 0) break;
        const cut = boundaries[step.pick % boundaries.length]!;
        wal.truncateFrom(cut);
        boundaries = boundaries.filter((lsn) => lsn < cut);
        break;
      }
    }
    seen.push(["end", wal.nextLsn]);
  }
  seen.push(["lsns", lsns]);
  await wal[Symbol.asyncDispose]();
  return seen;
}

Deno.test("Wal in gathered mode writes the same bytes and returns the same LSNs as the default", async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(stepArbitrary, { maxLength: 40 }), async (steps) => {
      const immediate = new MemStore();
      const gatheredStore = new MemStore();
      const a = await run(immediate, steps, false);
      const b = await run(gatheredStore, steps, true);
      deepEqual(b, a);
      deepEqual(gatheredStore.bytes(), immediate.bytes());
    }),
    { numRuns: 60 },
  );
});

Deno.test("Wal in gathered mode: one write per turn however many writers append in it", async () => {
  const inner = new CountingStore();
  using wal = Wal.withStore(inner, { writeMode: "gathered" });
  const writers = 64;
  for (let round = 0; round < 3; round++) {
    await Promise.all(Array.from({ length: writers }, async () => {
      wal.append(new Uint8Array(256));
      await wal.sync();
    }));
  }
  equal(wal.stats.appends, 3 * writers);
  equal(wal.stats.writes, inner.appends);
  equal(inner.appends, 3);
});

Deno.test("Wal.open in gathered mode: a file log reopens with the bytes the default mode writes", async () => {
  const dir = await Deno.makeTempDir({ prefix: "wal-db-gather-" });
  try {
    const payloads = Array.from({ length: 300 }, (_, i) => new Uint8Array((i * 37) % 3000).fill(i));
    const files: Uint8Array[] = [];
    for (const writeMode of ["immediate", "gathered"] as const) {
      const path = `${dir}/${writeMode}.wal`;
      {
        await using wal = Wal.open(path, { writeMode, durability: "runtime" });
        for (const [i, payload] of payloads.entries()) {
          wal.append(payload);
          if (i % 50 === 0) await wal.sync();
          if (i % 7 === 0) await Promise.resolve();
        }
      }
      using reopened = Wal.open(path, { durability: "runtime" });
      deepEqual([...reopened.iter()].map((e) => e.data), payloads);
      files.push(await Deno.readFile(path));
    }
    deepEqual(files[1], files[0]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("GatherStore forwards an asynchronous checkpoint after writing out what it gathered", async () => {
  const inner = new CountingStore() as CountingStore & {
    truncateBeforeAsync?: (head: number, moved: (head: number) => void) => Promise<number>;
  };
  const calls: { head: number; sizeAtCall: number }[] = [];
  inner.truncateBeforeAsync = (head, moved) => {
    calls.push({ head, sizeAtCall: inner.size });
    moved(head);
    return Promise.resolve(head);
  };
  const { store } = gathered(inner);
  store.append(new Uint8Array(10));
  let movedTo: number | undefined;
  equal(await store.truncateBeforeAsync!(4, (head) => movedTo = head), 4);
  deepEqual(calls, [{ head: 4, sizeAtCall: 10 }], "the gathered bytes were written first");
  equal(movedTo, 4);
  equal(gathered(new CountingStore()).store.truncateBeforeAsync, undefined);
});

Deno.test("GatherStore forwards an asynchronous cut after writing out what it gathered", async () => {
  const inner = new CountingStore() as CountingStore & {
    truncateAsync?: (size: number) => Promise<void>;
  };
  const calls: { size: number; sizeAtCall: number }[] = [];
  inner.truncateAsync = (size) => {
    calls.push({ size, sizeAtCall: inner.size });
    inner.truncate(size);
    return Promise.resolve();
  };
  const { store } = gathered(inner);
  store.append(new Uint8Array(10));
  await store.truncateAsync!(4);
  deepEqual(calls, [{ size: 4, sizeAtCall: 10 }], "the gathered bytes were written first");
  equal(store.size, 4);
  equal(gathered(new CountingStore()).store.truncateAsync, undefined);
});

/**
 * A store whose flushes take a few timer turns and record, when each one starts, how many bytes
 * had been written to it: a completed flush makes exactly that prefix durable, nothing after.
 */
class FlushRecordingStore extends MemStore {
  /** The longest written prefix a completed flush covered. */
  durable = 0;
  flushes = 0;
  constructor(readonly delayMs: () => number) {
    super();
  }
  override async flush(): Promise<void> {
    const writtenAtStart = this.size;
    this.flushes++;
    await new Promise((resolve) => setTimeout(resolve, this.delayMs()));
    await super.flush();
    this.durable = Math.max(this.durable, writtenAtStart);
  }
}

Deno.test("Wal in both write modes: sync resolves only after a flush that started after the caller's bytes were written", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom("immediate" as const, "gathered" as const),
      // Per writer: the record sizes it appends before each sync, and whether it yields first.
      fc.array(
        fc.array(
          fc.record({
            sizes: fc.array(fc.nat({ max: 600 }), { maxLength: 3 }),
            yields: fc.boolean(),
          }),
          {
            minLength: 1,
            maxLength: 5,
          },
        ),
        { minLength: 1, maxLength: 24 },
      ),
      fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 1, maxLength: 8 }),
      async (writeMode, writers, delays) => {
        let turn = 0;
        const store = new FlushRecordingStore(() => delays[turn++ % delays.length]!);
        const wal = Wal.withStore(store, { writeMode });
        await Promise.all(writers.map(async (rounds) => {
          for (const { sizes, yields } of rounds) {
            if (yields) await new Promise((resolve) => setTimeout(resolve, 0));
            for (const size of sizes) wal.append(new Uint8Array(size));
            // Everything this caller appended ends here (others' records may follow).
            const end = wal.nextLsn;
            await wal.sync();
            ok(
              store.durable >= end,
              `${writeMode}: a sync after appends up to ${end} resolved when flushes covered ` +
                `${store.durable} written bytes`,
            );
          }
        }));
        await wal[Symbol.asyncDispose]();
      },
    ),
    { numRuns: 80 },
  );
});
