// Copyright 2026 the wal-db authors. MIT license.
// Runs every step of a release even when one of them throws. Pure: no I/O and no `Deno.*`.

/**
 * Runs each step in order, also after one throws, so that one failed step (a close that
 * reports EIO, a truncate that fails) never leaves the handles and locks of the later steps
 * held. Then throws what failed: the error itself when one step failed, an `AggregateError`
 * of all of them when several did.
 */
export function runEach(steps: readonly (() => void)[], what: string): void {
  const errors: unknown[] = [];
  for (const step of steps) {
    try {
      step();
    } catch (error) {
      errors.push(error);
    }
  }
  if (errors.length === 1) throw errors[0];
  if (errors.length > 1) {
    const messages = errors.map((e) => (e instanceof Error ? e.message : String(e)));
    throw new AggregateError(errors, `${what}: ${messages.join("; ")}`);
  }
}
