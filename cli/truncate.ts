// Copyright 2026 the wal-db authors. MIT license.
// `wal truncate-before` and `wal truncate-after`: the only commands that write. Each shows what
// it will drop from a read-only look, asks, then reopens the log for writing and does it.

import {
  type Entry,
  entryEnd,
  FsDirectory,
  Snapshots,
  type Wal,
  type WalConfig,
  WalError,
} from "../mod.ts";
import {
  type Command,
  type CommandSpec,
  type FlagSpec,
  integerFlag,
  type ParsedArgs,
  parseInteger,
  switchFlag,
} from "./args.ts";
import {
  CliError,
  EXIT_DAMAGED_OR_INVALID_LSN,
  EXIT_OK,
  EXIT_TORN_OR_DECLINED,
  EXIT_UNREADABLE,
  UsageError,
} from "./errors.ts";
import { alignRows, plural } from "./format.ts";
import type { CliIo } from "./io.ts";
import {
  detectLayout,
  iterFromChecked,
  type Layout,
  nearestRecords,
  openLog,
  SEGMENT_SIZE_FLAG,
} from "./open.ts";

/** Which end a truncation drops records from. */
type Side = "before" | "after";

/** What a truncation will do, worked out before anything is written. */
interface TruncationPlan {
  side: Side;
  /** The LSN given on the command line. */
  lsn: number;
  /** The head and end the log has now. */
  head: number;
  end: number;
  /** The head and end it will have. */
  newHead: number;
  newEnd: number;
  droppedRecords: number;
  keptRecords: number;
  /** Segment files that will be removed (truncate-before on a segmented log). */
  removedSegments: number;
  /** An unfinished append at the end, which opening the log for writing cuts. */
  tornTail: { lsn: number; size: number } | undefined;
}

/** Damage followed by intact records makes both opens refuse: truncating is not repair. */
const PREVIEW_CONFIG: WalConfig = { readOnly: true, lock: "shared", recoveryPolicy: "strict" };
const WRITE_CONFIG: WalConfig = { recoveryPolicy: "strict" };

const YES_FLAG: FlagSpec = {
  name: "yes",
  short: "y",
  value: "none",
  help: "do not ask for confirmation",
};

const WRITE_DETAILS = "Shows what will be dropped and asks for confirmation (y/N) on the " +
  "terminal; without a terminal it refuses unless --yes is given. Then it opens the log for " +
  "writing (an exclusive lock: no other process may have it open), which also cuts a torn " +
  'tail. A log with damage (bytes no crash leaves) is refused: run "wal verify".\nNeeds ' +
  "--allow-read and --allow-write (--allow-ffi and --allow-env let it flush through the " +
  "native shim; without them it uses FsFile.syncData).\nExit codes: 0 done (or nothing to " +
  "drop), 1 declined, 2 the LSN is not a record of the log, 3 the log cannot be opened " +
  "(missing, locked, damaged), 64 usage or no confirmation possible.";

const BEFORE_SPEC: CommandSpec = {
  name: "truncate-before",
  summary: "Drop the records before an LSN (segmented logs).",
  positionals: ["path", "LSN"],
  flags: [YES_FLAG, SEGMENT_SIZE_FLAG],
  details: "The record at LSN becomes the first; whole segment files below it are removed, " +
    "after the new head is written (atomically) to the head file. A single-file log cannot " +
    `drop its prefix, so it is refused.\n${WRITE_DETAILS}`,
};

const AFTER_SPEC: CommandSpec = {
  name: "truncate-after",
  summary: "Drop every record after the one at an LSN.",
  positionals: ["path", "LSN"],
  flags: [YES_FLAG, SEGMENT_SIZE_FLAG],
  details: `The record at LSN is kept and becomes the last.\n${WRITE_DETAILS}`,
};

/** `wal truncate-before <path> <LSN>`. */
export const truncateBeforeCommand: Command = {
  spec: BEFORE_SPEC,
  run: (args, io) => truncate("before", args, io),
};

/** `wal truncate-after <path> <LSN>`. */
export const truncateAfterCommand: Command = {
  spec: AFTER_SPEC,
  run: (args, io) => truncate("after", args, io),
};

