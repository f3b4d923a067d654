// Copyright 2026 the wal-db authors. MIT license.
// `deno task fuzz`: fuzzes recovery and iteration (tests/_fuzz.ts) for a number of seconds.
//
//   deno task fuzz [--seconds N] [--seed FIRST]
//   WAL_SEED=n deno task fuzz       replays input n
//
// Without --seed the first seed is drawn at random (and printed). Exits with 1 on any failure.

import { parseToolArgs, runTool } from "./_tool_args.ts";
import {
  addFuzzFigures,
  emptyFuzzFigures,
  fuzzMany,
  fuzzOne,
  fuzzReplayCommand,
  type FuzzResult,
} from "../tests/_fuzz.ts";
import { seedFrom } from "../tests/_rng.ts";

const USAGE = `deno task fuzz [--seconds N] [--seed FIRST]
WAL_SEED=n deno task fuzz       replays input n

Fuzzes recovery and iteration (tests/_fuzz.ts); without --seed the first seed is drawn at
random and printed. Exits 1 on any failure, 2 for a bad command line.`;
const SECONDS_DEFAULT = 60;
/** Inputs per slice between progress lines. */
const SLICE_INPUTS = 5_000;
const FAILURES_SHOWN_MAX = 20;

/** The command line, or undefined for `--help`. */
function parse(): { seconds: number; seed: number } | undefined {
  const values = parseToolArgs(Deno.args, {
    seconds: { type: "string", default: String(SECONDS_DEFAULT) },
    seed: { type: "string" },
  });
  if (values === undefined) return undefined;
  const seconds = Number(values.seconds);
  const seed = seedFrom(values.seed as string | undefined);
  if (!(seconds > 0)) throw new RangeError("--seconds: a positive number");
  return { seconds, seed };
}

function replay(seed: number): number {
  const result = fuzzOne(seed);
  console.log(result.figures);
  console.log(
    result.failure === undefined ? `seed ${seed}: ok` : `seed ${seed}: ${result.failure}`,
  );
  return result.failure === undefined ? 0 : 1;
}

function main({ seconds, seed }: { seconds: number; seed: number }): number {
  const replaySeed = Deno.env.get("WAL_SEED");
  if (replaySeed !== undefined) return replay(Number(replaySeed));
  console.log(`fuzz: ${seconds} s from seed ${seed}`);
  const started = performance.now();
  const deadline = started + seconds * 1000;
  const figures = emptyFuzzFigures();
  const failures: FuzzResult[] = [];
  while (performance.now() < deadline) {
    const slice = fuzzMany(seed + figures.inputs, SLICE_INPUTS, deadline);
    addFuzzFigures(figures, slice.figures);
    failures.push(...slice.failures);
    const elapsed = (performance.now() - started) / 1000;
    console.log(
      `  ${figures.inputs} inputs, ${failures.length} failed, ` +
        `${Math.round(figures.inputs / elapsed)} inputs/s`,
    );
  }
  const elapsed = (performance.now() - started) / 1000;
  console.log(
    `inputs ${figures.inputs} (segment directories ${figures.segmented}) in ${
      elapsed.toFixed(1)
    } s, ` +
      `${Math.round(figures.inputs / elapsed)} inputs/s; opened ${figures.opened}, refused ` +
      `${figures.refused}, records read ${figures.recordsRead}, largest read ${figures.largestRead} B, ` +
      `large inputs ${figures.large} (largest ${figures.largestInput} B)`,
  );
  for (const failure of failures.slice(0, FAILURES_SHOWN_MAX)) {
    console.log(
      `seed ${failure.seed}: ${failure.failure}\n  replay: ${fuzzReplayCommand(failure.seed)}`,
    );
  }
  console.log(`fuzz: ${failures.length === 0 ? "ok" : `${failures.length} FAILED`}`);
  return failures.length === 0 ? 0 : 1;
}

Deno.exit(await runTool(USAGE, parse, main));
