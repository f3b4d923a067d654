// Copyright 2026 the wal-db authors. MIT license.
// Fuzzing recovery and iteration: each seed builds one input (random bytes, a valid log with
// byte surgery, or a directory of segment files with or without a head file), opens it with a
// random policy and maxRecordSize, reads it back and calls the LSN-taking methods with random
// LSNs. The rules: only WalError escapes (the arguments are always well-typed), everything
// terminates within a read budget, no read asks for more than maxRecordSize + 8 bytes or one
// reader chunk (a replay chunk on the fast path), and what iteration returns agrees with itself and with the recovery report.

import {
  type Entry,
  MemStore,
  type RecoveryPolicy,
  SegmentedStore,
  Wal,
  type WalConfig,
  WalError,
  type WalStore,
} from "../mod.ts";
import {
  HEAD_FILE_NAME,
  HEAD_TEMP_FILE_NAME,
  HEADER_SIZE,
  READ_CHUNK_SIZE,
  REPLAY_CHUNK_SIZE,
} from "../src/constants.ts";
import { frame } from "../src/record.ts";
import { encodeHead, segmentName } from "../src/segments.ts";
import { Rng } from "./_rng.ts";
import { SimDirectory, SimDisk } from "./_sim_disk.ts";
import { concat, ForwardingStore } from "./_helpers.ts";

const RECORDS_MAX = 12;
const PAYLOAD_MAX = 96;
const RANDOM_INPUT_MAX = 1024;
const SEGMENT_SIZE_MAX = 256;
const MUTATIONS_MAX = 4;
const LSN_PROBES = 3;
const APPENDED_MAX = 16;
const SMALL_MAX_RECORD_SIZE = 128;
/** A maxRecordSize far above any input, so every length an input holds looks plausible. */
const HUGE_MAX_RECORD_SIZE = 1024 * 1024 * 1024;
/** One input in this many is large: see `largeInput`. */
const LARGE_INPUT_ONE_IN = 200;
const LARGE_INPUT_MIN = 64 * 1024;
const LARGE_INPUT_MAX = 6 * 1024 * 1024;
const LARGE_PAYLOAD_MAX = 4096;
/**
 * Largest run of missing segment indices the fuzzer puts in a directory. Recovery reads a
 * missing run as zeros and scans it, so its time grows with the gap (see the "far segment" test
 * in fuzz_test.ts); raise this once that is bounded.
 */
const SEGMENT_GAP_MAX = 8;
/** Bytes the log may read per input, as a multiple of what the input holds (plus one chunk). */
const READ_BUDGET_FACTOR = 64;
const POLICIES: readonly RecoveryPolicy[] = ["tolerate-torn-tail", "strict", "skip", "truncate"];

/** Thrown by the measuring store when an input reads more than its budget: a non-terminating scan. */
export class ReadBudgetExceeded extends Error {
  override name = "ReadBudgetExceeded";
}

/** Figures of a fuzzing run. */
export interface FuzzFigures {
  inputs: number;
  segmented: number;
  opened: number;
  refused: number;
  recordsRead: number;
  largestRead: number;
  /** Large inputs (64 KiB to several MiB) among them. */
  large: number;
  /** The largest input, in bytes. */
  largestInput: number;
}

/** One input's outcome. */
export interface FuzzResult {
  seed: number;
  failure: string | undefined;
  figures: FuzzFigures;
}

/** Figures with every count at zero. */
export function emptyFuzzFigures(): FuzzFigures {
  return {
    inputs: 0,
    segmented: 0,
    opened: 0,
    refused: 0,
    recordsRead: 0,
    largestRead: 0,
    large: 0,
    largestInput: 0,
  };
}

/** Adds `part` into `total` (the largest read is a maximum, not a sum). */
export function addFuzzFigures(total: FuzzFigures, part: FuzzFigures): void {
  total.inputs += part.inputs;
  total.segmented += part.segmented;
  total.opened += part.opened;
  total.refused += part.refused;
  total.recordsRead += part.recordsRead;
  total.largestRead = Math.max(total.largestRead, part.largestRead);
  total.large += part.large;
  total.largestInput = Math.max(total.largestInput, part.largestInput);
}

/** The command that replays one input. */
export function fuzzReplayCommand(seed: number): string {
  return `WAL_SEED=${seed} deno task fuzz`;
}

/**
 * A store that forwards to another and measures every read: the largest buffer asked for, and
 * the total, which must stay within a budget.
 */
export class MeasuredStore extends ForwardingStore {
  largestRead = 0;
  #bytesRead = 0;

  constructor(inner: WalStore, readonly budget: number) {
    super(inner);
  }

