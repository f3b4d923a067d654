// Copyright 2026 the wal-db authors. MIT license.
// Runs the examples: each through its exported API, and each as a program (`deno run -A`).

import { deepEqual, equal, match, ok } from "node:assert/strict";
import { join } from "node:path";
import { type Change, Follower } from "../examples/follower.ts";
import { startServer } from "../examples/http_server.ts";
import { KvStore } from "../examples/kv_store.ts";
import { jsonCodec } from "../src/typed.ts";
import { Wal } from "../src/open.ts";
import { withTempDir } from "./_helpers.ts";
import { FsDirectory, MemDirectory, Snapshots } from "../mod.ts";
import { Rng } from "./_rng.ts";
import { CRASH_MODEL_KEEP_ALL, CRASH_MODEL_LOSE_ALL, SimDirectory, SimDisk } from "./_sim_disk.ts";

const ROOT = new URL("..", import.meta.url).pathname;

function segmentsIn(dir: string): string[] {
  return [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) => n.endsWith(".wal")).sort();
}

Deno.test("kv_store: a restart rebuilds the map from the log", async () => {
  await withTempDir(async (dir) => {
    const expected = new Map<string, string>();
    {
      using store = KvStore.open(dir, { segmentSize: 256, checkpointEvery: 0 });
      for (let i = 0; i < 30; i++) {
        await store.set(`k${i % 7}`, `v${i}`);
        expected.set(`k${i % 7}`, `v${i}`);
      }
      await store.delete("k3");
      expected.delete("k3");
    }
    using store = KvStore.open(dir, { segmentSize: 256, checkpointEvery: 0 });
    deepEqual(store.entries(), expected);
    equal(store.replayedCount, 31);
  });
});

Deno.test("kv_store: a checkpoint writes the snapshot, then drops the log before it", async () => {
  await withTempDir(async (dir) => {
    const options = { segmentSize: 128, checkpointEvery: 0 };
    let covered: number;
    {
      using store = KvStore.open(dir, options);
      for (let i = 0; i < 40; i++) await store.set(`key${i % 5}`, `value ${i}`);
      const segmentsBefore = segmentsIn(dir).length;
      covered = store.wal.nextLsn;
      equal(await store.checkpoint(), covered);
      equal(store.wal.head, covered);
      ok(segmentsIn(dir).length < segmentsBefore, "whole segments below the head are removed");
      ok((await Deno.stat(join(dir, "snapshot"))).isFile);
      await store.set("after", "checkpoint");
    }
    const directory = FsDirectory.open(dir);
    try {
      equal(new Snapshots(directory).read()?.lsn, covered);
    } finally {
      directory.close();
    }
    using store = KvStore.open(dir, options);
    equal(store.replayedCount, 1);
    equal(store.get("after"), "checkpoint");
    equal(store.get("key4"), "value 39");
  });
});

Deno.test("kv_store: checkpoints run every checkpointEvery changes", async () => {
  await withTempDir(async (dir) => {
    using store = KvStore.open(dir, { segmentSize: 64, checkpointEvery: 10 });
    for (let i = 0; i < 25; i++) await store.set(`k${i}`, "x".repeat(20));
    ok(store.wal.head > 0);
    ok(!segmentsIn(dir).includes("00000000000000000000.wal"));
  });
});

Deno.test("kv_store: get() racing a set() shows the old value until the set is durable", async () => {
  using store = KvStore.open(new MemDirectory(), { checkpointEvery: 0 });
  await store.set("a", "old");
  const setting = store.set("a", "new");
  const deleting = store.delete("b");
  equal(store.get("a"), "old");
  deepEqual(store.entries(), new Map([["a", "old"]]));
  await setting;
  equal(store.get("a"), "new");
  await deleting;
});

/** A directory whose snapshot can never be put in place (a full disk at the rename). */
class NoSnapshotDirectory extends MemDirectory {
  override rename(from: string, to: string): void {
    if (to === "snapshot") throw new Error("ENOSPC: no space left on device");
    super.rename(from, to);
  }
}

