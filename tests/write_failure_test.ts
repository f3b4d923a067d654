// Copyright 2026 the wal-db authors. MIT license.

import { deepEqual, equal, match, ok } from "node:assert/strict";
import { WalError } from "../src/errors.ts";
import { forgetUndiscarded, undiscardedOf } from "../src/failed_tails.ts";
import { MemStore } from "../src/mem_store.ts";
import type { WalStore } from "../src/store.ts";
import { discardAfter, durableCut, type FailureParts, WriteFailure } from "../src/write_failure.ts";

/** Parts whose log-tracking side records every call, in order, over `store`. */
function partsOver(store: WalStore, durableEnd: number): FailureParts & { calls: string[] } {
  const calls: string[] = [];
  return {
    store,
    calls,
    commit: {
      durableEnd,
      truncated: (end) => void calls.push(`commit.truncated ${end}`),
      markFailed: (error) => void calls.push(`commit.markFailed ${(error as WalError).kind}`),
    },
    index: { truncateAfter: (end) => void calls.push(`index.truncateAfter ${end}`) },
    epoch: { cutAfter: (end) => void calls.push(`epoch.cutAfter ${end}`) },
    changes: { notify: () => void calls.push("changes.notify") },
  };
}

/** The parts of a store of `size` bytes a failure uses, whose `discardUnflushed` throws. */
function failingDiscard(size: number, identity: string | undefined): WalStore {
  const store = {
    head: 0,
    size,
    identity,
    discardUnflushed(): void {
      throw new Error("EIO: the disk went away");
    },
  };
  return store as unknown as WalStore;
}

Deno.test("WriteFailure.fail() cuts the log back to its durable end once and keeps the first error", () => {
  const store = new MemStore(new Uint8Array(100));
  const parts = partsOver(store, 40);
  const failures = new WriteFailure(parts);
  equal(failures.error, undefined);
  const first = failures.fail(new Error("EIO: first"), "flush the log to stable storage");
  ok(first instanceof WalError);
  equal(first.kind, "failed");
  match(first.message, /^Cannot flush the log to stable storage: EIO: first\./);
  match(first.message, /cut back to LSN 40, its durable end/);
  equal(store.size, 40);
  deepEqual(parts.calls, [
    "commit.truncated 40",
    "index.truncateAfter 40",
    "epoch.cutAfter 40",
    "changes.notify",
    "commit.markFailed failed",
  ]);
  equal(failures.error, first);
  // A second failure: the same error, and no second cut (the bytes appended since stay).
  parts.calls.length = 0;
  store.append(new Uint8Array(8));
  equal(failures.fail(new Error("EIO: second"), "write to the log"), first);
  equal(store.size, 48);
  deepEqual(parts.calls, ["commit.markFailed failed"]);
  equal(failures.endAfterFailure, undefined, "set only by a failed append or a failed cut back");
});

Deno.test("WriteFailure.failWrite() keeps where the first failed append started", () => {
  const store = new MemStore(new Uint8Array(64));
  const failures = new WriteFailure(partsOver(store, 64));
  const error = failures.failWrite(new Error("ENOSPC"), 30);
  match(error.message, /^Cannot write to the log: ENOSPC\./);
  equal(failures.endAfterFailure, 30);
  equal(failures.failWrite(new Error("ENOSPC again"), 50), error);
  equal(failures.endAfterFailure, 30);
});

Deno.test("WriteFailure: a cut that fails too is remembered by the log's identity", async (t) => {
  await t.step("with an identity: a reopen in this process retries the cut", () => {
    const identity = `write-failure-test:${crypto.randomUUID()}`;
    const store = failingDiscard(90, identity);
    const parts = partsOver(store, 24);
    try {
      const error = new WriteFailure(parts).fail(new Error("EIO: flush"), "sync");
      match(error.message, /Cutting the log back to LSN 24, its durable end, failed too/);
      match(error.message, /EIO: the disk went away/);
      match(error.message, /A reopen in this process retries the cut first/);
      deepEqual(undiscardedOf(identity), { end: 24 });
      // The log ends at the durable end all the same: the failed cut may have cut or removed
      // part of what follows (a segmented log), and no cursor may read into what is left.
      deepEqual(parts.calls, [
        "commit.truncated 24",
        "index.truncateAfter 24",
        "epoch.cutAfter 24",
        "changes.notify",
        "commit.markFailed failed",
      ]);
    } finally {
      forgetUndiscarded(identity);
    }
  });
  await t.step("without one: the message says not to reopen before a restart", () => {
    const store = failingDiscard(90, undefined);
    const failures = new WriteFailure(partsOver(store, 24));
    const error = failures.fail(new Error("EIO"), "sync");
    match(error.message, /Do not reopen the log before the machine restarts/);
    equal(failures.endAfterFailure, 24, "the log's end stops at the durable end");
  });
});

Deno.test("durableCut() never passes the end nor falls below the head", () => {
  const at = (head: number, size: number) => ({ head, size }) as WalStore;
  equal(durableCut(at(0, 100), 40), 40);
  equal(durableCut(at(0, 100), 140), 100, "a durable end past the store's end (a cut since)");
  equal(durableCut(at(60, 100), 40), 60, "a head moved past the durable end");
  equal(durableCut(at(0, 0), 0), 0);
});

Deno.test("discardAfter() uses the store's discardUnflushed, else its truncate", () => {
  const calls: string[] = [];
  const both = {
    discardUnflushed: (size: number) => void calls.push(`discard ${size}`),
    truncate: (size: number) => void calls.push(`truncate ${size}`),
  } as unknown as WalStore;
  discardAfter(both, 12);
  const truncateOnly = { truncate: (size: number) => void calls.push(`truncate ${size}`) };
  discardAfter(truncateOnly as unknown as WalStore, 7);
  deepEqual(calls, ["discard 12", "truncate 7"]);
  const store = new MemStore(new Uint8Array(20));
  discardAfter(store, 5);
  equal(store.size, 5);
});
