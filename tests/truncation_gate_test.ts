// Copyright 2026 the wal-db authors. MIT license.

import { equal, rejects, throws } from "node:assert/strict";
import { WalError } from "../src/errors.ts";
import { TruncationGate } from "../src/truncation_gate.ts";

const busy = (e: unknown) => e instanceof WalError && e.kind === "busy";

Deno.test("TruncationGate lets one truncation run at a time and opens before its outcome is heard", async () => {
  const gate = new TruncationGate();
  equal(gate.settled, undefined);
  gate.check("cut"); // idle: no throw
  const release = Promise.withResolvers<number>();
  const first = gate.run("checkpoint", () => release.promise);
  throws(() => gate.check("cut"), busy);
  await rejects(gate.run("checkpoint", () => Promise.resolve(1)), busy);
  const settled = gate.settled!;
  release.resolve(7);
  equal(await first, 7);
  gate.check("cut"); // open again as soon as the caller hears
  await settled;
  const failing = gate.run("checkpoint", () => Promise.reject(new Error("disk")));
  await rejects(failing, /disk/);
  equal(gate.settled, undefined, "a failed truncation opens the gate too");
  await rejects(
    gate.run("checkpoint", () => {
      throw new Error("at once");
    }),
    /at once/,
  );
  equal(gate.settled, undefined, "so does one that throws before its first await");
});