Deno.test("kv_store: a failed checkpoint does not fail the durable change that started it", async () => {
  using store = KvStore.open(new NoSnapshotDirectory(), { segmentSize: 64, checkpointEvery: 2 });
  await store.set("a", "1");
  await store.set("b", "2"); // its checkpoint fails: the set is durable and applied all the same
  equal(store.get("b"), "2");
  match(String(store.lastCheckpointError), /ENOSPC/);
  await store.set("c", "3");
  deepEqual(store.entries(), new Map([["a", "1"], ["b", "2"], ["c", "3"]]));
});

Deno.test("kv_store: a crash after an unsynced set loses nothing that get() showed", async () => {
  for (const model of [CRASH_MODEL_LOSE_ALL, CRASH_MODEL_KEEP_ALL]) {
    const disk = new SimDisk();
    const store = KvStore.open(SimDirectory.open(disk), { segmentSize: 64, checkpointEvery: 0 });
    await store.set("a", "1");
    const unsynced = store.set("a", "2").catch((e) => e);
    equal(store.get("a"), "1");
    disk.powerOff(); // before the sync ran
    ok((await unsynced) instanceof Error, "the set was never acknowledged");
    equal(store.get("a"), "1", "a failed set never shows");
    using again = KvStore.open(SimDirectory.open(disk.crash(new Rng(1), model)), {
      segmentSize: 64,
    });
    ok(["1", "2"].includes(again.get("a")!), `${again.get("a")}`);
  }
});

Deno.test("kv_store: under crashes at random moments, a restart shows at least what get() showed", async () => {
  const KEYS = 5;
  let crashes = 0;
  for (let seed = 1; seed <= 60; seed++) {
    const rng = new Rng(seed);
    let disk = new SimDisk();
    /** Per key: the highest version get() returned, and the highest version ever set. */
    const shown = new Array<number>(KEYS).fill(0);
    const written = new Array<number>(KEYS).fill(0);
    for (let life = 0; life < 3; life++) {
      const options = { segmentSize: 64, checkpointEvery: rng.int(0, 4) };
      const store = KvStore.open(SimDirectory.open(disk), options);
      for (let k = 0; k < KEYS; k++) {
        const version = Number(store.get(`k${k}`) ?? "0");
        ok(version >= shown[k]!, `seed ${seed}: k${k} went back from ${shown[k]} to ${version}`);
        ok(version <= written[k]!, `seed ${seed}: k${k} at ${version}, never written`);
      }
      disk.powerOffAfter(rng.int(0, 60));
      const sets: Promise<unknown>[] = [];
      for (let step = 0; step < 40 && !disk.dead; step++) {
        const k = rng.below(KEYS);
        sets.push(store.set(`k${k}`, String(++written[k]!)).catch(() => {}));
        if (rng.chance(40)) await sets.at(-1);
        for (let j = 0; j < KEYS; j++) {
          shown[j] = Math.max(shown[j]!, Number(store.get(`k${j}`) ?? "0"));
        }
      }
      await Promise.all(sets);
      if (disk.dead) crashes++;
      disk.powerOffAfter(undefined);
      disk = disk.crash(rng);
    }
  }
  ok(crashes > 30, `${crashes} crashes`);
});

Deno.test("http_server: 200 concurrent POSTs are each acknowledged with an LSN that holds them", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "requests.wal");
    const running = await startServer({ path, port: 0 });
    let acknowledged: { lsn: number; body: string }[];
    try {
      acknowledged = await Promise.all(
        Array.from({ length: 200 }, async (_, i) => {
          const body = `request ${i}`;
          const response = await fetch(`http://127.0.0.1:${running.port}/`, {
            method: "POST",
            body,
          });
          equal(response.status, 201);
          const { lsn } = await response.json();
          return { lsn, body };
        }),
      );
    } finally {
      await running.close();
    }
    equal(new Set(acknowledged.map((a) => a.lsn)).size, 200);
    using reopened = Wal.open(path, { readOnly: true });
    const decoder = new TextDecoder();
    const logged = new Map([...reopened.iter()].map((e) => [e.lsn, decoder.decode(e.data)]));
    for (const { lsn, body } of acknowledged) equal(logged.get(lsn), body);
  });
});

