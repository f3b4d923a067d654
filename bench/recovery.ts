// Copyright 2026 the wal-db authors. MIT license.
// `deno task bench:recovery`: what damage costs at open. Writes a log of 256-byte records,
// opens it intact, with one byte flipped in its middle, and with 1 MiB of random garbage written
// over its middle, for several maxRecordSize values,
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
  garbageMs: number;
}

/** Bytes of random garbage written over the middle of the third copy. */
const GARBAGE_BYTES = 1024 * 1024;

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

/** Overwrites `GARBAGE_BYTES` in the middle of the file with random bytes. */
function garbleMiddle(path: string): void {
  const file = Deno.openSync(path, { read: true, write: true });
  try {
    const garbage = new Uint8Array(GARBAGE_BYTES);
    let seed = 7;
    for (let i = 0; i < garbage.length; i++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      garbage[i] = seed >>> 24;
    }
    file.seekSync(Math.floor(file.statSync().size / 2), Deno.SeekMode.Start);
    file.writeSync(garbage);
  } finally {
    file.close();
  }
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
    const garbagePath = join(dir, "garbage.wal");
    Deno.copyFileSync(intactPath, garbagePath);
    garbleMiddle(garbagePath);
    // Warm the page cache: the files are read once before anything is timed.
    const paths = [intactPath, damagedPath, garbagePath];
    for (const path of paths) Deno.readFileSync(path);
    const rows: Row[] = [];
    for (const maxRecordSize of MAX_RECORD_SIZES) {
      const times = paths.map(() => [] as number[]);
      for (let round = 0; round < rounds; round++) {
        // Rotate which side goes first, so drift in the machine's speed hits every side.
        for (let k = 0; k < paths.length; k++) {
          const i = (k + round) % paths.length;
          times[i]!.push(timeOpen(paths[i]!, maxRecordSize).ms);
        }
      }
      const [intactMs, damagedMs, garbageMs] = times.map(median) as [number, number, number];
      const row = { maxRecordSize, intactMs, damagedMs, garbageMs };
      rows.push(row);
      console.log(
        `maxRecordSize ${maxRecordSize}: intact ${intactMs.toFixed(0)} ms, one byte flipped ` +
          `${damagedMs.toFixed(0)} ms (${formatRatio(damagedMs / intactMs)}), 1 MiB garbage ` +
          `${garbageMs.toFixed(0)} ms (${formatRatio(garbageMs / intactMs)})`,
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
    `${formatNumber(flipped)} flipped, and with 1 MiB of random bytes written over its middle. ` +
    `Median of ${rounds} rounds, rotating which goes first; the page cache holds every file.`,
    "",
    "| maxRecordSize | intact | one byte flipped | ratio | 1 MiB of garbage | ratio | goal ≤ 2× |",
    "| ---: | ---: | ---: | ---: | ---: | ---: | :---: |",
  ];
  for (const row of rows) {
    const flippedRatio = row.damagedMs / row.intactMs;
    const garbageRatio = row.garbageMs / row.intactMs;
    const met = flippedRatio <= GOAL_RATIO && garbageRatio <= GOAL_RATIO;
    lines.push(
      `| ${formatNumber(row.maxRecordSize)} | ${formatNumber(row.intactMs)} ms | ` +
        `${formatNumber(row.damagedMs)} ms | ${formatRatio(flippedRatio)} | ` +
        `${formatNumber(row.garbageMs)} ms | ${formatRatio(garbageRatio)} | ` +
        `${met ? "yes" : "no"} |`,
    );
  }
  return lines.join("\n");
}

if (import.meta.main) {
  main();
  await formatFile(BENCHMARKS_DOC);
}
