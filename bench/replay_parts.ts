// Copyright 2026 the wal-db authors. MIT license.
// Where the time of a shim replay (`wal.iter()` with the shim's frame scanner) goes, part by
// part: each variant reads a log of 256 B records in 256 KiB chunks (as the replay does) and
// adds one cost at a time to the bare read and shim scan, first into one reused buffer, then into
// a new array per chunk (what lets entries belong to the caller); the last is the library's own
// `wal.iter()`. Each runs in a fresh process, as bench/replay_bench.ts runs a replay (the
// allocator's state, and so its page faults, depend on the process's history), and measures its
// second pass; the variants take turns, in reverse order every other round, so a machine shared
// with other work slows them alike. Figures: the median of the rounds in GB/s of CPU time, the
// minor page faults in the pass (Linux: /proc/self/stat), and what one fault costs here.
//
//   deno run -A bench/replay_parts.ts [--mib 512] [--rounds 3]
//
// Run it once as is and once with MALLOC_TOP_PAD_=67108864 in the environment to see what the
// allocator's returning freed chunks to the system costs each variant (see docs/BENCHMARKS.md).
// Not part of `deno task bench`: it explains the replay row, it has no goal of its own.

import process from "node:process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { loadShim } from "../ffi/mod.ts";
import { Wal } from "../mod.ts";
import { REPLAY_CHUNK_SIZE, SCAN_BATCH_MAX } from "../src/constants.ts";
import { encodeFrame } from "../src/record.ts";
import { median, numberField, RECORD_BYTES, runJson } from "./run.ts";

const MIB = 1024 * 1024;
const GB = 1e9;
const HEADER = 8;

/** What a pass does with each chunk once it is read and scanned. */
type PerRecord = "nothing" | "view" | "entry";

/** One variant: how a chunk's memory is had, and what each record costs on top. */
interface Variant {
  name: string;
  fresh: boolean;
  perRecord: PerRecord;
}

const VARIANTS: Variant[] = [
  { name: "read + shim scan, one reused buffer", fresh: false, perRecord: "nothing" },
  { name: "  + a view per record", fresh: false, perRecord: "view" },
  { name: "  + a generator yielding { lsn, data }", fresh: false, perRecord: "entry" },
  { name: "read + shim scan, a new array per chunk", fresh: true, perRecord: "nothing" },
  { name: "  + a view per record", fresh: true, perRecord: "view" },
  { name: "  + a generator yielding { lsn, data }", fresh: true, perRecord: "entry" },
];
const LIBRARY = "wal.iter(), the default open (shim scanner)";

function cpuSeconds(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1e6;
}

/** Minor page faults of this process so far (field 10 of /proc/self/stat); NaN elsewhere. */
function minorFaults(): number {
  try {
    const stat = Deno.readTextFileSync("/proc/self/stat");
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[7]);
  } catch {
    return Number.NaN;
  }
}

function buildLog(path: string, mib: number): number {
  const frame = RECORD_BYTES + HEADER;
  const records = Math.floor(mib * MIB / frame);
  const chunk = new Uint8Array(4096 * frame);
  const payload = new Uint8Array(RECORD_BYTES).fill(7);
  using file = Deno.openSync(path, { create: true, write: true, truncate: true });
  for (let written = 0; written < records;) {
    let at = 0;
    for (; at + frame <= chunk.length && written < records; written++) {
      payload[0] = written & 0xff;
      at += encodeFrame(payload, chunk, at);
    }
    for (let done = 0; done < at;) done += file.writeSync(chunk.subarray(done, at));
  }
  return records * frame;
}

/** Yields the records of a scanned chunk as `iter()` does: a view per record in an entry. */
function* entriesOf(chunk: Uint8Array, start: number, ends: Uint32Array, count: number) {
  let at = 0;
  for (let i = 0; i < count; i++) {
    const next = ends[i]!;
    const data = new Uint8Array(chunk.buffer, chunk.byteOffset + at + HEADER, next - at - HEADER);
    yield { lsn: start + at, data };
    at = next;
  }
}

/** One pass over the log as `variant` says; returns the bytes of the records it went over. */
function pass(file: Deno.FsFile, size: number, variant: Variant): number {
  const scan = loadShim().crc.scanFrames;
  const ends = new Uint32Array(SCAN_BATCH_MAX);
  const reused = new Uint8Array(REPLAY_CHUNK_SIZE);
  let total = 0;
  for (let position = 0; position < size;) {
    const want = Math.min(REPLAY_CHUNK_SIZE, size - position);
    const chunk = variant.fresh ? new Uint8Array(want) : reused.subarray(0, want);
    file.seekSync(position, Deno.SeekMode.Start);
    let got = 0;
    while (got < want) {
      const n = file.readSync(chunk.subarray(got));
      if (n === null) break;
      got += n;
    }
    const count = scan(chunk, 0, got, RECORD_BYTES, ends);
    if (count === 0) throw new Error(`no intact frame at ${position}`);
    if (variant.perRecord === "entry") {
      for (const entry of entriesOf(chunk, position, ends, count)) {
        total += entry.data.length + HEADER;
      }
    } else if (variant.perRecord === "view") {
      let at = 0;
      for (let i = 0; i < count; i++) {
        const next = ends[i]!;
        const view = new Uint8Array(
          chunk.buffer,
          chunk.byteOffset + at + HEADER,
          next - at - HEADER,
        );
        total += view.length + HEADER;
        at = next;
      }
    } else {
      total += ends[count - 1]!;
    }
    position += ends[count - 1]!;
  }
  return total;
}

