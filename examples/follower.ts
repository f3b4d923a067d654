// Copyright 2026 the wal-db authors. MIT license.

/**
 * A follower: a second reader that tails a log another process (or another part of this one)
 * is writing, and applies each change to an in-memory map, as a read replica does.
 *
 * It opens the log with `readOnly: true` and `lock: "none"`: it never writes, and it takes no
 * lock, so the writer keeps its exclusive lock. `wal.tail()` polls for new records and yields
 * each one only once it is whole and its checksum matches, so a record the writer is in the
 * middle of appending is never applied half-written.
 *
 * Records are JSON changes: `{"op":"set","key":...,"value":...}` or `{"op":"delete","key":...}`.
 *
 * Run it with `deno run -A examples/follower.ts`: it starts a writer and a follower on a
 * temporary log and prints the follower's map once it has caught up.
 *
 * @module
 */

import { jsonCodec, Wal } from "../mod.ts";

/** One change, as the writer logs it. */
export type Change =
  | { op: "set"; key: string; value: string }
  | { op: "delete"; key: string };

/** Options for {@linkcode Follower.open}. */
export interface FollowerOptions {
  /**
   * How often to look for new records, in milliseconds.
   *
   * @default {20}
   */
  pollMs?: number;
}

const POLL_MS_DEFAULT = 20;

/** Bytes of a record header: a frame is this plus the payload (docs/ON_DISK_FORMAT.md). */
const HEADER_SIZE = 8;

/** Follows a log file and keeps a map of what it says. */
export class Follower {
  /** The map as of {@linkcode Follower.position}. */
  readonly state: Map<string, string> = new Map();
  readonly #wal: Wal;
  readonly #pollMs: number;
  readonly #stop = new AbortController();
  readonly #codec = jsonCodec<Change>();
  #position: number;
  #running: Promise<void> | undefined;
  #waiters: { lsn: number; resolve: () => void }[] = [];

  private constructor(wal: Wal, pollMs: number) {
    this.#wal = wal;
    this.#pollMs = pollMs;
    this.#position = wal.head;
  }

  /** Opens `path` read-only without a lock. Requires `--allow-read`. */
  static open(path: string, options: FollowerOptions = {}): Follower {
    const wal = Wal.open(path, { readOnly: true, lock: "none" });
    return new Follower(wal, options.pollMs ?? POLL_MS_DEFAULT);
  }

  /** Where the next record to apply starts: everything before it is in {@linkcode state}. */
  get position(): number {
    return this.#position;
  }

  /** Starts applying records in the background; {@linkcode Follower.stop} ends it. */
  start(): void {
    this.#running ??= this.#run();
  }

  async #run(): Promise<void> {
    const options = { signal: this.#stop.signal, pollMs: this.#pollMs };
    for await (const entry of this.#wal.tail(this.#position, options)) {
      const change = this.#codec.decode(entry.data);
      if (change.op === "set") this.state.set(change.key, change.value);
      else this.state.delete(change.key);
      this.#position = entry.lsn + HEADER_SIZE + entry.data.length;
      this.#wake();
    }
  }

  /** Resolves once everything before `lsn` is applied. */
  caughtUp(lsn: number): Promise<void> {
    if (this.#position >= lsn) return Promise.resolve();
    const { promise, resolve } = Promise.withResolvers<void>();
    this.#waiters.push({ lsn, resolve });
    return promise;
  }

  #wake(): void {
    const ready = this.#waiters.filter((w) => w.lsn <= this.#position);
    this.#waiters = this.#waiters.filter((w) => w.lsn > this.#position);
    for (const waiter of ready) waiter.resolve();
  }

  /** Stops following, waits for the loop to end, and closes the log. */
  async stop(): Promise<void> {
    this.#stop.abort();
    await this.#running;
    this.#wal.close();
  }
}

async function demo(): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "wal_follow_" });
  const path = `${dir}/changes.wal`;
  const writer = Wal.open(path).typed(jsonCodec<Change>());
  const follower = Follower.open(path);
  try {
    follower.start();
    for (let i = 0; i < 100; i++) {
      writer.append({ op: "set", key: `k${i % 10}`, value: `v${i}` });
      if (i % 3 === 0) writer.append({ op: "delete", key: `k${(i + 5) % 10}` });
      await writer.wal.sync();
    }
    await follower.caughtUp(writer.wal.nextLsn);
    console.log(`caught up at LSN ${follower.position}:`, Object.fromEntries(follower.state));
  } finally {
    await follower.stop();
    writer.wal.close();
    await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) await demo();
