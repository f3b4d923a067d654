// Copyright 2026 the wal-db authors. MIT license.

/**
 * A write-ahead log for Deno: append records, make them durable with one shared flush, and
 * replay them after a crash.
 *
 * - `append` returns a record's LSN (its byte offset) once the record is in the operating
 *   system's page cache: it survives a crash of the process, not a power loss.
 * - `sync` resolves once everything appended before it is on stable storage (fdatasync on
 *   Linux, F_FULLFSYNC on macOS, FlushFileBuffers on Windows); concurrent callers share one
 *   flush.
 * - Opening recovers the log: a record cut short by a crash is cut off, and damage followed by
 *   intact records is copied aside before the log is cut, never destroyed.
 *
 * Every record carries a CRC32C; the byte layout is that of the Rust wal-db 1.x crate (see
 * docs/ON_DISK_FORMAT.md).
 *
 * ```ts
 * import { MemStore, Wal } from "@wal-db/wal-db";
 * import { deepEqual, equal } from "node:assert/strict";
 *
 * const store = new MemStore();
 * const wal = Wal.withStore(store);
 * const lsn = wal.append(new TextEncoder().encode("a change"));
 * await wal.sync();
 * equal(wal.durableLsn, wal.nextLsn);
 * wal.close();
 *
 * // Reopening the same bytes replays them.
 * using again = Wal.withStore(new MemStore(store.bytes()));
 * deepEqual([...again.iter()].map((entry) => entry.lsn), [lsn]);
 * ```
 *
 * File logs (`Wal.open`) need `--allow-read` and `--allow-write` on the log's folder, plus
 * `--allow-ffi`, `--allow-env=HOME,XDG_CACHE_HOME` and read/write access to the shim's cache
 * folder for the native flush; without them the log falls back to `FsFile.syncData`, which is
 * just as durable (see docs/DURABILITY.md for the exact flags).
 *
 * @module
 */

export { Wal } from "./src/open.ts";
export type { WalCore } from "./src/wal.ts";
export type { WalWrites } from "./src/wal_writes.ts";
export type { WalAsyncCuts } from "./src/wal_async_cuts.ts";
export { entryEnd } from "./src/cursor.ts";
export type { Entry, Lsn, TailOptions } from "./src/cursor.ts";
export { jsonCodec, TypedWal } from "./src/typed.ts";
export type { Codec, TypedEntry } from "./src/typed.ts";
export type {
  DurabilityMode,
  LockMode,
  RecoveryPolicy,
  SyncPolicy,
  WalConfig,
  WriteMode,
} from "./src/config.ts";
export type { FlushLatency, WalStats } from "./src/stats.ts";
export { WalError } from "./src/errors.ts";
export type { WalErrorKind, WalErrorOptions } from "./src/errors.ts";
export type { SetAsideOptions, WalStore } from "./src/store.ts";
export type { ByteSource, DamageReason } from "./src/reader.ts";
export type {
  RecoveryDamage,
  RecoveryRange,
  RecoveryReason,
  RecoveryReport,
} from "./src/recovery.ts";
export type { SectorInfo } from "./src/damage.ts";
export { FileStore } from "./src/file_store.ts";
export type { FileStoreOptions } from "./src/file_store.ts";
export { MemStore } from "./src/mem_store.ts";
export { SegmentedStore } from "./src/segmented_store.ts";
export type { SegmentedStoreOptions } from "./src/segmented_store.ts";
export { FsDirectory } from "./src/fs_directory.ts";
export type { FsDirectoryOptions } from "./src/fs_directory.ts";
export type { DirectoryFile, FileFingerprint, WalDirectory } from "./src/directory.ts";
export { crc32c } from "./src/crc32c.ts";
export { segmentLayout } from "./src/segment_layout.ts";
export type { SegmentLayout, SegmentSizeRecord } from "./src/segment_layout.ts";
export { MemDirectory } from "./src/mem_directory.ts";
export { Snapshots } from "./src/checkpoint.ts";
export type { CheckpointLog, Restored, Snapshot } from "./src/checkpoint.ts";
