// Copyright 2026 the wal-db authors. MIT license.
// LSN validation: is an LSN a record boundary of the log (or its head or end)? And the
// messages shared by the log's modules. Pure: no `Deno.*`; reads through the `ByteSource` given.

import type { BoundaryIndex } from "./boundary_index.ts";
import { isPermissionError, WalError } from "./errors.ts";
import type { ByteSource, ReadResult, RecordReader } from "./reader.ts";

/** What checking an LSN needs of the log. */
export interface LsnBounds {
  /** The first LSN of the log. */
  readonly head: number;
  /** One past the last record. */
  readonly end: number;
  /** The log's boundary index, and the bytes it checks headers in. */
  readonly index: BoundaryIndex;
  readonly bytes: ByteSource;
}

/**
 * Throws unless `lsn` is a record boundary of the log, or (with `allowEnd`) its head or end.
 *
 * @throws {TypeError} If `lsn` is not a number.
 * @throws {WalError} `"invalid-lsn"`, or `"io"` if reading a header fails (nothing changes).
 */
export function checkBoundary(
  lsn: unknown,
  action: string,
  allowEnd: boolean,
  log: LsnBounds,
): asserts lsn is number {
  if (typeof lsn !== "number") {
    throw new TypeError(`Cannot ${action}: lsn must be a number, got ${typeName(lsn)}`);
  }
  const { head, end } = log;
  const inRange = Number.isInteger(lsn) && lsn >= head && (allowEnd ? lsn <= end : lsn < end);
  // The head and the end are positions even when no record starts there (the "skip" policy
  // may leave damage at the head); `truncateAfter` needs a record, so it asks the index.
  const position = allowEnd && (lsn === end || lsn === head);
  if (inRange && (position || isBoundary(lsn, action, log))) return;
  const range = allowEnd ? `[${head}, ${end}]` : `[${head}, ${end})`;
  throw new WalError(
    "invalid-lsn",
    `Cannot ${action} LSN ${lsn}: ${
      inRange ? "no record starts there" : `it is outside ${range}`
    }; ` +
      `use an LSN returned by append or read from the log`,
    Number.isFinite(lsn) ? { lsn } : {},
  );
}

function isBoundary(lsn: number, action: string, log: LsnBounds): boolean {
  try {
    return log.index.isBoundary(lsn, log.bytes, log.end);
  } catch (error) {
    throw readError(error, action, lsn);
  }
}

/** Reads the next record, turning a failed read into a `WalError` (`"io"`). */
export function readRecord(reader: RecordReader, copy: boolean): ReadResult {
  try {
    return reader.next(copy);
  } catch (error) {
    if (error instanceof WalError || isPermissionError(error)) throw error;
    throw new WalError("io", `Cannot read the log: ${messageOf(error)}`, { cause: error });
  }
}

/** A read that fails while checking an LSN changes nothing: the log stays usable. */
export function readError(error: unknown, action: string, lsn: number): unknown {
  if (error instanceof WalError || isPermissionError(error)) return error;
  return new WalError(
    "io",
    `Cannot ${action} LSN ${lsn}: reading the log failed: ${messageOf(error)}`,
    { lsn, cause: error },
  );
}

/** The message of an error, or the value as text. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** A value's type for a message: `null`, a primitive's `typeof`, or a class name. */
export function typeName(value: unknown): string {
  if (value === null) return "null";
  if (typeof value !== "object") return typeof value;
  return (value as object).constructor?.name ?? "object";
}
