// Copyright 2026 the wal-db authors. MIT license.

import { deepEqual, equal, ok, rejects, throws } from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { embeddedShimTarget } from "../ffi/mod.ts";
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

Deno.test("FileStore.truncateAsync() leaves the file truncate() does, with or without the shim and a reserve", async () => {
  await withTempDir(async (dir) => {
    for (const durability of ["runtime", "auto"] as const) {
      const files: Uint8Array[] = [];
      for (const asynchronous of [false, true]) {
        const path = join(dir, `${durability}-${asynchronous}.wal`);
        const store = FileStore.open(path, { durability, preallocateSize: 4096 });
        store.append(new Uint8Array([1, 2, 3, 4, 5, 6]));
        store.flushSync();
        if (asynchronous) await store.truncateAsync(2);
        else store.truncate(2);
        equal(store.size, 2);
        store.append(new Uint8Array([9]));
        store.close();
        files.push(readBytes(path));
      }
      deepEqual(files, [new Uint8Array([1, 2, 9]), new Uint8Array([1, 2, 9])], durability);
    }
  });
});

Deno.test("FileStore: append and truncate after close throw closed, in both write modes", async () => {
  await withTempDir(async (dir) => {
    for (const durability of ["runtime", "auto"] as const) {
      const path = join(dir, `${durability}.wal`);
      const store = FileStore.open(path, { durability });
      store.append(new Uint8Array([1, 2, 3]));
      store.close();
      throws(() => store.append(new Uint8Array([4])), isKind("closed"), durability);
      throws(() => store.truncate(1), isKind("closed"), durability);
      await rejects(store.truncateAsync(1), isKind("closed"), durability);
      deepEqual(readBytes(path), new Uint8Array([1, 2, 3]), durability);
    }
  });
});

