// Copyright 2026 the wal-db authors. MIT license.
// `deno run -A bench/handover_bench.ts [--rounds N] [--count N] [--json]`: what it costs to hand a
// flush from the event loop to another thread and learn that it ended, for each mechanism the
// flush path could use, side by side in one process (bench/c/handover.c does the work):
//   - nonblocking: today's path, a `nonblocking: true` FFI call (the runtime's blocking pool runs
//     it and resolves a promise);
//   - thread+callback: a persistent C thread, woken by a plain FFI call through a condition
//     variable, calls a `Deno.UnsafeCallback.threadSafe` when done;
//   - thread+wait: the same thread, and a nonblocking FFI call that blocks on its condition
//     variable until the flush is done;
//   - C condvar: two C threads and a condition variable, the floor (no event loop).
// Each does the same work, timed inside C: nothing (mode "none", the bare hand-over) or a 264 B
// pwrite plus fdatasync on a scratch file (mode "fdatasync", so the flushing thread sleeps in the
// disk as in the log). A sample is the round trip seen by the caller minus that work. The rounds
// alternate the order of the mechanisms; the median and p90 over all samples are printed.

import { join } from "node:path";
import { compileC, median, percentile } from "./run.ts";

const ROUNDS_DEFAULT = 5;
const COUNT_DEFAULT = 200;
const NS_PER_US = 1000;
const US_PER_MS = 1000;
const P90 = 0.9;
const MODES = { none: 0, fdatasync: 1 } as const;
type Mode = keyof typeof MODES;
const MECHANISMS = ["nonblocking", "thread+callback", "thread+wait", "C condvar"] as const;
type Mechanism = typeof MECHANISMS[number];

const SYMBOLS = {
  ho_work: { parameters: ["i32", "i32"], result: "i32" },
  ho_work_async: { name: "ho_work", parameters: ["i32", "i32"], result: "i32", nonblocking: true },
  ho_last_work_ns: { parameters: [], result: "f64" },
  ho_start: { parameters: ["function"], result: "i32" },
  ho_submit: { parameters: ["i32", "i32", "i32"], result: "u32" },
  ho_done: { parameters: [], result: "u32" },
  ho_wait_async: { name: "ho_wait", parameters: [], result: "i32", nonblocking: true },
  ho_c_roundtrips: { parameters: ["i32", "i32", "u32", "buffer"], result: "i32" },
  ho_stop: { parameters: [], result: "void" },
} as const satisfies Deno.ForeignLibraryInterface;

function argument(name: string, fallback: number): number {
  const at = Deno.args.indexOf(name);
  return at < 0 ? fallback : Number(Deno.args[at + 1]);
}

function check(result: number, what: string): void {
  if (result !== 0) throw new Error(`${what} failed with ${result}`);
}

async function main(): Promise<void> {
  const rounds = argument("--rounds", ROUNDS_DEFAULT);
  const count = argument("--count", COUNT_DEFAULT);
  const library = await compileC("handover", ["-shared", "-fPIC", "-pthread"]);
  const lib = Deno.dlopen(library, SYMBOLS);
  const directory = await Deno.makeTempDir({ prefix: "wal-handover-" });
  const path = join(directory, "scratch");
  await Deno.writeFile(path, new Uint8Array(0));
  // A descriptor of our own for C: the runtime does not expose its own fds.
  const fd = Number(await openFd(path));

  let wake: (() => void) | undefined;
  const callback = Deno.UnsafeCallback.threadSafe(
    { parameters: [], result: "void" } as const,
    () => {
      const resolve = wake;
      wake = undefined;
      resolve?.();
    },
  );
  check(lib.symbols.ho_start(callback.pointer), "ho_start");

  const samples = new Map<string, number[]>();
  const add = (key: string, us: number) => {
    const list = samples.get(key) ?? [];
    list.push(us);
    samples.set(key, list);
  };
  const workUs = () => lib.symbols.ho_last_work_ns() / NS_PER_US;

  const run: Record<Mechanism, (mode: number) => Promise<number>> = {
    "nonblocking": async (mode) => {
      const start = performance.now();
      check(await lib.symbols.ho_work_async(fd, mode), "ho_work");
      return (performance.now() - start) * US_PER_MS - workUs();
    },
    "thread+callback": async (mode) => {
      const start = performance.now();
      const { promise, resolve } = Promise.withResolvers<void>();
      wake = resolve;
      const number = lib.symbols.ho_submit(fd, mode, 1);
      await promise;
      if (lib.symbols.ho_done() !== number) throw new Error("woken before the flush ended");
      return (performance.now() - start) * US_PER_MS - workUs();
    },
    "thread+wait": async (mode) => {
      const start = performance.now();
      lib.symbols.ho_submit(fd, mode, 0);
      check(await lib.symbols.ho_wait_async(), "ho_wait");
      return (performance.now() - start) * US_PER_MS - workUs();
    },
    "C condvar": (mode) => {
      const out = new Float64Array(1);
      check(lib.symbols.ho_c_roundtrips(fd, mode, 1, out), "ho_c_roundtrips");
      return Promise.resolve(out[0]! / NS_PER_US);
    },
  };

  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? MECHANISMS : [...MECHANISMS].reverse();
    for (const mode of Object.keys(MODES) as Mode[]) {
      for (const mechanism of order) {
        // One untimed call first: the pool thread or the callback path may need waking up.
        await run[mechanism](MODES[mode]);
        for (let i = 0; i < count; i++) {
          add(`${mode}|${mechanism}`, await run[mechanism](MODES[mode]));
        }
      }
    }
  }

  lib.symbols.ho_stop();
  callback.close();
  lib.close();
  await Deno.remove(directory, { recursive: true });

  const rows = [];
  for (const [key, list] of samples) {
    const [mode, mechanism] = key.split("|");
    rows.push({
      mode,
      mechanism,
      samples: list.length,
      p50Us: round1(median(list)),
      p90Us: round1(percentile(list.toSorted((a, b) => a - b), P90)),
    });
  }
  if (Deno.args.includes("--json")) return console.log(JSON.stringify(rows));
  console.log(
    `hand-over of one flush, µs (round trip minus the work), ${rounds} rounds × ${count}`,
  );
  console.log("mode       mechanism          p50      p90");
  for (const row of rows) {
    console.log(
      `${row.mode!.padEnd(10)} ${row.mechanism!.padEnd(16)} ${String(row.p50Us).padStart(7)}  ${
        String(row.p90Us).padStart(7)
      }`,
    );
  }
}

function round1(value: number): number {
  return Math.round(value * 10) / 10;
}

/** Opens `path` for writing through libc and returns the descriptor. */
function openFd(path: string): number {
  const libc = Deno.dlopen(Deno.build.os === "darwin" ? "libc.dylib" : "libc.so.6", {
    open: { parameters: ["buffer", "i32"], result: "i32" },
  });
  const O_WRONLY = 1;
  const fd = libc.symbols.open(new TextEncoder().encode(`${path}\0`), O_WRONLY);
  libc.close();
  if (fd < 0) throw new Error(`open ${path} failed`);
  return fd;
}

if (import.meta.main) await main();
