// Copyright 2026 the wal-db authors. MIT license.
// Tests for cli/inspect.ts: `wal stat` and `wal verify` on single-file and segmented logs.

import { deepEqual, equal, match, ok } from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { main } from "../cli/main.ts";
import { phase } from "../cli/inspect.ts";
import { MemoryIo } from "../cli/io.ts";
import { encodeHead, segmentName } from "../src/segments.ts";
import { Wal } from "../src/open.ts";
import { bytes, concat, hex, logImage, withTempDir } from "./_helpers.ts";

/** Three records: LSNs 0, 13 and 27; the log ends at 40. */
const RECORDS = [bytes("first"), bytes("second"), bytes("third")];
const END = 40;

type Variant = "intact" | "torn" | "damaged";

/** The bytes of a log in each state: torn adds half a frame; damaged flips a byte of "second". */
function image(variant: Variant): Uint8Array {
  const intact = logImage(RECORDS);
  if (variant === "torn") return concat([intact, logImage([bytes("fourth")]).subarray(0, 10)]);
  if (variant === "damaged") intact[13 + 9]! ^= 0x20;
  return intact;
}

/** Writes `bytes` as a single file or as segments of 16 bytes; returns the path to pass. */
function writeLog(dir: string, layout: "file" | "segmented", content: Uint8Array): string {
  if (layout === "file") {
    const path = join(dir, "app.wal");
    Deno.writeFileSync(path, content);
    return path;
  }
  const path = join(dir, "log");
  Deno.mkdirSync(path);
  for (let k = 0; k * 16 < content.length; k++) {
    Deno.writeFileSync(join(path, segmentName(k)), content.subarray(k * 16, (k + 1) * 16));
  }
  return path;
}

async function run(args: string[], io = new MemoryIo()): Promise<{ code: number; io: MemoryIo }> {
  return { code: await main(args, io), io };
}

for (const layout of ["file", "segmented"] as const) {
  Deno.test(`stat prints an aligned summary of an intact ${layout} log`, async () => {
    await withTempDir(async (dir) => {
      const path = writeLog(dir, layout, image("intact"));
      const { code, io } = await run(["stat", path]);
      equal(code, 0);
      match(io.out, new RegExp(`^path +${path.replaceAll("/", "\\/")}\n`));
      match(io.out, new RegExp(`\nlayout +${layout}\n`));
      match(io.out, /\nrecords +3\n/);
      match(io.out, /\nfirst LSN +0\n/);
      match(io.out, /\nlast LSN +27\n/);
      match(io.out, new RegExp(`\nend LSN +${END}\n`));
      match(io.out, /\nrecovery +intact\n/);
      if (layout === "segmented") {
        match(io.out, /\nsegments +3\n/);
        match(io.out, /\nsegment size +16 bytes \(from the segment files\)\n/);
      }
      equal(io.err, "");
    });
  });

  Deno.test(`stat --json describes a damaged ${layout} log`, async () => {
    await withTempDir(async (dir) => {
      const path = writeLog(dir, layout, image("damaged"));
      const { code, io } = await run(["stat", path, "--json"]);
      equal(code, 0);
      const summary = JSON.parse(io.out);
      equal(summary.layout, layout);
      equal(summary.status, "damaged");
      equal(summary.recordCount, 2);
      equal(summary.firstLsn, 0);
      equal(summary.lastLsn, 27);
      equal(summary.endLsn, END);
      deepEqual(summary.damage, {
        lsn: 13,
        reason: "crc-mismatch",
        intactRecordCount: 1,
        intactSize: 13,
      });
      deepEqual(summary.ranges, [
        { lsn: 13, size: 14, reason: "crc-mismatch", tornTail: false, skipped: true },
      ]);
      equal(summary.reserveSize, 0);
      equal(summary.segmentCount, layout === "file" ? 1 : 3);
    });
  });

  Deno.test(`verify exits 0 on an intact ${layout} log`, async () => {
    await withTempDir(async (dir) => {
      const { code, io } = await run(["verify", writeLog(dir, layout, image("intact"))]);
      equal(code, 0);
      equal(io.out, `intact: 3 intact records from LSN 0 to ${END}\n`);
    });
  });

  Deno.test(`verify exits 1 on a ${layout} log with only a torn tail`, async () => {
    await withTempDir(async (dir) => {
      const { code, io } = await run(["verify", writeLog(dir, layout, image("torn"))]);
      equal(code, 1);
      match(io.out, /^torn tail at LSN 40: 3 intact records from LSN 0 to 40/);
      match(io.out, /LSN 40: 10 bytes, partial-record, torn tail/);
    });
  });

  Deno.test(`verify exits 2 and prints the LSN on a damaged ${layout} log`, async () => {
    await withTempDir(async (dir) => {
      const { code, io } = await run(["verify", writeLog(dir, layout, image("damaged"))]);
      equal(code, 2);
      match(io.out, /^damaged at LSN 13: /);
      match(io.out, /LSN 13: 14 bytes, crc-mismatch, intact records follow/);
    });
  });
}

