// Copyright 2026 the wal-db authors. MIT license.
// Tests for cli/records.ts: `wal dump` and `wal tail`, including `tail -f` beside a writer.

import { deepEqual, equal, match } from "node:assert/strict";
import { join } from "node:path";
import { MemoryIo } from "../cli/io.ts";
import { main } from "../cli/main.ts";
import { FOLLOW_LSN_WIDTH } from "../cli/records.ts";
import { segmentName } from "../src/segments.ts";
import { Wal } from "../src/open.ts";
import { bytes, concat, logImage, lsnsOf, withTempDir } from "./_helpers.ts";

/** Fifteen records "record 0" … "record 14"; each frame is 16 or 17 bytes. */
const RECORDS = Array.from({ length: 15 }, (_, i) => bytes(`record ${i}`));
const LSNS = lsnsOf(RECORDS);
const END = LSNS[14]! + 8 + RECORDS[14]!.length;

function writeFile(dir: string, content = logImage(RECORDS)): string {
  const path = join(dir, "app.wal");
  Deno.writeFileSync(path, content);
  return path;
}

function writeSegmented(dir: string, size: number, content = logImage(RECORDS)): string {
  const path = join(dir, "log");
  Deno.mkdirSync(path);
  for (let k = 0; k * size < content.length; k++) {
    Deno.writeFileSync(join(path, segmentName(k)), content.subarray(k * size, (k + 1) * size));
  }
  return path;
}

async function run(args: string[], io = new MemoryIo()): Promise<{ code: number; io: MemoryIo }> {
  return { code: await main(args, io), io };
}

/** The LSNs of the JSON lines printed so far. */
function jsonLsns(out: string): number[] {
  return out.split("\n").filter((l) => l !== "").map((l) => JSON.parse(l).lsn);
}

