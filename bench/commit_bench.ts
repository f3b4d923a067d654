// Copyright 2026 the wal-db authors. MIT license.
// `deno run -A bench/commit_bench.ts [--json] [--rounds N]`: durable commits/s of wal-db in both
// write modes ("immediate", the default, and "gathered") beside the C anchors of
// bench/c/commit.c, at 1 and 256 writers, each writer looping "append 256 B, await sync".
//
// C anchors, each run on a growing file (O_APPEND, as C programs usually write) and on a file
// reserved ahead in 1 MiB chunks (as wal-db's single-file log does by default):
//   - per-record: W write() calls, then one fdatasync per round;
//   - batch: the round's W records copied into one buffer and written with ONE write(), then
//     one fdatasync: the disk's limit for that batch size.
// Two more C cells (preallocated, no goal) run the fdatasync on a second thread that the writing
// thread wakes and waits for: the hand-over a flush that leaves the event loop free pays, priced
// in C. Their mean flush minus their time inside fdatasync is that hand-over on this machine.
// Every cell runs in a fresh process; the rounds alternate the order of the cells and ratios are
// taken within a round (neighbours in time), the median over rounds reported. Standalone: the
// shared harness (bench/compare.ts) is left alone; `--json` prints one row per goal as
// {section, path, value, unit, anchor, anchorValue, ratio, goal, met}.

import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { GoalRow } from "./goals.ts";
import { compileC, median, percentile, RECORD_BYTES, runJson } from "./run.ts";

const WRITER_COUNTS = [1, 256] as const;
const ROUNDS_DEFAULT = 3;
const WARMUP_SECONDS = 0.3;
const MEASURE_SECONDS = 1.2;
const MAX_COMMITS = 1_000_000;
const PREALLOCATE_BYTES = 1024 * 1024;
const MS_PER_S = 1000;
const US_PER_MS = 1000;
const US_PER_S = 1_000_000;
const FILL_BYTE = 0xab;
const P50 = 0.5;
/** Goals of issue 12 (goal 4), checked, not asserted. */
const GOAL_VS_PER_RECORD = 1.0;
const GOAL_VS_BATCH = 0.7;
const GOAL_P50_VS_C = 1.05;
const SELF = fileURLToPath(import.meta.url);

type WalCell = "waldb-immediate" | "waldb-gathered";
type CCell =
  | "c-record-grow"
  | "c-record-prealloc"
  | "c-batch-grow"
  | "c-batch-prealloc"
  | "c-record-thread"
  | "c-batch-thread";
type CellId = WalCell | CCell;
const CELLS: readonly CellId[] = [
  "waldb-immediate",
  "waldb-gathered",
  "c-record-grow",
  "c-record-prealloc",
  "c-batch-grow",
  "c-batch-prealloc",
  "c-record-thread",
  "c-batch-thread",
];

/** How each cell writes and flushes, in words: the rows' path and anchor text. */
const METHOD: Record<CellId, string> = {
  "waldb-immediate": "wal-db immediate: one write per append, shared fdatasync on a worker thread",
  "waldb-gathered": "wal-db gathered: one write per turn, shared fdatasync on a worker thread",
  "c-record-grow": "C: one write() per record, one fdatasync per batch, growing file",
  "c-record-prealloc": "C: one write() per record, one fdatasync per batch, preallocated file",
  "c-batch-grow": "C: one write() per batch, one fdatasync per batch, growing file",
  "c-batch-prealloc": "C: one write() per batch, one fdatasync per batch, preallocated file",
  "c-record-thread":
    "C: one write() per record, fdatasync handed to a second thread, preallocated file",
  "c-batch-thread":
    "C: one write() per batch, fdatasync handed to a second thread, preallocated file",
};

interface CellResult {
  commitsPerSecond: number;
  p50Us: number;
  /**
   * Mean flush (wal-db: from wal.stats, the hand-over to the worker thread and back included;
   * C: from the flush's start to its end as the writing thread sees it) and records per flush.
   */
  meanFlushUs: number;
  /** C only: mean time inside fdatasync; equal to the mean flush unless a thread flushes. */
  meanFdatasyncUs?: number;
  recordsPerFlush: number;
  /** wal-db only: how the log flushes, e.g. "fdatasync via shim". */
  durability?: string;
}

