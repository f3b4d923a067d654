// Copyright 2026 the wal-db authors. MIT license.
// Process-crash torture: a child appends and syncs until it is killed with SIGKILL at a random
// moment; the parent reopens the same log and checks every acknowledged record is there and
// that the log is a clean prefix of what was appended. SIGKILL keeps the page cache, so this
// checks recovery and acknowledgement order, not power loss (see the simulated-disk tests).

import { equal, ok } from "node:assert/strict";
import { join } from "node:path";
import { Wal } from "../mod.ts";
import type { DurabilityMode } from "../mod.ts";
import { parseKillPayload } from "./_kill_payload.ts";
import { withTempDir } from "./_helpers.ts";

const ROUNDS = 20;
const CHILD = new URL("./_kill_child.ts", import.meta.url).pathname;

interface Ack {
  lsn: number;
  round: number;
  seq: number;
}

/** Runs one child until it has acknowledged about `target` records, then SIGKILLs it. */
async function killRound(
  path: string,
  round: number,
  writers: number,
  durability: DurabilityMode,
  target: number,
): Promise<Ack[]> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CHILD, path, String(round), String(writers), durability],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const acks: Ack[] = [];
  let buffered = "";
  let killed = false;
  const decoder = new TextDecoder();
  for await (const chunk of child.stdout) {
    buffered += decoder.decode(chunk, { stream: true });
    const lines = buffered.split("\n");
    buffered = lines.pop()!;
    for (const line of lines) {
      const [lsn, r, s] = line.split(" ").map(Number);
      if (lsn! >= 0) acks.push({ lsn: lsn!, round: r!, seq: s! });
    }
    if (!killed && acks.length >= target) {
      child.kill("SIGKILL");
      killed = true;
    }
  }
  const status = await child.status;
  equal(status.signal, "SIGKILL", `child of round ${round} exited on its own: ${status.code}`);
  return acks; // lines already printed before the kill are acknowledgements too
}

/** Checks the log against everything acknowledged so far; returns the records per round. */
function verify(path: string, acked: Ack[]): void {
  using wal = Wal.open(path);
  const byLsn = new Map<number, { round: number; seq: number }>();
  let last = { round: -1, seq: -1 };
  for (const { lsn, data } of wal.iter()) {
    const id = parseKillPayload(data);
    ok(id !== undefined, `record at ${lsn} is not one the child wrote (a phantom)`);
    const next = id.round === last.round ? last.seq + 1 : 0;
    ok(
      id.round >= last.round && id.seq === next,
      `record at ${lsn} (${id.round}/${id.seq}) follows ${last.round}/${last.seq}: not a clean prefix`,
    );
    byLsn.set(lsn, id);
    last = id;
  }
  for (const ack of acked) {
    const found = byLsn.get(ack.lsn);
    ok(
      found?.round === ack.round && found.seq === ack.seq,
      `acknowledged record ${ack.round}/${ack.seq} at ${ack.lsn} is missing`,
    );
  }
}

async function torture(writers: number, durability: DurabilityMode): Promise<void> {
  await withTempDir(async (dir) => {
    const path = join(dir, "kill.wal");
    const acked: Ack[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const target = 1 + Math.floor(Math.random() * 300);
      acked.push(...await killRound(path, round, writers, durability, target));
      verify(path, acked);
    }
    ok(acked.length >= ROUNDS, `${acked.length} acknowledged records checked`);
  });
}

Deno.test("kill -9: every acknowledged record survives, one writer, runtime flush", async () => {
  await torture(1, "runtime");
});

Deno.test("kill -9: every acknowledged record survives, one writer, shim flush", async () => {
  await torture(1, "shim");
});

Deno.test("kill -9: every acknowledged record survives, 32 group-committing writers", async () => {
  await torture(32, "auto");
});
