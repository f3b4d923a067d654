// Copyright 2026 the wal-db authors. MIT license.
// Issue 10, class 4: a failed flush never comes back as durable after a reopen in the same boot.
//
// Goal: after a flush fails, Linux keeps the bytes it could not write in the page cache, marked
// clean, and reports the error once. A reopen in the same boot must not read them back and call
// them durable: every record acknowledged after that reopen survives the next power loss.
// Method: fixed scenarios on the simulated disk (tests/_sim_disk.ts), which models that page
// cache, for each layout and each kind of flush; then stores whose cut fails too.

import { deepEqual, equal, ok, rejects, throws } from "node:assert/strict";
import { join } from "node:path";
import {
  FileStore,
  FsDirectory,
  MemStore,
  SegmentedStore,
  Wal,
  WalError,
  type WalStore,
} from "../mod.ts";
import { Rng } from "./_rng.ts";
import {
  CRASH_MODEL_LOSE_ALL,
  openSimLog,
  SIM_LAYOUTS,
  SimDirectory,
  SimDisk,
  type SimFault,
  type SimLayout,
  type SimOperationKind,
  SimStore,
} from "./_sim_disk.ts";
import { bytes, ForwardingStore, withTempDir } from "./_helpers.ts";

const SEGMENT_SIZE = 16;

type Layout = SimLayout;
const LAYOUTS = SIM_LAYOUTS;
type FlushKind = "sync" | "syncSync";
const FLUSH_KINDS: readonly FlushKind[] = ["sync", "syncSync"];

const open = (disk: SimDisk, layout: Layout): Wal => openSimLog(disk, layout, SEGMENT_SIZE);

/** Fails the next operation of `kind` (on a file whose name matches), once. */
function failNext(
  disk: SimDisk,
  kind: SimOperationKind,
  fault: SimFault = { code: "EIO" },
  name: RegExp = /.*/,
): void {
  let done = false;
  disk.faults = (operation) => {
    if (done || operation.kind !== kind || !name.test(operation.name)) return undefined;
    done = true;
    return fault;
  };
}

const failed = (e: unknown) => e instanceof WalError && e.kind === "failed";

function payloads(wal: Wal): string[] {
  return [...wal.iter()].map((e) => new TextDecoder().decode(e.data));
}

async function flushFails(wal: Wal, kind: FlushKind): Promise<WalError> {
  if (kind === "syncSync") {
    let error: unknown;
    throws(() => wal.syncSync(), (e) => (error = e, failed(e)));
    return error as WalError;
  }
  let error: unknown;
  await rejects(wal.sync(), (e) => (error = e, failed(e)));
  return error as WalError;
}

for (const layout of LAYOUTS) {
  for (const kind of FLUSH_KINDS) {
    Deno.test(`${layout}, ${kind}: a record acknowledged after a reopen that follows a failed flush survives a power loss`, async () => {
      const disk = new SimDisk();
      const wal = open(disk, layout);
      wal.append(bytes("synced before"));
      await wal.sync();
      wal.append(bytes("its flush fails"));
      failNext(disk, "flush");
      await flushFails(wal, kind);
      disk.faults = undefined;
      wal.close();
      // The failure message says to reopen; in the same boot the page cache still holds the
      // bytes the failed flush did not write.
      const reopened = open(disk, layout);
      equal(reopened.durableLsn, reopened.nextLsn);
      reopened.append(bytes("acknowledged after the reopen"));
      await reopened.sync();
      const acknowledged = payloads(reopened);
      reopened.close();
      using after = open(disk.crash(new Rng(0), CRASH_MODEL_LOSE_ALL), layout);
      deepEqual(payloads(after), acknowledged, "every acknowledged record survives");
      ok(payloads(after).includes("acknowledged after the reopen"));
    });
  }
}

