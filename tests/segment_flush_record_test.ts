// Copyright 2026 the wal-db authors. MIT license.
// The flush record: its bytes, and what a writer's open trusts it for, on the simulated disk
// (copies, process kills, power loss at every step, failed flushes, files changed by others).

import { deepEqual, equal, notDeepEqual, ok } from "node:assert/strict";
import {
  FLUSH_RECORD_CLOCK_MARGIN_MS,
  FLUSH_RECORD_FILE_NAME,
  FLUSH_RECORD_INTERVAL_MS,
  FLUSH_RECORD_STALE_MAX,
  FLUSH_RECORD_TEMP_FILE_NAME,
} from "../src/constants.ts";
import type { DirectoryFile, FileFingerprint, WalDirectory } from "../src/directory.ts";
import { SegmentedStore, Wal } from "../mod.ts";
import {
  decodeFlushRecord,
  encodeFlushRecord,
  FlushRecord,
  flushStart,
} from "../src/segment_flush_record.ts";
import { segmentName } from "../src/segments.ts";
import { Rng } from "./_rng.ts";
import { CRASH_MODEL_DEFAULT, CRASH_MODEL_LOSE_ALL, SimDirectory, SimDisk } from "./_sim_disk.ts";

const SEGMENT_SIZE = 64;
/** Records of 56 bytes fill one 64-byte segment each (8 bytes of header). */
const RECORD_SIZE = SEGMENT_SIZE - 8;
/** Enough whole segments for the record to be written at the first sync. */
const SEGMENTS = FLUSH_RECORD_STALE_MAX + 4;

function record(n: number): Uint8Array {
  return new Uint8Array(RECORD_SIZE).fill(n & 0xff);
}

function open(dir: WalDirectory): Wal {
  return Wal.withStore(SegmentedStore.open(dir, SEGMENT_SIZE));
}

function values(wal: Wal): number[] {
  return [...wal.iter()].map((entry) => entry.data[0]!);
}

/** Counts the flushes of each file on `disk` while `run` runs. */
function flushesDuring(disk: SimDisk, run: () => void): Map<string, number> {
  const counts = new Map<string, number>();
  disk.faults = ({ kind, name }) => {
    if (kind === "flush") counts.set(name, (counts.get(name) ?? 0) + 1);
    return undefined;
  };
  try {
    run();
  } finally {
    disk.faults = undefined;
  }
  return counts;
}

/** A log of `SEGMENTS` full segments, synced (which writes the record) and closed. */
async function buildLog(disk: SimDisk): Promise<void> {
  const wal = open(SimDirectory.open(disk));
  for (let i = 0; i < SEGMENTS; i++) wal.append(record(i));
  await wal.sync();
  wal.close();
  await wal.closed;
}

const segmentNames = (from: number, to: number) =>
  Array.from({ length: to - from }, (_, i) => segmentName(from + i));

Deno.test("encodeFlushRecord / decodeFlushRecord round-trip, and damage is ignored", () => {
  const entries = new Map([[3, "a:b"], [1, "x y"], [200, ""]]);
  const bytes = encodeFlushRecord(entries);
  deepEqual(decodeFlushRecord(bytes), new Map([[1, "x y"], [3, "a:b"], [200, ""]]));
  deepEqual(decodeFlushRecord(encodeFlushRecord(new Map())), new Map());
  for (let at = 0; at < bytes.length; at++) {
    const flipped = bytes.slice();
    flipped[at]! ^= 0x10;
    equal(decodeFlushRecord(flipped), undefined, `byte ${at} flipped`);
  }
  equal(decodeFlushRecord(bytes.subarray(0, bytes.length - 1)), undefined);
  equal(decodeFlushRecord(new Uint8Array(0)), undefined);
});

Deno.test("a writer's open flushes only the segments the flush record does not vouch for", async () => {
  const disk = new SimDisk();
  await buildLog(disk);
  ok(disk.bytesOf(FLUSH_RECORD_FILE_NAME) !== undefined, "the sync wrote the record");
  let wal: Wal | undefined;
  const flushed = flushesDuring(disk, () => wal = open(SimDirectory.open(disk)));
  // Every segment but the last was flushed and recorded: only the one being written (which the
  // record never lists) is flushed again.
  deepEqual([...flushed.keys()].filter((name) => name.endsWith(".wal")), [
    segmentName(SEGMENTS - 1),
  ]);
  deepEqual(values(wal!), Array.from({ length: SEGMENTS }, (_, i) => i));
  wal!.close();
});

