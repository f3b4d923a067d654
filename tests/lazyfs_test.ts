// Copyright 2026 the wal-db authors. MIT license.
// The pure logic of the LazyFS power-loss suite (tools/_lazyfs_model.ts): its options, the
// workload's records and lines, the fault commands, and the check of a recovered log against
// the acknowledgements. The suite itself needs root and FUSE (`deno task test:lazyfs`); these
// tests need neither.
//
// Goal: the checks report every way a recovered log can be wrong (a lost or replaced
// acknowledged record, a phantom, a hole, a wrong head, damage) and nothing else.

import { deepEqual, equal, match, ok, throws } from "node:assert/strict";
import {
  byteLocation,
  crashCommand,
  damagedLsn,
  FIFO_CHUNK,
  firstWriteRefused,
  hasZeroSector,
  History,
  type ListedRecord,
  type Listing,
  onlyTornFaultDamage,
  parseRecordPayload,
  parseSuiteArgs,
  parseWorkloadOutput,
  type RecordId,
  recordPayload,
  tornOpCommand,
  tornSeqCommand,
  VARIANTS,
  type WorkloadEvent,
} from "../tools/_lazyfs_model.ts";

/** The records `ids` make when appended in order from `start`. */
function records(start: number, ids: readonly RecordId[]): ListedRecord[] {
  let lsn = start;
  return ids.map((id) => {
    const size = recordPayload(id.cycle, id.seq).length;
    const record = { lsn, size, id };
    lsn += 8 + size;
    return record;
  });
}

function endOf(list: readonly ListedRecord[], start: number): number {
  const last = list[list.length - 1];
  return last === undefined ? start : last.lsn + 8 + last.size;
}

function listing(list: ListedRecord[], extra: Partial<Listing> = {}): Listing {
  const head = extra.head ?? list[0]?.lsn ?? 0;
  return { head, end: endOf(list, head), records: list, damageFiles: [], ...extra };
}

function seqs(cycle: number, from: number, to: number): RecordId[] {
  return Array.from({ length: to - from }, (_, i) => ({ cycle, seq: from + i }));
}

function acks(list: readonly ListedRecord[]): WorkloadEvent[] {
  return list.map((r) => ({ kind: "ack", lsn: r.lsn, cycle: r.id!.cycle, seq: r.id!.seq }));
}

function open(head: number, end: number): WorkloadEvent {
  return { kind: "open", head, end, durability: "test" };
}

Deno.test("lazyfs args: defaults, values, and every kind of bad input", () => {
  const defaults = parseSuiteArgs([]);
  equal(defaults.rounds, 20);
  equal(defaults.cycles, 2);
  deepEqual(defaults.variants, [...VARIANTS]);
  equal(defaults.allowDamageFiles, false);
  equal(defaults.seed, undefined);

  const given = parseSuiteArgs([
    "--rounds=3",
    "--cycles",
    "4",
    "--variants=torn-op,crash",
    "--seed=9",
    "--round=2",
    "--allow-damage-files",
    "--control-rounds=5",
  ]);
  deepEqual(
    [given.rounds, given.cycles, given.variants, given.seed, given.round, given.controlRounds],
    [3, 4, ["torn-op", "crash"], 9, 2, 5],
  );
  equal(given.allowDamageFiles, true);

  throws(() => parseSuiteArgs(["--rounds=0"]), /--rounds/);
  throws(() => parseSuiteArgs(["--cycles=1.5"]), /--cycles/);
  throws(() => parseSuiteArgs(["--variants=torn-op,power"]), /unknown variant "power"/);
  throws(() => parseSuiteArgs(["--round=1"]), /--seed/);
  throws(() => parseSuiteArgs(["--seed=-1"]), /--seed/);
  throws(() => parseSuiteArgs(["--frobnicate"]));
  throws(() => parseSuiteArgs(["extra"]), /unexpected argument/);
});

