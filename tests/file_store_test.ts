// Copyright 2026 the wal-db authors. MIT license.

import { deepEqual, equal, throws } from "node:assert/strict";
import { join } from "node:path";
import { FileStore } from "../src/file_store.ts";
import { sidecarLockPath } from "../src/file_lock.ts";
import { WalError } from "../src/errors.ts";
import { Wal } from "../src/open.ts";
import { readBytes, withTempDir } from "./_helpers.ts";

function isKind(kind: string) {
  return (e: unknown) => e instanceof WalError && e.kind === kind;
}

Deno.test("FileStore.open() creates a missing file and reopens an existing one", async () => {
  await withTempDir((dir) => {
    const path = join(dir, "a.wal");
    const store = FileStore.open(path, { durability: "runtime" });
    equal(store.size, 0);
    store.append(new Uint8Array([1, 2, 3]));
    store.flushSync();
    store.close();
    const again = FileStore.open(path, { durability: "runtime" });
    equal(again.size, 3);
    again.close();
  });
});

Deno.test("FileStore reads with its own handle while appending at the end", async () => {
  await withTempDir(async (dir) => {
    const store = FileStore.open(join(dir, "rw.wal"), { durability: "runtime" });
    store.append(new Uint8Array([1, 2, 3, 4, 5]));
    const buffer = new Uint8Array(3);
    equal(store.readAt(1, buffer), 3);
    deepEqual(buffer, new Uint8Array([2, 3, 4]));
    store.append(new Uint8Array([6]));
    equal(store.readAt(4, buffer), 2);
    deepEqual(buffer.subarray(0, 2), new Uint8Array([5, 6]));
    equal(store.readAt(6, buffer), 0);
    await store.flush();
    store.close();
  });
});

Deno.test("FileStore.truncate() cuts the file and appends continue at the new end", async () => {
  await withTempDir((dir) => {
    const path = join(dir, "t.wal");
    const store = FileStore.open(path, { durability: "runtime" });
    store.append(new Uint8Array([1, 2, 3, 4]));
    store.truncate(2);
    store.append(new Uint8Array([9]));
    store.close();
    deepEqual(readBytes(path), new Uint8Array([1, 2, 9]));
  });
});

Deno.test("FileStore.setAside() copies the tail to a sibling file with a unique name", async () => {
  await withTempDir((dir) => {
    const path = join(dir, "s.wal");
    const store = FileStore.open(path, { durability: "runtime" });
    const content = new Uint8Array(3 * 1024 * 1024 + 17).map((_, i) => i % 251);
    store.append(content);
    equal(store.setAside(5), `${path}.damaged-5`);
    equal(store.setAside(5), `${path}.damaged-5.1`);
    deepEqual(readBytes(`${path}.damaged-5`), content.subarray(5));
    store.close();
  });
});

Deno.test("FileStore.open() holds an exclusive lock until close", async () => {
  await withTempDir((dir) => {
    const path = join(dir, "l.wal");
    const store = FileStore.open(path, { durability: "runtime" });
    throws(() => FileStore.open(path, { durability: "runtime" }), isKind("locked"));
    store.close();
    store.close();
    FileStore.open(path, { durability: "runtime" }).close();
  });
});

// The Windows lock path, run here: the lock lives in a file beside the log, never on the log.
Deno.test("FileStore with a sidecar lock excludes writers and readers, not the log's bytes", async (t) => {
  await withTempDir(async (dir) => {
    const path = join(dir, "w.wal");
    const runtime = { durability: "runtime" } as const;
    const sidecar = (p: string, options = {}) =>
      FileStore.openWithLockOn(p, { ...runtime, ...options }, "sidecar");

    await t.step("a reader that comes first creates the lock file and keeps a writer out", () => {
      Deno.writeFileSync(path, new Uint8Array([7]));
      const reader = sidecar(path, { readOnly: true });
      equal(reader.size, 1);
      throws(() => sidecar(path), isKind("locked"));
      reader.close();
      equal(Deno.statSync(sidecarLockPath(path)).isFile, true);
    });

    await t.step("a writer locks the lock file and leaves the log file unlocked", () => {
      const writer = sidecar(path);
      writer.append(new Uint8Array([8]));
      const raw = Deno.openSync(path, { read: true });
      try {
        equal(raw.tryLockSync(true), true, "the log file itself is not locked");
        raw.unlockSync();
      } finally {
        raw.close();
      }
      throws(() => sidecar(path), isKind("locked"));
      throws(() => sidecar(path, { readOnly: true }), isKind("locked"));
      const follower = sidecar(path, { readOnly: true, lock: "none" });
      const buffer = new Uint8Array(2);
      equal(follower.readAt(0, buffer), 2);
      deepEqual(buffer, new Uint8Array([7, 8]));
      follower.close();
      writer.close();
      equal(Deno.statSync(sidecarLockPath(path)).isFile, true, "the lock file outlives the writer");
    });

    await t.step("a symlink to the log takes the same lock", () => {
      const link = join(dir, "link.wal");
      Deno.symlinkSync(path, link);
      const writer = sidecar(path);
      throws(() => sidecar(link), isKind("locked"));
      writer.close();
      sidecar(link).close();
    });

    await t.step("readers share the lock and keep a writer out", () => {
      const first = sidecar(path, { readOnly: true });
      const second = sidecar(path, { readOnly: true });
      throws(() => sidecar(path), isKind("locked"));
      first.close();
      second.close();
      sidecar(path).close();
    });
  });
});