Deno.test("a copied directory carries the record, but its open flushes every segment", async () => {
  const disk = new SimDisk();
  await buildLog(disk);
  const copy = disk.copy();
  let wal: Wal | undefined;
  const flushed = flushesDuring(copy, () => wal = open(SimDirectory.open(copy)));
  for (const name of segmentNames(0, SEGMENTS)) equal(flushed.get(name), 1, name);
  const seen = values(wal!);
  wal!.close();
  // What the open replayed (and a reader may have acted on) survives a power loss.
  deepEqual(values(open(SimDirectory.open(copy.crash(new Rng(1), CRASH_MODEL_LOSE_ALL)))), seen);
});

Deno.test("a copied log with a head file opens after a power loss that follows its writer's open", async () => {
  const disk = new SimDisk();
  const wal = open(SimDirectory.open(disk));
  const lsns = Array.from({ length: SEGMENTS }, (_, i) => wal.append(record(i)));
  await wal.sync();
  wal.truncateBefore(lsns[4]!);
  wal.close();
  const copy = disk.copy();
  const reopened = open(SimDirectory.open(copy));
  const seen = values(reopened);
  reopened.close();
  // Without flushing the copied head file at open, it would be empty now, and refused.
  deepEqual(values(open(SimDirectory.open(copy.crash(new Rng(4), CRASH_MODEL_LOSE_ALL)))), seen);
});

/** A directory whose fingerprints are only sizes: what a weaker proof would trust. */
class SizeOnlyFingerprints implements WalDirectory {
  constructor(readonly inner: SimDirectory) {}
  get path(): string {
    return this.inner.path;
  }
  get durability(): string {
    return this.inner.durability;
  }
  list = () => this.inner.list();
  sizeOf = (name: string) => this.inner.sizeOf(name);
  open = (name: string, create: boolean): DirectoryFile => this.inner.open(name, create);
  remove = (name: string) => this.inner.remove(name);
  rename = (from: string, to: string) => this.inner.rename(from, to);
  sync = () => this.inner.sync();
  close = () => this.inner.close();
  fingerprint(name: string): FileFingerprint | undefined {
    const size = this.inner.sizeOf(name);
    return size === undefined ? undefined : { id: `${size}`, changedAt: -Infinity };
  }
}

Deno.test("control: a record that trusts sizes alone loses a copied log at a power loss", async () => {
  const disk = new SimDisk();
  const built = open(new SizeOnlyFingerprints(SimDirectory.open(disk)));
  for (let i = 0; i < SEGMENTS; i++) built.append(record(i));
  await built.sync();
  built.close();
  const copy = disk.copy();
  const wal = open(new SizeOnlyFingerprints(SimDirectory.open(copy)));
  const seen = values(wal);
  wal.close();
  // The test above would catch this: records the open replayed are gone after the power loss.
  notDeepEqual(values(open(SimDirectory.open(copy.crash(new Rng(1), CRASH_MODEL_LOSE_ALL)))), seen);
});

Deno.test("after a process kill the record is trusted, and acknowledged records survive a power loss", async () => {
  const disk = new SimDisk();
  const first = open(SimDirectory.open(disk));
  for (let i = 0; i < SEGMENTS; i++) first.append(record(i));
  await first.sync();
  first.append(record(100));
  disk.kill();
  const fast = open(SimDirectory.open(disk));
  const slowDisk = disk.copy();
  const slow = open(SimDirectory.open(slowDisk));
  // The fast path (the record vouches) and the slow one (a copy: every segment flushed) recover
  // the same log.
  deepEqual(values(fast), values(slow));
  fast.append(record(101));
  await fast.sync();
  const acknowledged = values(fast);
  fast.close();
  slow.close();
  deepEqual(
    values(open(SimDirectory.open(disk.crash(new Rng(2), CRASH_MODEL_LOSE_ALL)))),
    acknowledged,
  );
});

Deno.test("a segment changed by another tool after the record is flushed again at open", async () => {
  const disk = new SimDisk();
  await buildLog(disk);
  const tool = SimDirectory.open(disk);
  const file = tool.open(segmentName(3), false);
  const bytes = new Uint8Array(file.size);
  file.readAt(0, bytes);
  file.truncate(0);
  file.append(bytes); // the same bytes and size, written again: only in the page cache
  file.close();
  tool.close();
  let wal: Wal | undefined;
  const flushed = flushesDuring(disk, () => wal = open(SimDirectory.open(disk)));
  equal(flushed.get(segmentName(3)), 1);
  equal(flushed.get(segmentName(2)), undefined);
  wal!.close();
  deepEqual(
    values(open(SimDirectory.open(disk.crash(new Rng(3), CRASH_MODEL_LOSE_ALL)))),
    Array.from({ length: SEGMENTS }, (_, i) => i),
  );
});