function libraryPass(wal: Wal): number {
  let total = 0;
  for (const entry of wal.iter()) total += entry.data.length + HEADER;
  return total;
}

/** GB/s of CPU time and minor faults of one run of `work`. */
function measure(work: () => number): { gbps: number; faults: number } {
  const faults = minorFaults();
  const cpu = cpuSeconds();
  const bytes = work();
  return { gbps: bytes / (cpuSeconds() - cpu) / GB, faults: minorFaults() - faults };
}

/**
 * What the first write to a page of fresh memory costs, in microseconds: a new 64 MiB array is
 * mapped fresh from the system (above glibc's mmap threshold), untouched until written.
 */
function faultMicroseconds(): number {
  const size = 64 * MIB;
  const page = 4096;
  const costs: number[] = [];
  for (let round = 0; round < 3; round++) {
    const fresh = new Uint8Array(size);
    const start = performance.now();
    for (let at = 0; at < size; at += page) fresh[at] = 1;
    costs.push((performance.now() - start) * 1000 / (size / page));
  }
  return median(costs);
}

/** A child: one variant in a fresh process, as the replay bench runs each replay. */
function child(path: string, index: number): { gbps: number; faults: number } {
  const size = Deno.statSync(path).size;
  using file = Deno.openSync(path);
  using wal = Wal.open(path, { readOnly: true, lock: "none" });
  const variant = VARIANTS[index];
  const work = variant === undefined ? () => libraryPass(wal) : () => pass(file, size, variant);
  // The first pass compiles the code; the second is measured, as in bench/replay_bench.ts.
  work();
  return measure(work);
}

if (import.meta.main) {
  const args = parseArgs({
    args: Deno.args,
    options: {
      mib: { type: "string" },
      rounds: { type: "string" },
      child: { type: "string" },
    },
    allowPositionals: true,
  });
  const which = args.values.child;
  if (which !== undefined) {
    const result = which === "fault"
      ? { microseconds: faultMicroseconds() }
      : child(args.positionals[0]!, Number(which));
    console.log(JSON.stringify(result));
    Deno.exit(0);
  }
  const mib = Number(args.values.mib ?? 512);
  const rounds = Number(args.values.rounds ?? 3);
  const dir = await Deno.makeTempDir({ prefix: "wal-db-replay-parts-" });
  try {
    const path = join(dir, "replay.log");
    buildLog(path, mib);
    const names = [...VARIANTS.map((variant) => variant.name), LIBRARY];
    const results = names.map(() => [] as { gbps: number; faults: number }[]);
    const self = fileURLToPath(import.meta.url);
    for (let round = 0; round < rounds; round++) {
      const order = names.map((_, i) => i);
      if (round % 2 === 1) order.reverse();
      for (const i of order) {
        const args = ["run", "-A", self, "--child", String(i), path];
        const result = await runJson(Deno.execPath(), args);
        results[i]!.push({
          gbps: numberField(result, "gbps"),
          faults: numberField(result, "faults"),
        });
      }
    }
    const pad = Deno.env.get("MALLOC_TOP_PAD_");
    console.log(
      `${mib} MiB log of ${RECORD_BYTES} B records, ${rounds} rounds (a fresh process each), ` +
        `MALLOC_TOP_PAD_=${pad ?? "(unset)"}: median GB/s of CPU time, minor faults in the pass`,
    );
    const fault = await runJson(Deno.execPath(), ["run", "-A", self, "--child", "fault"]);
    const faultUs = numberField(fault, "microseconds");
    console.log(
      `first write to a fresh 4 KiB page: ${faultUs.toFixed(2)} µs ` +
        `(${(faultUs * 1000 * (RECORD_BYTES + HEADER) / 4096).toFixed(0)} ns ` +
        `per ${RECORD_BYTES + HEADER} B record of fresh chunk)`,
    );
    names.forEach((name, i) => {
      const gbps = median(results[i]!.map((r) => r.gbps)).toFixed(2);
      const faults = median(results[i]!.map((r) => r.faults));
      const all = results[i]!.map((r) => r.gbps.toFixed(2)).join(" ");
      console.log(
        `${name.padEnd(48)} ${gbps.padStart(6)} ${String(faults).padStart(8)}   (${all})`,
      );
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
