// Copyright 2026 the wal-db authors. MIT license.
// `deno task bench:compare` (deno run -A bench/compare.ts): durable commits per second and
// commit latency for W concurrent writers, each looping "append a 256 B record, await its
// durability", in wal-db and in the other ways a Deno program can make records durable.
//
// The parent process runs every (system, W) cell in a fresh child process of this same script
// (`--cell ...`), so no cell inherits another's heap, JIT state or open files, and only the
// Deno KV child gets `--unstable-kv`. The C loop is bench/c/commit.c. Systems take turns per W
// and the whole sweep runs several times, alternating their order; ratios are taken between
// cells of the same round, so slow phases of the shared machine hit both sides of each ratio.
// Results go to stdout, bench/.out/compare.json, docs/BENCHMARKS.md and docs/bench_compare.svg.

import { DatabaseSync } from "node:sqlite";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { gatherGoals, type GoalModule, renderGoals as renderGoalRows } from "./goals.ts";
import {
  BENCHMARKS_DOC,
  compileC,
  formatFile,
  formatNumber,
  formatRatio,
  type MachineInfo,
  machineInfo,
  median,
  messageOf,
  numberField,
  OUT_DIR,
  percentile,
  RECORD_BYTES,
  renderMachine,
  rewriteSection,
  runJson,
} from "./run.ts";

// ---------------------------------------------------------------------------------------------
// Limits. Total run time ≈ ROUNDS × |WRITER_COUNTS| × |SYSTEMS| × (warm-up + measure + start-up)
// = 4 × 4 × 6 × ~1.7 s ≈ 3 minutes. Many short rounds beat few long ones on a shared disk: a
// burst of someone else's I/O spoils one round, and the median of paired ratios drops it.

const WRITER_COUNTS = [1, 16, 256, 1024] as const;
const ROUNDS = 4;
/** Each cell measures for this long per round (after its warm-up)... */
const MEASURE_SECONDS = 1.2;
/** ...or until this many commits, whichever comes first (bounds memory and disk use). */
const MAX_COMMITS_PER_CELL = 1_000_000;
/** Not measured: file creation, JIT and the first flushes. */
const WARMUP_SECONDS = 0.3;
/** A child that takes longer than this is stuck; it is killed and its cell reported failed. */
const CELL_TIMEOUT_MS = 60_000;
const MS_PER_S = 1_000;
const US_PER_MS = 1_000;
const US_PER_S = 1_000_000;
const FILL_BYTE = 0xab;
const P50 = 0.5;
const P99 = 0.99;
const FLOAT64_BYTES = 8;
const PERCENT = 100;

/** The goals of docs/BENCHMARKS.md, checked (not asserted) against each run. */
const GOAL_WRITERS = 256;
const GOAL_THROUGHPUT_VS_SERIAL = 40;
/**
 * Issue 12 goal 4: at 256 writers, at least the C loop's commits/s (bench/c/commit.c: one
 * `write` per record, one fdatasync per round); and at one writer a p50 within 5% of it. The
 * second anchor of that goal (one `write` per batch, ≥ 0.7×) is bench/commit_bench.ts's, whose
 * rows this script gathers.
 */
const GOAL_THROUGHPUT_VS_C = 1.0;
const GOAL_LATENCY_WRITERS = 1;
const GOAL_LATENCY_VS_C = 1.05;
/** Standalone modules whose goal rows `deno task bench:compare` gathers (absent: a note). */
const GOAL_MODULES: GoalModule[] = [{ file: "commit_bench.ts", args: [] }];

const SVG_PATH = fileURLToPath(new URL("../docs/bench_compare.svg", import.meta.url));
const JSON_PATH = join(OUT_DIR, "compare.json");
const SELF = fileURLToPath(import.meta.url);

/** The systems compared, in the order of the first round. */
const SYSTEMS = [
  { id: "waldb-shim", label: "wal-db (shim flush)" },
  { id: "waldb-runtime", label: "wal-db (runtime flush)" },
  { id: "handwritten", label: "hand-written FsFile" },
  { id: "sqlite", label: "node:sqlite (WAL, FULL)" },
  { id: "kv", label: "Deno KV" },
  { id: "minimal", label: "minimal Deno group commit" },
  { id: "c", label: "C loop (ideal batch)" },
] as const;

type SystemId = (typeof SYSTEMS)[number]["id"];
const WAL_DB_SYSTEMS: readonly SystemId[] = ["waldb-shim", "waldb-runtime"];
const OTHER_SYSTEMS: readonly SystemId[] = ["handwritten", "sqlite", "kv", "minimal", "c"];

// ---------------------------------------------------------------------------------------------
// Child side: one cell.

type WalDb = typeof import("../mod.ts");

/** Flushes a system issued and the time they took, where the system lets us see them. */
interface FlushStats {
  count: number;
  seconds: number;
}

