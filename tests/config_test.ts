// Copyright 2026 the wal-db authors. MIT license.

import { deepEqual, equal, throws } from "node:assert/strict";
import { resolveConfig, type WalConfig } from "../src/config.ts";
import { crc32cRaw, frameChecksum } from "../src/crc32c.ts";

Deno.test("resolveConfig() fills in the defaults", () => {
  const { checksum, rawCrc, ...rest } = resolveConfig();
  equal(checksum, frameChecksum);
  equal(rawCrc, crc32cRaw);
  deepEqual(rest, {
    maxRecordSize: 67108864,
    recoveryPolicy: "tolerate-torn-tail",
    durability: "auto",
    shimPath: undefined,
    preallocateSize: undefined,
    syncIntervalMs: undefined,
    commitDelayMs: 0,
    readOnly: false,
    lock: undefined,
    writeMode: "immediate",
    scanner: undefined,
    onRecoveryProgress: undefined,
  });
});

Deno.test("resolveConfig() takes both write modes and rejects any other", () => {
  equal(resolveConfig({ writeMode: "gathered" }).writeMode, "gathered");
  equal(resolveConfig({ writeMode: "immediate" }).writeMode, "immediate");
  for (const writeMode of ["batched", "", 1, null]) {
    throws(
      () => resolveConfig({ writeMode } as unknown as WalConfig),
      (e) => e instanceof TypeError && /writeMode must be one of/.test(e.message),
    );
  }
});

Deno.test("resolveConfig() takes onRecoveryProgress only as a function", () => {
  const report = () => {};
  equal(resolveConfig({ onRecoveryProgress: report }).onRecoveryProgress, report);
  throws(
    () => resolveConfig({ onRecoveryProgress: 5 as unknown as () => void }),
    /onRecoveryProgress must be a function, got number/,
  );
});

Deno.test("resolveConfig() accepts the edges of maxRecordSize", () => {
  deepEqual(resolveConfig({ maxRecordSize: 0 }).maxRecordSize, 0);
  deepEqual(resolveConfig({ maxRecordSize: 0xffffffff }).maxRecordSize, 0xffffffff);
});

Deno.test("resolveConfig() rejects values out of range or of the wrong type", () => {
  for (const maxRecordSize of [-1, 0.5, 2 ** 32, Infinity, NaN]) {
    throws(() => resolveConfig({ maxRecordSize }), RangeError);
  }
  throws(() => resolveConfig({ durability: "fast" as "auto" }), TypeError);
  throws(() => resolveConfig({ recoveryPolicy: "skip-all" as "strict" }), TypeError);
  throws(() => resolveConfig({ shimPath: 3 as unknown as string }), TypeError);
  throws(() => resolveConfig(null as unknown as object), TypeError);
});

Deno.test("resolveConfig() reads the sync policy and the commit delay", () => {
  deepEqual(resolveConfig({ syncPolicy: "manual" }).syncIntervalMs, undefined);
  deepEqual(resolveConfig({ syncPolicy: { intervalMs: 10 } }).syncIntervalMs, 10);
  deepEqual(resolveConfig({ commitDelayMs: 0.5 }).commitDelayMs, 0.5);
  throws(() => resolveConfig({ syncPolicy: { intervalMs: 0 } }), RangeError);
  throws(() => resolveConfig({ syncPolicy: { intervalMs: NaN } }), RangeError);
  throws(() => resolveConfig({ syncPolicy: "sometimes" as "manual" }), TypeError);
  throws(() => resolveConfig({ commitDelayMs: -1 }), RangeError);
  throws(() => resolveConfig({ commitDelayMs: "1" as unknown as number }), TypeError);
});

Deno.test("resolveConfig() reads readOnly and lock, and rejects bad values", () => {
  deepEqual(resolveConfig({ readOnly: true, lock: "none" }).lock, "none");
  throws(() => resolveConfig({ readOnly: "yes" as unknown as boolean }), TypeError);
  throws(() => resolveConfig({ lock: "optimistic" as "none" }), TypeError);
});
