// Copyright 2026 the wal-db authors. MIT license.
// The seam under segmented logs: a directory of files, as a contract. Types only.

/**
 * One open file of a {@linkcode WalDirectory}.
 *
 * - `readAt` is short only past the end of the file.
 * - `append` writes all of `data` at the end or throws; nothing is durable until a flush.
 * - `truncate` changes the size; it is durable only after a flush.
 * - `flushSync` / `flush` make the file's data durable (fdatasync or its equivalent). They
 *   report each write-back error of the file once, and only errors that happened since the
 *   handle was opened: a handle opened after a failed flush judges only what comes after it.
 * - `close` is idempotent; the caller never closes a file while its `flush` is pending.
 */
export interface DirectoryFile {
  /** The file's size in bytes. */
  readonly size: number;
  /** Copies bytes at `offset` into `buffer`; returns the count (short only past the end). */
  readAt(offset: number, buffer: Uint8Array): number;
  /** Writes all of `data` at the end of the file, or throws. */
  append(data: Uint8Array): void;
  /** Sets the file's size to `size` (only ever smaller). */
  truncate(size: number): void;
  /**
   * Optional: {@linkcode DirectoryFile.truncate} on a worker thread (cutting a large file frees
   * its blocks, which takes a while). Without it, an asynchronous cut calls `truncate`.
   */
  truncateAsync?(size: number): Promise<void>;
  /** Makes the file's data durable, blocking the thread. */
  flushSync(): void;
  /** Makes the file's data durable on a worker thread. */
  flush(): Promise<void>;
  /** Releases the handle. Idempotent. */
  close(): void;
}

/**
 * A directory that holds a segmented log, with the operations the segmented store needs. A
 * real one ({@linkcode FsDirectory}) talks to the file system; the tests use a simulated one
 * that forgets what was not flushed when it "loses power".
 *
 * Creating, renaming and removing entries is durable only after `sync`. The directory holds an
 * exclusive lock from when it is opened until `close`.
 */
export interface WalDirectory {
  /** Where the directory is, for messages and for the paths of set-aside files. */
  readonly path: string;
  /** Words for the flush mechanism. */
  readonly durability: string;
  /**
   * Optional: the directory's identity, e.g. its device and inode, the same for every open of
   * it in this process (see `WalStore.identity`).
   */
  readonly identity?: string | undefined;
  /** The names of the files in the directory. */
  list(): string[];
  /** The size of file `name`, or `undefined` when there is no such file. */
  sizeOf(name: string): number | undefined;
  /** Opens file `name` for reading and writing; `create` makes it when it is missing. */
  open(name: string, create: boolean): DirectoryFile;
  /**
   * Optional: {@linkcode WalDirectory.open} on a worker thread (creating a file takes a while).
   * The file it returns can still be flushed after it is renamed. Without it, a segmented store
   * creates each segment when the log reaches it.
   */
  openAsync?(name: string, create: boolean): Promise<DirectoryFile>;
  /** Removes file `name`. */
  remove(name: string): void;
  /**
   * Optional: {@linkcode WalDirectory.remove} on a worker thread (removing a large file frees
   * its blocks, which takes a while). Without it the store calls `remove`, which blocks.
   */
  removeAsync?(name: string): Promise<void>;
  /** Renames file `from` to `to`, replacing `to` if it exists. */
  rename(from: string, to: string): void;
  /** Makes every creation, rename and removal so far durable. */
  sync(): void;
  /**
   * Optional: {@linkcode WalDirectory.sync} on a worker thread, so the event loop goes on
   * meanwhile. Without it the store calls `sync`, which blocks.
   */
  syncAsync?(): Promise<void>;
  /**
   * Optional: the fingerprint of file `name`, or `undefined` when there is no such file or the
   * file system cannot give one. Its `id` must change whenever the file's bytes or size change
   * or another file takes its place (a copy, a restore, a new file reusing its inode number),
   * so that a file flushed once and fingerprinted then is known to be flushed still while the
   * `id` is the same. Without it, a writer's open flushes every segment.
   */
  fingerprint?(name: string): FileFingerprint | undefined;
  /** Releases the directory and its lock. Idempotent. */
  close(): void;
}

/** What {@linkcode WalDirectory.fingerprint} returns. */
export interface FileFingerprint {
  /** Identity, size and change times of the file, as one string. */
  readonly id: string;
  /**
   * The latest wall-clock time (`Date.now()` milliseconds) at which the file may last have
   * changed: a change after a later moment gives another `id`. Minus infinity when `id`
   * changes with every write whatever the clock (a counter, as in a simulated disk).
   */
  readonly changedAt: number;
}
