// Copyright 2026 the wal-db authors. MIT license.
// Recovery at open: find where the intact log ends, tell the reserve, a torn tail and damage
// apart, and act on what it found as the policy says.
// I/O core: talks only to the `WalStore` interface, never to `Deno.*`.

import type { RecoveryPolicy } from "./config.ts";
import type { RawCrc } from "./crc32c.ts";
import {
  classify,
  couldBeFirstAppends,
  fileSectors,
  type Followers,
  foreignFormat,
  type IntactVisitor,
  readIntact,
  type Stop,
  walkAfter,
} from "./damage.ts";
import { WalError } from "./errors.ts";
import { type FrameScanner, scanFrames } from "./frame_scan.ts";
import { type DamageReason, RecordReader } from "./reader.ts";
import type { SetAsideOptions, WalStore } from "./store.ts";

/**
 * Why recovery did not keep the bytes at an LSN as records: the reader's reason, or
 * `"torn-write"` for damage that lies in a sector a crash left as zeros (a write that never
 * reached the disk, not bit rot).
 */
export type RecoveryReason = DamageReason | "torn-write";

/** The damage recovery found, and what it did about it. */
export interface RecoveryDamage {
  /** Where the first damaged byte range starts: the log now ends here. */
  readonly lsn: number;
  /** Why the bytes at `lsn` are not an intact record. */
  readonly reason: RecoveryReason;
  /**
   * True when the bytes at `lsn` are what a crash in the middle of an append leaves (a frame
   * running past the end, or a sector of zeros): the unsynced tail of the log, which no
   * acknowledged `sync` covered. Everything from `lsn` on is cut, under every policy.
   */
  readonly tornTail: boolean;
  /** Intact records found after the damage: copied aside, with the rest of the cut bytes. */
  readonly intactRecordCount: number;
  /** Bytes of those intact records, headers included. */
  readonly intactSize: number;
  /**
   * Where the bytes from `lsn` on were copied before the cut, if they were: `damaged-<lsn>` for
   * damage, `unsynced-<lsn>` for the intact records after a torn write (to the last of them).
   */
  readonly setAsidePath: string | undefined;
}

/** One byte range recovery did not keep as records, and what it did with it. */
export interface RecoveryRange {
  /** Where the range starts. */
  readonly lsn: number;
  /** Its size in bytes. */
  readonly size: number;
  /** Why the bytes at `lsn` are not an intact record. */
  readonly reason: RecoveryReason;
  /**
   * `"cut"`: removed from the log (a torn tail, or the rest of the log under `"truncate"`);
   * `"set-aside"`: copied beside the log, then removed; `"skipped"`: left in place, and
   * iteration jumps over it (`"skip"` policy); `"ignored"`: a read-only open left it in place
   * and the log ends before it.
   */
  readonly action: "cut" | "set-aside" | "skipped" | "ignored";
}

/** What recovery did when the log was opened; see `Wal.recovery`. */
export interface RecoveryReport {
  /** Intact records in the log after recovery. */
  readonly recordCount: number;
  /** Where the log ends after recovery: the LSN of the next append. */
  readonly endLsn: number;
  /** Bytes of damage or torn tail removed from the end (0 when nothing was cut). */
  readonly cutSize: number;
  /**
   * Zeros after the last record: the space a writer reserves ahead of its end (or a file
   * system extended the file by before the data landed). Never damage. A writable open cuts
   * it (the writer reserves anew); a read-only open leaves it.
   */
  readonly reserveSize: number;
  /** The first damage found, or `undefined` when the log was intact. */
  readonly damage: RecoveryDamage | undefined;
  /** Every range recovery did not keep as records, in log order. */
  readonly ranges: readonly RecoveryRange[];
}

/**
 * What recovery needs to know of the configuration. `onRecord` / `onRun` (see
 * {@linkcode IntactVisitor}) hear of every intact record kept, in order.
 */
