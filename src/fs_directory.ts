// Copyright 2026 the wal-db authors. MIT license.
// A WalDirectory on the real file system. Backend: talks to `Deno.*` and the durability choice.

import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { CTIME_RESOLUTION_MS, LOCK_FILE_NAME } from "./constants.ts";
import type { DurabilityMode } from "./config.ts";
import {
  checkLock,
  chooseDurability,
  type Durability,
  type Flusher,
  type LockMode,
  readOnlyError,
  readOnlyFlusher,
  RUNTIME_DURABILITY,
  takeLock,
} from "./durability.ts";
import type { DirectoryFile, FileFingerprint, WalDirectory } from "./directory.ts";
import { runEach } from "./cleanup.ts";
import { WalError } from "./errors.ts";
import { identityOf, readAtLimit, wrapIo, writeAll } from "./file_io.ts";

/** Options for {@linkcode FsDirectory.open}. */
export interface FsDirectoryOptions {
  /**
   * How files are flushed; see {@linkcode DurabilityMode}.
   *
   * @default {"auto"}
   */
  durability?: DurabilityMode;
  /** An explicit path to the shim library. */
  shimPath?: string | undefined;
  /**
   * Open for reading only: the directory must exist, and nothing in it is ever created,
   * written, renamed or removed.
   *
   * @default {false}
   */
  readOnly?: boolean;
  /**
   * Which lock to hold on `wal.lock`; see {@linkcode LockMode}. A read-only open of a directory
   * that has no `wal.lock` (a log written by another implementation) holds no lock.
   *
   * @default {"exclusive" for writers, "shared" for readers}
   */
  lock?: LockMode;
}

/**
 * A {@linkcode WalDirectory} on disk. Opening creates the directory when it is missing (and
 * flushes its parent), then takes an exclusive lock on a `wal.lock` file inside it, so a second
 * open of the same directory, from this process or another, fails with `kind: "locked"`.
 */
export class FsDirectory implements WalDirectory {
  readonly path: string;
  /** The directory's device and inode: the same log whatever path it is opened by. */
  readonly identity: string;
  readonly #durability: Durability;
  readonly #lock: Deno.FsFile | undefined;
  readonly #readOnly: boolean;
  #closed = false;

  private constructor(
    path: string,
    durability: Durability,
    lock: Deno.FsFile | undefined,
    readOnly: boolean,
  ) {
    this.path = path;
    this.identity = identityOf(Deno.statSync(path), path);
    this.#durability = durability;
    this.#lock = lock;
    this.#readOnly = readOnly;
  }

  /** True when the directory was opened read-only. */
  get readOnly(): boolean {
    return this.#readOnly;
  }

  /**
   * Opens (creating if needed) and locks the directory at `path`. Requires `--allow-read` and
   * `--allow-write` permissions (and `--allow-ffi` for the native flush).
   *
   * @param path The directory.
   * @param options How files are flushed.
   * @returns The open, locked directory.
   * @throws {WalError} `"locked"` if it is open elsewhere; `"io"` if it cannot be created.
   *
   * @example A segmented store on disk
   * ```ts ignore
   * import { FsDirectory, SegmentedStore, Wal } from "@wal-db/wal-db";
   *
   * const store = SegmentedStore.open(FsDirectory.open("/var/lib/app/wal"), 16 << 20);
   * using wal = Wal.withStore(store);
   * ```
   */
  static open(path: string | URL, options: FsDirectoryOptions = {}): FsDirectory {
    const dir = path instanceof URL ? fileURLToPath(path) : path;
    if (typeof dir !== "string" || dir === "") {
      throw new TypeError("Cannot open segmented log: dir must be a non-empty string or file URL");
    }
    const readOnly = options.readOnly ?? false;
    const lock = checkLock(options.lock, readOnly);
    if (readOnly) {
      checkIsDirectory(dir);
      return new FsDirectory(dir, RUNTIME_DURABILITY, openReadLock(dir, lock), true);
    }
    const durability = chooseDurability({
      mode: options.durability ?? "auto",
      shimPath: options.shimPath,
    });
    ensureDirectory(dir, durability);
    return new FsDirectory(
      dir,
      durability,
      openLock(join(dir, LOCK_FILE_NAME), durability, dir),
      false,
    );
  }