Deno.test("lazyfs records: a payload names its append, and a changed byte makes it foreign", () => {
  const sizes = new Set<number>();
  for (let seq = 0; seq < 200; seq++) {
    const data = recordPayload(3, seq);
    sizes.add(data.length);
    deepEqual(parseRecordPayload(data), { cycle: 3, seq });
  }
  ok(sizes.size > 50, "sizes vary");
  ok([...sizes].some((s) => s > 4096), "some records span pages");
  const data = recordPayload(1, 7);
  for (const at of [0, 4, data.length - 1]) {
    const changed = data.slice();
    changed[at] = changed[at]! ^ 1;
    equal(parseRecordPayload(changed), undefined, `byte ${at}`);
  }
  equal(parseRecordPayload(data.subarray(0, data.length - 1)), undefined);
  equal(parseRecordPayload(new Uint8Array(3)), undefined);
});

Deno.test("lazyfs output: each line kind, a line cut by the kill ignored, garbage refused", () => {
  const text = "O 0 120 fdatasync via shim\nA 0 1 0\nA 40 1 1\nP 40\nC 40\nX WalError: failed\nA 9";
  deepEqual(parseWorkloadOutput(text), [
    { kind: "open", head: 0, end: 120, durability: "fdatasync via shim" },
    { kind: "ack", lsn: 0, cycle: 1, seq: 0 },
    { kind: "ack", lsn: 40, cycle: 1, seq: 1 },
    { kind: "checkpoint-begin", lsn: 40 },
    { kind: "checkpoint", head: 40 },
    { kind: "error", text: "WalError: failed" },
  ]);
  deepEqual(parseWorkloadOutput("T 40 7 from-async\nR 40\nT 9 8 after\n"), [
    { kind: "cut-begin", lsn: 40, seq: 7, api: "from-async" },
    { kind: "cut", lsn: 40 },
    { kind: "cut-begin", lsn: 9, seq: 8, api: "after" },
  ]);
  throws(() => parseWorkloadOutput("T 40 7\n"), /not understood/);
  throws(() => parseWorkloadOutput("T 40 7 sideways\n"), /not understood/);
  deepEqual(parseWorkloadOutput(""), []);
  throws(() => parseWorkloadOutput("A 1 2\n"), /not understood/);
  throws(() => parseWorkloadOutput("Q 1\n"), /not understood/);
  throws(() => parseWorkloadOutput("A -1 0 0\n"), /not understood/);
});

Deno.test("lazyfs check: a clean prefix with every acknowledged record passes", () => {
  const history = new History();
  const log = records(0, seqs(0, 0, 10));
  history.record(0, [open(0, 0), ...acks(log.slice(0, 6))]);
  const result = history.check(0, listing(log));
  deepEqual(result.problems, []);
  deepEqual(result.damage, []);
  equal(result.acknowledgedChecked, 6);
  equal(result.lost, 0);
});

Deno.test("lazyfs check: a missing or replaced acknowledged record is lost", () => {
  const history = new History();
  const written = records(0, seqs(0, 0, 8));
  history.record(0, [open(0, 0), ...acks(written)]);
  const result = history.check(0, listing(written.slice(0, 5)));
  equal(result.lost, 3);
  equal(result.acknowledgedChecked, 8);
  match(result.problems.join("\n"), /acknowledged record 0\/5 at LSN \d+ is missing/);

  // Cycle 1 recovered only 5 records and wrote over the place of the lost ones.
  const next = new History();
  next.record(0, [open(0, 0), ...acks(written)]);
  next.check(0, listing(written));
  const cut = written[5]!.lsn;
  const rewritten = [...written.slice(0, 5), ...records(cut, seqs(1, 0, 3))];
  next.record(1, [open(0, cut)]);
  const replaced = next.check(1, listing(rewritten));
  ok(replaced.lost > 0);
  match(replaced.problems.join("\n"), /replaced by 1\/0|recovered head 0 and end/);
});