Deno.test({
  name: "FileStore.setAside(): the copy keeps the log's permission bits",
  ignore: Deno.build.os === "windows",
  fn: async () => {
    await withTempDir((dir) => {
      for (const mode of [0o600, 0o640]) {
        const path = join(dir, `m${mode.toString(8)}.wal`);
        Deno.writeFileSync(path, new Uint8Array(0));
        Deno.chmodSync(path, mode);
        const store = FileStore.open(path, { durability: "runtime" });
        store.append(new Uint8Array([1, 2, 3, 4]));
        const copy = store.setAside(1);
        store.close();
        equal(Deno.statSync(copy).mode! & 0o777, mode, copy);
      }
    });
  },
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

const SHIM_USABLE = Deno.permissions.querySync({ name: "ffi" }).state === "granted" &&
  embeddedShimTarget() !== undefined;

Deno.test("FileStore.writeCall is FsFile.writeSync without the shim", async () => {
  await withTempDir((dir) => {
    const store = FileStore.open(join(dir, "a.wal"), { durability: "runtime" });
    equal(store.writeCall, "FsFile.writeSync");
    store.close();
  });
});

/** Appends, cuts, appends again, reopens and appends: what each write path must agree on. */
function appendScript(path: string, durability: "shim" | "runtime", preallocateSize: number) {
  const lsns: number[] = [];
  // Lengths from 0 to ~5 KiB: the shim frames them itself (appendFrame), in one call.
  const record = (i: number) => new Uint8Array(i * 53 % 5000).fill(i);
  {
    using wal = Wal.open(path, { durability, preallocateSize });
    for (let i = 0; i < 200; i++) lsns.push(wal.append(record(i)));
    lsns.push(...wal.appendBatch([record(1), record(2), record(3)]));
    wal.truncateFrom(lsns[150]!); // appends go on at the cut, not where the handle was
    for (let i = 0; i < 20; i++) lsns.push(wal.append(record(i + 500)));
    wal.syncSync();
  }
  {
    using wal = Wal.open(path, { durability, preallocateSize });
    for (let i = 0; i < 20; i++) lsns.push(wal.append(record(i + 900)));
    lsns.push(wal.nextLsn, [...wal.iter()].length);
  }
  return { lsns, bytes: Deno.readFileSync(path) };
}

Deno.test({
  name: "FileStore appends through the shim's pwrite and writes the same file as FsFile.writeSync",
  ignore: !SHIM_USABLE,
  async fn() {
    await withTempDir((dir) => {
      const store = FileStore.open(join(dir, "probe.wal"), { durability: "shim" });
      equal(store.writeCall, "pwrite via shim");
      equal(typeof store.appendFrame, "function", "the shim frames single appends");
      store.close();
      const plain = FileStore.open(join(dir, "plain.wal"), { durability: "runtime" });
      equal(plain.appendFrame, undefined, "without the shim the log frames and appends");
      plain.close();
      // With and without preallocation: the shim writes at the log's end either way.
      for (const preallocateSize of [0, 4096]) {
        const shim = appendScript(
          join(dir, `shim-${preallocateSize}.wal`),
          "shim",
          preallocateSize,
        );
        const runtime = appendScript(
          join(dir, `runtime-${preallocateSize}.wal`),
          "runtime",
          preallocateSize,
        );
        deepEqual(shim.lsns, runtime.lsns);
        deepEqual(shim.bytes, runtime.bytes);
      }
    });
  },
});

Deno.test({
  name: "FileStore's shim appends are in the file when append returns (before any flush)",
  ignore: !SHIM_USABLE,
  async fn() {
    await withTempDir((dir) => {
      const path = join(dir, "a.wal");
      const store = FileStore.open(path, { durability: "shim", preallocateSize: 0 });
      store.append(new Uint8Array([1, 2, 3]));
      store.append(new Uint8Array([4]));
      // Another handle sees them: they are in the page cache, which is the append's promise.
      deepEqual([...Deno.readFileSync(path)], [1, 2, 3, 4]);
      equal(store.size, 4);
      store.close();
    });
  },
});

/**
 * Builds the shim from shim/*.c with a `pwrite` that follows a script (a step > 0 writes at most
 * that many bytes, 0 writes nothing, < 0 fails with that errno), so the write path's handling of
 * short writes, EINTR and errors runs against the real C code and FileStore. Linux and `cc`
 * only; -Bsymbolic makes the library's own calls take its `pwrite64`, not libc's.
 */
async function scriptedShim(dir: string, flags: string[] = []): Promise<string | undefined> {
  const fake = join(dir, "fake_pwrite.c");
  await Deno.writeTextFile(
    fake,
    `#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>
static int32_t steps[64], count, next, calls;
void fake_script(const int32_t *script, int32_t n) {
  count = n;
  for (int32_t i = 0; i < n; i++) steps[i] = script[i];
  next = 0;
  calls = 0;
}
int32_t fake_calls(void) { return calls; }
ssize_t pwrite64(int fd, const void *data, size_t length, off_t offset) {
  calls++;
  if (next < count) {
    int32_t step = steps[next++];
    if (step < 0) { errno = -step; return -1; }
    if (step == 0) return 0;
    if ((size_t)step < length) length = (size_t)step;
  }
  return syscall(SYS_pwrite64, fd, data, length, offset);
}
ssize_t pwrite(int fd, const void *data, size_t length, off_t offset) {
  return pwrite64(fd, data, length, offset);
}
`,
  );
  const shim = fileURLToPath(new URL("../shim/", import.meta.url));
  const library = join(dir, `libscripted${flags.join("")}.so`);
  const sources = [join(shim, "wal_shim.c"), join(shim, "wal_crc32c.c"), fake];
  const args = [
    "-O2",
    "-shared",
    "-fPIC",
    "-Wl,-Bsymbolic",
    ...flags,
    `-I${shim}`,
    "-o",
    library,
    ...sources,
  ];
  try {
    const { success } = await new Deno.Command("cc", { args, stdout: "null" }).output();
    return success ? library : undefined;
  } catch {
    return undefined; // no C compiler
  }
}

const SCRIPTED = SHIM_USABLE && Deno.build.os === "linux";

Deno.test({
  name: "FileStore's shim writes: short writes and EINTR are continued, errors fail the log",
  ignore: !SCRIPTED,
  async fn(t) {
    await withTempDir(async (dir) => {
      const library = await scriptedShim(dir);
      if (library === undefined) {
        console.error("no C compiler (cc): the scripted pwrite was not built; skipped");
        return;
      }
      const fake = Deno.dlopen(library, {
        fake_script: { parameters: ["buffer", "i32"], result: "void" },
        fake_calls: { parameters: [], result: "i32" },
      });
      const script = (...steps: number[]) =>
        fake.symbols.fake_script(Int32Array.from(steps), steps.length);
      const EINTR = 4, EIO = 5, ENOSPC = 28;
      const open = (path: string) =>
        Wal.open(path, { durability: "shim", shimPath: library, preallocateSize: 0 });
      const record = new Uint8Array(100).fill(7);
      try {
        await t.step("EINTR and short writes: the whole frame lands", () => {
          const path = join(dir, "ok.wal");
          {
            using wal = open(path);
            equal(wal.append(record), 0);
            script(-EINTR, 3, 1, -EINTR, 50);
            equal(wal.append(record), 108);
            equal(fake.symbols.fake_calls(), 6, "every step ran, then the rest of the frame");
            wal.syncSync();
          }
          using wal = Wal.open(path, { durability: "runtime", recoveryPolicy: "strict" });
          deepEqual([...wal.iter()].map((e) => e.data), [record, record]);
        });
        for (
          const [name, steps, code] of [
            ["ENOSPC after a short write", [10, -ENOSPC], -ENOSPC],
            ["EIO", [-EIO], -EIO],
            ["a write that takes nothing", [0], -EIO],
          ] as const
        ) {
          await t.step(`${name}: the log fails, ending where it ended`, () => {
            const path = join(dir, `${name.replaceAll(" ", "-")}.wal`);
            {
              using wal = open(path);
              wal.append(record);
              wal.syncSync();
              script(...steps);
              throws(() => wal.append(record), (error: unknown) => {
                equal((error as WalError).kind, "failed");
                const cause = (error as WalError).cause as { op?: string; code?: number };
                equal(cause.op, "wal_shim_pwrite_frame", "a single append is one framed write");
                equal(cause.code, code);
                return true;
              });
              equal(wal.nextLsn, 108);
              throws(() => wal.append(record), isKind("failed"));
            }
            using wal = Wal.open(path, { durability: "runtime", recoveryPolicy: "strict" });
            deepEqual([...wal.iter()].map((e) => e.data), [record]);
            equal(Deno.statSync(path).size, 108, "the partial frame was cut");
          });
        }
      } finally {
        script();
        fake.close();
      }
    });
  },
});

Deno.test({
  name: "FileStore frames single appends in the shim only when its CRC uses CPU instructions " +
    "(the table path is slower than TypeScript's); both write the same log",
  ignore: !SCRIPTED,
  async fn() {
    await withTempDir(async (dir) => {
      const table = await scriptedShim(dir, ["-DWAL_CRC32C_TABLE_ONLY"]);
      const native = await scriptedShim(dir);
      if (table === undefined || native === undefined) {
        console.error("no C compiler (cc): the table-only shim was not built; skipped");
        return;
      }
      const logs: Uint8Array[] = [];
      for (
        const [name, shimPath, framed] of [["table", table, false], [
          "native",
          native,
          true,
        ]] as const
      ) {
        const path = join(dir, `${name}.wal`);
        const store = FileStore.open(path, { durability: "shim", shimPath });
        equal(store.writeCall, "pwrite via shim", name);
        equal(typeof store.appendFrame === "function", framed, name);
        store.close();
        {
          using wal = Wal.open(path, { durability: "shim", shimPath });
          for (let i = 0; i < 50; i++) wal.append(new Uint8Array(i * 97).fill(i));
        }
        logs.push(await Deno.readFile(path));
      }
      deepEqual(logs[0], logs[1]);
    });
  },
});

/** Whether this process may mount a file system (root on Linux), for the full-disk tests. */
const MAY_MOUNT = Deno.build.os === "linux" && Deno.uid() === 0 && FFI_GRANTED;

/**
 * Unmounts `dir`; lazily when a file there is still open (a test that failed before closing
 * its log), so that no mount outlives the test.
 */
function unmount(dir: string): void {
  const done = new Deno.Command("umount", { args: [dir] }).outputSync();
  if (!done.success) new Deno.Command("umount", { args: ["-l", dir] }).outputSync();
}

/** Runs `body` on a fresh tmpfs of `size` bytes, unmounted afterwards. */
async function withTinyFileSystem(size: number, body: (dir: string) => void): Promise<void> {
  await withTempDir((dir) => {
    const mounted = new Deno.Command("mount", {
      args: ["-t", "tmpfs", "-o", `size=${size}`, "tmpfs", dir],
    }).outputSync();
    if (!mounted.success) throw new Error(new TextDecoder().decode(mounted.stderr));
    try {
      body(dir);
    } finally {
      unmount(dir);
    }
  });
}

Deno.test({
  name: "A log on a disk with less room than preallocateSize appends, syncs and reopens",
  ignore: !MAY_MOUNT, // mounts a tmpfs smaller than the 1 MiB reserve
  fn: () =>
    withTinyFileSystem(256 * 1024, (dir) => {
      const path = join(dir, "small.wal");
      const wal = Wal.open(path); // the default reserve: 1 MiB, four times the disk
      equal(wal.append(new Uint8Array(100).fill(7)), 0);
      wal.syncSync();
      wal.close();
      using again = Wal.open(path);
      deepEqual([...again.iter()].map((e) => e.data), [new Uint8Array(100).fill(7)]);
    }),
});

Deno.test({
  name:
    "A log that fills its disk fails at the write that does not fit and keeps every synced record",
  ignore: !MAY_MOUNT,
  fn: () =>
    withTinyFileSystem(256 * 1024, (dir) => {
      const path = join(dir, "full.wal");
      const wal = Wal.open(path);
      const record = (i: number) => new Uint8Array(4000).fill(i % 251);
      let synced = 0;
      let failure: unknown;
      for (let i = 0; i < 1000 && failure === undefined; i++) {
        try {
          wal.append(record(i));
          wal.syncSync();
          synced = i + 1;
        } catch (error) {
          failure = error;
        }
      }
      ok(failure instanceof WalError && failure.kind === "failed", `${failure}`);
      ok(/ENOSPC|No space left/i.test(String((failure as Error).cause ?? failure)), `${failure}`);
      ok(synced > 40, `${synced} records fit`); // 256 KiB of 4 KiB records, less the metadata
      wal.close();
      const check = (log: Wal) => {
        const seen = [...log.iter()].map((e) => e.data);
        equal(seen.length, synced);
        seen.forEach((data, i) => deepEqual(data, record(i)));
      };
      // A writer opens the full disk too, and a write that still does not fit loses nothing.
      const writer = Wal.open(path);
      check(writer);
      throws(() => {
        writer.append(record(synced));
        writer.syncSync();
      }, (error) => error instanceof WalError && error.kind === "failed");
      writer.close();
      using reader = Wal.open(path, { readOnly: true, lock: "none" });
      check(reader);
    }),
});

/** Whether mkfs.ext4 is here, for the test that needs a file system that allocates in pieces. */
const HAS_MKFS_EXT4 = MAY_MOUNT && (() => {
  try {
    return new Deno.Command("mkfs.ext4", { args: ["-V"] }).outputSync().success;
  } catch {
    return false;
  }
})();

/** Free bytes of the file system holding `dir`. */
function freeBytes(dir: string): number {
  const out = new Deno.Command("df", { args: ["-B1", "--output=avail", dir] }).outputSync();
  return Number(new TextDecoder().decode(out.stdout).split("\n")[1]!.trim());
}

Deno.test({
  name: "A reserve ext4 declines part way is given back: the disk's last blocks stay free",
  ignore: !HAS_MKFS_EXT4, // a loop-mounted ext4, whose fallocate extends the file before ENOSPC
  fn: () =>
    withTempDir((dir) => {
      const image = join(dir, "ext4.img");
      const mountPoint = join(dir, "mnt");
      Deno.mkdirSync(mountPoint);
      const run = (command: string, ...args: string[]) => {
        const out = new Deno.Command(command, { args }).outputSync();
        if (!out.success) throw new Error(`${command}: ${new TextDecoder().decode(out.stderr)}`);
      };
      run("truncate", "-s", "8M", image);
      run("mkfs.ext4", "-q", "-F", image);
      run("mount", "-o", "loop", image, mountPoint);
      try {
        // Leave 300 KiB free: less than the 1 MiB reserve.
        run(
          "fallocate",
          "-l",
          String(freeBytes(mountPoint) - 300 * 1024),
          join(mountPoint, "fill"),
        );
        const path = join(mountPoint, "hog.wal");
        using wal = Wal.open(path); // closed before the unmount, also when a check fails
        wal.append(new Uint8Array(100).fill(5));
        wal.syncSync();
        equal(Deno.statSync(path).size, 108, "the file holds the log and nothing more");
        ok(freeBytes(mountPoint) >= 200 * 1024, `${freeBytes(mountPoint)} bytes free`);
        Deno.writeFileSync(join(mountPoint, "other"), new Uint8Array(64 * 1024));
        wal.append(new Uint8Array(100).fill(6));
        wal.syncSync();
        wal.close();
        equal(Deno.statSync(path).size, 216);
        using again = Wal.open(path, { readOnly: true, lock: "none" });
        equal([...again.iter()].length, 2);
        equal(again.recovery.reserveSize, 0);
      } finally {
        unmount(mountPoint);
      }
    }),
});
