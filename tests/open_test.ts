// Copyright 2026 the wal-db authors. MIT license.
// Tests for src/open.ts: the factories and the recovery wiring.

import { equal, throws } from "node:assert/strict";
import { MemStore } from "../src/mem_store.ts";
import { Wal } from "../src/open.ts";
import type { WalStore } from "../src/store.ts";
import { bytes, logImage } from "./_helpers.ts";

Deno.test("Wal.withStore checks the store's methods and recovers what it holds", () => {
  throws(() => Wal.withStore(null as unknown as WalStore), TypeError);
  throws(() => Wal.withStore({ readAt() {} } as unknown as WalStore), /no append\(\) method/);
  const image = logImage([bytes("one"), bytes("two")]);
  using wal = Wal.withStore(new MemStore(image));
  equal(wal.nextLsn, image.length);
  equal(wal.recovery.endLsn, image.length);
  equal(
    [
      ...wal.typed({
        encode: (v: string) => bytes(v),
        decode: (b) => new TextDecoder().decode(b),
      }).iter(),
    ].length,
    2,
  );
});

Deno.test("Wal.openSegmented rejects a segment size that is not a positive integer", () => {
  throws(() => Wal.openSegmented("unused", 0), RangeError);
  throws(() => Wal.openSegmented("unused", 1.5), RangeError);
});

Deno.test("the open reports its scan's progress once per MiB, and never for a small log", () => {
  const payload = new Uint8Array(100 * 1024 - 8);
  const image = logImage(Array.from({ length: 35 }, () => payload)); // 35 × 100 KiB
  const calls: [number, number][] = [];
  Wal.withStore(new MemStore(image), {
    onRecoveryProgress: (scanned, total) => calls.push([scanned, total]),
  }).close();
  // Records start every 100 KiB: the first at or past each MiB step after the last report.
  const step = 1024 * 1024;
  const expected: [number, number][] = [];
  let next = step;
  for (let lsn = 0; lsn < image.length; lsn += 100 * 1024) {
    if (lsn >= next) {
      expected.push([lsn, image.length]);
      next = lsn + step;
    }
  }
  equal(JSON.stringify(calls), JSON.stringify(expected));
  equal(calls.length, 3);
  const small: number[] = [];
  Wal.withStore(new MemStore(logImage([bytes("a")])), {
    onRecoveryProgress: (scanned) => small.push(scanned),
  }).close();
  equal(small.length, 0);
});
