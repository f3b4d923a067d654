// Copyright 2026 the wal-db authors. MIT license.
// `deno task check` runs this: fails when a file reaches across the layers the design allows.
//   pure core  - no `Deno.*`, imports only other pure-core files
//   I/O core   - no `Deno.*`; imports the pure core and other I/O-core files
//   open.ts    - no `Deno.*`; the factories: the one file that may import the backends as well,
//                and that no other file in src/ imports (mod.ts exports it)
//   backends   - may use `Deno.*` and ffi/
//   ffi/       - imports nothing from src/
//   src/, ffi/ - never import tests/, bench/, tools/ or cli/
//   cli/       - an application on the library: imports only the public modules (mod.ts,
//                msgpack.ts), deno.json (for its version) and other files in cli/

import { dirname, join, relative } from "node:path";

const PURE = [
  "change_signal",
  "cleanup",
  "assert",
  "boundary_index",
  "config",
  "constants",
  "crc32c",
  "cursor",
  "damage",
  "directory",
  "epoch",
  "errors",
  "lsn",
  "range_checksums",
  "reader",
  "record",
  "segment_layout",
  "segments",
  "store",
  "truncation_gate",
];
const IO_CORE = [
  "clean_close",
  "failed_tails",
  "follower",
  "group_commit",
  "log_parts",
  "recovery",
  "segment_cuts",
  "segment_files",
  "segment_flushes",
  "segment_handles",
  "segmented_store",
  "typed",
  "wal",
  "wal_writes",
  "writer",
];
/** Backends may use each other (a file store picks its durability, shares file loops). */
const BACKENDS = ["durability", "file_io", "file_store", "fs_directory", "mem_store", "timer"];
/** The factories: the composition root of the library. */
const OPEN = "open";
const root = join(dirname(new URL(import.meta.url).pathname), "..");

/** What cli/ may import besides its own files: the public entry points and the manifest. */
const CLI_ALLOWED = ["mod.ts", "msgpack.ts", "deno.json"];

function importsOf(file: string): string[] {
  const text = Deno.readTextFileSync(file);
  const found = [...text.matchAll(/(?:from|import)\s+"(\.{1,2}\/[^"]+)"/g)].map((m) => m[1]!);
  return found.map((spec) => relative(root, join(dirname(file), spec)));
}

function codeOf(file: string): string {
  // Comments may mention Deno APIs; only code counts.
  return Deno.readTextFileSync(file).replace(/\/\*[\s\S]*?\*\//g, "").replace(/\/\/.*$/gm, "");
}

function check(): string[] {
  const problems: string[] = [];
  for (const entry of Deno.readDirSync(join(root, "src"))) {
    if (!entry.isFile) continue;
    const name = entry.name.replace(/\.ts$/, "");
    const file = join(root, "src", entry.name);
    const imports = importsOf(file);
    const core = PURE.includes(name) || IO_CORE.includes(name) || name === OPEN;
    if (core && /\bDeno\./.test(codeOf(file))) problems.push(`src/${entry.name} uses Deno.*`);
    for (const target of imports) {
      const base = target.replace(/^src\//, "").replace(/\.ts$/, "");
      if (!target.startsWith("src/")) {
        if (!(target.startsWith("ffi/") && !core)) {
          problems.push(`src/${entry.name} imports ${target}`);
        }
        continue;
      }
      const allowed = PURE.includes(name)
        ? PURE
        : IO_CORE.includes(name)
        ? [...PURE, ...IO_CORE]
        : name === OPEN
        ? [...PURE, ...IO_CORE, ...BACKENDS]
        : [...PURE, ...IO_CORE.filter((n) => n !== "wal" && n !== "wal_writes"), ...BACKENDS];
      if (!allowed.includes(base)) problems.push(`src/${entry.name} imports ${target}`);
    }
  }
  for (const entry of Deno.readDirSync(join(root, "cli"))) {
    if (!entry.isFile) continue;
    for (const target of importsOf(join(root, "cli", entry.name))) {
      if (!target.startsWith("cli/") && !CLI_ALLOWED.includes(target)) {
        problems.push(`cli/${entry.name} imports ${target}`);
      }
    }
  }
  for (const entry of Deno.readDirSync(join(root, "ffi"))) {
    if (!entry.isFile) continue;
    for (const target of importsOf(join(root, "ffi", entry.name))) {
      if (!target.startsWith("ffi/")) problems.push(`ffi/${entry.name} imports ${target}`);
    }
  }
  return problems;
}

const problems = check();
for (const problem of problems) console.error(`layering: ${problem}`);
if (problems.length > 0) Deno.exit(1);
console.log("layering: ok");