/** The child: one wal-db cell, closed-loop writers, one JSON line on stdout. */
async function runWalCell(cell: WalCell, writers: number, dir: string): Promise<void> {
  const { Wal } = await import("../mod.ts");
  const wal = Wal.open(join(dir, "wal-db.log"), {
    durability: "auto",
    writeMode: cell === "waldb-gathered" ? "gathered" : "immediate",
  });
  const record = new Uint8Array(RECORD_BYTES).fill(FILL_BYTE);
  const latencies = new Float64Array(MAX_COMMITS);
  let measured = 0;
  const start = performance.now();
  const measureFrom = start + WARMUP_SECONDS * MS_PER_S;
  const stopAt = measureFrom + MEASURE_SECONDS * MS_PER_S;
  let lastDone = measureFrom;
  let statsAtStart: ReturnType<() => typeof wal.stats> | undefined;
  const writer = async () => {
    let ready = performance.now();
    for (;;) {
      wal.append(record);
      await wal.sync();
      const done = performance.now();
      if (done >= measureFrom) {
        statsAtStart ??= wal.stats;
        if (measured < latencies.length) latencies[measured++] = done - ready;
        lastDone = done;
      }
      if (done >= stopAt || measured >= latencies.length) return;
      ready = done;
    }
  };
  await Promise.all(Array.from({ length: writers }, writer));
  const end = wal.stats;
  const durability = wal.durability;
  wal.close();
  const before = statsAtStart ?? end;
  const flushes = end.flushes - before.flushes;
  const sorted = latencies.subarray(0, measured).sort();
  const result: CellResult = {
    commitsPerSecond: measured / ((lastDone - measureFrom) / MS_PER_S),
    p50Us: percentile(sorted, P50) * US_PER_MS,
    meanFlushUs: flushes === 0 ? NaN : (end.flushMs - before.flushMs) / flushes * US_PER_MS,
    recordsPerFlush: flushes === 0 ? NaN : (end.flushedRecords - before.flushedRecords) / flushes,
    durability,
  };
  console.log(JSON.stringify(result));
}

