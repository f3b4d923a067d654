// Copyright 2026 the wal-db authors. MIT license.
// `deno task bench:recovery`: what damage costs at open. Writes a log of 256-byte records,
// opens it intact, then with one byte flipped in its middle, for several maxRecordSize values,
// side by side in one run, and rewrites the "Recovery" section of docs/BENCHMARKS.md. The goal
// (issue 10): an open that meets damage costs at most 2x the open of the same log intact.
//
//   deno task bench:recovery [--mib 78] [--rounds 3]
//
// The opens are read-only with the "skip" policy, which scans everything and walks past the
// damage to the end without writing: the scan's cost alone. (A writer's default open also
// copies the bytes after the damage aside: that is a copy, not a scan, and its cost is the
// copy's.) The file is read once before the first round, so every open reads the page cache.

import { join } from "node:path";
import { parseArgs } from "node:util";
import { Wal } from "../mod.ts";
import { RECORD_SIZE_MAX_DEFAULT } from "../src/constants.ts";
import {
  BENCHMARKS_DOC,
  formatFile,
  formatNumber,
  formatRatio,
  machineInfo,
  median,
  RECORD_BYTES,
  renderMachine,
  rewriteSection,
} from "./run.ts";

const MIB = 1024 * 1024;
/** maxRecordSize values to measure: small, the default, and the format's u32 limit region. */
const MAX_RECORD_SIZES = [8 * 1024, RECORD_SIZE_MAX_DEFAULT, 1024 * MIB];
const GOAL_RATIO = 2;
/** How many records share one write while the bench log is built. */
const BUILD_BATCH = 4096;

interface Row {
  maxRecordSize: number;
  intactMs: number;
  damagedMs: number;
}

function parse(): { mib: number; rounds: number } {
  const { values } = parseArgs({
    args: Deno.args,
    options: { mib: { type: "string", default: "78" }, rounds: { type: "string", default: "3" } },
  });
  const mib = Number(values.mib);
  const rounds = Number(values.rounds);
  if (!(mib > 0) || !Number.isSafeInteger(rounds) || rounds < 1) {
    throw new RangeError("usage: --mib SIZE (> 0) --rounds N (>= 1)");
  }
  return { mib, rounds };
}

/** Writes a log of about `bytes` bytes of 256-byte records; returns its path. */
function buildLog(dir: string, bytes: number): string {
  const path = join(dir, "bench.wal");
  const wal = Wal.open(path, { durability: "runtime", preallocateSize: 0 });
  const payload = new Uint8Array(RECORD_BYTES);
  let seed = 1;
  for (let written = 0; written < bytes;) {
    for (let i = 0; i < BUILD_BATCH && written < bytes; i++) {
      // Payload bytes that look like binary data: small lengths are plausible in them.
      for (let j = 0; j < payload.length; j++) {
        seed = (seed * 1103515245 + 12345) >>> 0;
        payload[j] = seed >>> 24;
      }
      wal.append(payload);
      written += payload.length + 8;
    }
  }
  wal.close();
  return path;
}

/** Milliseconds of one read-only open that scans the whole log. */
function timeOpen(path: string, maxRecordSize: number): { ms: number; records: number } {
  const started = performance.now();
  const wal = Wal.open(path, {
    readOnly: true,
    lock: "none",
    recoveryPolicy: "skip",
    maxRecordSize,
  });
  const ms = performance.now() - started;
  const records = wal.recovery.recordCount;
  wal.close();
  return { ms, records };
}

function flipMiddleByte(path: string): number {
  const file = Deno.openSync(path, { read: true, write: true });
  try {
    const at = Math.floor(file.statSync().size / 2);
    const byte = new Uint8Array(1);
    file.seekSync(at, Deno.SeekMode.Start);
    file.readSync(byte);
    byte[0]! ^= 0x01;
    file.seekSync(at, Deno.SeekMode.Start);
    file.writeSync(byte);
    return at;
  } finally {
    file.close();
  }
}

function main(): void {
  const { mib, rounds } = parse();
  const dir = Deno.makeTempDirSync({ prefix: "wal_bench_recovery_" });
  try {
    const intactPath = buildLog(dir, mib * MIB);
    const damagedPath = join(dir, "damaged.wal");
    Deno.copyFileSync(intactPath, damagedPath);
    const flipped = flipMiddleByte(damagedPath);
    // Warm the page cache: both files are read once before anything is timed.
    Deno.readFileSync(intactPath);
    Deno.readFileSync(damagedPath);
    const rows: Row[] = [];
    for (const maxRecordSize of MAX_RECORD_SIZES) {
      const intact: number[] = [];
      const damaged: number[] = [];
      for (let round = 0; round < rounds; round++) {
        // Alternate which side goes first, so drift in the machine's speed hits both.
        const order = round % 2 === 0 ? [intactPath, damagedPath] : [damagedPath, intactPath];
        for (const path of order) {
          const { ms } = timeOpen(path, maxRecordSize);
          (path === intactPath ? intact : damaged).push(ms);
        }
      }
      const row = { maxRecordSize, intactMs: median(intact), damagedMs: median(damaged) };
      rows.push(row);
      console.log(
        `maxRecordSize ${maxRecordSize}: intact ${row.intactMs.toFixed(0)} ms, damaged ` +
          `${row.damagedMs.toFixed(0)} ms (${formatRatio(row.damagedMs / row.intactMs)})`,
      );
    }
    const size = Deno.statSync(intactPath).size;
    rewriteSection(BENCHMARKS_DOC, "recovery", render(rows, size, flipped, rounds, dir));
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
}

function render(rows: Row[], size: number, flipped: number, rounds: number, dir: string): string {
  const lines = [
    renderMachine(machineInfo(dir)),
    "",
    `A log of ${formatNumber(size)} bytes (${formatNumber(size / MIB, 1)} MiB) of ` +
    `${RECORD_BYTES}-byte records, opened read-only with the "skip" policy (a full scan that ` +
    `walks past damage to the end, writing nothing), intact and with the byte at offset ` +
    `${formatNumber(flipped)} flipped. Median of ${rounds} rounds, alternating which goes ` +
    `first; the page cache holds both files.`,
    "",
    "| maxRecordSize | open, intact | open, one byte flipped | ratio | goal ≤ 2× |",
    "| ---: | ---: | ---: | ---: | :---: |",
  ];
  for (const row of rows) {
    const ratio = row.damagedMs / row.intactMs;
    lines.push(
      `| ${formatNumber(row.maxRecordSize)} | ${formatNumber(row.intactMs)} ms | ` +
        `${formatNumber(row.damagedMs)} ms | ${formatRatio(ratio)} | ` +
        `${ratio <= GOAL_RATIO ? "yes" : "no"} |`,
    );
  }
  return lines.join("\n");
}

if (import.meta.main) {
  main();
  await formatFile(BENCHMARKS_DOC);
}