for (const layout of LAYOUTS) {
  Deno.test(`${layout}: a failed flush cuts the live log back to its durable end`, async () => {
    const disk = new SimDisk();
    using wal = open(disk, layout);
    wal.append(bytes("synced"));
    await wal.sync();
    const durable = wal.durableLsn;
    wal.append(bytes("never durable"));
    failNext(disk, "flush");
    const error = await flushFails(wal, "sync");
    equal(wal.nextLsn, durable, "the unsynced record is cut off");
    equal(wal.durableLsn, durable);
    deepEqual(payloads(wal), ["synced"]);
    equal(disk.holdsUnwrittenCache, false, "no byte a failed flush left is readable");
    ok(error.message.includes(`cut back to LSN ${durable}`), error.message);
    ok(!error.message.includes("recovers every record"), "no promise the cut does not keep");
  });

  Deno.test(`${layout}: when the cut fails too, a reopen in this process retries it, and refuses while it fails`, async () => {
    const disk = new SimDisk();
    const wal = open(disk, layout);
    wal.append(bytes("synced"));
    await wal.sync();
    const durable = wal.durableLsn;
    wal.append(bytes("its flush fails"));
    let flushes = 0;
    disk.faults = (operation) =>
      operation.kind === "flush" && flushes++ < 2 ? { code: "EIO" } : undefined;
    const error = await flushFails(wal, "sync");
    equal(flushes, 2, "the sync's flush and the cut's flush both failed");
    ok(error.message.includes("failed too"), error.message);
    wal.close();
    // Read-only: it cannot cut, and would read bytes that are not on disk.
    throws(
      () => Wal.withStore(readOnlyOf(disk, layout), { readOnly: true }),
      (e) => failed(e) && (e as WalError).lsn === durable,
    );
    failNext(disk, "flush");
    throws(() => open(disk, layout), (e) => failed(e) && (e as WalError).lsn === durable);
    ok(!disk.locked, "the refused open released the lock");
    disk.faults = undefined;
    const reopened = open(disk, layout);
    equal(reopened.nextLsn, durable, "the retried cut dropped what the failed flush left");
    reopened.append(bytes("acknowledged after"));
    await reopened.sync();
    reopened.close();
    using after = open(disk.crash(new Rng(0), CRASH_MODEL_LOSE_ALL), layout);
    deepEqual(payloads(after), ["synced", "acknowledged after"]);
  });

  Deno.test(`${layout}: a flush that fails while the log is opened refuses later opens in this process`, () => {
    const disk = new SimDisk();
    const crashed = open(disk, layout);
    crashed.append(bytes("in the page cache only"));
    disk.kill(); // a new process opens the log and flushes what the old one left
    failNext(disk, "flush");
    throws(() => open(disk, layout), (e) => e instanceof WalError);
    disk.faults = undefined;
    throws(() => open(disk, layout), (e) => failed(e) && (e as WalError).lsn === undefined);
    throws(() => Wal.withStore(readOnlyOf(disk, layout), { readOnly: true }), failed);
    ok(!disk.locked);
  });
}

Deno.test("segmented: an append whose rotation flush fails cuts the log back too", () => {
  const disk = new SimDisk();
  using wal = open(disk, "segmented");
  wal.append(bytes("synced"));
  wal.syncSync();
  const durable = wal.durableLsn;
  // Each 16-byte segment fills up; past 8 unflushed ones, a rotation flushes the oldest.
  failNext(disk, "flush");
  throws(() => {
    for (let i = 0; i < 40; i++) wal.append(new Uint8Array(16).fill(i));
  }, failed);
  equal(wal.nextLsn, durable);
  equal(disk.holdsUnwrittenCache, false);
});

Deno.test("a process killed after a failed flush whose cut also failed leaves unwritten bytes in the cache", async () => {
  // The residual risk docs/DURABILITY.md states: a new process cannot know of them.
  const disk = new SimDisk();
  const wal = open(disk, "single file");
  wal.append(bytes("synced"));
  await wal.sync();
  wal.append(bytes("its flush fails"));
  disk.faults = (operation) =>
    operation.kind === "flush" || operation.kind === "truncate" ? { code: "EIO" } : undefined;
  await flushFails(wal, "syncSync");
  ok(disk.holdsUnwrittenCache);
  disk.kill();
  disk.faults = undefined;
  using reopened = open(disk, "single file");
  deepEqual(payloads(reopened), ["synced", "its flush fails"], "the new process reads them back");
});

/** A store whose flushes fail and which has no `discardUnflushed`: a third-party store. */
class PlainStore extends MemStore {
  failFlushes = false;
  truncations: number[] = [];
  override flushSync(): void {
    if (this.failFlushes) throw new Error("EIO");
    super.flushSync();
  }
  override truncate(size: number): void {
    this.truncations.push(size);
    super.truncate(size);
  }
}
Object.defineProperty(PlainStore.prototype, "discardUnflushed", { value: undefined });

Deno.test("a store without discardUnflushed is cut back with truncate", () => {
  const store = new PlainStore();
  using wal = Wal.withStore(store);
  wal.append(bytes("synced"));
  wal.syncSync();
  const durable = wal.durableLsn;
  wal.append(bytes("not synced"));
  store.failFlushes = true;
  throws(() => wal.syncSync(), failed);
  deepEqual(store.truncations, [durable]);
  equal(wal.nextLsn, durable);
});

