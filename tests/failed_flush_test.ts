// Copyright 2026 the wal-db authors. MIT license.
// Issue 10, class 4: a failed flush never comes back as durable after a reopen in the same boot.
//
// Goal: after a flush fails, Linux keeps the bytes it could not write in the page cache, marked
// clean, and reports the error once. A reopen in the same boot must not read them back and call
// them durable: every record acknowledged after that reopen survives the next power loss.
// Method: fixed scenarios on the simulated disk (tests/_sim_disk.ts), which models that page
// cache, for each layout and each kind of flush; then stores whose cut fails too.

import { deepEqual, equal, ok, rejects, throws } from "node:assert/strict";
import { MemStore, SegmentedStore, Wal, WalError, type WalStore } from "../mod.ts";
import { Rng } from "./_rng.ts";
import {
  CRASH_MODEL_LOSE_ALL,
  SimDirectory,
  SimDisk,
  type SimFault,
  type SimOperationKind,
  SimStore,
} from "./_sim_disk.ts";
import { bytes } from "./_helpers.ts";

const SEGMENT_SIZE = 16;

type Layout = "single file" | "segmented";
const LAYOUTS: readonly Layout[] = ["single file", "segmented"];
type FlushKind = "sync" | "syncSync";
const FLUSH_KINDS: readonly FlushKind[] = ["sync", "syncSync"];

function open(disk: SimDisk, layout: Layout): Wal {
  const store: WalStore = layout === "single file"
    ? SimStore.open(disk)
    : SegmentedStore.open(SimDirectory.open(disk), SEGMENT_SIZE);
  return Wal.withStore(store);
}

/** Fails the next operation of `kind` (on a file whose name matches), once. */
function failNext(
  disk: SimDisk,
  kind: SimOperationKind,
  fault: SimFault = { code: "EIO" },
  name: RegExp = /.*/,
): void {
  let done = false;
  disk.faults = (operation) => {
    if (done || operation.kind !== kind || !name.test(operation.name)) return undefined;
    done = true;
    return fault;
  };
}

const failed = (e: unknown) => e instanceof WalError && e.kind === "failed";

function payloads(wal: Wal): string[] {
  return [...wal.iter()].map((e) => new TextDecoder().decode(e.data));
}

async function flushFails(wal: Wal, kind: FlushKind): Promise<WalError> {
  if (kind === "syncSync") {
    let error: unknown;
    throws(() => wal.syncSync(), (e) => (error = e, failed(e)));
    return error as WalError;
  }
  let error: unknown;
  await rejects(wal.sync(), (e) => (error = e, failed(e)));
  return error as WalError;
}

for (const layout of LAYOUTS) {
  for (const kind of FLUSH_KINDS) {
    Deno.test(`${layout}, ${kind}: a record acknowledged after a reopen that follows a failed flush survives a power loss`, async () => {
      const disk = new SimDisk();
      const wal = open(disk, layout);
      wal.append(bytes("synced before"));
      await wal.sync();
      wal.append(bytes("its flush fails"));
      failNext(disk, "flush");
      await flushFails(wal, kind);
      disk.faults = undefined;
      wal.close();
      // The failure message says to reopen; in the same boot the page cache still holds the
      // bytes the failed flush did not write.
      const reopened = open(disk, layout);
      equal(reopened.durableLsn, reopened.nextLsn);
      reopened.append(bytes("acknowledged after the reopen"));
      await reopened.sync();
      const acknowledged = payloads(reopened);
      reopened.close();
      using after = open(disk.crash(new Rng(0), CRASH_MODEL_LOSE_ALL), layout);
      deepEqual(payloads(after), acknowledged, "every acknowledged record survives");
      ok(payloads(after).includes("acknowledged after the reopen"));
    });
  }
}
