// Copyright 2026 the wal-db authors. MIT license.
// `deno task sim`: runs the crash simulation (tests/_sim.ts) for as many schedules as asked.
//
//   deno task sim [--schedules N] [--seed FIRST] [--faults PERCENT]
//   WAL_SEED=n deno task sim [--faults PERCENT]    replays schedule n and prints its trace
//   deno task sim --checkpoints [--schedules N] [--seed FIRST]
//                                                  the checkpoint simulation instead
//                                                  (tests/_sim_checkpoint.ts); WAL_SEED works too
//
// Without --seed the first seed is drawn at random (and printed), so every run explores new
// schedules; the test suite runs a fixed range. Exits with 1 when any schedule fails.

import { parseToolArgs, runTool } from "./_tool_args.ts";
import {
  formatFailure,
  formatFigures,
  runSchedule,
  runSchedules,
  type SimOptions,
} from "../tests/_sim.ts";
import { seedFrom } from "../tests/_rng.ts";
import { runCheckpointSchedule } from "../tests/_sim_checkpoint.ts";

const USAGE = `deno task sim [--schedules N] [--seed FIRST] [--faults PERCENT]
WAL_SEED=n deno task sim [--faults PERCENT]    replays schedule n and prints its trace
deno task sim --checkpoints [--schedules N] [--seed FIRST]
                                               the checkpoint simulation (WAL_SEED works too)

Runs the crash simulation (tests/_sim.ts); without --seed the first seed is drawn at random
and printed. Exits 1 when a schedule fails, 2 for a bad command line.`;
const SCHEDULES_DEFAULT = 10_000;
const PROGRESS_STEPS = 10;
const FAILURES_SHOWN_MAX = 20;

interface SimArgs {
  schedules: number;
  seed: number;
  options: SimOptions;
  checkpoints: boolean;
}

/** The command line, or undefined for `--help`. */
function parse(): SimArgs | undefined {
  const values = parseToolArgs(Deno.args, {
    schedules: { type: "string", default: String(SCHEDULES_DEFAULT) },
    seed: { type: "string" },
    faults: { type: "string", default: "0" },
    checkpoints: { type: "boolean", default: false },
  });
  if (values === undefined) return undefined;
  const schedules = Number(values.schedules);
  const faultPercent = Number(values.faults);
  const seed = seedFrom(values.seed as string | undefined);
  if (!Number.isSafeInteger(schedules) || schedules < 1) {
    throw new RangeError("--schedules: N >= 1");
  }
  if (!(faultPercent >= 0 && faultPercent <= 100)) throw new RangeError("--faults: 0 to 100");
  return { schedules, seed, options: { faultPercent }, checkpoints: values.checkpoints === true };
}

/** The checkpoint simulation: `schedules` seeds from `seed`, or the one seed of WAL_SEED. */
async function checkpointRun(schedules: number, seed: number): Promise<number> {
  const replaySeed = Deno.env.get("WAL_SEED");
  const seeds = replaySeed === undefined
    ? Array.from({ length: schedules }, (_, i) => seed + i)
    : [Number(replaySeed)];
  console.log(`sim --checkpoints: ${seeds.length} schedules from seed ${seeds[0]}`);
  let failed = 0;
  const totals = { checkpoints: 0, crashesInCheckpoint: 0, failedSnapshotWrites: 0, acked: 0 };
  for (const one of seeds) {
    const result = await runCheckpointSchedule(one, replaySeed !== undefined);
    if (replaySeed !== undefined) console.log(result.trace.join("\n"));
    totals.checkpoints += result.checkpoints;
    totals.crashesInCheckpoint += result.crashesInCheckpoint;
    totals.failedSnapshotWrites += result.failedSnapshotWrites;
    totals.acked += result.acknowledgedChecked;
    if (result.failure === undefined) continue;
    failed++;
    if (failed <= FAILURES_SHOWN_MAX) {
      console.log(
        `seed ${one}: ${result.failure}\n  replay: WAL_SEED=${one} deno task sim --checkpoints`,
      );
    }
  }
  console.log(
    `checkpoints ${totals.checkpoints}, crashes inside a checkpoint ${totals.crashesInCheckpoint}, ` +
      `snapshot writes failed ${totals.failedSnapshotWrites}, acknowledged records checked ` +
      `${totals.acked}`,
  );
  console.log(`sim --checkpoints: ${failed === 0 ? "ok" : `${failed} FAILED`}`);
  return failed === 0 ? 0 : 1;
}

async function replay(seed: number, options: SimOptions): Promise<number> {
  const result = await runSchedule(seed, { ...options, trace: true });
  console.log(result.trace.join("\n"));
  console.log(formatFigures(result.figures));
  if (result.failure === undefined) {
    console.log(`seed ${seed}: ok`);
    return 0;
  }
  console.log(formatFailure(result, options));
  return 1;
}

async function main({ schedules, seed, options, checkpoints }: SimArgs): Promise<number> {
  if (checkpoints) return await checkpointRun(schedules, seed);
  const replaySeed = Deno.env.get("WAL_SEED");
  if (replaySeed !== undefined) return await replay(Number(replaySeed), options);
  console.log(`sim: ${schedules} schedules from seed ${seed}, faults ${options.faultPercent}%`);
  const every = Math.max(1, Math.floor(schedules / PROGRESS_STEPS));
  const summary = await runSchedules(seed, schedules, options, (done, s) => {
    if (done % every !== 0 && done !== schedules) return;
    const rate = Math.round(done / (s.elapsedMs / 1000));
    console.log(`  ${done}/${schedules} schedules, ${s.failures.length} failed, ${rate}/s`);
  });
  console.log(formatFigures(summary.figures));
  console.log(`elapsed ${(summary.elapsedMs / 1000).toFixed(1)} s`);
  for (const failure of summary.failures.slice(0, FAILURES_SHOWN_MAX)) {
    console.log(formatFailure(failure, options));
  }
  const verdict = summary.failures.length === 0 ? "ok" : `${summary.failures.length} FAILED`;
  console.log(`sim: ${verdict}`);
  return summary.failures.length === 0 ? 0 : 1;
}

Deno.exit(await runTool(USAGE, parse, main));
