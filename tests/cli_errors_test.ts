// Copyright 2026 the wal-db authors. MIT license.
// Tests for cli/errors.ts: which exit code and which message each kind of error gets.

import { equal, match } from "node:assert/strict";
import {
  CliError,
  EXIT_DAMAGED_OR_INVALID_LSN,
  EXIT_INTERNAL,
  EXIT_UNREADABLE,
  EXIT_USAGE,
  exitCodeOf,
  messageOf,
  UsageError,
} from "../cli/errors.ts";
import { WalError } from "../src/errors.ts";

Deno.test("exitCodeOf() gives 64 to usage errors and a CliError its own code", () => {
  equal(exitCodeOf(new UsageError("bad")), EXIT_USAGE);
  equal(exitCodeOf(new CliError("declined", 1)), 1);
});

Deno.test("exitCodeOf() gives 2 to an invalid LSN and 3 to every other WalError", () => {
  equal(exitCodeOf(new WalError("invalid-lsn", "x")), EXIT_DAMAGED_OR_INVALID_LSN);
  for (const kind of ["io", "corruption", "locked", "read-only"] as const) {
    equal(exitCodeOf(new WalError(kind, "x")), EXIT_UNREADABLE, kind);
  }
});

Deno.test("exitCodeOf() gives 3 to operating-system and permission errors", () => {
  equal(exitCodeOf(new Deno.errors.NotFound("gone")), EXIT_UNREADABLE);
  equal(exitCodeOf(new Deno.errors.PermissionDenied("no")), EXIT_UNREADABLE);
  equal(exitCodeOf(new Deno.errors.NotCapable("no")), EXIT_UNREADABLE);
});

Deno.test("exitCodeOf() gives 70 to anything it does not know: a bug", () => {
  equal(exitCodeOf(new TypeError("oops")), EXIT_INTERNAL);
  equal(exitCodeOf("thrown string"), EXIT_INTERNAL);
});

Deno.test("messageOf() adds no read-command hint to a locked log: only truncate meets one", () => {
  equal(
    messageOf(new WalError("locked", "Cannot open log: it is locked")),
    "Cannot open log: it is locked",
  );
});

Deno.test("messageOf() keeps the stack of an internal error for the bug report", () => {
  match(messageOf(new TypeError("oops")), /^internal error: TypeError: oops\n\s+at /);
  equal(messageOf(new UsageError("missing path")), "missing path");
});
