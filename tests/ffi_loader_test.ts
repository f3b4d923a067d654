// Copyright 2026 the wal-db authors. MIT license.
// Tests for ffi/loader.ts: loading, caching and verifying the shim, its calls and errors,
// and its refusal to prompt. Tests that need a binary for this platform are ignored
// (and reported as such) where none is embedded.

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { EMBEDDED_SHIMS } from "../ffi/bin/mod.ts";
import { embeddedShimTarget, loadShim, ShimCallError, ShimUnavailableError } from "../ffi/mod.ts";
import { frame as encodedFrame } from "../src/record.ts";
import { Rng } from "./_rng.ts";
import * as shimV3 from "./_shim_v3_linux_x86_64.ts";

const TARGET = embeddedShimTarget();
const NO_BINARY = TARGET === undefined;
/** Without --allow-ffi (the no-FFI run of the suite) the tests that load the shim are skipped. */
const NO_FFI = Deno.permissions.querySync({ name: "ffi" }).state !== "granted";

const LOADER_URL = new URL("../ffi/mod.ts", import.meta.url).href;

function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** The embedded binary for this platform and the path it gets inside `cacheDir`. */
function cachedFile(cacheDir: string): { file: string; bytes: Uint8Array; sha256: string } {
  const shim = EMBEDDED_SHIMS[TARGET!]!;
  const bytes = Uint8Array.fromBase64(shim.SHIM_BASE64);
  return { file: join(cacheDir, shim.SHIM_FILE_NAME), bytes, sha256: shim.SHIM_SHA256 };
}

/** A file in `dir` holding `bytes`, and a handle on it from the embedded shim. */
function scratchFile(dir: string, name: string, bytes: Uint8Array) {
  const path = join(dir, name);
  Deno.writeFileSync(path, bytes);
  return { path, file: loadShim({ cacheDir: join(dir, "cache") }).openFile(path) };
}

async function withTempDir(fn: (dir: string) => Promise<void> | void): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "wal_ffi_loader_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/**
 * Runs a script that calls loadShim in a child Deno with exactly `flags`, and returns what
 * it printed as JSON. Its stdin is closed, so a prompt could not be answered anyway.
 */
async function runChild(
  flags: string[],
  env: Record<string, string>,
  options: string,
): Promise<Record<string, unknown>> {
  const script = `
    import { loadShim } from ${JSON.stringify(LOADER_URL)};
    try {
      const shim = loadShim(${options});
      console.log(JSON.stringify({ path: shim.path }));
    } catch (error) {
      console.log(JSON.stringify({ name: error.name, reason: error.reason, message: error.message }));
    }`;
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-config", "--no-prompt", ...flags, "-"],
    env,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = output.stdin.getWriter();
  await writer.write(new TextEncoder().encode(script));
  await writer.close();
  const { success, stdout, stderr } = await output.output();
  assert.ok(success, new TextDecoder().decode(stderr));
  return JSON.parse(new TextDecoder().decode(stdout));
}

Deno.test("embeddedShimTarget() names this platform's binary", () => {
  const key = `${Deno.build.os}_${Deno.build.arch}`;
  assert.equal(TARGET, Object.hasOwn(EMBEDDED_SHIMS, key) ? key : undefined);
});

Deno.test({
  name: "loadShim() writes the embedded shim to the cache and flushes a real file with it",
  ignore: NO_BINARY || NO_FFI,
  fn: () =>
    withTempDir(async (dir) => {
      const cacheDir = join(dir, "cache");
      const shim = loadShim({ cacheDir });
      const { file, sha256: expected } = cachedFile(cacheDir);
      assert.equal(shim.path, file);
      assert.equal(sha256(await Deno.readFile(file)), expected);
      assert.equal(shim.version, 6);
      if (Deno.build.os === "linux") assert.equal(shim.flushCall, "fdatasync");
      assert.equal(loadShim({ cacheDir }), shim, "memoized per library path");

      const path = join(dir, "data.log");
      await Deno.writeFile(path, new Uint8Array(256).fill(7));
      const shimFile = shim.openFile(path);
      shimFile.syncDataSync();
      await shimFile.syncData();
      assert.equal(shimFile.fsyncFallback, false);
      // The identity is the one the runtime reports for its own handle on the same file.
      const { dev, ino } = await Deno.stat(path);
      assert.deepEqual(shimFile.identity(), { dev: BigInt(dev), ino: BigInt(ino!) });
      shim.syncDirectory(dir);
      shimFile.close();
      shimFile.close(); // idempotent
      assert.throws(() => shimFile.syncDataSync(), ShimCallError);
      assert.throws(() => shimFile.identity(), ShimCallError);
      await assert.rejects(shimFile.syncData(), ShimCallError);
    }),
});

