// Copyright 2026 the wal-db authors. MIT license.
// Tests for cli/truncate.ts: `wal truncate-before` and `wal truncate-after`.

import { deepEqual, equal, match, ok } from "node:assert/strict";
import { join } from "node:path";
import { MemoryIo } from "../cli/io.ts";
import { main } from "../cli/main.ts";
import { encodeSegmentSize, segmentName } from "../src/segments.ts";
import { Wal } from "../src/open.ts";
import { FsDirectory, Snapshots } from "../mod.ts";
import { bytes, concat, logImage, readBytes, withTempDir } from "./_helpers.ts";

/** Six records of 10 payload bytes: LSNs 0, 18, 36, 54, 72, 90; the log ends at 108. */
const RECORDS = Array.from({ length: 6 }, (_, i) => bytes(`record  #${i}`));
const LSNS = [0, 18, 36, 54, 72, 90];
const END = 108;

function writeFile(dir: string, content = logImage(RECORDS)): string {
  const path = join(dir, "app.wal");
  Deno.writeFileSync(path, content);
  return path;
}

/** A segmented log of 32-byte segments, written by the library. */
function writeSegmented(dir: string): string {
  const path = join(dir, "log");
  using wal = Wal.openSegmented(path, 32);
  wal.appendBatch(RECORDS);
  wal.syncSync();
  return path;
}

async function run(args: string[], io = new MemoryIo()): Promise<{ code: number; io: MemoryIo }> {
  return { code: await main(args, io), io };
}

function lsnsOf(path: string, segmentSize?: number): number[] {
  const config = { readOnly: true } as const;
  using wal = segmentSize === undefined
    ? Wal.open(path, config)
    : Wal.openSegmented(path, segmentSize, config);
  return [...wal.iter()].map((entry) => entry.lsn);
}

function filesOf(dir: string): string[] {
  return [...Deno.readDirSync(dir)].map((entry) => entry.name).sort();
}

Deno.test("truncate-after --yes keeps the record at LSN and drops the rest", async () => {
  await withTempDir(async (dir) => {
    const path = writeFile(dir);
    const { code, io } = await run(["truncate-after", path, "36", "--yes"]);
    equal(code, 0);
    match(io.out, /will drop +3 records after LSN 36 \(LSN 54 to 108\)\n/);
    match(io.out, /will keep +3 records, LSN 0 to 54\n/);
    match(io.out, /done: the log now ends at LSN 54\n$/);
    deepEqual(lsnsOf(path), LSNS.slice(0, 3));
    equal((await Deno.stat(path)).size, 54);
  });
});

Deno.test("truncate-after works on a segmented log and removes the segments past the end", async () => {
  await withTempDir(async (dir) => {
    const path = writeSegmented(dir);
    const { code } = await run(["truncate-after", path, "18", "-y"]);
    equal(code, 0);
    deepEqual(lsnsOf(path, 32), [0, 18]);
    deepEqual(filesOf(path), [
      "00000000000000000000.wal",
      "00000000000000000001.wal",
      "segment-size",
      "wal.lock",
    ]);
  });
});

Deno.test("truncate-before --yes moves the head and removes whole segments below it", async () => {
  await withTempDir(async (dir) => {
    const path = writeSegmented(dir);
    const { code, io } = await run(["truncate-before", path, "72", "--yes"]);
    equal(code, 0);
    match(io.out, /will drop +4 records before LSN 72 \(LSN 0 to 72\)\n/);
    match(io.out, /segment files +2 to remove\n/);
    match(io.out, /done: the log now starts at LSN 72; 2 segment files removed\n$/);
    deepEqual(lsnsOf(path, 32), [72, 90]);
    deepEqual(filesOf(path), [
      "00000000000000000002.wal",
      "00000000000000000003.wal",
      "head",
      "segment-size",
      "wal.lock",
    ]);
  });
});

