// Copyright 2026 the wal-db authors. MIT license.
// Tests for src/fs_directory.ts: what FsDirectory adds to the WalDirectory contract (which
// tests/directory_test.ts runs against it): creating the directory, its lock file and lock
// modes, read-only opens, identities, and the errors of bad paths.

import { deepEqual, equal, ok, rejects, throws } from "node:assert/strict";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { WalError, type WalErrorKind } from "../src/errors.ts";
import { FsDirectory } from "../src/fs_directory.ts";
import { payload, withTempDir } from "./_helpers.ts";

const RUNTIME = { durability: "runtime" } as const;

function isWal(kind: WalErrorKind): (error: unknown) => boolean {
  return (error) => error instanceof WalError && error.kind === kind;
}

Deno.test("FsDirectory: opening creates the directory and its missing parents, and wal.lock", async () => {
  await withTempDir((root) => {
    const path = join(root, "a", "b", "log");
    const dir = FsDirectory.open(path, RUNTIME);
    ok(Deno.statSync(path).isDirectory);
    equal(dir.path, path);
    equal(dir.readOnly, false);
    equal(dir.durability, "FsFile.syncData (runtime)");
    // The lock file is a file of the directory like any other.
    deepEqual(dir.list(), ["wal.lock"]);
    equal(dir.sizeOf("wal.lock"), 0);
    dir.close();
  });
});

Deno.test("FsDirectory: opening an existing directory keeps its files", async () => {
  await withTempDir((root) => {
    Deno.writeFileSync(join(root, "kept"), payload(20, 1));
    Deno.mkdirSync(join(root, "sub"));
    const dir = FsDirectory.open(root, RUNTIME);
    // Only files are listed: the subdirectory is not.
    deepEqual(dir.list().sort(), ["kept", "wal.lock"]);
    equal(dir.sizeOf("kept"), 20);
    const file = dir.open("kept", false);
    const buffer = new Uint8Array(20);
    equal(file.readAt(0, buffer), 20);
    deepEqual(buffer, payload(20, 1));
    file.close();
    dir.close();
  });
});

Deno.test("FsDirectory: a file URL opens the same directory as its path", async () => {
  await withTempDir((root) => {
    const dir = FsDirectory.open(pathToFileURL(join(root, "log")), RUNTIME);
    equal(dir.path, join(root, "log"));
    dir.close();
  });
});

Deno.test("FsDirectory: an empty or non-string path is a TypeError", () => {
  throws(() => FsDirectory.open(""), TypeError);
  throws(() => FsDirectory.open(42 as unknown as string), TypeError);
});

Deno.test("FsDirectory: a path that is a file is an io error, writer or reader", async () => {
  await withTempDir((root) => {
    const path = join(root, "plain");
    Deno.writeFileSync(path, new Uint8Array(3));
    throws(() => FsDirectory.open(path, RUNTIME), isWal("io"));
    throws(() => FsDirectory.open(path, { readOnly: true }), isWal("io"));
    // Nothing was changed.
    equal(Deno.statSync(path).size, 3);
  });
});

Deno.test("FsDirectory: a directory that cannot be made is an io error", async () => {
  await withTempDir((root) => {
    Deno.writeFileSync(join(root, "plain"), new Uint8Array(0));
    throws(() => FsDirectory.open(join(root, "plain", "log"), RUNTIME), isWal("io"));
  });
});

Deno.test("FsDirectory: one writer at a time; the lock goes with close", async () => {
  await withTempDir((root) => {
    const path = join(root, "log");
    const first = FsDirectory.open(path, RUNTIME);
    throws(() => FsDirectory.open(path, RUNTIME), isWal("locked"));
    // The lock is on the directory, not the path: a symlink to it is the same directory.
    const link = join(root, "link");
    Deno.symlinkSync(path, link);
    throws(() => FsDirectory.open(link, RUNTIME), isWal("locked"));
    first.close();
    const second = FsDirectory.open(link, RUNTIME);
    equal(second.identity, first.identity);
    second.close();
  });
});

Deno.test("FsDirectory: two directories have two identities", async () => {
  await withTempDir((root) => {
    const a = FsDirectory.open(join(root, "a"), RUNTIME);
    const b = FsDirectory.open(join(root, "b"), RUNTIME);
    ok(a.identity !== b.identity);
    a.close();
    b.close();
  });
});

Deno.test("FsDirectory: lock modes of readers against a writer", async () => {
  await withTempDir((root) => {
    const writer = FsDirectory.open(root, RUNTIME);
    // A reader's default is a shared lock, which a writer's exclusive one refuses.
    throws(() => FsDirectory.open(root, { readOnly: true }), isWal("locked"));
    throws(() => FsDirectory.open(root, { readOnly: true, lock: "shared" }), isWal("locked"));
    // Lock "none" follows a live log.
    const follower = FsDirectory.open(root, { readOnly: true, lock: "none" });
    follower.close();
    writer.close();
    // Readers share; a writer waits for them all.
    const r1 = FsDirectory.open(root, { readOnly: true });
    const r2 = FsDirectory.open(root, { readOnly: true });
    throws(() => FsDirectory.open(root, RUNTIME), isWal("locked"));
    r1.close();
    throws(() => FsDirectory.open(root, RUNTIME), isWal("locked"));
    r2.close();
    FsDirectory.open(root, RUNTIME).close();
  });
});

Deno.test("FsDirectory: a writer cannot ask for a shared or no lock", async () => {
  await withTempDir((root) => {
    throws(() => FsDirectory.open(root, { ...RUNTIME, lock: "shared" }), TypeError);
    throws(() => FsDirectory.open(root, { ...RUNTIME, lock: "none" }), TypeError);
    throws(
      () => FsDirectory.open(root, { readOnly: true, lock: "bogus" as "none" }),
      TypeError,
    );
  });
});

