// Copyright 2026 the wal-db authors. MIT license.
// The process the LazyFS suite (tools/lazyfs.ts) runs on the mount and kills: concurrent
// group-committing writers (`await sync()`, some `syncSync()`, some `appendBatch`) on a
// single-file or segmented log, with checkpoints on the segmented one (half of them with
// `truncateBeforeAsync`, beside the writers), until killed.
//
//   deno run --allow-read --allow-write --allow-env [--allow-ffi] tools/lazyfs_workload.ts \
//     <dir> <single|segmented> <segment size> <cycle> <writers> <seed> [early-ack]
//
// It prints each event on its own line before the next one can happen (the format is in
// tools/_lazyfs_model.ts): `O` once open, `A` for every acknowledged record, `P`/`C` around
// each checkpoint, `X` if it stops on an error. With `early-ack` (a negative control) it prints
// `A` right after appending and never syncs, which the suite must catch as lost records.

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

let seq = 0;
let acksSinceCheckpoint = 0;
let checkpointAfter = rng.int(CHECKPOINT_AFTER_ACKS_MIN, CHECKPOINT_AFTER_ACKS_MAX);
/** Acknowledged LSNs at or above the head, in order: where a checkpoint may move the head. */
let boundaries: number[] = [];

/** Set while a checkpoint made with `truncateBeforeAsync` runs: one at a time. */
let checkpointRunning = false;

async function checkpoint(): Promise<void> {
  // Writers acknowledge out of order, so a record acknowledged late may lie below the head.
  boundaries = boundaries.filter((b) => b >= wal.head);
  if (layout !== "segmented" || boundaries.length < 2 || checkpointRunning) return;
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

async function writer(): Promise<never> {
  for (;;) {
    // Taking the sequence numbers and appending in one synchronous step makes LSN order equal
    // sequence order, which is what lets the suite check for a clean prefix.
    const count = rng.chance(BATCH_PERCENT) ? rng.int(2, BATCH_MAX) : 1;
    const seqs = Array.from({ length: count }, () => seq++);
    const payloads = seqs.map((s) => recordPayload(cycle, s));
    const lsns = count === 1 ? [wal.append(payloads[0]!)] : wal.appendBatch(payloads);
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
    if (rng.chance(SYNC_SYNC_PERCENT)) wal.syncSync();
    else await wal.sync();
    lsns.forEach((lsn, i) => print(`A ${lsn} ${cycle} ${seqs[i]}`));
    boundaries.push(...lsns);
    acksSinceCheckpoint += count;
    if (acksSinceCheckpoint >= checkpointAfter) {
      acksSinceCheckpoint = 0;
      checkpointAfter = rng.int(CHECKPOINT_AFTER_ACKS_MIN, CHECKPOINT_AFTER_ACKS_MAX);
      await checkpoint();
    }
  }
}

try {
  await Promise.all(Array.from({ length: Number(writersText) }, writer));
} catch (error) {
  print(`X ${String(error).replaceAll("\n", " ")}`);
  Deno.exit(1);
}
