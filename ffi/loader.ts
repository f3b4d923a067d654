// Copyright 2026 the wal-db authors. MIT license.
// Finds, verifies, caches and dlopens the durability shim, and turns its error codes into errors.
// Nothing happens at import time, and every permission is queried before use, so Deno never prompts.

import { createHash } from "node:crypto";
import { constants as osConstants } from "node:os";
import { isAbsolute, join, resolve } from "node:path";
import { EMBEDDED_SHIMS, type EmbeddedShim } from "./bin/mod.ts";
import { type ShimCrc, shimCrc } from "./crc.ts";
import { SHIM_ABI_VERSION, SHIM_SYMBOLS, type ShimSymbols } from "./symbols.ts";

/** Where {@linkcode loadShim} looks for the library and where it caches the embedded one. */
export interface ShimOptions {
  /**
   * The shim library to load. When set, no embedded binary is used and nothing is written.
   *
   * @default {the `WAL_DB_SHIM` environment variable, if `--allow-env` covers it; else the embedded binary}
   */
  path?: string;
  /**
   * The folder where the embedded binary is written before it is loaded.
   *
   * @default {`WAL_DB_CACHE_DIR`, else the user's cache folder plus `wal-db`}
   */
  cacheDir?: string;
}

/**
 * Why the shim cannot be used.
 *
 * | reason | meaning |
 * | --- | --- |
 * | `"no-binary"` | no embedded binary exists for this OS and CPU, and no path was given |
 * | `"permission"` | a needed read, write, env or ffi permission is not granted; the message names the flag |
 * | `"load-failed"` | the library could not be written, verified, opened, or reported the wrong ABI version |
 */
export type ShimUnavailableReason = "no-binary" | "permission" | "load-failed";

/**
 * Thrown by {@linkcode loadShim} when the shim cannot be used; never a permission prompt.
 *
 * Callers that can work without the shim catch this class and fall back to
 * `Deno.FsFile.syncData()`.
 *
 * @example Falling back when the shim is unavailable
 * ```ts ignore
 * import { loadShim, ShimUnavailableError } from "./mod.ts";
 *
 * try {
 *   loadShim();
 * } catch (error) {
 *   if (!(error instanceof ShimUnavailableError)) throw error;
 *   console.log(`no shim (${error.reason}): ${error.message}`);
 * }
 * ```
 */
export class ShimUnavailableError extends Error {
  /** Why the shim is unavailable. */
  readonly reason: ShimUnavailableReason;

  /**
   * Creates the error.
   *
   * @param reason Why the shim is unavailable.
   * @param message What went wrong and, for `"permission"`, which flag is needed.
   * @param options The underlying error, as `cause`.
   */
  constructor(reason: ShimUnavailableReason, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ShimUnavailableError";
    this.reason = reason;
  }
}

/**
 * Thrown when a shim call returns a negative error code.
 *
 * `code` is `-errno` on Unix and `-GetLastError()` on Windows. The message
 * names the C function, the error's name when known (such as `EIO`) and the path.
 *
 * @example Telling a missing file apart
 * ```ts ignore
 * import { loadShim, ShimCallError } from "./mod.ts";
 *
 * try {
 *   loadShim().openFile("/no/such/file");
 * } catch (error) {
 *   if (error instanceof ShimCallError) console.log(error.op, error.code); // wal_shim_open -2
 * }
 * ```
 */
export class ShimCallError extends Error {
  /** The negative error code that the call returned. */
  readonly code: number;
  /** The C function that failed, such as `"wal_shim_datasync"`. */
  readonly op: string;
  /** The file or directory the call was about. */
  readonly path: string;

  /**
   * Creates the error.
   *
   * @param op The C function that failed.
   * @param code The negative error code it returned.
   * @param path The file or directory the call was about.
   * @param detail An extra sentence for the message.
   */
  constructor(op: string, code: number, path: string, detail?: string) {
    const name = errorName(code) ?? "unknown error";
    const suffix = detail === undefined ? "" : `; ${detail}`;
    super(`${op} failed for "${path}": ${name} (code ${code})${suffix}`);
    this.name = "ShimCallError";
    this.code = code;
    this.op = op;
    this.path = path;
  }
}