Deno.test("lazyfs check: phantoms, holes and misplaced cycles are not a prefix", () => {
  const log = records(0, seqs(0, 0, 6));
  const hole = [...log.slice(0, 3), ...records(log[3]!.lsn, seqs(0, 4, 6))];
  const history = new History();
  history.record(0, [open(0, 0)]);
  match(history.check(0, listing(hole)).problems.join("\n"), /0\/4 .* follows 0\/2/);

  const foreign = [...log.slice(0, 2), { lsn: log[2]!.lsn, size: 5, id: undefined }];
  const second = new History();
  second.record(0, [open(0, 0)]);
  match(second.check(0, listing(foreign)).problems.join("\n"), /not one the workload wrote/);

  const future = records(0, [{ cycle: 0, seq: 0 }, { cycle: 4, seq: 0 }]);
  const third = new History();
  third.record(0, [open(0, 0)]);
  match(third.check(0, listing(future)).problems.join("\n"), /cycle 4 never opened/);

  // Cycle 1 opened at the end of cycle 0's 3 records, but its first record sits elsewhere.
  const fourth = new History();
  const first = records(0, seqs(0, 0, 3));
  fourth.record(0, [open(0, 0), ...acks(first)]);
  fourth.check(0, listing(first));
  fourth.record(1, [open(0, endOf(first, 0))]);
  const misplaced = [...first.slice(0, 2), ...records(first[2]!.lsn, seqs(1, 0, 2))];
  match(fourth.check(1, listing(misplaced)).problems.join("\n"), /cycle 1 opened at/);

  // A later cycle following on from the end its open recovered is a clean prefix.
  const fifth = new History();
  fifth.record(0, [open(0, 0), ...acks(first)]);
  fifth.check(0, listing(first));
  fifth.record(1, [open(0, endOf(first, 0))]);
  const clean = [...first, ...records(endOf(first, 0), seqs(1, 0, 4))];
  deepEqual(fifth.check(1, listing(clean)).problems, []);
});

Deno.test("lazyfs check: a cycle's own losses are counted apart from earlier cycles'", () => {
  // Cycle 0 lost its last 3 acknowledged records and cycle 1 lost none of its own: the early-ack
  // control must not count cycle 0's loss again as a catch in cycle 1.
  const history = new History();
  const first = records(0, seqs(0, 0, 8));
  history.record(0, [open(0, 0), ...acks(first)]);
  const kept = first.slice(0, 5);
  const check0 = history.check(0, listing(kept));
  equal(check0.lost, 3);
  equal(check0.lostInCycle, 3);
  const second = records(endOf(kept, 0), seqs(1, 0, 4));
  history.record(1, [open(0, endOf(kept, 0)), ...acks(second)]);
  const check1 = history.check(1, listing([...kept, ...second]));
  equal(check1.lostInCycle, 0);
  const check2 = new History();
  check2.record(0, [open(0, 0), ...acks(first)]);
  equal(check2.check(0, listing([])).lostInCycle, 8);
});

Deno.test("lazyfs check: records a reopen recovered count as acknowledged afterwards", () => {
  const history = new History();
  const log = records(0, seqs(0, 0, 6));
  history.record(0, [open(0, 0), ...acks(log.slice(0, 2))]);
  equal(history.check(0, listing(log)).acknowledgedChecked, 2);
  history.record(1, [open(0, endOf(log, 0))]);
  equal(history.acknowledged, 6);
  const result = history.check(1, listing(log.slice(0, 4)));
  equal(result.lost, 2);
});

Deno.test("lazyfs check: an open that recovers another end than the verifier is reported", () => {
  const history = new History();
  const log = records(0, seqs(0, 0, 3));
  history.record(0, [open(0, 0)]);
  history.check(0, listing(log));
  history.record(1, [open(0, log[1]!.lsn)]);
  match(history.check(1, listing(log.slice(0, 1))).problems.join("\n"), /verifier head 0 and end/);
});

Deno.test("lazyfs check: the head may be the last checkpoint or one begun after it", () => {
  const log = records(0, seqs(0, 0, 10));
  const at = (i: number) => log[i]!.lsn;
  const base: WorkloadEvent[] = [
    open(0, 0),
    ...acks(log),
    { kind: "checkpoint-begin", lsn: at(3) },
    { kind: "checkpoint", head: at(3) },
    { kind: "checkpoint-begin", lsn: at(6) },
  ];
  for (const head of [3, 6]) {
    const history = new History();
    history.record(0, base);
    const result = history.check(0, listing(log.slice(head), { head: at(head) }));
    deepEqual(result.problems, [], `head at record ${head}`);
    equal(result.acknowledgedChecked, 10 - head);
  }
  for (const head of [0, 5, 8]) {
    const history = new History();
    history.record(0, base);
    const result = history.check(0, listing(log.slice(head), { head: at(head) }));
    match(result.problems.join("\n"), /neither the last checkpoint/, `head at record ${head}`);
  }
});

