// Copyright 2026 the wal-db authors. MIT license.
// Recovery at open: find where the intact log ends, tell a torn tail from damage, act on it.
// I/O core: talks only to the `WalStore` interface, never to `Deno.*`.

import { assert } from "./assert.ts";
import type { RecoveryPolicy } from "./config.ts";
import { WalError } from "./errors.ts";
import { type DamageReason, type ReadResult, RecordReader } from "./reader.ts";
import { frameSize } from "./record.ts";
import type { WalStore } from "./store.ts";

/** The damage recovery found, and what it did about it. */
export interface RecoveryDamage {
  /** Where the first damaged byte range starts: the log now ends here. */
  readonly lsn: number;
  /** Why the bytes at `lsn` are not an intact record. */
  readonly reason: DamageReason;
  /** True when nothing intact follows the damage: a write cut short by a crash. */
  readonly tornTail: boolean;
  /** Intact records found after the damage (and set aside, not lost). */
  readonly intactRecordCount: number;
  /** Bytes of those intact records, headers included. */
  readonly intactSize: number;
  /** Where the bytes from `lsn` to the old end were copied before the cut, if they were. */
  readonly setAsidePath: string | undefined;
}

/** One byte range recovery did not keep as records, and what it did with it. */
export interface RecoveryRange {
  /** Where the range starts. */
  readonly lsn: number;
  /** Its size in bytes. */
  readonly size: number;
  /** Why the bytes at `lsn` are not an intact record. */
  readonly reason: DamageReason;
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
  /** Bytes removed from the end of the log (0 when nothing was cut). */
  readonly cutSize: number;
  /** The first damage found, or `undefined` when the log was intact. */
  readonly damage: RecoveryDamage | undefined;
  /** Every range recovery did not keep as records, in log order. */
  readonly ranges: readonly RecoveryRange[];
}

/** What recovery needs to know of the configuration. */
export interface RecoveryOptions {
  maxRecordSize: number;
  recoveryPolicy: RecoveryPolicy;
  /** Called with the LSN of every intact record kept, in order. */
  onRecord?: (lsn: number) => void;
  /** Called when the `"skip"` policy leaves `[from, to)` in place; `to` starts a record. */
  onSkip?: (from: number, to: number) => void;
  /** Change nothing: report what would be cut or set aside as `"ignored"` instead. */
  readOnly?: boolean;
}

/**
 * Scans the store from its head, then acts on the first damage as the policy says. The scan
 * checks each length before reading or allocating the payload. Throws `kind: "corruption"`
 * (with nothing changed) when the policy refuses or the store does not hold a wal-db log.
 */
export function recover(store: WalStore, options: RecoveryOptions): RecoveryReport {
  const end = store.size;
  const reader = new RecordReader(store, store.head, end, options.maxRecordSize);
  const first = scan(reader, options);
  if (first.stop.kind === "end") {
    return { recordCount: first.count, endLsn: end, cutSize: 0, damage: undefined, ranges: [] };
  }
  const { lsn, reason } = first.stop;
  const after = countIntactAfter(reader, lsn);
  if (lsn === store.head && after.count === 0 && reason === "implausible-length") {
    throw notALog(first.stop.length, options.maxRecordSize, lsn);
  }
  const damage = (setAsidePath: string | undefined): RecoveryDamage => ({
    lsn,
    reason,
    tornTail: after.count === 0,
    intactRecordCount: after.count,
    intactSize: after.size,
    setAsidePath,
  });
  if (after.count > 0 && options.recoveryPolicy === "strict") throw refused(lsn, reason, after);
  if (after.count > 0 && options.recoveryPolicy === "skip") {
    reader.seek(lsn);
    return { ...skipDamage(store, reader, options, first.count, lsn), damage: damage(undefined) };
  }
  if (after.count === 0 || options.recoveryPolicy === "truncate" || options.readOnly) {
    const range = cutTail(store, lsn, reason, options);
    const cutSize = range.action === "cut" ? range.size : 0;
    return {
      recordCount: first.count,
      endLsn: lsn,
      cutSize,
      damage: damage(undefined),
      ranges: [range],
    };
  }
  const path = store.setAside(lsn);
  store.truncate(lsn);
  const ranges = [{ lsn, size: end - lsn, reason, action: "set-aside" as const }];
  return {
    recordCount: first.count,
    endLsn: lsn,
    cutSize: end - lsn,
    damage: damage(path),
    ranges,
  };
}