Deno.test("a truncate command on one segment without a segment-size file needs --segment-size", async () => {
  await withTempDir(async (dir) => {
    // As the Rust crate leaves it: one segment numbered 0, no segment-size file, no lock.
    const path = join(dir, "log");
    await Deno.mkdir(path);
    await Deno.writeFile(join(path, segmentName(0)), logImage(RECORDS.slice(0, 3)));
    const before = filesOf(path);
    const refused = await run(["truncate-after", path, "18", "--yes"]);
    equal(refused.code, 64);
    match(refused.io.err, /pass --segment-size/);
    deepEqual(filesOf(path), before, "nothing was changed");
    const { code, io } = await run(["truncate-after", path, "18", "--yes", "--segment-size", "64"]);
    equal(code, 0, io.err);
    deepEqual(lsnsOf(path, 64), [0, 18]);
    deepEqual(readBytes(join(path, "segment-size")), encodeSegmentSize(64));
  });
});

Deno.test("truncate-before refuses a single-file log with exit 64 and changes nothing", async () => {
  await withTempDir(async (dir) => {
    const path = writeFile(dir);
    const before = readBytes(path);
    const { code, io } = await run(["truncate-before", path, "36", "--yes"]);
    equal(code, 64);
    match(io.err, /truncate-before needs a segmented log/);
    deepEqual(readBytes(path), before);
  });
});

Deno.test("a truncate command asks on a terminal and goes ahead on y", async () => {
  await withTempDir(async (dir) => {
    const path = writeFile(dir);
    const io = new MemoryIo({ terminals: ["stdin"], answers: ["y"] });
    equal((await run(["truncate-after", path, "72"], io)).code, 0);
    deepEqual(io.questions, ["Proceed? [y/N] "]);
    deepEqual(lsnsOf(path), LSNS.slice(0, 5));
    const yes = new MemoryIo({ terminals: ["stdin"], answers: [" YES "] });
    equal((await run(["truncate-after", path, "54"], yes)).code, 0);
    deepEqual(lsnsOf(path), LSNS.slice(0, 4));
  });
});

for (const answer of ["n", "", "maybe", undefined]) {
  Deno.test(`a truncate command declined with ${JSON.stringify(answer)} exits 1 and changes nothing`, async () => {
    await withTempDir(async (dir) => {
      const path = writeSegmented(dir);
      const files = filesOf(path);
      const segment = readBytes(join(path, files[0]!));
      const answers = answer === undefined ? [] : [answer];
      const io = new MemoryIo({ terminals: ["stdin"], answers });
      const { code } = await run(["truncate-before", path, "54"], io);
      equal(code, 1);
      match(io.out, /declined; nothing was changed\n$/);
      deepEqual(filesOf(path), files);
      deepEqual(readBytes(join(path, files[0]!)), segment);
    });
  });
}

Deno.test("a truncate command without a terminal and without --yes refuses with 64", async () => {
  await withTempDir(async (dir) => {
    const path = writeFile(dir);
    const before = readBytes(path);
    const { code, io } = await run(["truncate-after", path, "0"]);
    equal(code, 64);
    match(io.err, /refusing to write without confirmation: stdin is not a terminal/);
    deepEqual(readBytes(path), before);
  });
});

Deno.test("a truncate command exits 2 on an LSN that is not a record, with the reason", async () => {
  await withTempDir(async (dir) => {
    const path = writeFile(dir);
    const before = readBytes(path);
    const cases: [string[], RegExp][] = [
      [["truncate-after", path, "5"], /Cannot truncate after LSN 5: no record starts there/],
      [["truncate-after", path, "500"], /Cannot truncate after LSN 500: it is outside \[0, 108\]/],
      [["truncate-after", path, String(END)], /it is the end of the log, where no record starts/],
    ];
    for (const [args, reason] of cases) {
      const { code, io } = await run([...args, "--yes"]);
      equal(code, 2, args.join(" "));
      match(io.err, reason);
    }
    const segmented = writeSegmented(dir);
    const { code, io } = await run(["truncate-before", segmented, "40", "--yes"]);
    equal(code, 2);
    match(io.err, /Cannot truncate before LSN 40: no record starts there/);
    deepEqual(readBytes(path), before);
  });
});

