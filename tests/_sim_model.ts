// Copyright 2026 the wal-db authors. MIT license.
// The crash simulation's oracle: a model of the log (what was appended, what a caller was told
// is durable, which truncations returned) and the check of a recovered log against it.

import type { Entry, Wal } from "../mod.ts";
import { HEADER_SIZE } from "../src/constants.ts";

/** One record the workload appended. */
export interface ModelRecord {
  readonly lsn: number;
  readonly data: Uint8Array;
  /** A `sync`, `syncSync`, truncation or recovery told the caller it is durable. */
  acked: boolean;
  /** Its append threw after writing part of it: it may be absent, whole, or torn. */
  readonly attempted: boolean;
}

/** The bytes a record occupies in the log. */
export function frameSizeOf(record: { data: Uint8Array }): number {
  return HEADER_SIZE + record.data.length;
}

/** The expected log: records in LSN order from the head, plus what interrupted calls allow. */
export class LogModel {
  records: ModelRecord[] = [];
  head = 0;
  end = 0;
  /** The lowest LSN of a `truncateFrom` that did not return: records from it on may be gone. */
  cutFrom: number | undefined;
  /** A `truncateBefore` that did not return: the head may have moved here. */
  pendingHead: number | undefined;
  /** `truncateBeforeAsync` calls not settled yet (or that failed): the head may be any. */
  readonly pendingHeads = new Set<number>();

  /** A model of a log just recovered: everything in it is durable (recovery flushed it). */
  static recovered(entries: readonly Entry[], head: number, end: number): LogModel {
    const model = new LogModel();
    model.head = head;
    model.records = entries.map((e) => ({
      lsn: e.lsn,
      data: e.data,
      acked: true,
      attempted: false,
    }));
    model.end = end;
    return model;
  }

  add(lsn: number, data: Uint8Array, attempted = false): void {
    this.records.push({ lsn, data, acked: false, attempted });
    this.end = lsn + HEADER_SIZE + data.length;
  }

  /** The records a `sync` called now must make durable. */
  unacked(): ModelRecord[] {
    return this.records.filter((r) => !r.acked);
  }

  /**
   * A returned `truncateFrom(lsn)`: later records are gone, earlier ones are durable. At the
   * end of the log the call changes nothing, and promises nothing either.
   */
  truncateFrom(lsn: number): void {
    if (lsn === this.end) return;
    this.records = this.records.filter((r) => r.lsn < lsn);
    for (const record of this.records) record.acked = true;
    this.end = lsn;
  }

  /**
   * A resolved asynchronous cut at `cut`: `doomed`, the records past it when it was called, are
   * gone and `kept`, the ones before it then, are durable. Records appended since it resolved
   * stay, unacknowledged. At the end of the log it changed nothing and promises nothing.
   */
  cutAsync(cut: number, doomed: ReadonlySet<ModelRecord>, kept: ReadonlySet<ModelRecord>): void {
    if (doomed.size === 0) return;
    this.records = this.records.filter((r) => !doomed.has(r));
    for (const record of this.records) if (kept.has(record)) record.acked = true;
    // Unless records appended since it resolved (maybe after a lower cut) end past it.
    const last = this.records.at(-1);
    if (this.end > cut && (last === undefined || last.lsn + frameSizeOf(last) <= cut)) {
      this.end = cut;
    }
  }

  /** A returned `truncateBefore(head)` on a segmented log. */
  truncateBefore(head: number): void {
    this.records = this.records.filter((r) => r.lsn >= head);
    this.head = head;
  }

  /** The LSNs a call may name: every record's, the head and the end. */
  boundaries(): number[] {
    return [this.head, ...this.records.map((r) => r.lsn).filter((l) => l > this.head), this.end];
  }

  /** The records from `lsn` on. */
  from(lsn: number): ModelRecord[] {
    return this.records.filter((r) => r.lsn >= lsn);
  }

  /** True when a record must be found after a reopen. */
  required(record: ModelRecord, everyRecord: boolean): boolean {
    if (record.attempted) return false;
    if (this.cutFrom !== undefined && record.lsn >= this.cutFrom) return false;
    return everyRecord || record.acked;
  }
}

