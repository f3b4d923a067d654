// Copyright 2026 the wal-db authors. MIT license.
// MemDirectory (src/mem_directory.ts): the WalDirectory contract in memory, and segmented logs
// and checkpoints on it. Runs with no permissions: `deno test tests/mem_directory_test.ts`.

import { deepEqual, equal, ok, throws } from "node:assert/strict";
import { MemDirectory, SegmentedStore, Snapshots, Wal, WalError } from "../mod.ts";

function isKind(kind: string): (error: unknown) => boolean {
  return (error) => error instanceof WalError && error.kind === kind;
}

Deno.test("MemDirectory: files are created, appended, read, cut, renamed and removed", () => {
  const dir = new MemDirectory("mem");
  equal(dir.path, "mem");
  deepEqual(dir.list(), []);
  throws(() => dir.open("a", false), (e) => e instanceof Error && e.name === "NotFound");
  const a = dir.open("a", true);
  a.append(new Uint8Array([1, 2, 3]));
  a.append(new Uint8Array(2000).fill(9));
  equal(a.size, 2003);
  equal(dir.sizeOf("a"), 2003);
  const buffer = new Uint8Array(5);
  equal(a.readAt(1, buffer), 5);
  deepEqual(buffer, new Uint8Array([2, 3, 9, 9, 9]));
  equal(a.readAt(2001, buffer), 2);
  equal(a.readAt(5000, buffer), 0);
  a.truncate(2);
  equal(a.size, 2);
  a.append(new Uint8Array([7]));
  deepEqual(dir.readFile("a"), new Uint8Array([1, 2, 7]));
  // A handle follows its file through a rename, like a descriptor does.
  dir.rename("a", "b");
  deepEqual(dir.list(), ["b"]);
  equal(dir.sizeOf("a"), undefined);
  a.append(new Uint8Array([8]));
  deepEqual(dir.readFile("b"), new Uint8Array([1, 2, 7, 8]));
  dir.writeFile("c", new Uint8Array([5]));
  dir.rename("c", "b"); // replaces b
  deepEqual(dir.readFile("b"), new Uint8Array([5]));
  dir.remove("b");
  deepEqual(dir.list(), []);
  throws(() => dir.remove("b"), (e) => e instanceof Error && e.name === "NotFound");
  throws(() => dir.rename("b", "c"), (e) => e instanceof Error && e.name === "NotFound");
  a.flushSync();
  a.close();
  throws(() => a.append(new Uint8Array(1)), isKind("closed"));
  dir.sync();
  equal(dir.durability, "memory (no durability)");
});

Deno.test("MemDirectory: a handle holds the lock; reopen shares the files once it is closed", () => {
  const dir = new MemDirectory();
  dir.writeFile("x", new Uint8Array([1]));
  throws(() => dir.reopen(), isKind("locked"));
  dir.close();
  dir.close(); // idempotent
  throws(() => dir.list(), isKind("closed"));
  const again = dir.reopen();
  deepEqual(again.readFile("x"), new Uint8Array([1]));
  equal(again.identity, dir.identity);
  throws(() => again.reopen(), isKind("locked"));
  ok(new MemDirectory().identity !== dir.identity);
  throws(() => new MemDirectory(3 as unknown as string), TypeError);
});

Deno.test("MemDirectory: a segmented log in memory reopens with its records and head", async () => {
  const dir = new MemDirectory();
  const wal = Wal.openSegmented(dir, 32);
  const lsns = [];
  for (let i = 0; i < 30; i++) lsns.push(wal.append(new Uint8Array(i % 7).fill(i)));
  await wal.sync();
  wal.truncateBefore(lsns[20]!);
  wal.close();
  ok(dir.closed, "the log closes the directory it owns");
  using again = Wal.openSegmented(dir.reopen(), 32);
  equal(again.head, lsns[20]);
  deepEqual([...again.iter()].map((e) => e.lsn), lsns.slice(20));
  equal(again.recovery.damage, undefined);
});

Deno.test("MemDirectory: the same log through SegmentedStore.open and Wal.withStore", async () => {
  const dir = new MemDirectory();
  {
    using wal = Wal.withStore(SegmentedStore.open(dir, 64));
    wal.append(new Uint8Array(100));
    await wal.sync();
  }
  using wal = Wal.openSegmented(dir.reopen(), 64);
  equal(wal.nextLsn, 108);
  // The handle the first log closed cannot be used again: reopen it.
  throws(() => Wal.openSegmented(dir, 64), isKind("closed"));
});

Deno.test("MemDirectory: a refused open closes the directory it was given", () => {
  const dir = new MemDirectory();
  throws(() => Wal.openSegmented(dir, 0), RangeError);
  ok(dir.closed);
  const again = dir.reopen();
  throws(() => Wal.openSegmented(again, 64, { maxRecordSize: -1 }), RangeError);
  ok(again.closed);
});

Deno.test("MemDirectory: a wrong segment size is refused, and the directory is released", () => {
  const dir = new MemDirectory();
  Wal.openSegmented(dir, 64).close();
  const again = dir.reopen();
  throws(() => Wal.openSegmented(again, 128), (e) => isKind("corruption")(e));
  ok(again.closed);
  Wal.openSegmented(again.reopen(), 64).close();
});

Deno.test("MemDirectory: checkpoints and a restart, with no permissions", async () => {
  const dir = new MemDirectory();
  {
    using wal = Wal.openSegmented(dir, 64);
    const snapshots = new Snapshots(dir);
    for (let i = 0; i < 50; i++) wal.append(new Uint8Array([i]));
    await snapshots.checkpoint(wal, new Uint8Array([50]), wal.nextLsn);
    wal.append(new Uint8Array([50]));
    await wal.sync();
  }
  const again = dir.reopen();
  using wal = Wal.openSegmented(again, 64);
  const restored = new Snapshots(again).load(wal);
  deepEqual(restored.data, new Uint8Array([50]));
  deepEqual([...wal.iterFrom(restored.lsn)].map((e) => e.data[0]), [50]);
});
