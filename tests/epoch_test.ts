// Copyright 2026 the wal-db authors. MIT license.
// Tests for src/epoch.ts: the truncation epoch and where the cuts since an epoch landed.

import { equal } from "node:assert/strict";
import { CUT_HISTORY_MAX } from "../src/constants.ts";
import { Epoch } from "../src/epoch.ts";

Deno.test("Epoch: every truncation advances it; the lowest cut since an epoch is found", () => {
  const epoch = new Epoch();
  const start = epoch.value;
  equal(epoch.lowestCutSince(start, 0), undefined);
  epoch.cutAfter(100);
  const afterFirst = epoch.value;
  epoch.headMoved();
  epoch.cutAfter(40);
  epoch.cutAfter(70);
  equal(epoch.value, start + 4);
  equal(epoch.lowestCutSince(start, 0), 40);
  equal(epoch.lowestCutSince(afterFirst, 0), 40);
  equal(epoch.lowestCutSince(epoch.value - 1, 0), 70);
  equal(epoch.lowestCutSince(epoch.value, 0), undefined);
});

Deno.test("Epoch: a cursor older than the cuts remembered is told the fallback", () => {
  const epoch = new Epoch();
  const start = epoch.value;
  epoch.cutAfter(5);
  const recent = epoch.value;
  for (let i = 0; i < CUT_HISTORY_MAX; i++) epoch.cutAfter(1000 + i);
  equal(epoch.lowestCutSince(start, 3), 3);
  equal(epoch.lowestCutSince(recent, 3), 1000);
});