export interface RecoveryOptions extends IntactVisitor {
  maxRecordSize: number;
  recoveryPolicy: RecoveryPolicy;
  /** Called when the `"skip"` policy leaves `[from, to)` in place; `to` starts a record. */
  onSkip?: (from: number, to: number) => void;
  /** Change nothing: report what would be cut or set aside as `"ignored"` instead. */
  readOnly?: boolean;
  /**
   * Checks the frames of each chunk the scan reads; `scanFrames` (TypeScript) when absent.
   * Only the scan of intact records uses it: wherever it stops, the reader's own checks
   * classify the bytes.
   */
  scanner?: FrameScanner | undefined;
  /**
   * Computes the range checksums with which the search after damage checks long candidates;
   * `crc32cRaw` (TypeScript) when absent.
   */
  rawCrc?: RawCrc | undefined;
}

/**
 * Scans the store from its head, then acts on the first non-record as the policy says:
 *
 * - zeros to the end are the reserve: cut, not damage;
 * - a torn tail (what a crash in the middle of an append leaves) is cut under every policy;
 * - damage (anything else) is set aside and cut, refused (`"strict"`), cut (`"truncate"`), or
 *   skipped (`"skip"`);
 * - bytes with no intact record anywhere that no crash could leave are not a wal-db log: refused
 *   under every policy; the one shape that could be either (a torn first append) is set aside.
 *
 * Reads every byte at most about once (the search for intact records after damage filters
 * candidates before checksumming them) and allocates nothing per record but its result. The
 * scan of intact records reads the store in chunks and checks each chunk's frames with one call
 * to the scanner. Throws
 * `kind: "corruption"` with nothing changed when it refuses.
 */
export function recover(store: WalStore, options: RecoveryOptions): RecoveryReport {
  const end = store.size;
  const scanner = options.scanner ?? scanFrames;
  const reader = new RecordReader(
    store,
    store.head,
    end,
    options.maxRecordSize,
    scanner,
    options.rawCrc,
  );
  const first = readIntact(reader, options);
  if (first.stop.kind === "end") return intact(first.count, end);
  const sectors = store.sectorAt?.bind(store) ?? fileSectors;
  if (first.count === 0 && !store.identifiesLog) refuseForeign(reader, store.head, end);
  const stop = classify(reader, sectors, first.stop.lsn, end);
  const at: Outcome = { store, reader, options, end, count: first.count, stop };
  if (stop.kind === "reserve") return reserve(at);
  if (stop.kind === "torn") return tornTail(at);
  if (options.recoveryPolicy === "skip") return skipDamage(at);
  return damaged(at);
}

/** Where recovery stopped, and what it needs to act there. */
interface Outcome {
  store: WalStore;
  reader: RecordReader;
  options: RecoveryOptions;
  end: number;
  /** Intact records before the stop. */
  count: number;
  stop: Stop;
}

function intact(count: number, end: number): RecoveryReport {
  return {
    recordCount: count,
    endLsn: end,
    cutSize: 0,
    reserveSize: 0,
    damage: undefined,
    ranges: [],
  };
}

/** Zeros to the end: cut them (a writer reserves anew), or leave them on a read-only open. */
function reserve({ store, options, end, count, stop }: Outcome): RecoveryReport {
  if (!options.readOnly) store.truncate(stop.lsn);
  return { ...intact(count, stop.lsn), reserveSize: end - stop.lsn };
}

/**
 * A torn tail: the append a crash interrupted, and whatever it left after it (records that
 * reached the disk out of order, more torn sectors, the reserve). None of it was acknowledged,
 * since a `sync` covers every byte before the records it acknowledges: it is cut under every
 * policy. The torn frame, when all its bytes are there, and the intact records after the tear
 * are first copied aside (`unsynced-<lsn>`, up to the last of them): zeros are what a crash
 * leaves, but also what a disk fault or a payload's own zeros show, and the copy is what keeps
 * those cases from destroying acknowledged bytes. On a log with no
 * record before it, a torn first append cannot be told from a foreign file: such bytes are set
 * aside (`damaged-<lsn>`), never cut unseen.
 */
