// Copyright 2026 the wal-db authors. MIT license.
// Tests for tools/check_layers.ts, the checks `deno task check` runs: each is run on a small
// tree of planted files, with and without the violation it exists to find.

import { deepEqual, equal, match } from "node:assert/strict";
import {
  type AllowedCycle,
  cycleProblems,
  importsOf,
  layerProblems,
  type SourceTree,
  testFileFor,
  testFileProblems,
  withoutComments,
} from "../tools/check_layers.ts";

/** A tree of the given files and texts. */
function tree(files: Record<string, string>): SourceTree {
  return {
    files: Object.keys(files).sort(),
    read: (path) => {
      const text = files[path];
      if (text === undefined) throw new Error(`no file ${path}`);
      return text;
    },
  };
}

Deno.test("withoutComments: blanks comments and keeps strings, templates and regexps", () => {
  equal(withoutComments("a // b\nc"), "a     \nc");
  equal(withoutComments("a /* b\n c */ d"), "a     \n      d");
  // Comment markers inside literals are not comments.
  const literals = [
    'const url = "https://example.invalid/*x"; // gone',
    "const s = '// not a comment';",
    "const t = `/* ${'//'} ${{ a: 1 }.a} */`;",
    String.raw`const r = /\/\/.*$|"/g; const q = "kept";`,
    String.raw`const c = /[/"]/; const d = 'kept';`,
  ];
  for (const line of literals) {
    equal(withoutComments(line).trimEnd(), line.replace(/ \/\/ gone$/, ""));
  }
  // Division is not a regular expression.
  equal(withoutComments("const x = a / b; // c"), "const x = a / b;     ");
});

Deno.test("importsOf: every kind of import, resolved from the importing file", () => {
  const source = [
    'import { a } from "./a.ts";',
    'import type { B } from "./b.ts";',
    'export { c } from "../c.ts";',
    'export * from "./d.ts";',
    'import "./side.ts";',
    'const e = await import("./e.ts");',
    "import {",
    "  f,",
    '} from "./sub/f.ts";',
    'import { g } from "npm:fast-check";',
    'import { h } from "node:path";',
    'import data from "../deno.json" with { type: "json" };',
    "/**",
    ' * import { x } from "./in_a_doc_example.ts";',
    " */",
    '// import { y } from "./commented_out.ts";',
  ].join("\n");
  const found = importsOf(tree({ "src/x.ts": source }), "src/x.ts").sort();
  deepEqual(found, [
    "c.ts",
    "deno.json",
    "src/a.ts",
    "src/b.ts",
    "src/d.ts",
    "src/e.ts",
    "src/side.ts",
    "src/sub/f.ts",
  ]);
});

Deno.test("testFileFor: src/X.ts -> tests/X_test.ts, cli/X.ts -> tests/cli_X_test.ts", () => {
  equal(testFileFor("src/reader.ts"), "tests/reader_test.ts");
  equal(testFileFor("cli/main.ts"), "tests/cli_main_test.ts");
  equal(testFileFor("src/a/b.ts"), "tests/a_b_test.ts");
  equal(testFileFor("ffi/loader.ts"), undefined);
  equal(testFileFor("mod.ts"), undefined);
  equal(testFileFor("tests/reader_test.ts"), undefined);
});

Deno.test("testFileProblems: a source file of src/ or cli/ without its test file is reported", () => {
  const complete = {
    "src/reader.ts": "",
    "tests/reader_test.ts": "",
    "cli/main.ts": "",
    "tests/cli_main_test.ts": "",
    // Not required: ffi/, the top level, helpers of the tests.
    "ffi/mod.ts": "",
    "mod.ts": "",
    "tests/_helpers.ts": "",
  };
  deepEqual(testFileProblems(tree(complete), {}), []);
  deepEqual(testFileProblems(tree({ ...complete, "src/planted.ts": "" }), {}), [
    "src/planted.ts has no test file (tests/planted_test.ts)",
  ]);
  // The CLI's test files carry the cli_ prefix: tests/main_test.ts is not cli/main.ts's.
  const { "tests/cli_main_test.ts": _, ...noCliTest } = complete;
  deepEqual(testFileProblems(tree({ ...noCliTest, "tests/main_test.ts": "" }), {}), [
    "cli/main.ts has no test file (tests/cli_main_test.ts)",
  ]);
});

Deno.test("testFileProblems: an exception excuses a file, and is reported once it is stale", () => {
  const files = { "src/types.ts": "", "src/other.ts": "", "tests/other_test.ts": "" };
  const exceptions = { "src/types.ts": "types only" };
  deepEqual(testFileProblems(tree(files), exceptions), []);
  deepEqual(testFileProblems(tree({ ...files, "tests/types_test.ts": "" }), exceptions), [
    "src/types.ts has tests/types_test.ts: remove it from TEST_FILE_EXCEPTIONS",
  ]);
  deepEqual(testFileProblems(tree({ "src/other.ts": "", "tests/other_test.ts": "" }), exceptions), [
    "src/types.ts is gone: remove it from TEST_FILE_EXCEPTIONS",
  ]);
});

