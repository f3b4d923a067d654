// Copyright 2026 the wal-db authors. MIT license.
// `deno task test:lazyfs`: power loss on a real file system. Mounts LazyFS (a FUSE file system
// with its own page cache that keeps written data only once it is fsynced) over a fresh
// directory, runs tools/lazyfs_workload.ts on the mount, and at a random moment kills the
// workload and then drops LazyFS's unsynced data (in that order: a process still running after
// the drop could fsync over a hole, which no power cut produces), or lets a fault LazyFS was
// armed with (a torn write, torn write sequence or crash) cut the power. It unmounts, checks a
// copy of the disk with the library (tools/_lazyfs_model.ts says what is checked), and has the
// next cycle's workload recover the same disk and crash again.
//
//   deno task test:lazyfs [--rounds N] [--cycles C] [--control-rounds K] [--variants a,b]
//                         [--seed S] [--round R] [--allow-damage-files] [--keep]
//                         [--lazyfs BINARY] [--out DIR]
//
// Needs root and /dev/fuse; without them it prints "LazyFS suite skipped: <reason>" and exits 0.
// One mount at a time. A failing round keeps its directory and prints where and how to rerun it.
// LAZYFS_TIMING=1 prints how long each step of a cycle took.

import { join } from "node:path";
import { Wal, type WalConfig } from "../mod.ts";
import { HEADER_SIZE } from "../src/constants.ts";
import { Rng, seedFrom } from "../tests/_rng.ts";
import { buildLazyFs } from "./_lazyfs_build.ts";
import {
  byteLocation,
  type CheckResult,
  CRASH_TARGETS,
  crashCommand,
  type CrashTarget,
  DAMAGED_MARK,
  damagedLsn,
  firstWriteRefused,
  hasZeroSector,
  History,
  isControl,
  type Layout,
  type Listing,
  onlyTornFaultDamage,
  parseRecordPayload,
  parseSuiteArgs,
  parseWorkloadOutput,
  SEGMENT_DIR_NAME,
  SINGLE_LOG_NAME,
  type SuiteOptions,
  tornOpCommand,
  tornSeqCommand,
  type Variant,
  VARIANTS,
} from "./_lazyfs_model.ts";
import { cleanUpEverything, LazyFsMount, POLL_MS, sleep, Workload } from "./_lazyfs_proc.ts";

const ROOT = join(new URL(".", import.meta.url).pathname, "..");
const BUILD_DIR = join(ROOT, ".tools", "lazyfs");
const VENDOR_DEFAULT = join(ROOT, "..", "shared", "vendor");

/** Most cycles run until the workload has acknowledged a random number of records up to this. */
const ACKS_BEFORE_KILL_MAX = 400;
/** The negative controls wait for at least this many, so that there is something to lose. */
const CONTROL_ACKS_MIN = 20;
/** …but no longer than this. */
const ACK_WAIT_MS_MAX = 4_000;
/**
 * A control cycle with fewer than CONTROL_ACKS_MIN acknowledgements by then (a slow open on a
 * busy machine) waits for them up to this long: a cycle that acknowledged nothing cannot show
 * that the checks see loss.
 */
const CONTROL_ACK_WAIT_MS_MAX = 30_000;
/** Then a random further delay up to this. */
const KILL_JITTER_MS_MAX = 200;
/** A fault variant run for at least this many cycles must see its fault fire in half of them. */
const FAULT_CHECK_CYCLES_MIN = 10;
/** Some cycles are cut on a timer instead, maybe while the workload is still recovering. */
const EARLY_KILL_PERCENT = 15;
const EARLY_KILL_MS_MAX = 800;
/**
 * Some plain power cuts wait for the workload to announce a suffix cut (`T` with no `R` yet),
 * or that one returned (`R`: a cut whose durability was only claimed resurrects its tail then,
 * before the next sync flushes the file anyway), and fall right then, so that neither is left
 * to chance; up to this long.
 */
