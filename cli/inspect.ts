// Copyright 2026 the wal-db authors. MIT license.
// `wal stat` and `wal verify`: what a log holds and whether every byte of it is intact.
// Read-only: logs are opened with `readOnly`, so recovery reports damage and changes nothing.

import { entryEnd, type RecoveryRange, type Wal } from "../mod.ts";
import {
  type Command,
  type CommandSpec,
  type FlagSpec,
  type ParsedArgs,
  switchFlag,
} from "./args.ts";
import { EXIT_DAMAGED_OR_INVALID_LSN, EXIT_OK, EXIT_TORN_OR_DECLINED } from "./errors.ts";
import { alignRows, humanSize, plural, ProgressBar } from "./format.ts";
import type { CliIo } from "./io.ts";
import { userPath } from "./paths.ts";
import { readUntilSettled, retryWhileChanging } from "./retry.ts";
import {
  diskSizeOf,
  type Layout,
  NO_LOCK_FLAG,
  openForReading,
  SEGMENT_SIZE_FLAG,
} from "./open.ts";

/** What a scan found: the verdict of `verify`, and most of `stat`. */
type LogStatus = "intact" | "torn-tail" | "damaged";

/** Everything `stat` reports; also the JSON of `stat --json` and `verify --json`. */
interface LogSummary {
  path: string;
  layout: "file" | "segmented";
  /** The segment size used, or `null` for a single file or an unbounded single segment. */
  segmentSize: number | null;
  /**
   * `"recorded"`, `"files"`, `"option"` or `"unbounded"` for a segmented log; `null` for a
   * single file.
   */
  segmentSizeSource: string | null;
  /** Segment files (1 for a single file). */
  segmentCount: number;
  recordCount: number;
  head: number;
  firstLsn: number | null;
  lastLsn: number | null;
  /** Where the intact records end: the next append would land here (after a torn-tail cut). */
  endLsn: number;
  /** Bytes from the head to the end of the files, damage included. */
  logSize: number;
  /** Zeros after the last record that a writer reserved ahead of its end: not damage. */
  reserveSize: number;
  /** Bytes of the log's files on disk. */
  diskSize: number;
  status: LogStatus;
  /** The first damage, or `null`. */
  damage: { lsn: number; reason: string; intactRecordCount: number; intactSize: number } | null;
  /** Every byte range that is not an intact record, in log order. */
  ranges: { lsn: number; size: number; reason: string; tornTail: boolean; skipped: boolean }[];
}

const JSON_FLAG: FlagSpec = { name: "json", value: "none", help: "print one JSON object" };

const READ_DETAILS = "Opens the log read-only and without a lock: no byte of it changes, " +
  "whatever it finds, and a writer can open the log while it runs. A directory of segment " +
  "files (20 digits + .wal) is a segmented log. On a terminal, a progress bar on stderr " +
  "shows the scan of a large log and the reading of its records. Needs --allow-read.";

const STAT_SPEC: CommandSpec = {
  name: "stat",
  summary: "Show what a log holds: records, LSNs, sizes, damage.",
  positionals: ["path"],
  flags: [JSON_FLAG, SEGMENT_SIZE_FLAG, NO_LOCK_FLAG],
  details: `${READ_DETAILS}\nExit codes: 0 the log was read (even if damaged), 3 it cannot ` +
    "be read, 64 usage.",
};

const VERIFY_SPEC: CommandSpec = {
  name: "verify",
  summary: "Check every record; the exit code says what was found.",
  positionals: ["path"],
  flags: [JSON_FLAG, SEGMENT_SIZE_FLAG, NO_LOCK_FLAG],
  details: `${READ_DETAILS}\n` +
    "Exit codes: 0 intact (zeros a writer reserved after the end are not damage); 1 only a " +
    "torn tail (an unfinished last append); 2 damage that no crash leaves (the LSN is " +
    "printed); 3 not readable (missing, not a wal-db log, no permission, damaged head file); " +
    "64 usage.",
};

/** `wal stat <path>`. */
export const statCommand: Command = {
  spec: STAT_SPEC,
  async run(args: ParsedArgs, io: CliIo): Promise<number> {
    const summary = await summarizeLog(args, io, "reading");
    io.stdout(switchFlag(args, JSON_FLAG.name) ? jsonLine(summary) : statText(summary));
    return EXIT_OK;
  },
};

/** `wal verify <path>`. */
export const verifyCommand: Command = {
  spec: VERIFY_SPEC,
  async run(args: ParsedArgs, io: CliIo): Promise<number> {
    const summary = await summarizeLog(args, io, "verifying");
    io.stdout(switchFlag(args, JSON_FLAG.name) ? jsonLine(summary) : verdictText(summary));
    return EXIT_CODES[summary.status];
  },
};