Deno.test("verify exits 2 when damage and a torn tail are both present, listing both", async () => {
  await withTempDir(async (dir) => {
    const content = concat([image("damaged"), bytes("xyz")]);
    const { code, io } = await run(["verify", writeLog(dir, "file", content), "--json"]);
    equal(code, 2);
    const summary = JSON.parse(io.out);
    deepEqual(summary.ranges.map((r: { tornTail: boolean }) => r.tornTail), [false, true]);
  });
});

Deno.test("verify exits 3 when the log is missing", async () => {
  await withTempDir(async (dir) => {
    const { code, io } = await run(["verify", join(dir, "missing.wal")]);
    equal(code, 3);
    match(io.err, /^wal verify: Cannot read ".*missing.wal": no such file or directory\n$/);
  });
});

Deno.test("verify exits 3 when the file is not a wal-db log", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "notes.txt");
    await Deno.writeFile(path, bytes("These are notes, not a log; nothing here checks out.\n"));
    const { code, io } = await run(["verify", path]);
    equal(code, 3);
    match(io.err, /not a wal-db log/);
  });
});

Deno.test("verify calls foreign files with a plausible first header not a log, not torn", async () => {
  await withTempDir(async (dir) => {
    const foreign = {
      "elf": await Deno.readFile("/bin/ls"),
      "garbage": concat([hex("01 02 03 04 05 00 00 00"), bytes("xyzzy")]),
      "seven-bytes": hex("01 02 03 04 05 06 07"),
    };
    for (const [name, content] of Object.entries(foreign)) {
      const path = join(dir, name);
      await Deno.writeFile(path, content);
      const { code, io } = await run(["verify", path]);
      equal(code, 3, name);
      match(io.err, /not a wal-db log/, name);
      equal(io.out, "", name);
      deepEqual(await Deno.readFile(path), content, name);
    }
  });
});

Deno.test("verify and stat report a writer's reserved zeros as a reserve, not damage", async () => {
  await withTempDir(async (dir) => {
    // A live log as a writer that preallocates leaves it: records, then reserved zeros.
    const path = join(dir, "live.wal");
    await Deno.writeFile(path, concat([image("intact"), new Uint8Array(1024 * 1024 - END)]));
    const verified = await run(["verify", path, "--no-lock"]);
    equal(verified.code, 0);
    equal(
      verified.io.out,
      `intact: 3 intact records from LSN 0 to ${END}, then 1048536 bytes (1024.0 KiB) of ` +
        `reserved zeros\n`,
    );
    const stat = await run(["stat", path, "--json"]);
    const summary = JSON.parse(stat.io.out);
    equal(summary.status, "intact");
    equal(summary.reserveSize, 1024 * 1024 - END);
    deepEqual(summary.ranges, []);
    const text = await run(["stat", path]);
    match(
      text.io.out,
      /reserve +1048536 bytes \(1024\.0 KiB\) of zeros after LSN 40, reserved ahead/,
    );
  });
});

Deno.test("verify exits 3 when a segmented log's head file is damaged", async () => {
  await withTempDir(async (dir) => {
    const path = writeLog(dir, "segmented", image("intact"));
    await Deno.writeFile(join(path, "head"), new Uint8Array(12).fill(1));
    const { code, io } = await run(["verify", path]);
    equal(code, 3);
    match(io.err, /head file is damaged/);
  });
});