/** Reads intact records until damage or the end; reports each one. */
function scan(reader: RecordReader, options: RecoveryOptions): {
  count: number;
  stop: Exclude<ReadResult, { kind: "record" }>;
} {
  let count = 0;
  for (;;) {
    const result = reader.next(false);
    if (result.kind !== "record") return { count, stop: result };
    options.onRecord?.(result.lsn);
    count++;
  }
}

/**
 * The `"skip"` policy from the damage at the reader's position on: every damaged range up to
 * the next intact record is left in place and listed; a final range with nothing intact after
 * it is a torn tail and is cut, so appends continue right after the last intact record.
 */
function skipDamage(
  store: WalStore,
  reader: RecordReader,
  options: RecoveryOptions,
  recordCount: number,
  from: number,
): Omit<RecoveryReport, "damage"> {
  const end = store.size;
  const ranges: RecoveryRange[] = [];
  let count = recordCount;
  for (let lsn = from;;) {
    const found = reader.peek(lsn, false);
    assert(found.kind === "damage", `a skipped range starts with damage at ${lsn}`);
    const reason = found.reason;
    const next = reader.findNext(lsn + 1);
    if (next === undefined) {
      const range = cutTail(store, lsn, reason, options);
      ranges.push(range);
      return {
        recordCount: count,
        endLsn: lsn,
        cutSize: range.action === "cut" ? range.size : 0,
        ranges,
      };
    }
    ranges.push({ lsn, size: next - lsn, reason, action: "skipped" });
    options.onSkip?.(lsn, next);
    reader.seek(next);
    const part = scan(reader, options);
    count += part.count;
    if (part.stop.kind === "end") return { recordCount: count, endLsn: end, cutSize: 0, ranges };
    lsn = part.stop.lsn;
  }
}

/** Cuts the log at `lsn` (or, read-only, leaves it) and describes the range. */
function cutTail(
  store: WalStore,
  lsn: number,
  reason: DamageReason,
  options: RecoveryOptions,
): RecoveryRange {
  const size = store.size - lsn;
  if (options.readOnly) return { lsn, size, reason, action: "ignored" };
  store.truncate(lsn);
  return { lsn, size, reason, action: "cut" };
}

interface IntactAfter {
  count: number;
  size: number;
}

/** Counts every intact record that lies wholly after the damage at `lsn`. */
function countIntactAfter(reader: RecordReader, lsn: number): IntactAfter {
  const found: IntactAfter = { count: 0, size: 0 };
  for (let at = reader.findNext(lsn + 1); at !== undefined; at = reader.findNext(at + 1)) {
    reader.seek(at);
    for (let r = reader.next(false); r.kind === "record"; r = reader.next(false)) {
      found.count++;
      found.size += frameSize(r.length);
    }
    at = reader.position;
  }
  return found;
}

function notALog(length: number | undefined, max: number, lsn: number): WalError {
  return new WalError(
    "corruption",
    `Cannot open log: it is not a wal-db log (its first header claims a ${length}-byte record, ` +
      `above maxRecordSize ${max}, and no intact record follows); nothing was changed. If it ` +
      `was written with a larger maxRecordSize, open it with that value`,
    { lsn },
  );
}

function refused(lsn: number, reason: DamageReason, after: IntactAfter): WalError {
  return new WalError(
    "corruption",
    `Cannot open log: damage (${reason}) at LSN ${lsn} is followed by ${after.count} intact ` +
      `records (${after.size} bytes), and the "strict" recovery policy refuses to cut them; ` +
      `nothing was changed. Open with recoveryPolicy "tolerate-torn-tail" to set the bytes ` +
      `after the damage aside in a sibling file and continue`,
    { lsn },
  );
}
