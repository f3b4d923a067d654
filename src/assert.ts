// Copyright 2026 the wal-db authors. MIT license.
// Internal invariant checks. Pure: no I/O and no `Deno.*`.

/**
 * A broken internal invariant: a bug in wal-db, never a condition a caller should handle.
 * Not exported from `mod.ts`.
 */
export class AssertionError extends Error {
  override name = "AssertionError";
}

/**
 * Throws {@linkcode AssertionError} when `condition` is false. For invariants only.
 *
 * `message` must be a constant string: a template literal would be formatted on every call,
 * also when the condition holds, and asserts sit on hot paths (every append). The number the
 * message is about goes in `value`, which is formatted only when the check fails.
 */
export function assert(condition: unknown, message: string, value?: number): asserts condition {
  if (!condition) fail(message, value);
}

/** Kept apart so that `assert` stays tiny and is inlined where it is called. */
function fail(message: string, value: number | undefined): never {
  const detail = value === undefined ? "" : ` (got ${value})`;
  throw new AssertionError(`wal-db invariant violated: ${message}${detail}`);
}
