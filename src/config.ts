// Copyright 2026 the wal-db authors. MIT license.
// The options a log is opened with, their defaults and their validation. Pure.

import { RECORD_SIZE_LIMIT, RECORD_SIZE_MAX_DEFAULT } from "./constants.ts";
import { crc32cRaw, frameChecksum, type RawCrc } from "./crc32c.ts";
import type { FrameScanner } from "./frame_scan.ts";
import type { FrameChecksum } from "./record.ts";

/**
 * How a file-backed log flushes data to stable storage.
 *
 * | mode | mechanism |
 * | --- | --- |
 * | `"auto"` | the native shim when FFI is permitted and a binary exists for this platform, else the runtime's `FsFile.syncData` |
 * | `"shim"` | the native shim; opening the log fails with a clear error if it cannot load |
 * | `"runtime"` | `FsFile.syncData`, which Deno maps to fdatasync, F_FULLFSYNC or FlushFileBuffers |
 *
 * The mode also picks how `Wal.open` and `Wal.openSegmented` (given a path) check frames when
 * they recover and replay the log: with the shim's frame scanner (the CPU's CRC32C
 * instructions) unless the mode is `"runtime"` or the shim cannot load, else with the
 * TypeScript one; likewise the CRC the search for records after damage checks long candidates
 * with (the shim's only where the CPU has CRC32C instructions). Both find the same records;
 * `"runtime"` is the pure TypeScript path.
 */
export type DurabilityMode = "auto" | "shim" | "runtime";

/**
 * What recovery does when it finds damage at open.
 *
 * Every policy cuts what a crash leaves: zeros reserved after the end, and a torn tail (a frame
 * running past the end, or with a 512-byte sector of zeros, and everything after it, which no
 * resolved `sync` covered). The policies differ on damage, which no crash leaves:
 *
 * | policy | damage |
 * | --- | --- |
 * | `"tolerate-torn-tail"` | the log ends at the damage: the bytes from it on are copied to a sibling file, then cut |
 * | `"strict"` | open refuses with `kind: "corruption"`; nothing on disk changes |
 * | `"truncate"` | the log ends at the damage, and the bytes after it are cut without a copy (point in time, for logs too large to copy) |
 * | `"skip"` | forensic: every damaged range followed by intact records is left in place and skipped; appends continue after the last intact record |
 *
 * `wal.recovery` lists every range that was cut, set aside or skipped, with its reason. A single
 * file with no intact record whose bytes no crash leaves is not a wal-db log: every policy
 * refuses it and leaves it untouched (docs/RECOVERY.md).
 */
export type RecoveryPolicy = "tolerate-torn-tail" | "strict" | "skip" | "truncate";

/**
 * When the log flushes without being asked.
 *
 * - `"manual"`: only `sync()` and `syncSync()` make records durable.
 * - `{ intervalMs }`: in addition, a background flush runs at most every `intervalMs`
 *   milliseconds while there are appended records that are not durable yet, bounding how much a
 *   power loss can take to about that window. The timer never keeps the process alive and stops
 *   when the log closes; if a background flush fails, the log is failed.
 */
export type SyncPolicy = "manual" | { intervalMs: number };

/**
 * When an appended record is handed to the operating system; see docs/DURABILITY.md.
 *
 * - `"immediate"` (the default): `append` writes the record before it returns, so it is in the
 *   page cache then and survives a crash of the process (not a power loss) without a `sync`.
 * - `"gathered"`: `append` copies the record into a buffer in the process; the records of one
 *   turn of the event loop go to the operating system with one write before the turn ends (in
 *   a microtask), or sooner when a `sync`, `syncSync`, read, truncation or `close` needs them or
 *   the buffer reaches 1 MiB. A crash of the process (kill -9, an uncaught exception that ends
 *   it synchronously) can lose the records appended in the current turn, records an earlier
 *   turn appended are in the page cache, and every record whose `sync` resolved is durable, as
 *   in the default mode. Fewer, larger writes: many concurrent writers commit faster.
 *
 * Both modes write the same bytes and return the same LSNs.
 *
 * @example Choosing the gathered mode for many concurrent writers
 * ```ts
 * import { MemStore, Wal, type WriteMode } from "@wal-db/wal-db";
 * import { equal } from "node:assert/strict";
 *
 * const writeMode: WriteMode = "gathered";
 * using wal = Wal.withStore(new MemStore(), { writeMode });
 * const lsns = [wal.append(new Uint8Array(1)), wal.append(new Uint8Array(1))];
 * await wal.sync(); // writes the gathered records, then flushes them
 * equal(wal.durableLsn, 18);
 * equal(lsns[1], 9);
 * ```
 */
export type WriteMode = "immediate" | "gathered";