/**
 * Opens the log, reads every record back (the bar labelled `label`), closes it, and says what
 * it found. Read again from the start when a writer's checkpoint removed what was being read,
 * or when a torn tail was found while a writer was appending.
 */
function summarizeLog(args: ParsedArgs, io: CliIo, label: string): Promise<LogSummary> {
  const path = userPath(args.positionals[0]!);
  const once = () =>
    retryWhileChanging(path, () => {
      const { layout, wal } = openWithProgress(args, io);
      try {
        return summarize(layout, wal, scanWithProgress(wal, io, label));
      } finally {
        wal.close();
      }
    });
  // A torn tail in a log being written is most often the writer's append in progress.
  return readUntilSettled(path, once, (summary) => summary.status === "torn-tail");
}

/** One phase's progress bar: drawn on stderr only when it is a terminal, silent when piped. */
export interface Phase {
  /** Redraws for `done` bytes of `total` (the redraw is throttled). */
  update(done: number, total: number): void;
  /** Erases the bar, so what follows starts on a clean line. */
  finish(): void;
}

/**
 * A bar labelled `label` for one long phase. The total comes with the first update, since the
 * open learns the log's size only once it runs; nothing is drawn before that first update.
 */
export function phase(io: CliIo, label: string, now?: () => number): Phase {
  if (!io.isTerminal("stderr")) return { update() {}, finish() {} };
  let bar: ProgressBar | undefined;
  return {
    update(done, total) {
      bar ??= new ProgressBar((text) => io.stderr(text), label, total, now);
      bar.update(done);
    },
    finish: () => bar?.finish(),
  };
}

/** Opens the log for a read command, with a bar for the open's scan of a large log. */
function openWithProgress(args: ParsedArgs, io: CliIo): { layout: Layout; wal: Wal } {
  const scanning = phase(io, "scanning");
  try {
    return openForReading(args, (text) => io.stderr(text), {
      onRecoveryProgress: (scanned, total) => scanning.update(scanned, total),
    });
  } finally {
    scanning.finish();
  }
}

/** Reads every record back with a bar labelled `label`. */
function scanWithProgress(wal: Wal, io: CliIo, label: string): Scan {
  const reading = phase(io, label);
  const total = wal.nextLsn - wal.head;
  try {
    return scanRecords(wal, (end) => reading.update(end - wal.head, total));
  } finally {
    reading.finish();
  }
}

/** Errors thrown by the open (missing, not a log) give 3; see errors.ts. */
const EXIT_CODES: Record<LogStatus, number> = {
  "intact": EXIT_OK,
  "torn-tail": EXIT_TORN_OR_DECLINED,
  "damaged": EXIT_DAMAGED_OR_INVALID_LSN,
};

interface Scan {
  count: number;
  first: number | undefined;
  last: number | undefined;
}

/**
 * Reads every intact record, which checks each one's CRC again, and reports where it is. The
 * open already found where the log ends and what is damaged; this pass proves the records read.
 */
function scanRecords(wal: Wal, onRecord?: (end: number) => void): Scan {
  const scan: Scan = { count: 0, first: undefined, last: undefined };
  for (const entry of wal.iter()) {
    scan.first ??= entry.lsn;
    scan.last = entry.lsn;
    scan.count++;
    onRecord?.(entryEnd(entry));
  }
  return scan;
}

/** Puts what recovery found and what the scan read into one report. */
function summarize(layout: Layout, wal: Wal, scan: Scan): LogSummary {
  const { damage, ranges } = wal.recovery;
  const lastRange = ranges.at(-1);
  const reserveSize = wal.recovery.reserveSize;
  const end = Math.max(
    wal.nextLsn + reserveSize,
    lastRange === undefined ? 0 : lastRange.lsn + lastRange.size,
  );
  const segmented = layout.kind === "segmented";
  return {
    path: layout.path,
    layout: layout.kind,
    segmentSize: segmented && layout.segmentSizeSource !== "unbounded" ? layout.segmentSize : null,
    segmentSizeSource: segmented ? layout.segmentSizeSource : null,
    segmentCount: segmented ? layout.segments.length : 1,
    recordCount: scan.count,
    head: wal.head,
    firstLsn: scan.first ?? null,
    lastLsn: scan.last ?? null,
    endLsn: wal.nextLsn,
    logSize: end - wal.head,
    reserveSize,
    diskSize: diskSizeOf(layout),
    status: damage === undefined ? "intact" : damage.tornTail ? "torn-tail" : "damaged",
    damage: damage === undefined ? null : {
      lsn: damage.lsn,
      reason: damage.reason,
      intactRecordCount: damage.intactRecordCount,
      intactSize: damage.intactSize,
    },
    ranges: ranges.map((range) => rangeOf(range, isTornTail(range))),
  };
}

