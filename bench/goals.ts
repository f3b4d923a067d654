// Copyright 2026 the wal-db authors. MIT license.
// Issue 12's goals table: the rows the standalone bench modules print with --json, gathered by
// `deno task bench` into one table of docs/BENCHMARKS.md, and the replay throughput chart.

import { fileURLToPath } from "node:url";
import { formatNumber, formatRatio, messageOf, runJson } from "./run.ts";

/** One measured path beside its anchor: what every bench module prints with --json. */
export interface GoalRow {
  /** Which table the row belongs to, e.g. "replay", "crc", "append", "segments". */
  section: string;
  /** What was measured, in words. */
  path: string;
  value: number;
  unit: string;
  /** What it is measured against, in the same run. */
  anchor: string;
  anchorValue: number;
  /** value / anchorValue (or the module's own ratio). */
  ratio: number;
  /** The goal, in words, e.g. "≥ 1 GB/s" or "≤ 2× anchor"; null for a row with none. */
  goal: string | null;
  met: boolean | null;
}

/** A bench module `deno task bench` runs for goal rows, and what to call it. */
export interface GoalModule {
  /** The file, relative to bench/. */
  file: string;
  /** Extra arguments, e.g. --quick. */
  args: string[];
}

/** The outcome of running one module: its rows, or why there are none. */
export interface GatheredModule {
  file: string;
  rows: GoalRow[];
  note: string | undefined;
  seconds: number;
}

/**
 * Runs each module that exists as `deno run -A bench/<file> --json` and gathers its rows; a
 * module that is absent, fails or prints no rows gets a note instead.
 */
export async function gatherGoals(
  modules: GoalModule[],
  log: (line: string) => void,
): Promise<GatheredModule[]> {
  const gathered: GatheredModule[] = [];
  for (const module of modules) {
    const path = fileURLToPath(new URL(`./${module.file}`, import.meta.url));
    const started = performance.now();
    const done = (rows: GoalRow[], note: string | undefined) =>
      gathered.push({
        file: module.file,
        rows,
        note,
        seconds: (performance.now() - started) / 1e3,
      });
    try {
      await Deno.stat(path);
    } catch {
      log(`skipping bench/${module.file}: absent`);
      done([], "absent from this tree: not measured");
      continue;
    }
    log(`running bench/${module.file} --json ${module.args.join(" ")}`);
    try {
      const output = await runJson(Deno.execPath(), ["run", "-A", path, "--json", ...module.args]);
      const rows = Array.isArray(output) ? output.filter(isGoalRow) : [];
      done(rows, rows.length === 0 ? "printed no goal rows" : undefined);
    } catch (error) {
      log(`bench/${module.file} failed: ${messageOf(error)}`);
      done([], `failed: ${messageOf(error).split("\n")[0]}`);
    }
  }
  return gathered;
}

function isGoalRow(value: unknown): value is GoalRow {
  const row = value as Partial<GoalRow> | null;
  return typeof row === "object" && row !== null && typeof row.path === "string" &&
    typeof row.unit === "string";
}

function formatValue(value: number, unit: string): string {
  if (!Number.isFinite(value)) return "n/a";
  const digits = Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : 2;
  return `${formatNumber(value, digits)} ${unit}`;
}

function cell(text: string): string {
  return text.replaceAll("|", "\\|");
}

/** The goals table in Markdown, with a line per module that produced no rows. */
export function renderGoals(gathered: GatheredModule[]): string {
  const lines = [
    "| section | path | wal-db | anchor, same run | anchor value | ratio | goal | met |",
    "| --- | --- | ---: | --- | ---: | ---: | --- | :---: |",
  ];
  for (const module of gathered) {
    for (const row of module.rows) {
      lines.push(
        `| ${cell(row.section)} | ${cell(row.path)} | ${formatValue(row.value, row.unit)} | ` +
          `${cell(row.anchor)} | ${formatValue(row.anchorValue, row.unit)} | ` +
          `${formatRatio(row.ratio)} | ${cell(row.goal ?? "—")} | ${
            row.met === null ? "—" : row.met ? "yes" : "**no**"
          } |`,
      );
    }
  }
  const notes = gathered.map((m) =>
    `- bench/${m.file}: ${m.note ?? `${m.rows.length} rows`} (${m.seconds.toFixed(0)} s)`
  );
  return [...lines, "", "Modules:", "", ...notes].join("\n");
}

// ---------------------------------------------------------------------------------------------
// The replay chart: horizontal bars of GB/s, the C scan drawn as the reference.

const CHART = { width: 820, left: 330, right: 90, top: 50, bar: 26, gap: 12, bottom: 50 };

function escapeXml(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");
}

/** A bar chart of the GB/s rows of the replay section and their anchor. */
export function renderReplayChart(rows: GoalRow[]): string {
  const throughput = rows.filter((row) =>
    row.section === "replay" && row.unit === "GB/s" && Number.isFinite(row.value)
  );
  const bars = [
    ...(throughput.length > 0
      ? [{ label: throughput[0]!.anchor, value: throughput[0]!.anchorValue, color: "#555555" }]
      : []),
    ...throughput.map((row, index) => ({
      label: row.path.replace(/\s*\(wall clock.*\)$/, "").replaceAll("`", ""),
      value: row.value,
      color: ["#d62728", "#ff7f0e", "#1f77b4", "#2ca02c"][index % 4]!,
    })),
  ];
  const high = Math.max(1, ...bars.map((bar) => bar.value)) * 1.1;
  const plotWidth = CHART.width - CHART.left - CHART.right;
  const height = CHART.top + bars.length * (CHART.bar + CHART.gap) + CHART.bottom;
  const x = (value: number) => CHART.left + value / high * plotWidth;
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${CHART.width}" height="${height}" ` +
    `viewBox="0 0 ${CHART.width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="20" y="${CHART.top - 22}" font-size="15" font-weight="bold">` +
    `Replay and open of a log of 256 B records: GB/s of CPU time (higher is better)</text>`,
  ];
  for (let tick = 0; tick <= high; tick += high > 4 ? 1 : 0.5) {
    const at = x(tick).toFixed(1);
    const bottom = height - CHART.bottom;
    out.push(
      `<line x1="${at}" x2="${at}" y1="${CHART.top - 6}" y2="${bottom}" stroke="#e4e4e4"/>`,
      `<text x="${at}" y="${bottom + 16}" text-anchor="middle">${tick}</text>`,
    );
  }
  bars.forEach((bar, index) => {
    const top = CHART.top + index * (CHART.bar + CHART.gap);
    const label = bar.label.length > 52 ? `${bar.label.slice(0, 50)}…` : bar.label;
    out.push(
      `<text x="${CHART.left - 8}" y="${top + CHART.bar / 2}" text-anchor="end" ` +
        `dominant-baseline="middle">${escapeXml(label)}</text>`,
      `<rect x="${CHART.left}" y="${top}" width="${(x(bar.value) - CHART.left).toFixed(1)}" ` +
        `height="${CHART.bar}" fill="${bar.color}"/>`,
      `<text x="${(x(bar.value) + 6).toFixed(1)}" y="${top + CHART.bar / 2}" ` +
        `dominant-baseline="middle">${bar.value.toFixed(2)}</text>`,
    );
  });
  out.push(
    `<text x="${CHART.left + plotWidth / 2}" y="${height - 14}" text-anchor="middle">` +
      `GB/s (CPU time of the process, page cache warm)</text>`,
    "</svg>",
  );
  return out.join("\n") + "\n";
}