Deno.test("stat and verify read a log a writer holds; --no-lock is accepted and changes nothing", async () => {
  await withTempDir(async (dir) => {
    const path = writeLog(dir, "file", image("intact"));
    using _writer = Wal.open(path, { preallocateSize: 0 });
    for (const args of [["verify", path], ["verify", path, "--no-lock"]]) {
      const { code, io } = await run(args);
      equal(code, 0, io.err);
      equal(io.out, `intact: 3 intact records from LSN 0 to ${END}\n`);
    }
    const stat = await run(["stat", path]);
    equal(stat.code, 0, stat.io.err);
    match(stat.io.out, /\nrecords +3\n/);
  });
});

for (const command of ["stat", "verify"]) {
  Deno.test(`a writer can open a log while ${command} has it open`, async () => {
    await withTempDir(async (dir) => {
      const path = writeLog(dir, "file", image("intact"));
      const io = new MemoryIo();
      let opened = "not tried";
      // stat and verify print while the log is still open: open a writer right then.
      io.onStdout = () => {
        try {
          Wal.open(path).close();
          opened = "opened";
        } catch (error) {
          opened = String(error);
        }
      };
      equal(await main([command, path], io), 0);
      equal(opened, "opened");
    });
  });
}

Deno.test({
  name: "verify and stat on a live log: the writer's reserve is not damage, exit 0",
  // A writer reserves space through the shim only; without FFI the test above covers the bytes.
  ignore: Deno.permissions.querySync({ name: "ffi" }).state !== "granted",
  fn: () =>
    withTempDir(async (dir) => {
      const path = join(dir, "live.wal");
      using writer = Wal.open(path, { preallocateSize: 64 * 1024, durability: "shim" });
      for (const payload of RECORDS) writer.append(payload);
      await writer.sync();
      const reserve = (await Deno.stat(path)).size - END;
      ok(reserve > 0, "the writer reserved zeros ahead of its end");
      const verified = await run(["verify", path]);
      equal(verified.code, 0);
      match(
        verified.io.out,
        new RegExp(`^intact: 3 intact records from LSN 0 to ${END}, then ${reserve} bytes`),
      );
      const stat = await run(["stat", path]);
      equal(stat.code, 0);
      match(stat.io.out, /\nrecovery +intact\nreserve +\d+ bytes .* not damage\n$/);
      ok(!/torn|crc-mismatch/.test(stat.io.out + verified.io.out));
    }),
});

Deno.test("verify draws a progress bar on stderr only when stderr is a terminal", async () => {
  await withTempDir(async (dir) => {
    const path = writeLog(dir, "file", image("intact"));
    const quiet = await run(["verify", path]);
    equal(quiet.io.err, "");
    const shown = await run(["verify", path], new MemoryIo({ terminals: ["stderr"] }));
    equal(shown.code, 0);
    match(shown.io.err, /^\rverifying \[#*-*\] +\d+%/);
    ok(shown.io.err.endsWith("\r\x1b[2K"), "the bar is erased before the verdict");
    equal(shown.io.out, quiet.io.out);
  });
});

Deno.test("stat and verify show the open's scan and the read-back on a terminal, nothing piped", async () => {
  await withTempDir(async (dir) => {
    // 3 MiB of records: the open's scan reports progress once per MiB.
    const payload = new Uint8Array(4096).fill(0x61);
    const path = join(dir, "big.wal");
    await Deno.writeFile(path, logImage(Array.from({ length: 768 }, () => payload)));
    for (const [command, label] of [["stat", "reading"], ["verify", "verifying"]]) {
      const piped = await run([command!, path]);
      equal(piped.code, 0);
      equal(piped.io.err, "", `${command} is silent when stderr is not a terminal`);
      const shown = await run([command!, path], new MemoryIo({ terminals: ["stderr"] }));
      equal(shown.code, 0);
      equal(shown.io.out, piped.io.out);
      const frames = shown.io.err.split("\r").filter((frame) => frame !== "");
      match(frames[0]!, /^scanning \[#*-*\] +\d+% {2}\d\.\d MiB of 3\.0 MiB$/);
      ok(frames.includes("\x1b[2K"), "the scan's bar is erased");
      ok(frames.some((frame) => frame.startsWith(`${label} [`)), `${command} shows ${label}`);
      equal(frames.at(-1), "\x1b[2K");
    }
  });
});

Deno.test("phase() draws nothing until its first update, and nothing at all when piped", () => {
  const terminal = new MemoryIo({ terminals: ["stderr"] });
  const bar = phase(terminal, "scanning", () => 0);
  bar.finish();
  equal(terminal.err, "");
  bar.update(512, 1024);
  bar.finish();
  equal(
    terminal.err,
    "\rscanning [###############---------------]  50%  512 B of 1.0 KiB\r\x1b[2K",
  );
  const piped = new MemoryIo();
  const silent = phase(piped, "scanning", () => 0);
  silent.update(512, 1024);
  silent.finish();
  equal(piped.err, "");
});

Deno.test("stat reads one segment numbered 0 and says the segment size is unknown", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "log");
    await Deno.mkdir(path);
    await Deno.writeFile(join(path, segmentName(0)), image("intact"));
    const { code, io } = await run(["stat", path]);
    equal(code, 0);
    match(io.out, /\nsegment size +unknown \(one segment, numbered 0/);
    match(io.out, /\nrecords +3\n/);
    const json = JSON.parse((await run(["stat", path, "--json"])).io.out);
    equal(json.segmentSize, null);
    equal(json.segmentSizeSource, "unbounded");
  });
});

Deno.test("stat needs --segment-size for one segment that is not number 0", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "log");
    await Deno.mkdir(path);
    await Deno.writeFile(join(path, segmentName(2)), logImage([bytes("late")]));
    await Deno.writeFile(join(path, "head"), encodeHead(200));
    const refused = await run(["stat", path]);
    equal(refused.code, 64);
    match(refused.io.err, /pass --segment-size/);
    const { code, io } = await run(["stat", path, "--segment-size", "100", "--json"]);
    equal(code, 0);
    const summary = JSON.parse(io.out);
    equal(summary.head, 200);
    equal(summary.firstLsn, 200);
    equal(summary.segmentSizeSource, "option");
  });
});

