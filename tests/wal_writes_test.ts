// Copyright 2026 the wal-db authors. MIT license.
// Tests for src/wal_writes.ts: which record at the LSN given each truncation keeps. The rest of
// the write API is tested in wal_test.ts and wal_segmented_test.ts.

import { deepEqual } from "node:assert/strict";
import { Wal } from "../src/open.ts";
import { SegmentedStore } from "../src/segmented_store.ts";
import { bytes } from "./_helpers.ts";
import { SimDirectory, SimDisk } from "./_sim_disk.ts";

const text = new TextDecoder();

Deno.test("truncateFrom drops the record at the LSN given; truncateAfter and truncateBefore keep it", () => {
  using wal = Wal.withStore(SegmentedStore.open(SimDirectory.open(new SimDisk()), 64));
  const lsns = ["a", "b", "c", "d", "e"].map((word) => wal.append(bytes(word)));
  const words = () => [...wal.iter()].map((e) => text.decode(e.data));
  wal.truncateFrom(lsns[4]!);
  deepEqual(words(), ["a", "b", "c", "d"]);
  wal.truncateAfter(lsns[2]!);
  deepEqual(words(), ["a", "b", "c"]);
  wal.truncateBefore(lsns[1]!);
  deepEqual(words(), ["b", "c"]);
});