Deno.test("after a failed flush the store writes no record, though a later flush succeeds", async () => {
  const disk = new SimDisk();
  const store = SegmentedStore.open(SimDirectory.open(disk), SEGMENT_SIZE);
  for (let i = 0; i < SEGMENTS; i++) store.append(new Uint8Array(SEGMENT_SIZE));
  // Not one of the first: those were flushed while appending, past the bound on parked ones.
  const failing = segmentName(SEGMENTS - 3);
  disk.faults = ({ kind, name }) =>
    kind === "flush" && name === failing ? { code: "EIO" } : undefined;
  let failed = false;
  await store.flush().catch(() => failed = true);
  disk.faults = undefined;
  ok(failed);
  // As on Linux, the failed write-back left the pages clean: this flush reports success, though
  // the bytes never reached the disk. A record written now would vouch for them.
  await store.flush();
  equal(disk.bytesOf(FLUSH_RECORD_FILE_NAME), undefined);
  disk.kill(); // the same boot, another process
  const flushed = flushesDuring(disk, () => open(SimDirectory.open(disk)).close());
  equal(flushed.get(failing), 1);
});

Deno.test("a record that cannot be written (a full disk) fails no flush and leaves the old one", async (t) => {
  const temp = FLUSH_RECORD_TEMP_FILE_NAME;
  const faults: [string, (op: { kind: string; name: string }) => boolean][] = [
    ["create", (op) => op.kind === "create" && op.name === temp],
    ["append", (op) => op.kind === "append" && op.name === temp],
    ["flush", (op) => op.kind === "flush" && op.name === temp],
  ];
  for (const [step, fails] of faults) {
    for (const blocking of [true, false]) {
      await t.step(`${step} of its file fails, ${blocking ? "syncSync" : "sync"}`, async () => {
        const disk = new SimDisk();
        await buildLog(disk);
        const before = disk.bytesOf(FLUSH_RECORD_FILE_NAME);
        ok(before !== undefined, "the first sync wrote a record");
        let hits = 0;
        disk.faults = (op) => fails(op) && ++hits > 0 ? { code: "ENOSPC" } : undefined;
        const wal = open(SimDirectory.open(disk));
        for (let i = 0; i < SEGMENTS; i++) wal.append(record(SEGMENTS + i));
        if (blocking) wal.syncSync();
        else await wal.sync();
        disk.faults = undefined;
        equal(hits, 1, "the sync tried to write the record once");
        deepEqual(disk.bytesOf(FLUSH_RECORD_FILE_NAME), before, "the old record stays");
        equal(values(wal).length, 2 * SEGMENTS);
        wal.append(record(0));
        await wal.sync(); // the log did not fail
        wal.close();
        await wal.closed;
      });
    }
  }
});

Deno.test("power lost at any step of a run that writes the record: the next writer's open makes what it recovers durable", async () => {
  for (let steps = 0;; steps++) {
    const disk = new SimDisk();
    disk.powerOffAfter(steps);
    let finished = false;
    try {
      await buildLog(disk);
      finished = true;
    } catch (error) {
      if (!disk.dead) throw error;
    }
    const rng = new Rng(steps);
    const crashed = disk.crash(rng, CRASH_MODEL_DEFAULT);
    // The first open (slow: a power loss makes new inodes) writes a record; the second one
    // trusts it; a process kill and a power loss after it must keep what the first one saw.
    const first = open(SimDirectory.open(crashed));
    const seen = values(first);
    await first.sync();
    first.close();
    open(SimDirectory.open(crashed)).close();
    crashed.kill();
    deepEqual(values(open(SimDirectory.open(crashed.crash(rng, CRASH_MODEL_LOSE_ALL)))), seen);
    if (finished) break;
  }
});

