// Copyright 2026 the wal-db authors. MIT license.

import { equal, ok } from "node:assert/strict";
import { startBackgroundTimer } from "../src/timer.ts";

Deno.test({
  name: "startBackgroundTimer() ticks until stopped and leaves no timer behind",
  sanitizeOps: true,
  async fn() {
    let ticks = 0;
    const stop = startBackgroundTimer(1, () => ticks++);
    for (let i = 0; i < 200 && ticks < 3; i++) await new Promise((r) => setTimeout(r, 2));
    stop();
    ok(ticks >= 3);
    const seen = ticks;
    await new Promise((r) => setTimeout(r, 10));
    equal(ticks, seen);
  },
});

Deno.test("startBackgroundTimer() does not keep a process alive", async () => {
  const code = `import { startBackgroundTimer } from ${
    JSON.stringify(new URL("../src/timer.ts", import.meta.url).href)
  };
    startBackgroundTimer(10, () => {}); console.log("started");`;
  const started = performance.now();
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", code],
    stdout: "piped",
    signal: AbortSignal.timeout(20_000),
  })
    .output();
  ok(out.success);
  equal(new TextDecoder().decode(out.stdout).trim(), "started");
  ok(performance.now() - started < 20_000);
});
