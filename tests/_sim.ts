// Copyright 2026 the wal-db authors. MIT license.
// The crash simulation: one seed chooses a layout (single file or segments of 16 B to 4 KiB), a
// recovery policy and a random workload of concurrent writers on the real Wal over a simulated
// disk; the disk loses power at a random moment (often in the middle of an operation), is
// remounted, and the reopened log is checked against a model of what was acknowledged. Process
// kills and clean reopens happen along the way, also in the same boot after a flush failed
// (the page cache then holds bytes a failed flush marked clean). Everything is driven by the seed and by
// microtask order, with no timers, so a seed replays exactly.

import {
  type RecoveryPolicy,
  SegmentedStore,
  Wal,
  type WalConfig,
  WalError,
  type WalStore,
} from "../mod.ts";
import { Rng } from "./_rng.ts";
import {
  type FaultHook,
  SIM_LOG_NAME,
  SimDirectory,
  SimDisk,
  SimIoError,
  SimPowerLoss,
  SimProcessKilled,
  SimStore,
} from "./_sim_disk.ts";
import {
  frameSizeOf,
  LogModel,
  type ModelRecord,
  sameBytes,
  type Verdict,
  type VerifyMode,
  verifyRecovered,
} from "./_sim_model.ts";

const SEGMENT_SIZE_MIN = 16;
const SEGMENT_SIZE_MAX = 4096;
const SEGMENTED_PERCENT = 60;
/** Schedules whose log gathers the appends of a turn into one write (`writeMode: "gathered"`). */
const GATHERED_PERCENT = 30;
/** Spreads consecutive seeds over 32 bits (Knuth's multiplicative hash). */
const GOLDEN_RATIO_MULTIPLIER = 0x9e37_79b1;
const WRITERS_MAX = 4;
const CYCLES_MAX = 3;
const STEPS_PER_CYCLE_MAX = 40;
/** A guess of disk operations per step, to place a mid-operation power loss within the cycle. */
const OPERATIONS_PER_STEP = 3;
const MID_OPERATION_CRASH_PERCENT = 70;
const CRASH_DURING_RECOVERY_PERCENT = 20;
const RECOVERY_OPERATIONS_MAX = 8;
const SMALL_RECORD_MAX = 40;
const MEDIUM_RECORD_MAX = 400;
const LARGE_RECORD_MAX = 2500;
const BATCH_RECORDS_MAX = 5;
const SMALL_MAX_RECORD_SIZE = 3000;
/**
 * Microtask turns a closed log may take to settle its last flush and release the lock: a flush
 * of many tiny segments takes a few turns per segment.
 */
const SETTLE_TICKS_MAX = 1_000_000;
/** A schedule that takes longer has hung: some promise never settled. */
const SCHEDULE_TIMEOUT_MS = 20_000;
/** Write-side operations the fault mode may fail. */
const FAULTABLE = new Set(["create", "append", "truncate", "flush", "remove", "rename", "sync"]);

/** Every policy: a crash alone must never make any of them refuse or find damage. */
const POLICIES: readonly RecoveryPolicy[] = [
  "tolerate-torn-tail",
  "tolerate-torn-tail",
  "strict",
  "truncate",
  "skip",
];

/** Actions and their weights: appends and syncs dominate, as in a real log. */
const ACTIONS = {
  append: 30,
  appendBatch: 10,
  sync: 25,
  syncSync: 5,
  yield: 10,
  iterate: 5,
  truncateFrom: 3,
  truncateAfter: 2,
  truncateBefore: 4,
  truncateBeforeAsync: 4,
  truncateFromAsync: 3,
  truncateAfterAsync: 2,
  reopen: 3,
  kill: 3,
} as const;
type Action = keyof typeof ACTIONS;
const ACTION_WEIGHT_TOTAL = Object.values(ACTIONS).reduce((a, b) => a + b, 0);

/** Options of a run. */
export interface SimOptions {
  /** Keep a trace of every step (for replaying one seed). */
  trace?: boolean;
  /** Chance out of 100 that a write-side disk operation fails (0: crashes only). */
  faultPercent?: number;
}

/** Figures of one schedule, or summed over many. */
export interface SimFigures {
  schedules: number;
  segmented: number;
  /** Schedules in the gathered write mode. */
  gathered: number;
  /**
   * Records a kill took from a gathered log before they were written (the current turn's):
   * the gathered mode's contract allows their loss, and only theirs.
   */
  gatheredLostAtKill: number;
  crashes: number;
  midOperationCrashes: number;
  crashesDuringRecovery: number;
  kills: number;
  reopens: number;
  appended: number;
  syncsResolved: number;
  truncations: number;
  checkpoints: number;
  recordsChecked: number;
  acknowledgedChecked: number;
  acknowledgedLost: number;
  faultsInjected: number;
  /** Recoveries that cut a torn tail (a crash's unsynced appends) or the reserve. */
  tornTailsCut: number;
  /** Torn first appends set aside: no record had reached the disk whole (see RECOVERY.md). */
  firstAppendsSetAside: number;
  /** Logs whose only bytes were a failed short write, refused and removed by the operator. */
  shortFirstWritesRefused: number;
  /** Torn tails whose intact records after the tear were copied to `unsynced-<lsn>`. */
  unsyncedCopies: number;
  /** Reopens (clean or after a kill) in the same boot as a failed flush. */
  reopensAfterFailedFlush: number;
  /**
   * Kills after a failed flush whose bytes the log could not cut off: a new process cannot
   * know of them (the documented residual risk), so the power goes off instead.
   */
  killsPoweredOff: number;
  /** Opens refused until the machine restarts (a flush failed during an earlier open). */
  opensRefused: number;
}

