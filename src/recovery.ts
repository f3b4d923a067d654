// Copyright 2026 the wal-db authors. MIT license.
// Recovery at open: find where the intact log ends, tell a torn tail from damage, act on it.
// I/O core: talks only to the `WalStore` interface, never to `Deno.*`.

import type { RecoveryPolicy } from "./config.ts";
import { WalError } from "./errors.ts";
import { type DamageReason, RecordReader } from "./reader.ts";
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

/** What recovery did when the log was opened; see `Wal.recovery`. */
export interface RecoveryReport {
  /** Intact records in the log after recovery. */
  readonly recordCount: number;
  /** Where the log ends after recovery: the LSN of the next append. */
  readonly endLsn: number;
  /** Bytes removed from the end of the log (0 when the log was intact). */
  readonly cutSize: number;
  /** The damage found, or `undefined` when the log was intact. */
  readonly damage: RecoveryDamage | undefined;
}

/** What recovery needs to know of the configuration. */
export interface RecoveryOptions {
  maxRecordSize: number;
  recoveryPolicy: RecoveryPolicy;
  /** Called with the LSN of every intact record kept, in order. */
  onRecord?: (lsn: number) => void;
}

/**
 * Scans the store from its head, then acts on the first damage as the policy says. The scan
 * checks each length before reading or allocating the payload. Throws `kind: "corruption"`
 * (with nothing changed) when the policy refuses or the store does not hold a wal-db log.
 */
export function recover(store: WalStore, options: RecoveryOptions): RecoveryReport {
  const end = store.size;
  const reader = new RecordReader(store, store.head, end, options.maxRecordSize);
  let recordCount = 0;
  let result = reader.next(false);
  for (; result.kind === "record"; result = reader.next(false)) {
    recordCount++;
    options.onRecord?.(result.lsn);
  }
  if (result.kind === "end") return { recordCount, endLsn: end, cutSize: 0, damage: undefined };

  const { lsn, reason } = result;
  const after = countIntactAfter(reader, lsn);
  if (lsn === store.head && after.count === 0 && reason === "implausible-length") {
    throw notALog(result.length, options.maxRecordSize, lsn);
  }
  if (after.count > 0 && options.recoveryPolicy === "strict") throw refused(lsn, reason, after);
  const setAsidePath = after.count > 0 ? store.setAside(lsn) : undefined;
  store.truncate(lsn);
  const damage: RecoveryDamage = {
    lsn,
    reason,
    tornTail: after.count === 0,
    intactRecordCount: after.count,
    intactSize: after.size,
    setAsidePath,
  };
  return { recordCount, endLsn: lsn, cutSize: end - lsn, damage };
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
