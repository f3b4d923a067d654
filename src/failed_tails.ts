// Copyright 2026 the wal-db authors. MIT license.
// The logs of this process whose failed flush left bytes that could not be discarded.
// I/O core: a process-wide table keyed by a store's identity; no `Deno.*`.

/**
 * After a flush fails, Linux keeps the bytes it could not write in the page cache, marked
 * clean: they read back, but no later flush writes them. The Wal cuts the log back to its
 * durable end to drop them. When that cut fails too, or a flush fails while the log is being
 * opened (when no durable end is known), the log's identity is kept here for as long as this
 * process runs, so that a reopen of the same log retries the cut before it reads anything (or,
 * with no known end, is refused). A new process cannot know; that residual risk is documented
 * in docs/DURABILITY.md.
 */
const undiscarded = new Map<string, Undiscarded>();

/** What a failed flush left in a log's cache. */
export interface Undiscarded {
  /** The log's durable end: bytes from here on may not be on disk. Unknown: `undefined`. */
  readonly end: number | undefined;
}

/** Records that the bytes of log `identity` from `end` on (unknown: all) may not be on disk. */
export function rememberUndiscarded(identity: string, end: number | undefined): void {
  const known = undiscarded.get(identity);
  const merged = known === undefined
    ? end
    : known.end === undefined || end === undefined
    ? undefined
    : Math.min(known.end, end);
  undiscarded.set(identity, { end: merged });
}

/** What a failed flush left in the cache of log `identity`, if anything. */
export function undiscardedOf(identity: string): Undiscarded | undefined {
  return undiscarded.get(identity);
}

/** Records that the bytes of log `identity` were discarded after all. */
export function forgetUndiscarded(identity: string): void {
  undiscarded.delete(identity);
}
