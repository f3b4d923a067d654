// Copyright 2026 the wal-db authors. MIT license.
// `deno task bench [--quick]`: runs the wal-db micro-benchmarks (bench/append_bench.ts) and the
// plain C loops (bench/c/) side by side in one run, prints wal-db / C ratios and rewrites the
// "Micro-benchmarks" section of docs/BENCHMARKS.md. Then gathers issue 12's goal rows from the
// standalone bench modules (bench/replay_bench.ts, crc_bench.ts, segments_bench.ts; each run as
// `deno run -A bench/<file> --json`, skipped with a note when absent) into the "Goals" section,
// and draws the replay chart (docs/bench_replay.svg). `--quick` runs one round of each with
// smaller logs.
//
// Also exports the helpers bench/compare.ts shares: compiling the C loops, describing the
// machine, percentiles and rewriting a marked section of the benchmarks document.

import { fileURLToPath } from "node:url";
import { gatherGoals, type GoalModule, renderGoals, renderReplayChart } from "./goals.ts";

/** Where compiled C loops, raw results and scratch files go (git-ignored). */
export const OUT_DIR: string = fileURLToPath(new URL("./.out/", import.meta.url));
/** The document both bench scripts write their results into. */
export const BENCHMARKS_DOC: string = fileURLToPath(
  new URL("../docs/BENCHMARKS.md", import.meta.url),
);
/** Every benchmark appends records of this size (the payload; wal-db adds an 8-byte header). */
export const RECORD_BYTES = 256;

/** The group and bench names of bench/append_bench.ts, shared so run.ts can find its results. */
export const MICRO = {
  appendGroup: "append 256 B",
  appendMem: "wal-db append, MemStore, fresh memory (page faults included)",
  appendFile: 'wal-db append, FileStore, durability "runtime" (FsFile.writeSync, TypeScript CRC)',
  appendFloor: "FsFile.writeSync (no wal-db)",
  syncGroup: "append + syncSync 256 B",
  syncRuntime: "wal-db append + syncSync, durability runtime",
  syncShim: "wal-db append + syncSync, durability shim",
  syncFloor: "FsFile.writeSync + syncDataSync (no wal-db)",
} as const;

/** The environment variable that hands append_bench.ts the folder to write its files in. */
export const BENCH_DIR_ENV = "WAL_DB_BENCH_DIR";

// Three rounds, alternating which side goes first, so drift in the machine's speed (other
// processes, page-cache writeback) lands on both sides; each figure is the median of rounds.
// One with --quick.
const ROUNDS_FULL = 3;
const QUICK = Deno.args.includes("--quick");
const ROUNDS = QUICK ? 1 : ROUNDS_FULL;
/** The standalone modules whose goal rows `deno task bench` gathers, in table order. */
const GOAL_MODULES: GoalModule[] = [
  { file: "append_file.ts", args: QUICK ? ["--quick"] : [] },
  { file: "append_warm.ts", args: QUICK ? ["--quick"] : [] },
  { file: "replay_bench.ts", args: QUICK ? ["--quick"] : [] },
  { file: "crc_bench.ts", args: QUICK ? ["--quick"] : [] },
  { file: "segments_bench.ts", args: QUICK ? ["--quick"] : [] },
];
const REPLAY_SVG = fileURLToPath(new URL("../docs/bench_replay.svg", import.meta.url));
// The C append loop's record count: long enough (~0.2 s) to swamp process start-up.
const C_APPEND_RECORDS = 200_000;
// The C commit loop at one writer: enough samples for a stable p99, bounded in time.
const C_SYNC_COMMITS = 2_000;
const C_SYNC_SECONDS = 2;
const NS_PER_US = 1_000;

/** What the document says about the machine a run happened on. */
export interface MachineInfo {
  cpu: string;
  cores: number;
  os: string;
  kernel: string;
  deno: string;
  filesystem: string;
  date: string;
}

/**
 * Compiles `bench/c/<name>.c` with `cc -O2` (and `flags`, e.g. `-msse4.2`) into bench/.out/ and
 * returns the binary's path.
 */
export async function compileC(name: string, flags: string[] = []): Promise<string> {
  await Deno.mkdir(OUT_DIR, { recursive: true });
  const source = fileURLToPath(new URL(`./c/${name}.c`, import.meta.url));
  const binary = `${OUT_DIR}${name}`;
  const args = ["-O2", ...flags, "-Wall", "-Wextra", "-o", binary, source, "-lm"];
  let output: Deno.CommandOutput;
  try {
    output = await new Deno.Command("cc", { args, stdout: "inherit", stderr: "inherit" }).output();
  } catch (error) {
    throw new Error(`Cannot run the C compiler "cc" (install gcc or clang): ${messageOf(error)}`);
  }
  if (!output.success) throw new Error(`cc failed to compile ${source} (exit ${output.code})`);
  return binary;
}