Deno.test({
  name: "ShimFile.preallocate() grows a real file with zeros and keeps its bytes",
  ignore: NO_BINARY || NO_FFI,
  fn: () =>
    withTempDir((dir) => {
      const shim = loadShim({ cacheDir: join(dir, "cache") });
      const path = join(dir, "data.log");
      const head = new Uint8Array(100).fill(7);
      Deno.writeFileSync(path, head);
      const file = shim.openFile(path);
      try {
        const reserved = file.preallocate(100, 8192);
        if (Deno.build.os === "windows") {
          assert.equal(reserved, false, "the Windows shim never preallocates");
          assert.deepEqual(Deno.readFileSync(path), head, "an unsupported call changes nothing");
          return;
        }
        // Fail loudly rather than pass: the point of the test is that space gets reserved.
        assert.equal(
          reserved,
          true,
          `preallocate() reported "not supported" for the filesystem holding ${dir}; ` +
            "run the tests with TMPDIR on a filesystem with fallocate (ext4, xfs, btrfs, APFS)",
        );
        const grown = Deno.readFileSync(path);
        assert.equal(grown.length, 100 + 8192);
        assert.deepEqual(grown.subarray(0, 100), head, "existing bytes are kept");
        assert.ok(grown.subarray(100).every((b) => b === 0), "the reserved range reads as zeros");
        if (Deno.build.os === "linux") {
          const { blocks } = Deno.statSync(path);
          assert.ok(blocks! * 512 >= grown.length, `allocated, not sparse (${blocks} blocks)`);
        }

        // Past the end with a gap: the gap reads as zeros too.
        assert.equal(file.preallocate(16384, 4096), true);
        const gapped = Deno.readFileSync(path);
        assert.equal(gapped.length, 16384 + 4096);
        assert.deepEqual(gapped.subarray(0, 100), head);
        assert.ok(gapped.subarray(100).every((b) => b === 0));

        // Inside the file, or empty: nothing changes.
        assert.equal(file.preallocate(0, 50), true);
        assert.equal(file.preallocate(1 << 30, 0), true);
        assert.deepEqual(Deno.readFileSync(path), gapped);

        // Data written into the reserved range reads back; the size stays put.
        const handle = Deno.openSync(path, { write: true });
        handle.seekSync(100, Deno.SeekMode.Start);
        handle.writeSync(new Uint8Array(10).fill(9));
        handle.close();
        file.syncDataSync();
        const written = Deno.readFileSync(path);
        assert.equal(written.length, 16384 + 4096);
        assert.deepEqual(written.subarray(100, 110), new Uint8Array(10).fill(9));

        if (Deno.build.os === "linux") {
          // 4 PiB is past what the disk (and ext4's largest file) can hold: a real error.
          assert.throws(() => file.preallocate(0, 2 ** 52), (error: unknown) => {
            assert.ok(error instanceof ShimCallError, String(error));
            assert.equal(error.op, "wal_shim_preallocate");
            assert.ok(error.code < 0);
            assert.equal(error.path, path);
            return true;
          });
          assert.equal(Deno.statSync(path).size, 16384 + 4096, "a failed call changes no size");
        }
      } finally {
        file.close();
      }
    }),
});