/** How strictly a recovered log is checked. */
export interface VerifyMode {
  /** The page cache survived (kill or clean reopen): every record, not only acked ones, is kept. */
  everyRecord: boolean;
  /** The "skip" policy may leave out damaged records that were never acknowledged. */
  subsequence: boolean;
}

/** The outcome of one check. */
export interface Verdict {
  failure: string | undefined;
  entries: Entry[];
  recordsChecked: number;
  acknowledgedChecked: number;
  acknowledgedLost: number;
}

/** True when two byte arrays hold the same bytes. */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function describe(record: { lsn: number; data: Uint8Array }): string {
  return `LSN ${record.lsn} (${record.data.length} B)`;
}

/**
 * Checks a freshly reopened log against the model: the head is one the model allows; the
 * records are, in order, the model's from that head (a prefix, or for "skip" a subsequence);
 * none is missing that had to survive; the end and the report agree with the records.
 */
export function verifyRecovered(model: LogModel, wal: Wal, mode: VerifyMode): Verdict {
  const verdict: Verdict = {
    failure: undefined,
    entries: [],
    recordsChecked: 0,
    acknowledgedChecked: 0,
    acknowledgedLost: 0,
  };
  try {
    verdict.entries = [...wal.iter()];
  } catch (error) {
    verdict.failure = `iterating the recovered log threw: ${String(error)}`;
    return verdict;
  }
  const head = wal.head;
  const pending = [model.pendingHead ?? [], ...model.pendingHeads].flat();
  if (head !== model.head && !pending.includes(head)) {
    verdict.failure = `recovered head ${head}, expected ${[model.head, ...pending].join(" or ")}`;
    return verdict;
  }
  matchRecords(model, model.from(head), verdict, mode);
  if (verdict.failure !== undefined) return verdict;
  const last = verdict.entries.at(-1);
  const end = last === undefined ? head : last.lsn + frameSizeOf(last);
  if (wal.nextLsn !== end) {
    verdict.failure = `nextLsn ${wal.nextLsn} but the last record ends at ${end}`;
  }
  if (!mode.subsequence && wal.recovery.recordCount !== verdict.entries.length) {
    verdict.failure = `report says ${wal.recovery.recordCount} records, iteration found ` +
      `${verdict.entries.length}`;
  }
  return verdict;
}

/** Walks recovered entries and candidate records together; fills in the verdict. */
function matchRecords(
  model: LogModel,
  candidates: readonly ModelRecord[],
  verdict: Verdict,
  mode: VerifyMode,
): void {
  let next = 0;
  for (const entry of verdict.entries) {
    // Candidates the recovered log passes over must be ones allowed to be missing.
    while (mode.subsequence && next < candidates.length && candidates[next]!.lsn < entry.lsn) {
      countMissing(model, candidates[next++]!, verdict, mode);
    }
    const expected = candidates[next++];
    if (expected === undefined || expected.lsn !== entry.lsn) {
      verdict.failure = `recovered a record at LSN ${entry.lsn} that was never appended there ` +
        `(expected ${expected === undefined ? "the end of the log" : describe(expected)})`;
      return;
    }
    if (!sameBytes(expected.data, entry.data)) {
      verdict.failure = `record at ${describe(expected)} came back with other bytes ` +
        `(${entry.data.length} B)`;
      return;
    }
    verdict.recordsChecked++;
    if (expected.acked) verdict.acknowledgedChecked++;
  }
  for (; next < candidates.length; next++) countMissing(model, candidates[next]!, verdict, mode);
}

function countMissing(
  model: LogModel,
  record: ModelRecord,
  verdict: Verdict,
  mode: VerifyMode,
): void {
  if (!model.required(record, mode.everyRecord)) return;
  if (record.acked) verdict.acknowledgedLost++;
  verdict.failure ??= `${record.acked ? "acknowledged" : "appended"} record at ` +
    `${describe(record)} is missing after reopen`;
}
