// Copyright 2026 the wal-db authors. MIT license.
// Tests for src/failed_tails.ts: the process-wide table of logs whose failed flush left bytes
// that could not be discarded. The table lives for the whole process, so each test uses its own
// identities.

import { deepEqual, equal } from "node:assert/strict";
import { forgetUndiscarded, rememberUndiscarded, undiscardedOf } from "../src/failed_tails.ts";

let serial = 0;
/** An identity no other test uses. */
function identity(): string {
  return `failed-tails-test:${serial++}`;
}

Deno.test("failed tails: a log nothing was remembered for has no entry", () => {
  equal(undiscardedOf(identity()), undefined);
});

Deno.test("failed tails: remembers the durable end, and forgets it again", () => {
  const log = identity();
  rememberUndiscarded(log, 4096);
  deepEqual(undiscardedOf(log), { end: 4096 });
  forgetUndiscarded(log);
  equal(undiscardedOf(log), undefined);
});

Deno.test("failed tails: an unknown end (a flush failed while opening) is kept as unknown", () => {
  const log = identity();
  rememberUndiscarded(log, undefined);
  deepEqual(undiscardedOf(log), { end: undefined });
  forgetUndiscarded(log);
});

Deno.test("failed tails: two failures keep the lower end: bytes from there on may be missing", () => {
  const log = identity();
  rememberUndiscarded(log, 9000);
  rememberUndiscarded(log, 5000);
  deepEqual(undiscardedOf(log), { end: 5000 });
  // A later failure further on does not move the end back up.
  rememberUndiscarded(log, 12_000);
  deepEqual(undiscardedOf(log), { end: 5000 });
  // End 0 is a known end, not "unknown".
  rememberUndiscarded(log, 0);
  deepEqual(undiscardedOf(log), { end: 0 });
  forgetUndiscarded(log);
});

Deno.test("failed tails: an unknown end wins over a known one, in either order", () => {
  const first = identity();
  rememberUndiscarded(first, 100);
  rememberUndiscarded(first, undefined);
  deepEqual(undiscardedOf(first), { end: undefined });
  rememberUndiscarded(first, 50);
  deepEqual(undiscardedOf(first), { end: undefined });

  const second = identity();
  rememberUndiscarded(second, undefined);
  rememberUndiscarded(second, 100);
  deepEqual(undiscardedOf(second), { end: undefined });
  forgetUndiscarded(first);
  forgetUndiscarded(second);
});

Deno.test("failed tails: logs are kept apart by identity; forgetting one leaves the others", () => {
  const a = identity();
  const b = identity();
  rememberUndiscarded(a, 10);
  rememberUndiscarded(b, 20);
  deepEqual(undiscardedOf(a), { end: 10 });
  deepEqual(undiscardedOf(b), { end: 20 });
  forgetUndiscarded(a);
  equal(undiscardedOf(a), undefined);
  deepEqual(undiscardedOf(b), { end: 20 });
  // Forgetting a log that has no entry is harmless.
  forgetUndiscarded(a);
  forgetUndiscarded(b);
});