/** Options for {@linkcode Wal.open} and {@linkcode Wal.withStore}. */
export interface WalConfig {
  /**
   * The largest payload `append` accepts, and the largest length recovery believes. A reader
   * must be given at least the maximum its writer used: a longer record reads as damage.
   *
   * @default {67108864}
   */
  maxRecordSize?: number;
  /**
   * What recovery does with damage; see {@linkcode RecoveryPolicy}.
   *
   * @default {"tolerate-torn-tail"}
   */
  recoveryPolicy?: RecoveryPolicy;
  /**
   * How a file log makes data durable; see {@linkcode DurabilityMode}. With the shim loaded
   * (`"auto"` or `"shim"`), records are also checksummed with its CRC32C, and a single file is
   * appended to with its `pwrite`; `"runtime"` uses no native code at all. For
   * {@linkcode Wal.withStore}, whose store brings its own flush, it only picks the CRC code.
   *
   * @default {"auto"}
   */
  durability?: DurabilityMode;
  /** An explicit path to the native shim library for `durability` `"auto"` or `"shim"`. */
  shimPath?: string;
  /**
   * For single-file logs: how many bytes of zeros to reserve ahead of the log's end, so that
   * flushes do not also have to record a new file size (about 25% faster here). A clean close
   * cuts the reserve off; 0 disables it. Segmented logs ignore it.
   *
   * @default {1048576}
   */
  preallocateSize?: number;
  /**
   * When the log flushes without being asked; see {@linkcode SyncPolicy}.
   *
   * @default {"manual"}
   */
  syncPolicy?: SyncPolicy;
  /**
   * How long a flush that is about to start may wait for more writers to join it, in
   * milliseconds, when the previous flush served more than one caller. 0 (the default) starts
   * at once: writers that arrive while a flush runs already share the next one, so a delay
   * only helps when flushes are much faster than the gaps between writers.
   *
   * @default {0}
   */
  commitDelayMs?: number;
  /**
   * When appends reach the operating system; see {@linkcode WriteMode}. `"gathered"` gathers
   * the appends of one turn of the event loop into one write: its crash contract is weaker
   * for records whose `sync` has not resolved (a killed process loses the current turn's).
   *
   * @default {"immediate"}
   *
   * @example Gathering the appends of one turn
   * ```ts
   * import { MemStore, Wal } from "@wal-db/wal-db";
   * import { equal } from "node:assert/strict";
   *
   * const store = new MemStore();
   * using wal = Wal.withStore(store, { writeMode: "gathered" });
   * wal.append(new Uint8Array(8));
   * wal.append(new Uint8Array(8));
   * equal(wal.nextLsn, 32); // the LSNs are known at once...
   * equal(store.size, 0); // ...but the bytes wait in the process until the turn ends
   * await Promise.resolve();
   * equal(store.size, 32);
   * equal(wal.stats.writes, 1);
   * ```
   */
  writeMode?: WriteMode;
  /**
   * Open for reading only: recovery reads but never truncates, copies or flushes; `append`,
   * `sync` and the `truncate*` calls throw `kind: "read-only"`; the lock taken is shared (see
   * `lock`). Damage found at open is reported with action `"ignored"` and the log ends before
   * it. {@linkcode Wal.refresh} and {@linkcode Wal.tail} pick up what a writer appends later.
   *
   * @default {false}
   */
  readOnly?: boolean;
  /**
   * The advisory lock to hold: `"exclusive"` (writers; the only choice without `readOnly`),
   * `"shared"` (readers: several may share it, but not with a writer, whose exclusive lock
   * excludes them and whom they exclude), or `"none"` (a reader that follows a log another
   * process is writing: it locks nothing and relies on the checksums to stop at the first
   * record the writer has not finished).
   *
   * @default {"exclusive" for writers, "shared" with readOnly}
   */
  lock?: LockMode;
  /**
   * Called while the open scans the log, each time the scan has read about another MiB:
   * `scanned` bytes from the head of `total`. For a progress bar on a large log (the `wal`
   * command line draws one); an error it throws fails the open. Not called for small logs.
   *
   * @example Reporting the scan of a log
   * ```ts
   * import { MemStore, Wal } from "@wal-db/wal-db";
   * import { equal } from "node:assert/strict";
   *
   * const reports: number[] = [];
   * using wal = Wal.withStore(new MemStore(), { onRecoveryProgress: (s) => reports.push(s) });
   * equal(reports.length, 0); // an empty log has nothing to scan
   * ```
   */
  onRecoveryProgress?: (scanned: number, total: number) => void;
}

/** Which advisory lock a log holds; see {@linkcode WalConfig.lock}. */
export type LockMode = "exclusive" | "shared" | "none";

/** A {@linkcode WalConfig} with every default filled in and every value checked. */
export interface ResolvedConfig {
  maxRecordSize: number;
  recoveryPolicy: RecoveryPolicy;
  durability: DurabilityMode;
  shimPath: string | undefined;
  preallocateSize: number | undefined;
  syncIntervalMs: number | undefined;
  commitDelayMs: number;
  readOnly: boolean;
  lock: LockMode | undefined;
  writeMode: WriteMode;
  /**
   * The CRC the writer frames records with. Not an option: the seam where a native CRC (the
   * shim's) can replace the portable table; it must compute what `frameChecksum` does.
   */
  checksum: FrameChecksum;
  /**
   * Checks the frames of each chunk recovery and replay read. Not an option: the open sets the
   * shim's scanner here when it loads (see {@linkcode DurabilityMode}); undefined is the
   * TypeScript `scanFrames`.
   */
  scanner: FrameScanner | undefined;
  /**
   * Computes the range checksums of the search for records after damage. Not an option: the
   * open sets the shim's CRC here when it loads and its CRC is not the portable C table (as
   * for `checksum`); it must compute what `crc32cRaw` does.
   */
  rawCrc: RawCrc;
  onRecoveryProgress: ((scanned: number, total: number) => void) | undefined;
}

