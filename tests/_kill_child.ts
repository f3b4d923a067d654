// Copyright 2026 the wal-db authors. MIT license.
// Child process for kill_test.ts: concurrent writers append and sync until SIGKILL arrives,
// printing one line per acknowledged (durable) record.
// Usage: deno run -A tests/_kill_child.ts <log path> <round> <writers> <durability>

import { Wal } from "../mod.ts";
import type { DurabilityMode } from "../mod.ts";
import { killPayload } from "./_kill_payload.ts";

const [path, roundText, writersText, durability] = Deno.args;
const round = Number(roundText);
const wal = Wal.open(path!, { durability: durability as DurabilityMode });
const encoder = new TextEncoder();
let seq = 0;

function acknowledge(lsn: number, s: number): void {
  const line = encoder.encode(`${lsn} ${round} ${s}\n`);
  for (let done = 0; done < line.length;) done += Deno.stdout.writeSync(line.subarray(done));
}

async function writer(): Promise<never> {
  for (;;) {
    // Taking the sequence number and appending in one synchronous step makes LSN order equal
    // sequence order, which is what lets the parent check for a clean prefix.
    const s = seq++;
    const lsn = wal.append(killPayload(round, s));
    await wal.sync();
    acknowledge(lsn, s);
  }
}

acknowledge(-1, -1); // "ready": the log is open and recovered
await Promise.all(Array.from({ length: Number(writersText) }, writer));