Deno.test("http_server: other methods get 405 and oversized bodies 413, logging nothing", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "requests.wal");
    const running = await startServer({ path, config: { maxRecordSize: 16 } });
    try {
      const url = `http://127.0.0.1:${running.port}/`;
      const get = await fetch(url);
      equal(get.status, 405);
      equal(get.headers.get("allow"), "POST");
      await get.body?.cancel();
      const big = await fetch(url, { method: "POST", body: "x".repeat(17) });
      equal(big.status, 413);
      await big.body?.cancel();
      equal(running.wal.nextLsn, 0);
    } finally {
      await running.close();
    }
  });
});

Deno.test("follower: converges on what a writer logs while it follows", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "changes.wal");
    const writer = Wal.open(path).typed(jsonCodec<Change>());
    const expected = new Map<string, string>();
    const log = (change: Change) => {
      writer.append(change);
      if (change.op === "set") expected.set(change.key, change.value);
      else expected.delete(change.key);
    };
    for (let i = 0; i < 20; i++) log({ op: "set", key: `early${i % 3}`, value: `${i}` });
    await writer.wal.sync();
    const follower = Follower.open(path, { pollMs: 5 });
    try {
      follower.start();
      for (let i = 0; i < 200; i++) {
        log({ op: "set", key: `k${i % 13}`, value: `v${i}` });
        if (i % 7 === 0) log({ op: "delete", key: `k${(i + 3) % 13}` });
        if (i % 10 === 9) await writer.wal.sync();
      }
      await writer.wal.sync();
      await follower.caughtUp(writer.wal.nextLsn);
      equal(follower.position, writer.wal.nextLsn);
      deepEqual(follower.state, expected);
    } finally {
      await follower.stop();
      writer.wal.close();
    }
  });
});

/** Runs an example as a program and returns its exit code and output. */
async function runExample(name: string, args: string[] = []): Promise<[number, string]> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", "-A", join(ROOT, "examples", name), ...args],
    cwd: ROOT,
    stdin: "null",
  }).output();
  const text = new TextDecoder().decode(output.stdout) + new TextDecoder().decode(output.stderr);
  return [output.code, text];
}

Deno.test("kv_store.ts runs as a program: writes, restarts, reports", async () => {
  const [code, output] = await runExample("kv_store.ts");
  equal(code, 0, output);
  match(output, /restarted: 39 keys, \d+ records replayed after the snapshot/);
});

Deno.test("follower.ts runs as a program and catches up", async () => {
  const [code, output] = await runExample("follower.ts");
  equal(code, 0, output);
  match(output, /caught up at LSN \d+/);
});

Deno.test({
  name: "http_server.ts runs as a program, serves a POST and stops on SIGINT",
  ignore: Deno.build.os === "windows",
  async fn() {
    await withTempDir(async (dir) => {
      const path = join(dir, "requests.wal");
      const child = new Deno.Command(Deno.execPath(), {
        args: ["run", "--quiet", "-A", join(ROOT, "examples", "http_server.ts"), path, "0"],
        cwd: ROOT,
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
      let output = "";
      while (!/listening on (\S+)\n/.test(output)) {
        const { done, value } = await reader.read();
        if (done) break;
        output += value;
      }
      const url = output.match(/listening on (\S+)\n/)?.[1];
      ok(url !== undefined, output);
      const response = await fetch(url, { method: "POST", body: "hello" });
      equal(response.status, 201);
      deepEqual(await response.json(), { lsn: 0 });
      child.kill("SIGINT");
      for (let r = await reader.read(); !r.done; r = await reader.read()) output += r.value;
      const status = await child.status;
      const stderr = await new Response(child.stderr).text();
      equal(status.code, 0, stderr);
      match(output, /stopped; the log ends at LSN 13/);
    });
  },
});
