// Copyright 2026 the wal-db authors. MIT license.
// `wal dump` and `wal tail`: print records, and with `tail -f` keep printing as the log grows.
// Read-only: logs are opened with `readOnly`; `tail` takes no lock, so a writer may be running.

import { type Entry, entryEnd, segmentLayout, type Wal, WalError } from "../mod.ts";
import {
  type Command,
  type CommandSpec,
  type FlagSpec,
  integerFlag,
  type ParsedArgs,
  switchFlag,
  wordFlag,
} from "./args.ts";
import { CliError, EXIT_OK, EXIT_TRUNCATED, UsageError } from "./errors.ts";
import { formatRecord, RECORD_FORMATS, type RecordFormat } from "./format.ts";
import { type CliIo, interruptSignal } from "./io.ts";
import { userPath } from "./paths.ts";
import { retryWhileChanging } from "./retry.ts";
import {
  detectLayout,
  iterFromChecked,
  type Layout,
  NO_LOCK_FLAG,
  openForReading,
  openLog,
  READ_CONFIG,
  SEGMENT_SIZE_FLAG,
} from "./open.ts";

/** How many records `tail` prints without `--from` or `-n`, as Unix `tail` prints lines. */
const TAIL_COUNT_DEFAULT = 10;

/** How often `tail -f` looks for new records, in milliseconds. */
const TAIL_POLL_MS_DEFAULT = 100;

const FROM_FLAG: FlagSpec = {
  name: "from",
  value: "integer",
  placeholder: "LSN",
  help: "start at the record at this LSN (default: the first record)",
};

const FORMAT_FLAG: FlagSpec = {
  name: "format",
  value: RECORD_FORMATS,
  help: "text: LSN, size, printable preview; hex: a hex dump; json: one object per line with " +
    "lsn, size and base64 data (default text)",
};

const DUMP_SPEC: CommandSpec = {
  name: "dump",
  summary: "Print the records of a log.",
  positionals: ["path"],
  flags: [
    FROM_FLAG,
    { name: "limit", value: "integer", placeholder: "N", help: "print at most N records" },
    FORMAT_FLAG,
    SEGMENT_SIZE_FLAG,
    NO_LOCK_FLAG,
  ],
  details: "Opens the log read-only and without a lock (a writer can open it meanwhile) and " +
    "prints every intact record, skipping damaged bytes (a note on stderr says where they " +
    "are). Needs --allow-read.\nExit codes: 0 printed, " +
    "2 --from is not the LSN of a record, 3 the log cannot be read, 64 usage.",
};

const TAIL_SPEC: CommandSpec = {
  name: "tail",
  summary: "Print the last records; with -f, follow new ones.",
  positionals: ["path"],
  flags: [
    { ...FROM_FLAG, help: "start at the record at this LSN instead of the last records" },
    {
      name: "lines",
      short: "n",
      value: "integer",
      placeholder: "N",
      help: `print the last N records (default ${TAIL_COUNT_DEFAULT})`,
    },
    { name: "follow", short: "f", value: "none", help: "keep printing records as they arrive" },
    FORMAT_FLAG,
    {
      name: "poll-ms",
      value: "integer",
      placeholder: "MS",
      help: `with -f, how often to look for new records (default ${TAIL_POLL_MS_DEFAULT})`,
    },
    SEGMENT_SIZE_FLAG,
    NO_LOCK_FLAG,
  ],
  details: "Opens the log read-only without a lock, so it works while another process " +
    "writes; a record the writer has not finished is printed once it is whole. -f ends on " +
    "Ctrl-C. Needs --allow-read.\nExit codes: 0 printed (or followed until Ctrl-C), 2 --from " +
    "is not the LSN of a record, 3 the log cannot be read, 4 with -f: the writer cut the log " +
    "below what was printed, or a checkpoint removed records before they were printed, 64 usage.",
};

/** `wal dump <path>`. */
export const dumpCommand: Command = {
  spec: DUMP_SPEC,
  run(args: ParsedArgs, io: CliIo): Promise<number> {
    let printed = false;
    // A checkpoint that removes records before the first is printed: start again. Once records
    // are out, starting again would print them twice, so the error is reported instead.
    retryWhileChanging(userPath(args.positionals[0]!), () => {
      const { wal } = openForReading(args, (text) => io.stderr(text));
      try {
        const print = printer(args, io, wal);
        const from = integerFlag(args, FROM_FLAG.name) ?? wal.head;
        const entries = iterFromChecked(wal, from, "dump from");
        noteDamage(wal, io);
        // Stop as soon as the limit is reached: reading one more record would be wasted work.
        let left = integerFlag(args, "limit") ?? Infinity;
        if (left > 0) {
          for (const entry of entries) {
            printed = true;
            print(entry);
            if (--left === 0) break;
          }
        }
      } finally {
        wal.close();
      }
    }, () => !printed);
    return Promise.resolve(EXIT_OK);
  },
};

/** `wal tail <path>`. */
export const tailCommand: Command = {
  spec: TAIL_SPEC,
  async run(args: ParsedArgs, io: CliIo): Promise<number> {
    const from = integerFlag(args, FROM_FLAG.name);
    const count = integerFlag(args, "lines");
    if (from !== undefined && count !== undefined) {
      throw new UsageError("--from and --lines cannot be combined: one says where to start");
    }
    const { layout, wal } = retryWhileChanging(
      userPath(args.positionals[0]!),
      () => openForReading(args, (text) => io.stderr(text)),
    );
    try {
      noteDamage(wal, io);
      const start = from ?? startOfLast(wal, count ?? TAIL_COUNT_DEFAULT);
      if (!switchFlag(args, "follow")) {
        const print = printer(args, io, wal);
        for (const entry of iterFromChecked(wal, start, "tail from")) print(entry);
        return EXIT_OK;
      }
      await follow(layout, wal, start, args, io);
      return EXIT_OK;
    } finally {
      wal.close();
    }
  },
};

