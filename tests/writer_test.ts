// Copyright 2026 the wal-db authors. MIT license.
// Tests for src/writer.ts: the write side of a log, and the epoch its truncations advance.

import { deepEqual, equal, ok, throws } from "node:assert/strict";
import { BoundaryIndex } from "../src/boundary_index.ts";
import { ChangeSignal } from "../src/change_signal.ts";
import { resolveConfig } from "../src/config.ts";
import { frameChecksum } from "../src/crc32c.ts";
import { Epoch } from "../src/epoch.ts";
import { WalError } from "../src/errors.ts";
import { MemStore } from "../src/mem_store.ts";
import { frame } from "../src/record.ts";
import { Writer } from "../src/writer.ts";
import { Wal } from "../src/open.ts";
import { SegmentedStore } from "../src/segmented_store.ts";
import { bytes } from "./_helpers.ts";
import { Rng } from "./_rng.ts";
import { CRASH_MODEL_LOSE_ALL, SimDirectory, SimDisk } from "./_sim_disk.ts";

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
  w.truncateAt(w.endOfRecord(first));
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

Deno.test("Writer: frames with the CRC its config names (the seam for a native CRC)", () => {
  const store = new MemStore();
  let calls = 0;
  const config = {
    ...resolveConfig(),
    checksum: (length: number, payload: Uint8Array) => (calls++, frameChecksum(length, payload)),
  };
  const w = new Writer(store, config, new BoundaryIndex(0), new Epoch(), new ChangeSignal());
  w.append(bytes("abc"));
  w.appendBatch([bytes("d"), bytes("ef")]);
  equal(calls, 3);
  // Same bytes as the portable CRC frames: a native CRC must agree with it.
  deepEqual(
    store.bytes(),
    new Uint8Array([...frame(bytes("abc")), ...frame(bytes("d")), ...frame(bytes("ef"))]),
  );
  // A CRC that disagrees shows in the bytes: the writer really uses the one it is given.
  const wrong = new MemStore();
  new Writer(
    wrong,
    { ...config, checksum: () => 0 },
    new BoundaryIndex(0),
    new Epoch(),
    new ChangeSignal(),
  )
    .append(bytes("abc"));
  deepEqual(Array.from(wrong.bytes().subarray(0, 4)), [0, 0, 0, 0]);
});

Deno.test("Writer: appends of changing sizes each write their own frame (the reused view)", () => {
  const { store, writer: w } = writer();
  const payloads = [bytes("a"), bytes("bb"), bytes("cc"), bytes(""), bytes("ddd"), bytes("a")];
  for (const payload of payloads) w.append(payload);
  deepEqual(store.bytes(), new Uint8Array(payloads.flatMap((p) => [...frame(p)])));
});

Deno.test("Writer: a blocking segmented cut that fails after its first step leaves the log ending at the cut, not the old durable end", () => {
  const disk = new SimDisk();
  const wal = Wal.withStore(SegmentedStore.open(SimDirectory.open(disk), 64));
  const lsns = Array.from({ length: 20 }, (_, i) => wal.append(bytes(`record ${i}`)));
  wal.syncSync();
  let faults = 1; // the removal of a segment after the cut one fails
  disk.faults = (op) => op.kind === "remove" && faults-- > 0 ? { code: "EIO" } : undefined;
  throws(() => wal.truncateFrom(lsns[3]!), (e: unknown) => {
    ok(e instanceof WalError && e.kind === "failed", String(e));
    ok(e.message.includes(`cut back to LSN ${lsns[3]}`), e.message);
    return true;
  });
  disk.faults = undefined;
  equal(wal.nextLsn, lsns[3]);
  equal(wal.durableLsn, lsns[3]);
  deepEqual([...wal.iter()].map((e) => e.lsn), lsns.slice(0, 3), "no damage read in this process");
  wal.close();
  using again = Wal.withStore(
    SegmentedStore.open(SimDirectory.open(disk.crash(new Rng(1), CRASH_MODEL_LOSE_ALL)), 64),
    { recoveryPolicy: "strict" },
  );
  deepEqual([...again.iter()].map((e) => e.lsn), lsns.slice(0, 3));
});

/** A MemStore that frames single appends itself, as FileStore does with the shim. */
class FramingStore extends MemStore {
  framed = 0;
  failNext = false;
  readonly appendFrame = (buffer: Uint8Array, payloadLength: number): void => {
    if (this.failNext) throw new Error("EIO: the device is gone");
    const payload = buffer.slice(8, 8 + payloadLength);
    this.framed++;
    // The payload the writer laid out at buffer[8], framed by the portable code.
    this.append(frame(payload));
  };
}

Deno.test("Writer: a store's appendFrame gets each single append's payload at [8], sized; batches use append", () => {
  const store = new FramingStore();
  const w = new Writer(
    store,
    resolveConfig(),
    new BoundaryIndex(0),
    new Epoch(),
    new ChangeSignal(),
  );
  const rng = new Rng(77);
  const payloads = [0, 1, 7, 8, 255, 1025, 4096, 70_000, 3].map((n) => rng.bytes(n));
  const lsns = payloads.map((p) => w.append(p));
  equal(store.framed, payloads.length);
  w.appendBatch([bytes("d"), bytes("ef")]);
  equal(store.framed, payloads.length, "a batch is framed by the writer and written once");
  deepEqual(
    store.bytes(),
    new Uint8Array([...payloads, bytes("d"), bytes("ef")].flatMap((p) => [...frame(p)])),
  );
  deepEqual(lsns.slice(1), lsns.slice(0, -1).map((lsn, i) => lsn + frame(payloads[i]!).length));
});

Deno.test("Writer: a throw from the store's appendFrame fails the log at the append's LSN", () => {
  const store = new FramingStore();
  using wal = Wal.withStore(store);
  const first = wal.append(bytes("kept"));
  wal.syncSync(); // a failed write cuts the log back to its durable end: keep the first
  store.failNext = true;
  throws(() => wal.append(bytes("lost")), (e: unknown) => {
    ok(e instanceof WalError && e.kind === "failed", String(e));
    ok(String((e as Error).cause).includes("EIO"), String((e as Error).cause));
    return true;
  });
  equal(wal.nextLsn, first + frame(bytes("kept")).length);
  throws(
    () => wal.append(bytes("after")),
    (e: unknown) => e instanceof WalError && e.kind === "failed",
  );
  deepEqual([...wal.iter()].map((e) => e.lsn), [first]);
});