  override readAt(offset: number, buffer: Uint8Array): number {
    this.largestRead = Math.max(this.largestRead, buffer.length);
    this.#bytesRead += buffer.length;
    if (this.#bytesRead > this.budget) {
      throw new ReadBudgetExceeded(`read ${this.#bytesRead} bytes, budget ${this.budget}`);
    }
    return this.inner.readAt(offset, buffer);
  }
}

function payloadOf(rng: Rng): Uint8Array {
  return rng.bytes(rng.chance(80) ? rng.int(0, 24) : rng.int(0, PAYLOAD_MAX));
}

/** A valid log of a few records. */
function validLog(rng: Rng): Uint8Array {
  const frames = Array.from({ length: rng.int(0, RECORDS_MAX) }, () => frame(payloadOf(rng)));
  return concat(frames);
}

/** Random bytes, biased towards what makes plausible headers: zeros and small numbers. */
function randomBytes(rng: Rng): Uint8Array {
  const bytes = rng.bytes(rng.logSize(0, RANDOM_INPUT_MAX));
  const bias = rng.below(3);
  for (let i = 0; i < bytes.length; i++) {
    if (bias === 1 && rng.chance(70)) bytes[i] = 0;
    if (bias === 2 && rng.chance(60)) bytes[i] = bytes[i]! & 0x0f;
  }
  return bytes;
}

/** One piece of byte surgery on a log image. */
function mutate(rng: Rng, bytes: Uint8Array): Uint8Array {
  if (bytes.length === 0) return rng.bytes(rng.int(1, 16));
  const at = rng.below(bytes.length);
  const out = bytes.slice();
  switch (rng.below(6)) {
    case 0: // bit flip
      out[at]! ^= 1 << rng.below(8);
      return out;
    case 1: // truncation
      return out.subarray(0, at);
    case 2: { // splice: a copy of one range over another
      const from = rng.below(bytes.length);
      out.set(bytes.subarray(from, from + rng.int(1, 64)).subarray(0, out.length - at), at);
      return out;
    }
    case 3: // a run of zeros
      out.fill(0, at, at + rng.int(1, 64));
      return out;
    case 4: { // a huge or boundary-case length field
      const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
      const length = rng.pick([0xffff_ffff, 0x8000_0000, out.length - at, rng.next(), 0]);
      if (at + 8 <= out.length) view.setUint32(at + 4, length >>> 0, true);
      return out;
    }
    default: // junk appended
      return concat([out, rng.bytes(rng.int(1, 32))]);
  }
}

function mutatedLog(rng: Rng): Uint8Array {
  let bytes = validLog(rng);
  for (let i = rng.int(1, MUTATIONS_MAX); i > 0; i--) bytes = mutate(rng, bytes);
  return bytes;
}

/** A head file: valid at a random offset, or damaged in one of several ways. */
function headFile(rng: Rng, logSize: number): Uint8Array {
  switch (rng.below(5)) {
    case 0:
      return encodeHead(rng.int(0, logSize));
    case 1:
      return encodeHead(rng.next() * 2 ** 21 + rng.next());
    case 2:
      return mutate(rng, encodeHead(rng.int(0, logSize)));
    case 3:
      return rng.bytes(rng.int(0, 16));
    default:
      return encodeHead(0);
  }
}

/** A segment directory: a (maybe damaged) log split into segments, then directory surgery. */
function segmentDirectory(rng: Rng): { disk: SimDisk; segmentSize: number } {
  const segmentSize = rng.logSize(1, SEGMENT_SIZE_MAX);
  const bytes = rng.chance(30) ? validLog(rng) : mutatedLog(rng);
  const disk = new SimDisk({ path: "/fuzz" });
  const count = Math.ceil(bytes.length / segmentSize);
  let index = rng.chance(20) ? rng.int(0, 3) : 0;
  for (let k = 0; k < count; k++) {
    if (rng.chance(8)) index += rng.int(1, SEGMENT_GAP_MAX); // a missing run
    let part = bytes.subarray(k * segmentSize, (k + 1) * segmentSize);
    if (rng.chance(10)) part = part.subarray(0, rng.below(part.length + 1)); // short segment
    if (!rng.chance(5)) disk.writeFile(segmentName(index), part);
    index++;
  }
  if (rng.chance(50)) disk.writeFile(HEAD_FILE_NAME, headFile(rng, bytes.length));
  if (rng.chance(10)) disk.writeFile(HEAD_TEMP_FILE_NAME, rng.bytes(rng.int(0, 16)));
  if (rng.chance(10)) disk.writeFile(rng.pick(["notes.txt", "damaged-3", "0.wal"]), rng.bytes(8));
  return { disk, segmentSize };
}

