// Copyright 2026 the wal-db authors. MIT license.
// Tests for src/log_parts.ts: the parts an open log is built from.

import { equal, ok, throws } from "node:assert/strict";
import { BoundaryIndex } from "../src/boundary_index.ts";
import { resolveConfig } from "../src/config.ts";
import { WalError } from "../src/errors.ts";
import { type FrameScanner, scanFrames } from "../src/frame_scan.ts";
import { SeenRecords } from "../src/follower.ts";
import { assemble, checkWritable } from "../src/log_parts.ts";
import { MemStore } from "../src/mem_store.ts";
import { recover } from "../src/recovery.ts";
import { bytes, logImage } from "./_helpers.ts";

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

Deno.test("assemble: a follower checks new records with the log's scanner", () => {
  const store = new MemStore();
  let calls = 0;
  const counting: FrameScanner = (buf, start, end, max, ends) => {
    calls++;
    return scanFrames(buf, start, end, max, ends);
  };
  const config = { ...resolveConfig({ readOnly: true }), scanner: counting };
  const log = assemble({
    store,
    config,
    recovery: recover(store, config),
    index: new BoundaryIndex(0),
    seen: new SeenRecords(),
    startTimer: () => undefined,
  });
  store.append(logImage([bytes("a"), bytes("bc")]));
  const before = calls;
  ok(log.follower!.refresh((reader) => reader.next(false)));
  equal(log.follower!.end, 9 + 10);
  ok(calls > before, "the follower's reader used the log's scanner");
});