Deno.test({
  name: "ShimFile.preallocate() rejects bad arguments and a closed file",
  ignore: NO_BINARY || NO_FFI,
  fn: () =>
    withTempDir((dir) => {
      const { path, file } = scratchFile(dir, "data.log", new Uint8Array(10));
      try {
        for (const bad of [-1, 1.5, NaN, Infinity, 2 ** 53]) {
          assert.throws(() => file.preallocate(bad, 1), RangeError, `offset ${bad}`);
          assert.throws(() => file.preallocate(0, bad), RangeError, `length ${bad}`);
        }
        assert.throws(() => file.preallocate(Number.MAX_SAFE_INTEGER, 1), RangeError);
        const asAny = file.preallocate as unknown as (offset: unknown, length: unknown) => boolean;
        assert.throws(() => asAny.call(file, "0", 1), TypeError);
        assert.throws(() => asAny.call(file, 0, 1n), TypeError);
        assert.equal(Deno.statSync(path).size, 10, "rejected calls change nothing");
      } finally {
        file.close();
      }
      assert.throws(() => file.preallocate(0, 4096), (error: unknown) => {
        assert.ok(error instanceof ShimCallError);
        assert.equal(error.op, "wal_shim_preallocate");
        assert.ok(error.message.includes("closed"), error.message);
        return true;
      });
    }),
});

Deno.test({
  name: "openFile() and syncDirectory() report a missing path as ShimCallError ENOENT",
  ignore: NO_BINARY || NO_FFI,
  fn: () =>
    withTempDir((dir) => {
      const shim = loadShim({ cacheDir: join(dir, "cache") });
      const missing = join(dir, "missing.log");
      assert.throws(() => shim.openFile(missing), (error: unknown) => {
        assert.ok(error instanceof ShimCallError);
        assert.equal(error.code, -2);
        assert.equal(error.op, "wal_shim_open");
        assert.equal(error.path, missing);
        const name = Deno.build.os === "windows" ? "ERROR_FILE_NOT_FOUND" : "ENOENT";
        assert.ok(error.message.includes(name), error.message);
        assert.ok(error.message.includes(missing), error.message);
        return true;
      });
      if (Deno.build.os !== "windows") {
        assert.throws(
          () => shim.syncDirectory(join(dir, "missing")),
          (error: unknown) => error instanceof ShimCallError && error.code === -2,
        );
      }
      assert.throws(() => shim.openFile("a\0b"), TypeError);
    }),
});

Deno.test({
  name: "loadShim() detects a damaged cached binary, rewrites it, then loads",
  ignore: NO_BINARY || NO_FFI,
  fn: async (t) => {
    await t.step("garbage in place of the library", () =>
      withTempDir((dir) => {
        const { file, bytes, sha256: expected } = cachedFile(dir);
        Deno.writeFileSync(file, new TextEncoder().encode("not a library"));
        const shim = loadShim({ cacheDir: dir });
        assert.equal(shim.path, file);
        assert.equal(sha256(Deno.readFileSync(file)), expected);
        assert.equal(Deno.readFileSync(file).length, bytes.length);
      }));

    await t.step("one flipped byte", () =>
      withTempDir((dir) => {
        const { file, bytes, sha256: expected } = cachedFile(dir);
        const damaged = bytes.slice();
        damaged[damaged.length >> 1]! ^= 0x01;
        Deno.writeFileSync(file, damaged);
        loadShim({ cacheDir: dir });
        assert.equal(sha256(Deno.readFileSync(file)), expected);
      }));

    await t.step("no temporary files are left behind", () =>
      withTempDir((dir) => {
        loadShim({ cacheDir: join(dir, "nested", "cache") });
        const names = [...Deno.readDirSync(join(dir, "nested", "cache"))].map((e) => e.name);
        assert.deepEqual(names, [cachedFile(dir).file.slice(dir.length + 1)]);
      }));
  },
});

Deno.test({
  name: "loadShim() loads an explicit path as given",
  ignore: NO_BINARY || NO_FFI,
  fn: () =>
    withTempDir((dir) => {
      const path = join(dir, "my_shim.lib");
      Deno.writeFileSync(path, cachedFile(dir).bytes);
      const shim = loadShim({ path });
      assert.equal(shim.path, path);
      assert.equal(shim.version, 6);
    }),
});

