// Copyright 2026 the wal-db authors. MIT license.
// The `flushed-segments` file: which segments a writer flushed, each with its file's fingerprint
// then, so that the next writer's open flushes only the segments the record cannot vouch for.
// I/O core: talks only to the `WalDirectory` interface, never to `Deno.*`.

import { crc32c } from "./crc32c.ts";
import {
  FLUSH_RECORD_CLOCK_MARGIN_MS as MARGIN,
  FLUSH_RECORD_FILE_NAME,
  FLUSH_RECORD_HEADER_SIZE as HEADER,
  FLUSH_RECORD_INTERVAL_MS,
  FLUSH_RECORD_MAGIC,
  FLUSH_RECORD_SIZE_MAX,
  FLUSH_RECORD_STALE_MAX,
  FLUSH_RECORD_TEMP_FILE_NAME,
  FLUSH_RECORD_VERSION,
} from "./constants.ts";
import type { FileFingerprint, WalDirectory } from "./directory.ts";
import { isIoError } from "./errors.ts";
import { syncDirectoryAsync, writeTemp, writeTempAsync } from "./segment_files.ts";
import { segmentName } from "./segments.ts";

/** When a flush started, on the wall clock (file times) and the monotonic one (clock steps). */
export interface FlushStart {
  readonly wall: number;
  readonly mono: number;
}

/** The moment a flush starts. */
export function flushStart(): FlushStart {
  return { wall: Date.now(), mono: performance.now() };
}

const MAGIC = new TextEncoder().encode(FLUSH_RECORD_MAGIC);

/**
 * The bytes of a flush record: a 16-byte header (`WFLS`, version, body length, CRC32C of the
 * body, each u32 LE) and a body of one line per segment, `<index> <fingerprint id>\n`.
 */
export function encodeFlushRecord(entries: ReadonlyMap<number, string>): Uint8Array {
  let text = "";
  for (const [index, id] of [...entries].sort((a, b) => a[0] - b[0])) text += `${index} ${id}\n`;
  const body = new TextEncoder().encode(text);
  const bytes = new Uint8Array(HEADER + body.length);
  const view = new DataView(bytes.buffer);
  bytes.set(MAGIC, 0);
  view.setUint32(4, FLUSH_RECORD_VERSION, true);
  view.setUint32(8, body.length, true);
  view.setUint32(12, crc32c(body), true);
  bytes.set(body, HEADER);
  return bytes;
}

/**
 * The entries of a flush record, or `undefined` for anything {@linkcode encodeFlushRecord} does
 * not write (another version, a wrong length or CRC): a record is only ever a reason to skip a
 * flush, so one that cannot be trusted is ignored, never refused.
 */
export function decodeFlushRecord(bytes: Uint8Array): Map<number, string> | undefined {
  if (bytes.length < HEADER || !MAGIC.every((byte, i) => bytes[i] === byte)) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const length = view.getUint32(8, true);
  const body = bytes.subarray(HEADER);
  if (view.getUint32(4, true) !== FLUSH_RECORD_VERSION || body.length !== length) return undefined;
  if (view.getUint32(12, true) !== crc32c(body)) return undefined;
  const entries = new Map<number, string>();
  const text = new TextDecoder().decode(body);
  for (const line of text.split("\n")) {
    if (line === "") continue;
    const space = line.indexOf(" ");
    const index = Number(line.slice(0, space));
    if (space <= 0 || !Number.isSafeInteger(index) || index < 0) return undefined;
    entries.set(index, line.slice(space + 1));
  }
  return entries;
}

/**
 * What a writer knows to be flushed: segments the record vouched for at open, and segments it
 * flushed since (with when that flush started). It rewrites the record, atomically and only
 * after the flushes it lists succeeded, every `FLUSH_RECORD_STALE_MAX` segments or so; once any
 * flush of the store fails it writes none again (a failed flush may leave pages that read back
 * but are not on disk, and a later flush of them reports success).
 *
 * A segment enters the record with its fingerprint, taken after a flush of it succeeded, only
 * when its file last changed well before that flush started (see
 * `FLUSH_RECORD_CLOCK_MARGIN_MS`): then any change since the flush, by this process or another
 * tool, gives another fingerprint. A segment flushed too soon after its last write is flushed
 * again through a handle of its own once it is old enough, to date the proof.
 */