Deno.test("a truncate command refuses damage before intact records with exit 3", async () => {
  await withTempDir(async (dir) => {
    const content = logImage(RECORDS);
    content[LSNS[1]! + 8]! ^= 1;
    const path = writeFile(dir, content);
    const { code, io } = await run(["truncate-after", path, "0", "--yes"]);
    equal(code, 3);
    match(
      io.err,
      /damage \(crc-mismatch\) at LSN 18 .*\nThe truncate commands do not repair damage/s,
    );
    deepEqual(readBytes(path), content);
    deepEqual(filesOf(dir), ["app.wal"]);
  });
});

Deno.test("a truncate command exits 3 while a writer holds the log", async () => {
  await withTempDir(async (dir) => {
    const file = writeFile(dir);
    using _writer = Wal.open(file);
    const segmented = join(dir, "segments");
    using segmentedWriter = Wal.openSegmented(segmented, 64);
    segmentedWriter.append(bytes("a record"));
    await segmentedWriter.sync();
    for (const [command, path] of [["truncate-after", file], ["truncate-before", segmented]]) {
      const { code, io } = await run([command!, path!, "0", "--yes"]);
      equal(code, 3);
      equal(
        io.err,
        `wal ${command}: Cannot truncate "${path}": another process has the log open (its ` +
          `writer, or another truncate command), and a truncation needs the log to itself; ` +
          `stop that process first. Nothing was changed\n`,
      );
      ok(!/no-lock|lock "none"/.test(io.err), "no read-command hint");
    }
  });
});

Deno.test("truncate-after names a torn tail in its plan, and opening for writing cuts it", async () => {
  await withTempDir(async (dir) => {
    const path = writeFile(dir, concat([logImage(RECORDS), bytes("torn")]));
    const { code, io } = await run(["truncate-after", path, "72", "--yes"]);
    equal(code, 0);
    match(io.out, /torn tail +4 bytes of an unfinished append at LSN 108/);
    equal((await Deno.stat(path)).size, 90);
  });
});

Deno.test("a truncate command with nothing to drop exits 0 and writes nothing", async () => {
  await withTempDir(async (dir) => {
    const path = writeFile(dir);
    const { code, io } = await run(["truncate-after", path, "90"]);
    equal(code, 0);
    match(io.out, /nothing to drop; nothing was changed\n$/);
    const segmented = writeSegmented(dir);
    const again = await run(["truncate-before", segmented, "0"]);
    equal(again.code, 0);
    deepEqual(filesOf(segmented).includes("head"), false);
  });
});

Deno.test("truncate commands refuse a cut that a checkpoint's snapshot would not fit", async () => {
  await withTempDir(async (dir) => {
    const path = writeSegmented(dir);
    // The snapshot file `Snapshots.checkpoint` leaves, here without the cut that follows it.
    const writable = FsDirectory.open(path);
    try {
      new Snapshots(writable).write(bytes("state"), 36);
    } finally {
      writable.close();
    }
    const before = filesOf(path);
    for (const args of [["truncate-before", path, "54"], ["truncate-after", path, "0"]]) {
      const { code, io } = await run([...args, "--yes"]);
      equal(code, 2, io.err);
      match(io.err, /checkpoint snapshot is at LSN 36/);
      match(io.err, /Nothing was changed/);
    }
    deepEqual(filesOf(path), before);
    deepEqual(lsnsOf(path, 32), LSNS);
    // Cuts the snapshot still fits are done.
    equal((await run(["truncate-before", path, "36", "--yes"])).code, 0);
    equal((await run(["truncate-after", path, "54", "--yes"])).code, 0);
    deepEqual(lsnsOf(path, 32), [36, 54]);
  });
});