Deno.test({
  name: "loadShim() with a bad explicit path throws ShimUnavailableError load-failed",
  ignore: NO_FFI,
  fn: async (t) => {
    await t.step("a missing file", () =>
      withTempDir((dir) => {
        const path = join(dir, "missing.so");
        assert.throws(() => loadShim({ path }), (error: unknown) => {
          assert.ok(error instanceof ShimUnavailableError);
          assert.equal(error.reason, "load-failed");
          assert.ok(error.cause instanceof Error);
          assert.ok(error.message.includes(path), error.message);
          return true;
        });
      }));

    await t.step("a file that is not a library", () =>
      withTempDir((dir) => {
        const path = join(dir, "garbage.so");
        Deno.writeTextFileSync(path, "garbage");
        assert.throws(
          () => loadShim({ path }),
          (error: unknown) =>
            error instanceof ShimUnavailableError && error.reason === "load-failed" &&
            error.cause !== undefined,
        );
      }));
  },
});

Deno.test({
  name: "loadShim() names the ABI version of a library built for an older one",
  ignore: NO_FFI || `${Deno.build.os}_${Deno.build.arch}` !== "linux_x86_64",
  fn: () =>
    withTempDir((dir) => {
      // Version 3 lacks the CRC symbols, so dlopen itself fails; the message still says why.
      const path = join(dir, "libwal_shim_v3.so");
      Deno.writeFileSync(path, Uint8Array.fromBase64(shimV3.SHIM_BASE64));
      assert.throws(() => loadShim({ path }), (error: unknown) => {
        assert.ok(error instanceof ShimUnavailableError);
        assert.equal(error.reason, "load-failed");
        assert.match(error.message, /has ABI version 3, but this wal-db needs 6/);
        assert.ok(error.cause instanceof Error, "the dlopen error is kept as the cause");
        return true;
      });
    }),
});

Deno.test({
  name: "loadShim() without ffi permission throws reason permission and writes nothing",
  ignore: NO_BINARY || NO_FFI,
  permissions: { read: true, write: true, env: true, ffi: false },
  fn: () =>
    withTempDir((dir) => {
      const cacheDir = join(dir, "cache");
      assert.throws(() => loadShim({ cacheDir }), (error: unknown) => {
        assert.ok(error instanceof ShimUnavailableError);
        assert.equal(error.reason, "permission");
        assert.ok(error.message.includes(`--allow-ffi=${cacheDir}`), error.message);
        return true;
      });
      assert.throws(() => Deno.statSync(cacheDir), Deno.errors.NotFound);
      assert.throws(
        () => loadShim({ path: join(dir, "lib.so") }),
        (error: unknown) => error instanceof ShimUnavailableError && error.reason === "permission",
      );
    }),
});

/** A cache folder whose shim the next test loads, for the test after it to deny ffi on. */
let loadedCacheDir: string | undefined;

Deno.test({
  name: "loadShim() memoizes a loaded library (setup for the next test)",
  ignore: NO_BINARY || NO_FFI,
  fn: async () => {
    loadedCacheDir = await Deno.makeTempDir({ prefix: "wal_ffi_loader_" });
    loadShim({ cacheDir: loadedCacheDir });
  },
});

Deno.test({
  name: "loadShim() checks ffi permission again for a library it already loaded",
  ignore: NO_BINARY || NO_FFI,
  permissions: { read: true, write: true, env: true, ffi: false },
  fn: async () => {
    assert.ok(loadedCacheDir !== undefined, "the previous test ran");
    try {
      assert.throws(
        () => loadShim({ cacheDir: loadedCacheDir! }),
        (error: unknown) => error instanceof ShimUnavailableError && error.reason === "permission",
      );
    } finally {
      await Deno.remove(loadedCacheDir, { recursive: true });
    }
  },
});