Deno.test("FsDirectory: read-only opens read and refuse every change", async () => {
  await withTempDir(async (root) => {
    const writer = FsDirectory.open(root, RUNTIME);
    const file = writer.open("data", true);
    file.append(payload(2000, 2));
    file.flushSync();
    file.close();
    writer.close();

    const dir = FsDirectory.open(root, { readOnly: true });
    equal(dir.readOnly, true);
    equal(dir.durability, "read-only (no flush)");
    deepEqual(dir.list().sort(), ["data", "wal.lock"]);
    const reader = dir.open("data", false);
    equal(reader.size, 2000);
    const buffer = new Uint8Array(2000);
    equal(reader.readAt(0, buffer), 2000);
    deepEqual(buffer, payload(2000, 2));
    throws(() => reader.flushSync(), isWal("read-only"));
    await rejects(reader.flush(), isWal("read-only"));
    throws(() => reader.append(payload(1, 3)));
    reader.close();
    throws(() => dir.open("new", true), isWal("read-only"));
    throws(() => dir.open("missing", false));
    throws(() => dir.remove("data"), isWal("read-only"));
    throws(() => dir.rename("data", "other"), isWal("read-only"));
    throws(() => dir.sync(), isWal("read-only"));
    dir.close();
    // Nothing changed on disk.
    const names = [];
    for await (const entry of Deno.readDir(root)) names.push(entry.name);
    deepEqual(names.sort(), ["data", "wal.lock"]);
    deepEqual(await Deno.readFile(join(root, "data")), payload(2000, 2));
  });
});

Deno.test("FsDirectory: a read-only open needs the directory and creates nothing", async () => {
  await withTempDir((root) => {
    throws(() => FsDirectory.open(join(root, "missing"), { readOnly: true }), isWal("io"));
    deepEqual([...Deno.readDirSync(root)], []);
  });
});

Deno.test("FsDirectory: a read-only open of a directory with no wal.lock holds no lock", async () => {
  await withTempDir((root) => {
    // A log written by another implementation: segment files, no lock file.
    Deno.writeFileSync(join(root, "segment"), payload(10, 4));
    const reader = FsDirectory.open(root, { readOnly: true });
    deepEqual(reader.list(), ["segment"]);
    // No lock file was made, and a writer is not kept out.
    const writer = FsDirectory.open(root, RUNTIME);
    writer.close();
    reader.close();
  });
});

Deno.test("FsDirectory: a file's handle appends after reads and flushes in both ways", async () => {
  await withTempDir(async (root) => {
    const dir = FsDirectory.open(root, RUNTIME);
    const file = dir.open("data", true);
    file.append(payload(5000, 5));
    const buffer = new Uint8Array(100);
    equal(file.readAt(10, buffer), 100);
    file.append(payload(10, 6)); // lands at the end, not at the read position
    file.flushSync();
    await file.flush();
    file.close();
    deepEqual(
      await Deno.readFile(join(root, "data")),
      new Uint8Array([...payload(5000, 5), ...payload(10, 6)]),
    );
    dir.close();
    dir.close();
  });
});

Deno.test("FsDirectory: a file cut on a worker thread has the size truncate gives, and appends follow it", async () => {
  await withTempDir(async (root) => {
    const dir = FsDirectory.open(root, RUNTIME);
    const files = ["blocking", "async"].map((name) => dir.open(name, true));
    for (const file of files) file.append(payload(5000, 7));
    files[0]!.truncate(1234);
    await files[1]!.truncateAsync!(1234);
    for (const file of files) {
      equal(file.size, 1234);
      file.append(payload(3, 8));
      file.close();
    }
    const expected = new Uint8Array([...payload(5000, 7).subarray(0, 1234), ...payload(3, 8)]);
    deepEqual(await Deno.readFile(join(root, "blocking")), expected);
    deepEqual(await Deno.readFile(join(root, "async")), expected);
    dir.close();
  });
});

Deno.test("FsDirectory: a fingerprint changes with a write, a copy or a restore over the name", async () => {
  await withTempDir((root) => {
    const dir = FsDirectory.open(root, RUNTIME);
    equal(dir.fingerprint("missing"), undefined);
    const file = dir.open("seg", true);
    file.append(new Uint8Array([1, 2, 3]));
    file.close();
    const first = dir.fingerprint("seg")!;
    const modified = Deno.statSync(join(root, "seg")).mtime!.getTime();
    ok(first.changedAt >= modified, "changedAt is no earlier than the modification time");
    deepEqual(dir.fingerprint("seg"), first, "the same file unchanged: the same fingerprint");
    // The same bytes, restored under the name with the old modification time (cp -a, rsync):
    // another inode, and a change time no tool can set back.
    const times = Deno.statSync(join(root, "seg"));
    Deno.copyFileSync(join(root, "seg"), join(root, "copy"));
    Deno.renameSync(join(root, "copy"), join(root, "seg"));
    Deno.utimeSync(join(root, "seg"), times.atime!, times.mtime!);
    const restored = dir.fingerprint("seg")!;
    ok(restored.id !== first.id);
    // Written in place, the size kept: the modification time moves. Deno reports it in whole
    // milliseconds, so the write waits for the clock to pass the restored time (the flush record
    // itself only trusts files that last changed 100 ms before a flush began).
    const restoredAt = times.mtime!.getTime();
    while (Date.now() <= restoredAt + 1) {
      // a few milliseconds at most: the copy and rename above took some already
    }
    const again = dir.open("seg", false);
    again.truncate(2);
    again.append(new Uint8Array([3]));
    again.close();
    ok(dir.fingerprint("seg")!.id !== restored.id);
    dir.close();
  });
});
