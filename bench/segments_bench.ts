// Copyright 2026 the wal-db authors. MIT license.
// `deno run -A bench/segments_bench.ts [--json] [--quick]`: what segments cost, each figure beside
// its anchor measured in the same run (issue 12, goals 5 and 6):
//
// - append p99.9 of a segmented log (256 KiB segments) vs a single-file log;
// - a writer's open of 2,000 cleanly closed segments vs a read-only open of them (and, for
//   reference, the first writer's open right after the log was written);
// - a follower's refresh() at 1,000 and 4,000 segments vs the 50 ms poll interval;
// - the longest event-loop stall during a checkpoint, truncateBefore vs truncateBeforeAsync;
// - the same during a suffix cut (a Raft conflict), truncateFrom vs truncateFromAsync, on a
//   segmented log and on a single file (truncateAfterAsync takes the same path);
// - beside each asynchronous stall, the probe's own floor: the same statistic over an idle
//   event loop, for as long as the asynchronous call took. A 1 ms interval ticks about every
//   2.2 ms here even when nothing runs, so its longest gap cannot fall below that; the suffix
//   cuts are measured a second time by a finer probe (a message loop, microseconds apart).
//
// Prints a table; with --json, a JSON array of rows {section, path, value, unit, anchor,
// anchorValue, ratio, goal, met}. --quick runs smaller sizes (a smoke test, not for reports).

import { join } from "node:path";
import { Wal } from "../mod.ts";
import type { GoalRow } from "./goals.ts";

/** One measured figure beside its anchor: the row every bench module prints. */
export type SegmentsRow = GoalRow;

const quick = Deno.args.includes("--quick");
const RECORD = new Uint8Array(256).fill(0xab);
const APPEND_SEGMENT_SIZE = 256 * 1024;
/** Appends timed per log; a p99.9 needs many segment rotations (one per ~1,000 appends). */
const APPENDS = quick ? 20_000 : 200_000;
/** Appends between two awaited syncs: a service's group commit, one turn of its event loop. */
const APPENDS_PER_SYNC = 64;
const OPEN_SEGMENTS = quick ? 200 : 2_000;
const OPEN_SEGMENT_SIZE = 4096;
const OPEN_ROUNDS = 5;
/** Longer than the clock rule of the flush record (the change time's second, and a margin). */
const RECORD_SETTLE_MS = 1_300;
const REFRESH_SEGMENTS = quick ? [100, 400] : [1_000, 4_000];
const REFRESH_SEGMENT_SIZE = 4096;
const REFRESH_ROUNDS = 50;
const POLL_MS = 50;
const CHECKPOINT_SEGMENT_SIZE = 256 * 1024;
/** The log a checkpoint works on: this many segments, half of them dropped by each. */
const CHECKPOINT_SEGMENTS = quick ? 16 : 128;
/** Appended, not synced, before each checkpoint: the checkpoint flushes it first. */
const CHECKPOINT_UNSYNCED_BYTES = 4 * 1024 * 1024;
const CHECKPOINT_ROUNDS = 5;
const TICK_MS = 1;

function percentile(values: number[], fraction: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))]!;
}

function median(values: number[]): number {
  return percentile(values, 0.5);
}

function row(
  section: string,
  path: string,
  value: number,
  unit: string,
  anchor: string,
  anchorValue: number,
  limit: number,
): SegmentsRow {
  const ratio = value / anchorValue;
  // The goal is the largest ratio allowed; an infinite one is a row kept for reference.
  const goal = Number.isFinite(limit) ? `≤ ${limit}× anchor` : null;
  return {
    section,
    path,
    value,
    unit,
    anchor,
    anchorValue,
    ratio,
    goal,
    met: goal === null ? null : ratio <= limit,
  };
}

/** Append latencies (µs) of a log, appending in bursts with an awaited sync after each. */
async function appendLatencies(wal: Wal): Promise<number[]> {
  const times: number[] = [];
  // Warm: the first touch of the page cache and of the writer's scratch buffer.
  for (let i = 0; i < 2_000; i++) wal.append(RECORD);
  await wal.sync();
  for (let i = 0; i < APPENDS; i++) {
    const start = performance.now();
    wal.append(RECORD);
    times.push((performance.now() - start) * 1000);
    if (i % APPENDS_PER_SYNC === APPENDS_PER_SYNC - 1) await wal.sync();
  }
  return times;
}

