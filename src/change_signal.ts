// Copyright 2026 the wal-db authors. MIT license.
// Wakes tails when the log changes. Pure: no I/O and no `Deno.*`.

/**
 * A one-to-many wake-up: `wait` resolves on the next `notify`, when `signal` aborts, or (for
 * pollers) after `pollMs`, whichever comes first, and leaves no timer or listener behind.
 */
export class ChangeSignal {
  readonly #waiters = new Set<() => void>();

  /** Wakes everyone waiting now. */
  notify(): void {
    for (const wake of [...this.#waiters]) wake();
  }

  /** Resolves on the next change, on abort, or after `pollMs` when given. */
  wait(signal: AbortSignal | undefined, pollMs: number | undefined): Promise<void> {
    const { promise, resolve } = Promise.withResolvers<void>();
    const timer = pollMs === undefined ? undefined : setTimeout(resolve, pollMs);
    const onAbort = () => resolve();
    signal?.addEventListener("abort", onAbort, { once: true });
    this.#waiters.add(resolve);
    return promise.finally(() => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      this.#waiters.delete(resolve);
    });
  }
}
