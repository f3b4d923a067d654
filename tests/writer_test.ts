// Copyright 2026 the wal-db authors. MIT license.
// Tests for src/writer.ts: the write side of a log, and the epoch its truncations advance.

import { equal, throws } from "node:assert/strict";
import { BoundaryIndex } from "../src/boundary_index.ts";
import { ChangeSignal } from "../src/change_signal.ts";
import { resolveConfig } from "../src/config.ts";
import { Epoch } from "../src/epoch.ts";
import { WalError } from "../src/errors.ts";
import { MemStore } from "../src/mem_store.ts";
import { Writer } from "../src/writer.ts";
import { bytes } from "./_helpers.ts";

function writer(readOnly = false) {
  const store = new MemStore();
  const epoch = new Epoch();
  const config = resolveConfig(readOnly ? { readOnly: true } : {});
  return {
    store,
    epoch,
    writer: new Writer(store, config, new BoundaryIndex(0), epoch, new ChangeSignal()),
  };
}

Deno.test("Writer: appends, syncs, and every cut advances the epoch with where it cut", () => {
  const { epoch, writer: w } = writer();
  const first = w.append(bytes("a"));
  const second = w.append(bytes("b"));
  w.syncSync();
  equal(w.durableEnd, w.end);
  const before = epoch.value;
  w.truncateAfterRecord(first);
  equal(w.end, second);
  equal(epoch.lowestCutSince(before, 0), second);
  w.truncateAt(w.end); // nothing to cut: no new epoch
  equal(epoch.lowestCutSince(before + 1, 0), undefined);
});

Deno.test("Writer: a read-only log refuses writes; a store without a prefix cut is unsupported", () => {
  throws(
    () => writer(true).writer.checkWritable(),
    (e) => e instanceof WalError && e.kind === "read-only",
  );
  const { epoch, writer: w } = writer();
  w.append(bytes("a"));
  const second = w.append(bytes("b"));
  const before = epoch.value;
  throws(() => w.truncateBefore(second), (e) => e instanceof WalError && e.kind === "unsupported");
  equal(epoch.value, before);
});
