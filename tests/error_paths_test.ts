// Copyright 2026 the wal-db authors. MIT license.
// Errors are never swallowed or mislabelled: a failing flush during close, a store whose close
// throws, a short write, a checkpoint the store cannot make, a new log's directories, and a
// flush through a path that names another file now.

import { deepEqual, equal, ok, rejects, throws } from "node:assert/strict";
import { join } from "node:path";
import { loadShim } from "../ffi/mod.ts";
import { chooseDurability } from "../src/durability.ts";
import { WalError, type WalErrorKind } from "../src/errors.ts";
import { FsDirectory } from "../src/fs_directory.ts";
import { MemStore } from "../src/mem_store.ts";
import { segmentName } from "../src/segments.ts";
import { Wal } from "../src/open.ts";
import { bytes, ForwardingStore, withTempDir } from "./_helpers.ts";

const FFI_GRANTED = Deno.permissions.querySync({ name: "ffi" }).state === "granted";
const MODES = ["runtime", "shim"] as const;

function kind(expected: WalErrorKind) {
  return (e: unknown) => e instanceof WalError && e.kind === expected;
}

function payloads(wal: Wal): string[] {
  return [...wal.iter()].map((e) => new TextDecoder().decode(e.data));
}

/** A store whose background flushes finish only when `release` is called, and fail if told. */
class GatedFlushStore extends ForwardingStore {
  #gate = Promise.withResolvers<void>();
  failFlush = false;
  release(): void {
    this.#gate.resolve();
  }
  override async flush(): Promise<void> {
    await this.#gate.promise;
    if (this.failFlush) throw new Error("EIO: injected flush failure");
    await this.inner.flush();
  }
}

Deno.test("a flush in flight at close() that fails rejects with failed and its cause", async () => {
  const store = new GatedFlushStore(new MemStore());
  const wal = Wal.withStore(store);
  wal.append(bytes("in flight"));
  store.failFlush = true;
  const pending = wal.sync();
  await Promise.resolve(); // the flush starts after the current microtasks
  wal.close();
  store.release();
  await rejects(pending, (error: unknown) => {
    ok(error instanceof WalError, String(error));
    equal(error.kind, "failed", error.message);
    ok(error.cause instanceof Error && /EIO: injected/.test(error.cause.message));
    return true;
  });
  await wal.closed;
});

/** A store whose `close` releases it and then throws, like close(2) reporting EIO. */
class FailingCloseStore extends ForwardingStore {
  closes = 0;
  override close(): void {
    this.closes++;
    this.inner.close();
    throw new Error("EIO: injected close failure");
  }
}

Deno.test("a store close that throws is reported by close() and by wal.closed", async () => {
  const store = new FailingCloseStore(new MemStore());
  const wal = Wal.withStore(store);
  throws(() => wal.close(), (error: unknown) => {
    ok(error instanceof WalError && error.kind === "io", String(error));
    ok(error.cause instanceof Error && /EIO: injected close/.test(error.cause.message));
    return true;
  });
  await rejects(wal.closed, kind("io"));
  wal.close(); // idempotent: nothing more to report, the store is not closed twice
  equal(store.closes, 1);
});

Deno.test("a store close that throws after a failed open does not hide the open's error", () => {
  const store = new (class extends FailingCloseStore {
    override readAt(): number {
      throw new Error("EIO: injected read failure");
    }
  })(new MemStore(new Uint8Array(16)));
  throws(() => Wal.withStore(store), (error: unknown) => {
    ok(error instanceof WalError && error.kind === "io", String(error));
    ok(/EIO: injected read failure/.test(error.message), error.message);
    ok(/also failed: EIO: injected close failure/.test(error.message), error.message);
    return true;
  });
  equal(store.closes, 1);
});

Deno.test("a store close that throws after close() returned is no unhandled rejection", async () => {
  const store = new GatedFlushStore(new FailingCloseStore(new MemStore()));
  const wal = Wal.withStore(store);
  wal.append(bytes("synced while closing"));
  const pending = wal.sync();
  await Promise.resolve();
  wal.close(); // a flush is running: the store closes when it settles
  store.release();
  await pending;
  await rejects(wal.closed, (error: unknown) => {
    ok(error instanceof WalError && error.kind === "io", String(error));
    ok(/Cannot close the log cleanly: EIO: injected close/.test(error.message), error.message);
    return true;
  });
});

