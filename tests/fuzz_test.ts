// Copyright 2026 the wal-db authors. MIT license.
// Fuzzing recovery and iteration (tests/_fuzz.ts) over a fixed range of seeds, on every core,
// plus the reproductions of what it found.
//
// Goal: no input (arbitrary bytes, a damaged log, a damaged segment directory) makes opening,
// iterating or an LSN-taking call throw anything but WalError, loop without end, or read more
// than maxRecordSize + 8 bytes (or one reader chunk) at once. `WAL_SEED=n deno test -A
// tests/fuzz_test.ts` (or `WAL_SEED=n deno task fuzz`) replays input n.

import { deepEqual, equal, ok } from "node:assert/strict";
import { MemStore, SegmentedStore, Wal, WalError } from "../mod.ts";
import { frame } from "../src/record.ts";
import { segmentName } from "../src/segments.ts";
import {
  addFuzzFigures,
  emptyFuzzFigures,
  fuzzOne,
  fuzzReplayCommand,
  type FuzzSummary,
  MeasuredStore,
  ReadBudgetExceeded,
} from "./_fuzz.ts";
import { SimDirectory, SimDisk } from "./_sim_disk.ts";
import { bytes } from "./_helpers.ts";

/** Inputs the suite runs: the issue asks for at least 100,000 on every CI run. */
const INPUTS = 100_000;
const FIRST_SEED = 1;
const FAILURES_SHOWN_MAX = 10;

function runInWorker(firstSeed: number, count: number): Promise<FuzzSummary> {
  const worker = new Worker(new URL("./_fuzz_worker.ts", import.meta.url).href, { type: "module" });
  const { promise, resolve, reject } = Promise.withResolvers<FuzzSummary>();
  worker.onmessage = (event: MessageEvent<FuzzSummary>) => resolve(event.data);
  worker.onerror = (event) => {
    event.preventDefault();
    reject(new Error(`fuzz worker failed: ${event.message}`));
  };
  worker.postMessage({ firstSeed, count });
  return promise.finally(() => worker.terminate());
}

Deno.test({
  name: "fuzz: 100,000 inputs open, iterate and take LSNs with only WalError, within bounds",
  ignore: Deno.env.get("WAL_SEED") !== undefined,
  async fn() {
    const workers = Math.max(1, navigator.hardwareConcurrency);
    const share = Math.ceil(INPUTS / workers);
    const started = performance.now();
    const parts = await Promise.all(
      Array.from({ length: workers }, (_, i) => runInWorker(FIRST_SEED + i * share, share)),
    );
    const seconds = (performance.now() - started) / 1000;
    const figures = emptyFuzzFigures();
    for (const part of parts) addFuzzFigures(figures, part.figures);
    const failures = parts.flatMap((part) => part.failures);
    console.log(
      `fuzz: ${figures.inputs} inputs (${figures.segmented} segment directories) in ` +
        `${seconds.toFixed(1)} s on ${workers} workers, ${
          Math.round(figures.inputs / seconds)
        }/s; ` +
        `opened ${figures.opened}, refused ${figures.refused}, records read ${figures.recordsRead}, ` +
        `largest read ${figures.largestRead} B; large inputs ${figures.large}, largest ` +
        `${figures.largestInput} B`,
    );
    const shown = failures.slice(0, FAILURES_SHOWN_MAX).map((f) =>
      `seed ${f.seed}: ${f.failure}\n  replay: ${fuzzReplayCommand(f.seed)}`
    );
    equal(failures.length, 0, `${failures.length} inputs failed:\n${shown.join("\n")}`);
    ok(figures.inputs >= INPUTS);
    ok(figures.opened > INPUTS / 4 && figures.refused > INPUTS / 10, "both outcomes are exercised");
    ok(figures.large > INPUTS / 400 && figures.largestInput > 4 * 1024 * 1024, "large inputs ran");
  },
});

Deno.test({
  name: "fuzz: WAL_SEED replays one input",
  ignore: Deno.env.get("WAL_SEED") === undefined,
  fn() {
    const result = fuzzOne(Number(Deno.env.get("WAL_SEED")));
    console.log(result.figures);
    equal(result.failure, undefined, result.failure);
  },
});

Deno.test("MeasuredStore refuses to read past its budget", () => {
  const store = new MeasuredStore(new MemStore(new Uint8Array(100)), 150);
  store.readAt(0, new Uint8Array(100));
  let thrown: unknown;
  try {
    store.readAt(0, new Uint8Array(100));
  } catch (error) {
    thrown = error;
  }
  ok(thrown instanceof ReadBudgetExceeded);
  equal(store.largestRead, 100);
});

// Found by the fuzzer.

Deno.test("opening a segment directory with a stray far segment file reads a bounded amount", () => {
  const disk = new SimDisk();
  disk.writeFile(segmentName(0), frame(bytes("first")));
  disk.writeFile(segmentName(2 ** 30), frame(bytes("stray")));
  const budget = 64 * 1024 * 1024;
  try {
    // Opening either refuses the layout (a 16 GiB gap of missing segments) or recovers
    // within the read budget.
    const store = new MeasuredStore(SegmentedStore.open(SimDirectory.open(disk), 16), budget);
    using wal = Wal.withStore(store, { recoveryPolicy: "truncate" });
    deepEqual([...wal.iter()].map((e) => e.data), [bytes("first")]);
  } catch (error) {
    ok(error instanceof WalError, String(error));
    ok(
      !(error.cause instanceof ReadBudgetExceeded),
      `recovery read past ${budget} bytes: ${error.cause}`,
    );
    equal(error.kind, "corruption", String(error));
  }
});
