// Copyright 2026 the wal-db authors. MIT license.
// `deno task check` runs this: fails when a file reaches across the layers the design allows,
// when a source file has no test file, or when modules import each other in a circle.
//
// Layers:
//   pure core  - no `Deno.*`, imports only other pure-core files
//   I/O core   - no `Deno.*`; imports the pure core and other I/O-core files
//   open.ts    - no `Deno.*`; the factories: the one file that may import the backends as well,
//                and that no other file in src/ imports (mod.ts exports it)
//   backends   - may use `Deno.*` and ffi/
//   ffi/       - imports nothing from src/
//   src/, ffi/ - never import tests/, bench/, tools/ or cli/
//   cli/       - an application on the library: imports only the public modules (mod.ts,
//                msgpack.ts), deno.json (for its version) and other files in cli/
// Test files: every `src/X.ts` has `tests/X_test.ts`, every `cli/X.ts` has `tests/cli_X_test.ts`
//   (a file in a subfolder, `src/a/b.ts`, would have `tests/a_b_test.ts`).
// Cycles: no circle of imports among src/, cli/, ffi/ and the top-level modules. A type-only
//   import counts: the modules still cannot be understood, tested or moved one without the other.
//
// The checks read the sources as text, with comments removed (JSDoc examples import too), so they
// need only `--allow-read`. The exported functions take a `SourceTree`, so tests can run them on
// planted violations (tests/check_layers_test.ts).

import { join, posix } from "node:path";
import { fileURLToPath } from "node:url";

const PURE = [
  "change_signal",
  "cleanup",
  "assert",
  "boundary_index",
  "candidate_batch",
  "config",
  "constants",
  "crc32c",
  "cursor",
  "damage",
  "directory",
  "epoch",
  "errors",
  "frame_scan",
  "frame_scratch",
  "lsn",
  "mark_list",
  "range_checksums",
  "read_window",
  "reader",
  "record",
  "record_run",
  "scanned_chunk",
  "segment_layout",
  "segments",
  "snapshot",
  "stats",
  "store",
  "truncation_gate",
];
const IO_CORE = [
  "checkpoint",
  "failed_tails",
  "follower",
  "gather_store",
  "group_commit",
  "log_parts",
  "recovery",
  "segment_cuts",
  "segment_files",
  "segment_flush_record",
  "segment_flushes",
  "segment_handles",
  "segmented_store",
  "typed",
  "wal",
  "wal_async_cuts",
  "wal_writes",
  "write_failure",
  "writer",
];
/** Backends may use each other (a file store picks its durability, shares file loops). */
const BACKENDS = [
  "durability",
  "file_io",
  "file_lock",
  "file_store",
  "fs_directory",
  "mem_directory",
  "mem_store",
  "shim_checksum",
  "timer",
];
/** The factories: the composition root of the library. */
const OPEN = "open";

/** What cli/ may import besides its own files: the public entry points and the manifest. */
const CLI_ALLOWED = ["mod.ts", "msgpack.ts", "deno.json"];

/**
 * Source files that cannot have a test file of their own, each with the reason. Only for a file
 * that truly cannot (a file of types only gets a contract test run against its implementations,
 * as src/directory.ts does). An entry whose file has a test, or is gone, is reported: remove it.
 */
export const TEST_FILE_EXCEPTIONS: Readonly<Record<string, string>> = {};

/** A group of files allowed to import each other in a circle, and why, until it is fixed. */
export interface AllowedCycle {
  /** Exactly the files of the circle: a larger circle through them is still reported. */
  readonly files: readonly string[];
  readonly why: string;
}

/**
 * Known circles, each to be removed when fixed. A listed circle that no longer exists is
 * reported, so the entry goes with the fix.
 */
export const ALLOWED_CYCLES: readonly AllowedCycle[] = [];

/** The project's files as the checks see them: paths relative to the root, with `/`. */
export interface SourceTree {
  /** Every file of src/, cli/, ffi/ and tests/ (with subfolders) and the top-level `.ts` files. */
  readonly files: readonly string[];
  /** The text of one of `files`. */
  read(path: string): string;
}