const KILL_IN_CUT_PERCENT = 30;
const KILL_IN_CUT_WAIT_MS_MAX = 4_000;
/** How long an armed fault has to fire before the cycle falls back to a plain cache drop. */
const FAULT_WAIT_MS = 3_000;
const SEGMENT_SIZES = [16_384, 65_536, 262_144];
const WRITERS_MAX = 8;
const FFI_PERCENT = 50;
const SEGMENTED_PERCENT_CRASH = 70;
const TORN_OP_PARTS = [2, 3, 4, 8];
const TORN_SEQ_PERSIST = [[1], [2], [3], [1, 3], [2, 3], [2, 4], [1, 2, 4]];

// ---------------------------------------------------------------------------------------------
// Verification

function copyTree(from: string, to: string): void {
  Deno.mkdirSync(to, { recursive: true });
  for (const entry of Deno.readDirSync(from)) {
    if (entry.isDirectory) copyTree(join(from, entry.name), join(to, entry.name));
    else if (entry.isFile) Deno.copyFileSync(join(from, entry.name), join(to, entry.name));
  }
}

function damagedFiles(dir: string): string[] {
  const found: string[] = [];
  for (const entry of Deno.readDirSync(dir)) {
    if (entry.isDirectory) found.push(...damagedFiles(join(dir, entry.name)));
    else if (entry.name.includes(DAMAGED_MARK)) found.push(join(dir, entry.name));
  }
  return found;
}

function openLog(dir: string, layout: Layout, segmentSize: number, config: WalConfig): Wal {
  const base = { durability: "runtime", ...config } as const;
  return layout === "single"
    ? Wal.open(join(dir, SINGLE_LOG_NAME), base)
    : Wal.openSegmented(join(dir, SEGMENT_DIR_NAME), segmentSize, base);
}

