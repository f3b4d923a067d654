// Copyright 2026 the wal-db authors. MIT license.
// The process the LazyFS suite (tools/lazyfs.ts) runs on the mount and kills: concurrent
// group-committing writers (`await sync()`, some `syncSync()`, some `appendBatch`) on a
// single-file or segmented log, with checkpoints on the segmented one (half of them with
// `truncateBeforeAsync`, beside the writers) and suffix cuts on both (`truncateFrom`,
// `truncateAfter` and their async forms, into acknowledged and unacknowledged records), until
// killed.
//
//   deno run --allow-read --allow-write --allow-env [--allow-ffi] tools/lazyfs_workload.ts \
//     <dir> <single|segmented> <segment size> <cycle> <writers> <seed> [early-ack]
//
// It prints each event on its own line before the next one can happen (the format is in
// tools/_lazyfs_model.ts): `O` once open, `A` for every acknowledged record, `P`/`C` around
// each checkpoint, `T`/`R` around each suffix cut, `X` if it stops on an error. With `early-ack`
// (a negative control) it prints `A` right after appending, never syncs and never cuts, which
// the suite must catch as lost records.

import { join } from "node:path";
import { Wal } from "../mod.ts";
import { Rng } from "../tests/_rng.ts";
import { type Layout, recordPayload, SEGMENT_DIR_NAME, SINGLE_LOG_NAME } from "./_lazyfs_model.ts";

/** A writer appends a batch of 2 to this many records instead of one, now and then. */
const BATCH_MAX = 5;
const BATCH_PERCENT = 25;
/** Share of commits made with the blocking `syncSync()` instead of `await sync()`. */
const SYNC_SYNC_PERCENT = 20;
/** A checkpoint comes after a random number of acknowledged records in this range. */
const CHECKPOINT_AFTER_ACKS_MIN = 10;
const CHECKPOINT_AFTER_ACKS_MAX = 120;
/**
 * A suffix cut comes after a random number of acknowledged records in this range: often enough
 * that a power cut falls into one now and then (a cut takes a few milliseconds through FUSE).
 */
const CUT_AFTER_ACKS_MIN = 5;
const CUT_AFTER_ACKS_MAX = 80;
/**
 * A cut drops the last 1 to this many records of the log: deep enough to reach acknowledged
 * records (and, right after an open, the recovered ones), shallow enough to leave a log.
 */
const CUT_DEPTH_MAX = 24;
/**
 * After this share of the cuts, nothing is appended for up to CUT_PAUSE_MS_MAX, as a follower
 * waits for the leader's entries after dropping its conflicting suffix. Writers that sync at once
 * would flush the file within a millisecond of the cut, so only in such a pause can a power cut
 * catch a cut whose own flush was missing (its tail would come back).
 */
const CUT_PAUSE_PERCENT = 50;
const CUT_PAUSE_MS_MAX = 40;
/** The four suffix cuts, as the `T` line names them. */
const CUT_KINDS = ["from", "from-async", "after", "after-async"] as const;
/** The early-ack control waits this long after each false acknowledgement (it never syncs). */
const EARLY_ACK_DELAY_MS_MIN = 10;
const EARLY_ACK_DELAY_MS_MAX = 50;

const [dir, layoutText, segmentText, cycleText, writersText, seedText, mode] = Deno.args;
const layout = layoutText as Layout;
const cycle = Number(cycleText);
const earlyAck = mode === "early-ack";
const rng = new Rng(Number(seedText));
const encoder = new TextEncoder();

function print(line: string): void {
  const bytes = encoder.encode(line + "\n");
  for (let done = 0; done < bytes.length;) done += Deno.stdout.writeSync(bytes.subarray(done));
}

const wal = layout === "single"
  ? Wal.open(join(dir!, SINGLE_LOG_NAME))
  : Wal.openSegmented(join(dir!, SEGMENT_DIR_NAME), Number(segmentText));
