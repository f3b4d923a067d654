// Copyright 2026 the wal-db authors. MIT license.
// The truncations of src/segment_cuts.ts, driven through the segmented store that calls them,
// over a directory that records every operation so the order of the steps can be checked.

import { deepEqual, equal, ok } from "node:assert/strict";
import { HEAD_FILE_NAME, HEAD_TEMP_FILE_NAME } from "../src/constants.ts";
import type { DirectoryFile, WalDirectory } from "../src/directory.ts";
import { MemDirectory } from "../src/mem_directory.ts";
import { SegmentedStore } from "../src/segmented_store.ts";
import { encodeHead, segmentName } from "../src/segments.ts";
import { Rng } from "./_rng.ts";
import {
  CRASH_MODEL_DEFAULT,
  CRASH_MODEL_KEEP_ALL,
  CRASH_MODEL_LOSE_ALL,
  SimDirectory,
  SimDisk,
  SimPowerLoss,
} from "./_sim_disk.ts";

const SEGMENT = 16;

/** A directory that logs its state-changing operations, in order. */
class RecordingDirectory implements WalDirectory {
  readonly log: string[] = [];
  constructor(readonly inner: WalDirectory) {}
  get path(): string {
    return this.inner.path;
  }
  get durability(): string {
    return this.inner.durability;
  }
  list(): string[] {
    return this.inner.list();
  }
  sizeOf(name: string): number | undefined {
    return this.inner.sizeOf(name);
  }
  open(name: string, create: boolean): DirectoryFile {
    const file = this.inner.open(name, create);
    const log = this.log;
    log.push(`open ${name}`);
    return {
      get size() {
        return file.size;
      },
      readAt: (o, b) => file.readAt(o, b),
      append: (d) => (log.push(`append ${name}`), file.append(d)),
      truncate: (s) => (log.push(`truncate ${name} ${s}`), file.truncate(s)),
      truncateAsync: async (s) => {
        log.push(`truncate ${name} ${s}`);
        await Promise.resolve();
        file.truncate(s);
      },
      flushSync: () => (log.push(`flush ${name}`), file.flushSync()),
      flush: () => (log.push(`flush ${name}`), file.flush()),
      close: () => (log.push(`close ${name}`), file.close()),
    };
  }
  remove(name: string): void {
    this.log.push(`remove ${name}`);
    this.inner.remove(name);
  }

  rename(from: string, to: string): void {
    this.log.push(`rename ${from} ${to}`);
    this.inner.rename(from, to);
  }
  sync(): void {
    this.log.push("sync");
    this.inner.sync();
  }

  close(): void {
    this.inner.close();
  }
}

/** A recording directory that also removes and flushes itself as if on a worker thread. */
class AsyncRecordingDirectory extends RecordingDirectory {
  async removeAsync(name: string): Promise<void> {
    await Promise.resolve();
    this.remove(name);
  }
  async syncAsync(): Promise<void> {
    await Promise.resolve();
    this.sync();
  }
}

const counting = (n: number) => new Uint8Array(n).map((_, i) => (i * 7 + 3) & 0xff);

/** The segment files and the head file, with their bytes, sorted by name. */
function layout(dir: WalDirectory): [string, number[]][] {
  return dir.list()
    .filter((name) => name.endsWith(".wal") || name === HEAD_FILE_NAME)
    .sort()
    .map((name) => {
      const file = dir.open(name, false);
      try {
        const bytes = new Uint8Array(file.size);
        equal(file.readAt(0, bytes), file.size);
        return [name, [...bytes]];
      } finally {
        file.close();
      }
    });
}

function readLog(store: SegmentedStore, from: number, to: number): Uint8Array {
  const bytes = new Uint8Array(to - from);
  equal(store.readAt(from, bytes), to - from);
  return bytes;
}

