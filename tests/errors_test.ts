// Copyright 2026 the wal-db authors. MIT license.

import { equal, ok } from "node:assert/strict";
import { isPermissionError, WalError } from "../src/errors.ts";

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
