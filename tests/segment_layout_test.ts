// Copyright 2026 the wal-db authors. MIT license.
// Tests for src/segment_layout.ts: the public view of a segmented log's directory layout.

import { deepEqual, equal } from "node:assert/strict";
import { encodeHead, encodeSegmentSize } from "../src/segments.ts";
import { segmentLayout } from "../src/segment_layout.ts";

Deno.test("segmentLayout reads what the store writes: segment names, head and segment-size files", () => {
  equal(segmentLayout.parseSegmentName(segmentLayout.segmentName(42)), 42);
  equal(segmentLayout.decodeHead(encodeHead(4096)), 4096);
  deepEqual(segmentLayout.decodeSegmentSize(encodeSegmentSize(1 << 20)), { segmentSize: 1 << 20 });
  equal(encodeSegmentSize(64).length, segmentLayout.segmentSizeFileSize);
  equal(segmentLayout.parseSegmentName(segmentLayout.headFileName), undefined);
  equal(segmentLayout.parseSegmentName(segmentLayout.lockFileName), undefined);
});
