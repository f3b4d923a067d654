// Copyright 2026 the wal-db authors. MIT license.
// `deno run -A bench/append_file.ts [--json] [--quick]`: `append` of 256 B to a file-backed log
// against the C `write()` loop per record (issue 12 goal 3: ≤ 1.3× C), both in this process.
//
// Why in one process: the C loop used to run as its own program before or after `deno bench`,
// and each met a different amount of write-back in flight from the files written before it (the
// bench writes ~26 MB per subject). The ratio moved between 1.5× and 2.1× from one run to the
// next while neither side changed. Here the C loop is bench/c/append_lib.c, built as a shared
// library and called once per round through FFI (so the hand-over is not priced per record),
// and every subject appends ROUND_RECORDS records per round, taking turns round by round, so
// drift in the machine and in the page cache lands on each alike. A figure is the mean of the
// rounds' ns/record (a median would drop the rounds where the gathered log writes its 1 MiB).
//
// Both C anchors write 264 B, the frame wal-db writes for a 256 B record (8-byte header): one
// into a growing file (O_APPEND), one with space reserved 1 MiB ahead (posix_fallocate, then
// pwrite at the end), which is what wal-db's single-file log does by default.

import { join } from "node:path";
import { type DurabilityMode, Wal, type WriteMode } from "../mod.ts";
import type { GoalRow } from "./goals.ts";
import { compileC, RECORD_BYTES } from "./run.ts";
import { PREALLOCATE_SIZE_DEFAULT } from "../src/constants.ts";
import { loadShim, type ShimFile } from "../ffi/mod.ts";

const QUICK = Deno.args.includes("--quick");
/** Records per timed round: ~0.5-1.5 ms, long against the timer, short against the scheduler. */
const ROUND_RECORDS = 500;
/** Rounds per subject: 200 × 500 × 264 B = 26 MB per file, the size `deno bench` wrote. */
const ROUNDS = QUICK ? 30 : 200;
/** Untimed rounds first, so the JavaScript is optimised before it is measured. */
const WARMUP_ROUNDS = 5;
/** Issue 12 goal 3 for a file: at most this many times the C loop's cost per record. */
const GOAL_RATIO = 1.3;
const FRAME_HEADER_BYTES = 8;
const FRAME_BYTES = RECORD_BYTES + FRAME_HEADER_BYTES;
const FILL_BYTE = 0xab;

const SYMBOLS = {
  al_open: { parameters: ["buffer", "i32"], result: "i32" },
  al_append: { parameters: ["i32", "buffer", "u32", "u32"], result: "i32" },
  al_close: { parameters: ["i32"], result: "i32" },
} as const satisfies Deno.ForeignLibraryInterface;

/** Something that appends one round of records and is timed doing it. */
interface Subject {
  name: string;
  /** Appends ROUND_RECORDS records. */
  round(): void;
  close(): void;
  rounds: number[];
}

const record = new Uint8Array(RECORD_BYTES).fill(FILL_BYTE);
const frame = new Uint8Array(FRAME_BYTES).fill(FILL_BYTE);

function walSubject(
  dir: string,
  name: string,
  durability: DurabilityMode,
  writeMode: WriteMode,
): Subject | undefined {
  let wal: Wal;
  try {
    wal = Wal.open(join(dir, `${name}.wal`), { durability, writeMode });
  } catch (error) {
    console.error(`Skipping ${name}: ${(error as Error).message}`);
    return undefined;
  }
  return {
    name,
    round: () => {
      for (let i = 0; i < ROUND_RECORDS; i++) wal.append(record);
    },
    close: () => wal.close(),
    rounds: [],
  };
}

function fsFileSubject(dir: string): Subject {
  const file = Deno.openSync(join(dir, "fsfile.raw"), { write: true, create: true, append: true });
  return {
    name: "fsfile",
    round: () => {
      for (let i = 0; i < ROUND_RECORDS; i++) {
        let written = file.writeSync(frame);
        while (written < frame.length) written += file.writeSync(frame.subarray(written));
      }
    },
    close: () => file.close(),
    rounds: [],
  };
}

/** The shim's `pwrite` alone, one FFI call per frame: the floor under the "shim" log. */
function shimWriteSubject(dir: string): Subject | undefined {
  const path = join(dir, "shim-pwrite.raw");
  Deno.writeFileSync(path, new Uint8Array(0));
  let file: ShimFile;
  try {
    file = loadShim().openFile(path);
  } catch (error) {
    console.error(`Skipping the shim pwrite floor: ${(error as Error).message}`);
    return undefined;
  }
  let end = 0;
  return {
    name: "shim-pwrite",
    round: () => {
      for (let i = 0; i < ROUND_RECORDS; i++) {
        file.writeAt(frame, end);
        end += FRAME_BYTES;
      }
    },
    close: () => file.close(),
    rounds: [],
  };
}