function tornTail(at: Outcome): RecoveryReport {
  const { reader, stop } = at;
  const after = walkAfter(reader, stop, () => true);
  if (noRecordAnywhere(at, after)) return firstAppend(at);
  // A frame whose bytes are all there (its checksum failed) was read as torn from its zeros,
  // which bit rot in a record holding zeros shows too: it is kept with the records after it.
  const whole = stop.reason === "crc-mismatch" ? Math.min(stop.frameEnd, at.end) : stop.lsn;
  const keepTo = Math.max(whole, after.lastEnd);
  const copy = keepTo > stop.lsn ? { end: keepTo, kind: "unsynced" as const } : undefined;
  return cutAtStop(at, reasonOf(stop), true, after, copy);
}

/**
 * Ends the log at the stop: copies aside what `copy` says, then cuts (a read-only open does
 * neither, and the log simply ends there), and reports it.
 */
function cutAtStop(
  { store, options, end, count, stop }: Outcome,
  reason: RecoveryReason,
  tornTail: boolean,
  after: Followers,
  copy: SetAsideOptions | undefined,
): RecoveryReport {
  const path = copy !== undefined && !options.readOnly ? store.setAside(stop.lsn, copy) : undefined;
  const action = options.readOnly ? "ignored" : path === undefined ? "cut" : "set-aside";
  if (!options.readOnly) store.truncate(stop.lsn);
  return {
    recordCount: count,
    endLsn: stop.lsn,
    cutSize: options.readOnly ? 0 : end - stop.lsn,
    reserveSize: 0,
    damage: report(stop, reason, tornTail, after, path),
    ranges: [{ lsn: stop.lsn, size: end - stop.lsn, reason, action }],
  };
}

/**
 * Bytes with no intact record in them: a torn first append, set aside under every policy and
 * `"strict"` too (a crash must not make the log refuse to open; nothing in it was acknowledged,
 * and the copy, flushed before the cut, keeps a foreign file that looks like one whole), or not a
 * log, refused with nothing changed. A read-only open changes nothing either way.
 */
function firstAppend({ store, reader, options, end, stop }: Outcome): RecoveryReport {
  const sectors = store.sectorAt?.bind(store) ?? fileSectors;
  if (!couldBeFirstAppends(reader, sectors, stop, end)) {
    throw notALog(stop, options.maxRecordSize);
  }
  const reason = reasonOf(stop);
  const none = { count: 0, size: 0, lastEnd: stop.lsn };
  if (options.readOnly) {
    const ranges = [{ lsn: stop.lsn, size: end - stop.lsn, reason, action: "ignored" as const }];
    const damage = report(stop, reason, true, none, undefined);
    return { ...intact(0, stop.lsn), damage, ranges };
  }
  const path = store.setAside(stop.lsn);
  store.truncate(stop.lsn);
  return {
    ...intact(0, stop.lsn),
    cutSize: end - stop.lsn,
    damage: report(stop, reason, true, none, path),
    ranges: [{ lsn: stop.lsn, size: end - stop.lsn, reason, action: "set-aside" }],
  };
}

/**
 * Damage no crash leaves. With no intact record anywhere the file is not a wal-db log. Else
 * `"strict"` refuses, `"truncate"` cuts, a read-only open ignores, and the default copies
 * everything from the damage to the end aside before it cuts: intact records are never lost.
 */
function damaged(at: Outcome): RecoveryReport {
  const { reader, options, stop } = at;
  const after = walkAfter(reader, stop, () => true);
  if (noRecordAnywhere(at, after)) throw notALog(stop, options.maxRecordSize);
  if (options.recoveryPolicy === "strict") throw refused(stop, after);
  return cutAtStop(
    at,
    stop.reason,
    false,
    after,
    options.recoveryPolicy === "truncate" ? undefined : {},
  );
}

/**
 * The `"skip"` policy: every damaged range that intact records follow is left in place and
 * listed; the walk ends at a torn tail (cut, as under every policy) or at a last damaged range
 * with nothing intact after it (set aside, then cut), so appends continue right after the last
 * intact record and no damaged byte is destroyed.
 */