/** The tree of the project at `root` on disk (paths in the tree use `/` on every OS). */
export function treeOf(root: string): SourceTree {
  const files: string[] = [];
  for (const entry of Deno.readDirSync(root)) {
    if (entry.isFile && entry.name.endsWith(".ts")) files.push(entry.name);
  }
  const walk = (dir: string): void => {
    let entries: Deno.DirEntry[];
    try {
      entries = [...Deno.readDirSync(join(root, dir))];
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return;
      throw error;
    }
    for (const entry of entries) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory) walk(path);
      else if (entry.isFile) files.push(path);
    }
  };
  for (const dir of ["src", "cli", "ffi", "tests"]) walk(dir);
  files.sort();
  return { files, read: (path) => Deno.readTextFileSync(join(root, path)) };
}

/**
 * `text` with its comments blanked out (newlines kept); strings, template literals and regular
 * expressions are kept whole, so a `//` or `/*` inside one does not start a comment.
 */
export function withoutComments(text: string): string {
  let out = "";
  let i = 0;
  // Brace depths at which an open template literal's `${` ... `}` returns into the template.
  const templates: number[] = [];
  let depth = 0;
  // The last character of code that is not blank: tells a regular expression from a division.
  let last = "";
  const n = text.length;
  const copyQuoted = (quote: string): void => {
    out += text[i++];
    while (i < n && text[i] !== quote && text[i] !== "\n") {
      if (text[i] === "\\") out += text[i++];
      if (i < n) out += text[i++];
    }
    if (i < n && text[i] === quote) out += text[i++];
  };
  const copyTemplate = (): void => {
    // From inside a template (after "`" or a closing "}") to its end or its next "${".
    while (i < n) {
      const c = text[i]!;
      if (c === "\\") {
        out += text.slice(i, i + 2);
        i += 2;
      } else if (c === "`") {
        out += c;
        i++;
        return;
      } else if (c === "$" && text[i + 1] === "{") {
        out += "${";
        i += 2;
        templates.push(depth);
        depth++;
        return;
      } else {
        out += c;
        i++;
      }
    }
  };
  while (i < n) {
    const c = text[i]!;
    const next = text[i + 1];
    if (c === "/" && next === "/") {
      while (i < n && text[i] !== "\n") {
        out += " ";
        i++;
      }
    } else if (c === "/" && next === "*") {
      const end = text.indexOf("*/", i + 2);
      const stop = end < 0 ? n : end + 2;
      out += text.slice(i, stop).replace(/[^\n]/g, " ");
      i = stop;
    } else if (c === '"' || c === "'") {
      copyQuoted(c);
      last = c;
    } else if (c === "`") {
      out += c;
      i++;
      copyTemplate();
      last = "`";
    } else if (c === "/" && (last === "" || "(,=:[!&|?{};+-*%<>~^".includes(last))) {
      // A regular expression: up to its closing "/", which does not count inside a class.
      let inClass = false;
      out += text[i++];
      while (i < n && text[i] !== "\n") {
        const r = text[i]!;
        if (r === "\\") {
          out += text.slice(i, i + 2);
          i += 2;
          continue;
        }
        out += r;
        i++;
        if (r === "[") inClass = true;
        else if (r === "]") inClass = false;
        else if (r === "/" && !inClass) break;
      }
      last = "/";
    } else {
      if (c === "{") depth++;
      if (c === "}") {
        depth--;
        if (templates.length > 0 && templates[templates.length - 1] === depth) {
          templates.pop();
          out += c;
          i++;
          copyTemplate();
          last = "`";
          continue;
        }
      }
      out += c;
      i++;
      if (!/\s/.test(c)) last = /[\w$]/.test(c) ? "a" : c;
    }
  }
  return out;
}

/**
 * The project files `file` imports or re-exports (static, type-only, side-effect and dynamic
 * imports), as paths from the root. Only relative specifiers: packages are not project files.
 */