Deno.test("FileStore with the log locked itself creates no lock file", async () => {
  await withTempDir((dir) => {
    const path = join(dir, "u.wal");
    const store = FileStore.openWithLockOn(path, { durability: "runtime" }, "log");
    store.close();
    deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["u.wal"]);
  });
});

Deno.test("FileStore.open() on a directory or in a missing folder throws io", async () => {
  await withTempDir((dir) => {
    throws(() => FileStore.open(dir, { durability: "runtime" }), isKind("io"));
    throws(
      () => FileStore.open(join(dir, "no", "such.wal"), { durability: "runtime" }),
      isKind("io"),
    );
    throws(() => FileStore.open("", { durability: "runtime" }), TypeError);
  });
});

Deno.test({
  name: "FileStore.open() without write permission surfaces NotCapable unchanged",
  permissions: { read: true, write: false, env: true },
  fn() {
    throws(
      () => FileStore.open("/tmp/wal_no_write.wal", { durability: "runtime" }),
      Deno.errors.NotCapable,
    );
  },
});

const FFI_GRANTED = Deno.permissions.querySync({ name: "ffi" }).state === "granted";

Deno.test({
  name: "FileStore reserves space ahead of the log and a clean close cuts it off",
  ignore: !FFI_GRANTED, // preallocation goes through the native shim
  fn: () =>
    withTempDir((dir) => {
      const path = join(dir, "p.wal");
      const store = FileStore.open(path, { durability: "shim", preallocateSize: 4096 });
      store.append(new Uint8Array(100).fill(1));
      equal(store.size, 100);
      equal(Deno.statSync(path).size, 4096, "the file holds the reserve");
      store.append(new Uint8Array(5000).fill(2));
      equal(Deno.statSync(path).size, 8192);
      const buffer = new Uint8Array(10);
      equal(store.readAt(5095, buffer), 5, "reads stop at the log's end, not the file's");
      store.close();
      equal(Deno.statSync(path).size, 5100);
    }),
});

Deno.test("FileStore with the runtime flush does not preallocate: the file is the log", async () => {
  await withTempDir((dir) => {
    const path = join(dir, "rt.wal");
    const store = FileStore.open(path, { durability: "runtime", preallocateSize: 4096 });
    store.append(new Uint8Array(100));
    equal(Deno.statSync(path).size, 100);
    store.close();
  });
});

Deno.test("FileStore with preallocateSize 0 keeps the file exactly as long as the log", async () => {
  await withTempDir((dir) => {
    const path = join(dir, "p0.wal");
    const store = FileStore.open(path, { preallocateSize: 0 });
    store.append(new Uint8Array(100));
    equal(Deno.statSync(path).size, 100);
    store.close();
    throws(() => FileStore.open(path, { preallocateSize: -1 }), RangeError);
    throws(() => FileStore.open(path, { preallocateSize: 1.5 }), RangeError);
  });
});

Deno.test({
  name: "Wal recovers a preallocated log left by a crash: the reserve is reported and cut",
  ignore: !FFI_GRANTED,
  fn: () =>
    withTempDir((dir) => {
      const path = join(dir, "crash.wal");
      const wal = Wal.open(path, { durability: "shim" });
      for (let i = 0; i < 10; i++) wal.append(new Uint8Array(50).fill(i));
      wal.syncSync();
      // What a crash leaves: the file as it is while the log is open, reserve included.
      const image = readBytes(path);
      wal.close();
      equal(image.length, 1024 * 1024);
      Deno.writeFileSync(path, image);
      using again = Wal.open(path);
      equal(again.recovery.recordCount, 10);
      equal(again.nextLsn, 580);
      equal(again.recovery.damage, undefined);
      equal(again.recovery.reserveSize, 1024 * 1024 - 580);
      equal(again.recovery.cutSize, 0);
      equal(readBytes(path).length, 580);
    }),
});