/** Makes the next `count` calls of `method` on `prototype` run and then throw. */
function failAfter<T extends object>(
  prototype: T,
  method: keyof T,
  count: number,
): { calls: () => number; restore: () => void } {
  const original = prototype[method] as (...args: unknown[]) => unknown;
  let calls = 0;
  Object.defineProperty(prototype, method, {
    configurable: true,
    writable: true,
    value: function (this: unknown, ...args: unknown[]) {
      calls++;
      const result = original.apply(this, args);
      if (calls <= count) throw new Error(`EIO: injected failure of ${String(method)}`);
      return result;
    },
  });
  return {
    calls: () => calls,
    restore: () => Object.defineProperty(prototype, method, { value: original }),
  };
}

Deno.test("FileStore.close() closes every handle and releases the lock when one close throws", async () => {
  await withTempDir((dir) => {
    const path = join(dir, "close.wal");
    const wal = Wal.open(path, { durability: "runtime" });
    wal.append(bytes("kept"));
    wal.syncSync();
    // The first handle closed (the runtime flusher's) reports an error after releasing itself.
    const fault = failAfter(Deno.FsFile.prototype, "close", 1);
    let error: unknown;
    try {
      wal.close();
    } catch (thrown) {
      error = thrown;
    } finally {
      fault.restore();
    }
    equal(fault.calls(), 3, "the flusher's handle, the reader and the writer were all closed");
    using again = Wal.open(path, { durability: "runtime" }); // not "locked"
    deepEqual(payloads(again), ["kept"]);
    ok(kind("io")(error), `close() reports the failure: ${error}`);
  });
});

Deno.test({
  name: "the shim flusher closes both of its handles when the first close throws",
  ignore: !FFI_GRANTED,
  async fn() {
    await withTempDir((dir) => {
      const path = join(dir, "shim.wal");
      Deno.writeFileSync(path, new Uint8Array(0));
      const probe = loadShim().openFile(path);
      const prototype = Object.getPrototypeOf(probe) as typeof probe;
      probe.close();
      const wal = Wal.open(path, { durability: "shim" });
      const fault = failAfter(prototype, "close", 1);
      let error: unknown;
      try {
        wal.close();
      } catch (thrown) {
        error = thrown;
      } finally {
        fault.restore();
      }
      equal(fault.calls(), 2, "both shim handles were closed");
      Wal.open(path, { durability: "shim" }).close(); // not "locked"
      ok(kind("io")(error), `close() reports the failure: ${error}`);
    });
  },
});

/** A store whose next append writes `shortBytes` bytes and then throws, like ENOSPC. */
class ShortWriteStore extends ForwardingStore {
  shortBytes: number | undefined;
  failTruncate = false;
  override append(data: Uint8Array): void {
    const short = this.shortBytes;
    if (short === undefined) return this.inner.append(data);
    this.shortBytes = undefined;
    this.inner.append(data.subarray(0, short));
    throw new Error("ENOSPC: injected short write");
  }
  override truncate(size: number): void {
    if (this.failTruncate) throw new Error("EIO: injected truncate failure");
    this.inner.truncate(size);
  }
  override discardUnflushed(size: number): void {
    this.truncate(size);
  }
}

for (const cutFails of [false, true]) {
  const name = cutFails
    ? "and ends at the durable end when the cut fails"
    : "and is cut back to the durable end";
  Deno.test(`a short write fails the log without false corruption, ${name}`, () => {
    const inner = new MemStore();
    const store = new ShortWriteStore(inner);
    using wal = Wal.withStore(store);
    wal.append(bytes("one"));
    wal.appendBatch([bytes("two"), bytes("three")]);
    wal.syncSync();
    const durable = wal.durableLsn;
    wal.append(bytes("four"));
    const end = wal.nextLsn;
    store.shortBytes = 13; // one whole frame of the batch below and part of the next
    store.failTruncate = cutFails;
    throws(() => wal.appendBatch([bytes("five"), bytes("six")]), (error: unknown) => {
      ok(error instanceof WalError && error.kind === "failed", String(error));
      equal(/failed too/.test(error.message), cutFails, error.message);
      return true;
    });
    // The cut drops the unsynced "four" with the partial frame. When the cut fails, the log
    // ends at the durable end all the same (what a reopen in this process, which retries the
    // cut, shows), never inside the partial frame.
    equal(wal.nextLsn, durable);
    equal(wal.durableLsn, durable);
    deepEqual(payloads(wal), ["one", "two", "three"], "no false corruption from the partial frame");
    deepEqual([...wal.iterFrom(wal.nextLsn)], []);
    equal(inner.size, cutFails ? end + 13 : durable, "the unsynced tail is cut when it can be");
    throws(() => wal.append(bytes("after")), kind("failed"));
  });
}

