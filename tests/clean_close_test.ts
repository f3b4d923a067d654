// Copyright 2026 the wal-db authors. MIT license.
// The clean-close marker: its bytes, when a writer leaves it, and that a marker that no longer
// tells the truth never lets an open skip a flush it needs.

import { deepEqual, equal, ok, throws } from "node:assert/strict";
import { SegmentedStore, Wal, WalError } from "../mod.ts";
import { decodeCleanClose, encodeCleanClose, tailCrcOf } from "../src/clean_close.ts";
import type { DirectoryFile, WalDirectory } from "../src/directory.ts";
import { Rng } from "./_rng.ts";
import { CRASH_MODEL_LOSE_ALL, SimDirectory, SimDisk } from "./_sim_disk.ts";

const SEGMENT_SIZE = 64;
const MARKER = "clean-close";

/** A directory that counts the flushes of segment files. */
class FlushCounter implements WalDirectory {
  segmentFlushes = 0;
  constructor(readonly inner: WalDirectory) {}
  get path(): string {
    return this.inner.path;
  }
  get durability(): string {
    return this.inner.durability;
  }
  list = (): string[] => this.inner.list();
  sizeOf = (name: string): number | undefined => this.inner.sizeOf(name);
  open(name: string, create: boolean): DirectoryFile {
    const file = this.inner.open(name, create);
    const count = () => name.endsWith(".wal") && this.segmentFlushes++;
    return {
      get size() {
        return file.size;
      },
      readAt: (o, b) => file.readAt(o, b),
      append: (d) => file.append(d),
      truncate: (s) => file.truncate(s),
      flushSync: () => (count(), file.flushSync()),
      flush: () => (count(), file.flush()),
      close: () => file.close(),
    };
  }
  remove = (name: string): void => this.inner.remove(name);
  rename = (from: string, to: string): void => this.inner.rename(from, to);
  sync = (): void => this.inner.sync();
  close = (): void => this.inner.close();
}

function open(disk: SimDisk): { wal: Wal; counter: FlushCounter } {
  const counter = new FlushCounter(SimDirectory.open(disk));
  return { wal: Wal.withStore(SegmentedStore.open(counter, SEGMENT_SIZE)), counter };
}

function fill(wal: Wal, records: number, value = 1): void {
  for (let i = 0; i < records; i++) wal.append(new Uint8Array(20).fill(value + i));
}

const lsnsOf = (wal: Wal) => [...wal.iter()].map((e) => e.lsn);

Deno.test("clean-close marker: bytes round trip, and any other bytes are no marker", () => {
  const marker = { head: 4096, end: 2 ** 40, tailCrc: 0xdeadbeef };
  const bytes = encodeCleanClose(marker);
  equal(bytes.length, 32);
  deepEqual(decodeCleanClose(bytes), marker);
  for (let i = 0; i < bytes.length; i++) {
    const bad = bytes.slice();
    bad[i]! ^= 0x10;
    equal(decodeCleanClose(bad), undefined, `byte ${i} flipped`);
  }
  equal(decodeCleanClose(bytes.subarray(0, 31)), undefined);
  equal(decodeCleanClose(encodeCleanClose({ head: 5, end: 4, tailCrc: 0 })), undefined);
  const log = new Uint8Array(10_000).map((_, i) => i);
  const read = (
    at: number,
    buffer: Uint8Array,
  ) => (buffer.set(log.subarray(at, at + buffer.length)), buffer.length);
  ok(tailCrcOf(read, 0, 10_000) !== tailCrcOf(read, 0, 9_999));
  equal(tailCrcOf(read, 10_000, 10_000), tailCrcOf(read, 0, 0));
});

