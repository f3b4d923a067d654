// Copyright 2026 the wal-db authors. MIT license.
// `deno run -A bench/append_warm.ts [--json] [--quick]`: the cost of one `append` of 256 B to a
// MemStore whose memory was already touched (issue 12 goal 3), with the TypeScript CRC and with
// the shim's, beside the same appends into fresh memory.
//
// Why warm memory: the first write to a page costs a page fault, about 1 µs per 264 B frame on
// this machine, which hides everything the append itself does. So each log is filled once and
// cut back to empty (a MemStore keeps its buffer), and every timed append lands in memory that
// was written before. Each round times ROUND_APPENDS appends into that memory and cuts back
// again (untimed); a figure is the median of the rounds' ns/append. Rounds are short (~0.1-0.3
// ms) so that most of them run without the scheduler taking the core away on a shared machine,
// and the logs take turns round by round so that drift lands on each alike.

import { MemStore, Wal } from "../mod.ts";
import { loadShim } from "../ffi/mod.ts";
import type { GoalRow } from "./goals.ts";
import { median, RECORD_BYTES } from "./run.ts";

const QUICK = Deno.args.includes("--quick");
/** Appends per timed round: long enough for the timer (~1 µs resolution), short for the scheduler. */
const ROUND_APPENDS = 1_000;
const ROUNDS = QUICK ? 200 : 2_000;
/** Untimed rounds first, so the code is optimised before it is measured. */
const WARMUP_ROUNDS = 50;
/** Rounds into fresh memory: each allocates a new store (~264 KB), so fewer are run. */
const FRESH_ROUNDS = QUICK ? 20 : 100;
/** Issue 12 goal 3 and the Rust crate's figure from the issue (not rerun here). */
const GOAL_TS_NS = 250;
const GOAL_SHIM_NS = 150;
const RUST_APPEND_NS = 130;
const FILL_BYTE = 0xab;

const record = new Uint8Array(RECORD_BYTES).fill(FILL_BYTE);

/** One log under test and the ns/append of each of its rounds. */
interface Subject {
  wal: Wal;
  rounds: number[];
}

/** A log in memory whose buffer already holds (and so has touched) twice a round's bytes. */
function warmLog(durability: "auto" | "runtime"): Subject {
  const wal = Wal.withStore(new MemStore(), { durability });
  for (let i = 0; i < 2 * ROUND_APPENDS; i++) wal.append(record);
  wal.truncateFrom(wal.head);
  return { wal, rounds: [] };
}

/** Times one round of appends into touched memory, then cuts the log back (untimed). */
function timeRound(subject: Subject, keep: boolean): void {
  const wal = subject.wal;
  const start = performance.now();
  for (let i = 0; i < ROUND_APPENDS; i++) wal.append(record);
  const ns = (performance.now() - start) * 1e6 / ROUND_APPENDS;
  wal.truncateFrom(wal.head);
  if (keep) subject.rounds.push(ns);
}

/** The same appends into a new store each round: every page is touched for the first time. */
function freshRounds(durability: "auto" | "runtime"): number {
  const rounds: number[] = [];
  for (let round = 0; round < FRESH_ROUNDS; round++) {
    using wal = Wal.withStore(new MemStore(), { durability });
    const start = performance.now();
    for (let i = 0; i < ROUND_APPENDS; i++) wal.append(record);
    rounds.push((performance.now() - start) * 1e6 / ROUND_APPENDS);
  }
  return median(rounds);
}

function shimCrcPath(): string | undefined {
  try {
    return loadShim().crc.path;
  } catch (error) {
    console.error(`No shim, TypeScript rows only: ${(error as Error).message}`);
    return undefined;
  }
}

/** Measures and returns the goal rows (the shim's only when it loads). */
export function runAppendWarm(): GoalRow[] {
  const crcPath = shimCrcPath();
  const subjects = [warmLog("runtime"), ...(crcPath === undefined ? [] : [warmLog("auto")])];
  for (let round = 0; round < WARMUP_ROUNDS + ROUNDS; round++) {
    // Alternate which log goes first.
    const order = round % 2 === 0 ? subjects : subjects.toReversed();
    for (const subject of order) timeRound(subject, round >= WARMUP_ROUNDS);
  }
  for (const subject of subjects) subject.wal.close();
  const method = `median of ${ROUNDS} rounds of ${ROUND_APPENDS} appends, memory already ` +
    `touched (first touches cost ~1 µs per 264 B here)`;
  const row = (path: string, value: number, goal: number | null): GoalRow => ({
    section: "append",
    path,
    value,
    unit: "ns",
    anchor: "Rust wal-db 1.0 (issue 12's figure, not rerun)",
    anchorValue: RUST_APPEND_NS,
    ratio: value / RUST_APPEND_NS,
    goal: goal === null ? null : `≤ ${goal} ns`,
    met: goal === null ? null : value <= goal,
  });
  const rows = [
    row(
      `\`append\` 256 B, MemStore, TypeScript CRC (durability "runtime"); ${method}`,
      median(subjects[0]!.rounds),
      GOAL_TS_NS,
    ),
  ];
  if (crcPath !== undefined) {
    rows.push(row(
      `\`append\` 256 B, MemStore, shim CRC (${crcPath}, durability "auto"); ${method}`,
      median(subjects[1]!.rounds),
      GOAL_SHIM_NS,
    ));
  }
  rows.push(row(
    `\`append\` 256 B, MemStore, TypeScript CRC, fresh memory (a new store per round, page ` +
      `faults included: what the warm rows leave out); median of ${FRESH_ROUNDS} rounds`,
    freshRounds("runtime"),
    null,
  ));
  return rows;
}

if (import.meta.main) {
  const rows = runAppendWarm();
  if (Deno.args.includes("--json")) console.log(JSON.stringify(rows, null, 2));
  else for (const r of rows) console.log(`${r.value.toFixed(0).padStart(6)} ns  ${r.path}`);
}
