// Copyright 2026 the wal-db authors. MIT license.
// A worker that fuzzes a range of seeds, so the suite can use every core: it receives
// `{ firstSeed, count }` and answers with the `FuzzSummary` of that range.

/// <reference lib="deno.worker" />

import { fuzzMany } from "./_fuzz.ts";

self.onmessage = (event: MessageEvent<{ firstSeed: number; count: number }>) => {
  const { firstSeed, count } = event.data;
  self.postMessage(fuzzMany(firstSeed, count));
  self.close();
};