function message(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/**
 * Opens a copy of `disk` as the next process would (default policy) and lists it, and opens
 * another copy with `"strict"`, which must not refuse a log that only lost power.
 */
function verify(disk: string, copy: string, layout: Layout, segmentSize: number): Listing {
  const listing: Listing = { head: 0, end: 0, records: [], damageFiles: [] };
  copyTree(disk, copy);
  copyTree(disk, `${copy}-strict`);
  const before = new Set(damagedFiles(copy));
  try {
    using wal = openLog(copy, layout, segmentSize, {});
    listing.head = wal.head;
    listing.end = wal.nextLsn;
    const damage = wal.recovery.damage;
    if (damage?.tornTail === true && damage.setAsidePath?.includes("damaged-") === true) {
      listing.firstAppendSetAside = damage.setAsidePath.slice(copy.length + 1);
    }
    for (const entry of wal.iter()) {
      listing.records.push({
        lsn: entry.lsn,
        size: entry.data.length,
        id: parseRecordPayload(entry.data),
      });
    }
  } catch (error) {
    listing.openError = message(error);
  }
  listing.damageFiles = damagedFiles(copy).filter((f) => !before.has(f)).map((f) =>
    f.slice(copy.length + 1)
  );
  try {
    using _strict = openLog(`${copy}-strict`, layout, segmentSize, { recoveryPolicy: "strict" });
  } catch (error) {
    listing.strictError = message(error);
  }
  return listing;
}

/** Flips one byte of an acknowledged record still in the log, in a copy of `disk`. */
function flipAcknowledgedByte(
  disk: string,
  copy: string,
  layout: Layout,
  segmentSize: number,
  listing: Listing,
  acknowledged: ReadonlySet<number>,
  rng: Rng,
): string | undefined {
  const candidates = listing.records.filter((r) => acknowledged.has(r.lsn));
  if (candidates.length === 0) return undefined;
  const record = rng.pick(candidates);
  const lsn = record.lsn + rng.below(8 + record.size);
  const { file, offset } = byteLocation(layout, segmentSize, lsn);
  copyTree(disk, copy);
  const path = join(copy, file);
  const bytes = Deno.readFileSync(path);
  bytes[offset] = bytes[offset]! ^ (1 << rng.below(8));
  Deno.writeFileSync(path, bytes);
  return `flipped a bit of LSN ${lsn} (record at ${record.lsn}) in ${file} at ${offset}`;
}

// ---------------------------------------------------------------------------------------------
// Rounds

/** The figures of one variant, summed over its rounds. */
interface Figures {
  rounds: number;
  failedRounds: number;
  cycles: number;
  faultsFired: number;
  firedBy: Record<string, number>;
  acknowledged: number;
  acknowledgedChecked: number;
  lost: number;
  damageCycles: number;
  damageFiles: number;
  /** Set-aside ranges without a whole all-zero sector: holes that cover no whole sector. */
  damageSubSector: number;
  /** Cycles whose damage lay past every acknowledged record after a torn fault (not fatal). */
  tornFaultDamage: number;
  /** Torn first appends of a single file set aside (docs/RECOVERY.md): counted, not damage. */
  firstAppendsSetAside: number;
  /** First writes cut short and refused with nothing acknowledged (see firstWriteRefused). */
  firstWritesRefused: number;
  strictRefusals: number;
  /** Suffix cuts begun and returned, by API (`from`, `from-async`, `after`, `after-async`). */
  cutsBegun: number;
  cutsReturned: Record<string, number>;
  /** Power cuts that fell during a suffix cut, by what the log kept. */
  cutsInterrupted: { "old-tail": number; cut: number };
  controlsCaught: number;
  seconds: number;
}

function emptyFigures(): Figures {
  return {
    rounds: 0,
    failedRounds: 0,
    cycles: 0,
    faultsFired: 0,
    firedBy: {},
    acknowledged: 0,
    acknowledgedChecked: 0,
    lost: 0,
    damageCycles: 0,
    damageFiles: 0,
    damageSubSector: 0,
    tornFaultDamage: 0,
    firstAppendsSetAside: 0,
    firstWritesRefused: 0,
    strictRefusals: 0,
    cutsBegun: 0,
    cutsReturned: {},
    cutsInterrupted: { "old-tail": 0, cut: 0 },
    controlsCaught: 0,
    seconds: 0,
  };
}

interface Suite {
  options: SuiteOptions;
  binary: string;
  seed: number;
  base: string;
}

function roundSeed(seed: number, variant: Variant, round: number): number {
  return (seed * 1_000_003 + VARIANTS.indexOf(variant) * 10_007 + round) % 2 ** 48;
}

/** The fault a cycle arms at its kill moment; `undefined` for a plain cache drop. */
interface Fault {
  describe: string;
  /** Commands to send, given the path (under the disk) of the log file being written now. */
  commands(currentFile: string): { line: string; done: string[] }[];
}

function faultFor(variant: Variant, layout: Layout, rng: Rng): Fault | undefined {
  if (variant === "torn-op") {
    const parts = rng.pick(TORN_OP_PARTS);
    const persist = Array.from({ length: parts }, (_, i) => i + 1).filter(() => rng.chance(50));
    if (persist.length === 0) persist.push(rng.int(1, parts));
    return {
      describe: `torn-op parts=${parts} persist=${persist.join(",")}`,
      commands: (file) => [{
        line: tornOpCommand(file, parts, persist),
        done: ["configured successfully", "INVALID"],
      }],
    };
  }
  if (variant === "torn-seq") {
    const persist = rng.pick(TORN_SEQ_PERSIST);
    return {
      describe: `torn-seq persist=${persist.join(",")}`,
      commands: (file) => [{
        line: tornSeqCommand(file, persist),
        done: ["configured successfully", "INVALID"],
      }],
    };
  }
  if (variant === "crash") {
    const target: CrashTarget = rng.pick(CRASH_TARGETS.filter((t) => t.layouts.includes(layout)));
    const timing = rng.chance(50) ? "before" : "after";
    return {
      describe: `crash ${timing} ${target.name}`,
      commands: () => [{
        line: crashCommand(timing, target.op, target.pattern),
        done: ["VALID crash fault", "INVALID crash fault"],
      }],
    };
  }
  return undefined;
}

interface CycleReport {
  line: string;
  fatal: string[];
  /** For the negative controls: whether the checks caught what the control broke. */
  caught: boolean;
}

async function runRound(
  suite: Suite,
  variant: Variant,
  round: number,
  figures: Figures,
): Promise<boolean> {
  const seed = roundSeed(suite.seed, variant, round);
  const rng = new Rng(seed);
  // Most crash targets (the head file, segment creation and removal) exist only in segmented logs.
  const layout: Layout = rng.chance(variant === "crash" ? SEGMENTED_PERCENT_CRASH : 50)
    ? "segmented"
    : "single";
  const segmentSize = rng.pick(SEGMENT_SIZES);
  const writers = rng.int(1, WRITERS_MAX);
  const work = join(suite.base, "r");
  try {
    await Deno.remove(work, { recursive: true });
  } catch {
    // Not there: the last round passed and was removed.
  }
  const disk = join(work, "d");
  const mountPoint = join(work, "m");
  await Deno.mkdir(disk, { recursive: true });
  await Deno.mkdir(mountPoint, { recursive: true });
  const title = `${variant} round ${round} (seed ${seed}; ${layout}${
    layout === "segmented" ? ` ${segmentSize} B segments` : ""
  }, ${writers} writer${writers === 1 ? "" : "s"})`;
  const history = new History();
  const fatal: string[] = [];
  let caught = false;
  const lines: string[] = [];
  figures.rounds++;
  for (let cycle = 0; cycle < suite.options.cycles && fatal.length === 0; cycle++) {
    let report: CycleReport;
    try {
      report = await runCycle(suite, variant, { work, disk, mountPoint }, {
        cycle,
        layout,
        segmentSize,
        writers,
        rng,
        history,
        figures,
      });
    } catch (error) {
      report = {
        line: `cycle ${cycle}: ${message(error)}`,
        fatal: [message(error)],
        caught: false,
      };
    }
    lines.push(report.line);
    fatal.push(...report.fatal);
    caught ||= report.caught;
  }
  if (isControl(variant)) {
    if (caught) figures.controlsCaught++;
    else fatal.push(`negative control ${variant} was not caught: the checks passed a broken run`);
  }
  const failed = fatal.length > 0;
  if (failed) figures.failedRounds++;
  console.log(`${failed ? "FAIL" : "ok  "} ${title}`);
  for (const line of lines) console.log(`       ${line}`);
  if (failed || suite.options.keep) {
    const kept = join(suite.base, `${failed ? "failed" : "kept"}-${variant}-${round}`);
    await Deno.rename(work, kept);
    console.log(
      `       round directory kept at ${kept} (d/ is the disk as the last crash left it)`,
    );
    if (failed) {
      for (const problem of fatal.slice(0, 10)) console.log(`       problem: ${problem}`);
      console.log(
        `       rerun: deno task test:lazyfs --seed ${suite.seed} --variants ${variant} ` +
          `--round ${round} --cycles ${suite.options.cycles}`,
      );
    }
  } else {
    await Deno.remove(work, { recursive: true });
  }
  return !failed;
}

interface Paths {
  work: string;
  disk: string;
  mountPoint: string;
}

interface CycleState {
  cycle: number;
  layout: Layout;
  segmentSize: number;
  writers: number;
  rng: Rng;
  history: History;
  figures: Figures;
}

async function waitForKillMoment(
  workload: Workload,
  rng: Rng,
  control: boolean,
  plain: boolean,
): Promise<void> {
  if (plain && !control && rng.chance(KILL_IN_CUT_PERCENT)) {
    const started = Date.now();
    const returned = workload.cutsReturned;
    const moment = rng.chance(50) ? () => workload.cutting : () => workload.cutsReturned > returned;
    while (!moment() && !workload.exited && Date.now() - started < KILL_IN_CUT_WAIT_MS_MAX) {
      await sleep(1);
    }
    return;
  }
  if (!control && rng.chance(EARLY_KILL_PERCENT)) {
    await sleep(rng.int(0, EARLY_KILL_MS_MAX));
    return;
  }
  const target = rng.int(control ? CONTROL_ACKS_MIN : 1, ACKS_BEFORE_KILL_MAX);
  const started = Date.now();
  const waiting = () => {
    const waited = Date.now() - started;
    return waited < ACK_WAIT_MS_MAX ||
      (control && workload.acks < CONTROL_ACKS_MIN && waited < CONTROL_ACK_WAIT_MS_MAX);
  };
  while (workload.acks < target && !workload.exited && waiting()) await sleep(POLL_MS);
  await sleep(rng.int(0, KILL_JITTER_MS_MAX));
}

/** The log file (as LazyFS names it) the workload is writing, judging by its last acknowledgement. */
function currentFile(
  disk: string,
  layout: Layout,
  segmentSize: number,
  workload: Workload,
): string {
  return join(disk, byteLocation(layout, segmentSize, Math.max(0, workload.maxAckLsn)).file);
}

async function armAndWait(
  lazy: LazyFsMount,
  fault: Fault,
  state: CycleState,
  disk: string,
  workload: Workload,
): Promise<boolean> {
  const armed = new Set<string>();
  const deadline = Date.now() + FAULT_WAIT_MS;
  while (!lazy.dead && !workload.exited && Date.now() < deadline) {
    // A torn write names one file; a segmented log moves on to new segments, so arm the one
    // being written each time it changes.
    const file = currentFile(disk, state.layout, state.segmentSize, workload);
    if (!armed.has(file) && (armed.size === 0 || fault.describe.startsWith("torn"))) {
      armed.add(file);
      for (const { line, done } of fault.commands(file)) await lazy.command(line, done);
    }
    await sleep(POLL_MS);
  }
  return lazy.dead;
}

async function runCycle(
  suite: Suite,
  variant: Variant,
  paths: Paths,
  state: CycleState,
): Promise<CycleReport> {
  const { cycle, layout, segmentSize, rng, history, figures } = state;
  const control = isControl(variant);
  const ffi = rng.chance(FFI_PERCENT);
  const fault = faultFor(variant, layout, rng);
  const name = `cycle-${cycle}`;
  figures.cycles++;
  const t0 = performance.now();
  const lap = (what: string) => {
    if (Deno.env.get("LAZYFS_TIMING")) {
      console.log(`  ${what} ${(performance.now() - t0).toFixed(0)} ms`);
    }
  };
  const lazy = await LazyFsMount.start(
    suite.binary,
    paths.work,
    paths.disk,
    paths.mountPoint,
    name,
  );
  let workload: Workload | undefined;
  let fired = false;
  try {
    workload = new Workload([
      paths.mountPoint,
      layout,
      String(segmentSize),
      String(cycle),
      String(state.writers),
      String(rng.next()),
      variant === "control-early-ack" ? "early-ack" : "normal",
    ], ffi);
    lap("mounted, workload started");
    await waitForKillMoment(workload, rng, control, fault === undefined);
    lap(`kill moment (${workload.acks} acks)`);
    if (fault !== undefined) fired = await armAndWait(lazy, fault, state, paths.disk, workload);
    // The power cut: the workload first, then the cache (unless a fault already killed LazyFS).
    workload.kill();
    await workload.status;
    lap("workload killed");
    if (!lazy.dead) await lazy.clearCache();
    lap("cache cleared");
  } finally {
    workload?.kill();
    await lazy.stop();
    lap("unmounted");
  }
  const { stdout, stderr } = await workload.output();
  await Deno.writeTextFile(join(paths.work, `${name}.out`), stdout);
  await Deno.writeTextFile(join(paths.work, `${name}.err`), stderr);
  const events = parseWorkloadOutput(stdout);
  history.record(cycle, events);
  const acks = events.filter((e) => e.kind === "ack").length;
  figures.acknowledged += acks;
  let cutsBegun = 0;
  let cutsReturned = 0;
  let api = "";
  for (const event of events) {
    if (event.kind === "cut-begin") {
      cutsBegun++;
      figures.cutsBegun++;
      api = event.api;
      figures.cutsReturned[api] ??= 0;
    } else if (event.kind === "cut") {
      cutsReturned++;
      figures.cutsReturned[api] = (figures.cutsReturned[api] ?? 0) + 1;
    }
  }
  const fatal: string[] = [];
  const errors = events.filter((e) => e.kind === "error");
  if (errors.length > 0 && !fired) {
    fatal.push(
      `the workload stopped on its own: ${errors.map((e) => e.kind === "error" && e.text)}`,
    );
  }
  if (fired) {
    figures.faultsFired++;
    const key = fault!.describe.replace(/^crash (before|after) /, "").split(" ")[0]!;
    figures.firedBy[key] = (figures.firedBy[key] ?? 0) + 1;
  }

  const listing = verify(paths.disk, join(paths.work, `${name}.verify`), layout, segmentSize);
  if (firstWriteRefused(layout, listing, history.acknowledged)) {
    figures.firstWritesRefused++;
    await Deno.remove(join(paths.disk, SINGLE_LOG_NAME));
    history.restart();
    return {
      line: `cycle ${cycle}: ${fault?.describe ?? "power cut"}${fired ? " fired" : ""}; ` +
        `${acks} acks; a first write cut short, refused as not a log (nothing acknowledged): ` +
        `file removed`,
      fatal,
      caught: false,
    };
  }
  const result: CheckResult = history.check(cycle, listing);
  lap("verified");
  figures.acknowledgedChecked += result.acknowledgedChecked;
  figures.lost += result.lost;
  const shapes: string[] = [];
  if (listing.firstAppendSetAside !== undefined) figures.firstAppendsSetAside++;
  const damageFiles = listing.damageFiles.filter((f) => f !== listing.firstAppendSetAside);
  if (damageFiles.length > 0) {
    figures.damageCycles++;
    figures.damageFiles += damageFiles.length;
    for (const file of damageFiles) {
      const lsn = damagedLsn(file);
      const bytes = await Deno.readFile(join(paths.work, `${name}.verify`, file));
      const zero = lsn !== undefined && hasZeroSector(bytes, lsn);
      if (!zero) figures.damageSubSector++;
      shapes.push(
        `${file}: ${zero ? "holds an all-zero sector" : "no whole all-zero sector"}`,
      );
    }
  }
  if (listing.strictError !== undefined) figures.strictRefusals++;
  if (result.cutInProgress !== undefined) figures.cutsInterrupted[result.cutInProgress]++;

  let caught = false;
  let controlNote = "";
  if (variant === "control-early-ack") {
    // Every cycle that acknowledged a record must lose one of its own: they were never synced.
    caught = result.lostInCycle > 0;
    controlNote = `; control: ${result.lostInCycle} of this cycle's ${acks} early-acknowledged ` +
      `records lost`;
    if (acks > 0 && !caught) {
      fatal.push(`negative control control-early-ack was not caught in cycle ${cycle}`);
    }
  } else {
    fatal.push(...result.problems);
    const acknowledged = new Set(history.acknowledgedLsns());
    const acknowledgedEnd = listing.records.reduce(
      (end, r) => acknowledged.has(r.lsn) ? Math.max(end, r.lsn + HEADER_SIZE + r.size) : end,
      0,
    );
    const tornOnly = onlyTornFaultDamage(
      variant,
      fired,
      damageFiles.map(damagedLsn),
      acknowledgedEnd,
    );
    if (tornOnly) figures.tornFaultDamage++;
    if (!suite.options.allowDamageFiles && !tornOnly) fatal.push(...result.damage);
  }
  if (variant === "control-flip" && listing.openError === undefined) {
    const acknowledged = new Set(history.acknowledgedLsns());
    const flipped = join(paths.work, `${name}.flip`);
    const note = flipAcknowledgedByte(
      paths.disk,
      flipped,
      layout,
      segmentSize,
      listing,
      acknowledged,
      rng,
    );
    if (note !== undefined) {
      const flippedListing = verify(flipped, `${flipped}.verify`, layout, segmentSize);
      const flippedResult = history.check(cycle, flippedListing, false);
      caught = flippedResult.problems.length > 0 || flippedResult.damage.length > 0;
      controlNote = `; control: ${note}: ${
        caught
          ? `caught (${[...flippedResult.problems, ...flippedResult.damage][0]})`
          : "NOT caught"
      }`;
      // Every flip must be caught, not just one per round.
      if (!caught) fatal.push(`negative control control-flip was not caught: ${note}`);
    } else {
      controlNote = "; control: no acknowledged record to flip";
    }
  }
  const line =
    `cycle ${cycle}: ${ffi ? "ffi" : "no ffi"}, ${
      fault === undefined
        ? "clear-cache"
        : `${fault.describe} ${fired ? "fired" : "not fired: clear-cache"}`
    }; ${acks} acks, log ${listing.head}..${listing.end} (${listing.records.length} records), ` +
    `${result.acknowledgedChecked} acknowledged checked, ${result.lost} lost` +
    (cutsBegun > 0 ? `; ${cutsReturned} of ${cutsBegun} suffix cuts returned` : "") +
    (result.cutInProgress !== undefined
      ? `; power lost during a cut, the log kept ${
        result.cutInProgress === "cut" ? "the cut tail" : "the old tail"
      }`
      : "") +
    (result.damage.length > 0 ? `; DAMAGE: ${[...result.damage, ...shapes].join("; ")}` : "") +
    controlNote;
  return { line, fatal, caught };
}

// ---------------------------------------------------------------------------------------------
// Main

function skipReason(): string | undefined {
  if (Deno.build.os !== "linux") return `needs Linux (this is ${Deno.build.os})`;
  if (Deno.uid() !== 0) return "needs root (it mounts FUSE file systems)";
  try {
    Deno.statSync("/dev/fuse");
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return "/dev/fuse is missing";
    throw error;
  }
  return undefined;
}

/** The vendored LazyFS source and its build script (outside the repository, like CI's). */
function vendorDir(): string {
  return Deno.env.get("LAZYFS_VENDOR") ?? VENDOR_DEFAULT;
}

function missingVendor(): string | undefined {
  const script = join(vendorDir(), "build-lazyfs.sh");
  try {
    Deno.statSync(script);
    return undefined;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return `${script} not found (set LAZYFS_VENDOR)`;
    throw error;
  }
}

/**
 * A fresh directory with a short path: LazyFS fault commands name files under it and must fit
 * in its 100-byte FIFO reads (Deno.makeTempDir's names are too long for segment paths).
 */
function shortTempDir(): string {
  for (;;) {
    const name = `/tmp/lz${Math.floor(Math.random() * 36 ** 4).toString(36).padStart(4, "0")}`;
    try {
      Deno.mkdirSync(name);
      return name;
    } catch (error) {
      if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
    }
  }
}

function formatFigures(variant: Variant, f: Figures): string {
  const parts = [
    `${f.rounds} rounds, ${f.cycles} cycles`,
    `${f.acknowledged} acks, ${f.acknowledgedChecked} acknowledged checked, ${f.lost} lost`,
    `${f.damageCycles} cycles left ${f.damageFiles} damaged-* files (${f.damageSubSector} without ` +
    `an all-zero sector), "strict" refused ${f.strictRefusals}; torn first appends set aside ` +
    `${f.firstAppendsSetAside}, first writes refused ${f.firstWritesRefused}; damage past every acknowledged record after a torn fault ${f.tornFaultDamage}`,
  ];
  if (f.cutsBegun > 0) {
    parts.push(
      `${f.cutsBegun} suffix cuts begun, returned: ${
        Object.entries(f.cutsReturned).map(([k, v]) => `${k} ${v}`).join(", ")
      }; power lost during a cut ${
        f.cutsInterrupted["old-tail"] + f.cutsInterrupted.cut
      } times (old tail kept ${f.cutsInterrupted["old-tail"]}, cut tail ${f.cutsInterrupted.cut})`,
    );
  }
  if (variant === "torn-op" || variant === "torn-seq" || variant === "crash") {
    const by = Object.entries(f.firedBy).map(([k, v]) => `${k} ${v}`).join(", ");
    parts.push(`fault fired in ${f.faultsFired} cycles${variant === "crash" ? ` (${by})` : ""}`);
  }
  if (isControl(variant)) parts.push(`caught in ${f.controlsCaught} of ${f.rounds} rounds`);
  parts.push(`${f.failedRounds} failed, ${f.seconds.toFixed(0)} s`);
  return `  ${variant.padEnd(18)} ${parts.join("; ")}`;
}

async function main(): Promise<number> {
  let options: SuiteOptions;
  try {
    options = parseSuiteArgs(Deno.args);
  } catch (error) {
    console.error(`test:lazyfs: ${message(error)}`);
    return 2;
  }
  const reason = skipReason() ?? (options.lazyfs === undefined ? missingVendor() : undefined);
  if (reason !== undefined) {
    console.log(`LazyFS suite skipped: ${reason}`);
    return 0;
  }
  const binary = options.lazyfs ?? await buildLazyFs(vendorDir(), BUILD_DIR);
  const seed = seedFrom(options.seed === undefined ? undefined : String(options.seed));
  const base = options.out ?? shortTempDir();
  await Deno.mkdir(base, { recursive: true });
  const suite: Suite = { options, binary, seed, base };
  const onSignal = () => {
    cleanUpEverything().finally(() => Deno.exit(130));
  };
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);
  console.log(
    `LazyFS suite: seed ${seed}, ${options.rounds} rounds per variant (${options.controlRounds} ` +
      `per control), ${options.cycles} cycles per round, in ${base}` +
      (options.allowDamageFiles ? " (damaged-* files and strict refusals NOT fatal)" : ""),
  );
  const started = performance.now();
  const all = new Map<Variant, Figures>();
  let failedRounds = 0;
  let rounds = 0;
  try {
    for (const variant of options.variants) {
      const figures = emptyFigures();
      all.set(variant, figures);
      const variantStarted = performance.now();
      const count = isControl(variant) ? options.controlRounds : options.rounds;
      const chosen = options.round === undefined
        ? Array.from({ length: count }, (_, i) => i)
        : [options.round];
      for (const round of chosen) {
        rounds++;
        if (!(await runRound(suite, variant, round, figures))) failedRounds++;
      }
      figures.seconds = (performance.now() - variantStarted) / 1000;
    }
  } finally {
    await cleanUpEverything();
    Deno.removeSignalListener("SIGINT", onSignal);
    Deno.removeSignalListener("SIGTERM", onSignal);
  }
  // Each round removes its own directory unless it is kept; an interrupted one may be left.
  await Deno.remove(join(base, "r"), { recursive: true }).catch(() => {});
  if (options.out === undefined && failedRounds === 0 && !options.keep) {
    await Deno.remove(base).catch(() => {}); // Not empty: someone put something in it.
  } else {
    console.log(`LazyFS round directories kept in ${base}`);
  }
  console.log(`LazyFS figures (seed ${seed}):`);
  for (const [variant, figures] of all) console.log(formatFigures(variant, figures));
  const seconds = (performance.now() - started) / 1000;
  console.log(
    `LazyFS: ${rounds - failedRounds} rounds passed, ${failedRounds} failed in ${
      seconds.toFixed(0)
    } s`,
  );
  const idle = idleFaults(all);
  for (const line of idle) console.log(`LazyFS: ${line}`);
  return failedRounds === 0 && idle.length === 0 ? 0 : 1;
}

/**
 * A fault variant whose fault seldom fired tested nothing but plain power loss: the suite fails
 * then, so a fault command that LazyFS stops understanding cannot pass unnoticed.
 */
function idleFaults(all: ReadonlyMap<Variant, Figures>): string[] {
  const lines: string[] = [];
  for (const [variant, f] of all) {
    const faulted = variant === "torn-op" || variant === "torn-seq" || variant === "crash";
    if (faulted && f.cycles >= FAULT_CHECK_CYCLES_MIN && f.faultsFired * 2 < f.cycles) {
      lines.push(`the ${variant} fault fired in only ${f.faultsFired} of ${f.cycles} cycles`);
    }
  }
  return lines;
}

Deno.exit(await main());