/**
 * A file opened by the shim, used only to make its data durable.
 *
 * The shim holds its own OS handle, separate from any `Deno.FsFile` on the same
 * path: flushing either handle makes the file's data durable.
 *
 * @example Flushing a file
 * ```ts ignore
 * import { loadShim } from "./mod.ts";
 *
 * const file = loadShim().openFile("./log/000001.wal");
 * try {
 *   await file.syncData();
 * } finally {
 *   file.close();
 * }
 * ```
 */
export interface ShimFile {
  /**
   * Makes the file's written data durable, blocking the thread until the OS says so.
   *
   * @throws {ShimCallError} If the flush fails or the file is closed. A failed flush
   * must not be retried as if it had worked: the OS may have dropped the data.
   */
  syncDataSync(): void;
  /**
   * Makes the file's written data durable on Deno's blocking thread pool.
   *
   * Once the promise resolves, the data written before the call is durable.
   *
   * @throws {ShimCallError} If the flush fails or the file is closed.
   */
  syncData(): Promise<void>;
  /**
   * Reserves disk blocks for `[offset, offset + length)` and makes the file at least
   * `offset + length` bytes long, without writing: bytes past the old end read as zeros,
   * and bytes already in the file are kept. Flushing an append that lands in reserved
   * space then has no blocks to allocate and no new size to record.
   *
   * Linux uses `fallocate`; macOS uses `fcntl(F_PREALLOCATE)` then `ftruncate`, and
   * treats a range that ends inside the file as already done; Windows never
   * preallocates (see docs/DURABILITY.md). A `length` of 0 does nothing and returns true.
   *
   * @param offset Where the range starts, in bytes.
   * @param length How many bytes to reserve.
   * @returns True when the space is reserved; false when this OS or filesystem cannot
   * reserve space ahead (`EOPNOTSUPP`, `ENOTSUP`, `ENOSYS`; `ERROR_NOT_SUPPORTED` on
   * Windows), in which case the file is unchanged and the caller should just not
   * preallocate.
   * @throws {TypeError} If `offset` or `length` is not a number.
   * @throws {RangeError} If either is negative or not a safe integer, or their sum is
   * past `Number.MAX_SAFE_INTEGER`.
   * @throws {ShimCallError} If the OS reports another error (such as `ENOSPC`), or the
   * file is closed.
   *
   * @example Reserving 1 MiB past the end of a log
   * ```ts ignore
   * import { loadShim } from "./mod.ts";
   *
   * const path = "./log/000001.wal";
   * const file = loadShim().openFile(path);
   * try {
   *   const end = Deno.statSync(path).size;
   *   if (!file.preallocate(end, 1 << 20)) console.log("no preallocation on this filesystem");
   * } finally {
   *   file.close();
   * }
   * ```
   */
  preallocate(offset: number, length: number): boolean;
  /**
   * The identity of the file behind the handle: the device and the file's number on it, as
   * `fstat` reports them (Windows: the volume serial number and the 64-bit file index from
   * `GetFileInformationByHandle`). These are the numbers `Deno.FsFile.stat()` reports as `dev`
   * and `ino`, so a caller can check that a handle opened by path is the file it already has
   * open, and not one that replaced it at that path.
   *
   * @returns The device and the file number.
   * @throws {ShimCallError} If the OS reports an error, or the file is closed.
   */
  identity(): ShimFileIdentity;
  /**
   * Writes all of `data` from byte `offset` of the file on (`pwrite`; Windows: `WriteFile` at an
   * offset), in one FFI call that continues short writes and retries `EINTR` itself. When it
   * returns, the bytes are in the operating system's cache, as after `write`; the handle's own
   * file position is not used. Blocks the thread for the call (a page-cache write takes
   * microseconds).
   *
   * @param data The bytes to write.
   * @param offset Where they go: a non-negative safe integer.
   * @throws {TypeError} If `data` is not a Uint8Array.
   * @throws {RangeError} If `offset` is not a non-negative safe integer, or `data` is 4 GiB or
   * longer.
   * @throws {ShimCallError} If the OS reports an error (`ENOSPC`, `EIO` ...; `EIO` too for a
   * write that takes nothing), or the file is closed. Part of `data` may then be written.
   *
   * @example Appending a record at the end of a file
   * ```ts ignore
   * import { loadShim } from "./mod.ts";
   *
   * const path = "./log/000001.wal";
   * const file = loadShim().openFile(path);
   * try {
   *   file.writeAt(new Uint8Array([1, 2, 3]), Deno.statSync(path).size);
   * } finally {
   *   file.close();
   * }
   * ```
   */
  writeAt(data: Uint8Array, offset: number): void;
  /**
   * Appends one record frame in one FFI call: fills the frame's 8-byte header in `frame` (the
   * CRC32C of the four length bytes and the payload, then the payload's length, little-endian,
   * as docs/ON_DISK_FORMAT.md lays them out), then writes `frame[0, 8 + payloadLength)` from
   * byte `offset` on as {@linkcode ShimFile.writeAt} does. The payload must already be at
   * `frame[8]`; the header is written into `frame` even when the write fails. One call instead
   * of a CRC call and a write call: between system calls the second call cost ~200 ns more per
   * 256 B record than it does in a loop of its own (side-by-side loops, 2026-12-03; a review
   * measured 123-184 ns saved per 256 B append against the two calls).
   *
   * @param frame The frame: 8 bytes for the header, then the payload.
   * @param payloadLength The payload's length: `frame` must hold `8 + payloadLength` bytes.
   * @param offset Where the frame goes: a non-negative safe integer.
   * @throws {TypeError} If `frame` is not a Uint8Array.
   * @throws {RangeError} If `payloadLength` is not an integer from 0 to `frame.length - 8` and
   * below 2^32 - 8 (the call's length is a u32), or `offset` is not a non-negative safe integer.
   * @throws {ShimCallError} As {@linkcode ShimFile.writeAt}. Part of the frame may be written.
   *
   * @example Writing a frame and reading its header back
   * ```ts
   * import { loadShim } from "./mod.ts";
   * import assert from "node:assert/strict";
   *
   * const path = Deno.makeTempFileSync();
   * const file = loadShim().openFile(path);
   * try {
   *   const frame = new Uint8Array(8 + 3);
   *   frame.set([1, 2, 3], 8);
   *   file.writeFrameAt(frame, 3, 0);
   *   const bytes = Deno.readFileSync(path);
   *   assert.deepEqual(bytes, frame);
   *   assert.deepEqual([...bytes.subarray(4, 8)], [3, 0, 0, 0]);
   * } finally {
   *   file.close();
   *   Deno.removeSync(path);
   * }
   * ```
   */
  writeFrameAt(frame: Uint8Array, payloadLength: number, offset: number): void;
  /** True once macOS reported `F_FULLFSYNC` unsupported for this file and `fsync` was used. */
  readonly fsyncFallback: boolean;
  /**
   * Releases the handle. Calling it again does nothing. Do not call it while a
   * `syncData()` is pending.
   *
   * @throws {ShimCallError} If the OS reports an error on close (the handle is released anyway).
   */
  close(): void;
}

