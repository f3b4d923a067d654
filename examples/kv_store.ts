// Copyright 2026 the wal-db authors. MIT license.

/**
 * A key-value store that survives restarts by logging every change before it acknowledges it,
 * and keeps the log short with checkpoints.
 *
 * - `set` and `delete` append one JSON record to a segmented log and resolve once it is
 *   durable (`await wal.sync()`).
 * - Every `checkpointEvery` changes, `checkpoint` writes the whole map to `snapshot.json`
 *   together with the LSN it covers, atomically (temporary file, flush, rename, directory
 *   flush), and only then drops the records before that LSN with `truncateBefore`, which
 *   removes whole segment files.
 * - Opening loads the snapshot, if any, and replays the log from its LSN with `iterFrom`.
 *
 * A crash between the snapshot and the truncation is harmless: the snapshot's LSN is still in
 * the log, and the records before it are simply replayed from the snapshot instead.
 *
 * Run it with `deno run -A examples/kv_store.ts [directory]`: it writes a few keys, restarts
 * the store, and shows what it rebuilt. Without a directory it uses a temporary one.
 *
 * @module
 */

import { dirname, join } from "node:path";
import { jsonCodec, type TypedWal, Wal } from "../mod.ts";

/** One change, as it is logged. */
export type Change =
  | { op: "set"; key: string; value: string }
  | { op: "delete"; key: string };

/** The snapshot file: the map as of `lsn`, the first record it does not include. */
interface Snapshot {
  lsn: number;
  entries: [string, string][];
}

/** Options for {@linkcode KvStore.open}. */
export interface KvStoreOptions {
  /**
   * Bytes per segment file; must stay the same across restarts (it is not stored on disk).
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
const SNAPSHOT_FILE_NAME = "snapshot.json";
const LOG_DIR_NAME = "wal";

/** A string map whose changes go through a write-ahead log. */
export class KvStore implements Disposable {
  readonly #dir: string;
  readonly #log: TypedWal<Change, Wal>;
  readonly #map: Map<string, string>;
  readonly #checkpointEvery: number;
  #sinceCheckpoint = 0;
  #checkpointing: Promise<number> | undefined;
  /** How many records the last open replayed from the log (the rest came from the snapshot). */
  readonly replayedCount: number;

  private constructor(dir: string, wal: Wal, snapshot: Snapshot, checkpointEvery: number) {
    this.#dir = dir;
    this.#log = wal.typed(jsonCodec<Change>());
    this.#map = new Map(snapshot.entries);
    this.#checkpointEvery = checkpointEvery;
    let replayed = 0;
    for (const { value } of this.#log.iterFrom(snapshot.lsn)) {
      apply(this.#map, value);
      replayed++;
    }
    this.replayedCount = replayed;
  }

  /**
   * Opens (or creates) the store in `dir`: loads the snapshot and replays the log after it.
   * Requires `--allow-read` and `--allow-write`.
   */
  static open(dir: string, options: KvStoreOptions = {}): KvStore {
    Deno.mkdirSync(dir, { recursive: true });
    const snapshot = readSnapshot(join(dir, SNAPSHOT_FILE_NAME));
    const wal = Wal.openSegmented(
      join(dir, LOG_DIR_NAME),
      options.segmentSize ?? SEGMENT_SIZE_DEFAULT,
    );
    try {
      return new KvStore(dir, wal, snapshot, options.checkpointEvery ?? CHECKPOINT_EVERY_DEFAULT);
    } catch (error) {
      wal.close();
      throw error;
    }
  }

  /** The value of `key`, if it is set. */
  get(key: string): string | undefined {
    return this.#map.get(key);
  }

  /** A copy of every key and value. */
  entries(): Map<string, string> {
    return new Map(this.#map);
  }

  /** The log underneath (for its `head`, `nextLsn` and the rest of its state). */
  get wal(): Wal {
    return this.#log.wal;
  }

  /** Sets `key`; resolves once the change is durable. */
  set(key: string, value: string): Promise<void> {
    return this.#change({ op: "set", key, value });
  }

  /** Deletes `key`; resolves once the change is durable. */
  delete(key: string): Promise<void> {
    return this.#change({ op: "delete", key });
  }

  async #change(change: Change): Promise<void> {
    // Logged and applied in one synchronous step, so a checkpoint never sees one without the
    // other.
    this.#log.append(change);
    apply(this.#map, change);
    await this.#log.wal.sync();
    if (this.#checkpointEvery > 0 && ++this.#sinceCheckpoint >= this.#checkpointEvery) {
      this.#sinceCheckpoint = 0;
      await this.checkpoint();
    }
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
    const wal = this.#log.wal;
    const snapshot: Snapshot = { lsn: wal.nextLsn, entries: [...this.#map] };
    // The snapshot may only claim changes the log holds durably: a crash must never leave a
    // snapshot ahead of the log it is replayed against.
    await wal.sync();
    const bytes = new TextEncoder().encode(JSON.stringify(snapshot));
    writeFileAtomically(join(this.#dir, SNAPSHOT_FILE_NAME), bytes);
    return wal.truncateBefore(snapshot.lsn);
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

function readSnapshot(path: string): Snapshot {
  try {
    return JSON.parse(Deno.readTextFileSync(path)) as Snapshot;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return { lsn: 0, entries: [] };
    throw error;
  }
}

/**
 * Replaces `path` with `bytes` so that a crash leaves either the old file or the new one:
 * write a temporary file, flush it, rename it over `path`, then flush the directory so the
 * rename itself survives a power loss.
 */
export function writeFileAtomically(path: string, bytes: Uint8Array): void {
  const temp = `${path}.tmp`;
  const file = Deno.openSync(temp, { write: true, create: true, truncate: true });
  try {
    for (let done = 0; done < bytes.length;) done += file.writeSync(bytes.subarray(done));
    file.syncSync();
  } finally {
    file.close();
  }
  Deno.renameSync(temp, path);
  syncDirectory(dirname(path));
}

function syncDirectory(dir: string): void {
  // Windows cannot open a directory as a file, and NTFS journals renames itself.
  if (Deno.build.os === "windows") return;
  const handle = Deno.openSync(dir, { read: true });
  try {
    handle.syncSync();
  } finally {
    handle.close();
  }
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
