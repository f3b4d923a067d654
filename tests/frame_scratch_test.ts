// Copyright 2026 the wal-db authors. MIT license.
// Tests for src/frame_scratch.ts: the append path's scratch buffer and its reused view.

import { equal, notEqual } from "node:assert/strict";
import { SCRATCH_SIZE_MAX } from "../src/constants.ts";
import { FrameScratch } from "../src/frame_scratch.ts";

Deno.test("FrameScratch reuses one buffer and one view while frames keep their size", () => {
  const scratch = new FrameScratch();
  const buffer = scratch.bufferFor(264);
  const view = scratch.viewOf(buffer, 264);
  equal(view.length, 264);
  equal(view.buffer, buffer.buffer);
  equal(scratch.bufferFor(264), buffer);
  equal(scratch.viewOf(buffer, 264), view);
  const other = scratch.viewOf(buffer, 10);
  notEqual(other, view);
  equal(other.length, 10);
});

Deno.test("FrameScratch grows by doubling, and never keeps a frame past the cap", () => {
  const scratch = new FrameScratch();
  const small = scratch.bufferFor(8);
  const grown = scratch.bufferFor(small.length + 1);
  equal(grown.length, small.length * 2);
  // The old view must not be handed out for the new buffer.
  const view = scratch.viewOf(small, 8);
  equal(scratch.viewOf(grown, 8).buffer, grown.buffer);
  notEqual(scratch.viewOf(grown, 8), view);
  const huge = scratch.bufferFor(SCRATCH_SIZE_MAX + 1);
  equal(huge.length, SCRATCH_SIZE_MAX + 1);
  equal(scratch.viewOf(huge, huge.length), huge);
  equal(scratch.bufferFor(8), grown);
});
