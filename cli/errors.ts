// Copyright 2026 the wal-db authors. MIT license.
// The CLI's exit codes, its two error classes, and how any error becomes a message and a code.

import { WalError } from "../mod.ts";

/**
 * Exit codes. `verify` gives 1 and 2 their own meaning (torn tail, damage); other commands use
 * 2 for an LSN that is not a record boundary. 64 and 70 follow BSD's sysexits.h.
 */
export const EXIT_OK = 0;
/** `verify`: only a torn tail; `truncate-*`: the confirmation was declined. */
export const EXIT_TORN_OR_DECLINED = 1;
/** `verify`: damage followed by intact records; other commands: an invalid LSN. */
export const EXIT_DAMAGED_OR_INVALID_LSN = 2;
/** The log cannot be read: missing, not a log, no permission, locked, a damaged head file. */
export const EXIT_UNREADABLE = 3;
/** `tail -f`: the writer cut the log below what was printed, or a checkpoint passed it. */
export const EXIT_TRUNCATED = 4;
/** Bad command line, or a command that does not apply (sysexits EX_USAGE). */
export const EXIT_USAGE = 64;
/** A bug in wal-db or its CLI (sysexits EX_SOFTWARE). */
export const EXIT_INTERNAL = 70;

/** A command line the CLI cannot act on; printed with the command's usage line. */
export class UsageError extends Error {
  /** Always `"UsageError"`. */
  override name = "UsageError";
}

/** A failure with a message for the user and the exit code it ends with. */
export class CliError extends Error {
  /** Always `"CliError"`. */
  override name = "CliError";
  /** The code the process exits with. */
  readonly exitCode: number;

  /**
   * Creates the error.
   *
   * @param message What happened, for stderr.
   * @param exitCode The code the process exits with.
   */
  constructor(message: string, exitCode: number) {
    super(message);
    this.exitCode = exitCode;
  }
}

/** The exit code an error thrown by a command ends the process with. */
export function exitCodeOf(error: unknown): number {
  if (error instanceof UsageError) return EXIT_USAGE;
  if (error instanceof CliError) return error.exitCode;
  if (error instanceof WalError) {
    return error.kind === "invalid-lsn" ? EXIT_DAMAGED_OR_INVALID_LSN : EXIT_UNREADABLE;
  }
  if (isOsError(error)) return EXIT_UNREADABLE;
  return EXIT_INTERNAL;
}

/**
 * The line printed on stderr for an error thrown by a command. Read commands take no lock, so
 * only the truncate commands meet a locked log, and they say so in their own words.
 */
export function messageOf(error: unknown): string {
  if (exitCodeOf(error) === EXIT_INTERNAL) {
    // Not a condition the CLI knows: keep the stack, it is what a bug report needs.
    return error instanceof Error
      ? `internal error: ${error.stack ?? error.message}`
      : String(error);
  }
  return error instanceof Error ? error.message : String(error);
}

/** Errors from the operating system and missing permissions: the log cannot be read. */
function isOsError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  return error.name === "NotCapable" || Object.values(Deno.errors).some((k) => error instanceof k);
}