Deno.test("the simulated disk: a failed flush leaves clean unwritten bytes; a truncate drops them; a new descriptor is not told of the old error", async () => {
  const disk = new SimDisk();
  const store = SimStore.open(disk);
  store.append(bytes("durable"));
  store.flushSync();
  store.append(bytes("cached, and its write-back fails"));
  failNext(disk, "flush");
  await rejects(store.flush()); // the background descriptor takes the error
  ok(disk.holdsUnwrittenCache, "readable bytes that no flush will write");
  await store.flush(); // the same descriptor: the error was reported once
  ok(disk.holdsUnwrittenCache, "a later flush that succeeds does not write them");
  store.discardUnflushed(bytes("durable").length); // flushes through a new descriptor
  equal(disk.holdsUnwrittenCache, false, "the truncate dropped them");
  throws(() => store.flushSync(), /earlier write-back failed/, "the blocking one is told once");
  store.close();
  const after = SimStore.open(disk.crash(new Rng(0), CRASH_MODEL_LOSE_ALL));
  equal(after.size, bytes("durable").length, "the cut is durable");
  after.close();
});

function readOnlyOf(disk: SimDisk, layout: Layout): WalStore {
  return layout === "single file"
    ? SimStore.open(disk)
    : SegmentedStore.open(SimDirectory.open(disk), SEGMENT_SIZE, { readOnly: true });
}

for (const durability of ["auto", "runtime"] as const) {
  Deno.test(`FileStore (${durability}): discardUnflushed cuts the file, reserve included, and appends go on there`, async () => {
    await withTempDir((dir) => {
      const path = join(dir, "d.wal");
      const store = FileStore.open(path, { durability });
      store.append(new Uint8Array([1, 2, 3]));
      store.flushSync();
      store.append(new Uint8Array([4, 5, 6, 7]));
      store.discardUnflushed(3);
      equal(store.size, 3);
      equal(Deno.statSync(path).size, 3, "no byte past the cut, and no reserved zeros");
      store.append(new Uint8Array([9]));
      store.close();
      deepEqual(Deno.readFileSync(path), new Uint8Array([1, 2, 3, 9]));
    });
  });
}

Deno.test("FileStore and FsDirectory identities follow the file, not the path", async () => {
  await withTempDir((dir) => {
    const path = join(dir, "i.wal");
    const link = join(dir, "link.wal");
    const first = FileStore.open(path, { durability: "runtime" });
    const identity = first.identity;
    first.close();
    Deno.symlinkSync(path, link);
    const viaLink = FileStore.open(link, { durability: "runtime" });
    equal(viaLink.identity, identity);
    viaLink.close();
    const other = FileStore.open(join(dir, "other.wal"), { durability: "runtime" });
    ok(other.identity !== identity);
    other.close();
    const segments = join(dir, "segments");
    const directory = FsDirectory.open(segments, { durability: "runtime" });
    const directoryIdentity = directory.identity;
    directory.close();
    Deno.symlinkSync(segments, join(dir, "segments-link"));
    const viaDirectoryLink = FsDirectory.open(join(dir, "segments-link"), {
      durability: "runtime",
    });
    equal(viaDirectoryLink.identity, directoryIdentity);
    viaDirectoryLink.close();
  });
});

/** A file store whose flushes fail, and whose cut fails, while `failing` is set. */
class FailingFileStore extends ForwardingStore {
  failing = true;
  override flushSync(): void {
    if (this.failing) throw new Error("EIO (injected)");
    super.flushSync();
  }
  override discardUnflushed(size: number): void {
    if (this.failing) throw new Error("EIO (injected)");
    super.discardUnflushed(size);
  }
}

Deno.test("a real log whose cut failed is cut when reopened in this process, by any path to the file", async () => {
  await withTempDir((dir) => {
    const path = join(dir, "r.wal");
    const link = join(dir, "r-link.wal");
    const store = new FailingFileStore(FileStore.open(path, { durability: "runtime" }));
    store.failing = false;
    const wal = Wal.withStore(store);
    wal.append(bytes("synced"));
    wal.syncSync();
    const durable = wal.durableLsn;
    wal.append(bytes("its flush fails"));
    store.failing = true;
    throws(() => wal.syncSync(), failed);
    equal(Deno.statSync(path).size > durable, true, "the cut failed: the bytes are still there");
    wal.close();
    Deno.symlinkSync(path, link);
    throws(
      () => Wal.open(link, { readOnly: true }),
      (e) => failed(e) && (e as WalError).lsn === durable,
    );
    const reopened = Wal.open(link, { durability: "runtime" });
    equal(reopened.nextLsn, durable);
    equal(Deno.statSync(path).size, durable, "cut before the recovery scan");
    deepEqual(payloads(reopened), ["synced"]);
    reopened.close();
  });
});