function configOf(rng: Rng): WalConfig {
  const maxRecordSize = rng.chance(25)
    ? rng.int(0, SMALL_MAX_RECORD_SIZE)
    : rng.chance(10)
    ? HUGE_MAX_RECORD_SIZE
    : undefined;
  return {
    recoveryPolicy: rng.pick(POLICIES),
    ...(maxRecordSize === undefined ? {} : { maxRecordSize }),
  };
}

/**
 * A large input (64 KiB to several MiB), one in `LARGE_INPUT_ONE_IN`: another program's file
 * whose first header is plausible, or a long log with damage in it. What it checks: recovery
 * ends within the read budget (one pass, whatever maxRecordSize is) and a refused file is
 * left as it was.
 */
function largeInput(rng: Rng): Uint8Array {
  const size = rng.logSize(LARGE_INPUT_MIN, LARGE_INPUT_MAX);
  if (rng.chance(50)) {
    const bytes = rng.bytes(size);
    const bias = rng.below(3);
    for (let i = 0; i < bytes.length; i++) {
      if (bias === 1 && rng.chance(70)) bytes[i] = 0;
      if (bias === 2) bytes[i] = bytes[i]! & 0x0f;
    }
    new DataView(bytes.buffer).setUint32(4, rng.int(0, size), true);
    return bytes;
  }
  const frames: Uint8Array[] = [];
  for (let at = 0; at < size;) {
    const record = frame(rng.bytes(rng.logSize(0, LARGE_PAYLOAD_MAX)));
    frames.push(record);
    at += record.length;
  }
  let bytes = concat(frames);
  for (let i = rng.int(1, MUTATIONS_MAX); i > 0; i--) {
    if (rng.chance(30)) {
      const sector = rng.below(Math.ceil(bytes.length / 512));
      bytes = bytes.slice();
      bytes.fill(0, sector * 512, (sector + rng.int(1, 4)) * 512); // lost sectors
    } else {
      bytes = mutate(rng, bytes);
    }
  }
  return bytes;
}

/** Builds the store of one input. */
function inputStore(rng: Rng, figures: FuzzFigures): WalStore {
  if (rng.below(LARGE_INPUT_ONE_IN) === 0) {
    figures.large = 1;
    return new MemStore(largeInput(rng));
  }
  const kind = rng.below(3);
  if (kind === 0) return new MemStore(randomBytes(rng));
  if (kind === 1) return new MemStore(mutatedLog(rng));
  figures.segmented = 1;
  const { disk, segmentSize } = segmentDirectory(rng);
  return SegmentedStore.open(SimDirectory.open(disk), segmentSize);
}

/**
 * Only WalError may escape (every argument the fuzzer passes has the right type), and never one
 * that wraps a broken internal invariant: that is a bug reported as an I/O error.
 */
function unexpected(error: unknown): boolean {
  if (!(error instanceof WalError)) return true;
  for (let e: unknown = error.cause; e instanceof Error; e = e.cause) {
    if (e.name === "AssertionError") return true;
  }
  return false;
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const kind = error instanceof WalError ? ` (${error.kind})` : "";
  const cause = error.cause instanceof Error
    ? ` <- ${error.cause.name}: ${error.cause.message}`
    : "";
  return `${error.name}${kind}: ${error.message}${cause}`;
}

/** Runs one input. Never throws: a broken rule is returned as `failure`. */
export function fuzzOne(seed: number): FuzzResult {
  const rng = new Rng(seed);
  const figures = emptyFuzzFigures();
  figures.inputs = 1;
  const result: FuzzResult = { seed, failure: undefined, figures };
  const config = configOf(rng);
  let store: WalStore;
  try {
    store = inputStore(rng, figures);
  } catch (error) {
    if (unexpected(error)) result.failure = `opening the store threw ${describe(error)}`;
    else figures.refused = 1;
    return result;
  }
  figures.largestInput = store.size - store.head;
  const before = store instanceof MemStore ? store.bytes().slice() : undefined;
  const budget = READ_BUDGET_FACTOR * (store.size - store.head) + READ_CHUNK_SIZE;
  const measured = new MeasuredStore(store, budget);
  try {
    exercise(rng, measured, config, figures);
  } catch (error) {
    result.failure = describe(error);
  }
  if (figures.refused === 1 && before !== undefined && !sameBytes(before, store)) {
    result.failure ??= "a refused open changed the log's bytes";
  }
  // The fast path reads a fixed-size chunk (never more than the log holds), whatever a length
  // field says: only a length may not drive a read past maxRecordSize + 8.
  const chunk = Math.max(READ_CHUNK_SIZE, REPLAY_CHUNK_SIZE);
  const limit = Math.max((config.maxRecordSize ?? Infinity) + HEADER_SIZE, chunk);
  figures.largestRead = measured.largestRead;
  if (measured.largestRead > limit) {
    result.failure ??= `a read asked for ${measured.largestRead} bytes, above the bound ${limit}`;
  }
  return result;
}