  get durability(): string {
    return this.#readOnly ? "read-only (no flush)" : this.#durability.description;
  }

  list(): string[] {
    const names: string[] = [];
    for (const entry of Deno.readDirSync(this.path)) if (entry.isFile) names.push(entry.name);
    return names;
  }

  sizeOf(name: string): number | undefined {
    try {
      return Deno.statSync(join(this.path, name)).size;
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return undefined;
      throw error;
    }
  }

  /**
   * Device and inode (a copy or a restored file is another inode), creation time where the file
   * system keeps one and change time (a new file reusing a freed inode number has new ones; no
   * tool can set them back), modification time and size. The runtime reports the change time
   * in whole seconds: `changedAt` is the end of that second, or the modification time (in
   * milliseconds) if later. `undefined` where the runtime reports no inode or change time
   * (then a writer's open flushes every segment).
   */
  fingerprint(name: string): FileFingerprint | undefined {
    let info: Deno.FileInfo;
    try {
      info = Deno.statSync(join(this.path, name));
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return undefined;
      throw wrapIo(error, `look at "${join(this.path, name)}"`);
    }
    const { dev, ino, ctime, mtime, birthtime, size } = info;
    if (!info.isFile || ino === null || ctime === null || mtime === null) return undefined;
    const changed = ctime.getTime();
    const modified = mtime.getTime();
    return {
      id: `${dev}:${ino}:${birthtime?.getTime() ?? "-"}:${changed}:${modified}:${size}`,
      changedAt: Math.max(changed + CTIME_RESOLUTION_MS - 1, modified),
    };
  }

  open(name: string, create: boolean): DirectoryFile {
    const path = join(this.path, name);
    if (this.#readOnly) {
      if (create) throw readOnlyError(path);
      return new FsDirectoryFile(Deno.openSync(path, { read: true }), path, readOnlyFlusher);
    }
    const writer = Deno.openSync(path, { read: true, append: true, create });
    const durability = this.#durability;
    return new FsDirectoryFile(writer, path, () => durability.flusherFor(writer, path));
  }

  remove(name: string): void {
    this.#checkWritable();
    Deno.removeSync(join(this.path, name));
  }

  /**
   * Opens (or creates) file `name` on the runtime's worker threads. Its flusher is made at once,
   * while the name still leads to this file, so it can be renamed and flushed afterwards.
   */
  async openAsync(name: string, create: boolean): Promise<DirectoryFile> {
    this.#checkWritable();
    const path = join(this.path, name);
    const writer = await Deno.open(path, { read: true, append: true, create });
    const durability = this.#durability;
    const file = new FsDirectoryFile(writer, path, () => durability.flusherFor(writer, path));
    try {
      file.makeFlusher();
    } catch (error) {
      file.close();
      throw error;
    }
    return file;
  }

  async removeAsync(name: string): Promise<void> {
    this.#checkWritable();
    await Deno.remove(join(this.path, name));
  }

  rename(from: string, to: string): void {
    this.#checkWritable();
    Deno.renameSync(join(this.path, from), join(this.path, to));
  }

  sync(): void {
    this.#checkWritable();
    this.#durability.syncDirectory(this.path);
  }

  /**
   * The directory flush on the runtime's worker threads: `fsync` of the directory, which is
   * what the shim calls too (on macOS the runtime's `sync` is `F_FULLFSYNC`, as the shim's).
   * Windows journals directory entries itself: nothing to do there, as for `sync`.
   */
  async syncAsync(): Promise<void> {
    this.#checkWritable();
    if (Deno.build.os === "windows") return;
    try {
      using handle = await Deno.open(this.path, { read: true });
      await handle.sync();
    } catch (error) {
      throw wrapIo(error, `flush the directory "${this.path}"`);
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#lock?.close();
  }

  #checkWritable(): void {
    if (this.#readOnly) throw readOnlyError(this.path);
  }
}

/**
 * One file: appends through an append-mode handle, reads with seek and read on the same one.
 * The flusher (and its descriptors) is made on the first flush: most handles only read.
 */
class FsDirectoryFile implements DirectoryFile {
  readonly #file: Deno.FsFile;
  readonly #makeFlusher: (path: string) => Flusher;
  #flusherMade: Flusher | undefined;
  #size: number;
  #closed = false;

