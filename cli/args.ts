// Copyright 2026 the wal-db authors. MIT license.
// Command-line parsing: what a command accepts (its spec), and argv checked against it.
// Pure: no I/O; every mistake is a UsageError naming the offending argument.

import { UsageError } from "./errors.ts";
import type { CliIo } from "./io.ts";

/** One option a command accepts. */
export interface FlagSpec {
  /** The long name, without dashes: `from` is `--from`. */
  readonly name: string;
  /** A one-letter alias, without the dash: `f` is `-f`. */
  readonly short?: string;
  /** What follows the flag: nothing (a switch), an integer, or one of a few words. */
  readonly value: "none" | "integer" | readonly string[];
  /** The placeholder in usage lines, e.g. `LSN`. */
  readonly placeholder?: string;
  /** One line of help. */
  readonly help: string;
}

/** What a command accepts and how it is described. */
export interface CommandSpec {
  /** The word after `wal`. */
  readonly name: string;
  /** One line for `wal --help`. */
  readonly summary: string;
  /** The required arguments, in order, by their placeholder (`path`, `LSN`). */
  readonly positionals: readonly string[];
  /** The options. `--help` is implied. */
  readonly flags: readonly FlagSpec[];
  /** Paragraphs after the option list: exit codes, permissions. */
  readonly details: string;
}

/** A command: its spec and what it does with arguments that matched it. */
export interface Command {
  /** What it accepts. */
  readonly spec: CommandSpec;
  /** Runs it; resolves to the exit code. */
  run(args: ParsedArgs, io: CliIo): Promise<number>;
}

/** Arguments that matched a spec. */
export interface ParsedArgs {
  /** The positionals, as many as the spec names. */
  readonly positionals: readonly string[];
  /** Each flag given, by long name: `true` for a switch, else its value. */
  readonly flags: ReadonlyMap<string, string | number | true>;
  /** True when `--help` or `-h` was given; nothing else was checked then. */
  readonly help: boolean;
}

/**
 * Checks `args` (what follows the command name) against `spec`. Accepts `--name value`,
 * `--name=value`, `-x value` and `--` before positionals that start with a dash.
 *
 * @throws {UsageError} For an unknown flag, a missing or malformed value, a repeated flag, or
 * the wrong number of positionals.
 */
export function parseArgs(spec: CommandSpec, args: readonly string[]): ParsedArgs {
  if (args.some((arg) => arg === "--help" || arg === "-h")) {
    return { positionals: [], flags: new Map(), help: true };
  }
  const positionals: string[] = [];
  const flags = new Map<string, string | number | true>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "--") {
      positionals.push(...args.slice(i + 1));
      break;
    }
    if (!isFlag(arg)) {
      positionals.push(arg);
      continue;
    }
    const { flag, inline } = findFlag(spec, arg);
    if (flags.has(flag.name)) throw new UsageError(`--${flag.name} is given twice`);
    if (flag.value === "none") {
      if (inline !== undefined) throw new UsageError(`--${flag.name} takes no value`);
      flags.set(flag.name, true);
      continue;
    }
    const text = inline ?? args[++i];
    if (text === undefined) throw new UsageError(`--${flag.name} needs a value`);
    flags.set(flag.name, valueOf(flag, text));
  }
  checkPositionals(spec, positionals);
  return { positionals, flags, help: false };
}

/** A negative number is a value, not a flag, so `--from -1` reaches the range check. */
function isFlag(arg: string): boolean {
  return arg.startsWith("-") && arg.length > 1 && !/^-\d/.test(arg);
}

function findFlag(spec: CommandSpec, arg: string): { flag: FlagSpec; inline: string | undefined } {
  const equals = arg.indexOf("=");
  const name = equals === -1 ? arg : arg.slice(0, equals);
  const inline = equals === -1 ? undefined : arg.slice(equals + 1);
  const flag = name.startsWith("--")
    ? spec.flags.find((f) => f.name === name.slice(2))
    : spec.flags.find((f) => f.short !== undefined && f.short === name.slice(1));
  if (flag === undefined) {
    throw new UsageError(`unknown option ${name} for "wal ${spec.name}"`);
  }
  return { flag, inline };
}

function valueOf(flag: FlagSpec, text: string): string | number {
  if (flag.value === "integer") return parseInteger(text, `--${flag.name}`);
  if (flag.value === "none" || flag.value.includes(text)) return text;
  throw new UsageError(
    `--${flag.name} must be one of ${flag.value.join(", ")}, got "${text}"`,
  );
}