/** A way to make one record durable, as a writer sees it. */
interface Committer {
  /** Resolves once `record` is durable. */
  commit(record: Uint8Array): Promise<void>;
  /** Flushes since open, or undefined when they happen out of sight (SQLite, Deno KV). */
  readonly flushes: FlushStats | undefined;
  close(): void;
}

/** What one cell reports for one round (a child's stdout line, or the C loop's output). */
interface CellReport {
  /** Commits and seconds of the measured window (after the warm-up). */
  commits: number;
  seconds: number;
  /** Commits and seconds since the system was opened, warm-up included. */
  allCommits: number;
  allSeconds: number;
  /** Flushes and time spent flushing since open, when observable. */
  flushes: number | undefined;
  flushSeconds: number | undefined;
}

/** Times `flush` calls into `stats`. */
function timeFlush(stats: FlushStats, flush: () => Promise<void>): Promise<void> {
  const start = performance.now();
  stats.count++;
  const stop = () => void (stats.seconds += (performance.now() - start) / MS_PER_S);
  return flush().then(stop, (error: unknown) => {
    stop();
    throw error;
  });
}

/**
 * Opens the file store `Wal.open` would open, with its `flush` wrapped to count and time the
 * flushes the log asks for. Wrapping the one method (rather than the whole store) keeps the
 * store exactly what Wal.open uses, whatever else its interface grows.
 */
function countingFileStore(
  FileStore: WalDb["FileStore"],
  path: string,
  durability: "shim" | "runtime",
) {
  const store = FileStore.open(path, { durability });
  const stats: FlushStats = { count: 0, seconds: 0 };
  const flush = store.flush.bind(store);
  store.flush = () => timeFlush(stats, flush);
  return { store, stats };
}

/**
 * wal-db as `Wal.open(path, { durability })` builds it (Wal.open is FileStore.open followed by
 * Wal.withStore), with the store's flushes counted and timed.
 * Each writer does what the README shows: `wal.append(record); await wal.sync();`.
 * wal-db is imported here, not at the top, so the other systems' cells never load it.
 */
async function openWalDb(dir: string, durability: "shim" | "runtime"): Promise<Committer> {
  const { FileStore, Wal } = await import("../mod.ts");
  const { store, stats } = countingFileStore(FileStore, join(dir, "wal-db.log"), durability);
  const wal = Wal.withStore(store);
  console.error(`  wal-db durability: ${wal.durability}`);
  return {
    commit(record) {
      wal.append(record);
      return wal.sync();
    },
    flushes: stats,
    close: () => wal.close(),
  };
}

/** What people write by hand: write, then syncDataSync, one commit after another. */
function openHandwritten(dir: string): Committer {
  const file = Deno.openSync(join(dir, "hand.log"), { write: true, create: true, append: true });
  const flushes: FlushStats = { count: 0, seconds: 0 };
  const commitNow = (record: Uint8Array): void => {
    let written = 0;
    while (written < record.length) written += file.writeSync(record.subarray(written));
    const start = performance.now();
    file.syncDataSync();
    flushes.count++;
    flushes.seconds += (performance.now() - start) / MS_PER_S;
  };
  return {
    // The work runs in a microtask, so the W writers take turns, each commit a blocking one.
    commit: (record) => Promise.resolve(record).then(commitNow),
    flushes,
    close: () => file.close(),
  };
}

/**
 * The least a group commit in Deno can do: each commit is one `writeSync` of the bare record (no
 * framing, checksum or argument checks) and a wait on a shared `syncData` that starts once the
 * writers of the current turn have written; one flush at a time. wal-db's own cost is its gap to
 * this system; the runtime's cost is this system's gap to the C loop.
 */
function openMinimalGroupCommit(dir: string): Committer {
  const file = Deno.openSync(join(dir, "minimal.log"), { write: true, create: true, append: true });
  const flushes: FlushStats = { count: 0, seconds: 0 };
  let next: PromiseWithResolvers<void> | undefined;
  let flushing = false;
  const start = (): void => {
    const batch = next;
    if (flushing || batch === undefined) return;
    next = undefined;
    flushing = true;
    const began = performance.now();
    file.syncData().then(() => {
      flushes.count++;
      flushes.seconds += (performance.now() - began) / MS_PER_S;
      flushing = false;
      batch.resolve();
      if (next !== undefined) queueMicrotask(start);
    }, batch.reject);
  };
  return {
    commit(record) {
      let written = 0;
      while (written < record.length) written += file.writeSync(record.subarray(written));
      if (next === undefined) {
        next = Promise.withResolvers<void>();
        if (!flushing) queueMicrotask(start);
      }
      return next.promise;
    },
    flushes,
    close: () => file.close(),
  };
}