/** Waits until `condition` holds, checking every few milliseconds; fails after `timeoutMs`. */
async function until(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

Deno.test("dump prints every record as LSN, size and preview, LSNs aligned", async () => {
  await withTempDir(async (dir) => {
    const { code, io } = await run(["dump", writeFile(dir)]);
    equal(code, 0);
    const lines = io.out.split("\n").slice(0, -1);
    equal(lines.length, 15);
    equal(lines[0], "  0       8  record 0");
    equal(lines[14], `${LSNS[14]}       9  record 14`);
    equal(io.err, "");
  });
});

Deno.test("dump prints the same records from a segmented log", async () => {
  await withTempDir(async (dir) => {
    const file = await run(["dump", writeFile(dir), "--format", "json"]);
    const segmented = await run(["dump", writeSegmented(dir, 20), "--format", "json"]);
    equal(segmented.code, 0);
    equal(segmented.io.out, file.io.out);
  });
});

Deno.test("dump --format json prints lsn, size and base64 data per line", async () => {
  await withTempDir(async (dir) => {
    const { io } = await run(["dump", writeFile(dir), "--format=json", "--limit", "2"]);
    deepEqual(io.out.split("\n").slice(0, -1).map((l) => JSON.parse(l)), [
      { lsn: 0, size: 8, data: btoa("record 0") },
      { lsn: 16, size: 8, data: btoa("record 1") },
    ]);
  });
});

Deno.test("dump --format hex prints a hex dump per record", async () => {
  await withTempDir(async (dir) => {
    const { io } = await run(["dump", writeFile(dir), "--format", "hex", "--limit", "1"]);
    equal(
      io.out,
      "LSN 0, 8 bytes\n  00000000  72 65 63 6f 72 64 20 30" + " ".repeat(27) + "|record 0|\n",
    );
  });
});

Deno.test("dump --from starts at a record and --limit stops after N", async () => {
  await withTempDir(async (dir) => {
    const path = writeFile(dir);
    const { io } = await run([
      "dump",
      path,
      "--from",
      String(LSNS[3]),
      "--limit",
      "2",
      "--format",
      "json",
    ]);
    deepEqual(jsonLsns(io.out), [LSNS[3], LSNS[4]]);
    const none = await run(["dump", path, "--limit", "0"]);
    equal(none.io.out, "");
  });
});

Deno.test("dump --from an LSN that is not a record exits 2 and names the nearest records", async () => {
  await withTempDir(async (dir) => {
    const path = writeFile(dir);
    const { code, io } = await run(["dump", path, "--from", "3"]);
    equal(code, 2);
    equal(
      io.err,
      "wal dump: Cannot dump from LSN 3: no record starts there; the nearest records start at " +
        `LSN 0 (before it) and LSN ${LSNS[1]} (after it)\n`,
    );
    equal(io.out, "");
    const past = await run(["dump", path, "--from", "9999"]);
    equal(past.code, 2);
    equal(
      past.io.err,
      `wal dump: Cannot dump from LSN 9999: it is outside [0, ${END}]; the nearest record ` +
        `starts at LSN ${LSNS[14]}, before it (the last record of the log)\n`,
    );
    const tail = await run(["tail", path, "--from", String(LSNS[5]! + 1)]);
    equal(tail.code, 2);
    match(tail.io.err, new RegExp(`LSN ${LSNS[5]} \\(before it\\) and LSN ${LSNS[6]} \\(after`));
  });
});

Deno.test("dump skips damaged bytes, prints every intact record, and notes the damage", async () => {
  await withTempDir(async (dir) => {
    const content = logImage(RECORDS);
    content[LSNS[2]! + 8]! ^= 1;
    const { code, io } = await run(["dump", writeFile(dir, content), "--format", "json"]);
    equal(code, 0);
    deepEqual(jsonLsns(io.out), LSNS.filter((_, i) => i !== 2));
    match(io.err, /^note: the log has damage at LSN 32 \(crc-mismatch\)/);
  });
});

Deno.test("dump says nothing about a torn tail: no record is hidden there", async () => {
  await withTempDir(async (dir) => {
    const content = concat([logImage(RECORDS), new Uint8Array(64)]); // a writer's reserve
    const { code, io } = await run(["dump", writeFile(dir, content), "--limit", "1"]);
    equal(code, 0);
    equal(io.err, "");
  });
});

Deno.test("tail prints the last 10 records, or the last N with -n", async () => {
  await withTempDir(async (dir) => {
    const path = writeFile(dir);
    const last10 = await run(["tail", path, "--format", "json"]);
    equal(last10.code, 0);
    deepEqual(jsonLsns(last10.io.out), LSNS.slice(5));
    deepEqual(
      jsonLsns((await run(["tail", path, "-n", "2", "--format", "json"])).io.out),
      LSNS.slice(13),
    );
    equal((await run(["tail", path, "-n", "0"])).io.out, "");
    deepEqual(jsonLsns((await run(["tail", path, "-n", "99", "--format", "json"])).io.out), LSNS);
  });
});

Deno.test("tail --from prints from that record to the end", async () => {
  await withTempDir(async (dir) => {
    const { io } = await run([
      "tail",
      writeSegmented(dir, 20),
      "--from",
      String(LSNS[12]),
      "--format",
      "json",
    ]);
    deepEqual(jsonLsns(io.out), LSNS.slice(12));
  });
});

Deno.test("tail refuses --from together with -n, and an LSN that is not a record", async () => {
  await withTempDir(async (dir) => {
    const path = writeFile(dir);
    const both = await run(["tail", path, "--from", "0", "-n", "2"]);
    equal(both.code, 64);
    match(both.io.err, /--from and --lines cannot be combined/);
    const busy = await run(["tail", path, "-f", "--poll-ms", "0"]);
    equal(busy.code, 64);
    match(busy.io.err, /--poll-ms must be at least 1/);
    const bad = await run(["tail", path, "--from", "5"]);
    equal(bad.code, 2);
    match(bad.io.err, /Cannot tail from LSN 5/);
  });
});

Deno.test("tail reads a log a writer holds: it takes no lock", async () => {
  await withTempDir(async (dir) => {
    const path = writeFile(dir);
    using _writer = Wal.open(path);
    const { code, io } = await run(["tail", path, "-n", "1", "--format", "json"]);
    equal(code, 0);
    deepEqual(jsonLsns(io.out), [LSNS[14]]);
  });
});

Deno.test("tail -f follows records a writer appends, and ends when the signal aborts", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "live.wal");
    using writer = Wal.open(path);
    writer.append(bytes("before"));
    writer.syncSync();
    const stop = new AbortController();
    const io = new MemoryIo({ signal: stop.signal });
    const following = main(["tail", path, "-f", "--poll-ms", "5", "--format", "json"], io);
    await until(() => jsonLsns(io.out).length === 1, "the first record");
    const lsns = [0];
    for (let i = 0; i < 20; i++) {
      lsns.push(writer.append(bytes(`live ${i}`)));
      if (i % 5 === 4) await writer.sync();
    }
    await writer.sync();
    await until(() => jsonLsns(io.out).length === lsns.length, "every appended record");
    stop.abort();
    equal(await following, 0);
    deepEqual(jsonLsns(io.out), lsns);
  });
});

Deno.test("tail -f pads every LSN to one fixed width, however far the LSNs grow", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "live.wal");
    using writer = Wal.open(path, { preallocateSize: 0 });
    const stop = new AbortController();
    const io = new MemoryIo({ signal: stop.signal });
    const following = main(["tail", path, "-f", "--poll-ms", "5"], io);
    // From LSN 0 to past 10,000: one, two, three, four and five digits.
    const payload = new Uint8Array(40).fill(0x78);
    let count = 0;
    for (let lsn = 0; lsn < 10_500; lsn += 48, count++) writer.append(payload);
    await writer.sync();
    await until(() => io.out.split("\n").length > count, "every record");
    stop.abort();
    equal(await following, 0);
    const lines = io.out.split("\n").slice(0, -1);
    equal(lines.length, count);
    equal(lines[0], `${"0".padStart(FOLLOW_LSN_WIDTH)}      40  ${"x".repeat(40)}`);
    equal(new Set(lines.map((line) => line.indexOf("  40  "))).size, 1, "the size column");
    equal(new Set(lines.map((line) => line.length)).size, 1, "every line as long");
  });
});

