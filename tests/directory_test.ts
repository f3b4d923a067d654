// Copyright 2026 the wal-db authors. MIT license.
// Tests for src/directory.ts. The module holds only the `WalDirectory` and `DirectoryFile`
// interfaces (nothing exists at run time), so this is the contract they state, run against
// every implementation: FsDirectory on the real file system and SimDirectory, the simulated
// disk the simulation and fault suites run segmented logs on. A new implementation joins the
// list of `IMPLEMENTATIONS` below.

import { deepEqual, equal, ok, throws } from "node:assert/strict";
import { join } from "node:path";
import type { DirectoryFile, WalDirectory } from "../src/directory.ts";
import { WalError } from "../src/errors.ts";
import { FsDirectory } from "../src/fs_directory.ts";
import { MemDirectory } from "../src/mem_directory.ts";
import { payload } from "./_helpers.ts";
import { SimDirectory, SimDisk } from "./_sim_disk.ts";

/** One implementation: `open` opens (again) the same directory; `dispose` cleans up after. */
interface Place {
  open(): WalDirectory;
  dispose(): void;
}

const IMPLEMENTATIONS: { name: string; place(): Place }[] = [
  {
    name: "FsDirectory",
    place() {
      const root = Deno.makeTempDirSync({ prefix: "wal_directory_test_" });
      const path = join(root, "log");
      return {
        open: () => FsDirectory.open(path, { durability: "runtime" }),
        dispose: () => Deno.removeSync(root, { recursive: true }),
      };
    },
  },
  {
    name: "MemDirectory",
    place() {
      let last: MemDirectory | undefined;
      return {
        open: () => (last = last === undefined ? new MemDirectory() : last.reopen()),
        dispose: () => {},
      };
    },
  },
  {
    name: "SimDirectory",
    place() {
      const disk = new SimDisk();
      return { open: () => SimDirectory.open(disk), dispose: () => {} };
    },
  },
];

/** The names a test made: the listing may hold files of the implementation's own (a lock). */
function listed(dir: WalDirectory, names: readonly string[]): string[] {
  return dir.list().filter((name) => names.includes(name)).sort();
}

/** Reads the whole of `file` through `readAt`. */
function readAll(file: DirectoryFile): Uint8Array {
  const out = new Uint8Array(file.size);
  equal(file.readAt(0, out), file.size);
  return out;
}

for (const { name, place } of IMPLEMENTATIONS) {
  Deno.test(`WalDirectory contract (${name})`, async (t) => {
    const where = place();
    try {
      await runContract(t, where);
    } finally {
      where.dispose();
    }
  });
}

