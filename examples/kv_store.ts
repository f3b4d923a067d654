// Copyright 2026 the wal-db authors. MIT license.

/**
 * A key-value store that survives restarts by logging every change before it acknowledges it,
 * and keeps the log short with checkpoints.
 *
 * - `set` and `delete` append one JSON record to a segmented log and resolve once it is
 *   durable. The map that `get` reads changes only then: a change is applied once `sync` says
 *   it is on stable storage, in log order, so `get` never shows a value a crash could take
 *   back. (Applying at append time would let a reader see, and act on, a write that a power
 *   loss then erases.)
 * - Every `checkpointEvery` changes, `checkpoint` hands the map and the LSN it covers to
 *   `Snapshots.checkpoint`, which writes the snapshot atomically and durably into the log's
 *   directory and then drops the records before that LSN (whole segment files).
 * - Opening loads the snapshot with `Snapshots.load` and replays the log from its LSN.
 *
 * Run it with `deno run -A examples/kv_store.ts [directory]`: it writes a few keys, restarts
 * the store, and shows what it rebuilt. Without a directory it uses a temporary one.
 *
 * @module
 */

import {
  FsDirectory,
  jsonCodec,
  Snapshots,
  type TypedWal,
  Wal,
  type WalDirectory,
} from "../mod.ts";

/** One change, as it is logged. */
export type Change =
  | { op: "set"; key: string; value: string }
  | { op: "delete"; key: string };

/** Options for {@linkcode KvStore.open}. */
export interface KvStoreOptions {
  /**
   * Bytes per segment file; must stay the same across restarts (the log refuses another).
   *
   * @default {1048576}
   */
  segmentSize?: number;
  /**
   * Checkpoint after this many changes; 0 checkpoints only when asked.
   *
   * @default {1000}
   */
  checkpointEvery?: number;
}

const SEGMENT_SIZE_DEFAULT = 1024 * 1024;
const CHECKPOINT_EVERY_DEFAULT = 1000;
const codec = jsonCodec<Change>();

/** A string map whose changes go through a write-ahead log. */
export class KvStore implements Disposable {
  readonly #log: TypedWal<Change, Wal>;
  readonly #snapshots: Snapshots;
  /** Only durable changes: what `get` may show. */
  readonly #map: Map<string, string>;
  /** Where the changes in `#map` end: every record before it is applied, none after. */
  #appliedLsn = 0;
  /** Changes appended but not yet durable, in log order. */
  readonly #pending: { lsn: number; end: number; change: Change }[] = [];
  readonly #checkpointEvery: number;
  #sinceCheckpoint = 0;
  #checkpointing: Promise<number> | undefined;
  /** How many records the last open replayed from the log (the rest came from the snapshot). */
  readonly replayedCount: number;
  /** Why the last automatic checkpoint failed, if one did (the log then keeps its records). */
  lastCheckpointError: unknown = undefined;