async function truncate(side: Side, args: ParsedArgs, io: CliIo): Promise<number> {
  const lsn = parseInteger(args.positionals[1]!, "LSN");
  const layout = detectLayout(args.positionals[0]!, integerFlag(args, SEGMENT_SIZE_FLAG.name));
  if (layout.kind === "segmented" && layout.segmentSizeSource === "unbounded") {
    // A writable open records the segment size in the log's directory: it must be the true one.
    throw new UsageError(
      `"${layout.path}" has one segment and no segment-size file (it was written by the Rust ` +
        `crate or an older wal-db), so its segment size cannot be derived, and a writable ` +
        `open records it; pass --segment-size with the size it was written with. Nothing ` +
        `was changed`,
    );
  }
  if (side === "before" && layout.kind === "file") {
    throw new UsageError(
      "truncate-before needs a segmented log: a single file cannot drop its prefix without " +
        "rewriting the whole log, so nothing was changed",
    );
  }
  const plan = withLog(openPreview(layout), (wal) => planOf(side, wal, lsn, layout));
  checkSnapshot(plan, layout);
  io.stdout(planText(plan));
  if (plan.newHead === plan.head && plan.newEnd === plan.end) {
    io.stdout("nothing to drop; nothing was changed\n");
    return EXIT_OK;
  }
  if (!(await confirmed(args, io))) {
    io.stdout("declined; nothing was changed\n");
    return EXIT_TORN_OR_DECLINED;
  }
  withLog(openUnlocked(layout, WRITE_CONFIG), (wal) => apply(plan, wal));
  io.stdout(resultText(plan, layout));
  return EXIT_OK;
}

/**
 * A checkpoint's snapshot (`Snapshots`, the `snapshot` file of a segmented log) must stay inside
 * the log: a service restarts from it and replays the log from its LSN. A cut that moves the head
 * past that LSN, or the end below it, would leave a log the service cannot start from.
 */
function checkSnapshot(plan: TruncationPlan, layout: Layout): void {
  if (layout.kind !== "segmented") return;
  const dir = FsDirectory.open(layout.path, { readOnly: true, lock: "none" });
  let snapshot: number | undefined;
  try {
    snapshot = new Snapshots(dir).read()?.lsn;
  } finally {
    dir.close();
  }
  if (snapshot === undefined || (plan.newHead <= snapshot && snapshot <= plan.newEnd)) return;
  throw new CliError(
    `Cannot truncate "${layout.path}" there: its checkpoint snapshot is at LSN ${snapshot}, ` +
      `and the log would then hold only LSN ${plan.newHead} to ${plan.newEnd}, so a service ` +
      `restarting from the snapshot could not replay. Checkpoint again first, or remove the ` +
      `"snapshot" file if the state it holds is to be dropped too. Nothing was changed`,
    EXIT_DAMAGED_OR_INVALID_LSN,
  );
}

/** A read-only look at the log; damage (which no crash leaves) ends the command here. */
function openPreview(layout: Layout): Wal {
  try {
    return openUnlocked(layout, PREVIEW_CONFIG);
  } catch (error) {
    if (!(error instanceof WalError) || error.kind !== "corruption") throw error;
    throw new CliError(
      `${error.message}.\nThe truncate commands do not repair damage: "wal verify" shows it, ` +
        `and docs/RECOVERY.md says how a writer's open deals with it`,
      EXIT_UNREADABLE,
    );
  }
}

/**
 * Opens the log, or says in the truncate commands' own words why another process stops it. The
 * library's message for a locked log suggests a lock-free open, which is right for a reader and
 * wrong for a command that is about to cut the log.
 */
function openUnlocked(layout: Layout, config: WalConfig): Wal {
  try {
    return openLog(layout, config);
  } catch (error) {
    if (!(error instanceof WalError) || error.kind !== "locked") throw error;
    throw new CliError(
      `Cannot truncate "${layout.path}": another process has the log open (its writer, or ` +
        `another truncate command), and a truncation needs the log to itself; stop that ` +
        `process first. Nothing was changed`,
      EXIT_UNREADABLE,
    );
  }
}

function withLog<T>(wal: Wal, use: (wal: Wal) => T): T {
  try {
    return use(wal);
  } finally {
    wal.close();
  }
}

/** Works out the plan on a read-only log; throws `"invalid-lsn"` as the library words it. */
function planOf(side: Side, wal: Wal, lsn: number, layout: Layout): TruncationPlan {
  let fromCount = 0;
  let firstEnd = lsn;
  for (const entry of recordsFrom(wal, lsn, side)) {
    if (fromCount++ === 0) firstEnd = entryEnd(entry);
  }
  const damage = wal.recovery.damage;
  const total = wal.recovery.recordCount;
  const after = side === "after";
  return {
    side,
    lsn,
    head: wal.head,
    end: wal.nextLsn,
    newHead: after ? wal.head : lsn,
    newEnd: after ? firstEnd : wal.nextLsn,
    // truncate-after keeps the record at `lsn`, the first of those counted from it.
    droppedRecords: after ? fromCount - 1 : total - fromCount,
    keptRecords: after ? total - fromCount + 1 : fromCount,
    removedSegments: after ? 0 : removedSegmentCount(layout, lsn),
    tornTail: damage === undefined ? undefined : { lsn: damage.lsn, size: tornSize(wal) },
  };
}