async function appendSection(root: string): Promise<SegmentsRow[]> {
  const single: number[] = [];
  const segmented: number[] = [];
  // Two rounds, alternating which goes first.
  for (let round = 0; round < 2; round++) {
    for (const kind of round === 0 ? ["file", "segments"] : ["segments", "file"]) {
      const path = join(root, `append-${kind}-${round}`);
      const wal = kind === "file"
        ? Wal.open(`${path}.wal`)
        : Wal.openSegmented(path, APPEND_SEGMENT_SIZE);
      const into = kind === "file" ? single : segmented;
      for (const time of await appendLatencies(wal)) into.push(time);
      wal.close();
      await wal.closed;
      await Deno.remove(kind === "file" ? `${path}.wal` : path, { recursive: true });
    }
  }
  const section = "append p99.9, 256 B records";
  return [
    row(
      section,
      "segmented log, 256 KiB segments",
      percentile(segmented, 0.999),
      "µs",
      "single-file log",
      percentile(single, 0.999),
      2,
    ),
  ];
}

/** A segmented log of `segments` segments of `size` bytes, closed cleanly (after a sync). */
async function buildLog(dir: string, segments: number, size: number): Promise<void> {
  const wal = Wal.openSegmented(dir, size);
  const record = new Uint8Array(size - 8);
  for (let i = 0; i < segments; i++) wal.append(record);
  await wal.sync();
  wal.close();
  await wal.closed;
}

async function openSection(root: string): Promise<SegmentsRow[]> {
  const dir = join(root, "open");
  await buildLog(dir, OPEN_SEGMENTS, OPEN_SEGMENT_SIZE);
  // Right after the log was written, its last segments are too recent for the flush record
  // (file times are coarse): that open flushes every segment the record does not list yet.
  let start = performance.now();
  Wal.openSegmented(dir, OPEN_SEGMENT_SIZE).close();
  const first = performance.now() - start;
  // Once they are old enough, a writer's flush records them (docs/ON_DISK_FORMAT.md §6.2).
  await new Promise((resolve) => setTimeout(resolve, RECORD_SETTLE_MS));
  Wal.openSegmented(dir, OPEN_SEGMENT_SIZE).close();
  const writer: number[] = [];
  const reader: number[] = [];
  for (let round = 0; round < OPEN_ROUNDS; round++) {
    start = performance.now();
    const read = Wal.openSegmented(dir, OPEN_SEGMENT_SIZE, { readOnly: true });
    reader.push(performance.now() - start);
    read.close();
    start = performance.now();
    const wal = Wal.openSegmented(dir, OPEN_SEGMENT_SIZE);
    writer.push(performance.now() - start);
    // The flush record vouches for every segment but the last: the open flushes that one, the
    // head and segment-size files and the directory. A copied directory would flush them all.
    wal.close();
  }
  const section = `open of ${OPEN_SEGMENTS.toLocaleString("en")} segments`;
  const anchor = "read-only open";
  return [
    row(section, "writer open", median(writer), "ms", anchor, median(reader), 2),
    row(
      section,
      "first writer open, just after writing",
      first,
      "ms",
      anchor,
      median(reader),
      Infinity,
    ),
  ];
}

async function refreshSection(root: string): Promise<SegmentsRow[]> {
  const dir = join(root, "refresh");
  const writer = Wal.openSegmented(dir, REFRESH_SEGMENT_SIZE);
  const record = new Uint8Array(REFRESH_SEGMENT_SIZE - 8);
  const figures: number[] = [];
  let have = 0;
  for (const segments of REFRESH_SEGMENTS) {
    for (; have < segments; have++) writer.append(record);
    await writer.sync();
    const reader = Wal.openSegmented(dir, REFRESH_SEGMENT_SIZE, { readOnly: true, lock: "none" });
    const times: number[] = [];
    for (let i = 0; i < REFRESH_ROUNDS; i++) {
      // One new record (a new segment now and then), as a live writer makes between two polls.
      writer.append(new Uint8Array(100));
      await writer.sync();
      const start = performance.now();
      reader.refresh();
      times.push(performance.now() - start);
    }
    reader.close();
    figures.push(median(times));
  }
  writer.close();
  await writer.closed;
  const [small, large] = [figures[0]!, figures[1]!];
  const [few, many] = REFRESH_SEGMENTS.map((n) => n.toLocaleString("en"));
  const section = "follower refresh()";
  return [
    row(section, `at ${many} segments`, large, "ms", "poll interval", POLL_MS, 0.1),
    row(section, `at ${many} segments`, large, "ms", `the same at ${few} segments`, small, 1.5),
  ];
}

