// Copyright 2026 the wal-db authors. MIT license.
// Tests for src/segment_handles.ts: the pool of a segmented log's open files.

import { equal, ok } from "node:assert/strict";
import { SEGMENT_READERS_OPEN_MAX, SEGMENT_UNFLUSHED_OPEN_MAX } from "../src/constants.ts";
import { SegmentHandles } from "../src/segment_handles.ts";
import { segmentName } from "../src/segments.ts";
import { SimDirectory, SimDisk } from "./_sim_disk.ts";

function directoryWith(count: number): SimDirectory {
  const dir = SimDirectory.open(new SimDisk());
  for (let i = 0; i < count; i++) dir.open(segmentName(i), true).close();
  return dir;
}

Deno.test("SegmentHandles: readers are bounded and the active handle serves reads", () => {
  const dir = directoryWith(SEGMENT_READERS_OPEN_MAX + 3);
  const handles = new SegmentHandles(dir);
  for (let i = 0; i < SEGMENT_READERS_OPEN_MAX + 3; i++) handles.reader(i);
  equal(handles.openCount, SEGMENT_READERS_OPEN_MAX);
  const active = dir.open(segmentName(0), false);
  handles.activate(0, active);
  equal(handles.reader(0), active);
  equal(handles.writtenHandle(0), active);
  for (const file of handles.takeAll()) file.close();
  equal(handles.openCount, 0);
  dir.close();
});

Deno.test("SegmentHandles: parking past the bound hands back the oldest; retiring waits for flushes", () => {
  const dir = directoryWith(SEGMENT_UNFLUSHED_OPEN_MAX + 1);
  const handles = new SegmentHandles(dir);
  const files = Array.from({ length: SEGMENT_UNFLUSHED_OPEN_MAX + 1 }, (_, i) => {
    return dir.open(segmentName(i), false);
  });
  for (let i = 0; i < SEGMENT_UNFLUSHED_OPEN_MAX; i++) equal(handles.park(i, files[i]!), undefined);
  const evicted = handles.park(SEGMENT_UNFLUSHED_OPEN_MAX, files.at(-1)!);
  equal(evicted?.[0], 0);
  equal(handles.unpark(0), files[0]);
  handles.flushStarted();
  handles.retire(files[0]!);
  handles.releaseSegment(1);
  handles.flushEnded();
  ok(handles.writtenHandle(1) === undefined);
  handles.releaseWritten();
  equal(handles.openCount, 0);
  dir.close();
});
