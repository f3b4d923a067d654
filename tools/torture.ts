// Copyright 2026 the wal-db authors. MIT license.
// `deno task torture`: SIGKILLs a child writing a segmented log on disk, again and again, and
// checks the log after each kill (tests/_torture.ts).
//
//   deno task torture [--kills N] [--lanes L] [--seed S]
//
// Lanes are independent logs run at the same time (default: one per core). Exits with 1 on any
// failure; a failure names its lane seed and round.

import { parseToolArgs, runTool } from "./_tool_args.ts";
import { formatTorture, runTorture } from "../tests/_torture.ts";
import { seedFrom } from "../tests/_rng.ts";

const USAGE = `deno task torture [--kills N] [--lanes L] [--seed S]

SIGKILLs children writing segmented logs on disk and checks each log after every kill
(tests/_torture.ts); lanes run at the same time (default: one per core). Exits 1 on any
failure, 2 for a bad command line.`;
const KILLS_DEFAULT = 1_000;
const PROGRESS_STEPS = 10;
const FAILURES_SHOWN_MAX = 20;

/** The command line, or undefined for `--help`. */
function parse(): { kills: number; lanes: number; seed: number } | undefined {
  const values = parseToolArgs(Deno.args, {
    kills: { type: "string", default: String(KILLS_DEFAULT) },
    lanes: { type: "string", default: String(navigator.hardwareConcurrency) },
    seed: { type: "string" },
  });
  if (values === undefined) return undefined;
  const kills = Number(values.kills);
  const lanes = Number(values.lanes);
  const seed = seedFrom(values.seed as string | undefined);
  if (!Number.isSafeInteger(kills) || kills < 1) throw new RangeError("--kills: N >= 1");
  if (!Number.isSafeInteger(lanes) || lanes < 1) throw new RangeError("--lanes: L >= 1");
  return { kills, lanes, seed };
}

async function main({ kills, lanes, seed }: { kills: number; lanes: number; seed: number }) {
  console.log(`torture: ${kills} kills on ${lanes} lanes from seed ${seed}`);
  const started = performance.now();
  const every = Math.max(1, Math.floor(kills / PROGRESS_STEPS));
  const summary = await runTorture(kills, lanes, seed, (done) => {
    if (done % every === 0) console.log(`  ${done}/${kills} kills`);
  });
  console.log(formatTorture(summary.figures));
  console.log(`elapsed ${((performance.now() - started) / 1000).toFixed(1)} s`);
  for (const failure of summary.failures.slice(0, FAILURES_SHOWN_MAX)) console.log(failure);
  console.log(
    `torture: ${summary.failures.length === 0 ? "ok" : `${summary.failures.length} FAILED`}`,
  );
  return summary.failures.length === 0 ? 0 : 1;
}

Deno.exit(await runTool(USAGE, parse, main));