/**
 * A function that prints one record in the `--format` asked for. LSNs are padded to one width
 * for the whole run, so the columns line up: the width of the log's end for a log that is
 * printed as it is, and with `following` the width of the largest LSN a log can ever reach, since
 * a followed log grows past any width picked from its size now.
 */
export function printer(
  args: ParsedArgs,
  io: CliIo,
  wal: Wal,
  following = false,
): (entry: Entry) => void {
  const format = wordFlag<RecordFormat>(args, FORMAT_FLAG.name, "text");
  const width = following ? FOLLOW_LSN_WIDTH : String(wal.nextLsn).length;
  return (entry) => io.stdout(formatRecord(entry, format, width));
}

/** The LSN column of `tail -f`: as wide as the largest LSN a log can have (16 digits). */
export const FOLLOW_LSN_WIDTH = String(segmentLayout.logSizeLimit).length;

/** The LSN of the `count`-th record from the end (the end itself for 0). */
function startOfLast(wal: Wal, count: number): number {
  if (count === 0) return wal.nextLsn;
  const ring: number[] = [];
  for (const entry of wal.iter()) {
    ring.push(entry.lsn);
    if (ring.length > count) ring.shift();
  }
  return ring[0] ?? wal.nextLsn;
}

/**
 * Damage before intact records is worth a note: those bytes hide records. A torn tail is not:
 * on a live log it is the writer's unfinished append or the space it reserved ahead.
 */
function noteDamage(wal: Wal, io: CliIo): void {
  const damage = wal.recovery.damage;
  if (damage === undefined || damage.tornTail) return;
  io.stderr(
    `note: the log has damage at LSN ${damage.lsn} (${damage.reason}); damaged ranges are ` +
      `skipped; run "wal verify" for details\n`,
  );
}

/**
 * Prints records from `start` as they arrive until Ctrl-C or `io.signal`. A segmented log read
 * with an unbounded segment size (no segment-size file and at most one segment) is reopened
 * once a second segment or a segment-size file shows the true size, and following goes on from
 * the last record printed.
 */
async function follow(
  layout: Layout,
  first: Wal,
  start: number,
  args: ParsedArgs,
  io: CliIo,
): Promise<void> {
  const pollMs = integerFlag(args, "poll-ms") ?? TAIL_POLL_MS_DEFAULT;
  if (pollMs < 1) throw new UsageError(`--poll-ms must be at least 1, got ${pollMs}`);
  const interrupt = interruptSignal(io);
  let wal = first;
  let position = start;
  const print = printer(args, io, wal, true);
  try {
    for (;;) {
      const resize = watchSegmentSize(layout, pollMs, interrupt.signal);
      try {
        for await (const entry of wal.tail(position, { signal: resize.signal, pollMs })) {
          print(entry);
          position = entryEnd(entry);
        }
      } catch (error) {
        throw truncatedError(error, position);
      } finally {
        resize.stop();
      }
      // The tail ended on its own (the log closed or was cut below us), or on Ctrl-C.
      if (interrupt.signal.aborted || !resize.signal.aborted) return;
      if (wal !== first) wal.close();
      layout = detectLayout(layout.path);
      wal = openLog(layout, READ_CONFIG);
    }
  } finally {
    interrupt.release();
    if (wal !== first) wal.close();
  }
}

/**
 * What `tail -f` says when the log was cut under it: the records it printed from the cut on (or
 * those it was to print below a new head) are gone, so it stops rather than go on with a log
 * that no longer matches its output. Other errors pass through.
 */
function truncatedError(error: unknown, position: number): unknown {
  if (!(error instanceof WalError) || error.kind !== "truncated") return error;
  const lsn = error.lsn ?? 0;
  const what = lsn > position
    ? `a checkpoint moved the head of the log to LSN ${lsn}, past LSN ${position} where ` +
      `following was: the records between were removed before they were printed`
    : `the log was cut at LSN ${lsn} below what was printed (up to LSN ${position}): the ` +
      `records printed from there on are no longer in the log`;
  return new CliError(`${what}; run "wal tail --from ${lsn} -f" to follow again`, EXIT_TRUNCATED);
}

/**
 * A signal that aborts with `outer`, and also when a segmented log read with an unbounded
 * segment size gains a second segment (its size is then known, and the open one is wrong).
 */
function watchSegmentSize(
  layout: Layout,
  pollMs: number,
  outer: AbortSignal,
): { signal: AbortSignal; stop: () => void } {
  const controller = new AbortController();
  const onAbort = () => controller.abort();
  outer.addEventListener("abort", onAbort, { once: true });
  if (outer.aborted) controller.abort();
  const unbounded = layout.kind === "segmented" && layout.segmentSizeSource === "unbounded";
  const timer = unbounded
    ? setInterval(() => {
      if (segmentSizeKnown(layout.path)) controller.abort();
    }, pollMs)
    : undefined;
  return {
    signal: controller.signal,
    stop: () => {
      clearInterval(timer);
      outer.removeEventListener("abort", onAbort);
    },
  };
}

/**
 * True once the directory's files tell the segment size. A listing that fails (the writer is
 * renaming or removing files) says nothing yet: the next poll looks again, and the tail itself
 * reports a log that is really gone.
 */
function segmentSizeKnown(path: string): boolean {
  try {
    const now = detectLayout(path);
    return now.kind === "segmented" && now.segmentSizeSource !== "unbounded";
  } catch {
    return false;
  }
}
