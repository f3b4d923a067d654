// Copyright 2026 the wal-db authors. MIT license.
// Tests for src/lsn.ts: checking that an LSN is a record boundary, the head or the end.

import { equal, throws } from "node:assert/strict";
import { BoundaryIndex } from "../src/boundary_index.ts";
import { WalError } from "../src/errors.ts";
import { checkBoundary, typeName } from "../src/lsn.ts";
import { bytes, logImage, lsnsOf } from "./_helpers.ts";

const RECORDS = [bytes("a"), bytes("bb"), bytes("ccc")];
const LSNS = lsnsOf(RECORDS);
const IMAGE = logImage(RECORDS);

function bounds() {
  const index = new BoundaryIndex(0);
  for (const lsn of LSNS) index.add(lsn);
  return {
    head: 0,
    end: IMAGE.length,
    index,
    bytes: {
      readAt(offset: number, buffer: Uint8Array): number {
        const part = IMAGE.subarray(offset, offset + buffer.length);
        buffer.set(part);
        return part.length;
      },
    },
  };
}

const invalid = (e: unknown) => e instanceof WalError && e.kind === "invalid-lsn";

Deno.test("checkBoundary accepts record boundaries, and the head and end only when allowed", () => {
  for (const lsn of LSNS) checkBoundary(lsn, "read", false, bounds());
  checkBoundary(IMAGE.length, "read", true, bounds());
  throws(() => checkBoundary(IMAGE.length, "read", false, bounds()), invalid);
  throws(() => checkBoundary(LSNS[1]! + 1, "read", true, bounds()), invalid);
  throws(() => checkBoundary(-1, "read", true, bounds()), invalid);
  throws(() => checkBoundary(1.5, "read", true, bounds()), invalid);
  throws(() => checkBoundary("9", "read", true, bounds()), TypeError);
});

Deno.test("typeName names null, primitives and classes", () => {
  equal(typeName(null), "null");
  equal(typeName(3), "number");
  equal(typeName(new Map()), "Map");
});