Deno.test("stat and verify need no --segment-size for a log of one segment written by wal-db", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "log");
    {
      // A checkpoint leaves one segment, numbered 2: its size alone tells nothing.
      using wal = Wal.openSegmented(path, 16);
      wal.appendBatch(RECORDS);
      wal.syncSync();
      wal.truncateBefore(END);
    }
    const names = (await Array.fromAsync(Deno.readDir(path))).map((e) => e.name);
    deepEqual(names.filter((n) => n.endsWith(".wal")), [segmentName(2)]);
    const { code, io } = await run(["stat", path, "--json"]);
    equal(code, 0, io.err);
    const summary = JSON.parse(io.out);
    equal(summary.segmentSize, 16);
    equal(summary.segmentSizeSource, "recorded");
    equal(summary.head, END);
    equal((await run(["verify", path])).code, 0);
    match(
      (await run(["stat", path])).io.out,
      /\nsegment size +16 bytes \(from the segment-size file\)/,
    );
    const wrong = await run(["stat", path, "--segment-size", "32"]);
    equal(wrong.code, 3);
    match(wrong.io.err, /wrong segment size: it was written with segment size 16/);
  });
});

Deno.test("stat shows the head of a segmented log after a checkpoint", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "log");
    {
      using wal = Wal.openSegmented(path, 16);
      wal.appendBatch(RECORDS);
      wal.syncSync();
      wal.truncateBefore(27);
    }
    const summary = JSON.parse((await run(["stat", path, "--json"])).io.out);
    equal(summary.head, 27);
    equal(summary.firstLsn, 27);
    equal(summary.recordCount, 1);
    equal(summary.segmentSize, 16);
  });
});

Deno.test("stat and verify as a process with stderr piped: no progress, only the result", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "big.wal");
    const payload = new Uint8Array(4096).fill(0x62);
    await Deno.writeFile(path, logImage(Array.from({ length: 768 }, () => payload)));
    const cli = fileURLToPath(new URL("../cli.ts", import.meta.url));
    for (const command of ["stat", "verify"]) {
      const output = await new Deno.Command(Deno.execPath(), {
        args: ["run", "--quiet", "--allow-read", cli, command, path],
        stdout: "piped",
        stderr: "piped",
      }).output();
      equal(output.code, 0);
      equal(new TextDecoder().decode(output.stderr), "", command);
      ok(new TextDecoder().decode(output.stdout).includes("768"), command);
    }
  });
});