/**
 * What a probe of the event loop saw while some work ran: `"interval"` is a 1 ms
 * `setInterval`, whose ticks come about every 2.2 ms on an idle loop (the runtime's timer
 * granularity), so a stall shorter than that is hidden between two ticks; `"messages"` is a loop
 * that posts itself a message every turn, whose turns come microseconds apart, but which keeps
 * the main thread busy, so the work's worker threads get one core fewer and take longer.
 */
type Probe = "interval" | "messages";

/** The longest gap (ms) between two turns of the probe, and how long the work took (ms). */
interface Stall {
  longest: number;
  took: number;
}

/** Watches the event loop with `probe` while `work` runs. */
async function longestStall(
  probe: Probe,
  work: () => Promise<unknown> | unknown,
): Promise<Stall> {
  let last = performance.now();
  let longest = 0;
  const turn = () => {
    const now = performance.now();
    longest = Math.max(longest, now - last);
    last = now;
  };
  let running = true;
  let stop: () => Promise<void>;
  if (probe === "interval") {
    const timer = setInterval(turn, TICK_MS);
    stop = () => Promise.resolve(clearInterval(timer));
  } else {
    const channel = new MessageChannel();
    const loop = (async () => {
      while (running) {
        await new Promise((resolve) => {
          channel.port1.onmessage = resolve;
          channel.port2.postMessage(0);
        });
        turn();
      }
    })();
    stop = async () => {
      running = false;
      await loop;
      channel.port1.close();
    };
  }
  await new Promise((resolve) => setTimeout(resolve, 5 * TICK_MS));
  longest = 0;
  last = performance.now();
  const started = last;
  await work();
  const took = performance.now() - started;
  // One more tick after the work: a stall at its very end counts too.
  await new Promise((resolve) => setTimeout(resolve, 2 * TICK_MS));
  const tail = performance.now() - last;
  await stop();
  return { longest: Math.max(longest, tail), took };
}