function sameBytes(before: Uint8Array, store: WalStore): boolean {
  const after = (store as MemStore).bytes();
  return after.length === before.length && after.every((b, i) => b === before[i]);
}

/** Opens, reads and probes one input; throws (anything) to report a broken rule. */
function exercise(rng: Rng, store: MeasuredStore, config: WalConfig, figures: FuzzFigures): void {
  let wal: Wal;
  try {
    wal = Wal.withStore(store, config);
  } catch (error) {
    if (!unexpected(error)) {
      figures.refused = 1;
      return;
    }
    throw new Error(`open threw ${describe(error)}`, { cause: error });
  }
  try {
    figures.opened = 1;
    const entries = readAll(wal);
    figures.recordsRead = entries.length;
    if (entries.length !== wal.recovery.recordCount) {
      throw new Error(
        `iteration found ${entries.length} records, the report ${wal.recovery.recordCount}`,
      );
    }
    probeLsns(rng, wal, entries);
    probeWrites(rng, wal, entries);
  } finally {
    wal.close();
  }
}

function readAll(wal: Wal): Entry[] {
  try {
    return [...wal.iter()];
  } catch (error) {
    throw new Error(`iterating a freshly recovered log threw ${describe(error)}`, { cause: error });
  }
}

/** iterFrom at record LSNs yields the same records; at any other LSN it refuses cleanly. */
function probeLsns(rng: Rng, wal: Wal, entries: readonly Entry[]): void {
  for (let i = 0; i < LSN_PROBES; i++) {
    const index = rng.below(entries.length + 1);
    const known = entries[index];
    const lsn = rng.chance(50) && known !== undefined
      ? known.lsn
      : rng.int(wal.head - 2, wal.nextLsn + 2) + (rng.chance(5) ? 0.5 : 0);
    let tail: Entry[];
    try {
      tail = [...wal.iterFrom(lsn)];
    } catch (error) {
      if (error instanceof WalError && error.kind === "invalid-lsn" && known?.lsn !== lsn) continue;
      throw new Error(`iterFrom(${lsn}) threw ${describe(error)}`, { cause: error });
    }
    const expected = entries.filter((e) => e.lsn >= lsn);
    if (tail.length !== expected.length || tail.some((e, k) => e.lsn !== expected[k]!.lsn)) {
      throw new Error(
        `iterFrom(${lsn}) yielded ${tail.length} records, iter() has ${expected.length} from there`,
      );
    }
  }
}

/** A random truncation or checkpoint, then an append that must read back last. */
function probeWrites(rng: Rng, wal: Wal, entries: readonly Entry[]): void {
  const lsn = rng.chance(70) && entries.length > 0
    ? rng.pick(entries).lsn
    : rng.int(wal.head, wal.nextLsn);
  const call = rng.pick(["truncateFrom", "truncateAfter", "truncateBefore"] as const);
  try {
    wal[call](lsn);
  } catch (error) {
    // "unsupported": a checkpoint on a log in one file or in memory, which cannot drop a prefix.
    if (!(error instanceof WalError && ["invalid-lsn", "unsupported"].includes(error.kind))) {
      throw new Error(`${call}(${lsn}) threw ${describe(error)}`, { cause: error });
    }
  }
  const data = rng.bytes(rng.int(0, APPENDED_MAX));
  let appended: number;
  try {
    appended = wal.append(data);
  } catch (error) {
    if (error instanceof WalError && error.kind === "record-too-large") return;
    throw new Error(`append after recovery threw ${describe(error)}`, { cause: error });
  }
  const last = [...wal.iterFrom(appended)];
  if (last.length !== 1 || last[0]!.data.length !== data.length) {
    throw new Error(`the record appended at ${appended} does not read back last`);
  }
}

/** What a run of many inputs found. */
export interface FuzzSummary {
  figures: FuzzFigures;
  failures: FuzzResult[];
}

/** Runs inputs `firstSeed`, `firstSeed + 1`, ... until `count` are done or `deadline` passes. */
export function fuzzMany(
  firstSeed: number,
  count: number,
  deadline = Number.POSITIVE_INFINITY,
): FuzzSummary {
  const figures = emptyFuzzFigures();
  const failures: FuzzResult[] = [];
  for (let i = 0; i < count && performance.now() < deadline; i++) {
    const result = fuzzOne(firstSeed + i);
    addFuzzFigures(figures, result.figures);
    if (result.failure !== undefined) failures.push(result);
  }
  return { figures, failures };
}
