// Copyright 2026 the wal-db authors. MIT license.
// A store in one file: one handle appends at the end, another reads with seek and read.
// Backend: the only code here that talks to `Deno.*` file APIs for single-file logs.

import { assert } from "./assert.ts";
import { runEach } from "./cleanup.ts";
import { HEADER_SIZE, NATIVE_FRAME_SIZE_MAX, SET_ASIDE_CHUNK_SIZE } from "./constants.ts";
import type { DurabilityMode } from "./config.ts";
import {
  checkLock,
  chooseDurability,
  type Durability,
  type Flusher,
  type LockMode,
  parentOf,
  readOnlyError,
  readOnlyFlusher,
  RUNTIME_DURABILITY,
  takeLock,
} from "./durability.ts";
import { type LockTarget, lockTargetFor, takeSidecarLock } from "./file_lock.ts";
import {
  checkPreallocateSize,
  createSibling,
  identityOf,
  openForAppend,
  openForReading,
  SequentialReader,
  toPath,
  wrapIo,
  writeAll,
} from "./file_io.ts";
import { WalError } from "./errors.ts";
import type { SetAsideOptions, WalStore } from "./store.ts";

/** Options for {@linkcode FileStore.open}. */
export interface FileStoreOptions {
  /**
   * How the store makes data durable; see {@linkcode DurabilityMode}.
   *
   * @default {"auto"}
   */
  durability?: DurabilityMode;
  /** An explicit path to the shim library (else `WAL_DB_SHIM`, else the embedded binary). */
  shimPath?: string;
  /**
   * Bytes to reserve ahead of the log's end: when an append would pass the end of the file,
   * the native shim allocates at least this much more (fallocate), so a flush does not also
   * have to allocate blocks and record a new size (about 25% less latency for small commits on
   * ext4 here). The reserve reads as zeros, which are never a record; a clean `close` cuts it
   * off, and recovery after a crash cuts it like any torn tail. Without the shim, or where the
   * file system cannot allocate ahead, the file simply grows with the log. 0 turns it off.
   *
   * @default {1048576}
   */
  preallocateSize?: number;
  /**
   * Open for reading only: the file must exist, nothing is ever written, and the lock is
   * shared unless `lock` says otherwise.
   *
   * @default {false}
   */
  readOnly?: boolean;
  /**
   * Which advisory lock to hold; see {@linkcode LockMode}. `"none"` needs `readOnly`.
   *
   * @default {"exclusive" for writers, "shared" for readers}
   */
  lock?: LockMode;
}

/**
 * A {@linkcode WalStore} in a single file.
 *
 * The store holds an advisory lock for as long as it is open: exclusive for a writer, so a
 * second open of the same file, from this process or another, fails with `kind: "locked"`. On
 * Unix the lock is on the log file itself; on Windows on a `<log>.lock` file beside it, which
 * reads never touch (docs/DURABILITY.md, "Locks"). A second handle serves reads, so iterating
 * never moves the append position. Requires `--allow-read` and `--allow-write`
 * permissions, and `--allow-ffi` for the native flush (see docs/DURABILITY.md).
 *
 * @example Opening a file store directly
 * ```ts ignore
 * import { FileStore, Wal } from "@wal-db/wal-db";
 *
 * const store = FileStore.open("/var/lib/app/app.wal", { durability: "runtime" });
 * using wal = Wal.withStore(store);
 * ```
 */
export class FileStore implements WalStore {
  /** The file's path. */
  readonly path: string;
  /** The file's device and inode: the same log whatever path it is opened by. */
  readonly identity: string;
  readonly #writer: Deno.FsFile;
  readonly #reader: SequentialReader;
  readonly #durability: Durability;
  readonly #flusher: Flusher;
  /** The flusher's positional write (the shim's `pwrite`), used for appends when it has one. */
  readonly #writeAt: ((data: Uint8Array, offset: number) => void) | undefined;
  /**
   * With the shim: fills the header of the frame whose payload is at `frame[8]` and writes the
   * frame at the end, in one FFI call (see `WalStore.appendFrame`). Undefined without it.
   */
  readonly appendFrame: ((frame: Uint8Array, payloadLength: number) => void) | undefined;
  readonly #readOnly: boolean;
  /** The sidecar lock's handle; undefined when the lock is on the writing handle, or none. */
  readonly #lock: Deno.FsFile | undefined;
  #preallocateSize: number;
  /** The log's end: where the next append lands. */
  #size: number;
  /** The file's size: the log's end plus any zeros reserved ahead of it. */
  #allocated: number;
  #closed = false;

