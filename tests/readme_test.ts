// Copyright 2026 the wal-db authors. MIT license.
// Tests for README.md's install and permissions sections: builds a project beside the checkout
// with the import map the README shows, and runs every command of its permissions table there.

import { equal, match, notEqual, ok } from "node:assert/strict";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { withTempDir } from "./_helpers.ts";

const CHECKOUT = join(dirname(fileURLToPath(import.meta.url)), "..");
const README = Deno.readTextFileSync(join(CHECKOUT, "README.md"));

/** The text of the README section that starts with heading `title`, up to the next `## `. */
function section(title: string): string {
  const start = README.indexOf(`\n## ${title}\n`);
  ok(start !== -1, `README has a "${title}" section`);
  const end = README.indexOf("\n## ", start + 1);
  return README.slice(start, end === -1 ? undefined : end);
}

/** The code blocks of `text` in language `lang`. */
function codeBlocks(text: string, lang: string): string[] {
  return [...text.matchAll(new RegExp("```" + lang + "\\n([\\s\\S]*?)```", "g"))].map((m) => m[1]!);
}

/** The command cells of the permissions table: `deno …` in backticks in the last column. */
function tableCommands(text: string): string[] {
  return text.split("\n")
    .map((line) => line.match(/\|\s*`(deno [^`]*)`\s*\|$/)?.[1])
    .filter((command): command is string => command !== undefined);
}

/** The programs the table's lines run, each the kind of program its row names. */
const PROGRAMS: Record<string, string> = {
  "app.ts": `import { Wal } from "@wal-db/wal-db";
Deno.mkdirSync("data", { recursive: true });
using wal = Wal.open("data/app.wal");
wal.append(new TextEncoder().encode("a change"));
await wal.sync();
console.log(\`app: \${wal.nextLsn} \${wal.durability}\`);
`,
  "segmented.ts": `import { Wal } from "@wal-db/wal-db";
import { msgpackCodec } from "@wal-db/wal-db/msgpack";
using wal = Wal.openSegmented("data/events", 64 * 1024);
wal.typed(msgpackCodec<{ id: number }>()).append({ id: 1 });
await wal.sync();
console.log(\`segmented: \${wal.nextLsn}\`);
`,
  "follower.ts": `import { Wal } from "@wal-db/wal-db";
using log = Wal.open("data/app.wal", { readOnly: true });
using events = Wal.openSegmented("data/events", 64 * 1024, { readOnly: true });
console.log(\`follower: \${[...log.iter()].length} \${[...events.iter()].length}\`);
`,
  "shim.ts": `import { Wal } from "@wal-db/wal-db";
using wal = Wal.open("data/app.wal", { durability: "shim" });
wal.append(new TextEncoder().encode("flushed by the shim"));
await wal.sync();
console.log(\`shim: \${wal.durability}\`);
`,
  "memstore_test.ts": `import { MemStore, Wal } from "@wal-db/wal-db";
import { main, MemoryIo } from "@wal-db/wal-db/cli";
Deno.test("a log in memory", async () => {
  using wal = Wal.withStore(new MemStore());
  wal.append(new TextEncoder().encode("x"));
  await wal.sync();
  if ([...wal.iter()].length !== 1) throw new Error("lost");
  if (await main(["--version"], new MemoryIo()) !== 0) throw new Error("cli");
});
`,
};

/** What each line must print on stdout, in the order the table lists them. */
const EXPECTED: RegExp[] = [
  /^app: 16 FsFile\.syncData/,
  /^segmented: \d+/,
  /^follower: 1 1/,
  /^shim: fdatasync via shim/,
  /^intact: 2 intact records from LSN 0 to /,
  /will drop +1 record after LSN 0[\s\S]*\ndone: the log now ends at LSN 16/,
  /1 passed/,
];

Deno.test({
  name: "README: a project with the install section's import map runs every permissions line",
  // The lines are POSIX shell; Windows users get the PowerShell variant in prose.
  ignore: Deno.build.os === "windows",
  fn: async () => {
    await withTempDir(async (root) => {
      const project = join(root, "project");
      await Deno.mkdir(project);
      await Deno.symlink(CHECKOUT, join(root, "wal-db"));
      const importMap = codeBlocks(section("Install"), "json");
      equal(importMap.length, 1, "one import map");
      await Deno.writeTextFile(join(project, "deno.json"), importMap[0]!);
      for (const [name, text] of Object.entries(PROGRAMS)) {
        await Deno.writeTextFile(join(project, name), text);
      }
      const permissions = section("Permissions");
      const setup = codeBlocks(permissions, "sh");
      equal(setup.length, 1, "one setup block");
      const commands = tableCommands(permissions);
      equal(commands.length, EXPECTED.length, commands.join("\n"));
      const home = join(root, "home");
      await Deno.mkdir(home);
      const shell = async (line: string) => {
        const output = await new Deno.Command("bash", {
          args: ["-c", `${setup[0]}\n${line}`],
          cwd: project,
          env: await childEnv(home),
          clearEnv: true,
          stdout: "piped",
          stderr: "piped",
        }).output();
        const decoder = new TextDecoder();
        return {
          code: output.code,
          out: decoder.decode(output.stdout),
          err: decoder.decode(output.stderr),
        };
      };
      for (const [i, command] of commands.entries()) {
        const { code, out, err } = await shell(command);
        equal(code, 0, `${command}\n${out}\n${err}`);
        match(out, EXPECTED[i]!, command);
      }
      // The shim's cache folder is the one the setup line names, under the child's HOME.
      ok((await Array.fromAsync(Deno.readDir(join(home, ".cache", "wal-db")))).length > 0);
      // The flags matter: without them the same programs fail rather than prompt.
      notEqual((await shell("deno run --allow-read=./data app.ts")).code, 0);
      notEqual((await shell(commands[3]!.replace(/ --allow-ffi=\S+/, ""))).code, 0);
    });
  },
});

/** A clean environment for the child: its own HOME (so the shim cache is the test's). */
async function childEnv(home: string): Promise<Record<string, string>> {
  const info = await new Deno.Command(Deno.execPath(), { args: ["info", "--json"] }).output();
  const denoDir = JSON.parse(new TextDecoder().decode(info.stdout)).denoDir as string;
  return {
    HOME: home,
    // The npm packages are already in this DENO_DIR; a new HOME must not fetch them again.
    DENO_DIR: denoDir,
    PATH: `${dirname(Deno.execPath())}:${Deno.env.get("PATH") ?? "/usr/bin:/bin"}`,
    NO_COLOR: "1",
  };
}

Deno.test("README: the layout row of src/ names every module in src/", () => {
  const row = README.split("\n").find((line) => line.startsWith("| `src/`"));
  ok(row !== undefined, "README's layout table has a src/ row");
  const missing = [...Deno.readDirSync(join(CHECKOUT, "src"))]
    .map((entry) => entry.name)
    .filter((name) => name.endsWith(".ts"))
    .map((name) => name.slice(0, -".ts".length))
    .filter((module) => !row.includes(`\`${module}\``))
    .sort();
  equal(missing.join(", "), "", "modules the row does not name");
});
