// Copyright 2026 the wal-db authors. MIT license.
// Tells a single-file log from a segmented one, works out the segment size, and opens the log.
// Reads directory listings and file sizes only; what it opens read-only it never writes.

import { join } from "node:path";
import { type Entry, segmentLayout, Wal, type WalConfig, WalError } from "../mod.ts";
import { type FlagSpec, integerFlag, type ParsedArgs } from "./args.ts";
import { CliError, EXIT_UNREADABLE, UsageError } from "./errors.ts";
import { userPath } from "./paths.ts";

const {
  headFileName: HEAD_FILE_NAME,
  lockFileName: LOCK_FILE_NAME,
  logSizeLimit: LOG_SIZE_LIMIT,
  segmentSizeFileName: SEGMENT_SIZE_FILE_NAME,
  segmentSizeFileSize: SEGMENT_SIZE_FILE_SIZE,
  decodeHead,
  decodeSegmentSize,
  parseSegmentName,
} = segmentLayout;

/** One segment file of a segmented log. */
export interface SegmentFile {
  /** The segment's index: its name as a number. */
  readonly index: number;
  /** Its size in bytes. */
  readonly size: number;
}

/**
 * Where the segment size came from: the log's `segment-size` file, the sizes of the segment
 * files, `--segment-size`, or nowhere (a log without a `segment-size` file and of at most one
 * segment, at index 0, whose size tells nothing).
 */
export type SegmentSizeSource = "recorded" | "files" | "option" | "unbounded";

/** A log on disk, before it is opened. */
export type Layout =
  | { readonly kind: "file"; readonly path: string; readonly size: number }
  | {
    readonly kind: "segmented";
    readonly path: string;
    /** The segment size the log is opened with. */
    readonly segmentSize: number;
    readonly segmentSizeSource: SegmentSizeSource;
    /** What the segment files say, when there are two or more; it may differ from the option. */
    readonly derivedSegmentSize: number | undefined;
    /**
     * What the `segment-size` file records, when it exists and is intact. The library refuses
     * an open with any other size; a damaged file is left for the open to report.
     */
    readonly recordedSegmentSize: number | undefined;
    /** In index order. */
    readonly segments: readonly SegmentFile[];
  };

/**
 * The segment size a log of one segment at index 0 is read with: larger than any log, so all
 * its bytes map to that one segment, which gives the same LSNs as the true size would.
 */
export const SEGMENT_SIZE_UNBOUNDED = LOG_SIZE_LIMIT;

/**
 * Looks at `given`, resolved against the user's folder (see `userPath`): a file is a single-file log; a directory holding segment files (20 digits
 * plus `.wal`), a `head`, `segment-size` or `wal.lock` file is a segmented log. Nothing is
 * opened for writing. The segment size is `--segment-size` when given (the library then checks
 * it against the log), else the one the `segment-size` file records, else the one the segment
 * files show.
 *
 * @param given The log file or the segmented log's directory, as typed.
 * @param segmentSize `--segment-size`, when given.
 * @throws {CliError} `EXIT_UNREADABLE` if `path` is missing or holds no log.
 * @throws {UsageError} If the segment size is needed and cannot be derived.
 */
export function detectLayout(given: string, segmentSize?: number): Layout {
  const path = userPath(given);
  const info = statOf(path);
  if (info.isFile) return { kind: "file", path, size: info.size };
  if (!info.isDirectory) {
    throw new CliError(
      `Cannot read "${path}": it is neither a file nor a directory`,
      EXIT_UNREADABLE,
    );
  }
  const { segments, markers } = listDirectory(path);
  if (segments.length === 0 && !markers) {
    throw new CliError(
      `Cannot read "${path}": the directory holds no segment files (named by 20 digits and ` +
        `.wal), no head file and no wal.lock, so it is not a segmented wal-db log`,
      EXIT_UNREADABLE,
    );
  }
  if (segmentSize !== undefined && segmentSize < 1) {
    throw new UsageError(`--segment-size must be at least 1, got ${segmentSize}`);
  }
  const derived = deriveSegmentSize(segments);
  const recorded = readRecorded(path);
  const chosen = chooseSegmentSize(path, segments, { derived, recorded, option: segmentSize });
  return {
    kind: "segmented",
    path,
    ...chosen,
    derivedSegmentSize: derived,
    recordedSegmentSize: typeof recorded === "number" ? recorded : undefined,
    segments,
  };
}