/** node:sqlite, durable per commit: WAL journal, synchronous=FULL, one INSERT per commit. */
function openSqlite(dir: string): Committer {
  const db = new DatabaseSync(join(dir, "sqlite.db"));
  db.exec("PRAGMA journal_mode=WAL");
  db.exec("PRAGMA synchronous=FULL");
  db.exec("CREATE TABLE log (id INTEGER PRIMARY KEY, payload BLOB NOT NULL)");
  const insert = db.prepare("INSERT INTO log (payload) VALUES (?)");
  return {
    commit: (record) => Promise.resolve(record).then((payload) => void insert.run(payload)),
    flushes: undefined,
    close: () => db.close(),
  };
}

/** Deno KV on a local file: one `kv.set` per commit, durable when it resolves. */
async function openKv(dir: string): Promise<Committer> {
  // Typed loosely: the API exists only under --unstable-kv, which the parent passes.
  const open = (Deno as { openKv?: (path: string) => Promise<Deno.Kv> }).openKv;
  if (open === undefined) throw new Error("Deno.openKv is missing: run with --unstable-kv");
  const kv = await open(join(dir, "kv.sqlite"));
  let sequence = 0;
  return {
    commit: (record) => kv.set(["log", sequence++], record).then(() => {}),
    flushes: undefined,
    close: () => kv.close(),
  };
}

async function openCommitter(system: SystemId, dir: string): Promise<Committer> {
  switch (system) {
    case "waldb-shim":
      return await openWalDb(dir, "shim");
    case "waldb-runtime":
      return await openWalDb(dir, "runtime");
    case "handwritten":
      return openHandwritten(dir);
    case "sqlite":
      return openSqlite(dir);
    case "kv":
      return await openKv(dir);
    case "minimal":
      return openMinimalGroupCommit(dir);
    case "c":
      throw new Error("the C loop runs as its own program, not as a cell of this script");
  }
}

/** What `drive` measured. */
interface DriveResult {
  measured: number;
  seconds: number;
  all: number;
  allSeconds: number;
}

/**
 * Runs `writers` closed-loop writers until the time or commit limit. A commit's latency runs
 * from the moment its writer is ready (its previous commit resolved) to its own resolution,
 * so in systems that serialize commits it includes the wait behind the other writers: what a
 * caller experiences. Latencies (ms) go into `latencies`.
 */
async function drive(
  committer: Committer,
  writers: number,
  latencies: Float64Array,
): Promise<DriveResult> {
  const record = new Uint8Array(RECORD_BYTES).fill(FILL_BYTE);
  const start = performance.now();
  const measureFrom = start + WARMUP_SECONDS * MS_PER_S;
  const stopAt = measureFrom + MEASURE_SECONDS * MS_PER_S;
  let measured = 0;
  let all = 0;
  let lastDone = measureFrom;
  const writer = async (): Promise<void> => {
    let ready = performance.now();
    for (;;) {
      await committer.commit(record);
      const done = performance.now();
      all++;
      if (done >= measureFrom && measured < latencies.length) {
        latencies[measured++] = done - ready;
        lastDone = done;
      }
      if (done >= stopAt || measured >= latencies.length) return;
      ready = done;
    }
  };
  await Promise.all(Array.from({ length: writers }, writer));
  return {
    measured,
    seconds: (lastDone - measureFrom) / MS_PER_S,
    all,
    allSeconds: (performance.now() - start) / MS_PER_S,
  };
}

/** The child's job: one cell, latencies (µs) to `latencyFile`, a report line to stdout. */
async function runCell(system: SystemId, writers: number, dir: string, latencyFile: string) {
  const committer = await openCommitter(system, dir);
  const latencies = new Float64Array(MAX_COMMITS_PER_CELL);
  let result: DriveResult;
  try {
    result = await drive(committer, writers, latencies);
  } finally {
    committer.close();
  }
  const microseconds = latencies.subarray(0, result.measured).map((ms) => ms * US_PER_MS);
  await Deno.writeFile(latencyFile, new Uint8Array(microseconds.buffer));
  const report: CellReport = {
    commits: result.measured,
    seconds: result.seconds,
    allCommits: result.all,
    allSeconds: result.allSeconds,
    flushes: committer.flushes?.count,
    flushSeconds: committer.flushes?.seconds,
  };
  console.log(JSON.stringify(report));
}

// ---------------------------------------------------------------------------------------------
// Parent side: the sweep.

/** One round of one cell. */
interface RoundResult extends CellReport {
  /** Which round (0-based): ratios pair rounds with the same number. */
  round: number;
  p50Us: number;
  p99Us: number;
}

/** Everything measured for one (system, W). */
interface Cell {
  system: SystemId;
  writers: number;
  rounds: RoundResult[];
  /** Latencies in µs, one array per round, pooled for the summary. */
  latenciesUs: Float64Array[];
  /** Why rounds failed; a cell with no successful round is reported as failed. */
  errors: string[];
}