export class FlushRecord {
  readonly #dir: WalDirectory;
  readonly #exists: (index: number) => boolean;
  /** Segments proven flushed, with the fingerprint id that proves it. */
  readonly #proven = new Map<number, string>();
  /** Segments flushed in this session but not proven yet, with when that flush started. */
  readonly #flushed = new Map<number, FlushStart>();
  #lastWrite = Number.NEGATIVE_INFINITY;
  #broken = false;
  /** Set while `writeAsync` runs: a blocking write meanwhile would replace its temporary file. */
  #writing = false;

  constructor(dir: WalDirectory, exists: (index: number) => boolean) {
    this.#dir = dir;
    this.#exists = exists;
  }

  /**
   * At a writer's open: the segments from `first` on that the record vouches for, their
   * fingerprints matching the record's. None without a record, a fingerprint or a match.
   */
  trustAtOpen(names: readonly string[], segments: Iterable<number>, first: number): Set<number> {
    const trusted = new Set<number>();
    const dir = this.#dir;
    if (dir.fingerprint === undefined || !names.includes(FLUSH_RECORD_FILE_NAME)) return trusted;
    const recorded = readRecord(dir);
    if (recorded === undefined) return trusted;
    for (const index of segments) {
      const id = recorded.get(index);
      if (index < first || id === undefined) continue;
      if (dir.fingerprint(segmentName(index))?.id !== id) continue;
      trusted.add(index);
      this.#proven.set(index, id);
    }
    return trusted;
  }