/** What {@linkcode ShimFile.identity} reports: together, they name one file on the machine. */
export interface ShimFileIdentity {
  /** The device (Windows: the volume serial number). */
  dev: bigint;
  /** The file's number on the device: the inode (Windows: the file index). */
  ino: bigint;
}

/**
 * A loaded shim library.
 *
 * @example Flushing a directory after creating a file in it
 * ```ts ignore
 * import { loadShim } from "./mod.ts";
 *
 * const shim = loadShim();
 * console.log(shim.flushCall, shim.path);
 * shim.syncDirectory("./log");
 * ```
 */
export interface Shim {
  /** The library file that was opened with `Deno.dlopen`. */
  readonly path: string;
  /** The ABI version the library reported. */
  readonly version: number;
  /** The OS call behind a flush: `"fdatasync"`, `"fcntl(F_FULLFSYNC)"`, `"FlushFileBuffers"` or `"fsync"`. */
  readonly flushCall: string;
  /**
   * Opens an existing file for flushing.
   *
   * The shim opens the file itself, outside Deno's permission checks; callers
   * should pass only paths they already opened through Deno.
   *
   * @param path The file to open.
   * @returns The opened file.
   * @throws {ShimCallError} If the OS cannot open the file (`-2` is ENOENT on Unix and
   * ERROR_FILE_NOT_FOUND on Windows).
   * @throws {TypeError} If the path contains a NUL character.
   */
  openFile(path: string): ShimFile;
  /**
   * Makes the creation, rename or removal of entries in a directory durable.
   * On Windows this does nothing, because NTFS journals directory changes itself.
   *
   * @param path The directory.
   * @throws {ShimCallError} If the OS cannot open or flush the directory.
   * @throws {TypeError} If the path contains a NUL character.
   */
  syncDirectory(path: string): void;
  /** CRC32C and frame checks in native code; `crc.path` says which CPU instructions they use. */
  readonly crc: ShimCrc;
}