/** Runs a program that prints a JSON object (alone or as its last line) and returns it. */
export async function runJson(
  program: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<Record<string, unknown>> {
  const output = await new Deno.Command(program, { args, env, stdout: "piped", stderr: "inherit" })
    .output();
  const text = new TextDecoder().decode(output.stdout).trim();
  if (!output.success) {
    throw new Error(`${program} ${args.join(" ")} failed (exit ${output.code}): ${text}`);
  }
  // `deno bench --json` prints one multi-line document; the C loops print one line after any
  // notes. Try the whole output first, then its last line.
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    return JSON.parse(text.slice(text.lastIndexOf("\n") + 1)) as Record<string, unknown>;
  }
}

/** A numeric field of a parsed JSON object, or an error naming what is missing. */
export function numberField(object: Record<string, unknown>, key: string): number {
  const value = object[key];
  if (typeof value !== "number") throw new Error(`Expected a number at "${key}"`);
  return value;
}

/** Nearest-rank percentile of ascending `sorted` values (the rule bench/c/commit.c uses too). */
export function percentile(sorted: ArrayLike<number>, fraction: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.max(1, Math.ceil(fraction * sorted.length));
  return sorted[rank - 1]!;
}

/** The median of a few values (rounds of one measurement). */
export function median(values: number[]): number {
  const sorted = values.toSorted((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  if (sorted.length % 2 === 1) return sorted[middle]!;
  return (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** Describes this machine; `tempDir` is where the benchmark files live. */
export function machineInfo(tempDir: string): MachineInfo {
  return {
    cpu: cpuModel(),
    cores: navigator.hardwareConcurrency,
    os: `${Deno.build.os} ${Deno.build.arch}`,
    kernel: Deno.osRelease(),
    deno: Deno.version.deno,
    filesystem: filesystemOf(tempDir),
    date: new Date().toISOString().slice(0, "YYYY-MM-DD".length),
  };
}

/** The machine as Markdown bullet lines. */
export function renderMachine(machine: MachineInfo): string {
  return [
    `- Date: ${machine.date}`,
    `- CPU: ${machine.cpu}, ${machine.cores} cores (${machine.os})`,
    `- Kernel: ${machine.kernel}`,
    `- Deno: ${machine.deno}`,
    `- Filesystem of the benchmark files: ${machine.filesystem}`,
  ].join("\n");
}

function cpuModel(): string {
  try {
    const cpuinfo = Deno.readTextFileSync("/proc/cpuinfo");
    const line = cpuinfo.split("\n").find((text) => text.startsWith("model name"));
    if (line !== undefined) return line.slice(line.indexOf(":") + 1).trim();
  } catch {
    // Not Linux: no /proc. The document then says "unknown" rather than guessing.
  }
  return "unknown CPU";
}

/** The type and mount point of the filesystem holding `path`, from /proc/mounts (Linux). */
function filesystemOf(path: string): string {
  let mounts: string;
  try {
    mounts = Deno.readTextFileSync("/proc/mounts");
  } catch {
    return "unknown";
  }
  const real = Deno.realPathSync(path);
  let best = { mountPoint: "", type: "unknown" };
  for (const line of mounts.split("\n")) {
    const [, mountPoint, type] = line.split(" ");
    if (mountPoint === undefined || type === undefined) continue;
    const covers = real === mountPoint ||
      real.startsWith(mountPoint.endsWith("/") ? mountPoint : `${mountPoint}/`);
    if (covers && mountPoint.length > best.mountPoint.length) best = { mountPoint, type };
  }
  const folder = real.slice(0, real.lastIndexOf("/")) || "/";
  return `${best.type} (temporary files in ${folder}, mount point ${best.mountPoint || "?"})`;
}

/**
 * Replaces the text between `<!-- NAME:begin -->` and `<!-- NAME:end -->` in `docPath` with
 * `body`, appending the markers at the end if the document lacks them.
 */
export function rewriteSection(docPath: string, name: string, body: string): void {
  const begin = `<!-- ${name}:begin -->`;
  const end = `<!-- ${name}:end -->`;
  let text = "";
  try {
    text = Deno.readTextFileSync(docPath);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  const from = text.indexOf(begin);
  const to = text.indexOf(end);
  const section = `${begin}\n\n${body.trim()}\n\n${end}`;
  if (from === -1 || to === -1 || to < from) {
    text = `${text.trimEnd()}\n\n${section}\n`;
  } else {
    text = text.slice(0, from) + section + text.slice(to + end.length);
  }
  Deno.writeTextFileSync(docPath, text);
}

/** Runs `deno fmt` on `path` with the repository's settings, so `deno fmt --check` stays clean. */
export async function formatFile(path: string): Promise<void> {
  const root = fileURLToPath(new URL("../", import.meta.url));
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["fmt", "--quiet", path],
    cwd: root,
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  if (!output.success) throw new Error(`deno fmt ${path} failed (exit ${output.code})`);
}

/** Formats a number with thousands separators and `digits` decimals. */
export function formatNumber(value: number, digits = 0): string {
  if (!Number.isFinite(value)) return "n/a";
  return value.toLocaleString("en-US", {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
}

/** Formats a ratio like `1.23×`. */
export function formatRatio(value: number): string {
  if (!Number.isFinite(value)) return "n/a";
  return `${value >= 10 ? value.toFixed(1) : value.toFixed(2)}×`;
}

/** The message of an error, or the thrown value as text. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

// ---------------------------------------------------------------------------------------------
// The micro-benchmark run.

/** One bench's figures from `deno bench --json`, in nanoseconds. */
interface BenchFigures {
  avg: number;
  p99: number;
}

/** What one round measured. */
interface Round {
  /** deno bench figures by bench name; a bench that was skipped is absent. */
  deno: Map<string, BenchFigures>;
  cAppendNs: number;
  cSyncMeanUs: number;
  cSyncP99Us: number;
}

/** One row of the printed table. */
interface Row {
  label: string;
  unit: string;
  walDb: number;
  c: number;
}

async function runDenoBench(tempDir: string): Promise<Map<string, BenchFigures>> {
  const benchFile = fileURLToPath(new URL("./append_bench.ts", import.meta.url));
  const report = await runJson(Deno.execPath(), ["bench", "-A", "--json", benchFile], {
    [BENCH_DIR_ENV]: tempDir,
  });
  const figures = new Map<string, BenchFigures>();
  for (const bench of report.benches as { name: string; results: unknown[] }[]) {
    const ok = (bench.results[0] as { ok?: Record<string, unknown> } | undefined)?.ok;
    if (ok === undefined) continue; // ignored (e.g. the shim is unavailable) or failed
    figures.set(bench.name, { avg: numberField(ok, "avg"), p99: numberField(ok, "p99") });
  }
  return figures;
}

async function runCLoops(tempDir: string, binaries: Record<"append" | "commit", string>) {
  const append = await runJson(binaries.append, [
    `${tempDir}/c-append.log`,
    String(C_APPEND_RECORDS),
    String(RECORD_BYTES),
  ]);
  const sync = await runJson(binaries.commit, [
    `${tempDir}/c-commit.log`,
    "1",
    String(C_SYNC_COMMITS),
    String(C_SYNC_SECONDS),
    String(RECORD_BYTES),
  ]);
  await Deno.remove(`${tempDir}/c-append.log`);
  await Deno.remove(`${tempDir}/c-commit.log`);
  return {
    cAppendNs: numberField(append, "ns_per_op"),
    cSyncMeanUs: numberField(sync, "mean_us"),
    cSyncP99Us: numberField(sync, "p99_us"),
  };
}

async function runRound(
  index: number,
  tempDir: string,
  binaries: Record<"append" | "commit", string>,
): Promise<Round> {
  const cFirst = index % 2 === 1;
  console.error(`round ${index + 1}/${ROUNDS} (${cFirst ? "C first" : "deno bench first"})`);
  if (cFirst) {
    const c = await runCLoops(tempDir, binaries);
    return { deno: await runDenoBench(tempDir), ...c };
  }
  const deno = await runDenoBench(tempDir);
  return { deno, ...(await runCLoops(tempDir, binaries)) };
}

/** The median over rounds of one deno bench figure, in `unitNs` units; NaN if it never ran. */
function denoMedian(rounds: Round[], name: string, pick: keyof BenchFigures, unitNs: number) {
  const values = rounds.flatMap((round) => {
    const figures = round.deno.get(name);
    return figures === undefined ? [] : [figures[pick] / unitNs];
  });
  return values.length === 0 ? Number.NaN : median(values);
}

function buildRows(rounds: Round[]): Row[] {
  const cAppend = median(rounds.map((round) => round.cAppendNs));
  const cMean = median(rounds.map((round) => round.cSyncMeanUs));
  const cP99 = median(rounds.map((round) => round.cSyncP99Us));
  const appendRow = (label: string, name: string): Row => ({
    label,
    unit: "ns/op (avg)",
    walDb: denoMedian(rounds, name, "avg", 1),
    c: cAppend,
  });
  const syncRows = (label: string, name: string): Row[] => [
    { label, unit: "µs/op (avg)", walDb: denoMedian(rounds, name, "avg", NS_PER_US), c: cMean },
    { label, unit: "µs p99", walDb: denoMedian(rounds, name, "p99", NS_PER_US), c: cP99 },
  ];
  return [
    appendRow(MICRO.appendMem, MICRO.appendMem),
    appendRow(MICRO.appendFile, MICRO.appendFile),
    appendRow(MICRO.appendFloor, MICRO.appendFloor),
    ...syncRows(MICRO.syncRuntime, MICRO.syncRuntime),
    ...syncRows(MICRO.syncShim, MICRO.syncShim),
    ...syncRows(MICRO.syncFloor, MICRO.syncFloor),
  ];
}

function renderTable(rows: Row[]): string {
  const lines = [
    "| benchmark (256 B records) | measure | Deno | C loop | Deno / C |",
    "| --- | --- | ---: | ---: | ---: |",
  ];
  for (const row of rows) {
    const digits = row.unit.startsWith("ns") ? 0 : 1;
    lines.push(
      `| ${row.label} | ${row.unit} | ${formatNumber(row.walDb, digits)} | ` +
        `${formatNumber(row.c, digits)} | ${formatRatio(row.walDb / row.c)} |`,
    );
  }
  return lines.join("\n");
}

function renderSection(machine: MachineInfo, table: string): string {
  return [
    "Written by `deno task bench` (bench/run.ts); do not edit by hand.",
    "",
    renderMachine(machine),
    "",
    `Method: ${ROUNDS} rounds in one run. Each round runs \`deno bench --json ` +
    "bench/append_bench.ts` and the C loops of bench/c/ (compiled with `cc -O2`), alternating " +
    "which goes first; every figure is the median of the rounds. The C side of the append " +
    `rows is \`write()\` of ${formatNumber(C_APPEND_RECORDS)} records to a growing file ` +
    "(bench/c/append.c); the C side of the sync rows is `write()` + `fdatasync()` per record " +
    "(bench/c/commit.c with 1 writer). wal-db frames each record with an 8-byte header, so it " +
    "writes 264 B where C writes 256 B. deno bench adds its own per-iteration overhead, so the " +
    "`FsFile` rows (Deno without wal-db) show the floor any Deno code pays.",
    "",
    table,
  ].join("\n");
}

function renderGoalsSection(machine: MachineInfo, goals: string, seconds: number): string {
  return [
    "Written by `deno task bench` (bench/run.ts); do not edit by hand.",
    "",
    renderMachine(machine),
    "",
    "Issue 12's table, each path beside its anchor measured in the same run. Rows come from the " +
    "standalone modules listed below, each run as `deno run -A bench/<file> --json`" +
    (QUICK
      ? " with `--quick` (one round, " +
        "smaller logs)"
      : "") +
    `. The whole \`deno task bench\` took ${seconds.toFixed(0)} s.`,
    "",
    "![Replay and open throughput against the C scan](bench_replay.svg)",
    "",
    goals,
  ].join("\n");
}

async function main(): Promise<void> {
  const started = performance.now();
  const tempDir = await Deno.makeTempDir({ prefix: "wal-db-bench-" });
  try {
    const binaries = {
      append: await compileC("append"),
      commit: await compileC("commit", ["-pthread"]),
    };
    const machine = machineInfo(tempDir);
    const rounds: Round[] = [];
    for (let index = 0; index < ROUNDS; index++) {
      rounds.push(await runRound(index, tempDir, binaries));
    }
    const table = renderTable(buildRows(rounds));
    console.log(`\n${renderMachine(machine)}\n\n${table}\n`);
    rewriteSection(BENCHMARKS_DOC, "micro", renderSection(machine, table));
    const gathered = await gatherGoals(GOAL_MODULES, (line) => console.error(line));
    const goals = renderGoals(gathered);
    const seconds = (performance.now() - started) / 1000;
    console.log(`\n${goals}\n\n(${seconds.toFixed(0)} s)`);
    rewriteSection(BENCHMARKS_DOC, "goals", renderGoalsSection(machine, goals, seconds));
    await Deno.writeTextFile(REPLAY_SVG, renderReplayChart(gathered.flatMap((m) => m.rows)));
    await formatFile(BENCHMARKS_DOC);
    console.log(`Wrote the micro-benchmark and goals sections of ${BENCHMARKS_DOC}, ${REPLAY_SVG}`);
  } finally {
    await Deno.remove(tempDir, { recursive: true });
  }
}

if (import.meta.main) await main();
