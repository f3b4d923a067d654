// Copyright 2026 the wal-db authors. MIT license.

import { doesNotThrow, equal, throws } from "node:assert/strict";
import { assert, AssertionError } from "../src/assert.ts";

Deno.test("assert() passes on a true condition and throws AssertionError on a false one", () => {
  doesNotThrow(() => assert(1 + 1 === 2, "arithmetic"));
  throws(
    () => assert(false, "the sky is up"),
    (e: unknown) =>
      e instanceof AssertionError && e.message === "wal-db invariant violated: the sky is up",
  );
});

Deno.test("assert() names the value only when the check fails", () => {
  throws(
    () => assert(false, "boundary is noted in order", 42),
    (e: unknown) =>
      e instanceof AssertionError &&
      e.message === "wal-db invariant violated: boundary is noted in order (got 42)",
  );
  // A passing check with a value neither throws nor formats anything.
  let formatted = 0;
  const value = { valueOf: () => (formatted++, 1) } as unknown as number;
  assert(true, "never formatted", value);
  equal(formatted, 0);
});

/** The files on the append, sync and flush paths: none may format an assertion message. */
const HOT_PATH_FILES = [
  "assert.ts",
  "boundary_index.ts",
  "crc32c.ts",
  "file_io.ts",
  "file_store.ts",
  "gather_store.ts",
  "group_commit.ts",
  "mem_store.ts",
  "record.ts",
  "stats.ts",
  "wal_writes.ts",
  "writer.ts",
];

Deno.test("no assert() on the write paths builds its message with a template literal", () => {
  const offenders: string[] = [];
  for (const name of HOT_PATH_FILES) {
    const source = Deno.readTextFileSync(new URL(`../src/${name}`, import.meta.url));
    // An assert call up to its closing parenthesis (messages hold no parentheses).
    for (const call of source.matchAll(/\bassert\(([^;]*?)\);/gs)) {
      if (call[1]!.includes("`")) offenders.push(`${name}: ${call[0].replace(/\s+/g, " ")}`);
    }
  }
  equal(offenders.join("\n"), "");
});