function chooseSegmentSize(
  path: string,
  segments: readonly SegmentFile[],
  sizes: { derived: number | undefined; recorded: Recorded; option: number | undefined },
): { segmentSize: number; segmentSizeSource: SegmentSizeSource } {
  const { derived, recorded, option } = sizes;
  if (option !== undefined) return { segmentSize: option, segmentSizeSource: "option" };
  if (recorded === "damaged") {
    // The open refuses a damaged segment-size file before it uses the size: let it say so.
    return derived === undefined
      ? { segmentSize: SEGMENT_SIZE_UNBOUNDED, segmentSizeSource: "unbounded" }
      : { segmentSize: derived, segmentSizeSource: "files" };
  }
  if (recorded !== undefined) return { segmentSize: recorded, segmentSizeSource: "recorded" };
  if (derived !== undefined) return { segmentSize: derived, segmentSizeSource: "files" };
  const first = segments[0];
  if (segments.length > 1 || (first !== undefined && first.index > 0)) {
    // LSNs start at index × size: without the size they cannot be known.
    const what = segments.length > 1
      ? `no non-empty segment before the last`
      : `a single segment, number ${first!.index}`;
    const range = segments.length === 1 ? segmentSizeRange(path, first!) : undefined;
    const hint = range === undefined ? "" : ` (its head file says between ${range} bytes)`;
    throw new UsageError(
      `"${path}" holds ${what} and no segment-size file (it was written by the Rust crate or ` +
        `an older wal-db), so the segment size cannot be derived and its LSNs depend on it; ` +
        `pass --segment-size${hint}`,
    );
  }
  return { segmentSize: SEGMENT_SIZE_UNBOUNDED, segmentSizeSource: "unbounded" };
}

/** What a `segment-size` file says: a size, nothing (no file), or that it is damaged. */
type Recorded = number | "damaged" | undefined;

/**
 * The size the log's `segment-size` file records; `undefined` when there is none, and
 * `"damaged"` when it cannot be read as one (opening the log reports it in the library's words).
 */