/** A cell's summary, as written to compare.json and the tables. */
interface CellSummary {
  system: SystemId;
  label: string;
  writers: number;
  /** Pooled over rounds: all measured commits over all measured seconds. */
  commitsPerSecond: number;
  p50Us: number;
  p99Us: number;
  /** Commits per flush (wal-db, hand-written, C), undefined where flushes are unseen. */
  recordsPerFlush: number | undefined;
  /** The share of the run spent waiting for flushes (undefined where unseen). */
  flushShare: number | undefined;
  /** The mean time of one flush in µs, from the call to its completion being seen. */
  flushUs: number | undefined;
  rounds: RoundResult[];
  errors: string[];
}

function labelOf(system: SystemId): string {
  return SYSTEMS.find((entry) => entry.id === system)!.label;
}

function asFloat64(bytes: Uint8Array): Float64Array {
  return new Float64Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / FLOAT64_BYTES);
}

/** Runs one (system, W) for one round in a child process; returns its report and latencies. */
async function measureOnce(system: SystemId, writers: number, root: string, commitBin: string) {
  const dir = await Deno.makeTempDir({ dir: root, prefix: `${system}-${writers}-` });
  const latencyFile = join(dir, "latencies.f64");
  try {
    const report = system === "c"
      ? await runC(commitBin, writers, dir, latencyFile)
      : await runChild(system, writers, dir, latencyFile);
    return { report, latencies: asFloat64(await Deno.readFile(latencyFile)) };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function runC(
  commitBin: string,
  writers: number,
  dir: string,
  latencyFile: string,
): Promise<CellReport> {
  const output = await runJson(commitBin, [
    join(dir, "c.log"),
    String(writers),
    String(MAX_COMMITS_PER_CELL),
    String(MEASURE_SECONDS),
    String(RECORD_BYTES),
    latencyFile,
  ]);
  const commits = numberField(output, "commits");
  const seconds = numberField(output, "seconds");
  return {
    commits,
    seconds,
    allCommits: commits,
    allSeconds: seconds,
    flushes: numberField(output, "flushes"),
    flushSeconds: numberField(output, "flush_seconds"),
  };
}

async function runChild(
  system: SystemId,
  writers: number,
  dir: string,
  latencyFile: string,
): Promise<CellReport> {
  const args = ["run", "-A", ...(system === "kv" ? ["--unstable-kv"] : []), SELF];
  args.push("--cell", system, "--writers", String(writers), "--dir", dir, "--out", latencyFile);
  const timeout = AbortSignal.timeout(CELL_TIMEOUT_MS);
  const output = await new Deno.Command(Deno.execPath(), {
    args,
    env: { NO_COLOR: "1" }, // plain error text for the report
    stdout: "piped",
    stderr: "piped",
    signal: timeout,
  }).output();
  const stdout = new TextDecoder().decode(output.stdout).trim();
  const stderr = new TextDecoder().decode(output.stderr).trim();
  if (!output.success) {
    const why = timeout.aborted ? `timed out after ${CELL_TIMEOUT_MS} ms` : `exit ${output.code}`;
    throw new Error(`${why}: ${errorLine(stderr)}`);
  }
  if (stderr !== "") console.error(stderr);
  return JSON.parse(stdout.slice(stdout.lastIndexOf("\n") + 1)) as CellReport;
}

/** The line of a child's stderr that says what went wrong (Deno starts it with "error:"). */
function errorLine(stderr: string): string {
  const lines = stderr.split("\n");
  return (lines.find((line) => line.startsWith("error:")) ?? lines.at(-1) ?? "").trim();
}

async function measureInto(
  cell: Cell,
  round: number,
  root: string,
  commitBin: string,
): Promise<void> {
  try {
    const { report, latencies } = await measureOnce(cell.system, cell.writers, root, commitBin);
    const sorted = latencies.toSorted();
    const [p50Us, p99Us] = [percentile(sorted, P50), percentile(sorted, P99)];
    cell.rounds.push({ ...report, round, p50Us, p99Us });
    cell.latenciesUs.push(latencies);
    console.error(
      `  W=${cell.writers} ${labelOf(cell.system)}: ` +
        `${formatNumber(report.commits / report.seconds)} commits/s, ` +
        `p50 ${formatNumber(percentile(sorted, P50))} µs`,
    );
  } catch (error) {
    cell.errors.push(`round ${round + 1}: ${messageOf(error)}`);
    console.error(`  W=${cell.writers} ${labelOf(cell.system)}: FAILED ${messageOf(error)}`);
  }
}

function concat(arrays: Float64Array[]): Float64Array {
  const all = new Float64Array(arrays.reduce((sum, array) => sum + array.length, 0));
  let offset = 0;
  for (const array of arrays) {
    all.set(array, offset);
    offset += array.length;
  }
  return all;
}

function sum(values: number[]): number {
  return values.reduce((total, value) => total + value, 0);
}

/** The sum of an observable per-round figure, or undefined if a round could not see it. */
function sumOptional(values: (number | undefined)[]): number | undefined {
  return values.some((value) => value === undefined) ? undefined : sum(values as number[]);
}

function summarize(cell: Cell): CellSummary {
  const ok = cell.rounds.length > 0;
  const sorted = concat(cell.latenciesUs).sort();
  const flushes = sumOptional(cell.rounds.map((round) => round.flushes));
  const flushSeconds = sumOptional(cell.rounds.map((round) => round.flushSeconds));
  const allCommits = sum(cell.rounds.map((round) => round.allCommits));
  const allSeconds = sum(cell.rounds.map((round) => round.allSeconds));
  return {
    system: cell.system,
    label: labelOf(cell.system),
    writers: cell.writers,
    commitsPerSecond: ok
      ? sum(cell.rounds.map((round) => round.commits)) /
        sum(cell.rounds.map((round) => round.seconds))
      : Number.NaN,
    p50Us: ok ? percentile(sorted, P50) : Number.NaN,
    p99Us: ok ? percentile(sorted, P99) : Number.NaN,
    recordsPerFlush: ok && flushes ? allCommits / flushes : undefined,
    flushShare: ok && flushSeconds !== undefined ? flushSeconds / allSeconds : undefined,
    flushUs: ok && flushes && flushSeconds !== undefined
      ? flushSeconds / flushes * US_PER_S
      : undefined,
    rounds: cell.rounds,
    errors: cell.errors,
  };
}

async function sweep(root: string, commitBin: string): Promise<CellSummary[]> {
  const cells = new Map<string, Cell>();
  for (const writers of WRITER_COUNTS) {
    for (const { id } of SYSTEMS) {
      cells.set(`${id}@${writers}`, {
        system: id,
        writers,
        rounds: [],
        latenciesUs: [],
        errors: [],
      });
    }
  }
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? SYSTEMS : SYSTEMS.toReversed();
    for (const writers of WRITER_COUNTS) {
      console.error(`round ${round + 1}/${ROUNDS}, ${writers} writer(s)`);
      for (const { id } of order) {
        await measureInto(cells.get(`${id}@${writers}`)!, round, root, commitBin);
      }
    }
  }
  return [...cells.values()].map(summarize);
}

// ---------------------------------------------------------------------------------------------
// Reporting.

function find(results: CellSummary[], system: SystemId, writers: number): CellSummary {
  return results.find((cell) => cell.system === system && cell.writers === writers)!;
}

/**
 * The median over rounds of `mine / theirs`, each ratio taken within one round: the two cells
 * ran a few seconds apart, so the slow phases of a shared machine cancel out of each ratio.
 */
function pairedRatio(mine: CellSummary, theirs: CellSummary, pick: (round: RoundResult) => number) {
  const ratios: number[] = [];
  for (const round of mine.rounds) {
    const partner = theirs.rounds.find((other) => other.round === round.round);
    if (partner !== undefined) ratios.push(pick(round) / pick(partner));
  }
  return ratios.length === 0 ? Number.NaN : median(ratios);
}

const rateOf = (round: RoundResult): number => round.commits / round.seconds;
const p50Of = (round: RoundResult): number => round.p50Us;

function formatShare(share: number | undefined): string {
  return share === undefined ? "—" : `${Math.round(share * PERCENT)}%`;
}

function renderResults(results: CellSummary[]): string {
  const lines = [
    "| writers | system | durable commits/s | p50 latency (µs) | p99 latency (µs) | " +
    "records per flush | time in flush | mean flush (µs) |",
    "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
  ];
  for (const writers of WRITER_COUNTS) {
    for (const { id } of SYSTEMS) {
      const cell = find(results, id, writers);
      const perFlush = cell.recordsPerFlush === undefined
        ? "—"
        : formatNumber(cell.recordsPerFlush, 1);
      const rate = cell.rounds.length > 0 ? formatNumber(cell.commitsPerSecond) : "failed";
      lines.push(
        `| ${writers} | ${cell.label} | ${rate} | ${formatNumber(cell.p50Us)} | ` +
          `${formatNumber(cell.p99Us)} | ${perFlush} | ${formatShare(cell.flushShare)} | ` +
          `${cell.flushUs === undefined ? "—" : formatNumber(cell.flushUs)} |`,
      );
    }
  }
  return lines.join("\n");
}

function renderRatios(results: CellSummary[]): string {
  const header = OTHER_SYSTEMS.map((other) => `÷ ${labelOf(other)}`).join(" | ");
  const lines = [
    `| writers | wal-db flush | ${header} |`,
    `| ---: | --- |${" ---: |".repeat(OTHER_SYSTEMS.length)}`,
  ];
  for (const writers of WRITER_COUNTS) {
    for (const mine of WAL_DB_SYSTEMS) {
      const ratios = OTHER_SYSTEMS.map((other) =>
        formatRatio(
          pairedRatio(find(results, mine, writers), find(results, other, writers), rateOf),
        )
      );
      lines.push(`| ${writers} | ${labelOf(mine)} | ${ratios.join(" | ")} |`);
    }
  }
  return lines.join("\n");
}

interface GoalCheck {
  goal: string;
  system: SystemId;
  measured: number;
  met: boolean;
}

function throughputGoal(results: CellSummary[], mine: SystemId, other: SystemId): GoalCheck {
  const minimum = other === "c" ? GOAL_THROUGHPUT_VS_C : GOAL_THROUGHPUT_VS_SERIAL;
  const ratio = pairedRatio(
    find(results, mine, GOAL_WRITERS),
    find(results, other, GOAL_WRITERS),
    rateOf,
  );
  return {
    goal: `W=${GOAL_WRITERS}: commits/s ≥ ${minimum}× ${labelOf(other)}`,
    system: mine,
    measured: ratio,
    met: ratio >= minimum,
  };
}

function checkGoals(results: CellSummary[]): GoalCheck[] {
  return WAL_DB_SYSTEMS.flatMap((mine) => {
    const latency = pairedRatio(
      find(results, mine, GOAL_LATENCY_WRITERS),
      find(results, "c", GOAL_LATENCY_WRITERS),
      p50Of,
    );
    return [
      ...(["sqlite", "kv", "handwritten", "c"] as const).map((other) =>
        throughputGoal(results, mine, other)
      ),
      {
        goal: `W=${GOAL_LATENCY_WRITERS}: p50 commit latency ≤ ${GOAL_LATENCY_VS_C}× ` +
          labelOf("c"),
        system: mine,
        measured: latency,
        met: latency <= GOAL_LATENCY_VS_C,
      },
    ];
  });
}

function renderGoals(checks: GoalCheck[]): string {
  const lines = ["| goal | wal-db flush | measured | met |", "| --- | --- | ---: | :---: |"];
  for (const check of checks) {
    const met = Number.isFinite(check.measured) ? (check.met ? "yes" : "**no**") : "n/a";
    lines.push(
      `| ${check.goal} | ${labelOf(check.system)} | ${formatRatio(check.measured)} | ${met} |`,
    );
  }
  return lines.join("\n");
}

/** The largest round-to-round difference in commits/s of one cell, relative to its slowest. */
function worstSpread(results: CellSummary[]): number {
  let worst = 0;
  for (const cell of results) {
    const rates = cell.rounds.map(rateOf);
    if (rates.length < 2) continue;
    worst = Math.max(worst, Math.max(...rates) / Math.min(...rates) - 1);
  }
  return worst;
}

function renderSection(
  machine: MachineInfo,
  results: CellSummary[],
  goals: GoalCheck[],
): string {
  const failures = results.flatMap((cell) =>
    cell.errors.map((error) => `- ${cell.label} at W=${cell.writers} failed in ${error}`)
  );
  return [
    "Written by `deno task bench:compare` (bench/compare.ts); do not edit by hand.",
    "",
    renderMachine(machine),
    "",
    methodText(),
    "",
    "![Durable commits per second against concurrent writers](bench_compare.svg)",
    "",
    renderResults(results),
    "",
    "wal-db's commits/s divided by each other system's at the same number of writers (median " +
    "over rounds of the ratio within each round):",
    "",
    renderRatios(results),
    "",
    `Goals (checked, not asserted; same paired ratios):`,
    "",
    renderGoals(goals),
    "",
    "The largest round-to-round difference of one cell's commits/s in this run was " +
    `${Math.round(worstSpread(results) * PERCENT)}%: the disk is shared with other work.`,
    ...(failures.length === 0 ? [] : ["", ...failures]),
  ].join("\n");
}

function methodText(): string {
  return [
    `Method: for W = ${WRITER_COUNTS.join(", ")} concurrent writers, each writer loops`,
    `"append one ${RECORD_BYTES} B record, wait until it is durable". Every (system, W) cell runs`,
    `in a fresh process: ${WARMUP_SECONDS} s of warm-up, then ${MEASURE_SECONDS} s (or`,
    `${formatNumber(MAX_COMMITS_PER_CELL)} commits). The systems take turns per W, and the whole`,
    `sweep runs ${ROUNDS} times, alternating the order of the systems. The table pools all`,
    "rounds; ratios are taken within each round (neighbours in time) and the median is shown.",
    "A commit's latency runs from the moment its writer is ready (its previous commit done) to",
    "its durability, so for systems that serialize commits it includes the wait behind the other",
    "writers: what a caller sees. Systems: wal-db `append` + `await sync()` (group commit), with",
    "the native shim's nonblocking fdatasync or with `FsFile.syncData` (the store's flushes",
    "counted and timed); a hand-written `FsFile.writeSync` + `syncDataSync`",
    "per commit (the writers take turns); `node:sqlite` `DatabaseSync` with `journal_mode=WAL`,",
    `\`synchronous=FULL\` and one INSERT of a ${RECORD_BYTES} B blob per commit; Deno KV`,
    "(`Deno.openKv` on a local file, `--unstable-kv`) with one `await kv.set` per commit; a",
    "minimal Deno group commit (one bare `writeSync` per record, one shared `syncData` per turn of",
    "the writers, no framing, checksum or checks: the floor for Deno code that writes each record",
    "when it is appended); and a C",
    "loop (bench/c/commit.c) that writes W records and issues one fdatasync per round, the",
    'disk\'s limit for that batch size. "Time in flush" is the share of the run spent waiting',
    'for flushes, and "mean flush" the time from asking for one flush to seeing it done (for',
    "wal-db this includes the hop to and from the thread that runs it); the rest is the cost of",
    "appending and of waking the writers. SQLite and Deno KV flush inside their own code (one",
    "fsync per commit), out of this harness's sight.",
  ].join("\n");
}

// ---------------------------------------------------------------------------------------------
// The chart: hand-written SVG, log-log, one line per system.

const CHART = { width: 820, height: 480, left: 90, right: 230, top: 50, bottom: 70, inset: 16 };
const COLORS: Record<SystemId, string> = {
  "waldb-shim": "#d62728",
  "waldb-runtime": "#ff7f0e",
  handwritten: "#1f77b4",
  sqlite: "#2ca02c",
  kv: "#9467bd",
  minimal: "#8c564b",
  c: "#555555",
};
const LEGEND_ROW_HEIGHT = 22;
const DECADE = 10;

/** Where a value lands on a log axis of `length` pixels spanning [low, high]. */
function logScale(value: number, low: number, high: number, length: number): number {
  return (Math.log(value) - Math.log(low)) / (Math.log(high) - Math.log(low)) * length;
}

function shortNumber(value: number): string {
  if (value >= 1e6) return `${value / 1e6}M`;
  if (value >= 1e3) return `${value / 1e3}k`;
  return String(value);
}

function escapeXml(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");
}

function renderChart(results: CellSummary[]): string {
  const plotted = results.filter((cell) => Number.isFinite(cell.commitsPerSecond));
  const rates = plotted.map((cell) => cell.commitsPerSecond);
  // Whole decades around the data; one decade (10 to 100) if every cell failed.
  const yLow = DECADE ** Math.floor(Math.log10(rates.length > 0 ? Math.min(...rates) : DECADE));
  const yHigh = Math.max(
    DECADE * yLow,
    DECADE ** Math.ceil(Math.log10(rates.length > 0 ? Math.max(...rates) : DECADE)),
  );
  const xLow = WRITER_COUNTS[0];
  const xHigh = WRITER_COUNTS[WRITER_COUNTS.length - 1]!;
  const plotWidth = CHART.width - CHART.left - CHART.right;
  const plotHeight = CHART.height - CHART.top - CHART.bottom;
  const x = (writers: number) =>
    CHART.left + CHART.inset + logScale(writers, xLow, xHigh, plotWidth - 2 * CHART.inset);
  const y = (rate: number) => CHART.top + plotHeight - logScale(rate, yLow, yHigh, plotHeight);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${CHART.width}" height="${CHART.height}" ` +
    `viewBox="0 0 ${CHART.width} ${CHART.height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${CHART.left}" y="${CHART.top - 20}" font-size="15" font-weight="bold">` +
    `Durable commits per second (${RECORD_BYTES} B records)</text>`,
  ];
  for (let tick = yLow; tick <= yHigh; tick *= DECADE) {
    const at = y(tick).toFixed(1);
    out.push(
      `<line x1="${CHART.left}" x2="${CHART.left + plotWidth}" y1="${at}" y2="${at}" ` +
        `stroke="#ddd"/>`,
      `<text x="${CHART.left - 8}" y="${at}" text-anchor="end" dominant-baseline="middle">` +
        `${shortNumber(tick)}</text>`,
    );
  }
  for (const writers of WRITER_COUNTS) {
    const at = x(writers).toFixed(1);
    out.push(
      `<line x1="${at}" x2="${at}" y1="${CHART.top}" y2="${
        CHART.top + plotHeight
      }" stroke="#eee"/>`,
      `<text x="${at}" y="${CHART.top + plotHeight + 18}" text-anchor="middle">${writers}</text>`,
    );
  }
  out.push(
    `<rect x="${CHART.left}" y="${CHART.top}" width="${plotWidth}" height="${plotHeight}" ` +
      `fill="none" stroke="#333"/>`,
    `<text x="${CHART.left + plotWidth / 2}" y="${CHART.height - 20}" text-anchor="middle">` +
      `concurrent writers (log scale)</text>`,
    `<text transform="translate(22 ${CHART.top + plotHeight / 2}) rotate(-90)" ` +
      `text-anchor="middle">durable commits/s (log scale)</text>`,
  );
  SYSTEMS.forEach(({ id, label }, index) => {
    const points = plotted.filter((cell) => cell.system === id)
      .map((cell) => `${x(cell.writers).toFixed(1)},${y(cell.commitsPerSecond).toFixed(1)}`);
    const color = COLORS[id];
    // The C loop is a reference line (the disk's limit), not a competitor: draw it dashed.
    const dash = id === "c" ? ` stroke-dasharray="6 4"` : "";
    if (points.length > 1) {
      out.push(
        `<polyline points="${points.join(" ")}" fill="none" stroke="${color}" stroke-width="2"` +
          `${dash}/>`,
      );
    }
    for (const point of points) {
      const [cx, cy] = point.split(",");
      out.push(`<circle cx="${cx}" cy="${cy}" r="3.5" fill="${color}"/>`);
    }
    const legendX = CHART.left + plotWidth + 20;
    const legendY = CHART.top + 10 + index * LEGEND_ROW_HEIGHT;
    out.push(
      `<line x1="${legendX}" x2="${legendX + 24}" y1="${legendY}" y2="${legendY}" ` +
        `stroke="${color}" stroke-width="2"${dash}/>`,
      `<text x="${legendX + 30}" y="${legendY}" dominant-baseline="middle">` +
        `${escapeXml(label)}</text>`,
    );
  });
  out.push("</svg>");
  return out.join("\n") + "\n";
}

