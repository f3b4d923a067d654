// Copyright 2026 the wal-db authors. MIT license.
// The crash simulation of checkpoints: a service on a segmented log over the simulated disk
// (tests/_sim_disk.ts) applies records only after `sync`, checkpoints its state with
// `Snapshots.checkpoint` and restores it on start with `Snapshots.load` plus replay. Power is
// lost (or the process killed) at a seeded operation, often inside a checkpoint; after every
// restart the state must be the digest of a prefix of what was appended that holds every record
// a `sync` acknowledged, and `load` must never refuse. Everything is driven by the seed.

import { crc32c, Snapshots, Wal, WalError } from "../mod.ts";
import { Rng } from "./_rng.ts";
import {
  CRASH_MODEL_DEFAULT,
  CRASH_MODEL_KEEP_ALL,
  CRASH_MODEL_LOSE_ALL,
  type CrashModel,
  SimDirectory,
  SimDisk,
  SimIoError,
  SimPowerLoss,
  SimProcessKilled,
} from "./_sim_disk.ts";

const SEGMENT_SIZES = [16, 48, 256, 4096] as const;
const CYCLES_MAX = 4;
const STEPS_PER_CYCLE_MAX = 24;
/** A guess of disk operations per step, to place the power loss within the cycle. */
const OPERATIONS_PER_STEP = 4;
const RECORD_SIZE_MAX = 300;
const FILLER_SIZE_MAX = 3000;
const KILL_PERCENT = 25;
/** Schedules in which writing a snapshot file sometimes fails (EIO, ENOSPC). */
const FAULTY_SCHEDULE_PERCENT = 30;
/** In those, the chance that one operation on a snapshot file fails. */
const SNAPSHOT_FAULT_PERCENT = 15;
const CRASH_MODELS: readonly CrashModel[] = [
  CRASH_MODEL_DEFAULT,
  CRASH_MODEL_DEFAULT,
  CRASH_MODEL_LOSE_ALL,
  CRASH_MODEL_KEEP_ALL,
];
/** Actions and their weights: checkpoints are frequent, so crashes land inside them. */
const ACTIONS = { append: 40, sync: 30, checkpoint: 20, reopen: 5, writeTemp: 5 } as const;
type Action = keyof typeof ACTIONS;

/** The service's state: how many records it applied and the CRC32C chained over them. */
export interface ServiceState {
  count: number;
  digest: number;
}

/**
 * A snapshot of `state`: its count and digest, then filler bytes derived from the count (0 to
 * 3000 of them, so snapshots of more than a sector and of several KiB are common), which a
 * restore checks too.
 */
export function encodeState(state: ServiceState): Uint8Array {
  const filler = fillerOf(state.count);
  const bytes = new Uint8Array(8 + filler.length);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, state.count, true);
  view.setUint32(4, state.digest, true);
  bytes.set(filler, 8);
  return bytes;
}

/** The state a snapshot holds; throws if its filler is not the one its count implies. */
export function decodeState(bytes: Uint8Array): ServiceState {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const state = { count: view.getUint32(0, true), digest: view.getUint32(4, true) };
  const filler = fillerOf(state.count);
  const got = bytes.subarray(8);
  if (got.length !== filler.length || !got.every((b, i) => b === filler[i])) {
    throw new Error(`snapshot of ${state.count} records has the wrong filler`);
  }
  return state;
}

function fillerOf(count: number): Uint8Array {
  const rng = new Rng(count + 1);
  return rng.bytes(rng.int(0, FILLER_SIZE_MAX));
}

/** Applies one record to `state`. */
export function apply(state: ServiceState, data: Uint8Array): void {
  state.count++;
  state.digest = crc32c(data, state.digest);
}

/** The service's start: the snapshot (if any), then the log replayed from its LSN. */
export function restore(wal: Wal, snapshots: Snapshots): ServiceState {
  const restored = snapshots.load(wal);
  const state = restored.data === undefined ? { count: 0, digest: 0 } : decodeState(restored.data);
  for (const entry of wal.iterFrom(restored.lsn)) apply(state, entry.data);
  return state;
}

/** What one schedule did and found. */
export interface CheckpointScheduleResult {
  seed: number;
  failure: string | undefined;
  restarts: number;
  checkpoints: number;
  crashesInCheckpoint: number;
  /** Checkpoints that threw "io" because writing the snapshot failed. */
  failedSnapshotWrites: number;
  acknowledgedChecked: number;
  trace: string[];
}