/** Loaded libraries by path: a library is opened at most once per process. */
const loaded = new Map<string, Shim>();

/**
 * Loads the durability shim synchronously, without ever prompting for a permission.
 *
 * The library is, in order: `options.path`; else the `WAL_DB_SHIM` environment
 * variable (read only if `--allow-env` covers it); else the binary embedded for
 * this OS and CPU, written once to a cache folder under a name taken from its
 * SHA-256 and checked against that hash before it is opened. A damaged cached
 * copy is rewritten. Results are memoized per library path, but the ffi
 * permission is queried on every call.
 *
 * Requires `--allow-ffi` for the library file, plus `--allow-read` for it and
 * `--allow-write` for its folder when the embedded binary is used.
 *
 * @param options Where to find or cache the library.
 * @returns The loaded shim.
 * @throws {ShimUnavailableError} If the shim cannot be used; `reason` says why.
 *
 * @example Loading the embedded shim into a chosen cache folder
 * ```ts ignore
 * import { loadShim } from "./mod.ts";
 *
 * const shim = loadShim({ cacheDir: "./.cache" });
 * console.log(`flushing with ${shim.flushCall} from ${shim.path}`);
 * ```
 */
export function loadShim(options: ShimOptions = {}): Shim {
  const path = options.path ?? envValue("WAL_DB_SHIM");
  if (path !== undefined) return openLibrary(resolve(path));
  return loadEmbedded(options.cacheDir);
}

/**
 * Returns the key of the binary embedded for this OS and CPU, if there is one.
 *
 * @returns `${Deno.build.os}_${Deno.build.arch}` (e.g. `"linux_x86_64"`), or
 * `undefined` when this platform has no embedded binary.
 *
 * @example Usage
 * ```ts
 * import { embeddedShimTarget } from "./mod.ts";
 * import assert from "node:assert/strict";
 *
 * const target = embeddedShimTarget();
 * assert.ok(target === undefined || target === `${Deno.build.os}_${Deno.build.arch}`);
 * ```
 */
export function embeddedShimTarget(): string | undefined {
  const key = `${Deno.build.os}_${Deno.build.arch}`;
  return Object.hasOwn(EMBEDDED_SHIMS, key) ? key : undefined;
}

function loadEmbedded(cacheDir: string | undefined): Shim {
  const target = embeddedShimTarget();
  if (target === undefined) {
    throw new ShimUnavailableError(
      "no-binary",
      `wal-db has no embedded shim for ${Deno.build.os}_${Deno.build.arch}; build ` +
        `shim/wal_shim.c and shim/wal_crc32c.c yourself and pass the path (or set WAL_DB_SHIM)`,
    );
  }
  const binary = EMBEDDED_SHIMS[target]!;
  const dir = cacheDirectory(cacheDir);
  const file = join(dir, binary.SHIM_FILE_NAME);
  // Permission first, even for a library loaded earlier: a caller that lost (or, in a
  // test, never had) ffi access must get the same answer every time. The message lists every
  // flag the cache folder still lacks, so one rerun with them is enough.
  const permissions = cachePermissions(dir, file);
  requireCache(dir, permissions, "ffi", "load the shim");
  const memo = loaded.get(file);
  if (memo !== undefined) return memo;
  requireCache(dir, permissions, "read", "read the shim");
  if (!hasHash(file, binary.SHIM_SHA256)) {
    requireCache(dir, permissions, "write", "write the shim");
    writeAtomically(dir, file, decode(binary, target));
    if (!hasHash(file, binary.SHIM_SHA256)) {
      throw new ShimUnavailableError(
        "load-failed",
        `The cached shim "${file}" does not match its SHA-256 even after being rewritten`,
      );
    }
  }
  return openLibrary(file);
}

