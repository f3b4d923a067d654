// Copyright 2026 the wal-db authors. MIT license.
// The logs of this process whose failed flush left bytes that could not be discarded.
// I/O core: a process-wide table keyed by a store's identity; no `Deno.*`.

/**
 * After a flush fails, Linux keeps the bytes it could not write in the page cache, marked
 * clean: they read back, but no later flush writes them. The Wal cuts the log back to its
 * durable end to drop them. When that cut fails too, the log's identity and durable end are
 * kept here, for as long as this process runs, so that a reopen of the same log retries the
 * cut before it reads anything, and is refused while the cut fails. A new process cannot know;
 * that residual risk is documented (docs/DURABILITY.md).
 */
const undiscarded = new Map<string, number>();

/** Records that the bytes of log `identity` from `end` on could not be discarded. */
export function rememberUndiscarded(identity: string, end: number): void {
  const known = undiscarded.get(identity);
  undiscarded.set(identity, known === undefined ? end : Math.min(known, end));
}

/** The durable end of log `identity` if bytes after it could not be discarded, else undefined. */
export function undiscardedEnd(identity: string): number | undefined {
  return undiscarded.get(identity);
}

/** Records that the bytes of log `identity` were discarded after all. */
export function forgetUndiscarded(identity: string): void {
  undiscarded.delete(identity);
}
