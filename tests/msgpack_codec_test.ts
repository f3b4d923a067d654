// Copyright 2026 the wal-db authors. MIT license.

import { deepEqual, equal, throws } from "node:assert/strict";
import { WalError } from "../src/errors.ts";
import { MemStore } from "../src/mem_store.ts";
import { msgpackCodec } from "../src/msgpack_codec.ts";
import { Wal } from "../src/open.ts";

Deno.test("msgpackCodec() round-trips values, binary data included", () => {
  const codec = msgpackCodec<unknown>();
  for (
    const value of [
      { a: 1, b: [true, null, "x"] },
      new Uint8Array([0, 255, 7]),
      -12345,
      "text",
      { nested: { list: [1.5, 2] } },
    ]
  ) {
    deepEqual(codec.decode(codec.encode(value)), value);
  }
});

Deno.test("msgpackCodec() rejects truncated, trailing and garbage bytes", () => {
  const codec = msgpackCodec<unknown>();
  const good = codec.encode({ key: "value" });
  throws(() => codec.decode(good.subarray(0, good.length - 1)));
  throws(() => codec.decode(new Uint8Array([...good, 0x01])));
  throws(() => codec.decode(new Uint8Array([0xc1])));
});

Deno.test("msgpackCodec() through a typed log reports bad records as encoding with the LSN", () => {
  using wal = Wal.withStore(new MemStore());
  const log = wal.typed(msgpackCodec<{ n: number }>());
  log.append({ n: 1 });
  const bad = wal.append(new Uint8Array([0xc1]));
  const iterator = log.iter();
  equal(iterator.next().value?.value.n, 1);
  throws(
    () => iterator.next(),
    (e: unknown) => e instanceof WalError && e.kind === "encoding" && e.lsn === bad,
  );
});