function readRecorded(path: string): Recorded {
  let bytes: Uint8Array;
  try {
    bytes = Deno.readFileSync(join(path, SEGMENT_SIZE_FILE_NAME));
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
  if (bytes.length !== SEGMENT_SIZE_FILE_SIZE) return "damaged";
  const record = decodeSegmentSize(bytes);
  return "segmentSize" in record ? record.segmentSize : "damaged";
}

/**
 * The segment sizes a lone segment `k` allows, as `"min and max"`: the head lies inside it
 * (k·S ≤ head < (k+1)·S), and it holds at most S bytes. `undefined` without a readable head.
 */
function segmentSizeRange(path: string, only: SegmentFile): string | undefined {
  let head: number | undefined;
  try {
    head = decodeHead(Deno.readFileSync(join(path, HEAD_FILE_NAME)));
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
  if (head === undefined) return undefined;
  const min = Math.max(only.size, Math.floor(head / (only.index + 1)) + 1);
  const max = Math.floor(head / only.index);
  return min <= max ? `${min} and ${max}` : undefined;
}

/**
 * The segment size the files show: every segment but the last holds exactly that many bytes.
 * A short one is a hole (damage), so the most common size wins, and the larger on a tie.
 */
export function deriveSegmentSize(segments: readonly SegmentFile[]): number | undefined {
  const counts = new Map<number, number>();
  for (const segment of segments.slice(0, -1)) {
    counts.set(segment.size, (counts.get(segment.size) ?? 0) + 1);
  }
  let best: [size: number, count: number] | undefined;
  for (const [size, count] of counts) {
    if (size === 0) continue; // an empty non-last segment says nothing about the size
    if (best === undefined || count > best[1] || (count === best[1] && size > best[0])) {
      best = [size, count];
    }
  }
  return best?.[0];
}

/**
 * Opens the log `layout` describes with `config`.
 *
 * @throws {WalError} What `Wal.open` and `Wal.openSegmented` throw.
 */
export function openLog(layout: Layout, config: WalConfig): Wal {
  return layout.kind === "file"
    ? Wal.open(layout.path, config)
    : Wal.openSegmented(layout.path, layout.segmentSize, config);
}

/**
 * The options every read command opens with: read-only, no lock (see `openForReading`), and
 * every intact record readable.
 */
export const READ_CONFIG: Readonly<WalConfig> = {
  readOnly: true,
  lock: "none",
  recoveryPolicy: "skip",
};

/** Bytes the log's files hold on disk (segments only, for a segmented log). */
export function diskSizeOf(layout: Layout): number {
  if (layout.kind === "file") return layout.size;
  return layout.segments.reduce((sum, segment) => sum + segment.size, 0);
}

function statOf(path: string): Deno.FileInfo {
  try {
    return Deno.statSync(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new CliError(`Cannot read "${path}": no such file or directory`, EXIT_UNREADABLE);
    }
    throw error;
  }
}

function listDirectory(path: string): { segments: SegmentFile[]; markers: boolean } {
  const segments: SegmentFile[] = [];
  let markers = false;
  for (const entry of Deno.readDirSync(path)) {
    if (!entry.isFile) continue;
    if ([HEAD_FILE_NAME, LOCK_FILE_NAME, SEGMENT_SIZE_FILE_NAME].includes(entry.name)) {
      markers = true;
    }
    const index = parseSegmentName(entry.name);
    if (index === undefined) continue;
    segments.push({ index, size: Deno.statSync(join(path, entry.name)).size });
  }
  segments.sort((a, b) => a.index - b.index);
  return { segments, markers };
}

/** `--segment-size`, accepted by every command that opens a log. */
export const SEGMENT_SIZE_FLAG: FlagSpec = {
  name: "segment-size",
  value: "integer",
  placeholder: "N",
  help: "segment size of a segmented log, checked against the log; needed only when neither a " +
    "segment-size file nor the segment files tell it",
};

/**
 * `--no-lock`: what every read command does anyway. Read commands once took a shared lock by
 * default, which kept a service's writer from starting while they ran; the flag is still
 * accepted so that scripts written for that behaviour run unchanged.
 */
export const NO_LOCK_FLAG: FlagSpec = {
  name: "no-lock",
  value: "none",
  help: "take no lock (the default for read commands; accepted for older scripts)",
};

/**
 * Detects the layout named by the first positional and opens it read-only, with every intact
 * record readable and no lock: a read command must never keep a writer from opening the log,
 * so it follows a live log the way `tail -f` does (the checksums stop it at the first record a
 * writer has not finished). Notes about the segment size go to `warn`; `extra` adds options to
 * the open (a progress callback).
 */
export function openForReading(
  args: ParsedArgs,
  warn: (text: string) => void,
  extra: WalConfig = {},
): { layout: Layout; wal: Wal } {
  const layout = detectLayout(args.positionals[0]!, integerFlag(args, SEGMENT_SIZE_FLAG.name));
  const mismatch = layout.kind === "segmented" && layout.segmentSizeSource === "option" &&
    layout.derivedSegmentSize !== undefined && layout.derivedSegmentSize !== layout.segmentSize;
  if (mismatch) {
    warn(
      `warning: --segment-size ${layout.segmentSize} differs from the size of the segment ` +
        `files (${layout.derivedSegmentSize}); LSNs are computed with ${layout.segmentSize}\n`,
    );
  }
  return { layout, wal: openLog(layout, { ...READ_CONFIG, ...extra }) };
}

/**
 * `wal.iterFrom(lsn)`. An LSN that is not a record boundary throws the library's
 * `"invalid-lsn"` error, reworded to name what the user asked for (`dump from`) instead of
 * "iterate from", and to name the records nearest to it, so the user can pick one.
 */
export function iterFromChecked(wal: Wal, lsn: number, action: string): Iterable<Entry> {
  try {
    return wal.iterFrom(lsn);
  } catch (error) {
    if (!(error instanceof WalError) || error.kind !== "invalid-lsn") throw error;
    throw invalidLsnError(wal, lsn, action, error);
  }
}

/**
 * An `"invalid-lsn"` error for `action` at `lsn`: the library's reason (from `cause`, when it
 * gives one), then the nearest records.
 */
function invalidLsnError(
  wal: Wal,
  lsn: number,
  action: string,
  cause?: WalError,
): WalError {
  const reason = cause?.message.match(/^Cannot [^:]*: (.*?); use an LSN/)?.[1] ??
    "no record starts there";
  return new WalError(
    "invalid-lsn",
    `Cannot ${action} LSN ${lsn}: ${reason}; ${nearestRecords(wal, lsn)}`,
    cause === undefined ? { lsn } : { lsn, cause },
  );
}

/**
 * Names the record that starts last before `lsn` and the one that starts first after it. Reads
 * the log from its head: this runs only when a command is about to fail on a wrong LSN.
 */
export function nearestRecords(wal: Wal, lsn: number): string {
  let before: number | undefined;
  let after: number | undefined;
  for (const entry of wal.iter()) {
    if (entry.lsn < lsn) before = entry.lsn;
    else if (entry.lsn > lsn) {
      after = entry.lsn;
      break;
    }
  }
  if (before === undefined && after === undefined) return "the log holds no record";
  if (before !== undefined && after !== undefined) {
    return `the nearest records start at LSN ${before} (before it) and LSN ${after} (after it)`;
  }
  return before !== undefined
    ? `the nearest record starts at LSN ${before}, before it (the last record of the log)`
    : `the nearest record starts at LSN ${after}, after it (the first record of the log)`;
}
