// Copyright 2026 the wal-db authors. MIT license.
// Command-line parsing shared by the long-running tools (sim, fuzz, torture): `--help` prints
// the usage and exits 0; an unknown option or a bad value prints one line and the usage to
// stderr and exits 2, instead of an uncaught stack trace.

import { parseArgs } from "node:util";

/** Exit status of a command line the tool cannot run. */
export const USAGE_EXIT = 2;

/** The options a tool accepts: every one a string or a boolean flag, as `parseArgs` takes. */
export type ToolOptions = Record<
  string,
  { type: "string" | "boolean"; default?: string | boolean }
>;

/** Why a command line was refused: the tool prints it with its usage. */
export class UsageError extends Error {
  override name = "UsageError";
}

/**
 * Parses `args` against `options`. Returns undefined when `--help` was asked for (the caller
 * prints the usage and exits 0). Throws {@linkcode UsageError} for anything `parseArgs` refuses.
 */
export function parseToolArgs(
  args: string[],
  options: ToolOptions,
): Record<string, string | boolean | undefined> | undefined {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: { ...options, help: { type: "boolean", short: "h", default: false } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  if (values.help === true) return undefined;
  return values as Record<string, string | boolean | undefined>;
}

/**
 * Runs a tool: `parse` reads the command line (undefined means `--help`: the usage is printed
 * and the status is 0), then `main` runs with what it returned. A {@linkcode UsageError} or a
 * `RangeError` thrown by `parse` (a bad value) prints its message and the usage to stderr and
 * gives {@linkcode USAGE_EXIT}; errors from `main` propagate untouched.
 */
export async function runTool<T>(
  usage: string,
  parse: () => T | undefined,
  main: (parsed: T) => number | Promise<number>,
): Promise<number> {
  let parsed: T | undefined;
  try {
    parsed = parse();
  } catch (error) {
    if (!(error instanceof UsageError || error instanceof RangeError)) throw error;
    console.error(`error: ${error.message}\n\n${usage}`);
    return USAGE_EXIT;
  }
  if (parsed === undefined) {
    console.log(usage);
    return 0;
  }
  return await main(parsed);
}
