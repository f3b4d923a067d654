// Copyright 2026 the wal-db authors. MIT license.
// An in-memory WalDirectory: segmented logs and checkpoints in a test with no permissions.
// Backend: no `Deno.*`, no durability; "durable" means "in this object".

import { WalError } from "./errors.ts";
import type { DirectoryFile, WalDirectory } from "./directory.ts";

/** The files of a directory, shared by every handle opened on it. */
interface Folder {
  readonly id: number;
  readonly files: Map<string, Inode>;
  /** The handle that holds the directory's lock, if any. */
  holder: MemDirectory | undefined;
}

/** A file's bytes; handles point here, so a renamed or removed file stays readable by them. */
interface Inode {
  bytes: Uint8Array;
  size: number;
}

let nextFolderId = 1;

/**
 * A {@linkcode WalDirectory} in memory: `Wal.openSegmented(new MemDirectory(), segmentSize)`
 * opens a segmented log, and `Snapshots` writes checkpoints into it, in a `deno test` with no
 * permissions. Nothing survives the process and flushes do nothing: it tests code that uses
 * a log, not durability (the crash simulation in tests/ does that).
 *
 * A handle holds the directory's lock from construction until `close` (the log closes it when
 * it closes). {@linkcode MemDirectory.reopen} opens the same files again, as a process does
 * after a restart.
 *
 * @example A segmented log in memory, closed and opened again
 * ```ts
 * import { MemDirectory, Wal } from "@wal-db/wal-db";
 * import { deepEqual } from "node:assert/strict";
 *
 * const dir = new MemDirectory();
 * const wal = Wal.openSegmented(dir, 1024);
 * wal.append(new TextEncoder().encode("hello"));
 * await wal.sync();
 * wal.close();
 *
 * using again = Wal.openSegmented(dir.reopen(), 1024);
 * deepEqual([...again.iter()].map((e) => e.lsn), [0]);
 * ```
 */
export class MemDirectory implements WalDirectory {
  readonly path: string;
  readonly #folder: Folder;
  #closed = false;
  /** Set by `reopen` for the constructor it calls: the files the new handle shares. */
  static #sharing: Folder | undefined;

  /**
   * Creates an empty directory, locked by this handle.
   *
   * @param path A name for messages and set-aside paths.
   */
  constructor(path = "memory") {
    const shared = MemDirectory.#sharing;
    MemDirectory.#sharing = undefined;
    if (typeof path !== "string") {
      throw new TypeError("Cannot create MemDirectory: path must be a string");
    }
    this.path = path;
    this.#folder = shared ?? { id: nextFolderId++, files: new Map(), holder: undefined };
    this.#folder.holder = this;
  }

  /** Always `"memory (no durability)"`. */
  get durability(): string {
    return "memory (no durability)";
  }

  /** The same for every handle on these files. */
  get identity(): string {
    return `memory:${this.#folder.id}`;
  }

  /** True once `close` ran. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * A new handle on the same files, holding the lock: what a restarted process would open.
   *
   * @returns The new handle.
   * @throws {WalError} `"locked"` while a handle on these files is still open.
   *
   * @example
   * ```ts
   * import { MemDirectory, WalError } from "@wal-db/wal-db";
   * import { deepEqual, throws } from "node:assert/strict";
   *
   * const dir = new MemDirectory();
   * dir.writeFile("notes", new Uint8Array([1]));
   * throws(() => dir.reopen(), (e) => e instanceof WalError && e.kind === "locked");
   * dir.close();
   * deepEqual(dir.reopen().list(), ["notes"]);
   * ```
   */
  reopen(): MemDirectory {
    if (this.#folder.holder !== undefined) {
      throw new WalError(
        "locked",
        `Cannot reopen the directory "${this.path}": a handle on it is still open; close ` +
          `the log that uses it first`,
      );
    }
    MemDirectory.#sharing = this.#folder;
    return new MemDirectory(this.path);
  }

