// Copyright 2026 the wal-db authors. MIT license.
// Process-kill torture of a segmented log on disk: a child (_torture_child.ts) runs concurrent
// group-committing writers with checkpoints and truncations on small segments; the parent
// SIGKILLs it at a random moment (sometimes while it is still recovering), reopens the log,
// checks it against everything the children reported, and starts the next child on the same
// log. SIGKILL keeps the page cache, so this checks recovery, rotation, truncation and
// acknowledgement order on a real file system, not power loss (the simulation does that).

import { join } from "node:path";
import { Wal } from "../mod.ts";
import { Rng } from "./_rng.ts";
import { parseKillPayload } from "./_kill_payload.ts";

const CHILD = new URL("./_torture_child.ts", import.meta.url).pathname;
const SEGMENT_SIZE_MIN = 256;
const SEGMENT_SIZE_MAX = 4096;
const WRITERS_MAX = 8;
const ACKS_BEFORE_KILL_MAX = 150;
/** Some children are killed on a timer instead, maybe before they finish recovering. */
const EARLY_KILL_PERCENT = 15;
const EARLY_KILL_MS_MAX = 150;

/** What one lane of kills did and found. */
export interface TortureFigures {
  kills: number;
  acknowledged: number;
  checkpoints: number;
  truncations: number;
  recordsChecked: number;
  acknowledgedChecked: number;
  acknowledgedLost: number;
}

/** The outcome of a run. */
export interface TortureSummary {
  figures: TortureFigures;
  failures: string[];
}

interface Ack {
  lsn: number;
  round: number;
  seq: number;
}

/** A truncation the child announced: records appended before `(round, seq)` may be cut. */
interface Intent {
  lsn: number;
  round: number;
  seq: number;
}

/** Everything the children of one log reported, across rounds. */
class History {
  readonly acks: Ack[] = [];
  readonly cuts: Intent[] = [];
  /** The head after the last checkpoint that returned. */
  head = 0;
  /** Checkpoints announced since then: the head may be at any of them. */
  pendingHeads: number[] = [];
  readonly figures: TortureFigures = {
    kills: 0,
    acknowledged: 0,
    checkpoints: 0,
    truncations: 0,
    recordsChecked: 0,
    acknowledgedChecked: 0,
    acknowledgedLost: 0,
  };

  /** Applies one line of a child's output. */
  take(line: string): void {
    const [tag, a, b, c] = line.split(" ");
    const [lsn, round, seq] = [Number(a), Number(b), Number(c)];
    if (tag === "A") {
      this.acks.push({ lsn, round, seq });
      this.figures.acknowledged++;
    } else if (tag === "P") {
      this.pendingHeads.push(lsn);
    } else if (tag === "C") {
      this.head = lsn;
      this.pendingHeads = this.pendingHeads.filter((h) => h > lsn);
      this.figures.checkpoints++;
    } else if (tag === "F") {
      this.cuts.push({ lsn, round, seq });
    } else if (tag === "T") {
      this.figures.truncations++;
    }
  }

  /** True when an announced truncateFrom may have cut this record. */
  cut(record: Ack): boolean {
    return this.cuts.some((cut) =>
      cut.lsn <= record.lsn &&
      (record.round < cut.round || (record.round === cut.round && record.seq < cut.seq))
    );
  }

  /** True when `next` may follow `previous` directly in the log. */
  follows(previous: Ack, next: Ack): boolean {
    if (next.round === previous.round && next.seq === previous.seq + 1) return true;
    if (next.round > previous.round && next.seq === 0) return true;
    return this.cuts.some((cut) =>
      cut.lsn === next.lsn && cut.round === next.round && cut.seq <= next.seq
    );
  }
}

/** Reopens the log and checks it against the history; returns the problems found. */
function verify(dir: string, segmentSize: number, history: History): string[] {
  // "strict": a kill leaves at most a torn tail, never damage, so even it must open.
  let opened: Wal;
  try {
    opened = Wal.openSegmented(dir, segmentSize, { recoveryPolicy: "strict" });
  } catch (error) {
    return [`the "strict" open after a kill failed: ${error}`];
  }
  using wal = opened;
  const problems: string[] = [];
  const damage = wal.recovery.damage;
  // A torn tail is fine (a kill part way through a truncation leaves the segments it had not
  // removed yet after the cut: copied to unsynced-<lsn>); damage or a damaged-* copy is not.
  if (damage !== undefined && (!damage.tornTail || damage.setAsidePath?.includes("damaged-"))) {
    problems.push(`recovery after a kill reported damage: ${JSON.stringify(damage)}`);
  }
  const head = wal.head;
  if (head !== history.head && !history.pendingHeads.includes(head)) {
    problems.push(`head ${head}: not the last checkpoint ${history.head} nor an announced one`);
  }
  const found = new Map<number, Ack>();
  let previous: Ack | undefined;
  for (const { lsn, data } of wal.iter()) {
    const id = parseKillPayload(data);
    if (id === undefined) {
      problems.push(`record at ${lsn} is not one a child wrote (a phantom or mangled record)`);
      break;
    }
    const record = { lsn, ...id };
    if (previous !== undefined && !history.follows(previous, record)) {
      problems.push(
        `record ${id.round}/${id.seq} at ${lsn} follows ${previous.round}/${previous.seq}: not a clean prefix`,
      );
      break;
    }
    found.set(lsn, record);
    previous = record;
    history.figures.recordsChecked++;
  }
  for (const ack of history.acks) {
    if (ack.lsn < head || history.cut(ack)) continue;
    const record = found.get(ack.lsn);
    history.figures.acknowledgedChecked++;
    if (record?.round !== ack.round || record.seq !== ack.seq) {
      history.figures.acknowledgedLost++;
      problems.push(`acknowledged record ${ack.round}/${ack.seq} at ${ack.lsn} is missing`);
    }
  }
  // Checkpoints that did not return are settled now: the head is where recovery found it.
  history.head = head;
  history.pendingHeads = [];
  return problems;
}

