// Copyright 2026 the wal-db authors. MIT license.
// Loops and error wrapping shared by the two file backends (FileStore and FsDirectory), and
// how FileStore opens its files and checks its options.
// Backend: talks to `Deno.FsFile`.

import { fileURLToPath } from "node:url";
import { PREALLOCATE_SIZE_DEFAULT } from "./constants.ts";
import { WalError } from "./errors.ts";

/**
 * Reads up to `buffer.length` bytes at `offset`, never past `end`, with seek and read:
 * `readSync` may return fewer bytes than asked, so it loops until the range is full or the
 * file ends. Returns the count.
 */
export function readAtLimit(
  file: Deno.FsFile,
  offset: number,
  buffer: Uint8Array,
  end: number,
): number {
  const want = wanted(offset, buffer, end);
  if (want === 0) return 0;
  file.seekSync(offset, Deno.SeekMode.Start);
  return readFully(file, buffer, want);
}

/**
 * Reads ranges of a file through a handle nothing else moves, seeking only when a read does not
 * start where the last one ended. A replay or a recovery scan reads its chunks in order, and a
 * seek is a system call of its own: it took a fifth of the CPU time of a read-only open of a
 * log in the page cache (a profile of `Wal.open`, shim scanner).
 *
 * @example Two reads in order: one seek
 * ```ts
 * import { SequentialReader } from "./file_io.ts";
 * import { equal } from "node:assert/strict";
 *
 * const path = Deno.makeTempFileSync();
 * Deno.writeFileSync(path, new Uint8Array([1, 2, 3, 4, 5]));
 * using reader = new SequentialReader(Deno.openSync(path));
 * const buffer = new Uint8Array(2);
 * equal(reader.readAt(0, buffer, 5), 2);
 * equal(reader.readAt(2, buffer, 5), 2);
 * equal(buffer[1], 4);
 * equal(reader.readAt(4, buffer, 5), 1);
 * Deno.removeSync(path);
 * ```
 */
export class SequentialReader {
  readonly #file: Deno.FsFile;
  /** Where the handle's position is; -1 when unknown (a read failed part way). */
  #position = -1;

  /** Takes `file`: nothing else may read from it, seek it or close it. */
  constructor(file: Deno.FsFile) {
    this.#file = file;
  }

  /** As {@linkcode readAtLimit}, without the seek when the handle is already at `offset`. */
  readAt(offset: number, buffer: Uint8Array, end: number): number {
    const want = wanted(offset, buffer, end);
    if (want === 0) return 0;
    const at = this.#position;
    this.#position = -1;
    if (offset !== at) this.#file.seekSync(offset, Deno.SeekMode.Start);
    const done = readFully(this.#file, buffer, want);
    this.#position = offset + done;
    return done;
  }

  /** Closes the file. */
  close(): void {
    this.#file.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

function wanted(offset: number, buffer: Uint8Array, end: number): number {
  return Math.max(0, Math.min(buffer.length, end - offset));
}

/** Reads `want` bytes into `buffer` from the file's position, fewer only at the file's end. */
function readFully(file: Deno.FsFile, buffer: Uint8Array, want: number): number {
  let done = 0;
  while (done < want) {
    const n = file.readSync(buffer.subarray(done, want));
    if (n === null) break;
    done += n;
  }
  return done;
}

/**
 * Writes all of `data` at the file's position. `writeSync` may write part of a buffer; one call
 * almost always takes everything, so only a partial write pays for a subarray. Calls `progress`
 * with each count written, so a caller tracking the size stays right even if a later call
 * throws.
 */
export function writeAll(
  file: Deno.FsFile,
  data: Uint8Array,
  progress: (count: number) => void = () => {},
): void {
  let done = file.writeSync(data);
  progress(done);
  while (done < data.length) {
    const n = file.writeSync(data.subarray(done));
    if (n <= 0) throw new WalError("io", "Cannot write: the file accepted no bytes");
    done += n;
    progress(n);
  }
}

/**
 * A file's or directory's identity for this boot: its device and inode, and its creation time
 * where the file system records one (so a new file that reuses the inode number differs). The
 * path is the fallback only where the OS reports no inode.
 */
export function identityOf(info: Deno.FileInfo, path: string): string {
  if (info.dev === null || info.ino === null) return `path:${path}`;
  return `inode:${info.dev}:${info.ino}:${info.birthtime?.getTime() ?? ""}`;
}

/**
 * Wraps an operating-system error as `kind: "io"` with what was being done. Our own errors and
 * permission errors pass through unchanged: Deno's message already names the flag to add.
 */
export function wrapIo(error: unknown, action: string): unknown {
  if (
    error instanceof WalError || error instanceof Deno.errors.NotCapable ||
    error instanceof Deno.errors.PermissionDenied
  ) return error;
  const detail = error instanceof Error ? error.message : String(error);
  return new WalError("io", `Cannot ${action}: ${detail}`, { cause: error });
}

/** Opens a single-file log for reading only (a read-only store); never creates it. */
export function openForReading(path: string): Deno.FsFile {
  try {
    return Deno.openSync(path, { read: true });
  } catch (error) {
    throw wrapIo(error, `open log "${path}" for reading`);
  }
}

/**
 * Opens for appending, creating the file when it is missing. Whether this call created it does
 * not matter: a writer's open flushes the directory either way (see `FileStore.open`).
 */
export function openForAppend(path: string): Deno.FsFile {
  try {
    return Deno.openSync(path, { read: true, write: true, create: true });
  } catch (error) {
    throw wrapIo(error, `open log "${path}"`);
  }
}

/**
 * Creates `base`, or `base.1`, `base.2` … when it is taken: where a set-aside copy goes. With
 * `like`, the new file gets that file's permission bits (a copy of a 0600 log must not be
 * readable by others); Windows has none.
 */
export function createSibling(
  base: string,
  like?: string,
): { handle: Deno.FsFile; path: string } {
  const mode = like === undefined ? undefined : permissionBits(like);
  for (let n = 0;; n++) {
    const path = n === 0 ? base : `${base}.${n}`;
    try {
      const options = { write: true, createNew: true, ...(mode === undefined ? {} : { mode }) };
      return { handle: Deno.openSync(path, options), path };
    } catch (error) {
      if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
    }
  }
}

/** The permission bits of `path` (`undefined` where the system has none, as on Windows). */
function permissionBits(path: string): number | undefined {
  const mode = Deno.statSync(path).mode;
  return mode === null ? undefined : mode & PERMISSION_BITS;
}

/** rwx for owner, group and others: the bits a copy takes from its source. */
const PERMISSION_BITS = 0o777;

/** FileStore's `preallocateSize` option, checked; the default when it is missing. */
export function checkPreallocateSize(size: unknown): number {
  if (size === undefined) return PREALLOCATE_SIZE_DEFAULT;
  if (typeof size !== "number" || !Number.isSafeInteger(size) || size < 0) {
    throw new RangeError(
      `Cannot open log: preallocateSize must be a non-negative integer, got ${String(size)}`,
    );
  }
  return size;
}

/** A log's path as given (a string or a file URL), checked. */
export function toPath(path: string | URL): string {
  if (path instanceof URL) return fileURLToPath(path);
  if (typeof path !== "string" || path === "") {
    throw new TypeError(`Cannot open log: path must be a non-empty string or file URL`);
  }
  return path;
}
