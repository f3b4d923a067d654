// Copyright 2026 the wal-db authors. MIT license.
// Tests for src/segment_flushes.ts: which segments a segmented log has not flushed yet.

import { deepEqual, equal, ok } from "node:assert/strict";
import { SegmentedStore, Wal } from "../mod.ts";
import type { WalDirectory } from "../src/directory.ts";
import { SegmentFlushes } from "../src/segment_flushes.ts";
import { SegmentHandles } from "../src/segment_handles.ts";
import { segmentName } from "../src/segments.ts";
import { CRASH_MODEL_LOSE_ALL, SimDirectory, SimDisk } from "./_sim_disk.ts";
import { Rng } from "./_rng.ts";

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
    // Without openAsync, a store creates each segment when the log reaches it (the slow path).
    const dir: WalDirectory = spares ? inner : {
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

/** A directory whose files count blocking and background flushes apart. */
function countingFlushes(
  inner: WalDirectory,
): WalDirectory & { blocking: string[]; background: string[] } {
  const blocking: string[] = [];
  const background: string[] = [];
  return {
    blocking,
    background,
    path: inner.path,
    durability: inner.durability,
    list: () => inner.list(),
    sizeOf: (name) => inner.sizeOf(name),
    open: (name, create) => {
      const file = inner.open(name, create);
      return {
        get size() {
          return file.size;
        },
        readAt: (offset, buffer) => file.readAt(offset, buffer),
        append: (data) => file.append(data),
        truncate: (size) => file.truncate(size),
        flushSync: () => (blocking.push(name), file.flushSync()),
        flush: () => (background.push(name), file.flush()),
        close: () => file.close(),
      };
    },
    remove: (name) => inner.remove(name),
    rename: (from, to) => inner.rename(from, to),
    sync: () => inner.sync(),
    syncAsync: () => inner.syncAsync!(),
    close: () => inner.close(),
  };
}

Deno.test("SegmentFlushes: a segment left behind is flushed off the main thread, never inside append", async () => {
  const disk = new SimDisk();
  const dir = countingFlushes(SimDirectory.open(disk));
  const wal = Wal.withStore(SegmentedStore.open(dir, 16));
  dir.blocking.length = 0; // the new log's segment-size file
  const segments = 4 * 8; // four times the bound on parked segments (SEGMENT_UNFLUSHED_OPEN_MAX)
  for (let i = 0; i < segments; i++) {
    wal.append(new Uint8Array(8).fill(i)); // 16 bytes with its header: one segment each
    await new Promise((resolve) => setTimeout(resolve, 0)); // the event loop turns
  }
  deepEqual(dir.blocking, [], "no flush blocked an append");
  deepEqual(
    dir.background.toSorted(),
    Array.from({ length: segments - 1 }, (_, i) => segmentName(i)),
    "each segment was flushed once it was left behind",
  );
  // A sync now flushes the one being written (the others are done), and resolves only after.
  await wal.sync();
  equal(dir.background.filter((name) => name === segmentName(segments - 1)).length, 1);
  // What the sync acknowledged survives a power loss.
  wal.close();
  const crashed = disk.crash(new Rng(5), CRASH_MODEL_LOSE_ALL);
  const again = Wal.withStore(SegmentedStore.open(SimDirectory.open(crashed), 16));
  equal(again.nextLsn, segments * 16);
  again.close();
});

Deno.test("SegmentFlushes: a failed flush of a segment left behind fails the next sync", async () => {
  const disk = new SimDisk();
  const wal = Wal.withStore(SegmentedStore.open(SimDirectory.open(disk), 16));
  disk.faults = ({ kind, name }) =>
    kind === "flush" && name === segmentName(1) ? { code: "EIO" } : undefined;
  for (let i = 0; i < 4; i++) wal.append(new Uint8Array(8).fill(i));
  await new Promise((resolve) => setTimeout(resolve, 0)); // segment 1's flush fails meanwhile
  disk.faults = undefined;
  let failed = false;
  await wal.sync().catch(() => failed = true);
  ok(failed, "the sync does not resolve over the failed flush");
  wal.close();
});