/** The lines of a suffix cut at `lsn` when the cycle's next sequence number was `seq`. */
function cut(lsn: number, seq: number, returned = true): WorkloadEvent[] {
  const begin: WorkloadEvent = { kind: "cut-begin", lsn, seq, api: "from" };
  return returned ? [begin, { kind: "cut", lsn }] : [begin];
}

Deno.test("lazyfs check: a returned cut's tail never comes back, and appends go on at the cut", () => {
  // Cycle 0 acknowledged 10 records, cut the last 4 (the call returned) and appended 3 more.
  const log = records(0, seqs(0, 0, 10));
  const at = log[6]!.lsn;
  const after = records(at, seqs(0, 10, 13));
  const events = [open(0, 0), ...acks(log), ...cut(at, 10), ...acks(after)];
  const good = new History();
  good.record(0, events);
  const result = good.check(0, listing([...log.slice(0, 6), ...after]));
  deepEqual(result.problems, []);
  equal(result.acknowledgedChecked, 9);
  equal(result.cutInProgress, undefined);

  // The power failed right after the cut returned, and the dropped records came back: no ack
  // names them any more and they follow on in order, so only the cut's own rule sees them.
  const resurrected = new History();
  resurrected.record(0, [open(0, 0), ...acks(log), ...cut(at, 10)]);
  const back = resurrected.check(0, listing(log));
  match(back.problems.join("\n"), /4 records from 0\/6 at LSN \d+ came back after the cut/);
  equal(back.lost, 0);

  // …also when only the first of them came back, behind records appended after an earlier cut.
  const partly = new History();
  partly.record(0, [open(0, 0), ...acks(log), ...cut(at, 10)]);
  match(
    partly.check(0, listing(log.slice(0, 7))).problems.join("\n"),
    /1 record from 0\/6 .* came back/,
  );

  // The cut's own acknowledged records below it must survive it.
  const short = new History();
  short.record(0, [open(0, 0), ...acks(log), ...cut(at, 10)]);
  const lost = short.check(0, listing(log.slice(0, 4)));
  equal(lost.lost, 2);
  match(lost.problems.join("\n"), /acknowledged record 0\/4 .* is missing/);

  // The first record appended after the cut lies at the cut, nowhere else.
  const shifted = new History();
  shifted.record(0, [open(0, 0), ...acks(log.slice(0, 6)), ...cut(at, 10)]);
  const misplaced = [...log.slice(0, 5), ...records(log[5]!.lsn, seqs(0, 10, 11))];
  match(
    shifted.check(0, listing(misplaced)).problems.join("\n"),
    /0\/10 at LSN \d+, but the cut before its append was at/,
  );
});

Deno.test("lazyfs check: a cut the power interrupted keeps the old tail or the cut one, whole", () => {
  const log = records(0, seqs(0, 0, 10));
  const at = log[6]!.lsn;
  const events = [open(0, 0), ...acks(log), ...cut(at, 10, false)];
  const outcome = (kept: ListedRecord[]) => {
    const history = new History();
    history.record(0, events);
    return history.check(0, listing(kept));
  };
  const old = outcome(log);
  deepEqual(old.problems, []);
  equal(old.cutInProgress, "old-tail");
  equal(old.acknowledgedChecked, 10);
  const done = outcome(log.slice(0, 6));
  deepEqual(done.problems, []);
  equal(done.cutInProgress, "cut");
  equal(done.acknowledgedChecked, 6);
  // A mix: part of the acknowledged tail kept, part gone.
  const mix = outcome(log.slice(0, 8));
  equal(mix.cutInProgress, "old-tail");
  equal(mix.lost, 2);
  // Less than the cut.
  const less = outcome(log.slice(0, 5));
  equal(less.cutInProgress, "cut");
  equal(less.lost, 1);

  // Settled by the check: the next cycle recovers the old tail, and the cut is as if never begun.
  const kept = new History();
  kept.record(0, events);
  kept.check(0, listing(log));
  const next = records(endOf(log, 0), seqs(1, 0, 2));
  kept.record(1, [open(0, endOf(log, 0)), ...acks(next)]);
  const keptResult = kept.check(1, listing([...log, ...next]));
  deepEqual(keptResult.problems, []);
  equal(keptResult.acknowledgedChecked, 12);
  // …or the cut one, and then the tail must stay gone, and cycle 1 cuts before its first append.
  const cutDone = new History();
  cutDone.record(0, events);
  cutDone.check(0, listing(log.slice(0, 6)));
  const again = records(log[3]!.lsn, seqs(1, 0, 2));
  cutDone.record(1, [open(0, at), ...cut(log[3]!.lsn, 0), ...acks(again)]);
  deepEqual(cutDone.check(1, listing([...log.slice(0, 3), ...again])).problems, []);
  const twice = new History();
  twice.record(0, events);
  twice.check(0, listing(log.slice(0, 6)));
  twice.record(1, [open(0, at)]);
  match(twice.check(1, listing(log)).problems.join("\n"), /came back after the cut/);
});