/** What one schedule did and found. */
export interface ScheduleResult {
  seed: number;
  failure: string | undefined;
  figures: SimFigures;
  trace: string[];
}

/** The command that replays a seed. */
export function replayCommand(seed: number, options: SimOptions = {}): string {
  const faults = options.faultPercent ? ` --faults ${options.faultPercent}` : "";
  return `WAL_SEED=${seed} deno task sim${faults}`;
}

/** Figures with every count at zero. */
export function emptyFigures(): SimFigures {
  return {
    schedules: 0,
    segmented: 0,
    gathered: 0,
    gatheredLostAtKill: 0,
    crashes: 0,
    midOperationCrashes: 0,
    crashesDuringRecovery: 0,
    kills: 0,
    reopens: 0,
    appended: 0,
    syncsResolved: 0,
    truncations: 0,
    checkpoints: 0,
    recordsChecked: 0,
    acknowledgedChecked: 0,
    acknowledgedLost: 0,
    faultsInjected: 0,
    tornTailsCut: 0,
    firstAppendsSetAside: 0,
    shortFirstWritesRefused: 0,
    unsyncedCopies: 0,
    reopensAfterFailedFlush: 0,
    killsPoweredOff: 0,
    opensRefused: 0,
  };
}

/** Adds `part` into `total`. */
export function addFigures(total: SimFigures, part: SimFigures): void {
  for (const key of Object.keys(total) as (keyof SimFigures)[]) total[key] += part[key];
}

/** Runs the schedule of `seed`. Never throws: a broken invariant is returned as `failure`. */
export async function runSchedule(seed: number, options: SimOptions = {}): Promise<ScheduleResult> {
  const schedule = new Schedule(seed, options);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hung = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      schedule.fail(`the schedule hung for ${SCHEDULE_TIMEOUT_MS} ms: a promise never settled`);
      resolve();
    }, SCHEDULE_TIMEOUT_MS);
  });
  try {
    await Promise.race([schedule.run(), hung]);
  } catch (error) {
    schedule.fail(`the simulation itself threw: ${describeError(error)}`);
  } finally {
    clearTimeout(timer);
  }
  schedule.figures.faultsInjected = schedule.disk.stats.faultsInjected;
  return { seed, failure: schedule.failure, figures: schedule.figures, trace: schedule.trace };
}

function tick(): Promise<void> {
  return Promise.resolve();
}

function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const kind = error instanceof WalError ? ` (${error.kind})` : "";
  const cause = error.cause === undefined ? "" : ` <- ${describeError(error.cause)}`;
  return `${error.name}${kind}: ${error.message.slice(0, 200)}${cause}`;
}

/** The disk errors the simulation causes on purpose, anywhere in a cause chain. */
function simulatedCause(error: unknown): Error | undefined {
  for (let e = error; e instanceof Error; e = e.cause) {
    if (e instanceof SimPowerLoss || e instanceof SimProcessKilled || e instanceof SimIoError) {
      return e;
    }
  }
  return undefined;
}

function isWalError(error: unknown, kind: string): boolean {
  return error instanceof WalError && error.kind === kind;
}

/** An asynchronous suffix cut the model has not applied yet. */
interface PendingCut {
  readonly model: LogModel;
  readonly cut: number;
  /** The records past the cut when it was called. */
  readonly doomed: ReadonlySet<ModelRecord>;
  /** The records before it then: durable once it resolved. */
  readonly kept: ReadonlySet<ModelRecord>;
  /** `model.cutFrom` before the call. */
  readonly previous: number | undefined;
}

/** One seeded schedule: its disk, its log, its model and its findings. */
class Schedule {
  readonly rng: Rng;
  readonly segmentSize: number | undefined;
  readonly config: WalConfig;
  readonly faultPercent: number;
  readonly figures = emptyFigures();
  readonly trace: string[] = [];
  readonly #tracing: boolean;
  disk: SimDisk;
  failure: string | undefined;
  #wal: Wal | undefined;
  #model = new LogModel();
  /** The store the current log was opened on: under a gathered log, what reached the OS. */
  #rawStore: WalStore | undefined;
  #stepsLeft = 0;
  /** The current log saw an injected fault: it must be failed now. */
  #walFailed = false;
  /**
   * A flush failed since the last power loss: like Linux after a write-back error, the page
   * cache may hold bytes that no later flush will write. Reopens go on regardless: the rule
   * under test is that a reopen in the same boot never reports such bytes durable.
   */
  #flushFailedSinceCrash = false;
  /** An open failed on an injected fault since the last power loss (maybe in its flush). */
  #openFaultedSinceCrash = false;
  /** Faults injected before the current log was opened: more since means it may have failed. */
  #faultsAtOpen = 0;
  /** Asynchronous checkpoints not settled yet: other truncations are refused as busy. */
  #checkpointsPending = 0;
  /** Asynchronous suffix cuts not settled yet: appends, syncSync and truncations are busy. */
  #cutsPending = 0;
  /** Asynchronous suffix cuts the model does not hold yet (called, not heard of). */
  readonly #unheardCuts = new Set<PendingCut>();

