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
type CCell = "c-record-grow" | "c-record-prealloc" | "c-batch-grow" | "c-batch-prealloc";
type CellId = WalCell | CCell;
const CELLS: readonly CellId[] = [
  "waldb-immediate",
  "waldb-gathered",
  "c-record-grow",
  "c-record-prealloc",
  "c-batch-grow",
  "c-batch-prealloc",
];

interface CellResult {
  commitsPerSecond: number;
  p50Us: number;
  /** Mean flush (wal-db: from wal.stats; C: time inside fdatasync) and records per flush. */
  meanFlushUs: number;
  recordsPerFlush: number;
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
  wal.close();
  const before = statsAtStart ?? end;
  const flushes = end.flushes - before.flushes;
  const sorted = latencies.subarray(0, measured).sort();
  const result: CellResult = {
    commitsPerSecond: measured / ((lastDone - measureFrom) / MS_PER_S),
    p50Us: percentile(sorted, P50) * US_PER_MS,
    meanFlushUs: flushes === 0 ? NaN : (end.flushMs - before.flushMs) / flushes * US_PER_MS,
    recordsPerFlush: flushes === 0 ? NaN : (end.flushedRecords - before.flushedRecords) / flushes,
  };
  console.log(JSON.stringify(result));
}

async function measure(cell: CellId, writers: number, bin: string): Promise<CellResult> {
  const dir = await Deno.makeTempDir({ prefix: "wal-db-commit-bench-" });
  try {
    if (cell.startsWith("c-")) {
      const env = {
        COMMIT_BATCH_WRITE: cell.startsWith("c-batch") ? "1" : "0",
        COMMIT_PREALLOCATE: cell.endsWith("prealloc") ? String(PREALLOCATE_BYTES) : "0",
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
  const bin = await compileC("commit");
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
  for (const mine of ["waldb-immediate", "waldb-gathered"] as const) {
    for (
      const [anchor, goal] of [
        ["c-record-grow", GOAL_VS_PER_RECORD],
        ["c-record-prealloc", GOAL_VS_PER_RECORD],
        ["c-batch-grow", GOAL_VS_BATCH],
        ["c-batch-prealloc", GOAL_VS_BATCH],
      ] as const
    ) {
      const r = ratio(`${mine}@256`, `${anchor}@256`, rate);
      rows.push({
        section: "commit W=256",
        path: mine,
        value: med(`${mine}@256`, rate),
        unit: "commits/s",
        anchor,
        anchorValue: med(`${anchor}@256`, rate),
        ratio: r,
        goal: `>= ${goal}x`,
        met: r >= goal,
      });
    }
    for (const anchor of ["c-record-grow", "c-record-prealloc"] as const) {
      const p50 = (x: CellResult) => x.p50Us;
      const r = ratio(`${mine}@1`, `${anchor}@1`, p50);
      rows.push({
        section: "commit W=1 p50",
        path: mine,
        value: med(`${mine}@1`, p50),
        unit: "us",
        anchor,
        anchorValue: med(`${anchor}@1`, p50),
        ratio: r,
        goal: `<= ${GOAL_P50_VS_C}x`,
        met: r <= GOAL_P50_VS_C,
      });
    }
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
        `${r.anchorValue.toFixed(0)} | ${r.ratio.toFixed(2)} | ${r.goal} | ${
          r.met ? "yes" : "no"
        } |`,
    );
  }
  console.log("\nMean flush and records per flush (medians over rounds):");
  for (const writers of WRITER_COUNTS) {
    for (const cell of CELLS) {
      const key = `${cell}@${writers}`;
      console.log(
        `  W=${writers} ${cell}: mean flush ${med(key, (r) => r.meanFlushUs).toFixed(0)} µs, ` +
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