Deno.test("lazyfs check: an ack for a record a cut dropped, and cut lines out of turn, are reported", () => {
  const log = records(0, seqs(0, 0, 6));
  const at = log[3]!.lsn;
  const history = new History();
  history.record(0, [open(0, 0), ...acks(log.slice(0, 3)), ...cut(at, 6), ...acks(log.slice(4))]);
  match(
    history.check(0, listing(log.slice(0, 3))).problems.join("\n"),
    /acknowledged record 0\/4 .* after a cut at LSN \d+ dropped it/,
  );
  const stray = new History();
  stray.record(0, [open(0, 0), { kind: "cut", lsn: 5 }, ...cut(at, 1, false), ...cut(at, 1)]);
  const problems = stray.check(0, listing([])).problems.join("\n");
  match(problems, /ended a cut at LSN 5 it never began/);
  match(problems, /began a cut at LSN \d+ while the one at \d+ ran/);
});

Deno.test("lazyfs check: damage is reported apart from problems, and a side check changes nothing", () => {
  const history = new History();
  const log = records(0, seqs(0, 0, 4));
  history.record(0, [open(0, 0), ...acks(log)]);
  const damaged = history.check(
    0,
    listing(log, { damageFiles: ["w.log.damaged-99"], strictError: "WalError: refused" }),
    false,
  );
  deepEqual(damaged.problems, []);
  equal(damaged.damage.length, 2);
  match(damaged.damage.join("\n"), /"strict" refused: WalError: refused/);
  match(damaged.damage.join("\n"), /w\.log\.damaged-99/);

  // The documented exception: torn first appends of a single file are set aside, not damage.
  const first = history.check(
    0,
    listing(log, { damageFiles: ["w.log.damaged-0"], firstAppendSetAside: "w.log.damaged-0" }),
    false,
  );
  deepEqual(first.damage, []);
  const both = history.check(
    0,
    listing(log, {
      damageFiles: ["w.log.damaged-0", "w.log.damaged-99"],
      firstAppendSetAside: "w.log.damaged-0",
    }),
    false,
  );
  match(both.damage.join("\n"), /set bytes aside in w\.log\.damaged-99$/);

  const failed = history.check(0, { ...listing([]), openError: "WalError: corruption" }, false);
  match(failed.problems.join("\n"), /did not open: WalError: corruption/);
  // Neither side check became the listing the next open is compared with.
  history.check(0, listing(log));
  history.record(1, [open(0, endOf(log, 0))]);
  deepEqual(history.check(1, listing(log)).problems, []);
});

