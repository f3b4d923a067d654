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
  const want = Math.max(0, Math.min(buffer.length, end - offset));
  if (want === 0) return 0;
  file.seekSync(offset, Deno.SeekMode.Start);
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