function cSubject(
  lib: Deno.DynamicLibrary<typeof SYMBOLS>,
  dir: string,
  name: string,
  reserveChunk: number,
): Subject {
  const path = new TextEncoder().encode(`${join(dir, `${name}.raw`)}\0`);
  const slot = lib.symbols.al_open(path, reserveChunk);
  if (slot < 0) throw new Error(`al_open failed with ${slot}`);
  return {
    name,
    round: () => {
      const result = lib.symbols.al_append(slot, frame, FRAME_BYTES, ROUND_RECORDS);
      if (result !== 0) throw new Error(`al_append failed with ${result}`);
    },
    close: () => void lib.symbols.al_close(slot),
    rounds: [],
  };
}

function timeRound(subject: Subject, keep: boolean): void {
  const start = performance.now();
  subject.round();
  const ns = (performance.now() - start) * 1e6 / ROUND_RECORDS;
  if (keep) subject.rounds.push(ns);
}

/** Runs every subject round by round, alternating the order; returns each one's mean. */
export async function runAppendFile(): Promise<GoalRow[]> {
  const library = await compileC("append_lib", ["-shared", "-fPIC"]);
  const lib = Deno.dlopen(library, SYMBOLS);
  const dir = await Deno.makeTempDir({ prefix: "wal-db-append-file-" });
  const subjects = [
    walSubject(dir, "shim", "shim", "immediate"),
    walSubject(dir, "runtime", "runtime", "immediate"),
    walSubject(dir, "gathered", "runtime", "gathered"),
    fsFileSubject(dir),
    shimWriteSubject(dir),
    cSubject(lib, dir, "c-growing", 0),
    cSubject(lib, dir, "c-reserved", PREALLOCATE_SIZE_DEFAULT),
  ].filter((subject) => subject !== undefined);
  try {
    for (let round = 0; round < WARMUP_ROUNDS + ROUNDS; round++) {
      const order = round % 2 === 0 ? subjects : subjects.toReversed();
      for (const subject of order) timeRound(subject, round >= WARMUP_ROUNDS);
    }
  } finally {
    for (const subject of subjects) subject.close();
    lib.close();
    await Deno.remove(dir, { recursive: true });
  }
  // The mean over all rounds, not the median: a cost that lands in some rounds only (the
  // gathered log's 1 MiB write about every eighth round, a segment of preallocation) is part of
  // the price of an append.
  const means = new Map(subjects.map((subject) => [subject.name, mean(subject.rounds)]));
  return goalRows(means);
}

function mean(values: number[]): number {
  return values.reduce((sum, value) => sum + value, 0) / values.length;
}

const LABELS: Record<string, string> = {
  shim: 'durability "shim" (what "auto" picks with FFI): shim `pwrite`, shim CRC',
  runtime: 'durability "runtime": `FsFile.writeSync`, TypeScript CRC',
  gathered: 'writeMode "gathered", durability "runtime"',
};
const ANCHORS: [string, string][] = [
  ["c-reserved", "C `pwrite()` loop, one call per record, space reserved 1 MiB ahead"],
  ["c-growing", "C `write()` loop, one call per record, growing file (O_APPEND)"],
];

function goalRows(means: Map<string, number>): GoalRow[] {
  const method = `in-process, mean of ${ROUNDS} interleaved rounds of ${ROUND_RECORDS}`;
  const rows: GoalRow[] = [];
  for (const [name, label] of Object.entries(LABELS)) {
    const value = means.get(name);
    if (value === undefined) continue;
    for (const [anchorName, anchor] of ANCHORS) {
      const anchorValue = means.get(anchorName)!;
      const ratio = value / anchorValue;
      rows.push({
        section: "append",
        path: `\`append\` 256 B to a file, ${label} (${method})`,
        value,
        unit: "ns",
        anchor,
        anchorValue,
        ratio,
        goal: `≤ ${GOAL_RATIO}× C`,
        met: ratio <= GOAL_RATIO,
      });
    }
  }
  const reserved = means.get("c-reserved")!;
  const floors: [string, string][] = [
    [
      "shim-pwrite",
      "the shim's `pwrite` of the same 264 B frames, no wal-db: the floor of the " +
      '"shim" row',
    ],
    [
      "fsfile",
      "`FsFile.writeSync` of the same 264 B frames, no wal-db: the floor of the " +
      '"runtime" row',
    ],
  ];
  for (const [name, label] of floors) {
    const floor = means.get(name);
    if (floor === undefined) continue;
    rows.push({
      section: "append",
      path: `${label} (${method})`,
      value: floor,
      unit: "ns",
      anchor: ANCHORS[0]![1],
      anchorValue: reserved,
      ratio: floor / reserved,
      goal: null,
      met: null,
    });
  }
  return rows;
}

if (import.meta.main) {
  const rows = await runAppendFile();
  if (Deno.args.includes("--json")) console.log(JSON.stringify(rows, null, 2));
  else {
    for (const r of rows) {
      console.log(`${r.value.toFixed(0).padStart(6)} ns  ${r.ratio.toFixed(2)}×  ${r.path}`);
    }
  }
}