/** A store over a recording MemDirectory holding `size` bytes; the log starts empty after. */
function filled(
  size: number,
  asynchronous = false,
): { dir: RecordingDirectory; store: SegmentedStore } {
  const inner = new MemDirectory();
  const dir = asynchronous ? new AsyncRecordingDirectory(inner) : new RecordingDirectory(inner);
  const store = SegmentedStore.open(dir, SEGMENT);
  store.append(counting(size));
  store.flushSync();
  dir.log.length = 0;
  return { dir, store };
}

/** The entries of `log` that touch segment files or the head, in order. */
const segmentSteps = (log: string[]) =>
  log.filter((step) => step === "sync" || /^(?!open|close).*(\.wal|head)/.test(step));

Deno.test("cutSegments: a cut inside a segment shrinks it, then removes later ones last-down", () => {
  const { dir, store } = filled(70); // segments 0..4
  store.truncate(20);
  equal(store.size, 20);
  deepEqual(segmentSteps(dir.log), [
    `truncate ${segmentName(1)} 4`,
    `flush ${segmentName(1)}`,
    `remove ${segmentName(4)}`,
    "sync",
    `remove ${segmentName(3)}`,
    "sync",
    `remove ${segmentName(2)}`,
    "sync",
  ]);
  deepEqual(layout(dir), [
    [segmentName(0), [...counting(16)]],
    [segmentName(1), [...counting(20).subarray(16)]],
  ]);
  store.close();
});

Deno.test("cutSegments: a cut at a segment boundary keeps that segment empty", () => {
  const { dir, store } = filled(40); // segments 0..2
  store.truncate(32);
  deepEqual(segmentSteps(dir.log), [
    `truncate ${segmentName(2)} 0`,
    `flush ${segmentName(2)}`,
  ]);
  deepEqual(layout(dir).map(([name, bytes]) => [name, bytes.length]), [
    [segmentName(0), 16],
    [segmentName(1), 16],
    [segmentName(2), 0],
  ]);
  dir.log.length = 0;
  store.truncate(16); // the boundary below: segment 2 goes, segment 1 is cut to nothing
  deepEqual(segmentSteps(dir.log), [
    `truncate ${segmentName(1)} 0`,
    `flush ${segmentName(1)}`,
    `remove ${segmentName(2)}`,
    "sync",
  ]);
  store.append(counting(3));
  deepEqual(readLog(store, 16, 19), counting(3));
  store.close();
  const again = SegmentedStore.open((dir.inner as MemDirectory).reopen(), SEGMENT);
  equal(again.size, 19);
  deepEqual(readLog(again, 0, 16), counting(16));
  again.close();
});

Deno.test("discardSegments: cuts through a handle opened after the written ones are closed", () => {
  const { dir, store } = filled(30); // segments 0, 1; flushed
  store.append(counting(40)); // segments 1..4, unflushed
  dir.log.length = 0;
  store.discardUnflushed(30);
  equal(store.size, 30);
  const cut = dir.log.indexOf(`truncate ${segmentName(1)} 14`);
  ok(cut > 0, dir.log.join(", "));
  // Every handle written through is given up before the cut; the cut opens its own.
  deepEqual(dir.log.slice(0, cut).filter((step) => step.startsWith("close")).sort(), [
    `close ${segmentName(1)}`,
    `close ${segmentName(2)}`,
    `close ${segmentName(3)}`,
    `close ${segmentName(4)}`,
  ]);
  equal(dir.log[cut - 1], `open ${segmentName(1)}`);
  deepEqual(segmentSteps(dir.log.slice(cut)), [
    `truncate ${segmentName(1)} 14`,
    `flush ${segmentName(1)}`,
    `remove ${segmentName(4)}`,
    "sync",
    `remove ${segmentName(3)}`,
    "sync",
    `remove ${segmentName(2)}`,
    "sync",
    "sync",
  ]);
  deepEqual(layout(dir), [
    [segmentName(0), [...counting(16)]],
    [segmentName(1), [...counting(30).subarray(16)]],
  ]);
  store.close();
});

