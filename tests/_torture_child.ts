// Copyright 2026 the wal-db authors. MIT license.
// Child process of the torture test (tests/_torture.ts): group-committing writers on a
// segmented log, with checkpoints (truncateBefore) and occasional truncateFrom, until SIGKILL.
// Usage: deno run -A tests/_torture_child.ts <dir> <segment size> <round> <writers> <seed>
//
// It prints one line per event, each written before the next event can happen:
//   R                      opened and recovered
//   A <lsn> <round> <seq>  record <round>/<seq> at <lsn>: its sync resolved
//   P <lsn> <round> <seq>  about to call truncateBefore(<lsn>); <seq> is the next sequence number
//   C <lsn>                truncateBefore(<lsn>) returned
//   F <lsn> <round> <seq>  about to call truncateFrom(<lsn>)
//   T <lsn>                truncateFrom(<lsn>) returned

import { Wal } from "../mod.ts";
import { Rng } from "./_rng.ts";
import { killPayload } from "./_kill_payload.ts";

/** Checkpoint after about this many acknowledged records (a random share of it). */
const CHECKPOINT_EVERY_ACKS = 24;
/** A truncateFrom happens at about one checkpoint in this many. */
const TRUNCATE_FROM_ONE_IN = 4;
/** truncateFrom cuts at one of this many most recent records. */
const TRUNCATE_FROM_RECENT = 4;

const [dir, segmentText, roundText, writersText, seedText] = Deno.args;
const round = Number(roundText);
const rng = new Rng(Number(seedText));
const encoder = new TextEncoder();
const wal = Wal.openSegmented(dir!, Number(segmentText));
/** The LSNs of the records in the log, in order (what truncations may name). */
let boundaries = [...wal.iter()].map((entry) => entry.lsn);
let seq = 0;
let acksSinceCheckpoint = 0;

function print(line: string): void {
  const bytes = encoder.encode(line + "\n");
  for (let done = 0; done < bytes.length;) done += Deno.stdout.writeSync(bytes.subarray(done));
}

/** A checkpoint at an older record, or now and then a cut at a recent one. */
function maintain(): void {
  if (boundaries.length < 2) return;
  if (rng.below(TRUNCATE_FROM_ONE_IN) === 0) {
    const lsn = boundaries[Math.max(0, boundaries.length - rng.int(1, TRUNCATE_FROM_RECENT))]!;
    print(`F ${lsn} ${round} ${seq}`);
    wal.truncateFrom(lsn);
    boundaries = boundaries.filter((b) => b < lsn);
    print(`T ${lsn}`);
    return;
  }
  const lsn = boundaries[rng.below(Math.ceil(boundaries.length / 2))]!;
  print(`P ${lsn} ${round} ${seq}`);
  wal.truncateBefore(lsn);
  boundaries = boundaries.filter((b) => b >= lsn);
  print(`C ${lsn}`);
}

async function writer(): Promise<never> {
  for (;;) {
    // Taking the sequence number and appending in one synchronous step makes LSN order equal
    // sequence order, which is what lets the parent check for a clean prefix.
    const s = seq++;
    const lsn = wal.append(killPayload(round, s));
    boundaries.push(lsn);
    await wal.sync();
    print(`A ${lsn} ${round} ${s}`);
    if (++acksSinceCheckpoint >= rng.int(1, CHECKPOINT_EVERY_ACKS)) {
      acksSinceCheckpoint = 0;
      maintain();
    }
  }
}

print("R");
await Promise.all(Array.from({ length: Number(writersText) }, writer));
