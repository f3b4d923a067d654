// Copyright 2026 the wal-db authors. MIT license.
// The `wal` command line: picks the command, prints help and version, turns errors into exit
// codes. Each command lives in its own file; this one only dispatches.

import denoConfig from "../deno.json" with { type: "json" };
import { type Command, HELP_WIDTH, helpOf, parseArgs, usageOf, wrap } from "./args.ts";
import { EXIT_OK, EXIT_USAGE, exitCodeOf, messageOf, UsageError } from "./errors.ts";
import { statCommand, verifyCommand } from "./inspect.ts";
import { type CliIo, denoIo, OutputClosedError } from "./io.ts";
import { dumpCommand, tailCommand } from "./records.ts";
import { truncateAfterCommand, truncateBeforeCommand } from "./truncate.ts";

/** The package version, from deno.json. */
export const VERSION: string = denoConfig.version;

/** Every command, in the order `wal --help` lists them. */
export const COMMANDS: readonly Command[] = [
  statCommand,
  verifyCommand,
  dumpCommand,
  tailCommand,
  truncateBeforeCommand,
  truncateAfterCommand,
];

/**
 * Runs the `wal` command line and resolves to the exit code; it never exits the process.
 *
 * @param args The arguments after the program name, e.g. `["verify", "app.wal"]`.
 * @param io Where output goes and input comes from; the process's own streams by default.
 * @returns The exit code: 0 success, 64 a usage error, others as each command documents.
 */
export async function main(args: readonly string[], io: CliIo = denoIo()): Promise<number> {
  const [first, ...rest] = args;
  if (first === undefined) {
    io.stderr(topHelp());
    return EXIT_USAGE;
  }
  if (first === "--help" || first === "-h") return print(io, topHelp());
  if (first === "--version" || first === "-V") return print(io, `wal ${VERSION}\n`);
  if (first === "help") return help(rest, io);
  const command = COMMANDS.find((c) => c.spec.name === first);
  if (command === undefined) {
    const what = first.startsWith("-") ? `unknown option ${first}` : `unknown command "${first}"`;
    io.stderr(`wal: ${what}\nRun "wal --help" for the list of commands.\n`);
    return EXIT_USAGE;
  }
  return await run(command, rest, io);
}

async function run(command: Command, args: readonly string[], io: CliIo): Promise<number> {
  const { spec } = command;
  try {
    const parsed = parseArgs(spec, args);
    if (parsed.help) return print(io, helpOf(spec));
    return await command.run(parsed, io);
  } catch (error) {
    // `wal dump | head`: the reader has all it wants; stopping is success.
    if (error instanceof OutputClosedError) return EXIT_OK;
    io.stderr(`wal ${spec.name}: ${messageOf(error)}\n`);
    if (error instanceof UsageError) {
      io.stderr(`Usage: ${usageOf(spec)}\nRun "wal ${spec.name} --help" for more.\n`);
    }
    return exitCodeOf(error);
  }
}

/** `wal help [command]`, the long form of `--help`. */
function help(args: readonly string[], io: CliIo): number {
  const name = args[0];
  if (name === undefined) return print(io, topHelp());
  const command = COMMANDS.find((c) => c.spec.name === name);
  if (command === undefined) {
    io.stderr(`wal help: unknown command "${name}"\n`);
    return EXIT_USAGE;
  }
  return print(io, helpOf(command.spec));
}

function print(io: CliIo, text: string): number {
  io.stdout(text);
  return EXIT_OK;
}

/** The text of `wal --help`. */
function topHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.spec.name.length));
  const commands = COMMANDS.map((c) => `  ${c.spec.name.padEnd(width)}  ${c.spec.summary}`);
  return [
    `wal ${VERSION}: inspect and maintain wal-db logs`,
    "",
    "Usage: wal <command> <path> [options]",
    "",
    "Commands:",
    ...commands,
    "",
    "Options:",
    '  -h, --help     show help; "wal <command> --help" shows a command\'s options',
    "  -V, --version  print the version",
    "",
    wrap(
      "<path> is a log file, or the directory of a segmented log (segment files named by 20 " +
        "digits and .wal); a relative path means the folder the command was run from (under " +
        "deno task too). Read commands never change a byte, take no lock (a writer can start " +
        "while they run) and need --allow-read; the truncate commands lock the log and also " +
        "need --allow-write. Usage errors exit with 64.",
      HELP_WIDTH,
    ),
    "",
  ].join("\n");
}