Deno.test("moveHead: the head file is durable before any segment below it is removed", () => {
  const { dir, store } = filled(70); // segments 0..4
  equal(store.truncateBefore(37), 37);
  equal(store.head, 37);
  const steps = segmentSteps(dir.log);
  deepEqual(steps, [
    `truncate ${HEAD_TEMP_FILE_NAME} 0`,
    `append ${HEAD_TEMP_FILE_NAME}`,
    `flush ${HEAD_TEMP_FILE_NAME}`,
    `rename ${HEAD_TEMP_FILE_NAME} ${HEAD_FILE_NAME}`,
    "sync",
    `remove ${segmentName(0)}`,
    `remove ${segmentName(1)}`,
    "sync",
  ]);
  deepEqual(layout(dir).map(([name]) => name), [2, 3, 4].map(segmentName).concat(HEAD_FILE_NAME));
  deepEqual(layout(dir).at(-1), [HEAD_FILE_NAME, [...encodeHead(37)]]);
  // A head inside the last segment, or past everything: the last segment always stays.
  store.truncateBefore(70);
  deepEqual(layout(dir).map(([name]) => name), [segmentName(4), HEAD_FILE_NAME]);
  store.close();
});

Deno.test("moveHeadAsync leaves the same files as moveHead, in the same order", async () => {
  for (const head of [0, 5, 16, 37, 64, 70]) {
    const blocking = filled(70);
    const asynchronous = filled(70);
    blocking.store.truncateBefore(head);
    let movedTo: number | undefined;
    equal(await asynchronous.store.truncateBeforeAsync(head, (h) => movedTo = h), head);
    equal(movedTo, head);
    equal(asynchronous.store.head, blocking.store.head);
    deepEqual(layout(asynchronous.dir), layout(blocking.dir), `head ${head}`);
    // The caller flushed the log first, so the async variant has no flush of its own.
    deepEqual(
      segmentSteps(asynchronous.dir.log),
      segmentSteps(blocking.dir.log),
      `head ${head}`,
    );
    blocking.store.close();
    asynchronous.store.close();
  }
});

Deno.test("cutSegmentsAsync leaves the same files as cutSegments, in the same order", async () => {
  for (const cut of [70, 69, 64, 37, 32, 5, 0]) {
    const blocking = filled(70);
    const asynchronous = filled(70, true);
    blocking.store.append(counting(3)); // not flushed: the cut's flush covers what it keeps
    asynchronous.store.append(counting(3));
    await new Promise((resolve) => setTimeout(resolve, 0)); // the directory flush ahead ends
    blocking.dir.log.length = 0;
    asynchronous.dir.log.length = 0;
    blocking.store.truncate(cut);
    await asynchronous.store.truncateAsync(cut);
    equal(asynchronous.store.size, cut);
    deepEqual(layout(asynchronous.dir), layout(blocking.dir), `cut ${cut}`);
    deepEqual(
      segmentSteps(asynchronous.dir.log),
      segmentSteps(blocking.dir.log),
      `cut ${cut}: ${asynchronous.dir.log} vs ${blocking.dir.log}`,
    );
    blocking.store.close();
    asynchronous.store.close();
  }
});

/**
 * Runs `act` on a fresh simulated disk holding 70 bytes, with the power going off after
 * `operations` more state-changing operations; returns the disk after the crash (or undefined
 * when `act` finished first).
 */
function crashDuring(
  operations: number,
  seed: number,
  model: typeof CRASH_MODEL_DEFAULT,
  act: (store: SegmentedStore) => void,
): SimDisk | undefined {
  const disk = new SimDisk();
  const store = SegmentedStore.open(SimDirectory.open(disk), SEGMENT);
  store.append(counting(70));
  store.flushSync();
  disk.powerOffAfter(operations);
  try {
    act(store);
  } catch (error) {
    ok(error instanceof SimPowerLoss || disk.dead, `unexpected ${error}`);
    return disk.crash(new Rng(seed), model);
  }
  disk.powerOffAfter(undefined);
  store.close();
  return undefined;
}

