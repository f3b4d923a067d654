// Copyright 2026 the wal-db authors. MIT license.

import { deepEqual, equal, throws } from "node:assert/strict";
import { MemStore } from "../src/mem_store.ts";

Deno.test("MemStore.append() grows the store and readAt() reads back, short past the end", () => {
  const store = new MemStore();
  store.append(new Uint8Array([1, 2, 3]));
  store.append(new Uint8Array(5000).fill(7));
  equal(store.size, 5003);
  const buffer = new Uint8Array(10);
  equal(store.readAt(4998, buffer), 5);
  deepEqual(buffer.subarray(0, 5), new Uint8Array(5).fill(7));
  equal(store.readAt(5003, buffer), 0);
});

Deno.test("MemStore copies its initial bytes, so the caller's array is not shared", () => {
  const initial = new Uint8Array([1, 2, 3]);
  const store = new MemStore(initial);
  initial[0] = 9;
  deepEqual(store.bytes(), new Uint8Array([1, 2, 3]));
});

Deno.test("MemStore.truncate() cuts and setAside() keeps a copy under a unique name", () => {
  const store = new MemStore(new Uint8Array([1, 2, 3, 4]));
  equal(store.setAside(2), "damaged-2");
  equal(store.setAside(2), "damaged-2.1");
  store.truncate(2);
  deepEqual(store.bytes(), new Uint8Array([1, 2]));
  deepEqual(store.setAsideCopies.get("damaged-2"), new Uint8Array([3, 4]));
});

Deno.test("MemStore counts flushes, sync and async", async () => {
  const store = new MemStore();
  store.flushSync();
  await store.flush();
  equal(store.flushCount, 2);
});

Deno.test("MemStore rejects initial bytes that are not a Uint8Array", () => {
  throws(() => new MemStore([1, 2] as unknown as Uint8Array), TypeError);
});
