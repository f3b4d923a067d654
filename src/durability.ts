// Copyright 2026 the wal-db authors. MIT license.
// Chooses how a file store makes bytes durable: the native shim or the runtime's own call.
// Backend: talks to `Deno.*` and to `ffi/`; the I/O core never imports it.

import { constants as osConstants } from "node:os";
import { dirname } from "node:path";
import {
  loadShim,
  type Shim,
  ShimCallError,
  type ShimFile,
  ShimUnavailableError,
} from "../ffi/mod.ts";
import type { DurabilityMode, LockMode } from "./config.ts";
import type { FrameScanner } from "./frame_scan.ts";

export type { LockMode };
import { WalError } from "./errors.ts";
import { runEach } from "./cleanup.ts";

/**
 * One file's flush mechanism.
 *
 * Blocking and background flushes go through two separate descriptors. Linux reports a
 * write-back error once per open file description: were there one, a background flush could
 * take the error (and the kernel drop the pages) while a blocking flush that follows before the
 * error reaches the log returns success, acknowledging lost records. With two descriptions,
 * each flush sees every error that happened since its own last flush.
 *
 * The second descriptor can only be opened by path (the runtime cannot duplicate one), and the
 * path may by then name another file: the log's file renamed, or replaced by a new one. So
 * every descriptor a flusher opens is checked to be the log's own file, by device and file
 * number against the log's handle (`fstat` on both), and a mismatch is refused: flushing
 * whatever is at the path would report records durable that were never flushed.
 */
export interface Flusher {
  /** Words for the mechanism, e.g. `"fdatasync via shim"`. */
  readonly description: string;
  /** Makes the file's data durable, blocking the thread. */
  flushSync(): void;
  /** Makes the file's data durable on a worker thread. */
  flush(): Promise<void>;
  /** Releases the mechanism's handle, if it has one. */
  close(): void;
  /**
   * Allocates `[offset, offset + length)` ahead of writes and extends the file over it;
   * returns false when the mechanism or the file system cannot, also when the file system has
   * no room for all of it (see {@linkcode reserveUnlessFull}). Absent: never preallocates.
   */
  preallocate?(offset: number, length: number): boolean;
  /**
   * Writes all of `data` from byte `offset` on through the mechanism's own handle, or throws
   * (part of it may then be written). When it returns, the bytes are in the page cache, as
   * after `FsFile.writeSync`. Absent: the store writes through its `FsFile`. The shim's
   * (`pwrite`, one FFI call) spares the runtime's per-call cost (bench/append_bench.ts).
   */
  writeAt?(data: Uint8Array, offset: number): void;
  /**
   * Fills the header of the record frame in `frame` (its payload is at `frame[8]`) and writes
   * the frame from `offset` on, as `writeAt` does, in one call; present with `writeAt` (the
   * shim's `wal_shim_pwrite_frame`), unless the shim's CRC is its portable table.
   */
  writeFrameAt?(frame: Uint8Array, payloadLength: number, offset: number): void;
}

/** The flush mechanism chosen for one store: per-file flushers and directory flushes. */
export interface Durability {
  /** Words for the mechanism, e.g. `"fdatasync via shim"`. */
  readonly description: string;
  /**
   * A flusher for `file`, which was opened at `path`. Throws `kind: "io"` when the file now at
   * `path` is not `file` (see {@linkcode Flusher}).
   */
  flusherFor(file: Deno.FsFile, path: string): Flusher;
  /** Makes the creation, rename or removal of entries in `directory` durable. */
  syncDirectory(directory: string): void;
}

/** What a caller may say about the shim's location. */
export interface DurabilityOptions {
  /** The mode; see {@linkcode DurabilityMode}. */
  mode: DurabilityMode;
  /** An explicit path to the shim library, overriding `WAL_DB_SHIM` and the embedded binary. */
  shimPath: string | undefined;
}

