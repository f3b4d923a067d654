// Copyright 2026 the wal-db authors. MIT license.
// Where a single-file log's lock lives, per OS, and taking it on the lock file beside the log.
// Backend: talks to `Deno.*` file APIs; docs/DURABILITY.md "Locks" says why the OSes differ.

import { SIDECAR_LOCK_SUFFIX } from "./constants.ts";
import { type LockMode, takeLock } from "./durability.ts";
import { wrapIo } from "./file_io.ts";

/**
 * What a single-file log's lock is taken on. `"log"`: the log file itself, through the writing
 * handle; Unix `flock` is advisory, so reads are never blocked, and the lock follows the file
 * through symlinks, hard links and renames. `"sidecar"`: a file beside the log
 * ({@linkcode sidecarLockPath}), because a Windows `LockFileEx` lock is mandatory and a lock on
 * the log would also refuse the log's own reading handle.
 */
export type LockTarget = "log" | "sidecar";

/** The lock target wal-db uses on `os` (a `Deno.build.os` value). */
export function lockTargetFor(os: string): LockTarget {
  return os === "windows" ? "sidecar" : "log";
}

/**
 * The lock file of the log at `realPath` (its path with every symlink resolved, so two paths
 * through a symlink share one lock). The suffix is one no log or layout file uses.
 */
export function sidecarLockPath(realPath: string): string {
  return `${realPath}${SIDECAR_LOCK_SUFFIX}`;
}

/**
 * Takes `lock` on the lock file of the log at `file` and returns its handle (undefined for
 * `"none"`, or for a reader that may neither find nor create the lock file). The file is created
 * when missing, by readers too: a reader that skipped a missing file would not keep out a writer
 * that creates it a moment later. It is never removed (see docs/DURABILITY.md "Locks").
 */
export function takeSidecarLock(
  file: string,
  lock: LockMode,
  readOnly: boolean,
): Deno.FsFile | undefined {
  if (lock === "none") return undefined;
  const path = sidecarLockPath(Deno.realPathSync(file));
  const handle = openLockFile(path, readOnly);
  if (handle === undefined) return undefined;
  try {
    takeLock(handle, lock, `log "${file}" (lock file "${path}")`);
    return handle;
  } catch (error) {
    handle.close();
    throw error;
  }
}

/** Opens (creating if allowed) the lock file; a reader falls back to what it may do. */
function openLockFile(path: string, readOnly: boolean): Deno.FsFile | undefined {
  try {
    return Deno.openSync(path, { read: true, write: true, create: true });
  } catch (error) {
    if (!readOnly || !mayNotWrite(error)) throw wrapIo(error, `open lock file "${path}"`);
  }
  try {
    return Deno.openSync(path, { read: true });
  } catch (error) {
    // Nobody may create it, so no writer of this layout can run here either.
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw wrapIo(error, `open lock file "${path}"`);
  }
}

/** True for the errors of a reader that may not write: no permission, a read-only volume. */
function mayNotWrite(error: unknown): boolean {
  return error instanceof Deno.errors.NotCapable ||
    error instanceof Deno.errors.PermissionDenied ||
    (error instanceof Error && /read-only file system|EROFS/i.test(error.message));
}