function openLibrary(path: string): Shim {
  requireGranted({ name: "ffi", path }, `--allow-ffi=${path}`, "load the shim");
  const memo = loaded.get(path);
  if (memo !== undefined) return memo;
  let library: Deno.DynamicLibrary<typeof SHIM_SYMBOLS>;
  try {
    library = Deno.dlopen(path, SHIM_SYMBOLS);
  } catch (error) {
    if (error instanceof Deno.errors.NotCapable || error instanceof Deno.errors.PermissionDenied) {
      throw new ShimUnavailableError(
        "permission",
        `Cannot load the shim "${path}": run with --allow-ffi=${path}`,
        { cause: error },
      );
    }
    // A library built for another ABI version usually lacks one of our symbols; its version
    // says so more plainly than "Failed to register symbol".
    const version = versionOf(path);
    if (version !== undefined && version !== SHIM_ABI_VERSION) {
      throw abiMismatch(path, version, { cause: error });
    }
    throw new ShimUnavailableError(
      "load-failed",
      `Cannot load the shim "${path}": ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
  const version = library.symbols.wal_shim_version();
  if (version !== SHIM_ABI_VERSION) {
    library.close();
    throw abiMismatch(path, version);
  }
  let shim: LoadedShim;
  try {
    shim = new LoadedShim(path, version, library.symbols);
  } catch (error) {
    library.close();
    throw new ShimUnavailableError(
      "load-failed",
      `The shim "${path}" is not usable: ${error instanceof Error ? error.message : error}`,
      { cause: error },
    );
  }
  loaded.set(path, shim);
  return shim;
}

function abiMismatch(path: string, version: number, options?: ErrorOptions): ShimUnavailableError {
  return new ShimUnavailableError(
    "load-failed",
    `The shim "${path}" has ABI version ${version}, but this wal-db needs ${SHIM_ABI_VERSION}`,
    options,
  );
}

/** The ABI version of the library at `path`, opened with that one symbol; undefined if it fails. */
function versionOf(path: string): number | undefined {
  try {
    const library = Deno.dlopen(path, { wal_shim_version: SHIM_SYMBOLS.wal_shim_version });
    try {
      return library.symbols.wal_shim_version();
    } finally {
      library.close();
    }
  } catch {
    return undefined; // not a library, or not ours: the first error is the one to report
  }
}

/** Throws a "permission" error unless the permission is already granted; never prompts. */
function requireGranted(descriptor: Deno.PermissionDescriptor, flag: string, task: string): void {
  const state = permissionState(descriptor);
  if (state !== "granted") {
    throw new ShimUnavailableError(
      "permission",
      `Cannot ${task}: run with ${flag} (the permission is "${state}", and wal-db never prompts)`,
    );
  }
}

function permissionState(descriptor: Deno.PermissionDescriptor): Deno.PermissionState {
  return Deno.permissions.querySync(descriptor).state;
}

/** The states of the permissions the cache folder needs, and the flags for those not granted. */
interface CachePermissions {
  ffi: Deno.PermissionState;
  read: Deno.PermissionState;
  write: Deno.PermissionState;
  missing: string[];
}

function cachePermissions(dir: string, file: string): CachePermissions {
  const ffi = permissionState({ name: "ffi", path: file });
  const read = permissionState({ name: "read", path: file });
  const write = permissionState({ name: "write", path: dir });
  const missing: string[] = [];
  if (ffi !== "granted") missing.push(`--allow-ffi=${dir}`);
  if (read !== "granted") missing.push(`--allow-read=${dir}`);
  if (write !== "granted") missing.push(`--allow-write=${dir}`);
  return { ffi, read, write, missing };
}

/** Unless `name` is granted, throws a "permission" error naming every flag the folder lacks. */
function requireCache(
  dir: string,
  permissions: CachePermissions,
  name: "ffi" | "read" | "write",
  task: string,
): void {
  const state = permissions[name];
  if (state === "granted") return;
  const note = permissions.write === "granted"
    ? ""
    : "; write access is needed only to cache the shim there on first use";
  throw new ShimUnavailableError(
    "permission",
    `Cannot ${task} in the cache folder "${dir}": run with ${permissions.missing.join(" ")} ` +
      `(the ${name} permission is "${state}", and wal-db never prompts${note})`,
  );
}

/** Reads an environment variable only when that is already permitted. */
function envValue(name: string): string | undefined {
  if (permissionState({ name: "env", variable: name }) !== "granted") return undefined;
  const value = Deno.env.get(name);
  return value === "" ? undefined : value;
}

/**
 * The cache folder: the option, `WAL_DB_CACHE_DIR`, or the platform's user cache folder plus
 * `wal-db`. Environment variables count only when `--allow-env` covers them. There is no
 * temporary fallback: a folder made per process would pile up (nothing removes it after a
 * kill) and a hint naming it would be useless for the next run.
 */
function cacheDirectory(explicit: string | undefined): string {
  const chosen = explicit ?? envValue("WAL_DB_CACHE_DIR");
  if (chosen !== undefined) return resolve(chosen);
  const userCache = userCacheDirectory();
  if (userCache !== undefined) return join(userCache, "wal-db");
  throw new ShimUnavailableError(
    "permission",
    `Cannot find the shim's cache folder, ${defaultCacheFolder()}: run with ` +
      `${envFlag()} and read, write and ffi access to that folder (for example ` +
      `${exampleFlags()}), or set WAL_DB_CACHE_DIR to a folder and allow reading it ` +
      `(--allow-env=WAL_DB_CACHE_DIR; loadShim: pass cacheDir)`,
  );
}

function userCacheDirectory(): string | undefined {
  if (Deno.build.os === "windows") return envValue("LOCALAPPDATA");
  if (Deno.build.os !== "darwin") {
    const xdg = envValue("XDG_CACHE_HOME");
    if (xdg !== undefined && isAbsolute(xdg)) return xdg;
  }
  const home = envValue("HOME");
  if (home === undefined) return undefined;
  return Deno.build.os === "darwin" ? join(home, "Library", "Caches") : join(home, ".cache");
}

/** The default cache folder in words, for when the variables that name it cannot be read. */
function defaultCacheFolder(): string {
  if (Deno.build.os === "windows") return "%LOCALAPPDATA%\\wal-db";
  if (Deno.build.os === "darwin") return "$HOME/Library/Caches/wal-db";
  return "$XDG_CACHE_HOME/wal-db, else $HOME/.cache/wal-db";
}

/** The --allow-env flag that lets the loader find the default cache folder. */
function envFlag(): string {
  if (Deno.build.os === "windows") return "--allow-env=LOCALAPPDATA";
  if (Deno.build.os === "darwin") return "--allow-env=HOME";
  return "--allow-env=HOME,XDG_CACHE_HOME";
}

function exampleFlags(): string {
  const dir = Deno.build.os === "windows"
    ? "%LOCALAPPDATA%\\wal-db"
    : Deno.build.os === "darwin"
    ? "$HOME/Library/Caches/wal-db"
    : "$HOME/.cache/wal-db";
  return `--allow-read=${dir} --allow-write=${dir} --allow-ffi=${dir}`;
}

/** True when the file exists and its SHA-256 is `sha256`; any read failure counts as false. */
function hasHash(file: string, sha256: string): boolean {
  let bytes: Uint8Array;
  try {
    bytes = Deno.readFileSync(file);
  } catch {
    return false; // missing or unreadable: rewriting it either fixes it or reports why not
  }
  return createHash("sha256").update(bytes).digest("hex") === sha256;
}

function decode(binary: EmbeddedShim, target: string): Uint8Array {
  const bytes = Uint8Array.fromBase64(binary.SHIM_BASE64);
  const sha256 = createHash("sha256").update(bytes).digest("hex");
  if (bytes.length !== binary.SHIM_SIZE || sha256 !== binary.SHIM_SHA256) {
    throw new ShimUnavailableError(
      "load-failed",
      `The embedded shim for ${target} is damaged; regenerate ffi/bin with \`deno task shim\``,
    );
  }
  return bytes;
}

/** Writes to a temporary name and renames, so a reader never sees a partial library. */
function writeAtomically(dir: string, file: string, bytes: Uint8Array): void {
  const temp = `${file}.${crypto.randomUUID()}.tmp`;
  try {
    Deno.mkdirSync(dir, { recursive: true });
    Deno.writeFileSync(temp, bytes, { mode: 0o755 });
    Deno.renameSync(temp, file);
  } catch (error) {
    try {
      Deno.removeSync(temp);
    } catch {
      // The temporary file may never have been created.
    }
    throw new ShimUnavailableError(
      "load-failed",
      `Cannot write the shim to "${file}": ${error instanceof Error ? error.message : error}`,
      { cause: error },
    );
  }
}

class LoadedShim implements Shim {
  readonly path: string;
  readonly version: number;
  readonly flushCall: string = flushCallFor(Deno.build.os);
  readonly crc: ShimCrc;
  #symbols: ShimSymbols;

  constructor(path: string, version: number, symbols: ShimSymbols) {
    this.path = path;
    this.version = version;
    this.#symbols = symbols;
    this.crc = shimCrc(symbols);
  }

  openFile(path: string): ShimFile {
    const handle = this.#symbols.wal_shim_open(cString(path));
    if (handle < 0n) throw new ShimCallError("wal_shim_open", Number(handle), path);
    return new LoadedFile(this.#symbols, handle, path);
  }

  syncDirectory(path: string): void {
    const result = this.#symbols.wal_shim_sync_dir(cString(path));
    if (result < 0) throw new ShimCallError("wal_shim_sync_dir", result, path);
  }
}

class LoadedFile implements ShimFile {
  #symbols: ShimSymbols;
  #handle: bigint | undefined;
  #path: string;
  #fsyncFallback = false;

  constructor(symbols: ShimSymbols, handle: bigint, path: string) {
    this.#symbols = symbols;
    this.#handle = handle;
    this.#path = path;
  }

  get fsyncFallback(): boolean {
    return this.#fsyncFallback;
  }

  syncDataSync(): void {
    this.#settle(this.#symbols.wal_shim_datasync(this.#open("wal_shim_datasync")));
  }

  async syncData(): Promise<void> {
    const handle = this.#open("wal_shim_datasync");
    this.#settle(await this.#symbols.wal_shim_datasync_async(handle));
  }

  preallocate(offset: number, length: number): boolean {
    checkByteCount("offset", offset);
    checkByteCount("length", length);
    if (offset + length > Number.MAX_SAFE_INTEGER) {
      throw new RangeError(
        `Cannot preallocate: offset + length (${offset} + ${length}) is past Number.MAX_SAFE_INTEGER`,
      );
    }
    const handle = this.#open("wal_shim_preallocate");
    const result = this.#symbols.wal_shim_preallocate(handle, BigInt(offset), BigInt(length));
    if (result >= 0) return true;
    if (isUnsupported(result)) return false;
    throw new ShimCallError("wal_shim_preallocate", result, this.#path);
  }

  writeAt(data: Uint8Array, offset: number): void {
    if (!(data instanceof Uint8Array)) {
      throw new TypeError(`Cannot write: data must be a Uint8Array, got ${typeof data}`);
    }
    if (!Number.isSafeInteger(offset) || offset < 0 || data.length > U32_MAX) {
      throw new RangeError(
        `Cannot write ${data.length} bytes at offset ${offset}: the offset must be a ` +
          `non-negative safe integer and the length below 4 GiB`,
      );
    }
    const handle = this.#open("wal_shim_pwrite");
    const result = this.#symbols.wal_shim_pwrite(handle, data, data.length, offset);
    if (result < 0) throw new ShimCallError("wal_shim_pwrite", result, this.#path);
  }

  writeFrameAt(frame: Uint8Array, payloadLength: number, offset: number): void {
    if (!(frame instanceof Uint8Array)) {
      throw new TypeError(`Cannot write a frame: it must be a Uint8Array, got ${typeof frame}`);
    }
    if (
      !Number.isInteger(payloadLength) || payloadLength < 0 ||
      payloadLength > frame.length - FRAME_HEADER_BYTES ||
      payloadLength > U32_MAX - FRAME_HEADER_BYTES ||
      !Number.isSafeInteger(offset) || offset < 0
    ) {
      throw new RangeError(
        `Cannot write a frame of ${payloadLength} payload bytes from a ${frame.length}-byte ` +
          `buffer at offset ${offset}: the payload must fit after the 8-byte header and the ` +
          `offset must be a non-negative safe integer`,
      );
    }
    const handle = this.#open("wal_shim_pwrite_frame");
    const result = this.#symbols.wal_shim_pwrite_frame(handle, frame, payloadLength, offset);
    if (result < 0) throw new ShimCallError("wal_shim_pwrite_frame", result, this.#path);
  }

  identity(): ShimFileIdentity {
    const out = new BigUint64Array(2);
    const result = this.#symbols.wal_shim_identity(this.#open("wal_shim_identity"), out);
    if (result < 0) throw new ShimCallError("wal_shim_identity", result, this.#path);
    return { dev: out[0]!, ino: out[1]! };
  }

  close(): void {
    const handle = this.#handle;
    if (handle === undefined) return;
    this.#handle = undefined;
    const result = this.#symbols.wal_shim_close(handle);
    if (result < 0) throw new ShimCallError("wal_shim_close", result, this.#path);
  }

  #open(op: string): bigint {
    if (this.#handle !== undefined) return this.#handle;
    // The code the OS would give for a closed handle: EBADF, ERROR_INVALID_HANDLE.
    const code = Deno.build.os === "windows" ? -6 : -osConstants.errno.EBADF;
    throw new ShimCallError(op, code, this.#path, "the ShimFile is closed");
  }

  #settle(result: number): void {
    if (result < 0) throw new ShimCallError("wal_shim_datasync", result, this.#path);
    if (result === 1) this.#fsyncFallback = true;
  }
}

function checkByteCount(name: string, value: number): void {
  if (typeof value !== "number") {
    throw new TypeError(`Cannot preallocate: ${name} must be a number, got ${typeof value}`);
  }
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(
      `Cannot preallocate: ${name} must be a non-negative safe integer, got ${value}`,
    );
  }
}

/** A record frame's header: its CRC32C and its length, four bytes each (ON_DISK_FORMAT.md). */
const FRAME_HEADER_BYTES = 8;
/** The longest write one `wal_shim_pwrite` call takes: its length is a u32. */
const U32_MAX = 0xffff_ffff;

/** ERROR_NOT_SUPPORTED, which the Windows shim always returns from wal_shim_preallocate. */
const WINDOWS_NOT_SUPPORTED = -50;

/** True for the codes that mean "this OS or filesystem cannot preallocate". */
function isUnsupported(code: number): boolean {
  if (Deno.build.os === "windows") return code === WINDOWS_NOT_SUPPORTED;
  const { ENOTSUP, EOPNOTSUPP, ENOSYS } = osConstants.errno;
  return code === -ENOTSUP || code === -EOPNOTSUPP || code === -ENOSYS;
}

function flushCallFor(os: typeof Deno.build.os): string {
  switch (os) {
    case "linux":
    case "android":
      return "fdatasync";
    case "darwin":
      return "fcntl(F_FULLFSYNC)";
    case "windows":
      return "FlushFileBuffers";
    default:
      return "fsync";
  }
}

const encoder = new TextEncoder();

function cString(path: string): Uint8Array {
  if (path.includes("\0")) throw new TypeError(`Path must not contain a NUL character: "${path}"`);
  return encoder.encode(`${path}\0`);
}

/** Win32 error names the shim's calls can plausibly return. */
const WINDOWS_ERRORS: Readonly<Record<number, string>> = {
  2: "ERROR_FILE_NOT_FOUND",
  3: "ERROR_PATH_NOT_FOUND",
  5: "ERROR_ACCESS_DENIED",
  6: "ERROR_INVALID_HANDLE",
  8: "ERROR_NOT_ENOUGH_MEMORY",
  19: "ERROR_WRITE_PROTECT",
  21: "ERROR_NOT_READY",
  32: "ERROR_SHARING_VIOLATION",
  50: "ERROR_NOT_SUPPORTED",
  87: "ERROR_INVALID_PARAMETER",
  112: "ERROR_DISK_FULL",
  123: "ERROR_INVALID_NAME",
  206: "ERROR_FILENAME_EXCED_RANGE",
  1113: "ERROR_NO_UNICODE_TRANSLATION",
  1117: "ERROR_IO_DEVICE",
};

let errnoNames: Map<number, string> | undefined;

/** The name of a negative error code on this OS, such as `EIO`, if known. */
function errorName(code: number): string | undefined {
  if (Deno.build.os === "windows") return WINDOWS_ERRORS[-code];
  if (errnoNames === undefined) {
    errnoNames = new Map();
    for (const [name, value] of Object.entries(osConstants.errno)) {
      if (!errnoNames.has(value)) errnoNames.set(value, name);
    }
  }
  return errnoNames.get(-code);
}
