// Copyright 2026 the wal-db authors. MIT license.
// The WalStore contract, run against every backend this package ships.

import { deepEqual, equal } from "node:assert/strict";
import { join } from "node:path";
import { FileStore } from "../src/file_store.ts";
import { MemStore } from "../src/mem_store.ts";
import type { WalStore } from "../src/store.ts";
import { withTempDir } from "./_helpers.ts";

type Backend = { name: string; open: (dir: string) => WalStore };

const BACKENDS: Backend[] = [
  { name: "MemStore", open: () => new MemStore() },
  {
    name: "FileStore (runtime)",
    open: (dir) => FileStore.open(join(dir, "c.wal"), { durability: "runtime" }),
  },
  { name: "FileStore (auto)", open: (dir) => FileStore.open(join(dir, "c.wal")) },
];

for (const backend of BACKENDS) {
  Deno.test(`WalStore contract: ${backend.name}`, async (t) => {
    await withTempDir(async (dir) => {
      const store = backend.open(dir);
      try {
        await t.step("starts empty with head 0", () => {
          equal(store.size, 0);
          equal(store.head, 0);
        });
        await t.step("append advances size by exactly the bytes given", () => {
          store.append(new Uint8Array([1, 2, 3]));
          store.append(new Uint8Array(0));
          store.append(new Uint8Array([4, 5]));
          equal(store.size, 5);
        });
        await t.step("readAt reads any range and is short only past the end", () => {
          const buffer = new Uint8Array(4);
          equal(store.readAt(2, buffer), 3);
          deepEqual(buffer.subarray(0, 3), new Uint8Array([3, 4, 5]));
          equal(store.readAt(5, buffer), 0);
          equal(store.readAt(100, buffer), 0);
        });
        await t.step("append does not keep the caller's array", () => {
          const data = new Uint8Array([6, 7]);
          store.append(data);
          data.fill(0);
          const buffer = new Uint8Array(2);
          store.readAt(5, buffer);
          deepEqual(buffer, new Uint8Array([6, 7]));
        });
        await t.step(
          "flush and flushSync resolve, appends continue while a flush runs",
          async () => {
            store.flushSync();
            const flushing = store.flush();
            store.append(new Uint8Array([8]));
            await flushing;
            equal(store.size, 8);
          },
        );
        await t.step("truncate cuts and appends continue at the new end", () => {
          store.truncate(3);
          equal(store.size, 3);
          store.append(new Uint8Array([9]));
          const buffer = new Uint8Array(4);
          equal(store.readAt(0, buffer), 4);
          deepEqual(buffer, new Uint8Array([1, 2, 3, 9]));
        });
        await t.step("setAside returns a location and leaves the log as it was", () => {
          const where = store.setAside(2);
          equal(typeof where, "string");
          equal(store.size, 4);
        });
        await t.step("durability names the mechanism", () => {
          equal(typeof store.durability, "string");
          equal(store.durability.length > 0, true);
        });
      } finally {
        store.close();
        store.close();
      }
    });
  });
}
