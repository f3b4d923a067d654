// Copyright 2026 the wal-db authors. MIT license.
// Tests for src/wal_writes.ts: which record at the LSN given each truncation keeps, and the
// asynchronous checkpoint. The rest of the write API is tested in wal_test.ts and
// wal_segmented_test.ts; the asynchronous suffix cuts in wal_async_cuts_test.ts.

import { deepEqual, equal, rejects, throws } from "node:assert/strict";
import { WalError } from "../src/errors.ts";
import { Wal } from "../src/open.ts";
import { SegmentedStore } from "../src/segmented_store.ts";
import { bytes } from "./_helpers.ts";
import { fillWords, openSegmented, twinLogs } from "./_no_blocking.ts";
import { SimDirectory, SimDisk } from "./_sim_disk.ts";

const text = new TextDecoder();

Deno.test("truncateFrom drops the record at the LSN given; truncateAfter and truncateBefore keep it", () => {
  using wal = Wal.withStore(SegmentedStore.open(SimDirectory.open(new SimDisk()), 64));
  const lsns = ["a", "b", "c", "d", "e"].map((word) => wal.append(bytes(word)));
  const words = () => [...wal.iter()].map((e) => text.decode(e.data));
  wal.truncateFrom(lsns[4]!);
  deepEqual(words(), ["a", "b", "c", "d"]);
  wal.truncateAfter(lsns[2]!);
  deepEqual(words(), ["a", "b", "c"]);
  wal.truncateBefore(lsns[1]!);
  deepEqual(words(), ["b", "c"]);
});

Deno.test("truncateBeforeAsync leaves the same files as truncateBefore, flushing only off the main thread", async () => {
  const { blocking, slow, fast, slowDisk, fastDisk, lsns } = twinLogs(40);
  for (const at of [3, 17, 17, 39]) {
    equal(slow.truncateBefore(lsns[at]!), lsns[at]);
    blocking.forbid = true; // a blocking flush or directory flush throws now
    equal(await fast.truncateBeforeAsync(lsns[at]!), lsns[at]);
    blocking.forbid = false;
    deepEqual(fastDisk.names(), slowDisk.names());
    deepEqual(fastDisk.bytesOf("head"), slowDisk.bytesOf("head"));
    deepEqual([...fast.iter()], [...slow.iter()]);
  }
  slow.close();
  fast.close();
});

Deno.test("truncateBeforeAsync: one truncation at a time, appends go on, close waits for it", async () => {
  const disk = new SimDisk();
  const wal = openSegmented(disk, { forbid: false });
  const lsns = fillWords(wal, 30);
  const reader = wal.iterFrom(lsns[1]!);
  reader.next();
  const checkpoint = wal.truncateBeforeAsync(lsns[20]!);
  const busy = (e: unknown) => e instanceof WalError && e.kind === "busy";
  throws(() => wal.truncateFrom(lsns[25]!), busy);
  throws(() => wal.truncateAfter(lsns[25]!), busy);
  throws(() => wal.truncateBefore(lsns[25]!), busy);
  await rejects(wal.truncateBeforeAsync(lsns[25]!), busy);
  const appended = wal.append(bytes("meanwhile"));
  const synced = wal.sync();
  equal(await checkpoint, lsns[20]);
  await synced;
  equal(wal.head, lsns[20]);
  throws(() => reader.next(), (e: unknown) => e instanceof WalError && e.kind === "truncated");
  deepEqual([...wal.iter()].map((e) => e.lsn), [...lsns.slice(20), appended]);
  wal.truncateFrom(lsns[25]!); // idle again
  const last = wal.truncateBeforeAsync(lsns[24]!);
  wal.close(); // waits for the checkpoint before it closes the files
  equal(await last, lsns[24]);
  await wal.closed;
  equal(disk.openFileCount, 0);
  using again = openSegmented(disk, { forbid: false });
  equal(again.head, lsns[24]);
});