  /** A flush that started at `start` made every byte of segment `index` durable. */
  settled(index: number, start: FlushStart): void {
    if (this.#proven.has(index)) return;
    this.#flushed.set(index, start);
  }

  /** Segment `index` is written or cut (or removed): nothing vouches for it any more. */
  changed(index: number): void {
    this.#proven.delete(index);
    this.#flushed.delete(index);
  }

  /** A flush failed: no record is written again by this store. */
  fail(): void {
    this.#broken = true;
  }

  /** True when the record is worth rewriting: see {@linkcode FlushRecord}. */
  due(sealedBelow: number): boolean {
    if (this.#broken || this.#writing || this.#dir.fingerprint === undefined) return false;
    if (Date.now() - this.#lastWrite < FLUSH_RECORD_INTERVAL_MS) return false;
    let count = 0;
    for (const index of this.#flushed.keys()) if (index < sealedBelow) count++;
    return count >= FLUSH_RECORD_STALE_MAX;
  }

  /**
   * Proves what it can of the segments below `sealedBelow` (the one being written is not
   * proven: it changes) and rewrites the record, blocking the thread.
   */
  writeSync(sealedBelow: number): void {
    if (this.#broken) return;
    this.#lastWrite = Date.now();
    for (const [index, start] of this.#candidates(sealedBelow)) {
      const again = this.#proveOrFlush(index, start);
      if (again === undefined) continue;
      const file = this.#dir.open(segmentName(index), false);
      try {
        file.flushSync();
      } finally {
        file.close();
      }
      this.#proveAfterFlush(index, again);
    }
    // Nothing above yields to a failing flush's handler; checked all the same, as in writeAsync.
    if (this.#broken) return;
    const bytes = encodeFlushRecord(this.#proven);
    if (!spared(() => writeTemp(this.#dir, FLUSH_RECORD_TEMP_FILE_NAME, bytes))) return;
    this.#dir.rename(FLUSH_RECORD_TEMP_FILE_NAME, FLUSH_RECORD_FILE_NAME);
    this.#dir.sync();
  }

  /** {@linkcode FlushRecord.writeSync} with every flush off the main thread. */
  async writeAsync(sealedBelow: number): Promise<void> {
    this.#writing = true;
    try {
      await this.#writeAsync(sealedBelow);
    } finally {
      this.#writing = false;
    }
  }

  /**
   * A flush of the store may fail at any await here (one started ahead of need, say, or a sync
   * beside it): `#broken` is checked after each, and last right before the rename that puts
   * the record in place, so no record is put in place once a flush failed.
   */
  async #writeAsync(sealedBelow: number): Promise<void> {
    if (this.#broken) return;
    this.#lastWrite = Date.now();
    for (const [index, start] of this.#candidates(sealedBelow)) {
      const again = this.#proveOrFlush(index, start);
      if (again === undefined) continue;
      const file = this.#dir.open(segmentName(index), false);
      try {
        await file.flush();
      } finally {
        file.close();
      }
      if (this.#broken) return;
      // A truncation may have removed or rewritten it meanwhile: then it proves nothing.
      if (this.#flushed.get(index) === start) this.#proveAfterFlush(index, again);
    }
    const bytes = encodeFlushRecord(this.#proven);
    const write = writeTempAsync(this.#dir, FLUSH_RECORD_TEMP_FILE_NAME, bytes);
    if (!(await sparedAsync(write)) || this.#broken) return;
    this.#dir.rename(FLUSH_RECORD_TEMP_FILE_NAME, FLUSH_RECORD_FILE_NAME);
    await syncDirectoryAsync(this.#dir);
  }

  /**
   * One candidate's step: proves segment `index` from the flush that started at `start` when
   * that flush vouches for the file as it is now, and returns `undefined` (also when it must wait
   * or is gone); otherwise returns the start of the flush the caller is to make now.
   */
  #proveOrFlush(index: number, start: FlushStart): FlushStart | undefined {
    // Removed by a truncation during an earlier flush's await (the store forgets a segment before
    // a worker thread unlinks its file): nothing to prove, and no file to open (a LazyFS run met
    // that open failing with ENOENT, which failed the log).
    if (!this.#exists(index)) return undefined;
    const before = this.#provable(index, start);
    if (before === "wait") return undefined;
    if (before !== "flush") {
      this.#prove(index, before);
      return undefined;
    }
    return flushStart();
  }

  #candidates(sealedBelow: number): [number, FlushStart][] {
    return [...this.#flushed].filter(([index]) => index < sealedBelow && this.#exists(index));
  }

  /**
   * Whether the flush that started at `start` proves segment `index` flushed as its file is now
   * (its fingerprint), or a new flush would ("flush"), or not yet ("wait": it changed too
   * recently, or the file system gives no fingerprint).
   */
  #provable(index: number, start: FlushStart): FileFingerprint | "flush" | "wait" {
    const print = this.#dir.fingerprint!(segmentName(index));
    if (print === undefined) return "wait";
    if (oldEnough(print, start)) return print;
    return oldEnough(print, flushStart()) ? "flush" : "wait";
  }

  #proveAfterFlush(index: number, start: FlushStart): void {
    const print = this.#dir.fingerprint!(segmentName(index));
    if (print !== undefined && oldEnough(print, start)) this.#prove(index, print);
  }

  #prove(index: number, print: FileFingerprint): void {
    this.#flushed.delete(index);
    this.#proven.set(index, print.id);
  }
}

/**
 * True when the file last changed `MARGIN` before the flush that started at `start`, and the
 * wall clock kept pace with the monotonic one since: then no write since that flush began can
 * have left the fingerprint as it is.
 */
function oldEnough(print: FileFingerprint, start: FlushStart): boolean {
  const drift = (Date.now() - start.wall) - (performance.now() - start.mono);
  return print.changedAt < start.wall - MARGIN && Math.abs(drift) < MARGIN;
}

/** The entries of the directory's flush record, or `undefined` when it is missing or damaged. */
function readRecord(dir: WalDirectory): Map<number, string> | undefined {
  const file = dir.open(FLUSH_RECORD_FILE_NAME, false);
  try {
    if (file.size > FLUSH_RECORD_SIZE_MAX) return undefined;
    const bytes = new Uint8Array(file.size);
    return decodeFlushRecord(bytes.subarray(0, file.readAt(0, bytes)));
  } finally {
    file.close();
  }
}

/**
 * Runs `write`, the record's temporary file: false when it failed. The record only spares the
 * next open some flushes, so a full disk (or a failed flush of that file, which holds none of
 * the log) leaves the old record in place, never fails the flush it rides on: it failed the
 * recovery of a log on a full disk, so that the log could not be opened to free space. An error
 * that is not an I/O call's (a permission, a bug) surfaces.
 */
function spared(write: () => void): boolean {
  try {
    write();
    return true;
  } catch (error) {
    if (!isIoError(error)) throw error;
    return false;
  }
}

/** {@linkcode spared} for the asynchronous write. */
async function sparedAsync(write: Promise<void>): Promise<boolean> {
  try {
    await write;
    return true;
  } catch (error) {
    if (!isIoError(error)) throw error;
    return false;
  }
}