/** The longest timer the runtime accepts: about 24.8 days. */
const TIMER_MS_MAX = 2 ** 31 - 1;

const RECOVERY_POLICIES: readonly RecoveryPolicy[] = [
  "tolerate-torn-tail",
  "strict",
  "skip",
  "truncate",
];
const DURABILITY_MODES: readonly DurabilityMode[] = ["auto", "shim", "runtime"];
const WRITE_MODES: readonly WriteMode[] = ["immediate", "gathered"];

/** Fills in defaults and validates; throws `TypeError` or `RangeError` on a bad value. */
export function resolveConfig(config: WalConfig = {}): ResolvedConfig {
  if (typeof config !== "object" || config === null) {
    throw new TypeError("Cannot open log: config must be an object");
  }
  const maxRecordSize = config.maxRecordSize ?? RECORD_SIZE_MAX_DEFAULT;
  if (!Number.isInteger(maxRecordSize) || maxRecordSize < 0 || maxRecordSize > RECORD_SIZE_LIMIT) {
    throw new RangeError(
      `Cannot open log: maxRecordSize must be an integer from 0 to ${RECORD_SIZE_LIMIT}, ` +
        `got ${String(config.maxRecordSize)}`,
    );
  }
  return {
    maxRecordSize,
    recoveryPolicy: oneOf("recoveryPolicy", config.recoveryPolicy, RECOVERY_POLICIES),
    durability: oneOf("durability", config.durability, DURABILITY_MODES),
    shimPath: optionalString("shimPath", config.shimPath),
    preallocateSize: config.preallocateSize,
    syncIntervalMs: syncIntervalOf(config.syncPolicy),
    commitDelayMs: milliseconds("commitDelayMs", config.commitDelayMs ?? 0, 0),
    readOnly: boolean("readOnly", config.readOnly ?? false),
    lock: config.lock === undefined ? undefined : oneOf("lock", config.lock, LOCK_MODES),
    writeMode: oneOf("writeMode", config.writeMode, WRITE_MODES),
    checksum: frameChecksum,
    scanner: undefined,
    rawCrc: crc32cRaw,
    onRecoveryProgress: optionalFunction("onRecoveryProgress", config.onRecoveryProgress),
  };
}

function syncIntervalOf(policy: SyncPolicy | undefined): number | undefined {
  if (policy === undefined || policy === "manual") return undefined;
  if (typeof policy !== "object" || policy === null || !("intervalMs" in policy)) {
    throw new TypeError(
      `Cannot open log: syncPolicy must be "manual" or { intervalMs: number }, got ` +
        `${JSON.stringify(policy)}`,
    );
  }
  return milliseconds("syncPolicy.intervalMs", policy.intervalMs, 1);
}

function milliseconds(name: string, value: unknown, min: number): number {
  if (typeof value !== "number") {
    throw new TypeError(`Cannot open log: ${name} must be a number, got ${typeof value}`);
  }
  if (!Number.isFinite(value) || value < min || value > TIMER_MS_MAX) {
    throw new RangeError(
      `Cannot open log: ${name} must be from ${min} to ${TIMER_MS_MAX} milliseconds, got ${value}`,
    );
  }
  return value;
}

/** The value if it is one of `allowed`, the first of `allowed` if undefined, else a TypeError. */
function oneOf<T extends string>(name: string, value: T | undefined, allowed: readonly T[]): T {
  if (value === undefined) return allowed[0]!;
  if (!allowed.includes(value)) {
    const expected = allowed.map((a) => `"${a}"`).join(", ");
    throw new TypeError(
      `Cannot open log: ${name} must be one of ${expected}, got ${String(value)}`,
    );
  }
  return value;
}

const LOCK_MODES: readonly LockMode[] = ["exclusive", "shared", "none"];

function boolean(name: string, value: unknown): boolean {
  if (typeof value === "boolean") return value;
  throw new TypeError(`Cannot open log: ${name} must be a boolean, got ${typeof value}`);
}

function optionalString(name: string, value: unknown): string | undefined {
  if (value === undefined || typeof value === "string") return value;
  throw new TypeError(`Cannot open log: ${name} must be a string, got ${typeof value}`);
}

/** The value if it is a function or undefined, else a TypeError naming the option. */
function optionalFunction<T extends (...args: never[]) => unknown>(
  name: string,
  value: T | undefined,
): T | undefined {
  if (value === undefined || typeof value === "function") return value;
  throw new TypeError(`Cannot open log: ${name} must be a function, got ${typeof value}`);
}