Deno.test({
  name: "loadShim() without write permission for the cache throws reason permission",
  ignore: NO_BINARY || NO_FFI,
  permissions: { read: true, write: false, env: true, ffi: true },
  fn: () => {
    const cacheDir = join(Deno.cwd(), `.never_created_${crypto.randomUUID()}`);
    assert.throws(() => loadShim({ cacheDir }), (error: unknown) => {
      assert.ok(error instanceof ShimUnavailableError);
      assert.equal(error.reason, "permission");
      assert.ok(error.message.includes(`--allow-write=${cacheDir}`), error.message);
      return true;
    });
  },
});

Deno.test({
  name: "loadShim() reads environment variables only when --allow-env covers them",
  ignore: NO_BINARY || NO_FFI,
  fn: () =>
    withTempDir(async (dir) => {
      const cacheDir = join(dir, "cache");
      const bogus = join(dir, "bogus.so");
      const env = { WAL_DB_SHIM: bogus, WAL_DB_CACHE_DIR: cacheDir };
      const files = ["--allow-read", "--allow-write", "--allow-ffi"];

      const withEnv = await runChild([...files, "--allow-env"], env, "{}");
      assert.equal(withEnv.reason, "load-failed", JSON.stringify(withEnv));
      assert.ok(String(withEnv.message).includes(bogus));

      const cacheFromEnv = await runChild([...files, "--allow-env=WAL_DB_CACHE_DIR"], env, "{}");
      assert.equal(cacheFromEnv.path, cachedFile(cacheDir).file, JSON.stringify(cacheFromEnv));

      const explicit = join(dir, "explicit");
      const withoutEnv = await runChild(files, env, JSON.stringify({ cacheDir: explicit }));
      assert.equal(withoutEnv.path, cachedFile(explicit).file, JSON.stringify(withoutEnv));
    }),
});

/** The flag and folder words the loader uses for the default cache folder on this OS. */
const DEFAULT_CACHE = Deno.build.os === "windows"
  ? { env: "--allow-env=LOCALAPPDATA", folder: "%LOCALAPPDATA%\\wal-db" }
  : Deno.build.os === "darwin"
  ? { env: "--allow-env=HOME", folder: "$HOME/Library/Caches/wal-db" }
  : { env: "--allow-env=HOME,XDG_CACHE_HOME", folder: "$HOME/.cache/wal-db" };

Deno.test({
  name: "loadShim() without env access names the default cache folder and its flags",
  ignore: NO_BINARY || NO_FFI,
  fn: () =>
    withTempDir(async (dir) => {
      const tmp = join(dir, "tmp");
      await Deno.mkdir(tmp);
      // Every permission but env: the loader cannot read HOME, so it cannot name the folder by
      // its path; it names it by its variables, with the flags to add, and makes nothing.
      for (const flags of [["--allow-read", "--allow-write", "--allow-ffi"], ["--allow-read"]]) {
        const refused = await runChild(flags, { TMPDIR: tmp, TMP: tmp, TEMP: tmp }, "{}");
        assert.equal(refused.reason, "permission", JSON.stringify(refused));
        const message = String(refused.message);
        assert.ok(message.includes(DEFAULT_CACHE.env), message);
        assert.ok(message.includes(DEFAULT_CACHE.folder), message);
        assert.match(message, /cacheDir/);
        assert.match(message, /WAL_DB_CACHE_DIR/);
        assert.deepEqual(await Array.fromAsync(Deno.readDir(tmp)), [], "no temporary folder");
      }
    }),
});

