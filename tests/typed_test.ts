// Copyright 2026 the wal-db authors. MIT license.

import { deepEqual, equal, ok, rejects, throws } from "node:assert/strict";
import { WalError } from "../src/errors.ts";
import { MemStore } from "../src/mem_store.ts";
import { type Codec, jsonCodec, TypedWal } from "../src/typed.ts";
import { Wal } from "../src/open.ts";

interface Change {
  op: "set" | "del";
  key: string;
  value?: number;
}

function isEncoding(lsn?: number) {
  return (e: unknown) =>
    e instanceof WalError && e.kind === "encoding" && (lsn === undefined || e.lsn === lsn);
}

Deno.test("jsonCodec() round-trips values and rejects bad input", () => {
  const codec = jsonCodec<unknown>();
  for (const value of [{ a: [1, "x", null] }, "text", 0, [], { nested: { deep: true } }]) {
    deepEqual(codec.decode(codec.encode(value)), value);
  }
  throws(() => codec.encode(undefined), TypeError);
  throws(() => codec.decode(new Uint8Array([0xff, 0xfe])));
  throws(() => codec.decode(new TextEncoder().encode("{not json")));
});

Deno.test("TypedWal appends values and iterates them with their LSNs, across a reopen", () => {
  const store = new MemStore();
  const wal = Wal.withStore(store);
  const log = wal.typed(jsonCodec<Change>());
  const changes: Change[] = [{ op: "set", key: "a", value: 1 }, { op: "del", key: "a" }];
  const lsns = [log.append(changes[0]!), ...log.appendBatch([changes[1]!])];
  deepEqual([...log.iter()], [{ lsn: lsns[0], value: changes[0] }, {
    lsn: lsns[1],
    value: changes[1],
  }]);
  deepEqual([...log.iterFrom(lsns[1]!)].map((e) => e.value), [changes[1]]);
  equal(log.wal, wal);
  wal.close();
  using again = Wal.withStore(new MemStore(store.bytes()));
  deepEqual([...again.typed(jsonCodec<Change>()).iter()].map((e) => e.value), changes);
});

Deno.test("TypedWal reports a record it cannot decode as encoding, with its LSN", () => {
  using wal = Wal.withStore(new MemStore());
  wal.append(new TextEncoder().encode('{"op":"set","key":"a"}'));
  const bad = wal.append(new TextEncoder().encode("not json at all"));
  const log = wal.typed(jsonCodec<Change>());
  const iterator = log.iter();
  equal(iterator.next().value?.value.key, "a");
  throws(() => iterator.next(), isEncoding(bad));
});

Deno.test("TypedWal reports a value its codec cannot encode, and writes nothing", () => {
  using wal = Wal.withStore(new MemStore());
  const log = wal.typed(jsonCodec<unknown>());
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  throws(() => log.append(cyclic), isEncoding());
  throws(() => log.appendBatch([1, cyclic]), isEncoding());
  const lying: Codec<number> = { encode: () => "nope" as unknown as Uint8Array, decode: () => 0 };
  throws(() => wal.typed(lying).append(1), isEncoding());
  equal(wal.nextLsn, 0);
});

Deno.test("TypedWal rejects a codec without encode and decode", () => {
  using wal = Wal.withStore(new MemStore());
  throws(() => new TypedWal(wal, {} as Codec<number>), TypeError);
});

Deno.test("TypedWal.tail() yields decoded values as they become durable", async () => {
  using wal = Wal.withStore(new MemStore());
  const log = wal.typed(jsonCodec<number>());
  const stop = new AbortController();
  const seen: number[] = [];
  const follower = (async () => {
    for await (const entry of log.tail(0, { signal: stop.signal })) {
      seen.push(entry.value);
      if (seen.length === 3) stop.abort();
    }
  })();
  log.appendBatch([1, 2, 3]);
  await wal.sync();
  await follower;
  deepEqual(seen, [1, 2, 3]);
  ok(stop.signal.aborted);
});

Deno.test("TypedWal: sync, syncSync, nextLsn, durableLsn, close and both disposers reach the log", async () => {
  const store = new MemStore();
  const log = Wal.withStore(store).typed(jsonCodec<number>());
  log.append(1);
  equal(log.nextLsn, log.wal.nextLsn);
  equal(log.durableLsn, 0);
  await log.sync();
  equal(log.durableLsn, log.nextLsn);
  log.append(2);
  log.syncSync();
  equal(log.durableLsn, log.nextLsn);
  log.close();
  await log.closed;
  throws(
    () => log.wal.append(new Uint8Array(1)),
    (e) => e instanceof WalError && e.kind === "closed",
  );
  {
    using scoped = Wal.withStore(new MemStore(store.bytes())).typed(jsonCodec<number>());
    deepEqual([...scoped.iter()].map((e) => e.value), [1, 2]);
  }
  const later = Wal.withStore(new MemStore(store.bytes())).typed(jsonCodec<number>());
  {
    await using scoped = later;
    scoped.append(3);
  }
  await rejects(later.sync(), (e) => e instanceof WalError && e.kind === "closed");
});