function checkPositionals(spec: CommandSpec, positionals: readonly string[]): void {
  const expected = spec.positionals;
  if (positionals.length < expected.length) {
    throw new UsageError(`missing ${expected[positionals.length]}`);
  }
  if (positionals.length > expected.length) {
    throw new UsageError(`unexpected argument "${positionals[expected.length]}"`);
  }
}

/**
 * Parses a non-negative integer written in decimal digits (an LSN, a count, a size).
 *
 * @throws {UsageError} If `text` is anything else, or too large to be exact.
 */
export function parseInteger(text: string, what: string): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(value)) {
    throw new UsageError(`${what} must be a non-negative integer, got "${text}"`);
  }
  return value;
}

/** The integer value of flag `name`, or `undefined` when it was not given. */
export function integerFlag(args: ParsedArgs, name: string): number | undefined {
  const value = args.flags.get(name);
  return typeof value === "number" ? value : undefined;
}

/** The word value of flag `name`, or `fallback` when it was not given. */
export function wordFlag<T extends string>(args: ParsedArgs, name: string, fallback: T): T {
  const value = args.flags.get(name);
  return typeof value === "string" ? value as T : fallback;
}

/** True when switch `name` was given. */
export function switchFlag(args: ParsedArgs, name: string): boolean {
  return args.flags.get(name) === true;
}

/** The usage line of a command: `wal dump <path> [--from LSN] ...`. */
export function usageOf(spec: CommandSpec): string {
  const parts = [`wal ${spec.name}`, ...spec.positionals.map((p) => `<${p}>`)];
  for (const flag of spec.flags) {
    const value = flagValueText(flag);
    parts.push(`[--${flag.name}${value === "" ? "" : ` ${value}`}]`);
  }
  return parts.join(" ");
}

/** The full `--help` text of a command. */
export function helpOf(spec: CommandSpec): string {
  const rows = spec.flags.map((flag) => {
    const names = `${flag.short === undefined ? "    " : `-${flag.short}, `}--${flag.name}`;
    const value = flagValueText(flag);
    return [`${names}${value === "" ? "" : ` ${value}`}`, flag.help];
  });
  rows.push(["-h, --help", "show this help"]);
  const width = Math.max(...rows.map(([left]) => left!.length));
  const indent = " ".repeat(width + 4);
  const options = rows.map(([left, right]) => {
    const text = wrap(right!, Math.max(HELP_WIDTH - indent.length, HELP_RIGHT_WIDTH_MIN));
    return `  ${left!.padEnd(width)}  ${text.replaceAll("\n", `\n${indent}`)}`;
  });
  return [
    `${spec.summary}`,
    "",
    usageLines(spec),
    "",
    "Options:",
    ...options,
    "",
    ...spec.details.split("\n").map((paragraph) => wrap(paragraph, HELP_WIDTH)),
    "",
  ].join("\n");
}

/** Help text is wrapped to fit a classic 80-column terminal. */
export const HELP_WIDTH = 80;

/** Option descriptions get at least this much room, however long the option names are. */
const HELP_RIGHT_WIDTH_MIN = 30;

/** Breaks `text` into lines of at most `width` characters, at spaces. */
export function wrap(text: string, width: number): string {
  return wrapWords(text.split(" "), width);
}

/** Joins `words` with spaces into lines of at most `width` characters; a long word stays whole. */
function wrapWords(words: readonly string[], width: number): string {
  const lines: string[] = [];
  let line = "";
  for (const word of words) {
    if (line !== "" && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line === "" ? word : `${line} ${word}`;
    }
  }
  lines.push(line);
  return lines.join("\n");
}

/** The usage line wrapped between options, continuation lines aligned after the command. */
function usageLines(spec: CommandSpec): string {
  const prefix = `Usage: wal ${spec.name} `;
  const parts = usageOf(spec).slice(prefix.length - "Usage: ".length).split(/ (?=\[)/);
  const text = wrapWords(parts, HELP_WIDTH - prefix.length);
  return prefix + text.replaceAll("\n", `\n${" ".repeat(prefix.length)}`);
}

function flagValueText(flag: FlagSpec): string {
  if (flag.value === "none") return "";
  if (flag.value === "integer") return flag.placeholder ?? "N";
  return flag.value.join("|");
}
