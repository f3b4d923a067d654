// Copyright 2026 the wal-db authors. MIT license.
// `deno bench -A bench/append_bench.ts`: the cost of one append, and of one append made
// durable with a blocking flush, next to the raw FsFile calls any Deno code would pay.
// bench/run.ts runs this file beside plain C loops and reports the ratios. Issue 12's goal rows
// for appends to a file come from bench/append_file.ts, which runs the C loop in this process,
// round by round beside wal-db: a C program run before or after this one meets a different
// amount of write-back in flight.

import { join } from "node:path";
import { type DurabilityMode, MemStore, Wal } from "../mod.ts";
import { BENCH_DIR_ENV, MICRO, RECORD_BYTES } from "./run.ts";

// Fixed iteration counts keep the files bounded (~26 MB per append bench) and the flush
// benches short (~0.5 s each at ~0.2 ms per fdatasync).
const APPEND_ITERATIONS = 100_000;
const APPEND_WARMUP = 1_000;
const SYNC_ITERATIONS = 2_000;
const SYNC_WARMUP = 50;
const FILL_BYTE = 0xab;

const ownDir = Deno.env.get(BENCH_DIR_ENV) === undefined;
const dir = Deno.env.get(BENCH_DIR_ENV) ?? Deno.makeTempDirSync({ prefix: "wal-db-bench-" });
const record = new Uint8Array(RECORD_BYTES).fill(FILL_BYTE);
const closers: (() => void)[] = [];

// deno bench has no "after all" hook; the unload event fires once every bench has run.
globalThis.addEventListener("unload", () => {
  for (const close of closers) close();
  const files = [...Deno.readDirSync(dir)].filter((entry) => entry.name.startsWith("bench-"));
  if (ownDir) Deno.removeSync(dir, { recursive: true });
  else for (const file of files) Deno.removeSync(join(dir, file.name));
});

/** A file log in the bench folder, or undefined (with a note) if this mode cannot open. */
function openFileWal(
  name: string,
  durability: DurabilityMode,
): Wal | undefined {
  try {
    const wal = Wal.open(join(dir, `bench-${name}.wal`), { durability });
    closers.push(() => wal.close());
    return wal;
  } catch (error) {
    console.error(`Skipping durability "${durability}": ${(error as Error).message}`);
    return undefined;
  }
}

/** A plain appending FsFile, the floor under any Deno log. */
function openRawFile(name: string): Deno.FsFile {
  const file = Deno.openSync(join(dir, `bench-${name}.raw`), {
    write: true,
    create: true,
    append: true,
  });
  closers.push(() => file.close());
  return file;
}

/** `FsFile.writeSync` may write part of the buffer; a correct caller loops. */
function writeAll(file: Deno.FsFile, data: Uint8Array): void {
  let written = 0;
  while (written < data.length) written += file.writeSync(data.subarray(written));
}

const memWal = Wal.withStore(new MemStore());
closers.push(() => memWal.close());
const fileWal = openFileWal("append", "runtime");
const appendFile = openRawFile("append");

const appendOptions = { group: MICRO.appendGroup, n: APPEND_ITERATIONS, warmup: APPEND_WARMUP };
Deno.bench({ ...appendOptions, name: MICRO.appendMem, fn: () => void memWal.append(record) });
Deno.bench({
  ...appendOptions,
  name: MICRO.appendFile,
  ignore: fileWal === undefined,
  fn: () => void fileWal?.append(record),
});
Deno.bench({
  ...appendOptions,
  name: MICRO.appendFloor,
  baseline: true,
  fn: () => writeAll(appendFile, record),
});

const runtimeWal = openFileWal("sync-runtime", "runtime");
const shimWal = openFileWal("sync-shim", "shim");
const syncFile = openRawFile("sync");

const syncOptions = { group: MICRO.syncGroup, n: SYNC_ITERATIONS, warmup: SYNC_WARMUP };
Deno.bench({
  ...syncOptions,
  name: MICRO.syncRuntime,
  ignore: runtimeWal === undefined,
  fn: () => appendAndSync(runtimeWal),
});
Deno.bench({
  ...syncOptions,
  name: MICRO.syncShim,
  ignore: shimWal === undefined,
  fn: () => appendAndSync(shimWal),
});
Deno.bench({
  ...syncOptions,
  name: MICRO.syncFloor,
  baseline: true,
  fn: () => {
    writeAll(syncFile, record);
    syncFile.syncDataSync();
  },
});

function appendAndSync(wal: Wal | undefined): void {
  wal?.append(record);
  wal?.syncSync();
}