  private constructor(
    path: string,
    writer: Deno.FsFile,
    durability: Durability,
    readOnly: boolean,
    preallocateSize: number,
    lock: Deno.FsFile | undefined,
  ) {
    this.path = path;
    this.#writer = writer;
    this.#lock = lock;
    this.#durability = durability;
    this.#readOnly = readOnly;
    this.#preallocateSize = preallocateSize;
    const info = writer.statSync();
    this.identity = identityOf(info, path);
    this.#size = info.size;
    this.#allocated = this.#size;
    writer.seekSync(this.#size, Deno.SeekMode.Start);
    this.#reader = new SequentialReader(Deno.openSync(path, { read: true }));
    try {
      this.#flusher = readOnly ? readOnlyFlusher(path) : durability.flusherFor(writer, path);
    } catch (error) {
      this.#reader.close();
      throw error;
    }
    this.#writeAt = this.#flusher.writeAt;
    const writeFrameAt = this.#flusher.writeFrameAt;
    this.appendFrame = writeFrameAt === undefined
      ? undefined
      : (frame, payloadLength) => this.#appendFrame(writeFrameAt, frame, payloadLength);
  }

  /**
   * Opens `path`, creating it (and flushing its directory) when it is missing, and locks it.
   *
   * @param path The log file.
   * @param options How to make data durable.
   * @returns The open store.
   * @throws {WalError} `kind: "locked"` if the file is open elsewhere, `"io"` if it cannot be
   * opened (a directory, a missing parent folder, a read-only file).
   */
  static open(path: string | URL, options: FileStoreOptions = {}): FileStore {
    return FileStore.openWithLockOn(path, options, lockTargetFor(Deno.build.os));
  }

  /**
   * Internal: {@linkcode FileStore.open} with the lock on `target`, so tests run the other OS's
   * lock path on this one. Every process opening one log must use the same target, which
   * `open` guarantees; do not call this.
   *
   * @ignore
   */
  static openWithLockOn(
    path: string | URL,
    options: FileStoreOptions,
    target: LockTarget,
  ): FileStore {
    const file = toPath(path);
    const readOnly = options.readOnly ?? false;
    const lock = checkLock(options.lock, readOnly);
    const preallocateSize = checkPreallocateSize(options.preallocateSize);
    const durability = readOnly ? RUNTIME_DURABILITY : chooseDurability({
      mode: options.durability ?? "auto",
      shimPath: options.shimPath,
    });
    const handle = readOnly ? openForReading(file) : openForAppend(file);
    let sidecar: Deno.FsFile | undefined;
    try {
      if (target === "log") takeLock(handle, lock, `log "${file}"`);
      else sidecar = takeSidecarLock(file, lock, readOnly);
      // Also when the file was there: an earlier open (in this boot) may have created it and
      // failed before this flush, or recovery may have re-created it, and records written to a
      // file whose directory entry is not durable vanish with it at a power loss (crash
      // simulation, seeds 24060 and 20074 with --faults 10). One directory flush per open.
      if (!readOnly) durability.syncDirectory(parentOf(file));
      return new FileStore(file, handle, durability, readOnly, preallocateSize, sidecar);
    } catch (error) {
      handle.close();
      sidecar?.close();
      throw wrapIo(error, `open log "${file}"`);
    }
  }

  /** Re-reads the file's size: a read-only store sees what another process appended since. */
  refresh(): void {
    this.#size = this.#writer.statSync().size;
    this.#allocated = this.#size;
  }

  /** One past the last byte of the file. */
  get size(): number {
    return this.#size;
  }

  /** Always 0: a single file keeps its whole log. */
  get head(): number {
    return 0;
  }

  /** Words for the flush mechanism in use. */
  get durability(): string {
    return this.#flusher.description;
  }

  /** Reads at `offset` through the reading handle. */
  readAt(offset: number, buffer: Uint8Array): number {
    return this.#reader.readAt(offset, buffer, this.#size);
  }

  /**
   * The call appends go through: `"pwrite via shim"` when the durability shim is in use (it
   * writes at the log's end through its own handle), else `"FsFile.writeSync"`. Both write every
   * byte into the operating system's cache before `append` returns.
   *
   * @example A store without the shim
   * ```ts
   * import { FileStore } from "@wal-db/wal-db";
   * import { equal } from "node:assert/strict";
   *
   * const dir = Deno.makeTempDirSync();
   * const store = FileStore.open(`${dir}/app.wal`, { durability: "runtime" });
   * equal(store.writeCall, "FsFile.writeSync");
   * store.close();
   * Deno.removeSync(dir, { recursive: true });
   * ```
   */
  get writeCall(): string {
    return this.#writeAt === undefined ? "FsFile.writeSync" : "pwrite via shim";
  }

  #appendFrame(
    writeFrameAt: (frame: Uint8Array, payloadLength: number, offset: number) => void,
    frame: Uint8Array,
    payloadLength: number,
  ): void {
    const size = payloadLength + HEADER_SIZE;
    this.#makeRoom(size);
    // All of it or a throw, as `append` with the shim's pwrite.
    writeFrameAt(frame, payloadLength, this.#size);
    this.#size += size;
  }

  /** Before an append of `length` bytes: refuses a closed or read-only store, reserves ahead. */
  #makeRoom(length: number): void {
    this.#checkWritable();
    if (this.#size + length > this.#allocated) this.#reserve(this.#size + length);
  }

  /** Writes all of `data` at the end; a write may take part of it, so it loops. */
  append(data: Uint8Array): void {
    this.#makeRoom(data.length);
    if (this.#writeAt !== undefined && data.length <= NATIVE_FRAME_SIZE_MAX) {
      // All of it or a throw. After a throw `#size` stays where the log ended: the failed log
      // is cut back to its durable end, which is below, whatever part of `data` landed.
      this.#writeAt(data, this.#size);
      this.#size += data.length;
      return;
    }
    // The shim's write takes a u32 length: a larger write (a record near 4 GiB) goes through the
    // handle, whose position the shim's writes did not move.
    if (this.#writeAt !== undefined) this.#writer.seekSync(this.#size, Deno.SeekMode.Start);
    // Without the shim the handle's position is always the log's end, so appends need no seek.
    // The loop is writeAll's, inline: a progress callback would be a closure per append. `#size`
    // follows each count, so it stays right when a later call throws.
    const writer = this.#writer;
    let done = writer.writeSync(data);
    this.#size += done;
    while (done < data.length) {
      const n = writer.writeSync(data.subarray(done));
      if (n <= 0) throw new WalError("io", "Cannot write: the file accepted no bytes");
      done += n;
      this.#size += n;
    }
  }

  /** Blocking flush of the file's data. */
  flushSync(): void {
    this.#flusher.flushSync();
  }

  /** Flush of the file's data on a worker thread. */
  flush(): Promise<void> {
    return this.#flusher.flush();
  }

  /** Cuts the file to `size` and flushes the change. */
  truncate(size: number): void {
    this.#checkWritable();
    assert(size >= 0 && size <= this.#size, "a truncation is inside the file: size", size);
    this.#writer.truncateSync(size);
    this.#writer.seekSync(size, Deno.SeekMode.Start);
    this.#size = size;
    this.#allocated = size;
    this.#flusher.flushSync();
  }

  /** {@linkcode FileStore.truncate} with the cut and its flush on worker threads. */
  async truncateAsync(size: number): Promise<void> {
    this.#checkWritable();
    assert(size >= 0 && size <= this.#size, "a truncation is inside the file: size", size);
    await this.#writer.truncate(size);
    await this.#writer.seek(size, Deno.SeekMode.Start);
    this.#size = size;
    this.#allocated = size;
    await this.#flusher.flush();
  }

  /**
   * After a failed flush: cuts the file to `size` and makes that durable. `ftruncate` drops the
   * cached pages past the cut, also the ones Linux marked clean when writing them failed, which
   * would otherwise read back as the log. The flush goes through descriptors opened now: one
   * opened before may report the error another already reported, and one opened now reports
   * only errors that happen from now on (Linux's errseq).
   */
  discardUnflushed(size: number): void {
    this.#checkWritable();
    assert(size >= 0 && size <= this.#size, "a discard is inside the file: size", size);
    this.#writer.truncateSync(size);
    this.#writer.seekSync(size, Deno.SeekMode.Start);
    this.#size = size;
    this.#allocated = size;
    const fresh = this.#durability.flusherFor(this.#writer, this.path);
    try {
      fresh.flushSync();
    } finally {
      fresh.close();
    }
  }

  /**
   * Copies `[offset, end)` into a new sibling file `<path>.<kind>-<offset>` (with `.1`, `.2` …
   * when that name is taken), flushes it and its directory, and returns its path.
   */
  setAside(offset: number, copy: SetAsideOptions = {}): string {
    this.#checkWritable();
    const end = Math.min(copy.end ?? this.#size, this.#size);
    const name = `${this.path}.${copy.kind ?? "damaged"}-${offset}`;
    const { handle, path } = createSibling(name, this.path);
    try {
      const chunk = new Uint8Array(SET_ASIDE_CHUNK_SIZE);
      for (let at = offset; at < end;) {
        const n = this.readAt(at, chunk.subarray(0, Math.min(chunk.length, end - at)));
        assert(n > 0, "set-aside reads make progress below the end");
        writeAll(handle, chunk.subarray(0, n));
        at += n;
      }
      handle.syncDataSync();
    } finally {
      handle.close();
    }
    this.#durability.syncDirectory(parentOf(path));
    return path;
  }

  /**
   * Changes nothing and returns 0: a single file cannot drop its prefix without rewriting the
   * whole log, so `Wal.truncateBefore` throws `"unsupported"`. Use a segmented log for
   * checkpoints that reclaim space.
   */
  truncateBefore(_head: number): number {
    return 0;
  }

  /**
   * Closes every handle, which releases the lock. Idempotent. Each step runs even when an
   * earlier one throws, so a failure never keeps the lock held; it is thrown afterwards, as
   * `kind: "io"`.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      runEach([
        () => this.#flusher.close(),
        () => this.#reader.close(),
        // A clean close leaves no reserved zeros behind: the file ends where the log does. Not
        // flushed: if the cut is lost, the zeros read as "no record" and recovery cuts them.
        () => {
          if (this.#allocated > this.#size) this.#writer.truncateSync(this.#size);
        },
        () => this.#writer.close(),
        // Last, so no other writer can start while this one still has a handle. The file stays:
        // removing it would let one opener lock the old inode and another a new one.
        () => this.#lock?.close(),
      ], `close log "${this.path}"`);
    } catch (error) {
      throw wrapIo(error, `close log "${this.path}"`);
    }
  }

  /**
   * Reserves blocks to cover `end`, rounded up to whole preallocation chunks. Allocated, not
   * written: writing zeros would double the bytes every flush sends to the disk. When the
   * mechanism cannot allocate ahead, preallocation stops for this store and the file grows.
   */
  #reserve(end: number): void {
    const chunk = this.#preallocateSize;
    if (chunk === 0) return;
    const target = Math.ceil(end / chunk) * chunk;
    if (this.#flusher.preallocate?.(this.#allocated, target - this.#allocated) === true) {
      this.#allocated = target;
    } else {
      this.#preallocateSize = 0;
      this.#giveBackPartialReserve();
    }
  }

  /**
   * After a reservation the file system declined for want of room: ext4 allocates piece by
   * piece and extends the file before it returns ENOSPC, so the file may now hold zeros past
   * what was reserved, taking the disk's last free blocks from every other file. They are cut
   * at once; if that fails, they are counted as reserved, so that a clean close cuts them.
   */
  #giveBackPartialReserve(): void {
    try {
      if (this.#writer.statSync().size > this.#allocated) {
        this.#writer.truncateSync(this.#allocated);
      }
    } catch {
      try {
        this.#allocated = Math.max(this.#allocated, this.#writer.statSync().size);
      } catch {
        // Left as is: a writer's open cuts the zeros (they read as the reserve).
      }
    }
  }

  #checkWritable(): void {
    if (this.#closed) throw new WalError("closed", "The store is closed; open the log again");
    if (this.#readOnly) throw readOnlyError(this.path);
  }
}
