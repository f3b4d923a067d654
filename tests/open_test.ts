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