function skipDamage(at: Outcome): RecoveryReport {
  const { store, reader, options, end, count, stop } = at;
  const sectors = store.sectorAt?.bind(store) ?? fileSectors;
  const ranges: RecoveryRange[] = [];
  let torn: Stop | undefined;
  const after = walkAfter(
    reader,
    stop,
    (from, to) => {
      const here = from === stop.lsn ? stop : classify(reader, sectors, from, end);
      if (here.kind !== "damage") {
        torn = here;
        return false;
      }
      ranges.push({ lsn: from, size: to - from, reason: here.reason, action: "skipped" });
      options.onSkip?.(from, to);
      return true;
    },
    options,
  );
  if (noRecordAnywhere(at, after)) throw notALog(stop, options.maxRecordSize);
  const kept = { recordCount: count + after.count, reserveSize: 0 };
  const cutAt = torn?.lsn ?? after.last;
  if (cutAt === undefined) {
    const damage = report(stop, stop.reason, false, after, undefined);
    return { ...kept, endLsn: end, cutSize: 0, damage, ranges };
  }
  const last = torn ?? classify(reader, sectors, cutAt, end);
  const size = end - cutAt;
  const reason = last.kind === "damage" ? last.reason : reasonOf(last);
  const path = last.kind === "damage" && !options.readOnly ? store.setAside(cutAt) : undefined;
  if (!options.readOnly) store.truncate(cutAt);
  const damage = report(stop, stop.reason, false, after, cutAt === stop.lsn ? path : undefined);
  if (last.kind === "reserve") {
    return { ...kept, endLsn: cutAt, cutSize: 0, reserveSize: size, damage, ranges };
  }
  const action = options.readOnly ? "ignored" : path !== undefined ? "set-aside" : "cut";
  ranges.push({ lsn: cutAt, size, reason, action });
  return { ...kept, endLsn: cutAt, cutSize: options.readOnly ? 0 : size, damage, ranges };
}

/**
 * True when the store holds no intact record at all and does not itself show that it is a
 * wal-db log: then its bytes may be another program's file.
 */
function noRecordAnywhere({ store, count, stop }: Outcome, after: Followers): boolean {
  return count === 0 && after.count === 0 && stop.lsn === store.head && !store.identifiesLog;
}

/** A torn frame's reason: how it was cut short, or `"torn-write"` for a zero sector. */
function reasonOf(stop: Stop): RecoveryReason {
  return stop.reason === "partial-header" || stop.reason === "partial-record"
    ? stop.reason
    : "torn-write";
}

function report(
  stop: Stop,
  reason: RecoveryReason,
  tornTail: boolean,
  after: Followers,
  setAsidePath: string | undefined,
): RecoveryDamage {
  return {
    lsn: stop.lsn,
    reason,
    tornTail,
    intactRecordCount: after.count,
    intactSize: after.size,
    setAsidePath,
  };
}

/**
 * A store that holds no intact record from its head and starts with the signature of a common
 * file format (an executable, an archive, an image, a database) is another program's file,
 * whatever its bytes would otherwise look like: refused before anything else is considered.
 */
function refuseForeign(reader: RecordReader, head: number, end: number): void {
  const format = foreignFormat(reader, head, end);
  if (format === undefined) return;
  throw new WalError(
    "corruption",
    `Cannot open log: it is not a wal-db log (it starts like ${format}, and holds no intact ` +
      `record at its start); nothing was changed`,
    { lsn: head },
  );
}

function notALog(stop: Stop, max: number): WalError {
  return new WalError(
    "corruption",
    `Cannot open log: it is not a wal-db log (no intact record anywhere in it, and its bytes ` +
      `at LSN ${stop.lsn} (${stop.reason}) are not what a crash during an append leaves); ` +
      `nothing was changed. If it is a log written with a maxRecordSize above ${max}, open it ` +
      `with that value`,
    { lsn: stop.lsn },
  );
}

function refused(stop: Stop, after: Followers): WalError {
  const followed = after.count === 0
    ? "nothing intact follows it, but a crash does not leave such bytes"
    : `it is followed by ${after.count} intact records (${after.size} bytes)`;
  return new WalError(
    "corruption",
    `Cannot open log: damage (${stop.reason}) at LSN ${stop.lsn} is not a write cut short by a ` +
      `crash; ${followed}. The "strict" recovery policy refuses to cut it; nothing was ` +
      `changed. Open with recoveryPolicy "tolerate-torn-tail" to copy the bytes from the ` +
      `damage on aside in a sibling file and continue`,
    { lsn: stop.lsn },
  );
}
