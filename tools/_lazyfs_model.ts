// Copyright 2026 the wal-db authors. MIT license.
// The pure part of the LazyFS power-loss suite (tools/lazyfs.ts): its options, the records the
// workload (tools/lazyfs_workload.ts) writes, the lines it prints, the fault commands sent to
// LazyFS, and the check of a recovered log against everything the workloads acknowledged.
// No I/O: tests/lazyfs_test.ts covers it without root or FUSE.

import { parseArgs } from "node:util";
import { segmentName } from "../src/segments.ts";

/** The two on-disk layouts the workload writes. */
export type Layout = "single" | "segmented";

/** A single-file log is this file in the mounted directory. */
export const SINGLE_LOG_NAME = "w.log";
/** A segmented log is this directory in the mounted directory. */
export const SEGMENT_DIR_NAME = "s";
/** Names of the files recovery sets damaged bytes aside in start with this (both layouts). */
export const DAMAGED_MARK = "damaged-";

/**
 * LazyFS reads its FIFO in chunks of this many bytes and takes each chunk as one command (the
 * last byte, the newline, is dropped), so a command longer than this minus one is cut.
 */
export const FIFO_CHUNK = 100;

/** The fault variants: one kind of power loss each, plus the two negative controls. */
export const VARIANTS = [
  "clear-cache",
  "torn-op",
  "torn-seq",
  "crash",
  "control-early-ack",
  "control-flip",
] as const;
export type Variant = typeof VARIANTS[number];

/** Whether a variant is a negative control: a run the checks must reject. */
export function isControl(variant: Variant): boolean {
  return variant.startsWith("control-");
}

/** What `deno task test:lazyfs` was asked to do. */
export interface SuiteOptions {
  /** Rounds per fault variant (each on a fresh directory). */
  rounds: number;
  /** Rounds per negative control. */
  controlRounds: number;
  /** Crash-and-recover cycles per round. */
  cycles: number;
  variants: Variant[];
  seed: number | undefined;
  /** Run only this round of each chosen variant (to rerun a failing one). */
  round: number | undefined;
  /** Count damaged-* files and "strict" refusals but do not fail on them (baseline only). */
  allowDamageFiles: boolean;
  /** Keep every round's directory, not only failing ones. */
  keep: boolean;
  /** The LazyFS binary; built with the vendored script when not given. */
  lazyfs: string | undefined;
  /** Where round directories go (a short path: LazyFS commands name files under it). */
  out: string | undefined;
}

const ROUNDS_DEFAULT = 20;
const CONTROL_ROUNDS_DEFAULT = 2;
const CYCLES_DEFAULT = 2;

function positive(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new RangeError(`--${name}: a positive integer, got "${text}"`);
  }
  return value;
}

/** Parses the suite's command line; throws `RangeError` on anything it does not understand. */
export function parseSuiteArgs(args: readonly string[]): SuiteOptions {
  const { values, positionals } = parseArgs({
    args: [...args],
    strict: true,
    allowPositionals: true,
    options: {
      rounds: { type: "string" },
      "control-rounds": { type: "string" },
      cycles: { type: "string" },
      variants: { type: "string" },
      seed: { type: "string" },
      round: { type: "string" },
      "allow-damage-files": { type: "boolean", default: false },
      keep: { type: "boolean", default: false },
      lazyfs: { type: "string" },
      out: { type: "string" },
    },
  });
  if (positionals.length > 0) throw new RangeError(`unexpected argument "${positionals[0]}"`);
  let variants: Variant[] = [...VARIANTS];
  if (values.variants !== undefined) {
    variants = values.variants.split(",").map((name) => {
      if (!(VARIANTS as readonly string[]).includes(name)) {
        throw new RangeError(`--variants: unknown variant "${name}" (${VARIANTS.join(", ")})`);
      }
      return name as Variant;
    });
  }
  let seed: number | undefined;
  if (values.seed !== undefined) {
    seed = Number(values.seed);
    if (!Number.isSafeInteger(seed) || seed < 0) {
      throw new RangeError(`--seed: a non-negative integer, got "${values.seed}"`);
    }
  }
  let round: number | undefined;
  if (values.round !== undefined) {
    round = Number(values.round);
    if (!Number.isSafeInteger(round) || round < 0) {
      throw new RangeError(`--round: a non-negative integer, got "${values.round}"`);
    }
    if (seed === undefined) throw new RangeError("--round needs the --seed of the run");
  }
  return {
    rounds: positive("rounds", values.rounds, ROUNDS_DEFAULT),
    controlRounds: positive("control-rounds", values["control-rounds"], CONTROL_ROUNDS_DEFAULT),
    cycles: positive("cycles", values.cycles, CYCLES_DEFAULT),
    variants,
    seed,
    round,
    allowDamageFiles: values["allow-damage-files"],
    keep: values.keep,
    lazyfs: values.lazyfs,
    out: values.out,
  };
}

