// Copyright 2026 the wal-db authors. MIT license.
// The Wal's reading side: read-only opens, locks between readers and writers, refresh and tail.
// (Split from wal_test.ts to keep each file readable.)

import { deepEqual, equal, ok, rejects, throws } from "node:assert/strict";
import { join } from "node:path";
import { WalError, type WalErrorKind } from "../src/errors.ts";
import { MemStore } from "../src/mem_store.ts";
import { Wal } from "../src/open.ts";
import { bytes, concat, logImage, readBytes, withTempDir } from "./_helpers.ts";

function kind(expected: WalErrorKind) {
  return (e: unknown) => e instanceof WalError && e.kind === expected;
}

Deno.test("Wal read-only: recovery changes nothing and the log ends before the damage", async () => {
  await withTempDir((dir) => {
    const path = join(dir, "torn.wal");
    const content = concat([logImage([bytes("a"), bytes("b")]), new Uint8Array([1, 2, 3])]);
    Deno.writeFileSync(path, content);
    using wal = Wal.open(path, { readOnly: true });
    equal(wal.nextLsn, 18);
    equal(wal.recovery.cutSize, 0);
    deepEqual(wal.recovery.ranges, [{
      lsn: 18,
      size: 3,
      reason: "partial-header",
      action: "ignored",
    }]);
    deepEqual([...wal.iter()].map((e) => e.data), [bytes("a"), bytes("b")]);
    throws(() => wal.append(bytes("c")), kind("read-only"));
    throws(() => wal.appendBatch([]), kind("read-only"));
    throws(() => wal.truncateFrom(9), kind("read-only"));
    throws(() => wal.truncateBefore(9), kind("read-only"));
    throws(() => wal.syncSync(), kind("read-only"));
    deepEqual(readBytes(path), content);
  });
});

Deno.test("Wal read-only: damage before intact records is reported, not set aside", async () => {
  await withTempDir((dir) => {
    const path = join(dir, "damaged.wal");
    const content = logImage([bytes("first"), bytes("second"), bytes("third")]);
    content[13 + 9]! ^= 1;
    Deno.writeFileSync(path, content);
    using wal = Wal.open(path, { readOnly: true });
    equal(wal.nextLsn, 13);
    equal(wal.recovery.damage?.intactRecordCount, 1);
    equal(wal.recovery.damage?.setAsidePath, undefined);
    deepEqual(readBytes(path), content);
    deepEqual(Deno.readDirSync(dir).map((e) => e.name).toArray(), ["damaged.wal"]);
    using skipping = Wal.open(path, { readOnly: true, recoveryPolicy: "skip" });
    equal([...skipping.iter()].length, 2);
  });
});

Deno.test("Wal read-only: a missing file is an io error and nothing is created", async () => {
  await withTempDir((dir) => {
    const path = join(dir, "missing.wal");
    throws(() => Wal.open(path, { readOnly: true }), kind("io"));
    throws(() => Deno.statSync(path), Deno.errors.NotFound);
    throws(() => Wal.openSegmented(join(dir, "nodir"), 64, { readOnly: true }), kind("io"));
    throws(() => Deno.statSync(join(dir, "nodir")), Deno.errors.NotFound);
  });
});

Deno.test("Wal locks: readers share, a writer excludes readers and readers exclude a writer", async () => {
  await withTempDir((dir) => {
    const path = join(dir, "locks.wal");
    Wal.open(path).close();
    const reader1 = Wal.open(path, { readOnly: true });
    const reader2 = Wal.open(path, { readOnly: true });
    throws(() => Wal.open(path), kind("locked"));
    reader1.close();
    reader2.close();
    const writer = Wal.open(path);
    throws(() => Wal.open(path, { readOnly: true }), kind("locked"));
    Wal.open(path, { readOnly: true, lock: "none" }).close();
    writer.close();
    throws(() => Wal.open(path, { lock: "none" }), TypeError);
  });
});

for (const layout of ["file", "segmented"] as const) {
  Deno.test(`Wal read-only with lock none follows a live ${layout} log with refresh and tail`, async () => {
    await withTempDir(async (dir) => {
      const path = join(dir, layout === "file" ? "live.wal" : "live");
      const open = (config: Parameters<typeof Wal.open>[1]) =>
        layout === "file" ? Wal.open(path, config) : Wal.openSegmented(path, 32, config);
      using writer = open({});
      writer.append(bytes("one"));
      await writer.sync();
      using reader = open({ readOnly: true, lock: "none" });
      equal(reader.nextLsn, 11);
      writer.append(bytes("two"));
      writer.syncSync();
      equal(reader.refresh(), 22);
      deepEqual([...reader.iter()].map((e) => e.data), [bytes("one"), bytes("two")]);

      const stop = new AbortController();
      const seen: Uint8Array[] = [];
      const following = (async () => {
        for await (const entry of reader.tail(22, { signal: stop.signal, pollMs: 5 })) {
          seen.push(entry.data);
          if (seen.length === 3) stop.abort();
        }
      })();
      for (const word of ["three", "four", "five"]) {
        writer.append(bytes(word));
        await writer.sync();
      }
      await following;
      deepEqual(seen, [bytes("three"), bytes("four"), bytes("five")]);
    });
  });
}