print(`O ${wal.head} ${wal.nextLsn} ${wal.durability}`);

/** A record in the log, in LSN order: where a suffix cut may fall. */
interface Entry {
  lsn: number;
  /** Its sequence number in this cycle; -1 for a record recovered from an earlier cycle. */
  seq: number;
  /** Printed as acknowledged (recovered records are: recovery flushed them). */
  acked: boolean;
  /** Dropped by a suffix cut: a sync that resolves for it later acknowledges nothing. */
  cut: boolean;
}
const inLog: Entry[] = [];
for (const entry of wal.iter()) inLog.push({ lsn: entry.lsn, seq: -1, acked: true, cut: false });

let seq = 0;
let acksSinceCheckpoint = 0;
let checkpointAfter = rng.int(CHECKPOINT_AFTER_ACKS_MIN, CHECKPOINT_AFTER_ACKS_MAX);
/** Acknowledged LSNs at or above the head, in order: where a checkpoint may move the head. */
let boundaries: number[] = [];

/** Set while a checkpoint made with `truncateBeforeAsync` runs: one at a time. */
let checkpointRunning = false;
/**
 * Set while an asynchronous suffix cut runs: `append`, `syncSync` and every truncation throw
 * `"busy"` until it settles, so writers wait for it and maintenance skips its turn.
 */
let cutting: Promise<void> | undefined;
let acksSinceCut = 0;
let cutAfter = rng.int(CUT_AFTER_ACKS_MIN, CUT_AFTER_ACKS_MAX);

async function checkpoint(): Promise<void> {
  // Writers acknowledge out of order, so a record acknowledged late may lie below the head.
  boundaries = boundaries.filter((b) => b >= wal.head);
  if (
    layout !== "segmented" || boundaries.length < 2 || checkpointRunning || cutting !== undefined
  ) return;
  const lsn = boundaries[rng.below(Math.ceil(boundaries.length / 2))]!;
  print(`P ${lsn}`);
  // Half of them with their flushes off the main thread, while the other writers go on.
  let head: number;
  if (rng.chance(50)) {
    checkpointRunning = true;
    try {
      head = await wal.truncateBeforeAsync(lsn);
    } finally {
      checkpointRunning = false;
    }
  } else head = wal.truncateBefore(lsn);
  boundaries = boundaries.filter((b) => b >= head);
  print(`C ${head}`);
}

/**
 * Stops the workload on its first error, in the turn it is caught: when a failed cut's error
 * reached `Promise.all` only a few microtasks later, another writer began a cut on the failed
 * log first (a `T` after a `T` that never returned: seed 1175220199, crash round 4).
 */
function stop(error: unknown): never {
  print(`X ${String(error).replaceAll("\n", " ")}`);
  Deno.exit(1);
}

function printAck(entry: Entry): void {
  if (entry.acked || entry.cut) return;
  entry.acked = true;
  print(`A ${entry.lsn} ${cycle} ${entry.seq}`);
  boundaries.push(entry.lsn);
}

/**
 * A suffix cut at one of the last records of the log (never a no-op: a cut at the end flushes
 * nothing). `T <cut> <seq> <kind>` before the call, with the next sequence number: every record
 * numbered below it was appended before the cut. `R <cut>` once it returned or resolved, then an
 * `A` for each record below the cut not yet acknowledged: the cut made every byte below it
 * durable (`truncateFrom`'s contract).
 */