async function printAndSave(
  machine: MachineInfo,
  results: CellSummary[],
  goals: GoalCheck[],
): Promise<void> {
  console.log(`\n${renderMachine(machine)}\n\n${renderResults(results)}\n`);
  console.log(`${renderRatios(results)}\n\n${renderGoals(goals)}\n`);
  await Deno.mkdir(OUT_DIR, { recursive: true });
  const raw = { machine, method: methodText(), results, goals };
  // NaN (a failed cell) becomes null in JSON.
  await Deno.writeTextFile(JSON_PATH, JSON.stringify(raw, null, 2) + "\n");
  await Deno.writeTextFile(SVG_PATH, renderChart(results));
  rewriteSection(BENCHMARKS_DOC, "compare", renderSection(machine, results, goals));
  await formatFile(BENCHMARKS_DOC);
  console.log(`Wrote ${JSON_PATH}, ${SVG_PATH} and the comparison section of ${BENCHMARKS_DOC}`);
}

async function main(): Promise<void> {
  // -pthread: commit.c's flush-thread variant (glibc before 2.34 keeps threads in libpthread).
  const commitBin = await compileC("commit", ["-pthread"]);
  const root = await Deno.makeTempDir({ prefix: "wal-db-compare-" });
  try {
    const machine = machineInfo(root);
    const results = await sweep(root, commitBin);
    await printAndSave(machine, results, checkGoals(results));
    const gathered = await gatherGoals(GOAL_MODULES, (line) => console.error(line));
    const goals = renderGoalRows(gathered);
    console.log(`\n${goals}\n`);
    rewriteSection(
      BENCHMARKS_DOC,
      "compare-goals",
      [
        "Written by `deno task bench:compare` (bench/compare.ts) from `deno run -A " +
        "bench/commit_bench.ts --json`, run right after the sweep above: issue 12 goal 4 against " +
        "both C anchors (one `write` per record, and one `write` per batch).",
        "",
        renderMachine(machine),
        "",
        goals,
      ].join("\n"),
    );
    await formatFile(BENCHMARKS_DOC);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

/** `--cell SYSTEM --writers W --dir DIR --out FILE`, or undefined when run as the parent. */
function parseCellArgs(args: string[]) {
  const value = (flag: string): string | undefined => {
    const index = args.indexOf(flag);
    return index === -1 ? undefined : args[index + 1];
  };
  const system = value("--cell");
  if (system === undefined) return undefined;
  const writers = Number(value("--writers"));
  const dir = value("--dir");
  const out = value("--out");
  if (!SYSTEMS.some((entry) => entry.id === system) || !(writers > 0) || !dir || !out) {
    throw new Error("usage: compare.ts --cell SYSTEM --writers W --dir DIR --out FILE");
  }
  return { system: system as SystemId, writers, dir, out };
}

if (import.meta.main) {
  const cell = parseCellArgs(Deno.args);
  if (cell === undefined) await main();
  else await runCell(cell.system, cell.writers, cell.dir, cell.out);
}