  list(): string[] {
    this.#check();
    return [...this.#folder.files.keys()];
  }

  sizeOf(name: string): number | undefined {
    this.#check();
    return this.#folder.files.get(name)?.size;
  }

  open(name: string, create: boolean): DirectoryFile {
    this.#check();
    let inode = this.#folder.files.get(name);
    if (inode === undefined) {
      if (!create) throw notFound(this.path, name);
      inode = { bytes: new Uint8Array(0), size: 0 };
      this.#folder.files.set(name, inode);
    }
    return new MemFile(inode, `${this.path}/${name}`);
  }

  remove(name: string): void {
    this.#check();
    if (!this.#folder.files.delete(name)) throw notFound(this.path, name);
  }

  rename(from: string, to: string): void {
    this.#check();
    const inode = this.#folder.files.get(from);
    if (inode === undefined) throw notFound(this.path, from);
    this.#folder.files.delete(from);
    this.#folder.files.set(to, inode);
  }

  /** Nothing to flush in memory. */
  sync(): void {
    this.#check();
  }

  /** Releases the lock; later calls on this handle throw `"closed"`. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#folder.holder === this) this.#folder.holder = undefined;
  }

  /**
   * A copy of file `name`'s bytes, for tests.
   *
   * @param name The file.
   * @returns Its bytes, or `undefined` when there is no such file.
   */
  readFile(name: string): Uint8Array | undefined {
    const inode = this.#folder.files.get(name);
    return inode?.bytes.slice(0, inode.size);
  }

  /**
   * Replaces file `name` with a copy of `bytes` (creating it), for tests that damage a file.
   *
   * @param name The file.
   * @param bytes Its new content.
   */
  writeFile(name: string, bytes: Uint8Array): void {
    this.#folder.files.set(name, { bytes: bytes.slice(), size: bytes.length });
  }

  #check(): void {
    if (this.#closed) {
      throw new WalError("closed", `The directory "${this.path}" was used after it was closed`);
    }
  }
}

/** One open file: reads and writes go to the file's bytes, wherever its name is now. */
class MemFile implements DirectoryFile {
  readonly #inode: Inode;
  readonly #path: string;
  #closed = false;

  constructor(inode: Inode, path: string) {
    this.#inode = inode;
    this.#path = path;
  }

  get size(): number {
    return this.#inode.size;
  }

  readAt(offset: number, buffer: Uint8Array): number {
    this.#check();
    const inode = this.#inode;
    const count = Math.max(0, Math.min(buffer.length, inode.size - offset));
    buffer.set(inode.bytes.subarray(offset, offset + count));
    return count;
  }

  append(data: Uint8Array): void {
    this.#check();
    const inode = this.#inode;
    const needed = inode.size + data.length;
    if (needed > inode.bytes.length) {
      // Doubling keeps appends amortized O(1).
      const grown = new Uint8Array(Math.max(needed, inode.bytes.length * 2, 1024));
      grown.set(inode.bytes.subarray(0, inode.size));
      inode.bytes = grown;
    }
    inode.bytes.set(data, inode.size);
    inode.size = needed;
  }

  truncate(size: number): void {
    this.#check();
    const inode = this.#inode;
    if (size < inode.size) inode.bytes.fill(0, size, inode.size);
    else if (size > inode.bytes.length) {
      const grown = new Uint8Array(size);
      grown.set(inode.bytes.subarray(0, inode.size));
      inode.bytes = grown;
    }
    inode.size = size;
  }

  flushSync(): void {
    this.#check();
  }

  async flush(): Promise<void> {
    this.#check();
    await Promise.resolve();
  }

  close(): void {
    this.#closed = true;
  }

  #check(): void {
    if (this.#closed) {
      throw new WalError("closed", `The file "${this.#path}" was used after it was closed`);
    }
  }
}

/** What a missing file throws: the error a file system gives, named as Deno names it. */
function notFound(dir: string, name: string): Error {
  const error = new Error(`No such file: "${dir}/${name}"`);
  error.name = "NotFound";
  return error;
}
