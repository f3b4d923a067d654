// Copyright 2026 the wal-db authors. MIT license.
// Tests for src/cleanup.ts: every step of a release runs, and what failed is thrown afterwards.

import { deepEqual, equal, ok, throws } from "node:assert/strict";
import { runEach } from "../src/cleanup.ts";

Deno.test("runEach: runs every step in order and throws nothing when none fails", () => {
  const ran: number[] = [];
  runEach([() => ran.push(1), () => ran.push(2), () => ran.push(3)], "release");
  deepEqual(ran, [1, 2, 3]);
});

Deno.test("runEach: no steps is no error", () => {
  runEach([], "release");
});

Deno.test("runEach: one failed step still lets the later steps run, and its own error is thrown", () => {
  const ran: string[] = [];
  const failure = new Error("close reported EIO");
  let thrown: unknown;
  try {
    runEach([
      () => ran.push("first"),
      () => {
        ran.push("second");
        throw failure;
      },
      () => ran.push("third"),
    ], "close the log");
  } catch (error) {
    thrown = error;
  }
  deepEqual(ran, ["first", "second", "third"]);
  // The error itself, not a wrapper: callers test its kind and message.
  equal(thrown, failure);
});

Deno.test("runEach: several failures become one AggregateError naming each, in order", () => {
  const ran: number[] = [];
  const first = new Error("truncate failed");
  throws(
    () =>
      runEach([
        () => {
          ran.push(1);
          throw first;
        },
        () => ran.push(2),
        () => {
          ran.push(3);
          // Not an Error: its string form goes into the message.
          throw "unlock refused";
        },
      ], "release segment 7"),
    AggregateError,
  );
  deepEqual(ran, [1, 2, 3]);
});

Deno.test("runEach: the AggregateError keeps every error and names what was being done", () => {
  const first = new Error("truncate failed");
  let thrown: unknown;
  try {
    runEach([
      () => {
        throw first;
      },
      () => {
        throw "unlock refused";
      },
    ], "release segment 7");
  } catch (error) {
    thrown = error;
  }
  ok(thrown instanceof AggregateError);
  deepEqual(thrown.errors, [first, "unlock refused"]);
  equal(thrown.message, "release segment 7: truncate failed; unlock refused");
});
