// Copyright 2026 the wal-db authors. MIT license.
// Tests for cli/main.ts and cli.ts: dispatch, help, version, usage errors, and the real
// program in a subprocess (permissions, exit codes, `tail -f` beside a writer, Ctrl-C).

import { equal, match, ok } from "node:assert/strict";
import { join } from "node:path";
import denoConfig from "../deno.json" with { type: "json" };
import { MemoryIo } from "../cli/io.ts";
import { COMMANDS, main } from "../cli/main.ts";
import { Wal } from "../src/open.ts";
import { bytes, logImage, withTempDir } from "./_helpers.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const CLI = join(ROOT, "cli.ts");
const NAMES = ["stat", "verify", "dump", "tail", "truncate-before", "truncate-after"];

async function run(args: string[]): Promise<{ code: number; io: MemoryIo }> {
  const io = new MemoryIo();
  return { code: await main(args, io), io };
}

Deno.test("wal --help lists every command on stdout and exits 0", async () => {
  for (const flag of ["--help", "-h", "help"]) {
    const { code, io } = await run([flag]);
    equal(code, 0);
    for (const name of NAMES) match(io.out, new RegExp(`\n  ${name} +\\S`));
    equal(io.err, "");
  }
});

Deno.test("wal with no arguments prints the help on stderr and exits 64", async () => {
  const { code, io } = await run([]);
  equal(code, 64);
  equal(io.out, "");
  match(io.err, /Usage: wal <command>/);
});

Deno.test("wal --version prints the version from deno.json", async () => {
  for (const flag of ["--version", "-V"]) {
    const { code, io } = await run([flag]);
    equal(code, 0);
    equal(io.out, `wal ${denoConfig.version}\n`);
  }
});

Deno.test("wal rejects an unknown command or option with 64", async () => {
  const command = await run(["frobnicate", "x"]);
  equal(command.code, 64);
  match(command.io.err, /^wal: unknown command "frobnicate"\n/);
  const option = await run(["--frobnicate"]);
  equal(option.code, 64);
  match(option.io.err, /^wal: unknown option --frobnicate\n/);
  const help = await run(["help", "frobnicate"]);
  equal(help.code, 64);
});

Deno.test("the commands are the six documented ones, in order", () => {
  equal(COMMANDS.map((c) => c.spec.name).join(" "), NAMES.join(" "));
});

for (const name of NAMES) {
  Deno.test(`wal ${name} --help shows its usage, options and exit codes`, async () => {
    for (const args of [[name, "--help"], [name, "x", "-h"], ["help", name]]) {
      const { code, io } = await run(args);
      equal(code, 0, args.join(" "));
      match(io.out, new RegExp(`\nUsage: wal ${name} <path>`));
      match(io.out, /\nOptions:\n/);
      match(io.out, /Exit codes: 0 /);
      match(io.out, /--allow-read/);
    }
  });

  Deno.test(`wal ${name} reports usage errors on stderr with its usage line and 64`, async () => {
    const missing = await run([name]);
    equal(missing.code, 64);
    equal(missing.io.out, "");
    match(missing.io.err, new RegExp(`^wal ${name}: missing path\nUsage: wal ${name} <path>`));
    const unknown = await run([name, "x", "0", "--bogus"]);
    equal(unknown.code, 64);
    match(unknown.io.err, new RegExp(`unknown option --bogus for "wal ${name}"`));
  });
}

/** Runs the real program: `deno run <permissions> cli.ts <args>`. */
async function spawn(permissions: string[], args: string[]): Promise<Deno.CommandOutput> {
  const command = new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", ...permissions, CLI, ...args],
    cwd: ROOT,
    stdin: "null",
  });
  return await command.output();
}

const decoder = new TextDecoder();

Deno.test("the program reads with --allow-read alone and exits with verify's code", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "app.wal");
    await Deno.writeFile(path, logImage([bytes("a"), bytes("b")]));
    const verify = await spawn(["--allow-read"], ["verify", path]);
    equal(verify.code, 0);
    equal(decoder.decode(verify.stdout), "intact: 2 intact records from LSN 0 to 18\n");
    await Deno.writeFile(path, bytes("xyz"), { append: true });
    equal((await spawn(["--allow-read"], ["verify", path])).code, 1);
    equal((await spawn(["--allow-read"], ["verify", join(dir, "missing")])).code, 3);
  });
});

Deno.test("the program without --allow-write cannot truncate and says which flag is missing", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "app.wal");
    const content = logImage([bytes("a"), bytes("b")]);
    await Deno.writeFile(path, content);
    const output = await spawn(["--allow-read"], ["truncate-after", path, "0", "--yes"]);
    equal(output.code, 3);
    match(decoder.decode(output.stderr), /--allow-write/);
    equal((await Deno.stat(path)).size, content.length);
  });
});

Deno.test({
  name: "the program's tail -f follows another process's writes and ends cleanly on SIGINT",
  ignore: Deno.build.os === "windows",
  async fn() {
    await withTempDir(async (dir) => {
      const path = join(dir, "live.wal");
      using writer = Wal.open(path);
      const lsns: number[] = [];
      const write = async (count: number) => {
        for (let i = 0; i < count; i++) {
          lsns.push(writer.append(bytes(`from the writer ${lsns.length}`)));
          await writer.sync();
        }
      };
      await write(10);
      const follow = ["tail", "-f", path, "--from", "0", "--poll-ms", "10", "--format", "json"];
      const child = new Deno.Command(Deno.execPath(), {
        args: ["run", "--quiet", "--allow-read", CLI, ...follow],
        cwd: ROOT,
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const lines = collectLines(child.stdout);
      await lines.waitFor(10);
      await write(15); // appended while the other process follows
      await lines.waitFor(lsns.length);
      child.kill("SIGINT");
      const status = await child.status;
      await lines.finished;
      const stderr = await new Response(child.stderr).text();
      equal(status.code, 0, stderr);
      equal(lines.lines.map((line) => JSON.parse(line).lsn).join(" "), lsns.join(" "));
    });
  },
});

/** Collects the lines a stream prints, and lets a test wait until there are enough. */
function collectLines(stream: ReadableStream<Uint8Array>) {
  const lines: string[] = [];
  let pending = "";
  const finished = (async () => {
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      pending += chunk;
      const parts = pending.split("\n");
      pending = parts.pop()!;
      lines.push(...parts);
    }
  })();
  return {
    lines,
    /** Resolves when the stream ends. */
    finished,
    async waitFor(count: number, timeoutMs = 30_000): Promise<void> {
      const deadline = Date.now() + timeoutMs;
      while (lines.length < count) {
        ok(Date.now() < deadline, `timed out with ${lines.length} of ${count} lines`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    },
  };
}
