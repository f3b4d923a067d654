// Copyright 2026 the wal-db authors. MIT license.

import { deepEqual, equal, ok, rejects, throws } from "node:assert/strict";
import { join } from "node:path";
import fc from "fast-check";
import { Wal } from "../src/open.ts";
import { WalError, type WalErrorKind } from "../src/errors.ts";
import { MemStore } from "../src/mem_store.ts";
import type { WalStore } from "../src/store.ts";
import { SimDisk, SimStore } from "./_sim_disk.ts";
import {
  bytes,
  concat,
  ForwardingStore,
  hex,
  logImage,
  lsnsOf,
  payload,
  readBytes,
  withTempDir,
} from "./_helpers.ts";

function kind(expected: WalErrorKind) {
  return (e: unknown) => e instanceof WalError && e.kind === expected;
}

function records(wal: Wal): Uint8Array[] {
  return [...wal.iter()].map((entry) => entry.data);
}

Deno.test("Wal writes the spec's test vectors byte for byte", async () => {
  await withTempDir((dir) => {
    const path = join(dir, "vectors.wal");
    const wal = Wal.open(path);
    deepEqual(
      [wal.append(new Uint8Array(0)), wal.append(bytes("abc")), wal.append(bytes("hello"))],
      [
        0,
        8,
        19,
      ],
    );
    wal.syncSync();
    wal.close();
    deepEqual(
      readBytes(path),
      hex(
        "c7 4b 67 48 00 00 00 00 f8 83 14 55 03 00 00 00 61 62 63 a1 b1 17 4e 05 00 00 00 68 65 6c 6c 6f",
      ),
    );
  });
});

Deno.test("Wal round-trips 1,000 records of mixed sizes over several reopen cycles", async () => {
  const max = 64 * 1024;
  const sizes = Array.from(
    { length: 1000 },
    (_, i) => i % 100 === 0 ? 0 : i % 97 === 0 ? max : (i * 37) % 700,
  );
  const all = sizes.map((size, i) => payload(size, i));
  await withTempDir(async (dir) => {
    const path = join(dir, "round.wal");
    for (let cycle = 0; cycle < 4; cycle++) {
      using wal = Wal.open(path, { maxRecordSize: max });
      const part = all.slice(cycle * 250, cycle * 250 + 250);
      const expectedStart = lsnsOf(all)[cycle * 250] ?? 0;
      equal(wal.nextLsn, expectedStart);
      const lsns = part.map((p) => wal.append(p));
      deepEqual(lsns, lsnsOf(all).slice(cycle * 250, cycle * 250 + 250));
      await wal.sync();
      equal(wal.durableLsn, wal.nextLsn);
    }
    using wal = Wal.open(path, { maxRecordSize: max });
    deepEqual([...wal.iter()].map((e) => e.lsn), lsnsOf(all));
    deepEqual(records(wal), all);
    equal(wal.recovery.recordCount, 1000);
    equal(wal.recovery.damage, undefined);
  });
});

Deno.test("Wal accepts a record of exactly the default maxRecordSize (64 MiB), not one more", () => {
  const store = new MemStore();
  const wal = Wal.withStore(store);
  const big = new Uint8Array(64 * 1024 * 1024).fill(0xab);
  equal(wal.append(big), 0);
  throws(() => wal.append(new Uint8Array(64 * 1024 * 1024 + 1)), kind("record-too-large"));
  equal(wal.nextLsn, 8 + big.length);
  wal.close();
  const again = Wal.withStore(new MemStore(store.bytes()));
  equal(again.recovery.recordCount, 1);
  equal([...again.iter()][0]?.data.length, big.length);
  again.close();
});

