// Copyright 2026 the wal-db authors. MIT license.
// Tests for src/log_parts.ts: the parts an open log is built from.

import { equal, ok, throws } from "node:assert/strict";
import { BoundaryIndex } from "../src/boundary_index.ts";
import { resolveConfig } from "../src/config.ts";
import { WalError } from "../src/errors.ts";
import { SeenRecords } from "../src/follower.ts";
import { assemble, checkWritable } from "../src/log_parts.ts";
import { MemStore } from "../src/mem_store.ts";
import { recover } from "../src/recovery.ts";

function parts(readOnly: boolean) {
  const store = new MemStore();
  const config = resolveConfig({ readOnly });
  return assemble({
    store,
    config,
    recovery: recover(store, config),
    index: new BoundaryIndex(0),
    seen: readOnly ? new SeenRecords() : undefined,
    startTimer: () => undefined,
  });
}

Deno.test("assemble: a follower only for a read-only log; checkWritable sees close and read-only", () => {
  const writable = parts(false);
  equal(writable.follower, undefined);
  checkWritable(writable);
  writable.state.closed = true;
  throws(() => checkWritable(writable), (e) => e instanceof WalError && e.kind === "closed");
  const readOnly = parts(true);
  ok(readOnly.follower !== undefined);
  throws(() => checkWritable(readOnly), (e) => e instanceof WalError && e.kind === "read-only");
});