async function runContract(t: Deno.TestContext, where: Place): Promise<void> {
  const names = ["a", "b", "c", "big"];

  await t.step("describes itself: a path, words for its flush, a stable identity", () => {
    const dir = where.open();
    ok(typeof dir.path === "string" && dir.path !== "");
    ok(typeof dir.durability === "string" && dir.durability !== "");
    const identity = dir.identity;
    dir.close();
    const again = where.open();
    equal(again.identity, identity, "the same directory opened again has the same identity");
    again.close();
  });

  await t.step("the directory is locked while open, and free again after close", () => {
    const dir = where.open();
    throws(() => where.open(), (error) => error instanceof WalError && error.kind === "locked");
    dir.close();
    dir.close(); // idempotent
    where.open().close();
  });

  await t.step("a created file is empty and listed; a missing one is not opened", () => {
    const dir = where.open();
    deepEqual(listed(dir, names), []);
    equal(dir.sizeOf("a"), undefined);
    throws(() => dir.open("a", false));
    const file = dir.open("a", true);
    equal(file.size, 0);
    equal(file.readAt(0, new Uint8Array(8)), 0);
    file.close();
    file.close(); // idempotent
    deepEqual(listed(dir, names), ["a"]);
    equal(dir.sizeOf("a"), 0);
    dir.close();
  });

  await t.step("append, then read back at any offset; reads are short only past the end", () => {
    const dir = where.open();
    const file = dir.open("a", true);
    file.append(payload(100, 1));
    file.append(payload(50, 2));
    equal(file.size, 150);
    equal(dir.sizeOf("a"), 150);
    const expected = new Uint8Array([...payload(100, 1), ...payload(50, 2)]);
    deepEqual(readAll(file), expected);
    const middle = new Uint8Array(40);
    equal(file.readAt(90, middle), 40);
    deepEqual(middle, expected.subarray(90, 130));
    const over = new Uint8Array(40);
    equal(file.readAt(130, over), 20);
    deepEqual(over.subarray(0, 20), expected.subarray(130));
    equal(file.readAt(150, over), 0);
    equal(file.readAt(1000, over), 0);
    // Appends land at the end whatever was read last.
    file.readAt(0, middle);
    file.append(payload(10, 3));
    const tail = new Uint8Array(10);
    equal(file.readAt(150, tail), 10);
    deepEqual(tail, payload(10, 3));
    file.close();
    dir.close();
  });

  await t.step("an existing file opened without create keeps its bytes", () => {
    const dir = where.open();
    const file = dir.open("a", false);
    equal(file.size, 160);
    deepEqual(readAll(file).subarray(0, 100), payload(100, 1));
    file.close();
    // Opening with create a file that exists neither empties nor replaces it.
    const again = dir.open("a", true);
    equal(again.size, 160);
    again.close();
    dir.close();
  });

  await t.step("more than a few KiB in many appends reads back whole", () => {
    const dir = where.open();
    const file = dir.open("big", true);
    const parts = Array.from({ length: 40 }, (_, i) => payload(1000 + i * 97, 10 + i));
    for (const part of parts) file.append(part);
    const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const part of parts) {
      all.set(part, at);
      at += part.length;
    }
    equal(file.size, all.length);
    deepEqual(readAll(file), all);
    file.close();
    const reopened = dir.open("big", false);
    deepEqual(readAll(reopened), all);
    reopened.close();
    dir.close();
  });

  await t.step("truncate makes a file smaller; reads stop at the new size", () => {
    const dir = where.open();
    const file = dir.open("a", false);
    file.truncate(60);
    equal(file.size, 60);
    equal(dir.sizeOf("a"), 60);
    const buffer = new Uint8Array(100);
    equal(file.readAt(0, buffer), 60);
    deepEqual(buffer.subarray(0, 60), payload(100, 1).subarray(0, 60));
    file.append(payload(5, 4));
    equal(file.size, 65);
    const tail = new Uint8Array(5);
    equal(file.readAt(60, tail), 5);
    deepEqual(tail, payload(5, 4));
    file.close();
    dir.close();
  });

  await t.step("a file can be flushed blocking and in the background", async () => {
    const dir = where.open();
    const file = dir.open("b", true);
    file.append(payload(300, 5));
    file.flushSync();
    file.append(payload(300, 6));
    await file.flush();
    equal(file.size, 600);
    file.close();
    dir.sync();
    dir.close();
  });

  await t.step("rename moves a file, replacing the target", () => {
    const dir = where.open();
    const c = dir.open("c", true);
    c.append(payload(7, 7));
    c.close();
    deepEqual(listed(dir, names), ["a", "b", "big", "c"]);
    dir.rename("b", "c");
    deepEqual(listed(dir, names), ["a", "big", "c"]);
    equal(dir.sizeOf("b"), undefined);
    equal(dir.sizeOf("c"), 600);
    const moved = dir.open("c", false);
    const first = new Uint8Array(300);
    moved.readAt(0, first);
    deepEqual(first, payload(300, 5));
    moved.close();
    dir.sync();
    dir.close();
  });

  await t.step("remove deletes a file", () => {
    const dir = where.open();
    dir.remove("c");
    deepEqual(listed(dir, names), ["a", "big"]);
    equal(dir.sizeOf("c"), undefined);
    throws(() => dir.open("c", false));
    dir.sync();
    dir.close();
  });

  await t.step("what was made survives a close and a reopen", async () => {
    const dir = where.open();
    deepEqual(listed(dir, names), ["a", "big"]);
    equal(dir.sizeOf("a"), 65);
    const file = dir.open("a", false);
    await file.flush();
    file.close();
    dir.close();
  });
}