/** Runs the schedule of `seed`. Never throws: a broken invariant is returned as `failure`. */
export async function runCheckpointSchedule(
  seed: number,
  trace = false,
): Promise<CheckpointScheduleResult> {
  const schedule = new CheckpointSchedule(seed, trace);
  try {
    await schedule.run();
  } catch (error) {
    schedule.fail(`the simulation itself threw: ${String(error)}`);
  }
  return schedule.result;
}

class CheckpointSchedule {
  readonly rng: Rng;
  readonly segmentSize: number;
  readonly result: CheckpointScheduleResult;
  #disk = new SimDisk();
  /** Every record appended since the log began, in order (a restart drops the lost ones). */
  #appended: Uint8Array[] = [];
  /** prefix[i]: the digest of the first i records. */
  #prefix: number[] = [0];
  /** How many records a resolved `sync` acknowledged. */
  #acked = 0;
  #state: ServiceState = { count: 0, digest: 0 };
  /** Where each record appended in this process ends (by its index in `#appended`). */
  #ends: number[] = [];
  /** The end of the records in `#state`: where a checkpoint of it replays from. */
  #appliedLsn = 0;
  #wal: Wal | undefined;
  #snapshots: Snapshots | undefined;
  #inCheckpoint = false;
  readonly #traceOn: boolean;
  readonly #faulty: boolean;

  constructor(seed: number, traceOn: boolean) {
    this.rng = new Rng(seed);
    this.segmentSize = this.rng.pick(SEGMENT_SIZES);
    this.#faulty = this.rng.chance(FAULTY_SCHEDULE_PERCENT);
    this.#traceOn = traceOn;
    this.result = {
      seed,
      failure: undefined,
      restarts: 0,
      checkpoints: 0,
      crashesInCheckpoint: 0,
      failedSnapshotWrites: 0,
      acknowledgedChecked: 0,
      trace: [],
    };
  }

  fail(message: string): void {
    this.result.failure ??= message;
  }

  #note(line: () => string): void {
    if (this.#traceOn) this.result.trace.push(line());
  }

  async run(): Promise<void> {
    this.#note(() => `segment size ${this.segmentSize}`);
    this.#start();
    const cycles = this.rng.int(1, CYCLES_MAX);
    for (let cycle = 0; cycle < cycles && this.result.failure === undefined; cycle++) {
      const steps = this.rng.int(1, STEPS_PER_CYCLE_MAX);
      this.#disk.powerOffAfter(this.rng.int(0, steps * OPERATIONS_PER_STEP));
      try {
        for (let step = 0; step < steps && this.result.failure === undefined; step++) {
          await this.#step(this.#action());
        }
        this.#disk.powerOffAfter(undefined);
      } catch (error) {
        if (!(simulated(error))) throw error;
        if (this.#inCheckpoint) this.result.crashesInCheckpoint++;
        this.#note(() =>
          `  crashed (${describe(error)})${this.#inCheckpoint ? " in a checkpoint" : ""}`
        );
      }
      this.#inCheckpoint = false;
      this.#crash();
      this.#start();
    }
    this.#wal?.close();
  }