Deno.test("Wal.open() recovers exactly the records that lie wholly before any cut", async () => {
  await withTempDir((dir) => {
    let run = 0;
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 80 }), { maxLength: 30 }),
        fc.nat(),
        (written, cutSeed) => {
          const path = join(dir, `cut-${run++}.wal`);
          const wal = Wal.open(path);
          const lsns = written.map((p) => wal.append(p));
          wal.close();
          const full = readBytes(path);
          const cut = cutSeed % (full.length + 1);
          Deno.truncateSync(path, cut);
          const kept = written.filter((p, i) => lsns[i]! + 8 + p.length <= cut);
          if (kept.length === 0 && full.subarray(0, cut).every((b) => b === 0)) {
            // Only zero bytes left (a first CRC whose low bytes are zero, cut inside them): the
            // reserve a writer leaves ahead of its end, not damage: an empty log, nothing aside.
            const empty = Wal.open(path);
            equal(empty.nextLsn, 0);
            equal(empty.recovery.damage, undefined);
            empty.close();
            Deno.removeSync(path);
            return;
          }
          if (kept.length === 0 && cut > 0 && cut % 512 !== 0) {
            // Part of a first frame off a sector's end: no crash leaves that, and nothing tells
            // it from another program's file: refused, unchanged.
            throws(
              () => Wal.open(path),
              (e: unknown) => e instanceof WalError && e.kind === "corruption",
            );
            equal(readBytes(path).length, cut);
            Deno.removeSync(path);
            return;
          }
          if (kept.length === 0 && cut > 0) {
            // A first frame cut short cannot be told from another program's file: kept aside.
            const aside = Wal.open(path);
            equal(aside.recovery.damage?.setAsidePath, `${path}.damaged-0`);
            deepEqual(readBytes(`${path}.damaged-0`), full.subarray(0, cut));
            equal(aside.nextLsn, 0);
            aside.close();
            Deno.removeSync(`${path}.damaged-0`);
            Deno.removeSync(path);
            return;
          }
          using reopened = Wal.open(path);
          deepEqual(records(reopened), kept);
          const end = kept.length === 0 ? 0 : lsns[kept.length - 1]! + 8 + kept.at(-1)!.length;
          equal(reopened.nextLsn, end);
          // A tail that happens to be all zeros is the reserve, not a cut (docs/RECOVERY.md).
          const zeros = full.subarray(end, cut).every((b) => b === 0) && cut > end;
          equal(reopened.recovery.cutSize, zeros ? 0 : cut - end);
          equal(reopened.recovery.reserveSize, zeros ? cut - end : 0);
          equal(reopened.append(bytes("next")), end);
          Deno.removeSync(path);
        },
      ),
      { numRuns: 150 },
    );
  });
});

Deno.test("Wal.open() on hostile files", async (t) => {
  await withTempDir(async (dir) => {
    const good = [bytes("first"), bytes("second"), bytes("third")];
    let n = 0;
    const file = (content: Uint8Array) => {
      const path = join(dir, `hostile-${n++}.wal`);
      Deno.writeFileSync(path, content);
      return path;
    };

    await t.step("garbage with a plausible first header is refused and left alone", () => {
      const content = concat([hex("01 02 03 04 05 00 00 00"), bytes("xyzzy")]);
      const path = file(content);
      throws(
        () => Wal.open(path),
        (e: unknown) => e instanceof WalError && e.kind === "corruption",
      );
      deepEqual(readBytes(path), content);
    });

    await t.step("a zero-filled file is an empty log with a reserve", () => {
      const path = file(new Uint8Array(8192));
      using wal = Wal.open(path);
      equal(wal.nextLsn, 0);
      equal(wal.recovery.damage, undefined);
      equal(wal.recovery.reserveSize, 8192);
    });

    await t.step("a header with length 0xFFFFFFF0 is refused without a large allocation", () => {
      const content = concat([hex("aa bb cc dd f0 ff ff ff"), new Uint8Array(32)]);
      const path = file(content);
      throws(() => Wal.open(path), kind("corruption"));
      deepEqual(readBytes(path), content);
    });

    await t.step("a text file is refused under every policy and left unchanged", () => {
      const content = bytes("# config\nname = value\nother = thing\n");
      const path = file(content);
      throws(() => Wal.open(path), kind("corruption"));
      throws(() => Wal.open(path, { recoveryPolicy: "strict" }), kind("corruption"));
      deepEqual(readBytes(path), content);
    });

    await t.step(
      "a flipped byte in a middle record: the bytes after it are set aside exactly",
      () => {
        const content = logImage(good);
        content[13 + 10]! ^= 0x01;
        const path = file(content);
        using wal = Wal.open(path);
        deepEqual(records(wal), [good[0]]);
        const damage = wal.recovery.damage!;
        equal(damage.lsn, 13);
        equal(damage.intactRecordCount, 1);
        equal(damage.setAsidePath, `${path}.damaged-13`);
        deepEqual(readBytes(damage.setAsidePath!), content.subarray(13));
        deepEqual(readBytes(path), content.subarray(0, 13));
        equal(wal.append(bytes("after")), 13);
      },
    );

    await t.step("the same damage under strict is refused and the file is unchanged", () => {
      const content = logImage(good);
      content[13 + 10]! ^= 0x01;
      const path = file(content);
      throws(() => Wal.open(path, { recoveryPolicy: "strict" }), (e: unknown) => {
        ok(e instanceof WalError && e.kind === "corruption" && e.lsn === 13);
        ok(/1 intact records \(13 bytes\)/.test(e.message), e.message);
        return true;
      });
      deepEqual(readBytes(path), content);
      throws(() => Deno.statSync(`${path}.damaged-13`), Deno.errors.NotFound);
    });

    await t.step("a torn header and a torn payload at the end are cut", () => {
      for (const cut of [3, 9]) {
        const content = concat([logImage(good), logImage([bytes("torn")]).subarray(0, cut)]);
        const path = file(content);
        using wal = Wal.open(path);
        deepEqual(records(wal), good);
        equal(wal.recovery.cutSize, cut);
        equal(wal.recovery.damage?.reason, cut < 8 ? "partial-header" : "partial-record");
        equal(readBytes(path).length, 40);
      }
    });
  });
});