/** Checks `lsn` like the library does; truncate-after also refuses the end (no record there). */
function recordsFrom(wal: Wal, lsn: number, side: Side): Iterable<Entry> {
  const action = `truncate ${side}`;
  if (side === "after" && lsn === wal.nextLsn) {
    throw new WalError(
      "invalid-lsn",
      `Cannot ${action} LSN ${lsn}: it is the end of the log, where no record starts; ` +
        nearestRecords(wal, lsn),
      { lsn },
    );
  }
  return iterFromChecked(wal, lsn, action);
}

/** The size of the torn tail a read-only open ignored (the last range it reports). */
function tornSize(wal: Wal): number {
  return wal.recovery.ranges.at(-1)?.size ?? 0;
}

/** Segments the library removes: those below the new head's, never the last one. */
function removedSegmentCount(layout: Layout, head: number): number {
  if (layout.kind !== "segmented") return 0;
  const last = layout.segments.at(-1)?.index ?? 0;
  const keepFrom = Math.min(Math.floor(head / layout.segmentSize), last);
  return layout.segments.filter((segment) => segment.index < keepFrom).length;
}

async function confirmed(args: ParsedArgs, io: CliIo): Promise<boolean> {
  if (switchFlag(args, YES_FLAG.name)) return true;
  if (!io.isTerminal("stdin")) {
    throw new UsageError(
      "refusing to write without confirmation: stdin is not a terminal, so there is no one to " +
        "ask; pass --yes to proceed. Nothing was changed",
    );
  }
  const answer = await io.prompt("Proceed? [y/N] ");
  return answer !== undefined && /^\s*y(es)?\s*$/i.test(answer);
}

/** Re-checks the plan against the log as the writer sees it, then truncates. */
function apply(plan: TruncationPlan, wal: Wal): void {
  if (wal.head !== plan.head || wal.nextLsn !== plan.end) {
    throw new CliError(
      `The log changed since it was read (it now runs from LSN ${wal.head} to ${wal.nextLsn}, ` +
        `not ${plan.head} to ${plan.end}); nothing was truncated. Run the command again`,
      EXIT_UNREADABLE,
    );
  }
  if (plan.side === "before") wal.truncateBefore(plan.lsn);
  else wal.truncateAfter(plan.lsn);
}

/** What the plan will do, as aligned text. */
function planText(plan: TruncationPlan): string {
  const dropped = plan.side === "before"
    ? `${plural(plan.droppedRecords, "record")} before LSN ${plan.lsn} ` +
      `(LSN ${plan.head} to ${plan.newHead})`
    : `${plural(plan.droppedRecords, "record")} after LSN ${plan.lsn} ` +
      `(LSN ${plan.newEnd} to ${plan.end})`;
  const rows: [string, string][] = [
    [
      "log now",
      `LSN ${plan.head} to ${plan.end}, ${
        plural(plan.droppedRecords + plan.keptRecords, "record")
      }`,
    ],
    ["will drop", dropped],
    ["will keep", `${plural(plan.keptRecords, "record")}, LSN ${plan.newHead} to ${plan.newEnd}`],
  ];
  if (plan.side === "before") rows.push(["segment files", `${plan.removedSegments} to remove`]);
  if (plan.tornTail !== undefined) {
    rows.push([
      "torn tail",
      `${plural(plan.tornTail.size, "byte")} of an unfinished append at LSN ` +
      `${plan.tornTail.lsn}, cut when the log is opened for writing`,
    ]);
  }
  return alignRows(rows);
}

function resultText(plan: TruncationPlan, layout: Layout): string {
  if (plan.side === "after") return `done: the log now ends at LSN ${plan.newEnd}\n`;
  const before = layout.kind === "segmented" ? layout.segments.length : 0;
  const after = detectLayout(
    layout.path,
    layout.kind === "segmented" ? layout.segmentSize : undefined,
  );
  const removed = after.kind === "segmented" ? before - after.segments.length : 0;
  return `done: the log now starts at LSN ${plan.newHead}; ${
    plural(removed, "segment file")
  } removed\n`;
}
