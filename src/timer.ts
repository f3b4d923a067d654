// Copyright 2026 the wal-db authors. MIT license.
// A repeating background timer that never keeps the process alive.
// Backend: the only use of `Deno.unrefTimer`.

/**
 * Calls `tick` every `intervalMs` milliseconds until the returned function is called. The
 * timer is unreferenced, so a program whose only remaining work is this timer exits.
 */
export function startBackgroundTimer(intervalMs: number, tick: () => void): () => void {
  const id = setInterval(tick, intervalMs);
  Deno.unrefTimer(id);
  return () => clearInterval(id);
}