async function measure(cell: CellId, writers: number, bin: string): Promise<CellResult> {
  const dir = await Deno.makeTempDir({ prefix: "wal-db-commit-bench-" });
  try {
    if (cell.startsWith("c-")) {
      const env = {
        COMMIT_BATCH_WRITE: cell.startsWith("c-batch") ? "1" : "0",
        COMMIT_PREALLOCATE: cell.endsWith("grow") ? "0" : String(PREALLOCATE_BYTES),
        COMMIT_FLUSH_THREAD: cell.endsWith("thread") ? "1" : "0",
      };
      const seconds = String(MEASURE_SECONDS + WARMUP_SECONDS);
      const out = await runJson(bin, [
        join(dir, "c.log"),
        String(writers),
        String(MAX_COMMITS),
        seconds,
        String(RECORD_BYTES),
      ], env);
      const flushes = Number(out.flushes);
      return {
        commitsPerSecond: Number(out.commits_per_s),
        p50Us: Number(out.p50_us),
        meanFlushUs: Number(out.flush_seconds) / flushes * US_PER_S,
        meanFdatasyncUs: Number(out.fdatasync_seconds) / flushes * US_PER_S,
        recordsPerFlush: Number(out.commits) / flushes,
      };
    }
    const out = await runJson(Deno.execPath(), [
      "run",
      "-A",
      SELF,
      "--cell",
      cell,
      "--writers",
      String(writers),
      "--dir",
      dir,
    ]);
    return out as unknown as CellResult;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

type Row = GoalRow;

async function main(json: boolean, rounds: number): Promise<void> {
  // -pthread: the flush-thread cells (glibc before 2.34 keeps threads in libpthread).
  const bin = await compileC("commit", ["-pthread"]);
  const results = new Map<string, CellResult[]>();
  for (let round = 0; round < rounds; round++) {
    for (const writers of WRITER_COUNTS) {
      const order = round % 2 === 0 ? CELLS : [...CELLS].reverse();
      for (const cell of order) {
        const result = await measure(cell, writers, bin);
        const key = `${cell}@${writers}`;
        results.set(key, [...(results.get(key) ?? []), result]);
        if (!json) console.error(`round ${round} W=${writers} ${cell}: ${JSON.stringify(result)}`);
      }
    }
  }
  const ratio = (mine: string, anchor: string, pick: (r: CellResult) => number) =>
    median(
      results.get(mine)!.map((r, i) => pick(r) / pick(results.get(anchor)![i]!)),
    );
  const med = (key: string, pick: (r: CellResult) => number) => median(results.get(key)!.map(pick));
  const rows: Row[] = [];
  const rate = (r: CellResult) => r.commitsPerSecond;
  const p50 = (r: CellResult) => r.p50Us;
  /** One row: `mine` against `anchor` at `writers`; `goal` undefined for a row without one. */
  const row = (
    mine: WalCell,
    anchor: CCell,
    writers: number,
    goal: { text: string; met: (ratio: number) => boolean } | undefined,
  ): Row => {
    const pick = writers === 1 ? p50 : rate;
    const r = ratio(`${mine}@${writers}`, `${anchor}@${writers}`, pick);
    return {
      section: writers === 1 ? "commit W=1 p50" : `commit W=${writers}`,
      path: METHOD[mine],
      value: med(`${mine}@${writers}`, pick),
      unit: writers === 1 ? "us" : "commits/s",
      anchor: METHOD[anchor],
      anchorValue: med(`${anchor}@${writers}`, pick),
      ratio: r,
      goal: goal?.text ?? null,
      met: goal === undefined ? null : goal.met(r),
    };
  };
  const atLeast = (x: number) => ({ text: `>= ${x}x`, met: (r: number) => r >= x });
  const atMost = (x: number) => ({ text: `<= ${x}x`, met: (r: number) => r <= x });
  for (const mine of ["waldb-immediate", "waldb-gathered"] as const) {
    rows.push(row(mine, "c-record-grow", 256, atLeast(GOAL_VS_PER_RECORD)));
    rows.push(row(mine, "c-record-prealloc", 256, atLeast(GOAL_VS_PER_RECORD)));
    rows.push(row(mine, "c-batch-grow", 256, atLeast(GOAL_VS_BATCH)));
    rows.push(row(mine, "c-batch-prealloc", 256, atLeast(GOAL_VS_BATCH)));
    // No goal: the C loop that pays the same hand-over to a flushing thread.
    rows.push(
      row(mine, mine === "waldb-immediate" ? "c-record-thread" : "c-batch-thread", 256, undefined),
    );
    rows.push(row(mine, "c-record-grow", 1, atMost(GOAL_P50_VS_C)));
    rows.push(row(mine, "c-record-prealloc", 1, atMost(GOAL_P50_VS_C)));
    rows.push(row(mine, "c-record-thread", 1, undefined));
  }
  if (json) {
    // One JSON array, as every bench module prints it (bench/goals.ts reads exactly that).
    console.log(JSON.stringify(rows));
    return;
  }
  console.log("| section | wal-db | value | anchor | anchor value | ratio | goal | met |");
  console.log("| --- | --- | ---: | --- | ---: | ---: | --- | :---: |");
  for (const r of rows) {
    console.log(
      `| ${r.section} | ${r.path} | ${r.value.toFixed(0)} ${r.unit} | ${r.anchor} | ` +
        `${r.anchorValue.toFixed(0)} | ${r.ratio.toFixed(2)} | ${r.goal ?? "-"} | ${
          r.met === null ? "-" : r.met ? "yes" : "no"
        } |`,
    );
  }
  console.log(
    "\nMean flush and records per flush (medians over rounds); for C, time inside fdatasync " +
      "(the thread cells' flush minus it is the hand-over to the flushing thread and back); " +
      "between flushes: a flush cycle (records per flush / commits per second) minus the mean " +
      "flush, the writing thread's time for one batch (wal-db: the event loop's appends and " +
      "commits, which no flush overlaps at 256 closed-loop writers):",
  );
  const between = (r: CellResult) =>
    r.recordsPerFlush / r.commitsPerSecond * US_PER_S - r.meanFlushUs;
  for (const writers of WRITER_COUNTS) {
    for (const cell of CELLS) {
      const key = `${cell}@${writers}`;
      console.log(
        `  W=${writers} ${cell}: mean flush ${med(key, (r) => r.meanFlushUs).toFixed(0)} µs` +
          (cell.startsWith("c-")
            ? ` (in fdatasync ${med(key, (r) => r.meanFdatasyncUs ?? NaN).toFixed(0)} µs), `
            : ", ") +
          `between flushes ${med(key, between).toFixed(0)} µs, ` +
          `records per flush ${med(key, (r) => r.recordsPerFlush).toFixed(1)}, ` +
          `commits/s ${med(key, rate).toFixed(0)}, p50 ${med(key, (r) => r.p50Us).toFixed(0)} µs`,
      );
    }
  }
}

if (import.meta.main) {
  const args = Deno.args;
  const value = (flag: string) => {
    const index = args.indexOf(flag);
    return index === -1 ? undefined : args[index + 1];
  };
  const cell = value("--cell");
  if (cell !== undefined) {
    await runWalCell(cell as WalCell, Number(value("--writers")), value("--dir")!);
  } else {
    await main(args.includes("--json"), Number(value("--rounds") ?? ROUNDS_DEFAULT));
  }
}
