// Copyright 2026 the wal-db authors. MIT license.
// Process-kill torture on disk (tests/_torture.ts): at least 100 SIGKILLs of a child that runs
// group-committing writers, checkpoints and truncations on a segmented log with small segments.
//
// Goal: after every kill, the reopened log holds every acknowledged record that no announced
// truncation or checkpoint dropped, as a clean prefix of what was appended, with no phantom.
// `deno task torture --kills N` runs more.

import { equal, ok } from "node:assert/strict";
import { formatTorture, runTorture } from "./_torture.ts";

const KILLS = 120;
/** Two logs at once, one per core of the CI machine. */
const LANES = 2;
const SEED = 1;

Deno.test(`torture: ${KILLS} SIGKILLs of a segmented log with checkpoints lose no acknowledged record`, async () => {
  const summary = await runTorture(KILLS, LANES, SEED);
  console.log(formatTorture(summary.figures));
  equal(summary.failures.length, 0, summary.failures.slice(0, 10).join("\n"));
  equal(summary.figures.acknowledgedLost, 0);
  ok(summary.figures.kills >= KILLS);
  ok(
    summary.figures.checkpoints > 0 && summary.figures.truncations > 0,
    "checkpoints and truncations ran",
  );
  ok(summary.figures.acknowledgedChecked > KILLS, "acknowledged records were checked");
});
