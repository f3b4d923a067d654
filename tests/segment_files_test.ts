// Copyright 2026 the wal-db authors. MIT license.
// Tests for src/segment_files.ts: the segment listing, the head file, atomic replacement and the
// layout checks an open makes.

import { deepEqual, equal, throws } from "node:assert/strict";
import { HEAD_FILE_NAME, HEAD_TEMP_FILE_NAME } from "../src/constants.ts";
import { WalError } from "../src/errors.ts";
import {
  checkGaps,
  checkLayout,
  lastOf,
  readHead,
  segmentsIn,
  writeAtomically,
} from "../src/segment_files.ts";
import { encodeHead, segmentName } from "../src/segments.ts";
import { SimDirectory, SimDisk } from "./_sim_disk.ts";

const corruption = (e: unknown) => e instanceof WalError && e.kind === "corruption";

Deno.test("segmentsIn and lastOf read segment indices from names, ignoring other files", () => {
  const segments = segmentsIn([segmentName(3), "head", segmentName(0), "wal.lock", "x.wal"]);
  deepEqual([...segments].sort(), [0, 3]);
  equal(lastOf(segments), 3);
  equal(lastOf(new Set()), undefined);
});

Deno.test("writeAtomically replaces the head file, which readHead reads back; damage refuses", () => {
  const dir = SimDirectory.open(new SimDisk());
  equal(readHead(dir, false), 0);
  writeAtomically(dir, HEAD_TEMP_FILE_NAME, HEAD_FILE_NAME, encodeHead(4096));
  equal(readHead(dir, true), 4096);
  deepEqual(dir.list().includes(HEAD_TEMP_FILE_NAME), false);
  writeAtomically(dir, HEAD_TEMP_FILE_NAME, HEAD_FILE_NAME, new Uint8Array(5));
  throws(() => readHead(dir, true), corruption);
  dir.close();
});

Deno.test("checkLayout refuses missing leading segments; checkGaps refuses a far stray segment", () => {
  checkLayout("log", 100, new Set([1, 2]), 64);
  throws(() => checkLayout("log", 200, new Set([4]), 64), corruption);
  throws(() => checkLayout("log", 10, new Set(), 64), corruption);
  checkGaps("log", 0, new Set([0, 2]), 64);
  throws(() => checkGaps("log", 0, new Set([0, 1 << 30]), 64), corruption);
});
