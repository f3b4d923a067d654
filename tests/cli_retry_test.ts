// Copyright 2026 the wal-db authors. MIT license.
// Tests for cli/retry.ts: a read that fails because a writer changed a segmented log under it is
// read again; a failure on a log that did not change is reported at once.

import { deepEqual, equal, notEqual, throws } from "node:assert/strict";
import { join } from "node:path";
import {
  logActivity,
  logFingerprint,
  READ_ATTEMPTS_MAX,
  readUntilSettled,
  retryWhileChanging,
} from "../cli/retry.ts";
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

Deno.test("readUntilSettled() reads again while the result is unsettled and the log is written", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "app.wal");
    await Deno.writeFile(path, bytes("torn"));
    let calls = 0;
    const result = await readUntilSettled(
      path,
      () => {
        calls++;
        if (calls === 1) {
          // The writer finishes its append while this read runs.
          Deno.writeFileSync(path, bytes("-complete"), { append: true });
          return "torn";
        }
        return "intact";
      },
      (r) => r === "torn",
      0,
    );
    equal(result, "intact");
    equal(calls, 2);
  });
});

Deno.test("readUntilSettled() keeps an unsettled result when nobody writes the log", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "app.wal");
    await Deno.writeFile(path, bytes("torn"));
    let calls = 0;
    equal(await readUntilSettled(path, () => (calls++, "torn"), (r) => r === "torn", 0), "torn");
    equal(calls, 1);
    let settled = 0;
    const intact = await readUntilSettled(path, () => (settled++, "intact"), (r) => r === "torn");
    equal(intact, "intact");
    equal(settled, 1);
  });
});

Deno.test("readUntilSettled() stops after READ_ATTEMPTS_MAX reads of a log always written", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "app.wal");
    await Deno.writeFile(path, bytes("torn"));
    let calls = 0;
    const result = await readUntilSettled(
      path,
      () => {
        calls++;
        Deno.writeFileSync(path, bytes("x"), { append: true });
        return "torn";
      },
      (r) => r === "torn",
      0,
    );
    equal(result, "torn");
    equal(calls, READ_ATTEMPTS_MAX);
  });
});

Deno.test("logActivity() changes with an append, also one into reserved space", async () => {
  await withTempDir((dir) => {
    const path = join(dir, "app.wal");
    Deno.writeFileSync(path, new Uint8Array(64));
    const before = logActivity(path);
    equal(logActivity(path), before);
    const file = Deno.openSync(path, { write: true });
    try {
      // Same size, new bytes: the modification time tells it (set explicitly, as a clock may
      // not tick between two writes this close).
      file.writeSync(bytes("record"));
      Deno.utimeSync(path, new Date(), new Date(Date.now() + 5000));
    } finally {
      file.close();
    }
    notEqual(logActivity(path), before);
    const segmented = segmentedLog(dir, 2);
    const log = logActivity(segmented);
    {
      using wal = Wal.openSegmented(segmented, 32);
      wal.append(bytes("another"));
      wal.syncSync();
    }
    notEqual(logActivity(segmented), log);
  });
});

Deno.test("readUntilSettled() watches the log for a write that comes after the read", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "app.wal");
    await Deno.writeFile(path, bytes("torn"));
    let calls = 0;
    const result = await readUntilSettled(
      path,
      () => {
        calls++;
        if (calls === 1) {
          // A writer stalled in a flush finishes its append only after the read returned.
          setTimeout(() => Deno.writeFileSync(path, bytes("-complete"), { append: true }), 0);
          return "torn";
        }
        return "intact";
      },
      (r) => r === "torn",
      50,
    );
    equal(result, "intact");
    equal(calls, 2);
  });
});