/** Picks the mechanism for `mode`, loading the shim when the mode asks for it. */
export function chooseDurability(options: DurabilityOptions): Durability {
  if (options.mode === "runtime") return RUNTIME_DURABILITY;
  try {
    const shim = loadShim(options.shimPath === undefined ? {} : { path: options.shimPath });
    return shimDurability(shim);
  } catch (error) {
    if (options.mode === "auto" && error instanceof ShimUnavailableError) return RUNTIME_DURABILITY;
    throw new WalError(
      "io",
      `Cannot use the durability shim: ${messageOf(error)}. Use durability "runtime" or ` +
        `"auto" to fall back to FsFile.syncData`,
      { cause: error },
    );
  }
}

/**
 * The shim's frame scanner for recovery and replay, or undefined (the TypeScript one) when
 * `mode` is `"runtime"` or the shim cannot load: it only makes the scan faster, so a shim that
 * is missing or not permitted never fails an open here (the flush choice reports that).
 */
export function chooseScanner(options: DurabilityOptions): FrameScanner | undefined {
  if (options.mode === "runtime") return undefined;
  try {
    return loadShim(options.shimPath === undefined ? {} : { path: options.shimPath }).crc
      .scanFrames;
  } catch {
    return undefined;
  }
}

/**
 * `file.preallocate(offset, length)`, except that a file system without room for the whole
 * range (`ENOSPC`, or `EDQUOT`: a quota) declines it instead of failing. A reservation only
 * spares each flush a change of the file's size; the append it was made for may still fit, and
 * failing there failed the log on a disk with less free space than `preallocateSize` (1 MiB by
 * default), before a byte was written. The store then stops reserving, and a write that does
 * not fit fails as any write does.
 *
 * @param file The shim's handle on the log's file.
 * @param offset Where the range starts.
 * @param length How many bytes to reserve.
 * @returns Whether the range is reserved.
 * @throws {ShimCallError} For every other failure of the call.
 */
export function reserveUnlessFull(
  file: Pick<ShimFile, "preallocate">,
  offset: number,
  length: number,
): boolean {
  try {
    return file.preallocate(offset, length);
  } catch (error) {
    if (error instanceof ShimCallError && isNoRoom(error.code)) return false;
    throw error;
  }
}

/** Whether a negative error code says the file system (or a quota) has no room left. */
function isNoRoom(code: number): boolean {
  if (Deno.build.os === "windows") return false; // the shim does not preallocate there
  const { ENOSPC, EDQUOT } = osConstants.errno;
  return code === -ENOSPC || code === -EDQUOT;
}

/** The runtime's own flush: `FsFile.syncData`, which maps to the right call on every OS. */
export const RUNTIME_DURABILITY: Durability = {
  description: "FsFile.syncData (runtime)",
  flusherFor(file: Deno.FsFile, path: string): Flusher {
    // Write access: Windows flushes only handles that may write. Background flushes use the
    // log's own handle; the blocking one is checked to be the same file.
    const blocking = Deno.openSync(path, { write: true });
    try {
      checkSameFile(path, identityOf(file), identityOf(blocking));
    } catch (error) {
      blocking.close();
      throw error;
    }
    return {
      description: RUNTIME_DURABILITY.description,
      flushSync: () => blocking.syncDataSync(),
      flush: () => file.syncData(),
      close: () => blocking.close(),
    };
  },
  syncDirectory(directory: string): void {
    // Windows cannot open a directory as a file; NTFS journals directory entries itself.
    if (Deno.build.os === "windows") return;
    using handle = Deno.openSync(directory, { read: true });
    handle.syncSync();
  },
};

function shimDurability(shim: Shim): Durability {
  const description = `${shim.flushCall} via shim`;
  return {
    description,
    flusherFor(file: Deno.FsFile, path: string): Flusher {
      const expected = identityOf(file);
      const handle = openShimChecked(shim, path, expected);
      let blocking: ShimFile;
      try {
        blocking = openShimChecked(shim, path, expected);
      } catch (error) {
        handle.close();
        throw error;
      }
      return {
        get description() {
          return handle.fsyncFallback
            ? "fsync via shim (F_FULLFSYNC unsupported here)"
            : description;
        },
        flushSync: () => blocking.syncDataSync(),
        flush: () => handle.syncData(),
        // Both, even when the first close reports an error.
        close: () => runEach([() => handle.close(), () => blocking.close()], "close the shim"),
        preallocate: (offset: number, length: number) => reserveUnlessFull(handle, offset, length),
        writeAt: (data: Uint8Array, offset: number) => handle.writeAt(data, offset),
        // Not on a CPU without CRC instructions: the shim's byte-at-a-time table is 3.6-5x
        // slower than the TypeScript CRC there, so the writer frames (see shim_checksum.ts).
        ...(shim.crc.path === "table" ? {} : {
          writeFrameAt: (frame: Uint8Array, payloadLength: number, offset: number) =>
            handle.writeFrameAt(frame, payloadLength, offset),
        }),
      };
    },
    syncDirectory: (directory: string) => shim.syncDirectory(directory),
  };
}