export function importsOf(tree: SourceTree, file: string): string[] {
  const code = withoutComments(tree.read(file));
  const pattern = /(?:\bfrom|\bimport)\s*\(?\s*["'](\.{1,2}\/[^"'\n]+)["']/g;
  const found = [...code.matchAll(pattern)].map((m) => m[1]!);
  return [...new Set(found.map((spec) => posix.join(posix.dirname(file), spec)))];
}

/** Where `file` sits: its folder (`""` at the top) and its name without `.ts`. */
function placeOf(file: string): { folder: string; name: string } {
  const [folder, ...rest] = file.split("/");
  if (rest.length === 0) return { folder: "", name: file.replace(/\.ts$/, "") };
  return { folder: folder!, name: rest.join("/").replace(/\.ts$/, "") };
}

function sourcesIn(tree: SourceTree, folder: string): string[] {
  return tree.files.filter((f) => f.startsWith(`${folder}/`) && f.endsWith(".ts"));
}

/** Files that reach across the layers. */
export function layerProblems(tree: SourceTree): string[] {
  const problems: string[] = [];
  for (const file of sourcesIn(tree, "src")) {
    const { name } = placeOf(file);
    const core = PURE.includes(name) || IO_CORE.includes(name) || name === OPEN;
    if (core && /\bDeno\./.test(withoutComments(tree.read(file)))) {
      problems.push(`${file} uses Deno.*`);
    }
    for (const target of importsOf(tree, file)) {
      const base = target.replace(/^src\//, "").replace(/\.ts$/, "");
      if (!target.startsWith("src/")) {
        if (!(target.startsWith("ffi/") && !core)) problems.push(`${file} imports ${target}`);
        continue;
      }
      const allowed = PURE.includes(name)
        ? PURE
        : IO_CORE.includes(name)
        ? [...PURE, ...IO_CORE]
        : name === OPEN
        ? [...PURE, ...IO_CORE, ...BACKENDS]
        : [
          ...PURE,
          ...IO_CORE.filter((n) => !["wal", "wal_writes", "wal_async_cuts"].includes(n)),
          ...BACKENDS,
        ];
      if (!allowed.includes(base)) problems.push(`${file} imports ${target}`);
    }
  }
  for (const file of sourcesIn(tree, "cli")) {
    for (const target of importsOf(tree, file)) {
      if (!target.startsWith("cli/") && !CLI_ALLOWED.includes(target)) {
        problems.push(`${file} imports ${target}`);
      }
    }
  }
  for (const file of sourcesIn(tree, "ffi")) {
    for (const target of importsOf(tree, file)) {
      if (!target.startsWith("ffi/")) problems.push(`${file} imports ${target}`);
    }
  }
  return problems;
}

/** The test file `source` must have, or undefined when it needs none (not in src/ or cli/). */
export function testFileFor(source: string): string | undefined {
  const { folder, name } = placeOf(source);
  const flat = name.replaceAll("/", "_");
  if (folder === "src") return `tests/${flat}_test.ts`;
  if (folder === "cli") return `tests/cli_${flat}_test.ts`;
  return undefined;
}

/** Source files of src/ and cli/ without their test file, and stale exceptions. */
export function testFileProblems(
  tree: SourceTree,
  exceptions: Readonly<Record<string, string>> = TEST_FILE_EXCEPTIONS,
): string[] {
  const problems: string[] = [];
  const files = new Set(tree.files);
  for (const source of [...sourcesIn(tree, "src"), ...sourcesIn(tree, "cli")]) {
    const test = testFileFor(source)!;
    const has = files.has(test);
    if (!has && exceptions[source] === undefined) {
      problems.push(`${source} has no test file (${test})`);
    } else if (has && exceptions[source] !== undefined) {
      problems.push(`${source} has ${test}: remove it from TEST_FILE_EXCEPTIONS`);
    }
  }
  for (const source of Object.keys(exceptions)) {
    if (!files.has(source)) problems.push(`${source} is gone: remove it from TEST_FILE_EXCEPTIONS`);
  }
  return problems;
}

/** The modules whose imports must not form a circle. */
function isModule(file: string): boolean {
  const { folder } = placeOf(file);
  return file.endsWith(".ts") && ["", "src", "cli", "ffi"].includes(folder);
}

/** Circles of imports among the modules, each with one path around it; stale allowances. */
export function cycleProblems(
  tree: SourceTree,
  allowed: readonly AllowedCycle[] = ALLOWED_CYCLES,
): string[] {
  const modules = tree.files.filter(isModule);
  const present = new Set(modules);
  const edges = new Map<string, string[]>();
  for (const file of modules) {
    edges.set(file, importsOf(tree, file).filter((t) => present.has(t) && t !== file).sort());
    if (importsOf(tree, file).includes(file)) edges.get(file)!.unshift(file);
  }
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const group of stronglyConnected(modules, edges)) {
    const selfLoop = group.length === 1 && edges.get(group[0]!)!.includes(group[0]!);
    if (group.length === 1 && !selfLoop) continue;
    const key = [...group].sort().join(" ");
    // An allowance inside a larger group still exists (it is not stale), but excuses nothing.
    for (const a of allowed) if (a.files.every((f) => group.includes(f))) seen.add(keyOf(a));
    if (allowed.some((a) => keyOf(a) === key)) continue;
    const inGroup = new Set(group);
    // A path around the circle that is not an allowed one (a larger group contains one).
    let path: string[] | undefined;
    for (const start of [...group].sort()) {
      const found = shortestCycle(start, edges, inGroup);
      const foundKey = [...new Set(found)].sort().join(" ");
      if (!allowed.some((a) => keyOf(a) === foundKey)) {
        path = found;
        break;
      }
    }
    path ??= shortestCycle([...group].sort()[0]!, edges, inGroup);
    const more = group.length > path.length - 1
      ? ` (${group.length} files import each other in a circle: ${[...group].sort().join(", ")})`
      : "";
    problems.push(`import cycle: ${path.join(" -> ")}${more}`);
  }
  for (const allowance of allowed) {
    if (!seen.has(keyOf(allowance))) {
      problems.push(
        `the allowed cycle ${allowance.files.join(" <-> ")} is gone: remove it from ` +
          `ALLOWED_CYCLES`,
      );
    }
  }
  return problems;
}

function keyOf(allowance: AllowedCycle): string {
  return [...allowance.files].sort().join(" ");
}

/** Tarjan's strongly connected components, each as a list of files. */
function stronglyConnected(nodes: readonly string[], edges: Map<string, string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const groups: string[][] = [];
  let counter = 0;
  const visit = (node: string): void => {
    index.set(node, counter);
    low.set(node, counter);
    counter++;
    stack.push(node);
    onStack.add(node);
    for (const next of edges.get(node) ?? []) {
      if (!index.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node)!, low.get(next)!));
      } else if (onStack.has(next)) {
        low.set(node, Math.min(low.get(node)!, index.get(next)!));
      }
    }
    if (low.get(node) === index.get(node)) {
      const group: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        group.push(member);
      } while (member !== node);
      groups.push(group);
    }
  };
  for (const node of nodes) if (!index.has(node)) visit(node);
  return groups;
}

/** The shortest path `start -> ... -> start` within `within` (breadth first). */
function shortestCycle(
  start: string,
  edges: Map<string, string[]>,
  within: Set<string>,
): string[] {
  const from = new Map<string, string>();
  const queue = [start];
  for (let at = 0; at < queue.length; at++) {
    const node = queue[at]!;
    for (const next of edges.get(node) ?? []) {
      if (!within.has(next)) continue;
      if (next === start) {
        const path = [start];
        for (let back = node; back !== start; back = from.get(back)!) path.splice(1, 0, back);
        path.push(start);
        return path;
      }
      if (!from.has(next)) {
        from.set(next, node);
        queue.push(next);
      }
    }
  }
  return [start, start];
}

/** Every problem the checks find in `tree`. */
export function check(tree: SourceTree): string[] {
  return [...layerProblems(tree), ...testFileProblems(tree), ...cycleProblems(tree)];
}

if (import.meta.main) {
  const root = fileURLToPath(new URL("..", import.meta.url));
  const problems = check(treeOf(root));
  for (const problem of problems) console.error(`layering: ${problem}`);
  if (problems.length > 0) Deno.exit(1);
  console.log("layering: ok");
}