  constructor(file: Deno.FsFile, readonly path: string, makeFlusher: (path: string) => Flusher) {
    this.#file = file;
    this.#makeFlusher = makeFlusher;
    this.#size = file.statSync().size;
  }

  get #flusher(): Flusher {
    return this.#flusherMade ??= this.#makeFlusher(this.path);
  }

  /** Makes the flusher now (see `FsDirectory.openAsync`). */
  makeFlusher(): void {
    void this.#flusher;
  }

  get size(): number {
    return this.#size;
  }

  readAt(offset: number, buffer: Uint8Array): number {
    return readAtLimit(this.#file, offset, buffer, this.#size);
  }

  append(data: Uint8Array): void {
    // O_APPEND writes land at the end whatever the read position is.
    writeAll(this.#file, data, (count) => this.#size += count);
  }

  truncate(size: number): void {
    this.#file.truncateSync(size);
    this.#size = size;
  }

  async truncateAsync(size: number): Promise<void> {
    await this.#file.truncate(size);
    this.#size = size;
  }

  flushSync(): void {
    this.#flusher.flushSync();
  }

  flush(): Promise<void> {
    return this.#flusher.flush();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    runEach([() => this.#flusherMade?.close(), () => this.#file.close()], `close "${this.path}"`);
  }
}

function checkIsDirectory(dir: string): void {
  try {
    if (Deno.statSync(dir).isDirectory) return;
  } catch (error) {
    throw wrap(error, dir);
  }
  throw new WalError("io", `Cannot open segmented log "${dir}": it is not a directory`);
}

/** A reader's lock: shared (or none) on `wal.lock`, if the directory has one. */
function openReadLock(dir: string, lock: LockMode): Deno.FsFile | undefined {
  if (lock === "none") return undefined;
  let handle: Deno.FsFile;
  try {
    handle = Deno.openSync(join(dir, LOCK_FILE_NAME), { read: true });
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw wrap(error, dir);
  }
  try {
    takeLock(handle, lock, `segmented log "${dir}"`);
  } catch (error) {
    handle.close();
    throw error;
  }
  return handle;
}

/**
 * Makes `dir` a directory, creating it and any missing parents (`mkdir -p`), and makes what it
 * created durable: every directory it created, deepest first, and the first parent that already
 * existed, which holds the entry of the topmost new one. Flushing only the new directory's own
 * parent would leave that parent's entry, and so the whole new log, to be lost at a power loss.
 */
function ensureDirectory(dir: string, durability: Durability): void {
  try {
    if (Deno.statSync(dir).isDirectory) return;
    throw new WalError("io", `Cannot open segmented log "${dir}": it is not a directory`);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw wrap(error, dir);
  }
  try {
    const { missing, existing } = missingDirectories(dir);
    Deno.mkdirSync(dir, { recursive: true });
    for (const made of missing) durability.syncDirectory(made);
    durability.syncDirectory(existing);
  } catch (error) {
    throw wrap(error, dir);
  }
}

/** The directories `mkdir -p dir` creates, deepest first, and the first one up that exists. */
function missingDirectories(dir: string): { missing: string[]; existing: string } {
  const missing: string[] = [];
  for (let at = dir;; at = dirname(at)) {
    try {
      Deno.statSync(at);
      return { missing, existing: at };
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
    missing.push(at);
    // The root always exists; the guard only stops a loop on a path that never reaches one.
    if (dirname(at) === at) return { missing, existing: at };
  }
}

function openLock(path: string, durability: Durability, dir: string): Deno.FsFile {
  let created = false;
  let lock: Deno.FsFile;
  try {
    lock = Deno.openSync(path, { read: true, write: true, createNew: true });
    created = true;
  } catch (error) {
    if (!(error instanceof Deno.errors.AlreadyExists)) throw wrap(error, dir);
    lock = Deno.openSync(path, { read: true, write: true });
  }
  try {
    takeLock(lock, "exclusive", `segmented log "${dir}"`);
  } catch (error) {
    lock.close();
    throw error;
  }
  if (created) durability.syncDirectory(dir);
  return lock;
}

function wrap(error: unknown, dir: string): unknown {
  return wrapIo(error, `open segmented log "${dir}"`);
}