/** A file's device and number on it; `ino` is null where the runtime cannot tell it. */
interface FileIdentity {
  dev: number;
  ino: number | null;
}

function identityOf(file: Deno.FsFile): FileIdentity {
  const { dev, ino } = file.statSync();
  return { dev, ino };
}

/** Opens `path` through the shim and checks it is the file `expected` describes. */
function openShimChecked(shim: Shim, path: string, expected: FileIdentity): ShimFile {
  const opened = shim.openFile(path);
  try {
    const { dev, ino } = opened.identity();
    // Numbers, as the runtime reports them: both sides round a huge value the same way.
    checkSameFile(path, expected, { dev: Number(dev), ino: Number(ino) });
  } catch (error) {
    opened.close();
    throw error;
  }
  return opened;
}

/**
 * Throws unless `actual`, a handle just opened at `path`, is the file `expected` describes.
 * Where the runtime reports no file number (`ino` null), only the devices can be compared.
 */
function checkSameFile(path: string, expected: FileIdentity, actual: FileIdentity): void {
  const sameFile = expected.ino === null || actual.ino === null || expected.ino === actual.ino;
  if (expected.dev === actual.dev && sameFile) return;
  throw new WalError(
    "io",
    `Cannot flush "${path}": the file at that path is not the one the log has open (device ` +
      `${actual.dev}, file ${actual.ino} instead of ${expected.dev}, ${expected.ino}); it was ` +
      `renamed or replaced while the log had it open. Nothing was flushed`,
  );
}

/** The directory that holds `path`, for directory flushes after creating or removing it. */
export function parentOf(path: string): string {
  return dirname(path);
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The lock for a store: the default for its mode, or the one asked for if it is allowed. */
export function checkLock(lock: LockMode | undefined, readOnly: boolean): LockMode {
  const chosen = lock ?? (readOnly ? "shared" : "exclusive");
  if (!["exclusive", "shared", "none"].includes(chosen)) {
    throw new TypeError(
      `Cannot open log: lock must be "exclusive", "shared" or "none", got ${String(lock)}`,
    );
  }
  if (!readOnly && chosen !== "exclusive") {
    throw new TypeError(
      `Cannot open log: a writer holds an exclusive lock; lock "${chosen}" needs readOnly`,
    );
  }
  return chosen;
}

/** Takes `lock` on `handle` without waiting; throws `kind: "locked"` when it is held elsewhere. */
export function takeLock(handle: Deno.FsFile, lock: LockMode, what: string): void {
  if (lock === "none" || handle.tryLockSync(lock === "exclusive")) return;
  const holder = lock === "exclusive" ? "another open handle" : "a writer";
  throw new WalError(
    "locked",
    `Cannot open ${what}: it is locked by ${holder} (in this process or another); close that ` +
      `one first${lock === "shared" ? ', or open with lock "none" to follow a live log' : ""}`,
  );
}

/** The error every write to a read-only store or log throws. */
export function readOnlyError(what: string): WalError {
  return new WalError("read-only", `Cannot write to "${what}": it was opened read-only`);
}

/** A flusher for read-only files: nothing to flush, and a write path that refuses. */
export function readOnlyFlusher(path: string): Flusher {
  return {
    description: "read-only (no flush)",
    flushSync: () => {
      throw readOnlyError(path);
    },
    flush: () => Promise.reject(readOnlyError(path)),
    close: () => {},
  };
}