Deno.test("truncateBefore on a store that cannot drop a prefix throws unsupported", async (t) => {
  const check = (wal: Wal) => {
    wal.append(bytes("a"));
    const second = wal.append(bytes("b"));
    throws(() => wal.truncateBefore(second), (error: unknown) => {
      ok(error instanceof WalError && error.kind === "unsupported", String(error));
      ok(!error.isFatal);
      ok(/cannot drop its prefix/.test(error.message), error.message);
      return true;
    });
    equal(wal.truncateBefore(wal.head), wal.head, "the head itself is no change, and allowed");
    equal(wal.head, 0);
    equal(wal.append(bytes("c")), second + 9, "the log is not failed");
    deepEqual(payloads(wal), ["a", "b", "c"]);
  };
  await t.step("in memory", () => {
    using wal = Wal.withStore(new MemStore());
    check(wal);
  });
  await t.step("in a single file", () =>
    withTempDir((dir) => {
      using wal = Wal.open(join(dir, "one.wal"), { durability: "runtime" });
      check(wal);
    }));
});

/**
 * Runs `fn` while recording every `syncSync` of a handle opened with `Deno.openSync`: with the
 * runtime durability, that is every directory flush (files are flushed with `syncDataSync`).
 */
function recordingDirectoryFlushes(fn: () => void): string[] {
  const flushed: string[] = [];
  const original = Deno.openSync;
  Deno.openSync = (path: string | URL, options?: Deno.OpenOptions) => {
    const file = original(path, options);
    const sync = file.syncSync.bind(file);
    file.syncSync = () => {
      flushed.push(String(path));
      sync();
    };
    return file;
  };
  try {
    fn();
  } finally {
    Deno.openSync = original;
  }
  return flushed;
}

Deno.test("mkdir -p of a new log's directory flushes every directory it created and the parent", async () => {
  await withTempDir((root) => {
    const open = (dir: string) => FsDirectory.open(dir, { durability: "runtime" }).close();
    const dir = join(root, "a", "b", "c");
    const [a, b] = [join(root, "a"), join(root, "a", "b")];
    // Deepest first, up to the first that existed; then `dir` again for its new lock file.
    deepEqual(recordingDirectoryFlushes(() => open(dir)), [dir, b, a, root, dir]);
    const x = join(a, "x");
    deepEqual(
      recordingDirectoryFlushes(() => open(x)),
      [x, a, x],
      "stops at the first that existed",
    );
    deepEqual(recordingDirectoryFlushes(() => open(dir)), [], "an existing log's directory: none");
  });
});

for (const mode of MODES) {
  Deno.test({
    name: `${mode} durability refuses to flush a path that names another file than the log's`,
    ignore: mode === "shim" && !FFI_GRANTED,
    async fn() {
      await withTempDir((dir) => {
        const mine = join(dir, "mine.wal");
        const other = join(dir, "other.wal");
        Deno.writeFileSync(other, new Uint8Array(8));
        using file = Deno.openSync(mine, { read: true, write: true, create: true });
        const durability = chooseDurability({ mode, shimPath: undefined });
        throws(() => durability.flusherFor(file, other), (error: unknown) => {
          ok(error instanceof WalError && error.kind === "io", String(error));
          ok(/not the one the log has open/.test(error.message), error.message);
          return true;
        });
        durability.flusherFor(file, mine).close(); // its own path is accepted
      });
    },
  });

  Deno.test({
    name: `${mode} durability: a segment replaced under the writer fails the sync, not acks it`,
    ignore: mode === "shim" && !FFI_GRANTED,
    async fn() {
      await withTempDir(async (dir) => {
        const wal = Wal.openSegmented(join(dir, "log"), 1024, { durability: mode });
        wal.append(bytes("written to the segment the log has open"));
        const segment = join(dir, "log", segmentName(0));
        await Deno.rename(segment, join(dir, "moved.wal"));
        await Deno.writeFile(segment, new Uint8Array(0));
        await rejects(wal.sync(), (error: unknown) => {
          ok(error instanceof WalError && error.kind === "failed", String(error));
          ok(error.cause instanceof WalError && /renamed or replaced/.test(error.cause.message));
          return true;
        });
        equal(wal.durableLsn, 0);
        wal.close();
      });
    },
  });
}