Deno.test("lazyfs: byte locations, and fault commands that fit LazyFS's FIFO reads", () => {
  deepEqual(byteLocation("single", 4096, 5000), { file: "w.log", offset: 5000 });
  deepEqual(byteLocation("segmented", 4096, 5000), {
    file: "s/00000000000000000001.wal",
    offset: 904,
  });
  deepEqual(byteLocation("segmented", 4096, 4095), {
    file: "s/00000000000000000000.wal",
    offset: 4095,
  });
  equal(
    tornOpCommand("/tmp/lz/d/w.log", 4, [1, 3]),
    "lazyfs::torn-op::file=/tmp/lz/d/w.log::parts=4::persist=1,3\n",
  );
  equal(
    tornSeqCommand("/tmp/lz/d/w.log", [2]),
    "lazyfs::torn-seq::op=write::file=/tmp/lz/d/w.log::persist=2\n",
  );
  equal(
    crashCommand("after", "fsync", "/s/head"),
    "lazyfs::crash::timing=after::op=fsync::from_rgx=/s/head\n",
  );
  const long = "/tmp/" + "x".repeat(FIFO_CHUNK);
  throws(() => tornOpCommand(long, 2, [1]), /longer than 99 bytes/);
  // The longest command the suite sends, for a segment under its usual 17-byte disk path.
  const segment = "/tmp/lzabcd/r/d/s/00000000000000000123.wal";
  ok(tornSeqCommand(segment, [1, 2, 4]).length <= FIFO_CHUNK);
});

Deno.test("lazyfs: set-aside bytes with and without a whole file-aligned all-zero sector", () => {
  const bytes = new Uint8Array(1500).fill(7);
  // From LSN 100, the sector [512, 1024) of the file is at [412, 924) of the bytes.
  bytes.fill(0, 412, 924);
  equal(hasZeroSector(bytes, 100), true);
  // One non-zero byte in it, or zeros that straddle two sectors, do not count.
  bytes[700] = 1;
  equal(hasZeroSector(bytes, 100), false);
  const straddling = new Uint8Array(1500).fill(7);
  straddling.fill(0, 500, 1000);
  equal(hasZeroSector(straddling, 100), false);
  equal(hasZeroSector(new Uint8Array(511), 0), false);
  equal(hasZeroSector(new Uint8Array(512), 0), true);
  equal(damagedLsn("w.log.damaged-7881"), 7881);
  equal(damagedLsn("s/damaged-0"), 0);
  equal(damagedLsn("w.log"), undefined);
});

Deno.test("lazyfs: damage after a torn fault is counted, not failed, only past every ack", () => {
  // The torn faults, fired, every damaged-* file at or past the last acknowledged record's end.
  equal(onlyTornFaultDamage("torn-op", true, [4096], 4096), true);
  equal(onlyTornFaultDamage("torn-seq", true, [5000, 9000], 4096), true);
  // Everything else stays fatal: damage before an acknowledged record's end, a name without an
  // LSN, the fault not fired, no damage file (a "strict" refusal alone), another variant.
  equal(onlyTornFaultDamage("torn-op", true, [4095], 4096), false);
  equal(onlyTornFaultDamage("torn-op", true, [5000, 100], 4096), false);
  equal(onlyTornFaultDamage("torn-op", true, [undefined], 0), false);
  equal(onlyTornFaultDamage("torn-op", false, [4096], 4096), false);
  equal(onlyTornFaultDamage("torn-op", true, [], 0), false);
  for (const variant of VARIANTS.filter((v) => v !== "torn-op" && v !== "torn-seq")) {
    equal(onlyTornFaultDamage(variant, true, [4096], 0), false, variant);
  }
});

Deno.test("lazyfs: a refused first write counts only for a single file with nothing acknowledged", () => {
  const refused: Listing = {
    head: 0,
    end: 0,
    records: [],
    damageFiles: [],
    openError: "WalError: Cannot open log: it is not a wal-db log (no intact record anywhere)",
  };
  equal(firstWriteRefused("single", refused, 0), true);
  // Anything acknowledged, a segmented log, or another open error stays a failure.
  equal(firstWriteRefused("single", refused, 1), false);
  equal(firstWriteRefused("segmented", refused, 0), false);
  equal(
    firstWriteRefused("single", { ...refused, openError: "WalError: Permission denied" }, 0),
    false,
  );
  const { openError: _, ...recovered } = refused;
  equal(firstWriteRefused("single", recovered, 0), false);
  // A history may start over only while nothing was acknowledged.
  const history = new History();
  history.restart();
  history.record(0, [open(0, 0), { kind: "ack", lsn: 0, cycle: 0, seq: 0 }]);
  throws(() => history.restart(), /acknowledged/);
});
