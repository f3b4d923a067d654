// Copyright 2026 the wal-db authors. MIT license.
// The clean-close marker of a segmented log: left by a writer's close when nothing is left to
// flush, checked by the next writer's open, which then need not flush every segment again, and
// removed (durably) before that writer writes anything. I/O core: talks only to the `WalDirectory` interface.

import {
  CLEAN_CLOSE_FILE_MAGIC,
  CLEAN_CLOSE_FILE_NAME,
  CLEAN_CLOSE_FILE_SIZE,
  CLEAN_CLOSE_FILE_VERSION,
  CLEAN_CLOSE_TAIL_BYTES,
  CLEAN_CLOSE_TEMP_FILE_NAME,
  LOG_SIZE_LIMIT,
} from "./constants.ts";
import { crc32c } from "./crc32c.ts";
import type { WalDirectory } from "./directory.ts";
import { readSmallFile, writeAtomically } from "./segment_files.ts";

/** What a clean-close marker vouches for: the log as it was when its writer closed it. */
export interface CleanClose {
  /** The head then. */
  readonly head: number;
  /** The end then. */
  readonly end: number;
  /** The CRC32C of the log's last bytes then; see {@linkcode CLEAN_CLOSE_TAIL_BYTES}. */
  readonly tailCrc: number;
}

const MAGIC = new TextEncoder().encode(CLEAN_CLOSE_FILE_MAGIC);
const CRC_OFFSET = CLEAN_CLOSE_FILE_SIZE - 4;

/** The 32 bytes of a clean-close marker. */
export function encodeCleanClose(marker: CleanClose): Uint8Array {
  const bytes = new Uint8Array(CLEAN_CLOSE_FILE_SIZE);
  const view = new DataView(bytes.buffer);
  bytes.set(MAGIC, 0);
  view.setUint32(4, CLEAN_CLOSE_FILE_VERSION, true);
  view.setBigUint64(8, BigInt(marker.head), true);
  view.setBigUint64(16, BigInt(marker.end), true);
  view.setUint32(24, marker.tailCrc, true);
  view.setUint32(CRC_OFFSET, crc32c(bytes.subarray(0, CRC_OFFSET)), true);
  return bytes;
}

/**
 * The marker `bytes` hold, or `undefined` for anything but the exact bytes
 * {@linkcode encodeCleanClose} writes: a marker that cannot be trusted is no marker, and the open
 * then flushes every segment, which is always safe.
 */
export function decodeCleanClose(bytes: Uint8Array): CleanClose | undefined {
  if (bytes.length !== CLEAN_CLOSE_FILE_SIZE) return undefined;
  if (!MAGIC.every((byte, i) => bytes[i] === byte)) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(CRC_OFFSET, true) !== crc32c(bytes.subarray(0, CRC_OFFSET))) return undefined;
  if (view.getUint32(4, true) !== CLEAN_CLOSE_FILE_VERSION) return undefined;
  const head = view.getBigUint64(8, true);
  const end = view.getBigUint64(16, true);
  if (head > end || end > BigInt(LOG_SIZE_LIMIT)) return undefined;
  return { head: Number(head), end: Number(end), tailCrc: view.getUint32(24, true) };
}

/** The CRC32C of the log's last bytes (at most `CLEAN_CLOSE_TAIL_BYTES`, never before `head`). */
export function tailCrcOf(
  read: (offset: number, buffer: Uint8Array) => number,
  head: number,
  end: number,
): number {
  const buffer = new Uint8Array(Math.min(CLEAN_CLOSE_TAIL_BYTES, end - head));
  const got = read(end - buffer.length, buffer);
  return crc32c(buffer.subarray(0, got));
}

/**
 * Writes the marker for the log as it is now. Call it only when every segment and the directory
 * are flushed and nothing failed since the open: the marker says so to the next open. Best
 * effort: a marker that cannot be written is no marker (the next open flushes every segment), so
 * a failure is swallowed, and the temporary file removed if it can be.
 */
export function leaveCleanClose(dir: WalDirectory, marker: CleanClose): boolean {
  try {
    writeAtomically(
      dir,
      CLEAN_CLOSE_TEMP_FILE_NAME,
      CLEAN_CLOSE_FILE_NAME,
      encodeCleanClose(marker),
    );
    return true;
  } catch {
    try {
      dir.remove(CLEAN_CLOSE_TEMP_FILE_NAME);
    } catch {
      // The next writable open removes it.
    }
    return false;
  }
}

/**
 * At a writer's open: true when the directory holds a clean-close marker that matches the log
 * found (its writer flushed everything before it closed, and no writer changed the log since).
 * Changes nothing: {@linkcode dropCleanClose} removes the marker before the first write.
 */
export function matchesCleanClose(
  dir: WalDirectory,
  names: readonly string[],
  log: { head: number; end: number; read: (offset: number, buffer: Uint8Array) => number },
): boolean {
  if (!names.includes(CLEAN_CLOSE_FILE_NAME)) return false;
  const marker = decodeCleanClose(readSmallFile(dir, CLEAN_CLOSE_FILE_NAME));
  return marker !== undefined && marker.head === log.head && marker.end === log.end &&
    marker.tailCrc === tailCrcOf(log.read, log.head, log.end);
}

/** True when `names` hold a marker or a leftover temporary one. */
export function hasCleanClose(names: readonly string[]): boolean {
  return names.includes(CLEAN_CLOSE_FILE_NAME) || names.includes(CLEAN_CLOSE_TEMP_FILE_NAME);
}

/**
 * Before a writer's first write (or flush): removes the marker and a leftover temporary one and
 * makes the removal durable, so a marker never outlives the session that trusted it: should this
 * writer crash after appending, no marker claims its segments clean.
 */
export function dropCleanClose(dir: WalDirectory): void {
  const names = dir.list();
  for (const name of [CLEAN_CLOSE_FILE_NAME, CLEAN_CLOSE_TEMP_FILE_NAME]) {
    if (names.includes(name)) dir.remove(name);
  }
  dir.sync();
}

/**
 * A writer's part in the marker: whether one may still be in the directory (removed before the
 * first write or flush), and whether anything failed since the open (then none is left).
 */
export class CleanCloseState {
  readonly #dir: WalDirectory;
  #present: boolean;
  /** A write, flush or truncation threw since the open: no marker at close. */
  faulted = false;

  constructor(dir: WalDirectory, names: readonly string[]) {
    this.#dir = dir;
    this.#present = hasCleanClose(names);
  }

  /** Removes the marker, durably, if it may be there. */
  drop(): void {
    if (!this.#present) return;
    dropCleanClose(this.#dir);
    this.#present = false;
  }

  /** Runs a step that writes; a throw marks the writer faulted. */
  writing<T>(step: () => T): T {
    try {
      return step();
    } catch (error) {
      this.faulted = true;
      throw error;
    }
  }

  /** {@linkcode CleanCloseState.writing} for a step that returns a promise. */
  async writingAsync<T>(step: () => Promise<T>): Promise<T> {
    try {
      return await step();
    } catch (error) {
      this.faulted = true;
      throw error;
    }
  }

  /**
   * At close, when `clean` (nothing left to flush): leaves a marker for the log as it is, best
   * effort (a marker that cannot be written is no marker).
   */
  leave(clean: boolean, log: { head: number; end: number; read: Reader }): void {
    if (!clean || this.faulted) return;
    try {
      leaveCleanClose(this.#dir, { ...log, tailCrc: tailCrcOf(log.read, log.head, log.end) });
    } catch {
      // No marker: the next writer's open flushes every segment.
    }
  }
}

type Reader = (offset: number, buffer: Uint8Array) => number;
