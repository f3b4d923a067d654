// Copyright 2026 the wal-db authors. MIT license.

import { equal, throws } from "node:assert/strict";
import { join } from "node:path";
import { lockTargetFor, sidecarLockPath, takeSidecarLock } from "../src/file_lock.ts";
import { WalError } from "../src/errors.ts";
import { withTempDir } from "./_helpers.ts";

function isLocked(e: unknown): boolean {
  return e instanceof WalError && e.kind === "locked";
}

Deno.test("lockTargetFor() puts the lock beside the log only where locks are mandatory", () => {
  equal(lockTargetFor("windows"), "sidecar");
  equal(lockTargetFor("linux"), "log");
  equal(lockTargetFor("darwin"), "log");
  equal(lockTargetFor("freebsd"), "log");
});

Deno.test("sidecarLockPath() uses a suffix that is neither '.lock' nor a segment name", () => {
  equal(sidecarLockPath("/data/app.wal"), "/data/app.wal.wal-db-lock");
  equal(sidecarLockPath("/data/wal").endsWith("wal.lock"), false);
  equal(sidecarLockPath("/data/x").endsWith(".wal"), false);
});

Deno.test("takeSidecarLock() excludes writers and readers as the modes say", async () => {
  await withTempDir((dir) => {
    const log = join(dir, "a.wal");
    Deno.writeFileSync(log, new Uint8Array());
    equal(takeSidecarLock(log, "none", true), undefined);
    const writer = takeSidecarLock(log, "exclusive", false);
    throws(() => takeSidecarLock(log, "exclusive", false), isLocked);
    throws(() => takeSidecarLock(log, "shared", true), isLocked);
    writer?.close();
    const first = takeSidecarLock(log, "shared", true);
    const second = takeSidecarLock(log, "shared", true);
    throws(() => takeSidecarLock(log, "exclusive", false), isLocked);
    first?.close();
    second?.close();
    takeSidecarLock(log, "exclusive", false)?.close();
  });
});

Deno.test("takeSidecarLock() resolves symlinks, so two paths share one lock", async () => {
  await withTempDir((dir) => {
    const log = join(dir, "real.wal");
    const link = join(dir, "link.wal");
    Deno.writeFileSync(log, new Uint8Array());
    Deno.symlinkSync(log, link);
    const writer = takeSidecarLock(link, "exclusive", false);
    equal(Deno.statSync(sidecarLockPath(log)).isFile, true);
    throws(() => takeSidecarLock(log, "exclusive", false), isLocked);
    writer?.close();
  });
});

Deno.test("takeSidecarLock() for a reader that may not write falls back to reading", async () => {
  await withTempDir(async (dir) => {
    const log = join(dir, "r.wal");
    await Deno.writeFile(log, new Uint8Array());
    // A child process with read permission only: the lock file is missing, then present.
    const script = `
      import { takeSidecarLock } from ${
      JSON.stringify(new URL("../src/file_lock.ts", import.meta.url).href)
    };
      const first = takeSidecarLock(${JSON.stringify(log)}, "shared", true);
      console.log(first === undefined ? "none" : "locked");
      first?.close();
    `;
    const child = join(dir, "child.ts");
    await Deno.writeTextFile(child, script);
    const run = async () => {
      // `deno eval` grants every permission; `deno run` grants only what it is told.
      const out = await new Deno.Command(Deno.execPath(), {
        args: ["run", "--no-lock", "--allow-read", child],
        stdout: "piped",
        stderr: "piped",
      }).output();
      return new TextDecoder().decode(out.stdout).trim() ||
        new TextDecoder().decode(out.stderr);
    };
    equal(await run(), "none", "nothing to lock and no right to create it");
    await Deno.writeFile(sidecarLockPath(log), new Uint8Array());
    equal(await run(), "locked", "an existing lock file is locked shared");
  });
});