/** What a crash in the middle of an append leaves: a frame cut short or a sector of zeros. */
function isTornTail(range: RecoveryRange): boolean {
  return range.reason === "torn-write" || range.reason === "partial-header" ||
    range.reason === "partial-record";
}

function rangeOf(range: RecoveryRange, tornTail: boolean): LogSummary["ranges"][number] {
  const skipped = range.action === "skipped";
  return { lsn: range.lsn, size: range.size, reason: range.reason, tornTail, skipped };
}

function jsonLine(summary: LogSummary): string {
  return `${JSON.stringify(summary)}\n`;
}

/** `stat`'s aligned text. */
function statText(s: LogSummary): string {
  const rows: [string, string][] = [["path", s.path], ["layout", s.layout]];
  if (s.layout === "segmented") {
    rows.push(["segments", String(s.segmentCount)], ["segment size", segmentSizeText(s)]);
  }
  rows.push(
    ["records", String(s.recordCount)],
    ["head", String(s.head)],
    ["first LSN", s.firstLsn === null ? "-" : String(s.firstLsn)],
    ["last LSN", s.lastLsn === null ? "-" : String(s.lastLsn)],
    ["end LSN", String(s.endLsn)],
    ["log size", sizeText(s.logSize)],
    ["disk size", sizeText(s.diskSize)],
    ["recovery", recoveryText(s)],
  );
  if (s.reserveSize > 0) rows.push(["reserve", reserveText(s)]);
  s.ranges.forEach((range, i) => rows.push([i === 0 ? "damaged bytes" : "", rangeText(range)]));
  return alignRows(rows);
}

function segmentSizeText(s: LogSummary): string {
  if (s.segmentSizeSource === "unbounded") {
    return "unknown (one segment, numbered 0: read as one unbounded segment, which gives the " +
      "same LSNs; pass --segment-size to state it)";
  }
  const source = s.segmentSizeSource === "option"
    ? "from --segment-size"
    : s.segmentSizeSource === "recorded"
    ? "from the segment-size file"
    : "from the segment files";
  return `${sizeText(s.segmentSize ?? 0)} (${source})`;
}

function sizeText(size: number): string {
  return size < 1024 ? `${size} bytes` : `${size} bytes (${humanSize(size)})`;
}

function recoveryText(s: LogSummary): string {
  if (s.damage === null) return "intact";
  const first = `at LSN ${s.damage.lsn} (${s.damage.reason})`;
  if (s.status === "torn-tail") {
    return `torn tail ${first}: an unfinished append, which a writer cuts when it opens the log`;
  }
  return `damaged ${first}, followed by ${plural(s.damage.intactRecordCount, "intact record")} ` +
    `(${s.damage.intactSize} bytes)`;
}

function rangeText(range: LogSummary["ranges"][number]): string {
  const kind = range.tornTail
    ? ", torn tail"
    : range.skipped
    ? ", intact records follow"
    : ", damage, nothing intact follows";
  return `LSN ${range.lsn}: ${plural(range.size, "byte")}, ${range.reason}${kind}`;
}

function reserveText(s: LogSummary): string {
  return `${sizeText(s.reserveSize)} of zeros after LSN ${s.endLsn}, reserved ahead of the end ` +
    `by a writer (preallocation): not damage`;
}

/** `verify`'s verdict, one line, plus one line per damaged range. */
function verdictText(s: LogSummary): string {
  const records = `${plural(s.recordCount, "intact record")} from LSN ${s.head} to ${s.endLsn}`;
  const reserve = s.reserveSize > 0 ? `, then ${sizeText(s.reserveSize)} of reserved zeros` : "";
  if (s.status === "intact") return `intact: ${records}${reserve}\n`;
  const after = s.damage!.intactRecordCount;
  const lines = s.status === "torn-tail"
    ? [`torn tail at LSN ${s.damage!.lsn}: ${records}, then an unfinished append`]
    : [
      `damaged at LSN ${s.damage!.lsn}: ${records}, then damage that no crash leaves` +
      (after > 0 ? `, before ${plural(after, "intact record")}` : ""),
    ];
  for (const range of s.ranges) lines.push(`  ${rangeText(range)}`);
  return `${lines.join("\n")}\n`;
}