  constructor(readonly seed: number, options: SimOptions) {
    this.rng = new Rng(seed);
    this.#tracing = options.trace ?? false;
    this.faultPercent = options.faultPercent ?? 0;
    this.disk = new SimDisk({ rng: this.rng });
    const segmented = this.rng.chance(SEGMENTED_PERCENT);
    this.segmentSize = segmented ? this.rng.logSize(SEGMENT_SIZE_MIN, SEGMENT_SIZE_MAX) : undefined;
    const small = this.rng.chance(50);
    // Chosen from the seed without drawing from the schedule's generator, so every schedule
    // in the default mode stays exactly what it was before the gathered mode existed.
    const gathered =
      Math.imul(seed, GOLDEN_RATIO_MULTIPLIER) >>> 0 < GATHERED_PERCENT * 2 ** 32 / 100;
    this.config = {
      recoveryPolicy: this.rng.pick(POLICIES),
      ...(small ? { maxRecordSize: SMALL_MAX_RECORD_SIZE } : {}),
      ...(gathered ? { writeMode: "gathered" as const } : {}),
    };
    this.figures.schedules = 1;
    this.figures.segmented = segmented ? 1 : 0;
    this.figures.gathered = gathered ? 1 : 0;
    this.note(() =>
      `seed ${seed}: ${segmented ? `segments of ${this.segmentSize} B` : "single file"}, ` +
      `${this.config.recoveryPolicy}, maxRecordSize ${this.config.maxRecordSize ?? "default"}` +
      `${gathered ? ", gathered writes" : ""}`
    );
  }

  fail(message: string): void {
    this.failure ??= message;
    this.note(() => `FAILED: ${message}`);
  }

  note(text: () => string): void {
    if (this.#tracing) this.trace.push(text());
  }

  async run(): Promise<void> {
    this.#wal = this.#openWal();
    const cycles = this.rng.int(1, CYCLES_MAX);
    for (let cycle = 0; cycle < cycles && this.failure === undefined; cycle++) {
      await this.#cycle();
    }
    if (this.failure === undefined) await this.#closeAndCheckHandles();
  }

  /** A workload, then a power loss (maybe in the middle of it), then recovery and the check. */
  async #cycle(): Promise<void> {
    this.#stepsLeft = this.rng.int(1, STEPS_PER_CYCLE_MAX);
    const midOperation = this.rng.chance(MID_OPERATION_CRASH_PERCENT);
    const countdown = this.rng.int(0, this.#stepsLeft * OPERATIONS_PER_STEP);
    this.disk.powerOffAfter(midOperation ? countdown : undefined);
    this.disk.faults = this.#faultHook();
    const writers = this.rng.int(1, WRITERS_MAX);
    this.note(() =>
      `cycle: ${this.#stepsLeft} steps, ${writers} writers, power off after ` +
      `${midOperation ? countdown : "the workload"}`
    );
    await Promise.all(Array.from({ length: writers }, (_, id) => this.#writer(id)));
    this.disk.faults = undefined;
    if (this.failure !== undefined) return;
    if (this.disk.dead) this.figures.midOperationCrashes++;
    this.disk.powerOff();
    this.#crashAndRecover();
  }

  #faultHook(): FaultHook | undefined {
    if (this.faultPercent === 0) return undefined;
    return (operation) => {
      if (!FAULTABLE.has(operation.kind) || !this.rng.chance(this.faultPercent)) return undefined;
      const code = this.rng.chance(50) ? "EIO" : "ENOSPC";
      if (operation.kind === "flush") this.#flushFailedSinceCrash = true;
      this.note(() => `  fault: ${code} on ${operation.kind} ${operation.name}`);
      return { code, shortBytes: this.rng.int(0, SMALL_RECORD_MAX) };
    };
  }

  async #writer(id: number): Promise<void> {
    while (this.#stepsLeft > 0 && !this.disk.dead && this.failure === undefined) {
      this.#stepsLeft--;
      const wal = this.#wal;
      if (wal === undefined) {
        await tick(); // a reopen is in progress
        continue;
      }
      const action = this.#pickAction();
      try {
        // Synchronous actions throw here at once, before any other writer runs.
        const pending = this.#perform(action, wal, id);
        if (pending !== undefined) await pending;
      } catch (error) {
        await this.#onError(error, wal, action);
      }
    }
  }

  #pickAction(): Action {
    let roll = this.rng.below(ACTION_WEIGHT_TOTAL);
    for (const [action, weight] of Object.entries(ACTIONS) as [Action, number][]) {
      if (roll < weight) return action;
      roll -= weight;
    }
    throw new Error("unreachable: action weights");
  }

