// Copyright 2026 the wal-db authors. MIT license.
// The long-running tools (sim, fuzz, torture) answer `--help` with their usage and a bad command
// line with one error line, the usage and exit 2, never a stack trace.

import { doesNotMatch, equal, match } from "node:assert/strict";
import { fileURLToPath } from "node:url";

const TOOLS = ["sim", "fuzz", "torture"] as const;

async function runTool(tool: string, args: string[]) {
  const path = fileURLToPath(new URL(`../tools/${tool}.ts`, import.meta.url));
  const output = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-env=WAL_SEED",
      "--allow-read",
      "--allow-write",
      "--allow-run",
      path,
      ...args,
    ],
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  return { code: output.code, stdout: decode(output.stdout), stderr: decode(output.stderr) };
}

for (const tool of TOOLS) {
  Deno.test(`tools/${tool}.ts: command line`, async (t) => {
    await t.step("--help prints the usage and exits 0", async () => {
      const { code, stdout } = await runTool(tool, ["--help"]);
      equal(code, 0);
      match(stdout, new RegExp(`^deno task ${tool} \\[`));
    });
    await t.step("an unknown option: one error line, the usage, exit 2", async () => {
      const { code, stderr } = await runTool(tool, ["--no-such-option"]);
      equal(code, 2);
      match(stderr, /^error: Unknown option '--no-such-option'\n\ndeno task /);
      doesNotMatch(stderr, /\bat \w+ \(/);
    });
    await t.step("a bad value: exit 2 with the option named", async () => {
      const { code, stderr } = await runTool(tool, ["--seed", "abc"]);
      equal(code, 2);
      match(stderr, /^error: --seed: an integer\n/);
    });
  });
}