  private constructor(wal: Wal, snapshots: Snapshots, checkpointEvery: number) {
    this.#log = wal.typed(codec);
    this.#snapshots = snapshots;
    this.#checkpointEvery = checkpointEvery;
    const restored = snapshots.load(wal);
    const entries = restored.data === undefined
      ? []
      : JSON.parse(new TextDecoder().decode(restored.data)) as [string, string][];
    this.#map = new Map(entries);
    let replayed = 0;
    // Everything an open recovers is durable: recovery flushed it.
    for (const entry of this.#log.iterFrom(restored.lsn)) {
      apply(this.#map, entry.value);
      replayed++;
    }
    this.#appliedLsn = wal.nextLsn;
    this.replayedCount = replayed;
  }

  /**
   * Opens (or creates) the store: the segmented log in `dir` with its snapshot beside the
   * segments; loads the snapshot and replays the log after it. A path needs `--allow-read` and
   * `--allow-write`; a `MemDirectory` needs no permissions (tests).
   */
  static open(dir: string | WalDirectory, options: KvStoreOptions = {}): KvStore {
    // One directory object for both: the log holds its lock, and the snapshots go into it.
    const directory = typeof dir === "string" ? FsDirectory.open(dir) : dir;
    const wal = Wal.openSegmented(directory, options.segmentSize ?? SEGMENT_SIZE_DEFAULT);
    try {
      return new KvStore(
        wal,
        new Snapshots(directory),
        options.checkpointEvery ?? CHECKPOINT_EVERY_DEFAULT,
      );
    } catch (error) {
      wal.close();
      throw error;
    }
  }

  /** The value of `key`, if it is set: durable changes only. */
  get(key: string): string | undefined {
    return this.#map.get(key);
  }

  /** A copy of every key and value (durable changes only). */
  entries(): Map<string, string> {
    return new Map(this.#map);
  }

  /** The log underneath (for its `head`, `nextLsn` and the rest of its state). */
  get wal(): Wal {
    return this.#log.wal;
  }

  /** Sets `key`; resolves once the change is durable and visible to `get`. */
  set(key: string, value: string): Promise<void> {
    return this.#change({ op: "set", key, value });
  }

  /** Deletes `key`; resolves once the change is durable and visible to `get`. */
  delete(key: string): Promise<void> {
    return this.#change({ op: "delete", key });
  }

  async #change(change: Change): Promise<void> {
    const lsn = this.#log.append(change);
    this.#pending.push({ lsn, end: this.#log.nextLsn, change });
    await this.#log.sync();
    this.#applyDurable();
    if (this.#checkpointEvery > 0 && ++this.#sinceCheckpoint >= this.#checkpointEvery) {
      this.#sinceCheckpoint = 0;
      // The change is durable and applied: a failed checkpoint must not report it as failed
      // (a caller would retry it). The log still holds everything; the error is kept.
      await this.checkpoint().catch((error: unknown) => this.lastCheckpointError = error);
    }
  }

  /** Applies, in log order, every pending change that is now durable. */
  #applyDurable(): void {
    const durable = this.#log.durableLsn;
    let done = 0;
    for (const pending of this.#pending) {
      if (pending.end > durable) break;
      apply(this.#map, pending.change);
      this.#appliedLsn = pending.end;
      done++;
    }
    this.#pending.splice(0, done);
  }

  /**
   * Writes a snapshot of the map and drops the log records it covers. Returns the LSN the
   * snapshot covers, which is now the log's head. Concurrent calls share one checkpoint.
   */
  checkpoint(): Promise<number> {
    this.#checkpointing ??= this.#checkpoint().finally(() => {
      this.#checkpointing = undefined;
    });
    return this.#checkpointing;
  }

  async #checkpoint(): Promise<number> {
    // The map and the LSN it covers, taken together: applied changes only, all durable.
    const lsn = this.#appliedLsn;
    const bytes = new TextEncoder().encode(JSON.stringify([...this.#map]));
    await this.#snapshots.checkpoint(this.#log.wal, bytes, lsn);
    return lsn;
  }

  /** Closes the log. Idempotent. */
  close(): void {
    this.#log.wal.close();
  }

  /** Closes the log at the end of a `using` scope. */
  [Symbol.dispose](): void {
    this.close();
  }
}

function apply(map: Map<string, string>, change: Change): void {
  if (change.op === "set") map.set(change.key, change.value);
  else map.delete(change.key);
}

async function demo(dir: string): Promise<void> {
  {
    using store = KvStore.open(dir, { segmentSize: 4096, checkpointEvery: 50 });
    for (let i = 0; i < 120; i++) await store.set(`key${i % 40}`, `value ${i}`);
    await store.delete("key0");
    console.log(`wrote 121 changes; the log now starts at LSN ${store.wal.head}`);
  }
  using store = KvStore.open(dir, { segmentSize: 4096, checkpointEvery: 50 });
  console.log(
    `restarted: ${store.entries().size} keys, ${store.replayedCount} records replayed after ` +
      `the snapshot; key1 = ${JSON.stringify(store.get("key1"))}`,
  );
}

if (import.meta.main) {
  const given = Deno.args[0];
  const dir = given ?? await Deno.makeTempDir({ prefix: "wal_kv_" });
  try {
    await demo(dir);
  } finally {
    if (given === undefined) await Deno.remove(dir, { recursive: true });
  }
}