  #action(): Action {
    let roll = this.rng.below(Object.values(ACTIONS).reduce((a, b) => a + b, 0));
    for (const [action, weight] of Object.entries(ACTIONS) as [Action, number][]) {
      if (roll < weight) return action;
      roll -= weight;
    }
    return "append";
  }

  async #step(action: Action): Promise<void> {
    const wal = this.#wal!;
    switch (action) {
      case "append": {
        for (let n = this.rng.int(1, 3); n > 0; n--) {
          const data = this.rng.bytes(this.rng.logSize(0, RECORD_SIZE_MAX));
          // Counted before the append returns: a power loss inside it may still leave it whole.
          this.#appended.push(data);
          this.#prefix.push(crc32c(data, this.#prefix.at(-1)!));
          wal.append(data);
          this.#ends[this.#appended.length - 1] = wal.nextLsn;
        }
        this.#note(() => `append -> ${this.#appended.length} records`);
        return;
      }
      case "sync": {
        const covered = this.#appended.length;
        await wal.sync();
        this.#acked = Math.max(this.#acked, covered);
        // Apply only what is durable.
        if (this.#state.count < covered) this.#appliedLsn = this.#ends[covered - 1]!;
        while (this.#state.count < covered) apply(this.#state, this.#appended[this.#state.count]!);
        this.#note(() => `sync -> ${covered} acknowledged, applied`);
        return;
      }
      case "checkpoint": {
        // The state's own LSN, not the log's durable end: a checkpoint's sync (or a failed
        // one) may have made later records durable that the state does not hold.
        const lsn = this.#appliedLsn;
        if (this.#state.count !== this.#acked) return this.fail("applied state is not the acked");
        this.#inCheckpoint = true;
        let head: number;
        try {
          head = await this.#snapshots!.checkpoint(wal, encodeState(this.#state), lsn);
        } catch (error) {
          if (!(error instanceof WalError && error.kind === "io")) throw error;
          if (!(error.cause instanceof SimIoError)) throw error;
          // Only the snapshot's files fail: the log must be untouched and still writable.
          this.#inCheckpoint = false;
          this.result.failedSnapshotWrites++;
          if (wal.head > lsn) this.fail(`a failed checkpoint at ${lsn} moved the head`);
          this.#note(() => `checkpoint at ${lsn} failed: ${describe(error)}`);
          return;
        }
        this.#inCheckpoint = false;
        this.result.checkpoints++;
        if (head !== lsn) this.fail(`checkpoint at ${lsn} left the head at ${head}`);
        this.#note(() => `checkpoint at ${lsn} (${this.#state.count} records)`);
        return;
      }
      case "writeTemp": {
        // A temporary file a crashed checkpoint left, with garbage: never read as a snapshot.
        const faults = this.#disk.faults;
        this.#disk.faults = undefined;
        const file = this.#dir!.open("snapshot.tmp", true);
        file.append(this.rng.bytes(this.rng.int(1, 100)));
        file.close();
        this.#disk.faults = faults;
        this.#note(() => "garbage written to snapshot.tmp");
        return;
      }
      case "reopen": {
        wal.close();
        this.#note(() => "clean reopen");
        this.#start();
        return;
      }
    }
  }

  #dir: SimDirectory | undefined;

  /** Opens the log, restores the state and checks it against the model. */
  #start(): void {
    this.result.restarts++;
    // Faults hit only the snapshot's files, and only once the log is open.
    this.#disk.faults = undefined;
    const dir = SimDirectory.open(this.#disk);
    let wal: Wal;
    try {
      wal = Wal.openSegmented(dir, this.segmentSize);
    } catch (error) {
      // A power loss while recovering (a reopen inside a cycle) is a crash like any other.
      if (simulated(error)) throw error;
      return this.fail(`opening the log threw: ${describe(error)}`);
    }
    const snapshots = new Snapshots(dir);
    let state: ServiceState;
    try {
      state = restore(wal, snapshots);
    } catch (error) {
      wal.close();
      return this.fail(`restoring threw: ${describe(error)}`);
    }
    const { count, digest } = state;
    this.#note(() => `  restored ${count} records (head ${wal.head}, end ${wal.nextLsn})`);
    if (count < this.#acked) {
      return this.fail(`restored ${count} records, but ${this.#acked} were acknowledged`);
    }
    if (count > this.#appended.length) {
      return this.fail(`restored ${count} records, only ${this.#appended.length} were appended`);
    }
    if (digest !== this.#prefix[count]) {
      return this.fail(`restored ${count} records whose digest is not the appended records'`);
    }
    this.result.acknowledgedChecked += this.#acked;
    // Recovery flushed what it kept: the survivors are durable, and the rest is gone.
    this.#appended.length = count;
    this.#prefix.length = count + 1;
    this.#acked = count;
    this.#state = state;
    this.#ends = [];
    this.#appliedLsn = wal.nextLsn;
    this.#wal = wal;
    this.#dir = dir;
    this.#snapshots = snapshots;
    if (this.#faulty) {
      this.#disk.faults = (operation) =>
        operation.name.startsWith("snapshot") && operation.kind !== "close" &&
          operation.kind !== "read" && this.rng.chance(SNAPSHOT_FAULT_PERCENT)
          ? { code: this.rng.chance(50) ? "EIO" : "ENOSPC" }
          : undefined;
    }
  }

  /** Loses power (or kills the process) and remounts the disk. */
  #crash(): void {
    if (this.rng.chance(KILL_PERCENT) && !this.#disk.dead) {
      this.#note(() => "process killed");
      this.#disk.kill();
      return;
    }
    this.#note(() => "power lost");
    this.#disk = this.#disk.crash(this.rng, this.rng.pick(CRASH_MODELS));
  }
}

function simulated(error: unknown): boolean {
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    if (e instanceof SimPowerLoss || e instanceof SimProcessKilled) return true;
  }
  return false;
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const kind = error instanceof WalError ? ` (${error.kind})` : "";
  const cause = error.cause === undefined ? "" : ` <- ${describe(error.cause)}`;
  return `${error.name}${kind}: ${error.message.slice(0, 200)}${cause}`;
}
