// Copyright 2026 the wal-db authors. MIT license.
// Tests for src/segment_flushes.ts: which segments a segmented log has not flushed yet.

import { deepEqual, equal, ok } from "node:assert/strict";
import { SegmentedStore, Wal } from "../mod.ts";
import type { WalDirectory } from "../src/directory.ts";
import { SegmentFlushes } from "../src/segment_flushes.ts";
import { SegmentHandles } from "../src/segment_handles.ts";
import { segmentName } from "../src/segments.ts";
import { SimDirectory, SimDisk } from "./_sim_disk.ts";

/** `inner` without `openAsync`: a store then creates each segment when the log reaches it. */
function withoutSpares(inner: SimDirectory): WalDirectory {
  return {
    path: inner.path,
    durability: inner.durability,
    list: () => inner.list(),
    sizeOf: (name) => inner.sizeOf(name),
    open: (name, create) => inner.open(name, create),
    remove: (name) => inner.remove(name),
    rename: (from, to) => inner.rename(from, to),
    sync: () => inner.sync(),
    syncAsync: () => inner.syncAsync(),
    close: () => inner.close(),
  };
}

Deno.test("SegmentFlushes: a flush settles the segments it covered, not those appended during it", async () => {
  const dir = SimDirectory.open(new SimDisk());
  for (const index of [0, 1]) dir.open(segmentName(index), true).close();
  const handles = new SegmentHandles(dir);
  const flushes = new SegmentFlushes(dir, handles, () => true);
  flushes.appended(0);
  flushes.appended(1);
  flushes.directoryChanged();
  flushes.flushSync();
  deepEqual(flushes.segments, []);
  flushes.appended(1);
  const running = flushes.flush();
  flushes.appended(1); // appended again while the flush runs: it stays unflushed
  await running;
  deepEqual(flushes.segments, [1]);
  flushes.forget(1);
  deepEqual(flushes.segments, []);
  for (const file of handles.takeAll()) file.close();
  dir.close();
});

Deno.test("SegmentFlushes: rotations rename the spare a flush made, and leave what creating leaves", async () => {
  const SPARE = "next-segment.tmp";
  const run = async (spares: boolean) => {
    const disk = new SimDisk();
    const kinds: string[] = [];
    disk.faults = (operation) => void kinds.push(`${operation.kind} ${operation.name}`);
    const inner = SimDirectory.open(disk);
    const dir = spares ? inner : withoutSpares(inner);
    const wal = Wal.withStore(SegmentedStore.open(dir, 100));
    const lsns: number[] = [];
    for (let i = 0; i < 40; i++) {
      lsns.push(wal.append(new Uint8Array(30).fill(i)));
      if (i % 3 === 2) await wal.sync();
    }
    const entries = [...wal.iter()];
    wal.close();
    await wal.closed;
    const files = disk.names().map((name) => [name, disk.bytesOf(name)]);
    const renames = kinds.filter((k) => k.startsWith(`rename ${SPARE}`)).length;
    return { lsns, entries, files, renames };
  };
  const fast = await run(true);
  const slow = await run(false);
  ok(fast.renames >= 5, `${fast.renames} rotations renamed the spare`);
  equal(slow.renames, 0);
  deepEqual(fast.lsns, slow.lsns);
  deepEqual(fast.entries, slow.entries);
  deepEqual(fast.files, slow.files, "the same files, and no spare once closed");
});

Deno.test("SegmentFlushes: the append that creates a segment leaves the directory flush to the turn's end", async () => {
  for (const spares of [true, false]) {
    const disk = new SimDisk();
    const syncs: string[] = [];
    disk.faults = (operation) => void (operation.kind === "sync" && syncs.push(operation.name));
    const inner = SimDirectory.open(disk);
    const dir = spares ? inner : withoutSpares(inner);
    const wal = Wal.withStore(SegmentedStore.open(dir, 100));
    for (let i = 0; i < 2; i++) wal.append(new Uint8Array(30));
    await wal.sync();
    await null;
    const before = syncs.length;
    const segments = () => disk.names().filter((name) => name.endsWith(".wal")).length;
    const count = segments();
    while (segments() === count) wal.append(new Uint8Array(30));
    equal(syncs.length, before, "no directory flush started inside the append");
    await null;
    equal(syncs.length, before + 1, "started when the turn's code was done");
    wal.close();
    await wal.closed;
  }
});