Deno.test("Wal.open() locks the log: a second open fails with locked until the first closes", async () => {
  await withTempDir((dir) => {
    const path = join(dir, "locked.wal");
    const first = Wal.open(path);
    throws(() => Wal.open(path), kind("locked"));
    first.close();
    Wal.open(path).close();
  });
});

Deno.test("Wal.open() is locked against another process", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "locked.wal");
    const script = `import { Wal } from ${
      JSON.stringify(new URL("../mod.ts", import.meta.url).href)
    };
      try { Wal.open(${JSON.stringify(path)}); console.log("opened"); }
      catch (e) { console.log(e.kind); }`;
    const run = async () => {
      const output = await new Deno.Command(Deno.execPath(), {
        args: ["eval", "--no-check", script],
        stdout: "piped",
        stderr: "inherit",
      }).output();
      return new TextDecoder().decode(output.stdout).trim();
    };
    const wal = Wal.open(path);
    equal(await run(), "locked");
    wal.close();
    equal(await run(), "opened");
  });
});

Deno.test("Wal.append() validates its input and leaves the log unchanged on rejection", () => {
  const store = new MemStore();
  using wal = Wal.withStore(store, { maxRecordSize: 4 });
  throws(() => wal.append("abc" as unknown as Uint8Array), TypeError);
  throws(() => wal.append(new Uint8Array(5)), kind("record-too-large"));
  throws(() => wal.appendBatch([new Uint8Array(1), new Uint8Array(5)]), kind("record-too-large"));
  throws(() => wal.appendBatch([new Uint8Array(1), [1] as unknown as Uint8Array]), TypeError);
  equal(store.size, 0);
  deepEqual(wal.appendBatch([new Uint8Array(4), new Uint8Array(0)]), [0, 12]);
  equal(store.size, 20);
  deepEqual(wal.appendBatch([]), []);
});

Deno.test("Wal rejects bad configuration with TypeError or RangeError", () => {
  for (const maxRecordSize of [-1, 1.5, 2 ** 32, NaN]) {
    throws(() => Wal.withStore(new MemStore(), { maxRecordSize }), RangeError);
  }
  throws(() => Wal.withStore(new MemStore(), { recoveryPolicy: "lenient" as "strict" }), TypeError);
  throws(() => Wal.withStore({} as WalStore), TypeError);
});

Deno.test("Wal.iter() reads through its own position and yields data the caller owns", () => {
  using wal = Wal.withStore(new MemStore());
  wal.append(bytes("one"));
  wal.append(bytes("two"));
  const iterator = wal.iter();
  const first = iterator.next().value!;
  equal(wal.append(bytes("three")), 22);
  first.data.fill(0);
  deepEqual(records(wal), [bytes("one"), bytes("two"), bytes("three")]);
  // The iterator ends where the log ended when it was created.
  deepEqual([...iterator].map((e) => e.lsn), [11]);
});

Deno.test("Wal methods throw closed after close(), which is idempotent", async () => {
  const wal = Wal.withStore(new MemStore());
  wal.close();
  wal.close();
  throws(() => wal.append(new Uint8Array(1)), kind("closed"));
  throws(() => wal.syncSync(), kind("closed"));
  throws(() => wal.iter(), kind("closed"));
  await rejects(wal.sync(), kind("closed"));
});

