// Copyright 2026 the wal-db authors. MIT license.
// Tests for src/segment_flushes.ts: which segments a segmented log has not flushed yet.

import { deepEqual } from "node:assert/strict";
import { SegmentFlushes } from "../src/segment_flushes.ts";
import { SegmentHandles } from "../src/segment_handles.ts";
import { segmentName } from "../src/segments.ts";
import { SimDirectory, SimDisk } from "./_sim_disk.ts";

Deno.test("SegmentFlushes: a flush settles the segments it covered, not those appended during it", async () => {
  const dir = SimDirectory.open(new SimDisk());
  for (const index of [0, 1]) dir.open(segmentName(index), true).close();
  const handles = new SegmentHandles(dir);
  const flushes = new SegmentFlushes(dir, handles, () => true);
  flushes.appended(0);
  flushes.appended(1);
  flushes.directoryChanged();
  flushes.flushSync();
  deepEqual(flushes.segments, []);
  flushes.appended(1);
  const running = flushes.flush();
  flushes.appended(1); // appended again while the flush runs: it stays unflushed
  await running;
  deepEqual(flushes.segments, [1]);
  flushes.forget(1);
  deepEqual(flushes.segments, []);
  for (const file of handles.takeAll()) file.close();
  dir.close();
});
