// Copyright 2026 the wal-db authors. MIT license.

import { deepEqual, equal, match, ok, throws } from "node:assert/strict";
import { join } from "node:path";
import {
  CTIME_RESOLUTION_MS,
  FLUSH_RECORD_STALE_MAX,
  SEGMENT_READERS_OPEN_MAX,
  SEGMENT_UNFLUSHED_OPEN_MAX,
} from "../src/constants.ts";
import type { DirectoryFile, FileFingerprint, WalDirectory } from "../src/directory.ts";
import { WalError } from "../src/errors.ts";
import { FsDirectory } from "../src/fs_directory.ts";
import { SegmentedStore } from "../src/segmented_store.ts";
import { encodeHead, encodeSegmentSize, segmentName } from "../src/segments.ts";
import { agePast, directorySnapshot, readBytes, removeIfPresent, withTempDir } from "./_helpers.ts";

/** A directory that counts flushes per file name and directory syncs. */
class CountingDirectory implements WalDirectory {
  readonly flushes = new Map<string, number>();
  syncs = 0;
  lists = 0;
  stats = 0;
  constructor(readonly inner: WalDirectory) {}
  get path(): string {
    return this.inner.path;
  }
  get durability(): string {
    return this.inner.durability;
  }
  list(): string[] {
    this.lists++;
    return this.inner.list();
  }
  sizeOf(name: string): number | undefined {
    this.stats++;
    return this.inner.sizeOf(name);
  }
  open(name: string, create: boolean): DirectoryFile {
    const file = this.inner.open(name, create);
    const count = () => this.flushes.set(name, (this.flushes.get(name) ?? 0) + 1);
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
  remove(name: string): void {
    this.inner.remove(name);
  }
  rename(from: string, to: string): void {
    this.inner.rename(from, to);
  }
  sync(): void {
    this.syncs++;
    this.inner.sync();
  }
  fingerprint(name: string): FileFingerprint | undefined {
    return this.inner.fingerprint?.(name);
  }
  close(): void {
    this.inner.close();
  }
}

function openStore(dir: string, segmentSize: number, readOnly = false): SegmentedStore {
  const directory = FsDirectory.open(dir, { durability: "runtime", readOnly });
  return SegmentedStore.open(directory, segmentSize, { readOnly });
}

function bytesOf(store: SegmentedStore, offset: number, size: number): Uint8Array {
  const buffer = new Uint8Array(size);
  equal(store.readAt(offset, buffer), size);
  return buffer;
}

const counting = (n: number) => new Uint8Array(n).map((_, i) => i & 0xff);

Deno.test("SegmentedStore splits writes at segment boundaries and reads across them", async () => {
  await withTempDir((dir) => {
    const store = openStore(dir, 16);
    store.append(counting(40));
    equal(store.size, 40);
    deepEqual(bytesOf(store, 10, 25), counting(40).subarray(10, 35));
    store.close();
    equal(readBytes(join(dir, segmentName(0))).length, 16);
    equal(readBytes(join(dir, segmentName(1))).length, 16);
    deepEqual(readBytes(join(dir, segmentName(2))), counting(40).subarray(32));
    const again = openStore(dir, 16);
    equal(again.size, 40);
    equal(again.segmentCount, 3);
    again.close();
  });
});

Deno.test("SegmentedStore flushes every segment with unflushed bytes and no other", async () => {
  await withTempDir(async (dir) => {
    const directory = new CountingDirectory(FsDirectory.open(dir, { durability: "runtime" }));
    const store = SegmentedStore.open(directory, 16);
    // Opening a new log records its segment size (a flush and a directory flush): not counted.
    deepEqual([...directory.flushes.keys()], ["segment-size.tmp"]);
    directory.flushes.clear();
    directory.syncs = 0;
    // Segments 0, 1, 2. A segment may survive a power loss only if the ones before it do, so
    // creating 1 and 2 first makes the creation of the one before durable: two directory
    // flushes, and a third for segment 2 when the store flushes.
    store.append(counting(40));
    await store.flush();
    deepEqual([...directory.flushes.keys()].sort(), [0, 1, 2].map(segmentName));
    equal(directory.syncs, 3, "the directory is flushed before and after segments are created");
    directory.flushes.clear();
    store.append(counting(3)); // segment 2 only, small and last
    store.flushSync();
    deepEqual([...directory.flushes.keys()], [segmentName(2)]);
    equal(directory.syncs, 3, "no new segment, no directory flush");
    store.append(counting(30)); // ends segment 2, fills 3, starts 4 (after flushing 3's creation)
    await store.flush();
    deepEqual([...directory.flushes.keys()].sort(), [2, 3, 4].map(segmentName));
    equal(directory.syncs, 5);
    store.close();
  });
});

Deno.test("SegmentedStore keeps its open files bounded over 10,000 segments", async () => {
  await withTempDir(async (dir) => {
    // Counting the process's descriptors needs full read access to /proc (it runs under -A);
    // without it the test still checks the store's own count of open files.
    const fds = () => {
      try {
        return [...Deno.readDirSync("/proc/self/fd")].length;
      } catch (error) {
        if (error instanceof Deno.errors.NotCapable || error instanceof Deno.errors.NotFound) {
          return 0;
        }
        throw error;
      }
    };
    const before = fds();
    const store = openStore(dir, 16);
    for (let i = 0; i < 10_000; i++) {
      store.append(counting(16));
      if (i % 1000 === 999) await store.flush();
      // The segment being written, and the last few written but not flushed yet.
      ok(
        store.openFileCount <= 1 + SEGMENT_UNFLUSHED_OPEN_MAX,
        `${store.openFileCount} files open while appending`,
      );
    }
    const buffer = new Uint8Array(16);
    for (let i = 0; i < 10_000; i += 7) store.readAt(i * 16, buffer);
    ok(store.openFileCount <= 1 + SEGMENT_READERS_OPEN_MAX, `${store.openFileCount} open`);
    // The lock, the readers, the active segment and its flusher's descriptor, and the spare
    // segment a flush creates ahead of need, with its flusher's descriptor.
    const spare = 2;
    ok(
      fds() - before <= 2 + SEGMENT_READERS_OPEN_MAX + 2 + spare,
      `${fds() - before} new descriptors`,
    );
    equal(store.segmentCount, 10_000);
    store.close();
    ok(fds() - before <= 1, "close releases every descriptor");
  });
});

Deno.test("SegmentedStore.truncate() removes later segments and shrinks the one kept", async () => {
  await withTempDir((dir) => {
    const store = openStore(dir, 16);
    store.append(counting(60));
    store.truncate(20);
    equal(store.size, 20);
    deepEqual(Deno.readDirSync(dir).map((e) => e.name).toArray().sort(), [
      segmentName(0),
      segmentName(1),
      "segment-size",
      "wal.lock",
    ]);
    equal(readBytes(join(dir, segmentName(1))).length, 4);
    store.append(counting(2));
    deepEqual(bytesOf(store, 20, 2), counting(2));
    store.truncate(16);
    equal(store.size, 16);
    store.close();
    const again = openStore(dir, 16);
    equal(again.size, 16);
    again.close();
  });
});

Deno.test("SegmentedStore.truncateBefore() writes head atomically, then drops whole segments", async () => {
  await withTempDir((dir) => {
    const store = openStore(dir, 16);
    store.append(counting(70)); // segments 0..4
    equal(store.truncateBefore(27), 27);
    deepEqual(readBytes(join(dir, "head")), encodeHead(27));
    const names = Deno.readDirSync(dir).map((e) => e.name).toArray().sort();
    deepEqual(names, [1, 2, 3, 4].map(segmentName).concat(["head", "segment-size", "wal.lock"]));
    store.truncateBefore(70); // everything: the last segment stays
    deepEqual(
      Deno.readDirSync(dir).map((e) => e.name).toArray().filter((n) => n.endsWith(".wal")),
      [
        segmentName(4),
      ],
    );
    store.close();
    const again = openStore(dir, 16);
    equal(again.head, 70);
    equal(again.size, 70);
    again.close();
  });
});

Deno.test("SegmentedStore.open() refuses a damaged head and missing leading segments", async (t) => {
  await withTempDir(async (dir) => {
    const store = openStore(dir, 16);
    store.append(counting(50));
    store.truncateBefore(33);
    store.close();
    const headPath = join(dir, "head");
    const isCorruption = (e: unknown) => e instanceof WalError && e.kind === "corruption";

    await t.step("a head file with a bad CRC", () => {
      const good = readBytes(headPath);
      const bad = good.slice();
      bad[10]! ^= 1;
      Deno.writeFileSync(headPath, bad);
      throws(() => openStore(dir, 16), isCorruption);
      deepEqual(readBytes(headPath), bad, "nothing changed");
      Deno.writeFileSync(headPath, good);
    });

    await t.step("a short head file (the old 8-byte marker)", () => {
      const good = readBytes(headPath);
      Deno.writeFileSync(headPath, good.subarray(0, 8));
      throws(() => openStore(dir, 16), isCorruption);
      Deno.writeFileSync(headPath, good);
    });

    await t.step("no head file while segment 0 is gone", () => {
      const good = readBytes(headPath);
      Deno.removeSync(headPath);
      throws(
        () => openStore(dir, 16),
        (e: unknown) => isCorruption(e) && /Leading segments/.test(String(e)),
      );
      deepEqual(
        Deno.readDirSync(dir).map((e) => e.name).toArray().sort(),
        [2, 3].map(segmentName).concat(["segment-size", "wal.lock"]),
        "segments 2 and 3, the segment-size file and the lock remain",
      );
      Deno.writeFileSync(headPath, good);
    });

    await t.step("a leftover temporary head is ignored and removed", () => {
      Deno.writeFileSync(join(dir, "head.tmp"), new Uint8Array(5));
      const reopened = openStore(dir, 16);
      equal(reopened.head, 33);
      reopened.close();
      throws(() => Deno.statSync(join(dir, "head.tmp")), Deno.errors.NotFound);
    });
  });
});

Deno.test("SegmentedStore reads a missing or short inner segment as zeros", async () => {
  await withTempDir((dir) => {
    const store = openStore(dir, 16);
    store.append(counting(64));
    store.close();
    Deno.removeSync(join(dir, segmentName(1)));
    Deno.truncateSync(join(dir, segmentName(2)), 5);
    const again = openStore(dir, 16);
    equal(again.size, 64);
    const all = bytesOf(again, 0, 64);
    deepEqual(all.subarray(0, 16), counting(16));
    deepEqual(all.subarray(16, 32), new Uint8Array(16));
    deepEqual(all.subarray(32, 37), counting(40).subarray(32, 37));
    deepEqual(all.subarray(37, 48), new Uint8Array(11));
    deepEqual(all.subarray(48), counting(64).subarray(48));
    again.close();
  });
});

Deno.test("SegmentedStore.open() rejects a bad segment size with RangeError", async () => {
  await withTempDir((dir) => {
    const directory = FsDirectory.open(dir, { durability: "runtime" });
    for (const size of [0, -16, 1.5]) {
      throws(() => SegmentedStore.open(directory, size), RangeError);
    }
    directory.close();
  });
});

Deno.test("SegmentedStore.open() refuses a segment file far past the others", async () => {
  await withTempDir((dir) => {
    const store = openStore(dir, 16);
    store.append(counting(20));
    store.close();
    Deno.writeFileSync(join(dir, segmentName(2 ** 30)), counting(4));
    throws(() => openStore(dir, 16), (error) => {
      ok(error instanceof WalError && error.kind === "corruption", String(error));
      ok(/stray/.test(error.message), error.message);
      return true;
    });
    deepEqual(Deno.readDirSync(dir).map((e) => e.name).toArray().sort(), [
      segmentName(0),
      segmentName(1),
      segmentName(2 ** 30),
      "segment-size",
      "wal.lock",
    ]);
  });
});

/** Logs written with 64-byte segments: how long, and where a checkpoint put the head. */
const SIZED_LOGS = [
  { name: "many segments", length: 300, head: 0 },
  { name: "many segments after a checkpoint", length: 300, head: 200 },
  { name: "one segment", length: 50, head: 0 },
  { name: "one segment after a checkpoint", length: 300, head: 300 },
] as const;

/** Writes one of {@linkcode SIZED_LOGS} with the library; `recorded: false` as older wal-db. */
function writeSizedLog(dir: string, log: (typeof SIZED_LOGS)[number], recorded: boolean): void {
  const store = openStore(dir, 64);
  store.append(counting(log.length));
  if (log.head > 0) store.truncateBefore(log.head);
  store.close();
  // As an older wal-db left it (a version that wrote no segment-size file).
  if (!recorded) removeIfPresent(join(dir, "segment-size"));
}

/** What the refusal of a wrong size must name: the recorded size, or the size the files imply. */
function impliedBy(log: (typeof SIZED_LOGS)[number], recorded: boolean, size: number): RegExp {
  if (recorded) return /wrong segment size: it was written with segment size 64 \(recorded/;
  if (log.head === 300) return /wrong segment size: .* imply a segment size between 64 and 75/;
  if (log.length === 50) return /wrong segment size: .* imply a segment size of at least 50/;
  return new RegExp(`wrong segment size: .* imply a segment size of 64, not ${size}`);
}

Deno.test("SegmentedStore.open() refuses a wrong segment size and changes nothing", async (t) => {
  for (const recorded of [true, false]) {
    for (const log of SIZED_LOGS) {
      for (const size of [32, 128]) {
        // A lone segment 0 without a head or segment-size file fits every larger size (and
        // reads the same LSNs with it): see the next test.
        if (!recorded && log.name === "one segment" && size > 64) continue;
        const name = `${log.name}, ${recorded ? "with" : "without"} segment-size file, ${size}`;
        await t.step(name, async () => {
          await withTempDir((dir) => {
            writeSizedLog(dir, log, recorded);
            agePast(dir);
            const before = directorySnapshot(dir);
            for (const readOnly of [true, false]) {
              throws(() => openStore(dir, size, readOnly), (error) => {
                ok(error instanceof WalError && error.kind === "corruption", String(error));
                match(error.message, impliedBy(log, recorded, size));
                // Only a clue a crash could leave too points to the way out.
                equal(/a crash left segments short/.test(error.message), !recorded && size > 64);
                ok(!/missing/.test(error.message), error.message);
                return true;
              }, `readOnly: ${readOnly}`);
              deepEqual(directorySnapshot(dir), before, `readOnly: ${readOnly}: nothing changed`);
            }
            const reopened = openStore(dir, 64);
            equal(reopened.size, 300 - (log.length === 50 ? 250 : 0));
            equal(reopened.head, log.head);
            reopened.close();
          });
        });
      }
    }
  }
});

Deno.test("SegmentedStore.open() reads a lone segment 0 without a segment-size file at any larger size", async () => {
  await withTempDir((dir) => {
    writeSizedLog(dir, SIZED_LOGS[2], false);
    // Every byte is in segment 0 whatever the size: nothing can tell, and nothing is misread.
    const readOnly = openStore(dir, 128, true);
    deepEqual(bytesOf(readOnly, 0, 50), counting(50));
    readOnly.close();
    deepEqual(Deno.readDirSync(dir).map((e) => e.name).toArray().sort(), [
      segmentName(0),
      "wal.lock",
    ], "a read-only open records nothing");
  });
});

Deno.test("SegmentedStore.open() refuses a damaged segment-size file and changes nothing", async (t) => {
  const good = encodeSegmentSize(64);
  const flipped = good.slice();
  flipped[9]! ^= 1;
  const damages: [string, Uint8Array, RegExp][] = [
    ["empty", new Uint8Array(0), /it is 0 bytes/],
    ["short", good.subarray(0, 12), /it is 12 bytes/],
    ["long", new Uint8Array(100), /it is 100 bytes/],
    ["a flipped bit", flipped, /its CRC does not match/],
    ["a head file's bytes", new Uint8Array([...encodeHead(64), 0, 0, 0, 0, 0, 0, 0, 0]), /WSEG/],
  ];
  for (const [name, bytes, reason] of damages) {
    await t.step(name, async () => {
      await withTempDir((dir) => {
        writeSizedLog(dir, SIZED_LOGS[0], true);
        Deno.writeFileSync(join(dir, "segment-size"), bytes);
        agePast(dir);
        const before = directorySnapshot(dir);
        for (const readOnly of [true, false]) {
          throws(() => openStore(dir, 64, readOnly), (error) => {
            ok(error instanceof WalError && error.kind === "corruption", String(error));
            match(error.message, /its segment-size file is damaged/);
            match(error.message, reason);
            return true;
          });
          deepEqual(directorySnapshot(dir), before, `readOnly: ${readOnly}: nothing changed`);
        }
      });
    });
  }
});

Deno.test("SegmentedStore.open() records the segment size of a log written without one", async () => {
  await withTempDir((dir) => {
    // The Rust crate's layout: segments (and a head) only; no wal.lock, no segment-size file.
    const image = counting(300);
    for (let k = 3; k * 64 < image.length; k++) {
      Deno.writeFileSync(join(dir, segmentName(k)), image.subarray(k * 64, (k + 1) * 64));
    }
    Deno.writeFileSync(join(dir, "head"), encodeHead(200));
    agePast(dir);
    const before = directorySnapshot(dir);
    const reader = openStore(dir, 64, true);
    equal(reader.head, 200);
    reader.close();
    deepEqual(directorySnapshot(dir), before, "a read-only open writes nothing");
    throws(() => openStore(dir, 128), /wrong segment size/);
    const after = directorySnapshot(dir);
    deepEqual(
      after.files.filter(([name]) => name !== "wal.lock"),
      before.files,
      "a refused writable open leaves the log as it was; it only takes the lock",
    );
    deepEqual(after.files.find(([name]) => name === "wal.lock")?.[1], 0);
    const writer = openStore(dir, 64);
    deepEqual(bytesOf(writer, 200, 100), image.subarray(200));
    // An existing log records its size at its first flush, once recovery accepted it.
    throws(() => Deno.statSync(join(dir, "segment-size")), Deno.errors.NotFound);
    writer.flushSync();
    writer.close();
    deepEqual(readBytes(join(dir, "segment-size")), encodeSegmentSize(64));
    deepEqual(
      directorySnapshot(dir).files.filter(([name]) => name.endsWith(".wal")),
      before.files.filter(([name]) => name.endsWith(".wal")),
      "the segments are untouched",
    );
    // From now on a single segment is checked too: here the head still fits 128 alone.
    throws(() => openStore(dir, 128, true), /it was written with segment size 64/);
  });
});

Deno.test("SegmentedStore.open() removes a leftover temporary segment-size file when writable", async () => {
  await withTempDir((dir) => {
    writeSizedLog(dir, SIZED_LOGS[0], true);
    Deno.writeFileSync(join(dir, "segment-size.tmp"), encodeSegmentSize(32).subarray(0, 7));
    openStore(dir, 64, true).close();
    ok(Deno.statSync(join(dir, "segment-size.tmp")).isFile, "a read-only open leaves it");
    openStore(dir, 64).close();
    throws(() => Deno.statSync(join(dir, "segment-size.tmp")), Deno.errors.NotFound);
    deepEqual(readBytes(join(dir, "segment-size")), encodeSegmentSize(64));
  });
});

Deno.test("SegmentedStore.refresh() of a reader matches a fresh open, looking up only what changed", async () => {
  await withTempDir((dir) => {
    const segmentSize = 16;
    const writer = openStore(dir, segmentSize);
    writer.append(counting(300 * segmentSize + 5)); // 301 segments
    writer.flushSync();
    const directory = new CountingDirectory(
      FsDirectory.open(dir, { durability: "runtime", readOnly: true, lock: "none" }),
    );
    const reader = SegmentedStore.open(directory, segmentSize, { readOnly: true });
    const fresh = () => {
      const opened = FsDirectory.open(dir, { readOnly: true, lock: "none" });
      const store = SegmentedStore.open(opened, segmentSize, { readOnly: true });
      const state = {
        head: store.head,
        size: store.size,
        segments: store.segmentCount,
        bytes: bytesOf(store, store.head, store.size - store.head),
      };
      store.close();
      return state;
    };
    let seed = 7;
    const random = (n: number) => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
    for (let step = 0; step < 60; step++) {
      const roll = random(10);
      if (roll < 5) writer.append(counting(random(4 * segmentSize)));
      else if (roll < 8) writer.truncate(writer.head + random(writer.size - writer.head + 1));
      else writer.truncateBefore(writer.head + random(writer.size - writer.head + 1));
      directory.lists = 0;
      directory.stats = 0;
      const before = reader.segmentCount;
      reader.refresh();
      equal(directory.lists, 0, "a refresh never lists the directory");
      // The head file, the last segment, the one after it and the first one kept (4), one per
      // segment added or removed, and one per segment a cut removed and appends made again.
      const changed = Math.abs(reader.segmentCount - before) + (roll >= 5 && roll < 8 ? 0 : 4);
      ok(directory.stats <= 4 + 2 * changed + 8, `${directory.stats} lookups (step ${step})`);
      deepEqual(
        {
          head: reader.head,
          size: reader.size,
          segments: reader.segmentCount,
          bytes: bytesOf(reader, reader.head, reader.size - reader.head),
        },
        fresh(),
        `step ${step}`,
      );
    }
    reader.close();
    writer.close();
  });
});

Deno.test("SegmentedStore refuses a second log on the same directory object", async () => {
  const { MemDirectory } = await import("../src/mem_directory.ts");
  const dir = new MemDirectory();
  const first = SegmentedStore.open(dir, 64);
  throws(
    () => SegmentedStore.open(dir, 64),
    (e: unknown) =>
      e instanceof WalError && e.kind === "locked" && /already serves a log/.test(
        e.message,
      ),
  );
  first.append(new Uint8Array([1, 2, 3]));
  first.flushSync();
  first.close();
  // A reopened directory is a new object: the next log opens on it.
  const again = SegmentedStore.open(dir.reopen(), 64);
  equal(again.size, 3);
  again.close();
});

Deno.test("SegmentedStore: on disk, a writer's open trusts the flush record, and a copy's does not", async () => {
  await withTempDir(async (root) => {
    const dir = join(root, "log");
    const segments = FLUSH_RECORD_STALE_MAX + 4;
    const store = openStore(dir, 16);
    store.append(counting(16 * segments));
    store.flushSync();
    store.close();
    // File times are reported to the second: the record takes segments that last changed
    // well before a flush of them began. Open once that is so: its flush writes the record.
    await new Promise((resolve) => setTimeout(resolve, CTIME_RESOLUTION_MS + 200));
    const reopened = openStore(dir, 16);
    reopened.flushSync();
    reopened.close();
    const names = Array.from({ length: segments }, (_, i) => segmentName(i));
    const flushedAtOpen = (path: string) => {
      const directory = new CountingDirectory(FsDirectory.open(path, { durability: "runtime" }));
      SegmentedStore.open(directory, 16).flushSync(); // recovery's flush
      directory.close();
      return names.filter((name) => directory.flushes.has(name));
    };
    deepEqual(flushedAtOpen(dir), [segmentName(segments - 1)]);
    const copy = join(root, "copy");
    await Deno.mkdir(copy);
    for await (const entry of Deno.readDir(dir)) {
      await Deno.copyFile(join(dir, entry.name), join(copy, entry.name));
    }
    deepEqual(flushedAtOpen(copy), names);
  });
});

Deno.test("SegmentedStore (read-only): contiguousEnd stops at a short or missing segment before the last, and a segment removed after the listing reads as zeros", async () => {
  await withTempDir((dir) => {
    const writer = openStore(dir, 64);
    writer.append(new Uint8Array(64 * 6).fill(7)); // segments 0..5, full
    writer.append(new Uint8Array(10).fill(7)); // segment 6, the last, short
    writer.flushSync();
    writer.close();
    const reader = openStore(dir, 64, true);
    equal(reader.contiguousEnd(), reader.size, "intact: the whole log");
    Deno.truncateSync(join(dir, segmentName(4)), 20);
    equal(reader.contiguousEnd(), 4 * 64 + 20, "a short segment before the last");
    Deno.removeSync(join(dir, segmentName(2)));
    equal(reader.contiguousEnd(), 2 * 64, "a missing segment: a hole from its first byte");
    const bytes = new Uint8Array(64 * 3);
    equal(reader.readAt(64, bytes), bytes.length);
    deepEqual(
      [bytes[0], bytes[63], bytes[64], bytes[127], bytes[128]],
      [7, 7, 0, 0, 7],
      "segment 2, removed after the listing, reads as zeros",
    );
    reader.close();
  });
});

Deno.test("SegmentedStore (read-only): contiguousEnd starts at the head's segment, whatever a checkpoint has not removed yet", async () => {
  await withTempDir((dir) => {
    const writer = openStore(dir, 64);
    writer.append(new Uint8Array(64 * 6 + 10).fill(7));
    writer.flushSync();
    equal(writer.truncateBefore(3 * 64 + 5), 3 * 64 + 5);
    writer.close();
    // Segment 1 of the checkpoint, not removed yet when the reader lists the directory.
    Deno.writeFileSync(join(dir, segmentName(1)), new Uint8Array(30));
    const reader = openStore(dir, 64, true);
    equal(reader.head, 3 * 64 + 5);
    equal(reader.contiguousEnd(), reader.size);
    reader.close();
  });
});

Deno.test("SegmentedStore (read-only): a segment removed and made again between the listing and the read is read as it is now", async () => {
  await withTempDir((dir) => {
    const writer = openStore(dir, 64);
    writer.append(new Uint8Array(64 * 3).fill(7));
    writer.flushSync();
    writer.close();
    const inner = FsDirectory.open(dir, { durability: "runtime", readOnly: true });
    let armed: string | undefined = segmentName(1);
    // The writer's cut removes segment 1 just before the reader opens it, and its next appends
    // make it again just after that open failed.
    const directory = new Proxy(inner, {
      get(target, property) {
        if (property !== "open") {
          const value = Reflect.get(target, property, target);
          return typeof value === "function" ? value.bind(target) : value;
        }
        return (name: string, create: boolean) => {
          if (name !== armed) return target.open(name, create);
          armed = undefined;
          Deno.removeSync(join(dir, name));
          try {
            return target.open(name, create);
          } finally {
            Deno.writeFileSync(join(dir, name), new Uint8Array(64).fill(9));
          }
        };
      },
    });
    const reader = SegmentedStore.open(directory, 64, { readOnly: true });
    const bytes = new Uint8Array(64);
    equal(reader.readAt(64, bytes), 64);
    deepEqual([...new Set(bytes)], [9], "the segment made again, read once more");
    reader.close();
  });
});