/** Runs one child until it is killed; feeds its output to the history. */
async function killRound(
  dir: string,
  segmentSize: number,
  round: number,
  rng: Rng,
  history: History,
): Promise<string[]> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      CHILD,
      dir,
      String(segmentSize),
      String(round),
      String(rng.int(1, WRITERS_MAX)),
      String(rng.next()),
    ],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const early = rng.chance(EARLY_KILL_PERCENT);
  const target = rng.int(1, ACKS_BEFORE_KILL_MAX);
  const kill = () => {
    try {
      child.kill("SIGKILL");
    } catch {
      // Already exited: the status check below reports it.
    }
  };
  const timer = early ? setTimeout(kill, rng.int(0, EARLY_KILL_MS_MAX)) : undefined;
  const stderr = new Response(child.stderr).text();
  let buffered = "";
  let acks = 0;
  for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
    buffered += chunk;
    const lines = buffered.split("\n");
    buffered = lines.pop()!; // a line cut by the kill is not an event
    for (const line of lines) {
      history.take(line);
      if (line.startsWith("A ") && ++acks === target && !early) kill();
    }
  }
  clearTimeout(timer);
  const status = await child.status;
  history.figures.kills++;
  if (status.signal === "SIGKILL") return [];
  return [
    `child of round ${round} exited by itself (code ${status.code}): ${
      (await stderr).slice(0, 500)
    }`,
  ];
}

/** Runs `kills` rounds on one fresh log in a temp directory. */
export async function runTortureLane(
  kills: number,
  seed: number,
  onRound?: (round: number) => void,
): Promise<TortureSummary> {
  const rng = new Rng(seed);
  const root = await Deno.makeTempDir({ prefix: "wal_torture_" });
  const dir = join(root, "log");
  const segmentSize = rng.logSize(SEGMENT_SIZE_MIN, SEGMENT_SIZE_MAX);
  const history = new History();
  const failures: string[] = [];
  try {
    for (let round = 0; round < kills && failures.length === 0; round++) {
      failures.push(...await killRound(dir, segmentSize, round, rng, history));
      const where = `lane seed ${seed}, round ${round}, segments of ${segmentSize} B`;
      try {
        failures.push(...verify(dir, segmentSize, history).map((p) => `${where}: ${p}`));
      } catch (error) {
        failures.push(`${where}: reopening after the kill threw ${error}`);
      }
      onRound?.(round);
    }
  } finally {
    await Deno.remove(root, { recursive: true });
  }
  return { figures: history.figures, failures };
}

/** Runs `kills` rounds split over `lanes` logs that run at the same time. */
export async function runTorture(
  kills: number,
  lanes: number,
  seed: number,
  onRound?: (done: number) => void,
): Promise<TortureSummary> {
  let done = 0;
  const share = Math.ceil(kills / lanes);
  const parts = await Promise.all(
    Array.from(
      { length: lanes },
      (_, lane) => runTortureLane(share, seed + lane, () => onRound?.(++done)),
    ),
  );
  const figures = parts[0]!.figures;
  for (const part of parts.slice(1)) {
    for (const key of Object.keys(figures) as (keyof TortureFigures)[]) {
      figures[key] += part.figures[key];
    }
  }
  return { figures, failures: parts.flatMap((p) => p.failures) };
}

/** The figures as one line. */
export function formatTorture(figures: TortureFigures): string {
  const f = figures;
  return `kills ${f.kills}, acknowledged records ${f.acknowledged}, checkpoints ${f.checkpoints}, ` +
    `truncations ${f.truncations}, records checked ${f.recordsChecked}, acknowledged records ` +
    `checked ${f.acknowledgedChecked}, acknowledged records lost ${f.acknowledgedLost}`;
}
