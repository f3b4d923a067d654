// Copyright 2026 the wal-db authors. MIT license.
// Cursors (iter, iterFrom, tail) across truncations: a cursor never yields a record the log no
// longer holds; it reports the cut with a "truncated" WalError instead.

import { deepEqual, equal, rejects, throws } from "node:assert/strict";
import { join } from "node:path";
import { WalError } from "../src/errors.ts";
import { MemStore } from "../src/mem_store.ts";
import { SegmentedStore } from "../src/segmented_store.ts";
import { Wal } from "../src/wal.ts";
import { bytes, withTempDir } from "./_helpers.ts";
import { SimDirectory, SimDisk } from "./_sim_disk.ts";

const text = new TextDecoder();

function truncatedAt(lsn: number) {
  return (e: unknown) => e instanceof WalError && e.kind === "truncated" && e.lsn === lsn;
}

Deno.test("tail() reports a truncation followed by appends instead of skipping the new records", async () => {
  using wal = Wal.withStore(new MemStore());
  const [a, b] = ["A", "B", "C"].map((word) => wal.append(bytes(word)));
  await wal.sync();
  const tail = wal.tail(a)[Symbol.asyncIterator]();
  const seen: string[] = [];
  for (let i = 0; i < 3; i++) seen.push(text.decode((await tail.next()).value!.data));
  deepEqual(seen, ["A", "B", "C"]);
  // The Raft conflict case: the leader's log replaces B and C; the log now holds A D E F.
  wal.truncateFrom(b!);
  for (const word of ["D", "E", "F"]) wal.append(bytes(word));
  await wal.sync();
  await rejects(tail.next(), truncatedAt(b!));
  // Reading again from the cut gives the records that replaced the removed ones.
  deepEqual([...wal.iterFrom(b!)].map((e) => text.decode(e.data)), ["D", "E", "F"]);
});

Deno.test("tail() that has not reached a cut goes on with the records that replaced the cut ones", async () => {
  using wal = Wal.withStore(new MemStore());
  const [a, b] = ["A", "B", "C"].map((word) => wal.append(bytes(word)));
  await wal.sync();
  const tail = wal.tail(a)[Symbol.asyncIterator]();
  equal(text.decode((await tail.next()).value!.data), "A");
  wal.truncateFrom(b!);
  wal.append(bytes("D"));
  await wal.sync();
  equal(text.decode((await tail.next()).value!.data), "D");
});

Deno.test("iter() stops yielding records that truncateFrom removed and throws truncated", () => {
  using wal = Wal.withStore(new MemStore());
  const [, b] = ["A", "B", "C"].map((word) => wal.append(bytes(word)));
  const iterator = wal.iter();
  equal(text.decode(iterator.next().value!.data), "A");
  equal(text.decode(iterator.next().value!.data), "B");
  wal.truncateFrom(b!);
  wal.append(bytes("D"));
  throws(() => iterator.next(), truncatedAt(b!));
});

Deno.test("iter() across a checkpoint throws truncated with the new head, not corruption", () => {
  const disk = new SimDisk();
  using wal = Wal.withStore(SegmentedStore.open(SimDirectory.open(disk), 64));
  const lsns = Array.from({ length: 12 }, (_, i) => wal.append(bytes(`record number ${i}`)));
  wal.syncSync();
  const iterator = wal.iter();
  equal(iterator.next().value!.lsn, lsns[0]);
  const head = wal.truncateBefore(lsns[8]!);
  equal(head, lsns[8]);
  throws(() => iterator.next(), truncatedAt(head));
  deepEqual([...wal.iter()].map((e) => e.lsn), lsns.slice(8));
});

Deno.test("a read-only follower that a checkpoint passed catches up and its tail reports the cut", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "log");
    using writer = Wal.openSegmented(path, 64);
    for (let i = 0; i < 3; i++) writer.append(bytes(`first ${i}`));
    await writer.sync();
    using reader = Wal.openSegmented(path, 64, { readOnly: true, lock: "none" });
    const tail = reader.tail(reader.head, { pollMs: 1 })[Symbol.asyncIterator]();
    for (let i = 0; i < 3; i++) equal(text.decode((await tail.next()).value!.data), `first ${i}`);
    const later = Array.from({ length: 40 }, (_, i) => writer.append(bytes(`later ${i}`)));
    await writer.sync();
    const head = writer.truncateBefore(later[30]!);
    // The follower's view reconciles with the files: it starts at the new head and ends where
    // the writer's log ends, rather than waiting forever inside removed segments.
    equal(reader.refresh(), writer.nextLsn);
    equal(reader.head, head);
    deepEqual([...reader.iter()].map((e) => e.lsn), later.slice(30));
    await rejects(tail.next(), truncatedAt(head));
  });
});