/** A memory store whose writes and flushes can be made to fail. */
class FaultyStore extends MemStore {
  failAppend = false;
  failFlush = false;
  override append(data: Uint8Array): void {
    if (this.failAppend) {
      super.append(data.subarray(0, data.length >> 1)); // a short write, then the error
      throw new Error("ENOSPC: no space left on device");
    }
    super.append(data);
  }
  override flushSync(): void {
    if (this.failFlush) throw new Error("EIO: input/output error");
    super.flushSync();
  }
  override async flush(): Promise<void> {
    await super.flush();
    if (this.failFlush) throw new Error("EIO: input/output error");
  }
}

Deno.test("Wal is failed after a write fails: later appends and syncs throw failed", async () => {
  const store = new FaultyStore();
  const wal = Wal.withStore(store);
  wal.append(bytes("kept"));
  wal.syncSync();
  const durable = wal.durableLsn;
  wal.append(bytes("not synced"));
  store.failAppend = true;
  throws(() => wal.append(bytes("lost record")), kind("failed"));
  // An append may flush (a segment rotation): the log is cut back to its durable end.
  equal(wal.nextLsn, durable);
  store.failAppend = false;
  throws(() => wal.append(bytes("more")), (e: unknown) => {
    ok(e instanceof WalError && e.kind === "failed" && e.isFatal);
    ok(e.cause instanceof Error && /ENOSPC/.test(e.cause.message));
    return true;
  });
  await rejects(wal.sync(), kind("failed"));
  throws(() => wal.syncSync(), kind("failed"));
  equal(wal.durableLsn, durable);
  wal.close();
  // Reopening recovers the synced record; the short write and what followed it are gone.
  using again = Wal.withStore(new MemStore(store.bytes()));
  deepEqual(records(again), [bytes("kept")]);
});

Deno.test("Wal is failed after a flush fails, and a later flush that would work is not tried", async () => {
  const store = new FaultyStore();
  const wal = Wal.withStore(store);
  wal.append(bytes("a"));
  await wal.sync();
  const durable = wal.durableLsn;
  wal.append(bytes("b"));
  store.failFlush = true;
  const waiting = [wal.sync(), wal.sync()];
  for (const p of waiting) await rejects(p, kind("failed"));
  store.failFlush = false;
  const flushes = store.flushCount;
  await rejects(wal.sync(), kind("failed"));
  throws(() => wal.syncSync(), kind("failed"));
  throws(() => wal.append(bytes("c")), kind("failed"));
  equal(store.flushCount, flushes);
  equal(wal.durableLsn, durable);
  wal.close();
});

Deno.test("Wal.syncSync() failure fails the log the same way", () => {
  const store = new FaultyStore();
  const wal = Wal.withStore(store);
  wal.append(bytes("a"));
  store.failFlush = true;
  throws(() => wal.syncSync(), kind("failed"));
  store.failFlush = false;
  throws(() => wal.syncSync(), kind("failed"));
  equal(wal.durableLsn, 0);
  wal.close();
});

Deno.test("Wal.sync() coalesces concurrent callers into few flushes", async () => {
  const store = new MemStore();
  using wal = Wal.withStore(store);
  const before = store.flushCount;
  await Promise.all(Array.from({ length: 64 }, async (_, i) => {
    for (let round = 0; round < 10; round++) {
      wal.append(payload(32, i * 100 + round));
      await wal.sync();
    }
  }));
  const flushes = store.flushCount - before;
  ok(flushes <= 20, `${flushes} flushes for 640 syncs`);
  equal(wal.durableLsn, wal.nextLsn);
  await wal.sync();
  equal(store.flushCount - before, flushes, "a sync with nothing new does not flush");
});

Deno.test("Wal.open() accepts a file URL and reports its flush mechanism", async () => {
  await withTempDir((dir) => {
    const url = new URL(`file://${join(dir, "url.wal")}`);
    using wal = Wal.open(url, { durability: "runtime" });
    equal(wal.durability, "FsFile.syncData (runtime)");
  });
});

Deno.test({
  name: "Wal with an interval sync policy flushes without calls and stops its timer on close",
  sanitizeOps: true,
  sanitizeResources: true,
  async fn() {
    const store = new MemStore();
    const wal = Wal.withStore(store, { syncPolicy: { intervalMs: 5 } });
    const before = store.flushCount;
    wal.append(bytes("flushed by the timer"));
    for (let i = 0; i < 100 && wal.durableLsn < wal.nextLsn; i++) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    equal(wal.durableLsn, wal.nextLsn);
    ok(store.flushCount > before);
    wal.close();
  },
});