Deno.test({
  name: "no process leaves a temporary folder behind, and a refusal names the real cache folder",
  ignore: NO_BINARY || NO_FFI,
  fn: () =>
    withTempDir(async (dir) => {
      // A private temporary folder per child: the machine's /tmp is shared with other runs, and
      // makeTempDir (what the loader used to fall back to) honours TMPDIR (TMP/TEMP on Windows).
      const tmp = join(dir, "tmp");
      await Deno.mkdir(tmp);
      const home = join(dir, "home");
      const xdg = join(dir, "xdg");
      const env = { TMPDIR: tmp, TMP: tmp, TEMP: tmp, HOME: home, XDG_CACHE_HOME: xdg };
      if (Deno.build.os === "windows") Object.assign(env, { LOCALAPPDATA: xdg });
      const cache = Deno.build.os === "darwin"
        ? join(home, "Library", "Caches", "wal-db")
        : join(xdg, "wal-db");
      const leftovers = async () => (await Array.fromAsync(Deno.readDir(tmp))).map((e) => e.name);

      // Loads: the shim is written to the real cache folder, and only there.
      const loaded = await runChild(
        ["--allow-read", "--allow-write", "--allow-ffi", "--allow-env"],
        env,
        "{}",
      );
      assert.equal(loaded.path, cachedFile(cache).file, JSON.stringify(loaded));
      assert.deepEqual(await leftovers(), []);

      // Fails to load for want of ffi: the hint names the real folder and every missing flag.
      const noFfi = await runChild(["--allow-read", "--allow-env"], env, "{}");
      assert.equal(noFfi.reason, "permission", JSON.stringify(noFfi));
      const message = String(noFfi.message);
      assert.ok(message.includes(`--allow-ffi=${cache}`), message);
      assert.ok(message.includes(`--allow-write=${cache}`), message);
      assert.ok(!message.includes(`--allow-read=${cache}`), `read is granted: ${message}`);
      assert.ok(!message.includes(tmp), message);
      assert.deepEqual(await leftovers(), []);

      // Fails without env access too (the case that used to make a folder per process).
      const noEnv = await runChild(["--allow-read", "--allow-write"], env, "{}");
      assert.equal(noEnv.reason, "permission", JSON.stringify(noEnv));
      assert.deepEqual(await leftovers(), []);
    }),
});

Deno.test({
  name: "ShimFile.writeAt() writes all of its bytes at the offset, past the end too",
  ignore: NO_BINARY || NO_FFI,
  fn: () =>
    withTempDir((dir) => {
      const { path, file } = scratchFile(dir, "data.bin", new Uint8Array([1, 2, 3, 4]));
      try {
        file.writeAt(new Uint8Array([9, 9]), 1);
        file.writeAt(new Uint8Array([7, 7, 7]), 4);
        file.writeAt(new Uint8Array(0), 100); // nothing to write: nothing changes
        file.writeAt(new Uint8Array([5]), 8); // past the end: the gap reads as zeros
        assert.deepEqual([...Deno.readFileSync(path)], [1, 9, 9, 4, 7, 7, 7, 0, 5]);
        // A view writes the view's bytes only.
        file.writeAt(new Uint8Array([0, 6, 6, 0]).subarray(1, 3), 0);
        assert.deepEqual([...Deno.readFileSync(path)], [6, 6, 9, 4, 7, 7, 7, 0, 5]);
        // A large write, in one call.
        const large = new Uint8Array(3 << 20).map((_, i) => i * 7);
        file.writeAt(large, 9);
        assert.deepEqual(Deno.readFileSync(path).subarray(9), large);
      } finally {
        file.close();
      }
    }),
});

Deno.test({
  name: "ShimFile.writeAt() checks its arguments and reports a closed file as EBADF",
  ignore: NO_BINARY || NO_FFI,
  fn: () =>
    withTempDir((dir) => {
      const { path, file } = scratchFile(dir, "data.bin", new Uint8Array(4));
      const data = new Uint8Array([1]);
      for (const offset of [-1, 0.5, Number.MAX_SAFE_INTEGER + 2, Number.NaN]) {
        assert.throws(() => file.writeAt(data, offset), RangeError, String(offset));
      }
      assert.throws(() => file.writeAt([1] as unknown as Uint8Array, 0), TypeError);
      file.close();
      assert.throws(() => file.writeAt(data, 0), (error: unknown) => {
        assert.ok(error instanceof ShimCallError);
        assert.equal(error.op, "wal_shim_pwrite");
        return true;
      });
      assert.deepEqual([...Deno.readFileSync(path)], [0, 0, 0, 0]);
    }),
});

