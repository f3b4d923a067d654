// Copyright 2026 the wal-db authors. MIT license.
// The promise every read command makes: stat, verify, dump and tail leave every byte of every
// file unchanged, and create or remove nothing, on intact, torn and damaged logs alike.

import { deepEqual, equal } from "node:assert/strict";
import { join } from "node:path";
import { MemoryIo } from "../cli/io.ts";
import { main } from "../cli/main.ts";
import { encodeHead, segmentName } from "../src/segments.ts";
import { bytes, concat, logImage, payload, withTempDir } from "./_helpers.ts";

const RECORDS = Array.from({ length: 12 }, (_, i) => payload(5 + i * 3, i));
const SEGMENT_SIZE = 40;

type Variant = "intact" | "torn" | "damaged";

function image(variant: Variant): Uint8Array {
  const content = logImage(RECORDS);
  // A header whose 16-byte payload got only 7 bytes in: an append cut short.
  if (variant === "torn") {
    return concat([content, bytes("\x20\x00\x00\x00\x10\x00\x00\x00partial")]);
  }
  if (variant === "damaged") content[30]! ^= 0xff;
  return content;
}

/** A single file, or segments of 40 bytes with a head file and a leftover head.tmp. */
function writeLog(dir: string, layout: "file" | "segmented", content: Uint8Array): string {
  if (layout === "file") {
    const path = join(dir, "app.wal");
    Deno.writeFileSync(path, content);
    Deno.writeFileSync(`${path}.damaged-7`, bytes("an earlier set-aside copy"));
    return path;
  }
  const path = join(dir, "log");
  Deno.mkdirSync(path);
  for (let k = 0; k * SEGMENT_SIZE < content.length; k++) {
    const part = content.subarray(k * SEGMENT_SIZE, (k + 1) * SEGMENT_SIZE);
    Deno.writeFileSync(join(path, segmentName(k)), part);
  }
  Deno.writeFileSync(join(path, "head"), encodeHead(0));
  Deno.writeFileSync(join(path, "head.tmp"), encodeHead(13)); // an interrupted checkpoint
  return path;
}

/** Every file under `dir` with the SHA-256 of its bytes, by relative path. */
async function fingerprint(dir: string): Promise<Record<string, string>> {
  const result: Record<string, string> = {};
  for await (const entry of Deno.readDir(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) {
      for (const [name, hash] of Object.entries(await fingerprint(path))) {
        result[`${entry.name}/${name}`] = hash;
      }
      continue;
    }
    const digest = await crypto.subtle.digest("SHA-256", await Deno.readFile(path));
    result[entry.name] = [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0"))
      .join("");
  }
  return result;
}

const VERIFY_CODES: Record<Variant, number> = { intact: 0, torn: 1, damaged: 2 };

const READ_COMMANDS = [
  ["stat"],
  ["stat", "--json"],
  ["verify"],
  ["verify", "--json"],
  ["dump"],
  ["dump", "--format", "hex"],
  ["dump", "--format", "json", "--from", "0", "--limit", "3"],
  ["tail"],
  ["tail", "-n", "0"],
];

/** Runs `tail -f` until it has printed something (or a moment passed), then stops it. */
async function followBriefly(path: string): Promise<void> {
  const stop = new AbortController();
  const io = new MemoryIo({ signal: stop.signal });
  const running = main(["tail", path, "-f", "--from", "0", "--poll-ms", "5"], io);
  setTimeout(() => stop.abort(), 100);
  await running;
}

for (const layout of ["file", "segmented"] as const) {
  for (const variant of ["intact", "torn", "damaged"] as const) {
    const article = variant === "intact" ? "an" : "a";
    Deno.test(`read commands change no byte of ${article} ${variant} ${layout} log`, async () => {
      await withTempDir(async (dir) => {
        const path = writeLog(dir, layout, image(variant));
        const before = await fingerprint(dir);
        for (const [command, ...flags] of READ_COMMANDS) {
          const what = `wal ${command} ${flags.join(" ")}`;
          const code = await main([command!, path, ...flags], new MemoryIo());
          // The command really read the log: only verify's verdict may be other than 0.
          equal(code, command === "verify" ? VERIFY_CODES[variant] : 0, what);
          deepEqual(await fingerprint(dir), before, what);
        }
        await followBriefly(path);
        deepEqual(await fingerprint(dir), before, "wal tail -f");
      });
    });
  }
}