  #perform(action: Action, wal: Wal, id: number): Promise<void> | void {
    switch (action) {
      case "append":
        return this.#append(wal, [this.#payload()], id);
      case "appendBatch":
        return this.#append(wal, this.#batch(), id);
      case "sync":
        return this.#sync(wal, id);
      case "syncSync":
        return this.#syncSync(wal, id);
      case "yield":
        return tick();
      case "iterate":
        return this.#iterate(wal, id);
      case "truncateFrom":
        return this.#truncateFrom(wal, this.#pickCut(), id);
      case "truncateAfter":
        return this.#truncateAfter(wal, id);
      case "truncateBefore":
        return this.#truncateBefore(wal, id);
      case "truncateBeforeAsync":
        return this.#truncateBeforeAsync(wal, id);
      case "truncateFromAsync":
        return this.#truncateAsync(wal, id, false);
      case "truncateAfterAsync":
        return this.#truncateAsync(wal, id, true);
      case "reopen":
        return this.#reopenCleanly(wal, id);
      case "kill":
        return this.#kill(wal, id);
    }
  }

  #payload(): Uint8Array {
    const max = this.config.maxRecordSize ?? LARGE_RECORD_MAX;
    const roll = this.rng.below(100);
    const limit = roll < 60 ? SMALL_RECORD_MAX : roll < 90 ? MEDIUM_RECORD_MAX : LARGE_RECORD_MAX;
    return this.rng.bytes(this.rng.int(0, Math.min(limit, max)));
  }

  #batch(): Uint8Array[] {
    return Array.from({ length: this.rng.int(0, BATCH_RECORDS_MAX) }, () => this.#payload());
  }

  /** Appends one record (or a batch) and adds it to the model, or as attempted if it threw. */
  #append(wal: Wal, records: Uint8Array[], id: number): void {
    const before = wal.nextLsn;
    const operations = this.disk.stats.operations;
    let lsns: number[];
    try {
      lsns = records.length === 1 && this.rng.chance(50)
        ? [wal.append(records[0]!)]
        : wal.appendBatch(records);
    } catch (error) {
      // If the call reached the disk, any of its records may survive (a short write can even
      // complete one): they are attempted. The log is failed, so nothing follows them.
      if (this.disk.stats.operations !== operations) {
        this.#applyCutsAt(before);
        for (const data of records) this.#model.add(this.#model.end, data, true);
      }
      throw error;
    }
    this.#applyCutsAt(before);
    let expected = this.#model.end;
    for (const [i, lsn] of lsns.entries()) {
      if (lsn !== expected) return this.fail(`append returned LSN ${lsn}, expected ${expected}`);
      this.#model.add(lsn, records[i]!);
      expected += frameSizeOf({ data: records[i]! });
    }
    this.figures.appended += records.length;
    this.note(() =>
      `w${id} append ${records.map((r) => r.length).join("+")} B at ${lsns.join(",")}`
    );
  }

  async #sync(wal: Wal, id: number): Promise<void> {
    const covered = this.#model.unacked();
    this.note(() => `w${id} sync (${covered.length} records) ...`);
    await wal.sync();
    // Resolved: everything appended before the call is durable, unless truncated since.
    for (const record of covered) record.acked = true;
    this.figures.syncsResolved++;
    this.note(() => `w${id} ... sync resolved (${covered.length} records)`);
  }

  #syncSync(wal: Wal, id: number): void {
    const covered = this.#model.unacked();
    wal.syncSync();
    for (const record of covered) record.acked = true;
    this.figures.syncsResolved++;
    this.note(() => `w${id} syncSync (${covered.length} records)`);
  }

  /** Reads back from a random boundary: the live log holds exactly what was appended. */
  #iterate(wal: Wal, id: number): void {
    if (this.#walFailed) return;
    // The head may move under the model while a checkpoint runs; the end moves at once when
    // a suffix cut starts, the model only once it resolved.
    if (this.#checkpointsPending > 0 || this.#cutsPending > 0) return;
    // A flush failed and the log cut itself back; the failure reaches its caller only later.
    if (this.#faultedSinceOpen && wal.nextLsn < this.#model.end) return;
    const from = this.rng.pick(this.#model.boundaries());
    const entries = [...wal.iterFrom(from)];
    const expected = this.#model.from(from);
    this.note(() => `w${id} iterFrom ${from}: ${entries.length} records`);
    if (entries.length !== expected.length) {
      return this.fail(
        `iterFrom(${from}) read ${entries.length} records, appended ${expected.length}`,
      );
    }
    for (const [i, entry] of entries.entries()) {
      const record = expected[i]!;
      if (entry.lsn !== record.lsn || !sameBytes(entry.data, record.data)) {
        return this.fail(`iterFrom(${from}) read LSN ${entry.lsn}, appended ${record.lsn}`);
      }
    }
    this.figures.recordsChecked += entries.length;
  }

  /** A boundary to truncate from: usually one of the last few records. */
  #pickCut(): number {
    const boundaries = this.#model.boundaries();
    const recent = boundaries.slice(-1 - this.rng.int(1, 4));
    return this.rng.chance(80) ? this.rng.pick(recent) : this.rng.pick(boundaries);
  }

  #truncateFrom(wal: Wal, lsn: number, id: number): void {
    this.#cut(lsn, () => wal.truncateFrom(lsn), () => `w${id} truncateFrom ${lsn}`);
  }

  #truncateAfter(wal: Wal, id: number): void {
    const records = this.#model.from(this.#model.head);
    if (records.length === 0) return;
    const kept = this.rng.pick(records);
    const cut = kept.lsn + frameSizeOf(kept);
    this.#cut(
      cut,
      () => wal.truncateAfter(kept.lsn),
      () => `w${id} truncateAfter ${kept.lsn} (cut at ${cut})`,
    );
  }

  /** Runs a truncation that cuts the log at `cut` and updates the model to match. */
  #cut(cut: number, truncate: () => void, describe: () => string): void {
    const before = this.disk.stats.operations;
    try {
      truncate();
    } catch (error) {
      // The store may have cut part of the log before it failed: later records may be gone.
      if (this.disk.stats.operations !== before) {
        this.#model.cutFrom = Math.min(cut, this.#model.cutFrom ?? cut);
      }
      throw error;
    }
    this.#model.truncateFrom(cut);
    this.figures.truncations++;
    this.note(describe);
  }

  #truncateBefore(wal: Wal, id: number): void {
    const lsn = this.rng.pick(this.#model.boundaries());
    const before = this.disk.stats.operations;
    let head: number;
    try {
      head = wal.truncateBefore(lsn);
    } catch (error) {
      // A single file cannot drop a prefix: refused, nothing changed, the log goes on.
      if (this.segmentSize === undefined && isWalError(error, "unsupported")) return;
      if (this.disk.stats.operations !== before) this.#model.pendingHead = lsn;
      throw error;
    }
    if (this.segmentSize === undefined && lsn !== this.#model.head) {
      return this.fail(`truncateBefore(${lsn}) on a single file returned ${head}, not unsupported`);
    }
    const expected = this.segmentSize === undefined ? this.#model.head : lsn;
    if (head !== expected) {
      return this.fail(`truncateBefore(${lsn}) returned ${head}, expected ${expected}`);
    }
    if (this.segmentSize !== undefined) this.#model.truncateBefore(lsn);
    this.figures.checkpoints++;
    this.note(() => `w${id} truncateBefore ${lsn}`);
  }

  /**
   * A checkpoint whose flushes run off the main thread: other writers go on meanwhile (their
   * truncations are refused as busy), and a crash or reopen before it settles may find either
   * head.
   */
  async #truncateBeforeAsync(wal: Wal, id: number): Promise<void> {
    const lsn = this.rng.pick(this.#model.boundaries());
    const model = this.#model;
    // A failed log refuses it at once.
    const added = !this.#walFailed && !model.pendingHeads.has(lsn);
    if (added) model.pendingHeads.add(lsn);
    this.#checkpointsPending++;
    this.note(() => `w${id} truncateBeforeAsync ${lsn} ...`);
    // Another checkpoint may have moved the head already, or a cut the end, before the model
    // heard of it.
    const stale = wal.head > model.head || this.#unheardCuts.size > 0;
    let head: number;
    try {
      head = await wal.truncateBeforeAsync(lsn);
    } catch (error) {
      const refused = isWalError(error, "busy") || (stale && isWalError(error, "invalid-lsn")) ||
        (this.segmentSize === undefined && isWalError(error, "unsupported"));
      if (refused && added) model.pendingHeads.delete(lsn);
      if (refused) return;
      throw error;
    } finally {
      this.#checkpointsPending--;
    }
    // A reopen since (or in progress) checks the log against either head, then starts anew.
    if (wal !== this.#wal || model !== this.#model) return;
    if (added) model.pendingHeads.delete(lsn);
    if (head !== lsn) return this.fail(`truncateBeforeAsync(${lsn}) resolved ${head}`);
    // A head already there resolves at once, but the caller hears of it a turn later: a
    // checkpoint made meanwhile may have moved the head further.
    if (lsn > model.head) model.truncateBefore(lsn);
    this.figures.checkpoints++;
    this.note(() => `w${id} ... truncateBeforeAsync ${lsn} resolved`);
  }

  /**
   * A suffix cut whose work runs off the main thread (`truncateFromAsync`, or with `after`
   * `truncateAfterAsync`): until it settles other writers' appends, syncSync and truncations are
   * refused as busy, and a crash or kill may find the old tail or the cut one. Once it resolved,
   * the records past the cut must never come back, and the ones before it are durable.
   */
  async #truncateAsync(wal: Wal, id: number, after: boolean): Promise<void> {
    const model = this.#model;
    let lsn: number;
    let cut: number;
    if (after) {
      const records = model.from(model.head);
      if (records.length === 0) return;
      const kept = this.rng.pick(records);
      [lsn, cut] = [kept.lsn, kept.lsn + frameSizeOf(kept)];
    } else {
      lsn = cut = this.#pickCut();
    }
    const name = after ? "truncateAfterAsync" : "truncateFromAsync";
    // What it drops and keeps, as the model stands now: other writers may append past the cut
    // once it resolved, before this one hears of it (see #applyCut).
    const pending: PendingCut = {
      model,
      cut,
      doomed: new Set(model.from(cut)),
      kept: new Set(model.records.filter((r) => r.lsn < cut)),
      previous: model.cutFrom,
    };
    // A failed log refuses it at once.
    if (!this.#walFailed) model.cutFrom = Math.min(cut, pending.previous ?? cut);
    this.#unheardCuts.add(pending);
    this.#cutsPending++;
    this.note(() => `w${id} ${name} ${lsn} (cut at ${cut}) ...`);
    try {
      await (after ? wal.truncateAfterAsync(lsn) : wal.truncateFromAsync(lsn));
    } catch (error) {
      this.#unheardCuts.delete(pending);
      // Refused, changing nothing: another truncation runs, or the model's end is stale.
      const refused = isWalError(error, "busy") || isWalError(error, "invalid-lsn");
      if (refused && model.cutFrom === Math.min(cut, pending.previous ?? cut)) {
        model.cutFrom = pending.previous;
      }
      if (refused) return;
      throw error;
    } finally {
      this.#cutsPending--;
    }
    // A reopen since (or in progress) checks the log against either tail, then starts anew.
    if (wal !== this.#wal || model !== this.#model) return;
    this.#applyCut(pending);
    this.note(() => `w${id} ... ${name} ${lsn} resolved`);
  }

  /**
   * An append was let through (while a cut runs it is refused as busy, before it touches the
   * disk), so a cut the log ended at, `end`, has resolved: the model takes it now.
   */
  #applyCutsAt(end: number): void {
    for (const pending of this.#unheardCuts) {
      if (pending.cut === end && pending.model === this.#model) this.#applyCut(pending);
    }
  }

  /**
   * Updates the model for a resolved asynchronous cut, once: when its caller hears of it, or
   * earlier, when another writer's append lands at the cut (the log is open for appends again
   * from the turn the cut ended, and that append proves the cut resolved).
   */
  #applyCut(pending: PendingCut): void {
    if (!this.#unheardCuts.delete(pending)) return;
    const { model, cut } = pending;
    if (model.cutFrom === Math.min(cut, pending.previous ?? cut)) model.cutFrom = pending.previous;
    model.cutAsync(cut, pending.doomed, pending.kept);
    this.figures.truncations++;
  }

  /** Closes the log, waits for it to release the lock, and opens it again. */
  async #reopenCleanly(wal: Wal, id: number): Promise<void> {
    this.note(() => `w${id} reopen`);
    this.#wal = undefined;
    wal.close();
    if (!(await this.#settled())) return this.fail("Wal.close() never released the store's lock");
    this.figures.reopens++;
    this.#allowFailureCut(wal);
    this.#reopen({ everyRecord: true, subsequence: false });
  }

  /** A fault was injected since the current log was opened: it may have failed. */
  get #faultedSinceOpen(): boolean {
    return this.disk.stats.faultsInjected !== this.#faultsAtOpen;
  }

  /** A process crash: the page cache survives, the process's handles and locks do not. */
  #kill(wal: Wal, id: number): void {
    if (this.disk.holdsUnwrittenCache) {
      // The log could not cut off what a failed flush left in the cache; this process would
      // refuse to reopen it, but a new one cannot know (docs/DURABILITY.md).
      this.note(() => `w${id} kill -9, but the cache holds unwritten bytes: power off instead`);
      this.figures.killsPoweredOff++;
      this.disk.powerOff();
      return;
    }
    this.note(() => `w${id} kill -9`);
    this.#allowGatheredLoss();
    this.#wal = undefined;
    this.disk.kill();
    this.figures.kills++;
    this.#allowFailureCut(wal);
    this.#reopen({ everyRecord: true, subsequence: false });
  }

  /**
   * The gathered mode's contract at a kill: the records of the current turn that were not
   * written yet die with the process; everything before them was written (it is in the page
   * cache) and must be there. Acknowledged records are always below (a sync writes first), so
   * the check that none is lost still holds in full.
   */
  #allowGatheredLoss(): void {
    if (this.config.writeMode !== "gathered" || this.#rawStore === undefined) return;
    const written = this.#rawStore.size;
    if (this.#model.end <= written) return;
    this.figures.gatheredLostAtKill += this.#model.records.filter((r) => r.lsn >= written).length;
    this.#model.cutFrom = Math.min(written, this.#model.cutFrom ?? written);
  }

  /**
   * A log that failed (a fault was injected while it was open) is cut back to its durable end
   * when a flush failed: the records after that end may be gone at the reopen, though the page
   * cache survived. Records before it must all be there.
   */
  #allowFailureCut(wal: Wal | undefined): void {
    if (wal === undefined || !this.#faultedSinceOpen) return;
    const end = wal.durableLsn;
    if (this.#model.end > end) this.#model.cutFrom = Math.min(end, this.#model.cutFrom ?? end);
  }

  async #settled(): Promise<boolean> {
    for (let i = 0; i < SETTLE_TICKS_MAX && this.disk.locked; i++) await tick();
    return !this.disk.locked;
  }

  #openWal(): Wal {
    const store = this.segmentSize === undefined
      ? SimStore.open(this.disk)
      : SegmentedStore.open(SimDirectory.open(this.disk), this.segmentSize);
    this.#rawStore = store;
    return Wal.withStore(store, this.config);
  }

  /** Opens the log again and checks it against the model; the model then restarts from it. */
  #reopen(mode: VerifyMode): void {
    if (this.#flushFailedSinceCrash) this.figures.reopensAfterFailedFlush++;
    const wal = this.#tryOpen();
    if (wal === undefined) return;
    const subsequence = this.config.recoveryPolicy === "skip";
    this.#accept(wal, verifyRecovered(this.#model, wal, { ...mode, subsequence }));
  }

  /**
   * Opens the log. An injected fault may fail the open, but cleanly: with a WalError and the
   * lock released; the open is then retried without faults. `undefined` when it cannot open
   * (the power failed during recovery, or a failure was recorded).
   */
  #tryOpen(): Wal | undefined {
    const before = this.disk.bytesOf(SIM_LOG_NAME)?.slice();
    try {
      return this.#openWal();
    } catch (error) {
      if (this.disk.dead) return undefined; // power failed during recovery: a crash follows
      if (this.#refusedForTheBoot(error)) return undefined;
      if (this.#shortFirstWriteRefused(error, before)) return this.#tryOpen();
      if (!(simulatedCause(error) instanceof SimIoError)) {
        this.fail(`reopening threw: ${describeError(error)}`);
      } else if (!(error instanceof WalError)) {
        this.fail(`an injected fault escaped the open as a raw error: ${describeError(error)}`);
      } else if (this.disk.locked) {
        this.fail(`an open that failed (${describeError(error)}) kept the lock`);
      }
      if (this.failure !== undefined) return undefined;
    }
    this.#openFaultedSinceCrash = true;
    this.note(() => "  the open failed on a fault, cleanly; retrying without faults");
    const hook = this.disk.faults;
    this.disk.faults = undefined;
    try {
      return this.#openWal();
    } catch (error) {
      if (this.#refusedForTheBoot(error)) return undefined;
      // The fault may have hit before recovery read the file (the open's directory flush): the
      // retry then meets the same refusal the first open would have.
      if (this.#shortFirstWriteRefused(error, before)) return this.#tryOpen();
      if (!this.disk.dead) this.fail(`reopening threw: ${describeError(error)}`);
      return undefined;
    } finally {
      this.disk.faults = hook;
    }
  }

  /**
   * The one refusal a fault may cause (docs/RECOVERY.md, "A first write cut short"): the log's
   * very first write stopped part way into its first frame (ENOSPC, EIO), cutting it back failed
   * too, and the power went. The file is then a header and part of a payload, ending anywhere:
   * nothing tells it from a foreign file, so the open refuses and changes nothing. No record was
   * ever acknowledged, so the operator removes the file, as the error says, and the run goes on.
   */
  #shortFirstWriteRefused(error: unknown, before: Uint8Array | undefined): boolean {
    if (!isWalError(error, "corruption") || !/not a wal-db log/.test(String(error))) return false;
    if (this.segmentSize !== undefined || !this.#faultedSinceOpen) return false;
    if (this.#model.records.some((record) => record.acked)) return false;
    const bytes = this.disk.bytesOf(SIM_LOG_NAME);
    if (bytes === undefined) return false;
    if (before === undefined || !sameBytes(before, bytes)) {
      this.fail(`an open refused as not a log changed the file: ${describeError(error)}`);
      return false;
    }
    this.note(() => `  refused: a first write cut short (${bytes.length} bytes); file removed`);
    this.figures.shortFirstWritesRefused++;
    this.disk.deleteFile(SIM_LOG_NAME);
    this.#model = new LogModel();
    return true;
  }

  /**
   * A flush failed during an earlier open in this process: which bytes reached the disk is
   * unknown, so the log refuses to open until the machine restarts. The power goes off.
   */
  #refusedForTheBoot(error: unknown): boolean {
    if (!isWalError(error, "failed") || (error as WalError).lsn !== undefined) return false;
    if (!this.#openFaultedSinceCrash) {
      this.fail(`the open was refused with no failed flush behind it: ${describeError(error)}`);
      return true;
    }
    this.note(() => "  refused until the machine restarts (a flush failed during an open)");
    this.figures.opensRefused++;
    this.disk.powerOff();
    return true;
  }

  #accept(wal: Wal, verdict: Verdict): void {
    const damage = wal.recovery.damage;
    if (damage !== undefined && !damage.tornTail) {
      // Crashes, kills and failed writes leave torn tails; only bit rot leaves damage.
      wal.close();
      return this.fail(`recovery reported damage: ${JSON.stringify(wal.recovery)}`);
    }
    if (damage?.setAsidePath?.includes("damaged-") === true) this.figures.firstAppendsSetAside++;
    else if (damage?.setAsidePath !== undefined) this.figures.unsyncedCopies++;
    if (damage !== undefined || wal.recovery.reserveSize > 0) this.figures.tornTailsCut++;
    this.figures.recordsChecked += verdict.recordsChecked;
    this.figures.acknowledgedChecked += verdict.acknowledgedChecked;
    this.figures.acknowledgedLost += verdict.acknowledgedLost;
    this.note(() =>
      `  reopened: head ${wal.head}, ${verdict.entries.length} records, end ${wal.nextLsn}`
    );
    if (verdict.failure !== undefined) {
      wal.close();
      return this.fail(verdict.failure);
    }
    this.#model = LogModel.recovered(verdict.entries, wal.head, wal.nextLsn);
    this.#faultsAtOpen = this.disk.stats.faultsInjected;
    this.#wal = wal;
    this.#walFailed = false;
  }

  /** Remounts the dead disk (maybe losing power again during recovery) and checks the log. */
  #crashAndRecover(): void {
    this.figures.crashes++;
    this.disk = this.disk.crash(this.rng);
    this.#flushFailedSinceCrash = false;
    this.#openFaultedSinceCrash = false;
    this.#wal = undefined;
    if (this.rng.chance(CRASH_DURING_RECOVERY_PERCENT)) {
      this.disk.powerOffAfter(this.rng.int(0, RECOVERY_OPERATIONS_MAX));
      this.#reopen({ everyRecord: false, subsequence: false });
      this.disk.powerOffAfter(undefined);
      if (this.#wal !== undefined || this.failure !== undefined) return;
      this.note(() => "  power lost again during recovery");
      this.figures.crashesDuringRecovery++;
      this.disk = this.disk.crash(this.rng);
    }
    this.#reopen({ everyRecord: false, subsequence: false });
    if (this.#wal === undefined && this.failure === undefined) {
      this.fail("recovery of a crashed log did not open it");
    }
  }

  /** An error from an action: expected only if the simulation caused it, and then checked. */
  async #onError(error: unknown, wal: Wal, action: Action): Promise<void> {
    this.note(() => `  ${action} threw ${describeError(error)}`);
    if (wal !== this.#wal || this.disk.dead) return; // a stale log, or the power is off
    // One truncation at a time: refused, nothing changed, while a checkpoint runs. And the
    // head may have moved before the model hears of it: an LSN below it is refused too.
    if (this.#checkpointsPending > 0 || this.#cutsPending > 0) {
      if (isWalError(error, "busy")) return;
      if (isWalError(error, "invalid-lsn") && wal.head > this.#model.head) return;
      // A cut that ended may have moved the end below an LSN the model still holds.
      if (isWalError(error, "invalid-lsn") && this.#unheardCuts.size > 0) return;
    }
    const cause = simulatedCause(error);
    if (cause instanceof SimIoError && !(error instanceof WalError)) {
      return this.fail(`${action}: an injected ${cause.code} escaped as a raw error`);
    }
    if (cause instanceof SimIoError || (this.#walFailed && isWalError(error, "failed"))) {
      // Set before awaiting, so other writers stop reading a log that may hold a torn write.
      const first = !this.#walFailed;
      this.#walFailed = true;
      if (first) await this.#checkFailed(wal, action, error);
      return;
    }
    this.fail(`${action} threw unexpectedly: ${describeError(error)}`);
  }

  /** After a write or flush failed, the log refuses everything until it is reopened. */
  async #checkFailed(wal: Wal, action: Action, error: unknown): Promise<void> {
    if (!isWalError(error, "failed")) {
      return this.fail(`${action} failed on an injected fault with ${describeError(error)}`);
    }
    const refusals: [string, () => unknown][] = [
      ["append", () => wal.append(new Uint8Array(1))],
      ["syncSync", () => wal.syncSync()],
      ["truncateFrom", () => wal.truncateFrom(wal.nextLsn)],
    ];
    for (const [name, call] of refusals) {
      try {
        call();
        return this.fail(`${name} succeeded on a failed log (after ${action})`);
      } catch (refusal) {
        if (!isWalError(refusal, "failed")) {
          return this.fail(`${name} on a failed log threw ${describeError(refusal)}`);
        }
      }
    }
    const outcome = await wal.sync().then(() => "resolved", (e) => e);
    if (!isWalError(outcome, "failed")) {
      return this.fail(`sync on a failed log gave ${describeError(outcome)}`);
    }
  }

  /** At the end: closing releases every handle and the lock. */
  async #closeAndCheckHandles(): Promise<void> {
    this.#wal?.close();
    if (!(await this.#settled())) return this.fail("Wal.close() never released the lock");
    if (this.disk.openFileCount !== 0) {
      this.fail(`${this.disk.openFileCount} file handles are still open after Wal.close()`);
    }
  }
}

/** The outcome of many schedules. */
export interface SimSummary {
  figures: SimFigures;
  failures: ScheduleResult[];
  elapsedMs: number;
}

/**
 * Runs `count` schedules with seeds `firstSeed`, `firstSeed + 1`, ...; calls `progress` after
 * each with the number done so far.
 */
export async function runSchedules(
  firstSeed: number,
  count: number,
  options: SimOptions = {},
  progress?: (done: number, summary: SimSummary) => void,
): Promise<SimSummary> {
  const started = performance.now();
  const summary: SimSummary = { figures: emptyFigures(), failures: [], elapsedMs: 0 };
  for (let i = 0; i < count; i++) {
    const result = await runSchedule(firstSeed + i, options);
    addFigures(summary.figures, result.figures);
    if (result.failure !== undefined) summary.failures.push(result);
    summary.elapsedMs = performance.now() - started;
    progress?.(i + 1, summary);
  }
  return summary;
}

/** One line per figure, for the CLI and the test log. */
export function formatFigures(figures: SimFigures): string {
  const f = figures;
  return [
    `schedules ${f.schedules} (segmented ${f.segmented}, single file ${f.schedules - f.segmented}` +
    `; gathered writes ${f.gathered})`,
    `power losses ${f.crashes} (mid-operation ${f.midOperationCrashes}, again during recovery ` +
    `${f.crashesDuringRecovery}), process kills ${f.kills}, clean reopens ${f.reopens}`,
    `appended ${f.appended} records, syncs resolved ${f.syncsResolved}, truncations ` +
    `${f.truncations}, checkpoints ${f.checkpoints}, faults injected ${f.faultsInjected}`,
    `records checked ${f.recordsChecked}, acknowledged records checked ${f.acknowledgedChecked}, ` +
    `acknowledged records lost ${f.acknowledgedLost}`,
    `torn tails cut ${f.tornTailsCut} (records after the tear copied aside in ` +
    `${f.unsyncedCopies}), torn first appends set aside ${f.firstAppendsSetAside}, first writes cut short and refused ` +
    `${f.shortFirstWritesRefused}`,
    `reopens in the same boot after a failed flush ${f.reopensAfterFailedFlush}, kills turned ` +
    `into power losses (cut failed) ${f.killsPoweredOff}, opens refused for the boot ` +
    `${f.opensRefused}`,
    `gathered records a kill took before they were written ${f.gatheredLostAtKill}`,
  ].join("\n");
}

/** A failure as the CLI and the test print it: the seed, the message, the replay command. */
export function formatFailure(result: ScheduleResult, options: SimOptions = {}): string {
  return `seed ${result.seed}: ${result.failure}\n  replay: ${replayCommand(result.seed, options)}`;
}