// ---------------------------------------------------------------------------------------------
// Records

/** Bytes of identity at the start of every payload: the cycle, then the sequence number. */
const IDENTITY_SIZE = 8;
/** Payload size classes, as chances out of 100: most small, some spanning sectors, a few pages. */
const SMALL_PERCENT = 70;
const MEDIUM_PERCENT = 25;
const SMALL_FILLER_MAX = 300;
const MEDIUM_FILLER_MAX = 3_000;
const LARGE_FILLER_MAX = 16_000;

function mix(a: number, b: number): number {
  let x = (Math.imul(a ^ 0x9e37_79b9, 0x85eb_ca6b) ^ Math.imul(b + 0x632b_e5ab, 0xc2b2_ae35)) >>> 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb_352d) >>> 0;
  x ^= x >>> 15;
  return x >>> 0 || 1;
}

/**
 * The payload the workload appends as record `seq` of cycle `cycle`: the identity, then filler
 * derived from it, with a size derived from it too. Any record in a recovered log can be traced
 * back to the append that wrote it, and a mangled one is recognised.
 */
export function recordPayload(cycle: number, seq: number): Uint8Array {
  const h = mix(cycle, seq);
  const klass = h % 100;
  const pick = mix(h, 7);
  const filler = klass < SMALL_PERCENT
    ? pick % SMALL_FILLER_MAX
    : klass < SMALL_PERCENT + MEDIUM_PERCENT
    ? SMALL_FILLER_MAX + pick % (MEDIUM_FILLER_MAX - SMALL_FILLER_MAX)
    : MEDIUM_FILLER_MAX + pick % (LARGE_FILLER_MAX - MEDIUM_FILLER_MAX);
  const out = new Uint8Array(IDENTITY_SIZE + filler);
  const view = new DataView(out.buffer);
  view.setUint32(0, cycle, true);
  view.setUint32(4, seq, true);
  let x = mix(h, 13);
  for (let i = IDENTITY_SIZE; i < out.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** Which append wrote a payload, or `undefined` if no append of the workload wrote these bytes. */
export interface RecordId {
  cycle: number;
  seq: number;
}

export function parseRecordPayload(data: Uint8Array): RecordId | undefined {
  if (data.length < IDENTITY_SIZE) return undefined;
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const id = { cycle: view.getUint32(0, true), seq: view.getUint32(4, true) };
  const expected = recordPayload(id.cycle, id.seq);
  if (expected.length !== data.length) return undefined;
  for (let i = 0; i < data.length; i++) if (expected[i] !== data[i]) return undefined;
  return id;
}

// ---------------------------------------------------------------------------------------------
// The workload's lines

/**
 * One line the workload printed. Each is printed before the next thing it describes can happen:
 * - `O <head> <end> <durability>`: the log opened (recovery done and flushed);
 * - `A <lsn> <cycle> <seq>`: the record was acknowledged (its `sync()` resolved or `syncSync()`
 *   returned; the early-ack control prints it right after the append, and never syncs);
 * - `P <lsn>`: about to call `truncateBefore(lsn)` (or `truncateBeforeAsync`); `C <head>`: it
 *   returned (or resolved) that head;
 * - `T <lsn> <seq> <api>`: about to cut the log at `lsn` (`truncateFrom(lsn)`, or `truncateAfter`
 *   of the record before it; `api` says which, `from`, `after`, `from-async` or `after-async`),
 *   with `seq` the cycle's next sequence number: the records numbered below it were appended
 *   before the cut, the one numbered `seq`, if any, lands at `lsn`. `R <lsn>`: the cut returned
 *   (or resolved), so it is durable, and so is every byte below it (the `A` lines that follow say
 *   which records that made durable). One cut at a time, never beside a checkpoint;
 * - `X <text>`: the workload stopped on an error.
 */
export type WorkloadEvent =
  | { kind: "open"; head: number; end: number; durability: string }
  | { kind: "ack"; lsn: number; cycle: number; seq: number }
  | { kind: "checkpoint-begin"; lsn: number }
  | { kind: "checkpoint"; head: number }
  | { kind: "cut-begin"; lsn: number; seq: number; api: CutApi }
  | { kind: "cut"; lsn: number }
  | { kind: "error"; text: string };

/** The suffix cuts the workload makes, as its `T` lines name them. */
export const CUT_APIS = ["from", "from-async", "after", "after-async"] as const;
export type CutApi = typeof CUT_APIS[number];

function integers(parts: string[], count: number, line: string): number[] {
  const values = parts.slice(1, 1 + count).map(Number);
  if (values.length !== count || values.some((v) => !Number.isSafeInteger(v) || v < 0)) {
    throw new RangeError(`workload line not understood: "${line}"`);
  }
  return values;
}

/**
 * The events in a workload's output. A last line without its newline was cut by the kill and is
 * ignored; any other line that does not parse throws.
 */
export function parseWorkloadOutput(text: string): WorkloadEvent[] {
  const lines = text.split("\n");
  lines.pop(); // Empty after a final newline, or a line the kill cut short.
  const events: WorkloadEvent[] = [];
  for (const line of lines) {
    if (line === "") continue;
    const parts = line.split(" ");
    switch (parts[0]) {
      case "O": {
        const [head, end] = integers(parts, 2, line);
        events.push({ kind: "open", head: head!, end: end!, durability: parts.slice(3).join(" ") });
        break;
      }
      case "A": {
        const [lsn, cycle, seq] = integers(parts, 3, line);
        events.push({ kind: "ack", lsn: lsn!, cycle: cycle!, seq: seq! });
        break;
      }
      case "P":
        events.push({ kind: "checkpoint-begin", lsn: integers(parts, 1, line)[0]! });
        break;
      case "C":
        events.push({ kind: "checkpoint", head: integers(parts, 1, line)[0]! });
        break;
      case "T": {
        const [lsn, seq] = integers(parts, 2, line);
        const api = parts[3] as CutApi;
        if (parts.length !== 4 || !CUT_APIS.includes(api)) {
          throw new RangeError(`workload line not understood: "${line}"`);
        }
        events.push({ kind: "cut-begin", lsn: lsn!, seq: seq!, api });
        break;
      }
      case "R":
        events.push({ kind: "cut", lsn: integers(parts, 1, line)[0]! });
        break;
      case "X":
        events.push({ kind: "error", text: line.slice(2) });
        break;
      default:
        throw new RangeError(`workload line not understood: "${line}"`);
    }
  }
  return events;
}

// ---------------------------------------------------------------------------------------------
// Checking a recovered log

/** One record of a recovered log: its LSN and whose it is (undefined: bytes nobody appended). */
export interface ListedRecord {
  lsn: number;
  size: number;
  id: RecordId | undefined;
}

/** What the verifier found when it opened a copy of the crashed disk. */
export interface Listing {
  /** The open failed with this message (then the other fields are empty). */
  openError?: string;
  head: number;
  end: number;
  records: ListedRecord[];
  /** damaged-* files the verifying open created. */
  damageFiles: string[];
  /**
   * The one set-aside a crash may cause (docs/RECOVERY.md): a single file in which no record
   * landed whole, whose torn first appends cannot be told from another program's file. Counted,
   * not damage.
   */
  firstAppendSetAside?: string;
  /** The message with which `recoveryPolicy: "strict"` refused another copy, if it did. */
  strictError?: string;
}

/** What one check found. Problems are fatal; damage is fatal unless it is allowed. */
export interface CheckResult {
  problems: string[];
  damage: string[];
  acknowledgedChecked: number;
  lost: number;
  /** Of those lost, the ones the cycle just checked acknowledged. */
  lostInCycle: number;
  /**
   * When the power failed during a suffix cut: what the log kept, the tail the cut was dropping
   * (then every record it had acknowledged there was checked) or the cut one.
   */
  cutInProgress?: "old-tail" | "cut";
}

/** A suffix cut at `lsn`, begun in cycle `cycle` when its next sequence number was `seq`. */
export interface Cut {
  cycle: number;
  lsn: number;
  seq: number;
}

/** Whether record `id` was appended before `cut` began (appends run in sequence order). */
export function appendedBefore(id: RecordId, cut: Cut): boolean {
  return id.cycle < cut.cycle || (id.cycle === cut.cycle && id.seq < cut.seq);
}

/**
 * Everything the workloads of one log reported, across its cycles, and the rules that a log
 * recovered after any crash must meet:
 * - every acknowledged record at or above the head is present, at its LSN, with its bytes;
 * - every record is one the workload appended, in append order, with no hole: each cycle's
 *   records follow on from the log its open recovered;
 * - the head is the last checkpoint that returned, or one that was begun after it;
 * - records a later open recovered count as acknowledged from then on (recovery flushes them);
 * - a suffix cut that returned is durable: no record appended before it lies at or past its LSN
 *   (the tail it dropped never comes back), the records it dropped are no longer expected, and
 *   the first record appended after it lies at its LSN. One the power cut interrupted leaves the
 *   old tail (then every acknowledged record in it must be there: never a mix) or the cut one;
 *   either way every acknowledged record below the cut must be there.
 */
export class History {
  /** Acknowledged records by LSN. */
  readonly #acks = new Map<number, RecordId>();
  /** Where each cycle's first append went: the end its open recovered. */
  readonly #starts = new Map<number, number>();
  /** The head after the last checkpoint that returned. */
  #head = 0;
  /** Heads announced since then; the log may be at any of them after a crash. */
  #pendingHeads = new Set<number>();
  /** The last verified listing: an open that follows recovers exactly these records. */
  #lastListing: Listing | undefined;
  /** Problems found while reading a cycle's events, reported by the next check. */
  #pending: string[] = [];
  /** The suffix cuts that returned (or that a crash left done): their tails stay gone. */
  readonly #cuts: Cut[] = [];
  /** Where the first record appended after a cut must lie, by `cycle/seq`. */
  readonly #anchors = new Map<string, number>();
  /** The cut begun and not returned, with the acknowledged records it would drop, by LSN. */
  #openCut: { cut: Cut; dropped: Map<number, RecordId> } | undefined;

  /** How many acknowledgements (including records made durable by recovery) are on record. */
  get acknowledged(): number {
    return this.#acks.size;
  }

  /** The LSNs of the acknowledged records, in no particular order. */
  acknowledgedLsns(): number[] {
    return [...this.#acks.keys()];
  }

  /**
   * Starts over on an empty log: the refused file of a first write cut short was removed (see
   * {@linkcode firstWriteRefused}). Only allowed while nothing was ever acknowledged.
   */
  restart(): void {
    if (this.#acks.size > 0) throw new Error("a log with acknowledged records cannot restart");
    this.#starts.clear();
    this.#head = 0;
    this.#pendingHeads.clear();
    this.#lastListing = undefined;
    this.#pending = [];
    this.#cuts.length = 0;
    this.#anchors.clear();
    this.#openCut = undefined;
  }

  /** Takes in the events of cycle `cycle`'s workload, in order. */
  record(cycle: number, events: readonly WorkloadEvent[]): void {
    for (const event of events) {
      switch (event.kind) {
        case "open":
          this.#opened(cycle, event.head, event.end);
          break;
        case "ack":
          if (event.cycle !== cycle) {
            this.#pending.push(`cycle ${cycle} acknowledged a record of cycle ${event.cycle}`);
          }
          if (this.#droppedBy(event) !== undefined) {
            this.#pending.push(
              `cycle ${cycle} acknowledged record ${event.cycle}/${event.seq} at LSN ` +
                `${event.lsn} after a cut at LSN ${this.#droppedBy(event)!.lsn} dropped it`,
            );
            break;
          }
          this.#acks.set(event.lsn, { cycle: event.cycle, seq: event.seq });
          break;
        case "cut-begin":
          this.#cutBegun({ cycle, lsn: event.lsn, seq: event.seq });
          break;
        case "cut":
          if (this.#openCut?.cut.lsn !== event.lsn || this.#openCut.cut.cycle !== cycle) {
            this.#pending.push(`cycle ${cycle} ended a cut at LSN ${event.lsn} it never began`);
            break;
          }
          this.#cuts.push(this.#openCut.cut);
          this.#openCut = undefined;
          break;
        case "checkpoint-begin":
          if (event.lsn > this.#head) this.#pendingHeads.add(event.lsn);
          break;
        case "checkpoint":
          this.#head = event.head;
          for (const head of this.#pendingHeads) {
            if (head <= event.head) this.#pendingHeads.delete(head);
          }
          break;
        case "error":
          break;
      }
    }
  }

  /** The cut (returned or running) that dropped the record an ack names, if one did. */
  #droppedBy(ack: { lsn: number; cycle: number; seq: number }): Cut | undefined {
    const cuts = this.#openCut === undefined ? this.#cuts : [...this.#cuts, this.#openCut.cut];
    return cuts.find((cut) => ack.lsn >= cut.lsn && appendedBefore(ack, cut));
  }

  #cutBegun(cut: Cut): void {
    if (this.#openCut !== undefined) {
      this.#pending.push(
        `cycle ${cut.cycle} began a cut at LSN ${cut.lsn} while the one at ` +
          `${this.#openCut.cut.lsn} ran`,
      );
    }
    const dropped = new Map<number, RecordId>();
    for (const [lsn, id] of this.#acks) {
      if (lsn >= cut.lsn) {
        dropped.set(lsn, id);
        this.#acks.delete(lsn);
      }
    }
    this.#anchors.set(`${cut.cycle}/${cut.seq}`, cut.lsn);
    this.#openCut = { cut, dropped };
  }

  #opened(cycle: number, head: number, end: number): void {
    this.#starts.set(cycle, end);
    if (head > this.#head) this.#pendingHeads.add(head);
    const last = this.#lastListing;
    if (last === undefined || last.openError !== undefined) return;
    if (last.head !== head || last.end !== end) {
      this.#pending.push(
        `cycle ${cycle} recovered head ${head} and end ${end}, the verifier head ${last.head} ` +
          `and end ${last.end} from the same disk`,
      );
    }
    for (const record of last.records) {
      if (record.lsn >= head && record.lsn < end && record.id !== undefined) {
        this.#acks.set(record.lsn, record.id);
      }
    }
  }

  /**
   * Checks the log recovered after the crash that ended cycle `cycle`. With `commit` false
   * (a damaged copy of the disk, checked on the side) the history stays as it was.
   */
  check(cycle: number, listing: Listing, commit = true): CheckResult {
    const problems = commit ? this.#pending.splice(0) : [...this.#pending];
    const damage: string[] = [];
    if (listing.strictError !== undefined) damage.push(`"strict" refused: ${listing.strictError}`);
    const damaged = listing.damageFiles.filter((f) => f !== listing.firstAppendSetAside);
    if (damaged.length > 0) damage.push(`recovery set bytes aside in ${damaged.join(", ")}`);
    if (listing.openError !== undefined) {
      problems.push(`the log did not open: ${listing.openError}`);
      if (commit) this.#lastListing = listing;
      return { problems, damage, acknowledgedChecked: 0, lost: 0, lostInCycle: 0 };
    }
    const { head } = listing;
    // A cut the power cut interrupted: the log kept the old tail if a record appended before the
    // cut lies at or past it. Then the cut never happened: what it would drop is expected again.
    const open = this.#openCut;
    const keptTail = open !== undefined &&
      listing.records.some((r) =>
        r.lsn >= open.cut.lsn && r.id !== undefined && appendedBefore(r.id, open.cut)
      );
    const acks = keptTail ? new Map([...this.#acks, ...open!.dropped]) : this.#acks;
    const cuts = open === undefined || keptTail ? this.#cuts : [...this.#cuts, open.cut];
    for (const cut of cuts) {
      const back = listing.records.filter((r) =>
        r.lsn >= cut.lsn && r.id !== undefined && appendedBefore(r.id, cut)
      );
      if (back.length > 0) {
        problems.push(
          `${back.length} record${back.length === 1 ? "" : "s"} from ${back[0]!.id!.cycle}/` +
            `${back[0]!.id!.seq} at LSN ${back[0]!.lsn} came back after the cut at LSN ` +
            `${cut.lsn} (cycle ${cut.cycle}) returned`,
        );
      }
    }
    if (head !== this.#head && !this.#pendingHeads.has(head)) {
      problems.push(
        `head ${head} is neither the last checkpoint (${this.#head}) nor one begun after it`,
      );
    }
    problems.push(...this.#checkOrder(cycle, listing));
    const byLsn = new Map(listing.records.map((record) => [record.lsn, record]));
    let checked = 0;
    let lost = 0;
    let lostInCycle = 0;
    for (const [lsn, id] of [...acks].sort((a, b) => a[0] - b[0])) {
      if (lsn < head) continue;
      checked++;
      const found = byLsn.get(lsn)?.id;
      if (found === undefined || found.cycle !== id.cycle || found.seq !== id.seq) {
        lost++;
        if (id.cycle === cycle) lostInCycle++;
        if (lost <= LOST_SHOWN_MAX) {
          problems.push(
            `acknowledged record ${id.cycle}/${id.seq} at LSN ${lsn} is ${
              found === undefined ? "missing" : `replaced by ${found.cycle}/${found.seq}`
            } (log ${head}..${listing.end})`,
          );
        }
      }
    }
    if (lost > LOST_SHOWN_MAX) problems.push(`… ${lost} acknowledged records lost in all`);
    const result: CheckResult = {
      problems,
      damage,
      acknowledgedChecked: checked,
      lost,
      lostInCycle,
    };
    if (open !== undefined) result.cutInProgress = keptTail ? "old-tail" : "cut";
    if (commit) {
      this.#lastListing = listing;
      // The next open recovers this disk: the interrupted cut is settled one way or the other.
      if (open !== undefined) {
        if (keptTail) {
          for (const [lsn, id] of open.dropped) this.#acks.set(lsn, id);
        } else {
          this.#cuts.push(open.cut);
        }
        this.#openCut = undefined;
      }
    }
    return result;
  }

  #checkOrder(cycle: number, listing: Listing): string[] {
    const problems: string[] = [];
    let previous: ListedRecord | undefined;
    for (const record of listing.records) {
      const id = record.id;
      if (id === undefined) {
        problems.push(
          `record at LSN ${record.lsn} (${record.size} B) is not one the workload wrote`,
        );
        previous = undefined;
        continue;
      }
      const start = this.#starts.get(id.cycle);
      const anchor = this.#anchors.get(`${id.cycle}/${id.seq}`);
      if (id.cycle > cycle || start === undefined) {
        problems.push(
          `record ${id.cycle}/${id.seq} at LSN ${record.lsn}: cycle ${id.cycle} never opened`,
        );
      } else if (anchor !== undefined) {
        // The first append after a cut: at the cut, after anything appended before it.
        const before = previous?.id;
        if (record.lsn !== anchor) {
          problems.push(
            `record ${id.cycle}/${id.seq} at LSN ${record.lsn}, but the cut before its append ` +
              `was at ${anchor}`,
          );
        } else if (
          before !== undefined &&
          !appendedBefore(before, { cycle: id.cycle, seq: id.seq, lsn: anchor })
        ) {
          problems.push(
            `record ${id.cycle}/${id.seq} at LSN ${record.lsn} follows ${before.cycle}/` +
              `${before.seq}: not the order of the appends`,
          );
        }
      } else if (id.seq === 0 && record.lsn !== start) {
        problems.push(
          `record ${id.cycle}/0 at LSN ${record.lsn}, but cycle ${id.cycle} opened at ${start}`,
        );
      } else if (previous?.id !== undefined) {
        const before = previous.id;
        const follows = id.cycle === before.cycle
          ? id.seq === before.seq + 1
          : id.cycle > before.cycle && id.seq === 0;
        if (!follows) {
          problems.push(
            `record ${id.cycle}/${id.seq} at LSN ${record.lsn} follows ${before.cycle}/${before.seq}: ` +
              `not the order of the appends`,
          );
        }
      } else if (previous === undefined && record.lsn === 0 && id.seq !== 0) {
        problems.push(`the log starts at 0 with record ${id.cycle}/${id.seq}`);
      }
      previous = record;
    }
    return problems;
  }
}

const LOST_SHOWN_MAX = 5;

/** The sector size the torn-write rule of recovery reasons about (issue 10, class 2). */
export const SECTOR_SIZE = 512;

/**
 * Whether bytes recovery set aside from `lsn` on hold a whole all-zero sector, aligned as in the
 * file (segment sizes are multiples of the sector size, so LSN alignment is file alignment).
 * A torn write on a disk that writes whole sectors leaves such a sector; LazyFS's torn faults
 * persist exact byte ranges and can also leave holes that cover no whole sector, which no
 * sector-atomic disk produces.
 */
export function hasZeroSector(bytes: Uint8Array, lsn: number): boolean {
  const first = Math.ceil(lsn / SECTOR_SIZE) * SECTOR_SIZE - lsn;
  for (let at = first; at + SECTOR_SIZE <= bytes.length; at += SECTOR_SIZE) {
    if (bytes.subarray(at, at + SECTOR_SIZE).every((b) => b === 0)) return true;
  }
  return false;
}

/**
 * Whether a cycle's damage is what a torn fault may leave: the fault fired, and every damaged-*
 * file starts at or after `acknowledgedEnd`, the end of the last acknowledged record, so that the
 * damage lies in bytes no `sync` ever covered. LazyFS tears a write at any byte, and a hole inside
 * a sector with bytes of the same write after it is damage by docs/RECOVERY.md ("What the rule
 * cannot see"): copied aside, and refused by "strict". No sector-atomic disk leaves it, so the
 * suite counts such a cycle instead of failing it; a lost acknowledged record fails it all the
 * same (a separate check), and damage anywhere before an acknowledged record's end stays fatal.
 */
export function onlyTornFaultDamage(
  variant: Variant,
  fired: boolean,
  damageLsns: readonly (number | undefined)[],
  acknowledgedEnd: number,
): boolean {
  const torn = variant === "torn-op" || variant === "torn-seq";
  return torn && fired && damageLsns.length > 0 &&
    damageLsns.every((lsn) => lsn !== undefined && lsn >= acknowledgedEnd);
}

/**
 * Whether a cycle's open refused the single file as "not a wal-db log" while nothing was ever
 * acknowledged in it: a first write cut off a sector's end (LazyFS splits writes at any byte and
 * has no fallocate), which recovery refuses like a foreign file (docs/RECOVERY.md, "A first write
 * cut short"). Nothing is lost; the suite removes the file and goes on, as an operator would.
 */
export function firstWriteRefused(
  layout: Layout,
  listing: Listing,
  acknowledged: number,
): boolean {
  return layout === "single" && acknowledged === 0 &&
    listing.openError !== undefined && /not a wal-db log/.test(listing.openError);
}

/** The LSN a set-aside file's name gives (`…damaged-<lsn>`), or `undefined`. */
export function damagedLsn(name: string): number | undefined {
  const match = name.match(/damaged-(\d+)$/);
  return match === null ? undefined : Number(match[1]);
}

// ---------------------------------------------------------------------------------------------
// Where bytes are, and the fault commands

/** The file (relative to the mounted directory) and offset holding the log's byte at `lsn`. */
export function byteLocation(
  layout: Layout,
  segmentSize: number,
  lsn: number,
): { file: string; offset: number } {
  if (layout === "single") return { file: SINGLE_LOG_NAME, offset: lsn };
  const index = Math.floor(lsn / segmentSize);
  return { file: `${SEGMENT_DIR_NAME}/${segmentName(index)}`, offset: lsn - index * segmentSize };
}

/** Checks that a command fits LazyFS's FIFO reads, and returns it with its newline. */
export function fifoCommand(command: string): string {
  const line = command + "\n";
  if (new TextEncoder().encode(line).length > FIFO_CHUNK) {
    throw new RangeError(
      `LazyFS command longer than ${FIFO_CHUNK - 1} bytes (use a shorter --out): ${command}`,
    );
  }
  return line;
}

/** Tears the next write to `path` (as LazyFS sees it) into `parts`, persists those in `persist` (1-based), and crashes. */
export function tornOpCommand(path: string, parts: number, persist: readonly number[]): string {
  return fifoCommand(`lazyfs::torn-op::file=${path}::parts=${parts}::persist=${persist.join(",")}`);
}

/** Persists the writes in `persist` (1-based) of the next run of writes to `path` between two fsyncs, and crashes. */
export function tornSeqCommand(path: string, persist: readonly number[]): string {
  return fifoCommand(`lazyfs::torn-seq::op=write::file=${path}::persist=${persist.join(",")}`);
}

/** The operations a crash can be armed at, and whether the operation names two paths. */
export const CRASH_OPS = ["write", "fsync", "truncate", "create", "rename", "unlink"] as const;
export type CrashOp = typeof CRASH_OPS[number];

/** Kills LazyFS before or after the next `op` on a path matching `pattern`. */
export function crashCommand(timing: "before" | "after", op: CrashOp, pattern: string): string {
  return fifoCommand(`lazyfs::crash::timing=${timing}::op=${op}::from_rgx=${pattern}`);
}

/** Where a crash can be armed: the log's data, the head file and the directory's entries. */
export interface CrashTarget {
  name: string;
  op: CrashOp;
  pattern: string;
  layouts: readonly Layout[];
}

// LazyFS wraps a pattern in `.*` on both sides and matches it against the whole path under its
// root directory, so each pattern names the file by its last components.
const SEGMENT_PATTERN = "/s/[0-9]+\\.wal$";
const LOG_PATTERN = "(/w\\.log|/s/[0-9]+\\.wal)$";
const HEAD_PATTERN = "/s/head";

export const CRASH_TARGETS: readonly CrashTarget[] = [
  { name: "log-write", op: "write", pattern: LOG_PATTERN, layouts: ["single", "segmented"] },
  { name: "log-fsync", op: "fsync", pattern: LOG_PATTERN, layouts: ["single", "segmented"] },
  // A suffix cut's ftruncate (the single file also grows by it: LazyFS has no fallocate).
  { name: "log-truncate", op: "truncate", pattern: LOG_PATTERN, layouts: ["single", "segmented"] },
  { name: "head-write", op: "write", pattern: HEAD_PATTERN, layouts: ["segmented"] },
  { name: "head-fsync", op: "fsync", pattern: HEAD_PATTERN, layouts: ["segmented"] },
  { name: "dir-create", op: "create", pattern: `/${SEGMENT_DIR_NAME}/`, layouts: ["segmented"] },
  { name: "dir-rename", op: "rename", pattern: HEAD_PATTERN, layouts: ["segmented"] },
  { name: "dir-unlink", op: "unlink", pattern: SEGMENT_PATTERN, layouts: ["segmented"] },
];