Deno.test("tail -f does not keep a writer from opening the log, nor does a dump in progress", async () => {
  await withTempDir(async (dir) => {
    const path = writeFile(dir);
    const stop = new AbortController();
    const io = new MemoryIo({ signal: stop.signal });
    const following = main(["tail", path, "-f", "--poll-ms", "5", "--format", "json"], io);
    await until(() => jsonLsns(io.out).length === 10, "the last 10 records");
    {
      using writer = Wal.open(path); // the exclusive lock is free while tail -f runs
      writer.append(bytes("from the writer"));
      await writer.sync();
      await until(() => jsonLsns(io.out).length === 11, "the writer's record");
    }
    stop.abort();
    equal(await following, 0);
    // A dump has the log open while it prints: a writer opening then must succeed.
    const dumping = new MemoryIo();
    const opened: string[] = [];
    dumping.onStdout = () => {
      if (opened.length > 0) return;
      try {
        Wal.open(path).close();
        opened.push("opened");
      } catch (error) {
        opened.push(String(error));
      }
    };
    equal(await main(["dump", path, "--limit", "3"], dumping), 0);
    deepEqual(opened, ["opened"]);
  });
});

Deno.test("tail -f on a segmented log of one segment goes on past the segment boundary", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "log");
    using writer = Wal.openSegmented(path, 64);
    const lsns = [writer.append(bytes("one")), writer.append(bytes("two"))];
    writer.syncSync();
    const stop = new AbortController();
    const io = new MemoryIo({ signal: stop.signal });
    const following = main(
      ["tail", path, "-f", "-n", "5", "--poll-ms", "5", "--format", "json"],
      io,
    );
    await until(() => jsonLsns(io.out).length === 2, "the records of the first segment");
    // Crossing into the next segments shows the true segment size: the CLI reopens with it.
    for (let i = 0; i < 12; i++) lsns.push(writer.append(bytes(`more records ${i}`)));
    await writer.sync();
    await until(() => jsonLsns(io.out).length === lsns.length, "the records of later segments");
    stop.abort();
    equal(await following, 0);
    deepEqual(jsonLsns(io.out), lsns);
    const texts = io.out.split("\n").slice(0, -1).map((l) => atob(JSON.parse(l).data));
    equal(texts.at(-1), "more records 11");
  });
});

Deno.test("tail -f starts on a segmented log that has no segment yet", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "log");
    using writer = Wal.openSegmented(path, 32);
    const stop = new AbortController();
    const io = new MemoryIo({ signal: stop.signal });
    const following = main(["tail", path, "-f", "--poll-ms", "5"], io);
    const lsns: number[] = [];
    for (let i = 0; i < 6; i++) lsns.push(writer.append(bytes(`entry ${i}`)));
    await writer.sync();
    await until(() => io.out.split("\n").length - 1 === lsns.length, "every record");
    stop.abort();
    equal(await following, 0);
    match(io.out, /^ *0 +7 {2}entry 0\n/);
  });
});

Deno.test("tail -f exits 4 with a message when the writer cuts the log below what it printed", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "live.wal");
    using writer = Wal.open(path);
    const lsns = RECORDS.slice(0, 5).map((record) => writer.append(record));
    await writer.sync();
    const io = new MemoryIo();
    const following = main(["tail", path, "-f", "--from", "0", "--poll-ms", "5"], io);
    await until(() => io.out.split("\n").length - 1 === lsns.length, "every record");
    writer.truncateAfter(lsns[1]!);
    let code: number | undefined;
    following.then((c) => code = c);
    await until(() => code !== undefined, "tail -f to end");
    equal(code, 4);
    match(io.err, /the log was cut at LSN \d+ below what was printed/);
  });
});

Deno.test("tail -f exits 4 with a message when a checkpoint passes it", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "log");
    using writer = Wal.openSegmented(path, 64);
    for (let i = 0; i < 3; i++) writer.append(RECORDS[i]!);
    await writer.sync();
    const io = new MemoryIo();
    const following = main(["tail", path, "-f", "--from", "0", "--poll-ms", "5"], io);
    await until(() => io.out.split("\n").length - 1 === 3, "the first records");
    // No await from here to the checkpoint: the follower cannot poll in between, so the
    // checkpoint passes it before it sees the later records.
    const later = RECORDS.slice(3).map((record) => writer.append(record));
    writer.syncSync();
    writer.truncateBefore(later.at(-1)!);
    let code: number | undefined;
    following.then((c) => code = c);
    await until(() => code !== undefined, "tail -f to end");
    equal(code, 4);
    match(io.err, /a checkpoint moved the head of the log to LSN \d+/);
    equal(io.out.split("\n").length - 1, 3);
  });
});