/** The indexes of the segment files on `disk`, sorted. */
function segmentsOn(disk: SimDisk): number[] {
  return disk.names().filter((name) => name.endsWith(".wal")).map((name) => parseInt(name, 10))
    .sort((a, b) => a - b);
}

const MODELS = [CRASH_MODEL_LOSE_ALL, CRASH_MODEL_KEEP_ALL, CRASH_MODEL_DEFAULT];

Deno.test("cutSegments: a crash at any step leaves a log that opens and keeps the bytes before the cut", () => {
  let crashes = 0;
  for (const cut of [20, 32, 5]) {
    for (let operations = 0;; operations++) {
      let finished = false;
      for (const [m, model] of MODELS.entries()) {
        for (let seed = 0; seed < (model === CRASH_MODEL_DEFAULT ? 8 : 1); seed++) {
          const after = crashDuring(operations, seed * 31 + m, model, (s) => s.truncate(cut));
          if (after === undefined) {
            finished = true;
            continue;
          }
          crashes++;
          const where = `cut ${cut}, ${operations} operations, model ${m}, seed ${seed}`;
          const indexes = segmentsOn(after);
          const keep = Math.floor(cut / SEGMENT);
          // Removed from the last one down: the segments left are 0..n, none missing between.
          deepEqual(indexes, indexes.map((_, i) => i), `${where}: ${indexes}`);
          ok(indexes.length > keep, where);
          if (indexes.length < 5) {
            // A later segment is gone, so the cut before it is durable: no discarded byte
            // can come back at the end of the log.
            equal(after.bytesOf(segmentName(keep))!.length, cut - keep * SEGMENT, where);
          }
          const store = SegmentedStore.open(SimDirectory.open(after), SEGMENT);
          ok(store.size >= cut, `${where}: size ${store.size}`);
          deepEqual(readLog(store, 0, cut), counting(cut), where);
          // No segment is missing inside the log: every byte past the cut reads back as the
          // old bytes or zeros (a torn tail), never as a hole that throws.
          const tail = readLog(store, cut, store.size);
          const old = counting(70);
          tail.forEach((byte, i) => ok(byte === 0 || byte === old[cut + i], where));
          store.close();
        }
      }
      if (finished) break;
    }
  }
  ok(crashes > 10, `only ${crashes} crashes`);
});

Deno.test("moveHead: a crash at any step leaves the old or the new head and every byte after it", () => {
  let crashes = 0;
  for (const head of [37, 70, 3]) {
    for (let operations = 0;; operations++) {
      let finished = false;
      for (const [m, model] of MODELS.entries()) {
        for (let seed = 0; seed < (model === CRASH_MODEL_DEFAULT ? 8 : 1); seed++) {
          const after = crashDuring(
            operations,
            seed * 31 + m,
            model,
            (s) => s.truncateBefore(head),
          );
          if (after === undefined) {
            finished = true;
            continue;
          }
          crashes++;
          const where = `head ${head}, ${operations} operations, model ${m}, seed ${seed}`;
          const indexes = segmentsOn(after);
          const store = SegmentedStore.open(SimDirectory.open(after), SEGMENT);
          // Every segment from the head's on is there (the head file came first).
          const from = Math.min(Math.floor(store.head / SEGMENT), 4);
          for (let index = from; index <= 4; index++) ok(indexes.includes(index), where);
          ok(store.head === 0 || store.head === head, `${where}: head ${store.head}`);
          equal(store.size, 70, where);
          deepEqual(readLog(store, store.head, 70), counting(70).subarray(store.head), where);
          store.close();
        }
      }
      if (finished) break;
    }
  }
  ok(crashes > 10, `only ${crashes} crashes`);
});