Deno.test("a writer's open after a clean close flushes no segment; after an unclean one, every one", () => {
  const disk = new SimDisk();
  let { wal, counter } = open(disk);
  fill(wal, 30); // about ten segments
  wal.syncSync();
  wal.close();
  ok(disk.names().includes(MARKER), "a close with nothing left to flush leaves the marker");
  ({ wal, counter } = open(disk));
  equal(counter.segmentFlushes, 0, "the marker matched: no segment is flushed at open");
  ok(!disk.names().includes(MARKER), "the open took the marker");
  const clean = lsnsOf(wal);
  fill(wal, 3); // not synced: no marker at close
  wal.close();
  ok(!disk.names().includes(MARKER));
  ({ wal, counter } = open(disk));
  ok(counter.segmentFlushes >= 10, `${counter.segmentFlushes} segments flushed (the slow path)`);
  deepEqual(lsnsOf(wal).slice(0, clean.length), clean, "both paths read the same log");
  wal.close();
});

/** Every record a writer's open recovered must survive the power loss that follows. */
function checkSurvivesPowerLoss(disk: SimDisk): void {
  const { wal } = open(disk);
  const seen = lsnsOf(wal);
  wal.close();
  const after = disk.crash(new Rng(1), CRASH_MODEL_LOSE_ALL);
  const { wal: again } = open(after);
  deepEqual(lsnsOf(again), seen, "what the open recovered was made durable");
  again.close();
}

Deno.test("a marker followed by appends of a process that crashed is never trusted", () => {
  const disk = new SimDisk();
  let { wal } = open(disk);
  fill(wal, 10);
  wal.syncSync();
  wal.close();
  ({ wal } = open(disk)); // takes the marker, durably, before it writes
  fill(wal, 10, 50);
  disk.kill(); // the appends stay in the page cache only
  ok(!disk.names().includes(MARKER));
  checkSurvivesPowerLoss(disk);
});

Deno.test("a marker left in place by a writer that ignores it is not trusted once the log changed", async (t) => {
  for (const change of ["appended", "cut and written back to the same end"]) {
    await t.step(change, () => {
      const disk = new SimDisk();
      let { wal } = open(disk);
      fill(wal, 10);
      wal.syncSync();
      wal.close();
      const marker = disk.bytesOf(MARKER)!;
      ({ wal } = open(disk));
      if (change === "appended") fill(wal, 5, 80);
      else {
        const end = wal.nextLsn;
        const lsns = lsnsOf(wal);
        wal.truncateFrom(lsns[4]!);
        fill(wal, 6, 90); // six records of the same size: the same end
        equal(wal.nextLsn, end);
      }
      disk.kill();
      // An older wal-db or the Rust crate would have left the marker where it was.
      disk.writeFile(MARKER, marker);
      checkSurvivesPowerLoss(disk);
    });
  }
});

Deno.test("no marker is left after a failed flush, nor by a read-only open", () => {
  const disk = new SimDisk();
  let { wal } = open(disk);
  fill(wal, 5);
  disk.faults = (op) => op.kind === "flush" ? { code: "EIO" } : undefined;
  try {
    wal.syncSync();
  } catch {
    // failed, as injected
  }
  disk.faults = undefined;
  wal.close();
  ok(!disk.names().includes(MARKER), "a log that failed leaves no marker");
  ({ wal } = open(disk));
  wal.syncSync();
  wal.close();
  ok(disk.names().includes(MARKER));
  const reader = SegmentedStore.open(SimDirectory.open(disk), SEGMENT_SIZE, { readOnly: true });
  reader.close();
  ok(disk.names().includes(MARKER), "a read-only open leaves the marker to the next writer");
});

Deno.test("an open that recovery refuses leaves the marker as it was", () => {
  const disk = new SimDisk();
  const { wal } = open(disk);
  fill(wal, 12);
  wal.syncSync();
  wal.close();
  const marker = disk.bytesOf(MARKER);
  const name = "00000000000000000001.wal";
  const segment = disk.bytesOf(name)!;
  segment[20]! ^= 0xff; // bit rot inside the log: damage, which "strict" refuses
  disk.writeFile(name, segment);
  throws(
    () =>
      Wal.withStore(SegmentedStore.open(SimDirectory.open(disk), SEGMENT_SIZE), {
        recoveryPolicy: "strict",
      }),
    (e: unknown) => e instanceof WalError && e.kind === "corruption",
  );
  deepEqual(disk.bytesOf(MARKER), marker);
});
