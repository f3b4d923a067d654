// Copyright 2026 the wal-db authors. MIT license.
// Internal invariant checks. Pure: no I/O and no `Deno.*`.

/**
 * A broken internal invariant: a bug in wal-db, never a condition a caller should handle.
 * Not exported from `mod.ts`.
 */
export class AssertionError extends Error {
  override name = "AssertionError";
}

/** Throws {@linkcode AssertionError} when `condition` is false. For invariants only. */
export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new AssertionError(`wal-db invariant violated: ${message}`);
}