Deno.test("a segment appended to after a flush settled it, while a later flush runs, is not vouched for", async () => {
  // The simulated directory's fingerprints date no change (`changedAt` is -Infinity), as the
  // WalDirectory contract allows: only the record's own bookkeeping keeps it honest.
  const disk = new SimDisk();
  const store = SegmentedStore.open(SimDirectory.open(disk), SEGMENT_SIZE);
  const put = (size: number) => store.append(new Uint8Array(size).fill(size & 0xff));
  put(SEGMENT_SIZE * SEGMENTS);
  await store.flush(); // writes the record
  put(SEGMENT_SIZE * SEGMENTS + 10);
  const active = 2 * SEGMENTS;
  // The segment being written is settled with the rest; the record is not rewritten so soon.
  await store.flush();
  await new Promise((resolve) => setTimeout(resolve, FLUSH_RECORD_INTERVAL_MS + 50));
  put(10);
  const running = store.flush(); // it covers the segment as it is now...
  put(10); // ...but not this, appended after it started,
  put(SEGMENT_SIZE); // and the log moves on past it before the flush ends (the record is due)
  await running;
  store.close();
  const entries = decodeFlushRecord(disk.bytesOf(FLUSH_RECORD_FILE_NAME)!)!;
  ok(entries.has(active - 1), "the record was rewritten at the third flush");
  // Every segment the record vouches for, as its file is now, is durable as it is now.
  const dir = SimDirectory.open(disk);
  const vouched = [...entries].filter(([index, id]) =>
    dir.fingerprint(segmentName(index))?.id === id
  );
  dir.close();
  const crashed = disk.crash(new Rng(1), CRASH_MODEL_LOSE_ALL);
  for (const [index] of vouched) {
    const name = segmentName(index);
    deepEqual(crashed.bytesOf(name), disk.bytesOf(name), `${name} is vouched for`);
  }
});

Deno.test("a record whose write began before a flush failed is not put in place", async () => {
  const disk = new SimDisk();
  const dir = SimDirectory.open(disk);
  for (let index = 0; index < FLUSH_RECORD_STALE_MAX; index++) {
    const file = dir.open(segmentName(index), true);
    file.append(new Uint8Array(8));
    file.flushSync();
    file.close();
  }
  const record = new FlushRecord(dir, () => true);
  const start = flushStart();
  for (let index = 0; index < FLUSH_RECORD_STALE_MAX; index++) record.settled(index, start);
  ok(record.due(FLUSH_RECORD_STALE_MAX));
  const writing = record.writeAsync(FLUSH_RECORD_STALE_MAX);
  record.fail(); // a flush fails (on a worker thread) while the record is being written
  await writing;
  equal(disk.bytesOf(FLUSH_RECORD_FILE_NAME), undefined);
  dir.close();
});

/**
 * Fingerprints that changed `MARGIN * 3` ago, so a flush that started earlier proves nothing and
 * each candidate is flushed again; the flush of segment 0 runs `during` before it settles.
 */
class RecentlyChanged extends SizeOnlyFingerprints {
  constructor(inner: SimDirectory, readonly during: () => void, readonly gone: Set<string>) {
    super(inner);
  }
  override open = (name: string, create: boolean): DirectoryFile => {
    if (this.gone.has(name)) throw new Deno.errors.NotFound(`no ${name}`);
    const file = this.inner.open(name, create);
    if (name !== segmentName(0)) return file;
    const during = this.during;
    return {
      get size() {
        return file.size;
      },
      readAt: (offset, buffer) => file.readAt(offset, buffer),
      append: (data) => file.append(data),
      truncate: (size) => file.truncate(size),
      flushSync: () => file.flushSync(),
      flush: async () => {
        during();
        await file.flush();
      },
      close: () => file.close(),
    };
  };
  override fingerprint(name: string): FileFingerprint | undefined {
    const print = super.fingerprint(name);
    if (print === undefined) return undefined;
    return { id: print.id, changedAt: Date.now() - 3 * FLUSH_RECORD_CLOCK_MARGIN_MS };
  }
}

Deno.test("a segment a truncation forgets while the record flushes another is skipped, not opened", async () => {
  const disk = new SimDisk();
  const sim = SimDirectory.open(disk);
  const count = FLUSH_RECORD_STALE_MAX;
  for (let index = 0; index < count; index++) {
    const file = sim.open(segmentName(index), true);
    file.append(new Uint8Array(8));
    file.close();
  }
  const removed = new Set<number>();
  const gone = new Set<string>();
  // A cut of the log forgets segment 1 while segment 0's flush runs; its file is unlinked on a
  // worker thread: the fingerprint may still see it, but an open meets ENOENT.
  const during = () => {
    removed.add(1);
    gone.add(segmentName(1));
  };
  const dir = new RecentlyChanged(sim, during, gone);
  const record = new FlushRecord(dir, (index) => !removed.has(index));
  const margin = 10 * FLUSH_RECORD_CLOCK_MARGIN_MS;
  const early = { wall: Date.now() - margin, mono: performance.now() - margin };
  for (let index = 0; index < count; index++) record.settled(index, early);
  await record.writeAsync(count);
  const entries = decodeFlushRecord(disk.bytesOf(FLUSH_RECORD_FILE_NAME)!)!;
  ok(entries.has(0), "segment 0 was flushed again and proven");
  ok(!entries.has(1), "the forgotten segment is not vouched for");
  sim.close();
});
