// Copyright 2026 the wal-db authors. MIT license.

import { equal } from "node:assert/strict";
import { ChangeSignal } from "../src/change_signal.ts";

const sanitized = { sanitizeOps: true, sanitizeResources: true };

Deno.test({
  name: "ChangeSignal.wait() resolves on notify and leaves no timer behind",
  ...sanitized,
  async fn() {
    const changes = new ChangeSignal();
    let woke = false;
    const waiting = changes.wait(undefined, 10_000).then(() => woke = true);
    await Promise.resolve();
    equal(woke, false);
    changes.notify();
    await waiting;
    equal(woke, true);
  },
});

Deno.test({
  name: "ChangeSignal.wait() resolves when the signal aborts, and after pollMs",
  ...sanitized,
  async fn() {
    const changes = new ChangeSignal();
    const controller = new AbortController();
    const aborted = changes.wait(controller.signal, undefined);
    controller.abort();
    await aborted;
    const started = performance.now();
    await changes.wait(undefined, 5);
    equal(performance.now() - started >= 4, true);
  },
});

Deno.test("ChangeSignal.notify() wakes every waiter once and forgets them", async () => {
  const changes = new ChangeSignal();
  let count = 0;
  const all = Promise.all(
    [1, 2, 3].map(() => changes.wait(undefined, undefined).then(() => count++)),
  );
  changes.notify();
  await all;
  equal(count, 3);
  changes.notify(); // nobody left to wake
  equal(count, 3);
});