/** Nothing at all, for `ms`: the work of a probe's floor. */
function idle(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The longest stalls of rounds of a blocking call, its asynchronous variant, and of no call. */
interface Stalls {
  sync: number[];
  async: number[];
  /** The probe on an idle loop for as long as the asynchronous call of the same round took. */
  idle: number[];
}

/**
 * The rows of one kind of stall: the asynchronous call against the blocking one (with `goal`),
 * then, for reference, the idle loop's floor against the same anchor.
 */
function stallRows(
  section: string,
  path: string,
  anchor: string,
  stalls: Stalls,
  goal: number,
): SegmentsRow[] {
  const blocking = median(stalls.sync);
  return [
    row(section, path, median(stalls.async), "ms", anchor, blocking, goal),
    row(
      section,
      `no call (idle loop), as long as ${path}`,
      median(stalls.idle),
      "ms",
      anchor,
      blocking,
      Infinity,
    ),
  ];
}

async function checkpointSection(root: string): Promise<SegmentsRow[]> {
  const stalls: Stalls = { sync: [], async: [], idle: [] };
  const chunk = new Uint8Array(64 * 1024 - 8);
  for (let round = 0; round < CHECKPOINT_ROUNDS; round++) {
    for (const kind of round % 2 === 0 ? ["sync", "async"] as const : ["async", "sync"] as const) {
      const dir = join(root, `checkpoint-${kind}-${round}`);
      const wal = Wal.openSegmented(dir, CHECKPOINT_SEGMENT_SIZE);
      const lsns: number[] = [];
      const perSegment = CHECKPOINT_SEGMENT_SIZE / (chunk.length + 8);
      for (let i = 0; i < CHECKPOINT_SEGMENTS * perSegment; i++) lsns.push(wal.append(chunk));
      await wal.sync();
      for (let done = 0; done < CHECKPOINT_UNSYNCED_BYTES; done += chunk.length + 8) {
        wal.append(chunk);
      }
      const head = lsns[Math.floor(lsns.length / 2)]!;
      const stall = await longestStall(
        "interval",
        () => kind === "sync" ? wal.truncateBefore(head) : wal.truncateBeforeAsync(head),
      );
      stalls[kind].push(stall.longest);
      if (kind === "async") {
        stalls.idle.push((await longestStall("interval", () => idle(stall.took))).longest);
      }
      wal.close();
      await wal.closed;
      await Deno.remove(dir, { recursive: true });
    }
  }
  return stallRows(
    "checkpoint: longest event-loop stall (1 ms interval)",
    "truncateBeforeAsync",
    "truncateBefore",
    stalls,
    0.25,
  );
}

/**
 * A suffix cut a quarter of the way back from the end of a log of `CHECKPOINT_SEGMENTS` segments'
 * worth of records, of which the last half is not synced: the cut's flush has those bytes to
 * write, and a segmented log has a quarter of its segments to remove. Measured by both probes:
 * the 1 ms interval (the goal's rows) and the message loop, which sees stalls shorter than the
 * interval's floor.
 */
async function cutSection(root: string): Promise<SegmentsRow[]> {
  const rows: SegmentsRow[] = [];
  const chunk = new Uint8Array(64 * 1024 - 8);
  const records = CHECKPOINT_SEGMENTS * CHECKPOINT_SEGMENT_SIZE / (chunk.length + 8);
  for (const probe of ["interval", "messages"] as const) {
    for (const layout of ["segmented", "single file"] as const) {
      const stalls: Stalls = { sync: [], async: [], idle: [] };
      for (let round = 0; round < CHECKPOINT_ROUNDS; round++) {
        for (
          const kind of round % 2 === 0 ? ["sync", "async"] as const : ["async", "sync"] as const
        ) {
          const name = `cut-${probe}-${layout === "segmented" ? "seg" : "file"}-${kind}-${round}`;
          const dir = join(root, name);
          await Deno.mkdir(dir, { recursive: true });
          const wal = layout === "segmented"
            ? Wal.openSegmented(dir, CHECKPOINT_SEGMENT_SIZE)
            : Wal.open(join(dir, "log.wal"));
          const lsns: number[] = [];
          for (let i = 0; i < records; i++) {
            lsns.push(wal.append(chunk));
            if (i === Math.floor(records / 2)) await wal.sync();
          }
          const cut = lsns[Math.floor(records * 3 / 4)]!;
          const stall = await longestStall(
            probe,
            () => kind === "sync" ? wal.truncateFrom(cut) : wal.truncateFromAsync(cut),
          );
          stalls[kind].push(stall.longest);
          if (kind === "async") {
            stalls.idle.push((await longestStall(probe, () => idle(stall.took))).longest);
          }
          wal.close();
          await wal.closed;
          await Deno.remove(dir, { recursive: true });
        }
      }
      rows.push(...stallRows(
        probe === "interval"
          ? "suffix cut: longest event-loop stall (1 ms interval)"
          : "suffix cut: longest event-loop stall (message loop)",
        `truncateFromAsync, ${layout}`,
        "truncateFrom",
        stalls,
        // The goal is the interval's; the finer probe's rows are for reference.
        probe === "interval" ? 0.25 : Infinity,
      ));
    }
  }
  return rows;
}

function format(rows: SegmentsRow[]): string {
  const header = ["section", "path", "value", "anchor", "ratio", "goal", "met"];
  const cells = rows.map((r) => [
    r.section,
    r.path,
    `${r.value.toFixed(r.value < 10 ? 3 : 1)} ${r.unit}`,
    `${r.anchor}: ${r.anchorValue.toFixed(r.anchorValue < 10 ? 3 : 1)} ${r.unit}`,
    `${r.ratio.toFixed(2)}×`,
    r.goal ?? "-",
    r.met === null ? "-" : r.met ? "yes" : "no",
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) => `| ${c.map((x, i) => x.padEnd(widths[i]!)).join(" | ")} |`;
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...cells.map(line)].join("\n");
}

/** Runs every section in a temporary folder (removed afterwards) and returns the rows. */
export async function runSegmentsBench(): Promise<SegmentsRow[]> {
  const root = await Deno.makeTempDir({ prefix: "wal-db-segments-bench-" });
  try {
    return [
      ...await appendSection(root),
      ...await openSection(root),
      ...await refreshSection(root),
      ...await checkpointSection(root),
      ...await cutSection(root),
    ];
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

if (import.meta.main) {
  const rows = await runSegmentsBench();
  console.log(Deno.args.includes("--json") ? JSON.stringify(rows, null, 2) : format(rows));
}
