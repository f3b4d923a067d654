// Copyright 2026 the wal-db authors. MIT license.

import { doesNotThrow, throws } from "node:assert/strict";
import { assert, AssertionError } from "../src/assert.ts";

Deno.test("assert() passes on a true condition and throws AssertionError on a false one", () => {
  doesNotThrow(() => assert(1 + 1 === 2, "arithmetic"));
  throws(
    () => assert(false, "the sky is up"),
    (e: unknown) =>
      e instanceof AssertionError && /invariant violated: the sky is up/.test(e.message),
  );
});
