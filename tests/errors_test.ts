// Copyright 2026 the wal-db authors. MIT license.

import { equal, ok } from "node:assert/strict";
import { isIoError, isPermissionError, WalError } from "../src/errors.ts";

Deno.test("WalError carries kind, lsn and cause, and is an Error", () => {
  const cause = new Error("EIO");
  const error = new WalError("failed", "Cannot flush", { lsn: 42, cause });
  ok(error instanceof Error);
  equal(error.name, "WalError");
  equal(error.kind, "failed");
  equal(error.lsn, 42);
  equal(error.cause, cause);
});

Deno.test("WalError.isFatal is true for failed and corruption only", () => {
  const fatal = ["failed", "corruption"];
  for (
    const kind of ["io", "record-too-large", "corruption", "closed", "locked", "failed"] as const
  ) {
    equal(new WalError(kind, "x").isFatal, fatal.includes(kind), kind);
  }
});

Deno.test("WalError without options has no lsn and no cause", () => {
  const error = new WalError("closed", "closed");
  equal(error.lsn, undefined);
  equal("cause" in error, false);
});

Deno.test("isPermissionError() is true for missing permissions only", () => {
  equal(isPermissionError(new Deno.errors.NotCapable("Requires write access")), true);
  equal(isPermissionError(new Deno.errors.PermissionDenied("EACCES")), true);
  equal(isPermissionError(new Deno.errors.NotFound("ENOENT")), false);
  equal(isPermissionError(new WalError("io", "EIO")), false);
  equal(isPermissionError("NotCapable"), false);
});

Deno.test("isIoError() is true for an I/O call's error, bare or as an io WalError's cause", () => {
  const os = (() => {
    try {
      Deno.readFileSync("/nonexistent-wal-db-test/x");
    } catch (error) {
      return error;
    }
  })();
  equal(isIoError(os), true, "Deno's own error carries its code");
  const shim = Object.assign(new Error("wal_shim_datasync failed"), { code: -5 });
  equal(isIoError(shim), true, "the shim's negative errno");
  equal(isIoError(new WalError("io", "Cannot flush", { cause: os })), true);
  equal(isIoError(new WalError("io", "Cannot flush")), false, "no I/O call behind it");
  equal(isIoError(new WalError("closed", "closed", { cause: os })), false);
  equal(isIoError(new Deno.errors.NotCapable("Requires write access")), false);
  const denied = Object.assign(new Deno.errors.PermissionDenied("EACCES"), { code: "EACCES" });
  equal(isIoError(denied), false, "a permission surfaces");
  equal(isIoError(new TypeError("a bug")), false);
  equal(isIoError(Object.assign(new Error("x"), { code: { not: "a code" } })), false);
  equal(isIoError("ENOSPC"), false);
});