Deno.test({
  name: "wal_shim_pwrite refuses an offset that is not a whole number up to 2^53, and a bad fd",
  ignore: NO_BINARY || NO_FFI || Deno.build.os === "windows",
  fn: () =>
    withTempDir((dir) => {
      const shim = loadShim({ cacheDir: join(dir, "cache") });
      const library = Deno.dlopen(shim.path, {
        wal_shim_pwrite: { parameters: ["i64", "buffer", "u32", "f64"], result: "i32" },
      });
      try {
        const pwrite = library.symbols.wal_shim_pwrite;
        const data = new Uint8Array(1);
        const EINVAL = -22;
        const EBADF = -9;
        // The descriptor does not matter for the offset checks: they come first after the fd's.
        for (const offset of [-1, 0.5, 2 ** 53 + 2, Number.NaN, Infinity]) {
          assert.equal(pwrite(0n, data, 1, offset), EINVAL, String(offset));
        }
        assert.equal(pwrite(-1n, data, 1, 0), EBADF);
        assert.equal(pwrite(2n ** 40n, data, 1, 0), EBADF);
      } finally {
        library.close();
      }
    }),
});

Deno.test({
  name: "ShimFile.writeFrameAt() writes what encodeFrame makes of every payload length 0..4 KiB, " +
    "and of large ones",
  ignore: NO_BINARY || NO_FFI,
  fn: () =>
    withTempDir((dir) => {
      const { path, file } = scratchFile(dir, "frames.bin", new Uint8Array(0));
      const rng = new Rng(0x5eed_f4a3);
      const lengths = [...Array(4097).keys(), 65_536, 1_000_003, 3 << 20];
      const expected: Uint8Array[] = [];
      let end = 0;
      try {
        for (const length of lengths) {
          const payload = rng.bytes(length);
          // Garbage in the header bytes and past the frame: the call must overwrite the one
          // and ignore the other.
          const buffer = rng.bytes(8 + length + 5);
          buffer.set(payload, 8);
          file.writeFrameAt(buffer, length, end);
          const want = encodedFrame(payload);
          assert.deepEqual(buffer.subarray(0, want.length), want, `frame of ${length} bytes`);
          expected.push(want);
          end += want.length;
        }
      } finally {
        file.close();
      }
      const written = Deno.readFileSync(path);
      assert.equal(written.length, end);
      let at = 0;
      for (const want of expected) {
        assert.deepEqual(written.subarray(at, at + want.length), want, `the frame at ${at}`);
        at += want.length;
      }
    }),
});

Deno.test({
  name: "ShimFile.writeFrameAt() checks its arguments and reports a closed file as EBADF",
  ignore: NO_BINARY || NO_FFI,
  fn: () =>
    withTempDir((dir) => {
      const { path, file } = scratchFile(dir, "data.bin", new Uint8Array(4));
      const buffer = new Uint8Array(8 + 3);
      for (const length of [-1, 0.5, 4, Number.NaN]) {
        assert.throws(() => file.writeFrameAt(buffer, length, 0), RangeError, String(length));
      }
      for (const offset of [-1, 0.5, Number.MAX_SAFE_INTEGER + 2, Number.NaN]) {
        assert.throws(() => file.writeFrameAt(buffer, 3, offset), RangeError, String(offset));
      }
      assert.throws(() => file.writeFrameAt(new Uint8Array(7), 0, 0), RangeError);
      assert.throws(
        () => file.writeFrameAt([0, 0, 0, 0, 0, 0, 0, 0] as unknown as Uint8Array, 0, 0),
        TypeError,
      );
      assert.deepEqual([...buffer], new Array(11).fill(0), "a refused call touches nothing");
      file.close();
      assert.throws(() => file.writeFrameAt(buffer, 3, 0), (error: unknown) => {
        assert.ok(error instanceof ShimCallError);
        assert.equal(error.op, "wal_shim_pwrite_frame");
        return true;
      });
      assert.deepEqual([...Deno.readFileSync(path)], [0, 0, 0, 0]);
    }),
});