async function suffixCut(): Promise<void> {
  if (earlyAck || checkpointRunning || cutting !== undefined) return;
  const head = wal.head;
  const first = inLog.findIndex((e) => e.lsn >= head);
  inLog.splice(0, first < 0 ? inLog.length : first);
  const kind = rng.pick(CUT_KINDS);
  const after = kind.startsWith("after");
  const top = inLog.length - (after ? 2 : 1);
  if (top < 0) return;
  const index = rng.int(Math.max(0, inLog.length - CUT_DEPTH_MAX), top);
  const target = inLog[index]!.lsn;
  const from = after ? index + 1 : index;
  const at = inLog[from]!.lsn;
  print(`T ${at} ${seq} ${kind}`);
  for (const entry of inLog.splice(from)) entry.cut = true;
  boundaries = boundaries.filter((b) => b < at);
  // A failed cut stops the workload in the turn it fails, before any other writer runs.
  if (kind === "from" || kind === "after") {
    try {
      if (kind === "from") wal.truncateFrom(target);
      else wal.truncateAfter(target);
    } catch (error) {
      stop(error);
    }
  } else {
    const promise = kind === "from-async"
      ? wal.truncateFromAsync(target)
      : wal.truncateAfterAsync(target);
    cutting = promise.then(() => {}, () => {});
    try {
      await promise;
    } catch (error) {
      stop(error);
    }
    cutting = undefined;
  }
  print(`R ${at}`);
  for (const entry of inLog) printAck(entry);
  if (rng.chance(CUT_PAUSE_PERCENT)) {
    const delay = rng.int(1, CUT_PAUSE_MS_MAX);
    const pause = new Promise<void>((resolve) => setTimeout(resolve, delay));
    cutting = pause;
    await pause;
    cutting = undefined;
  }
}

async function writer(): Promise<never> {
  for (;;) {
    // Appends throw "busy" while an asynchronous cut runs; they continue at the cut after it.
    while (cutting !== undefined) await cutting;
    // Taking the sequence numbers and appending in one synchronous step makes LSN order equal
    // sequence order, which is what lets the suite check for a clean prefix.
    const count = rng.chance(BATCH_PERCENT) ? rng.int(2, BATCH_MAX) : 1;
    const seqs = Array.from({ length: count }, () => seq++);
    const payloads = seqs.map((s) => recordPayload(cycle, s));
    const lsns = count === 1 ? [wal.append(payloads[0]!)] : wal.appendBatch(payloads);
    const entries = lsns.map((lsn, i) => ({ lsn, seq: seqs[i]!, acked: false, cut: false }));
    if (earlyAck) {
      // The broken workload of the negative control: it reports records durable before they
      // are, and the sync it owes never comes before the power cut. It used to sync after the
      // delay, and then a cut that fell after another writer's sync lost nothing: one round in
      // a run went uncaught (seed 1493890876, round 1). No checkpoint or blocking sync flushes
      // them either; the delay only keeps the unsynced bytes few.
      lsns.forEach((lsn, i) => print(`A ${lsn} ${cycle} ${seqs[i]}`));
      const delay = rng.int(EARLY_ACK_DELAY_MS_MIN, EARLY_ACK_DELAY_MS_MAX);
      await new Promise((resolve) => setTimeout(resolve, delay));
      continue;
    }
    inLog.push(...entries);
    // In the turn of the append, so no asynchronous cut can have begun in between.
    if (rng.chance(SYNC_SYNC_PERCENT)) wal.syncSync();
    else await wal.sync();
    // A record a cut dropped meanwhile is not acknowledged: its sync may resolve all the same.
    entries.forEach(printAck);
    acksSinceCheckpoint += count;
    acksSinceCut += count;
    if (acksSinceCut >= cutAfter) {
      acksSinceCut = 0;
      cutAfter = rng.int(CUT_AFTER_ACKS_MIN, CUT_AFTER_ACKS_MAX);
      await suffixCut();
    }
    if (acksSinceCheckpoint >= checkpointAfter) {
      acksSinceCheckpoint = 0;
      checkpointAfter = rng.int(CHECKPOINT_AFTER_ACKS_MIN, CHECKPOINT_AFTER_ACKS_MAX);
      await checkpoint();
    }
  }
}

await Promise.all(
  Array.from({ length: Number(writersText) }, async () => {
    try {
      await writer();
    } catch (error) {
      stop(error);
    }
  }),
);