Deno.test("Wal.refresh() of a reader follows a writer that cut the log below what it saw", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "cut.wal");
    using writer = Wal.open(path);
    const lsns = ["one", "two", "three"].map((word) => writer.append(bytes(word)));
    await writer.sync();
    using reader = Wal.open(path, { readOnly: true, lock: "none" });
    equal(reader.nextLsn, writer.nextLsn);
    writer.truncateAfter(lsns[0]!);
    equal(reader.refresh(), lsns[1]);
    deepEqual([...reader.iter()].map((e) => e.data), [bytes("one")]);
    writer.append(bytes("four"));
    await writer.sync();
    equal(reader.refresh(), writer.nextLsn);
    deepEqual([...reader.iter()].map((e) => e.data), [bytes("one"), bytes("four")]);
  });
});

/** Writes `count` distinct records to a segmented log of 1 KiB segments and closes it. */
async function writeSegmented(path: string, count: number): Promise<number[]> {
  const writer = Wal.openSegmented(path, 1024);
  const lsns = Array.from({ length: count }, (_, i) => writer.append(bytes(`record ${1000 + i}`)));
  await writer.sync();
  writer.close();
  await writer.closed;
  return lsns;
}

Deno.test("a segmented reader's cursor that reads into a segment a writer's cut just shortened is told the cut, not corruption, while every later segment is still there", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "log");
    const lsns = await writeSegmented(path, 200);
    using reader = Wal.openSegmented(path, 1024, { readOnly: true, lock: "none" });
    const cut = lsns[40]!;
    const cutSegment = Math.floor(cut / 1024);
    ok(lsns[48]! < (cutSegment + 1) * 1024, "the cursor reads in the cut segment");
    const cursor = reader.iterFrom(lsns[48]!);
    // The cut's first step only: the newest fingerprint, in the last segment, still matches.
    await Deno.truncate(join(path, `${String(cutSegment).padStart(20, "0")}.wal`), cut % 1024);
    throws(() => cursor.next(), (e: unknown) => {
      ok(e instanceof WalError && e.kind === "truncated", String(e));
      ok(e.lsn !== undefined && e.lsn <= cut, `told to read again from ${e.lsn}, cut at ${cut}`);
      return true;
    });
    ok(reader.nextLsn <= cut);
  });
});

Deno.test("Wal.refresh() of a segmented reader in the middle of a writer's cut reports it at or below the cut, not in the segments still to be removed", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "log");
    const lsns = await writeSegmented(path, 400);
    using reader = Wal.openSegmented(path, 1024, { readOnly: true, lock: "none" });
    const cursor = reader.iterFrom(lsns[399]!);
    cursor.next();
    // The first steps of a cut at record 30 (blocking or not): the segment holding it is cut,
    // and of the segments after it only the last ones are removed yet.
    const cut = lsns[30]!;
    const cutSegment = Math.floor(cut / 1024);
    const names: string[] = [];
    for await (const entry of Deno.readDir(path)) {
      if (entry.name.endsWith(".wal")) names.push(entry.name);
    }
    names.sort();
    await Deno.truncate(join(path, names[cutSegment]!), cut - cutSegment * 1024);
    for (const name of names.slice(-3)) await Deno.remove(join(path, name));
    reader.refresh();
    ok(reader.nextLsn <= cut, `the reader's end ${reader.nextLsn} is past the cut ${cut}`);
    throws(() => cursor.next(), (e: unknown) => {
      ok(e instanceof WalError && e.kind === "truncated", String(e));
      ok(e.lsn !== undefined && e.lsn <= cut, `told to read again from ${e.lsn}, cut at ${cut}`);
      return true;
    });
    deepEqual([...reader.iter()].map((e) => e.lsn), lsns.slice(0, 30));
  });
});

Deno.test({
  name: "Wal.tail() delivers exactly the durable records, in order, and stops on abort",
  sanitizeOps: true,
  async fn() {
    const store = new MemStore();
    const wal = Wal.withStore(store);
    wal.append(bytes("old"));
    await wal.sync();
    const stop = new AbortController();
    const seen: string[] = [];
    const decoder = new TextDecoder();
    let sawUnsynced = false;
    const following = (async () => {
      for await (const entry of wal.tail(undefined, { signal: stop.signal })) {
        seen.push(decoder.decode(entry.data));
        ok(entry.lsn + 8 + entry.data.length <= wal.durableLsn, "only durable records");
      }
    })();
    await new Promise((r) => setTimeout(r, 5));
    wal.append(bytes("pending"));
    await new Promise((r) => setTimeout(r, 5));
    sawUnsynced = seen.includes("pending");
    await wal.sync();
    wal.append(bytes("last"));
    await wal.sync();
    await new Promise((r) => setTimeout(r, 5));
    stop.abort();
    await following;
    equal(sawUnsynced, false, "a record is not delivered before it is durable");
    deepEqual(seen, ["old", "pending", "last"]);
    wal.close();
  },
});

Deno.test("Wal.tail() ends when the log closes, and rejects a bad start", async () => {
  const wal = Wal.withStore(new MemStore());
  wal.append(bytes("x"));
  throws(() => wal.tail(3), kind("invalid-lsn"));
  const collected: number[] = [];
  const following = (async () => {
    for await (const entry of wal.tail()) collected.push(entry.lsn);
  })();
  await wal.sync();
  await new Promise((r) => setTimeout(r, 5));
  wal.close();
  await following;
  deepEqual(collected, [0]);
  await rejects(wal.sync(), kind("closed"));
});
