// Copyright 2026 the wal-db authors. MIT license.

import { equal, ok, throws } from "node:assert/strict";
import { join } from "node:path";
import { constants as osConstants } from "node:os";
import { ShimCallError, ShimUnavailableError } from "../ffi/mod.ts";
import { chooseDurability, chooseScanner, reserveUnlessFull } from "../src/durability.ts";
import { frame } from "../src/record.ts";
import { WalError } from "../src/errors.ts";
import { Wal } from "../src/open.ts";
import { withTempDir } from "./_helpers.ts";

const FFI_GRANTED = Deno.permissions.querySync({ name: "ffi" }).state === "granted";
const EXPECTED_SHIM: Record<string, string> = {
  linux: "fdatasync via shim",
  darwin: "fcntl(F_FULLFSYNC) via shim",
  windows: "FlushFileBuffers via shim",
};

Deno.test("chooseDurability() runtime mode uses FsFile.syncData without loading the shim", () => {
  equal(
    chooseDurability({ mode: "runtime", shimPath: "/no/such/lib.so" }).description,
    "FsFile.syncData (runtime)",
  );
});

Deno.test("chooseScanner() is the TypeScript one for runtime, and when the shim cannot load", () => {
  // A scanner only makes the scan faster: a shim that does not load never fails the open here.
  for (const mode of ["runtime", "auto", "shim"] as const) {
    equal(chooseScanner({ mode, shimPath: "/no/such/lib.so" }), undefined, mode);
  }
});

Deno.test({
  name: "chooseScanner() is the shim's frame scanner when the shim loads",
  ignore: !FFI_GRANTED,
  fn() {
    const scanner = chooseScanner({ mode: "auto", shimPath: undefined });
    ok(scanner !== undefined);
    const bytes = new Uint8Array([...frame(new Uint8Array([1])), ...frame(new Uint8Array(0))]);
    const ends = new Uint32Array(4);
    equal(scanner(bytes, 0, bytes.length, 16, ends), 2);
    equal(ends[1], bytes.length);
  },
});

Deno.test({
  name: "Wal.open() with ffi permitted uses the shim by default",
  ignore: !FFI_GRANTED,
  async fn() {
    await withTempDir((dir) => {
      using wal = Wal.open(join(dir, "shim.wal"));
      equal(wal.durability, EXPECTED_SHIM[Deno.build.os]);
      wal.append(new Uint8Array(10));
      wal.syncSync();
      equal(wal.durableLsn, 18);
    });
  },
});

Deno.test({
  name: "Wal.open() with ffi denied falls back to FsFile.syncData and says so",
  permissions: { read: true, write: true, env: true, ffi: false },
  async fn() {
    await withTempDir(async (dir) => {
      using wal = Wal.open(join(dir, "fallback.wal"));
      equal(wal.durability, "FsFile.syncData (runtime)");
      wal.append(new Uint8Array(10));
      await wal.sync();
      equal(wal.durableLsn, 18);
    });
  },
});

Deno.test({
  name: "Wal.open() with durability shim and ffi denied throws a clear io error, creating nothing",
  permissions: { read: true, write: true, env: true, ffi: false },
  async fn() {
    await withTempDir((dir) => {
      const path = join(dir, "refused.wal");
      throws(() => Wal.open(path, { durability: "shim" }), (e: unknown) => {
        ok(e instanceof WalError && e.kind === "io");
        ok(e.cause instanceof ShimUnavailableError && e.cause.reason === "permission");
        ok(/durability shim/.test(e.message) && /runtime/.test(e.message), e.message);
        return true;
      });
      throws(() => Deno.statSync(path), Deno.errors.NotFound);
    });
  },
});

Deno.test({
  name: "Wal.open() with durability shim and a bad shimPath throws, auto falls back",
  ignore: !FFI_GRANTED,
  async fn() {
    await withTempDir((dir) => {
      const bad = join(dir, "not-a-library.so");
      Deno.writeFileSync(bad, new TextEncoder().encode("not an ELF file"));
      throws(
        () => Wal.open(join(dir, "a.wal"), { durability: "shim", shimPath: bad }),
        (e: unknown) =>
          e instanceof WalError && e.kind === "io" && e.cause instanceof ShimUnavailableError,
      );
      using wal = Wal.open(join(dir, "b.wal"), { durability: "auto", shimPath: bad });
      equal(wal.durability, "FsFile.syncData (runtime)");
    });
  },
});

/** Open descriptors of this process, where /proc shows them (Linux). */
function openDescriptors(): number | undefined {
  try {
    return [...Deno.readDirSync("/proc/self/fd")].length;
  } catch {
    return undefined;
  }
}

for (const mode of ["runtime", "shim"] as const) {
  Deno.test({
    name: `a ${mode} flusher flushes blocking and background calls through separate descriptors`,
    ignore: openDescriptors() === undefined || (mode === "shim" && !FFI_GRANTED),
    async fn() {
      await withTempDir(async (dir) => {
        const path = join(dir, "log");
        using file = await Deno.open(path, { read: true, write: true, create: true });
        await file.write(new Uint8Array([1, 2, 3]));
        const durability = chooseDurability({ mode, shimPath: undefined });
        const before = openDescriptors()!;
        const flusher = durability.flusherFor(file, path);
        // The runtime flushes in the background through `file` and opens one more for blocking
        // flushes; the shim opens two of its own. Either way the two kinds never share one.
        equal(openDescriptors()! - before, mode === "runtime" ? 1 : 2);
        flusher.flushSync();
        await flusher.flush();
        flusher.close();
        equal(openDescriptors(), before);
      });
    },
  });
}

Deno.test("reserveUnlessFull() declines a reservation the file system has no room for", () => {
  const throwing = (error: Error) => ({
    preallocate(): boolean {
      throw error;
    },
  });
  const failing = (code: number) =>
    throwing(new ShimCallError("wal_shim_preallocate", code, "/x.wal"));
  const { ENOSPC, EDQUOT, EIO } = osConstants.errno;
  if (Deno.build.os !== "windows") {
    equal(reserveUnlessFull(failing(-ENOSPC), 0, 1 << 20), false);
    equal(reserveUnlessFull(failing(-EDQUOT), 0, 1 << 20), false);
  }
  throws(() => reserveUnlessFull(failing(-EIO), 0, 1 << 20), ShimCallError);
  throws(() => reserveUnlessFull(throwing(new RangeError("bad")), 0, 1), RangeError);
  equal(reserveUnlessFull({ preallocate: () => true }, 0, 1), true);
  equal(reserveUnlessFull({ preallocate: () => false }, 0, 1), false);
});
