// Copyright 2026 the wal-db authors. MIT license.
// Tests for cli/retry.ts: a read that fails because a writer changed a segmented log under it is
// read again; a failure on a log that did not change is reported at once.

import { deepEqual, equal, notEqual, throws } from "node:assert/strict";
import { join } from "node:path";
import { logFingerprint, READ_ATTEMPTS_MAX, retryWhileChanging } from "../cli/retry.ts";
import { Wal } from "../src/open.ts";
import { bytes, withTempDir } from "./_helpers.ts";

/** A segmented log of 32-byte segments holding `count` records of 8 bytes; returns its path. */
function segmentedLog(dir: string, count: number): string {
  const path = join(dir, "log");
  using wal = Wal.openSegmented(path, 32);
  for (let i = 0; i < count; i++) wal.append(bytes(`record ${i}`));
  wal.syncSync();
  return path;
}

Deno.test("logFingerprint() changes with a checkpoint and a new segment, not with a read", async () => {
  await withTempDir((dir) => {
    const path = segmentedLog(dir, 6);
    const first = logFingerprint(path);
    equal(logFingerprint(path), first);
    {
      using reader = Wal.openSegmented(path, 32, { readOnly: true, lock: "none" });
      equal([...reader.iter()].length, 6);
    }
    equal(logFingerprint(path), first, "a lock-free read changes nothing");
    {
      using wal = Wal.openSegmented(path, 32);
      wal.truncateBefore(48);
    }
    const checkpointed = logFingerprint(path);
    notEqual(checkpointed, first);
    {
      using wal = Wal.openSegmented(path, 32);
      wal.append(bytes("more and more"));
      wal.syncSync();
    }
    notEqual(logFingerprint(path), checkpointed);
    const file = join(dir, "app.wal");
    Deno.writeFileSync(file, new Uint8Array(3));
    equal(logFingerprint(file), "file");
    equal(logFingerprint(join(dir, "missing")), "unreadable");
  });
});

Deno.test("retryWhileChanging() reads again when the log changed under a failed read", async () => {
  await withTempDir((dir) => {
    const path = segmentedLog(dir, 6);
    let calls = 0;
    const result = retryWhileChanging(path, () => {
      if (++calls === 1) {
        // A writer's checkpoint lands while this read runs, and the read fails on it.
        using wal = Wal.openSegmented(path, 32);
        wal.truncateBefore(48);
        throw new Deno.errors.NotFound("a segment is gone");
      }
      using reader = Wal.openSegmented(path, 32, { readOnly: true, lock: "none" });
      return [...reader.iter()].length;
    });
    equal(calls, 2);
    equal(result, 3);
  });
});

Deno.test("retryWhileChanging() reports a failure on an unchanged log at once", async () => {
  await withTempDir((dir) => {
    const path = segmentedLog(dir, 6);
    let calls = 0;
    throws(() =>
      retryWhileChanging(path, () => {
        calls++;
        throw new Error("damaged");
      }), /damaged/);
    equal(calls, 1);
  });
});

Deno.test("retryWhileChanging() gives up after READ_ATTEMPTS_MAX, or when told it cannot retry", async () => {
  await withTempDir((dir) => {
    const path = segmentedLog(dir, 6);
    const change = (n: number) => Deno.writeFileSync(join(path, `note-${n}`), new Uint8Array());
    let calls = 0;
    throws(() =>
      retryWhileChanging(path, () => {
        change(++calls);
        throw new Error(`attempt ${calls}`);
      }), new RegExp(`attempt ${READ_ATTEMPTS_MAX}$`));
    equal(calls, READ_ATTEMPTS_MAX);
    const seen: number[] = [];
    throws(() =>
      retryWhileChanging(path, () => {
        seen.push(seen.length);
        change(100 + seen.length);
        throw new Error("printed already");
      }, () => false), /printed already/);
    deepEqual(seen, [0]);
  });
});