Deno.test("cycleProblems: no circle, no problem", () => {
  const files = {
    "mod.ts": 'export * from "./src/a.ts";',
    "src/a.ts": 'import { b } from "./b.ts";',
    "src/b.ts": 'import { c } from "./c.ts";',
    "src/c.ts": "",
  };
  deepEqual(cycleProblems(tree(files), []), []);
});

Deno.test("cycleProblems: a circle through a type-only import is reported with its path", () => {
  const files = {
    "src/a.ts": 'import { b } from "./b.ts";',
    "src/b.ts": 'import type { A } from "./a.ts";',
  };
  deepEqual(cycleProblems(tree(files), []), ["import cycle: src/a.ts -> src/b.ts -> src/a.ts"]);
});

Deno.test("cycleProblems: a longer circle across cli/, the top level and src/", () => {
  const files = {
    "cli/main.ts": 'import { Wal } from "../mod.ts";',
    "mod.ts": 'export { Wal } from "./src/open.ts";',
    "src/open.ts": 'import { run } from "../cli/main.ts";',
    "src/lone.ts": 'import "./lone.ts";',
  };
  const problems = cycleProblems(tree(files), []).sort();
  deepEqual(problems, [
    "import cycle: cli/main.ts -> mod.ts -> src/open.ts -> cli/main.ts",
    "import cycle: src/lone.ts -> src/lone.ts",
  ]);
});

Deno.test("cycleProblems: tests/ and imports in comments are not part of the graph", () => {
  const files = {
    "src/a.ts": '/** @example\n * import { a } from "./b.ts";\n */\nexport const a = 1;',
    "src/b.ts": 'import { a } from "./a.ts";',
    "tests/a_test.ts": 'import { x } from "./b_test.ts";',
    "tests/b_test.ts": 'import { y } from "./a_test.ts";',
  };
  deepEqual(cycleProblems(tree(files), []), []);
});

const PAIR: AllowedCycle = { files: ["src/r.ts", "src/q.ts"], why: "until the type moves" };

Deno.test("cycleProblems: an allowed circle passes; a larger circle through it does not", () => {
  const pair = {
    "src/q.ts": 'import type { R } from "./r.ts";',
    "src/r.ts": 'import { q } from "./q.ts";',
  };
  deepEqual(cycleProblems(tree(pair), [PAIR]), []);
  const larger = { ...pair, "src/s.ts": 'import { r } from "./r.ts";' };
  larger["src/q.ts"] += '\nimport { s } from "./s.ts";';
  deepEqual(cycleProblems(tree(larger), [PAIR]), [
    "import cycle: src/s.ts -> src/r.ts -> src/q.ts -> src/s.ts",
  ]);
  // A group larger than the path printed says which files are in it.
  const wider = { ...larger, "src/t.ts": 'import { q } from "./q.ts";' };
  wider["src/r.ts"] += '\nimport { t } from "./t.ts";';
  const problems = cycleProblems(tree(wider), [PAIR]);
  equal(problems.length, 1);
  match(problems[0]!, /^import cycle: src\/s\.ts -> .* -> src\/s\.ts \(4 files import each other/);
});

Deno.test("cycleProblems: an allowed circle that is gone is reported, so its entry goes", () => {
  const fixed = {
    "src/q.ts": "export type R = number;",
    "src/r.ts": 'import { q } from "./q.ts";',
  };
  deepEqual(cycleProblems(tree(fixed), [PAIR]), [
    "the allowed cycle src/r.ts <-> src/q.ts is gone: remove it from ALLOWED_CYCLES",
  ]);
});

Deno.test("layerProblems: the pure core uses no Deno.* (comments may name it)", () => {
  const clean = { "src/crc32c.ts": "// Deno.readFileSync is not used here\nexport const x = 1;" };
  deepEqual(layerProblems(tree(clean)), []);
  deepEqual(layerProblems(tree({ "src/crc32c.ts": "Deno.exit(1);" })), [
    "src/crc32c.ts uses Deno.*",
  ]);
});

Deno.test("layerProblems: imports across layers are reported", () => {
  const files = {
    "src/reader.ts": 'import { FileStore } from "./file_store.ts";',
    "src/file_store.ts": 'import { loadShim } from "../ffi/mod.ts";',
    "src/wal.ts": 'import { x } from "../tests/_helpers.ts";',
    "cli/main.ts": 'import { Wal } from "../mod.ts";\nimport { frame } from "../src/record.ts";',
    "ffi/mod.ts": 'import { WalError } from "../src/errors.ts";',
  };
  deepEqual(layerProblems(tree(files)).sort(), [
    "cli/main.ts imports src/record.ts",
    "ffi/mod.ts imports src/errors.ts",
    "src/reader.ts imports src/file_store.ts",
    "src/wal.ts imports tests/_helpers.ts",
  ]);
});