Deno.test("Wal with an interval sync policy is failed when a background flush fails", async () => {
  const store = new FaultyStore();
  const wal = Wal.withStore(store, { syncPolicy: { intervalMs: 2 } });
  store.failFlush = true;
  wal.append(bytes("never durable"));
  for (let i = 0; i < 200; i++) {
    await new Promise((resolve) => setTimeout(resolve, 2));
    try {
      wal.append(bytes("probe"));
    } catch (error) {
      ok(error instanceof WalError && error.kind === "failed");
      equal(wal.durableLsn, 0);
      wal.close();
      return;
    }
  }
  wal.close();
  throw new Error("the failing background flush never failed the log");
});

Deno.test("Wal with a commit delay still makes every caller durable", async () => {
  const store = new MemStore();
  using wal = Wal.withStore(store, { commitDelayMs: 2 });
  await Promise.all(Array.from({ length: 16 }, async (_, i) => {
    for (let round = 0; round < 5; round++) {
      const lsn = wal.append(payload(16, i + round));
      await wal.sync();
      ok(wal.durableLsn >= lsn + 24);
    }
  }));
  equal(wal.durableLsn, wal.nextLsn);
});

Deno.test("Wal under the skip policy yields every intact record past a flipped byte", () => {
  const good = [bytes("first"), bytes("second"), bytes("third"), bytes("fourth")];
  const image = logImage(good);
  image[13 + 9]! ^= 0x01; // inside "second"
  const store = new MemStore(image);
  const wal = Wal.withStore(store, { recoveryPolicy: "skip" });
  deepEqual(records(wal), [good[0], good[2], good[3]]);
  deepEqual(wal.recovery.ranges.map((r) => [r.lsn, r.size, r.action]), [[13, 14, "skipped"]]);
  // Appends continue after the last intact record; the skipped range stays as it was.
  equal(wal.append(bytes("fifth")), image.length);
  deepEqual([...wal.iterFrom(27)].map((e) => e.data), [good[2], good[3], bytes("fifth")]);
  throws(() => wal.iterFrom(13), kind("invalid-lsn"));
  wal.close();
  // Reopening with skip again gives the same records, and nothing was destroyed.
  using again = Wal.withStore(new MemStore(store.bytes()), { recoveryPolicy: "skip" });
  deepEqual(records(again), [good[0], good[2], good[3], bytes("fifth")]);
});

Deno.test("Wal.iter() reports damage that appears while the log is open as corruption", () => {
  const store = new MemStore();
  const wal = Wal.withStore(store);
  wal.append(bytes("one"));
  wal.append(bytes("two"));
  wal.close();
  const image = store.bytes();
  const damaged = new MemStore(image);
  using reopened = Wal.withStore(damaged);
  // Flip a byte behind the log's back.
  const sneaky = damaged as unknown as { readAt(o: number, b: Uint8Array): number };
  const original = sneaky.readAt.bind(damaged);
  sneaky.readAt = (offset, buffer) => {
    const n = original(offset, buffer);
    if (offset <= 12 && offset + n > 12) buffer[12 - offset]! ^= 1;
    return n;
  };
  throws(
    () => [...reopened.iter()],
    (e: unknown) => kind("corruption")(e) && (e as WalError).lsn === 11,
  );
});

Deno.test("await using closes the log with its lock released, also while a flush runs", async () => {
  const disk = new SimDisk();
  const gate = Promise.withResolvers<void>();
  const started = Promise.withResolvers<void>();
  /** Its flush waits for the gate: a flush still running when the scope ends. */
  class SlowFlush extends ForwardingStore {
    override flush(): Promise<void> {
      started.resolve();
      return gate.promise.then(() => this.inner.flush());
    }
  }
  {
    await using wal = Wal.withStore(new SlowFlush(SimStore.open(disk)));
    wal.append(bytes("one"));
    const pending = wal.sync();
    pending.catch(() => {});
    await started.promise;
    // Released only after the scope ends; the disposer must wait for it, and for the store.
    setTimeout(() => gate.resolve(), 0);
  }
  // The store's lock is free: a plain dispose would have returned with the flush still
  // running and the store still open, and this open would be refused as "locked".
  using again = Wal.withStore(SimStore.open(disk));
  equal([...again.iter()].length, 1);
});
