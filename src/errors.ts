// Copyright 2026 the wal-db authors. MIT license.
// The one error class callers catch. Pure: no I/O and no `Deno.*`.

/**
 * What went wrong, as a stable string a caller can switch on.
 *
 * | kind | meaning |
 * | --- | --- |
 * | `"io"` | an operating-system call failed (the OS error is the `cause`) |
 * | `"record-too-large"` | a record exceeds `maxRecordSize`; nothing was written |
 * | `"corruption"` | the bytes on disk are damaged or are not a wal-db log |
 * | `"closed"` | the log was used after `close()` |
 * | `"locked"` | another handle, in this process or another, has the log open |
 * | `"failed"` | a write or flush failed: the log was cut back to its durable end; reopen it to go on (an open is refused while a failed flush's bytes could not be cut off) |
 * | `"invalid-lsn"` | an LSN that is not a record boundary of the log (or not in it) |
 * | `"read-only"` | a write to a log opened with `readOnly` |
 * | `"encoding"` | a typed record that its codec cannot encode or decode |
 * | `"unsupported"` | the log's store cannot do it (`truncateBefore` on a single file); nothing changed |
 * | `"busy"` | a truncation was called while an asynchronous one (`truncateBeforeAsync`, `truncateFromAsync`, `truncateAfterAsync`) still runs, or an append or `syncSync` during an asynchronous suffix cut; nothing changed: await it first |
 * | `"truncated"` | a cursor (`iter`, `iterFrom`, `tail`) was passed by a cut: records it yielded or was to yield are gone; `lsn` is where to read again (the cut, or the new head after a checkpoint) |
 *
 * The set may grow in later versions: handle unknown kinds as errors.
 */
export type WalErrorKind =
  | "io"
  | "record-too-large"
  | "corruption"
  | "closed"
  | "locked"
  | "failed"
  | "invalid-lsn"
  | "read-only"
  | "encoding"
  | "unsupported"
  | "busy"
  | "truncated";

/** Extra fields a {@linkcode WalError} may carry. */
export interface WalErrorOptions {
  /** The log position the error is about, when one is known. */
  lsn?: number;
  /** The underlying error, usually a `Deno.errors.*` from the operating system. */
  cause?: unknown;
}

/**
 * The error wal-db throws for every condition a caller is expected to handle. Bad arguments
 * throw `TypeError` or `RangeError` instead, and missing permissions surface unchanged as
 * `Deno.errors.NotCapable` (or `PermissionDenied` when the operating system refuses).
 *
 * @example Telling kinds apart
 * ```ts
 * import { MemStore, Wal, WalError } from "@wal-db/wal-db";
 * import { equal } from "node:assert/strict";
 *
 * const wal = Wal.withStore(new MemStore(), { maxRecordSize: 4 });
 * try {
 *   wal.append(new Uint8Array(5));
 * } catch (error) {
 *   if (!(error instanceof WalError)) throw error;
 *   equal(error.kind, "record-too-large");
 *   equal(error.isFatal, false);
 * }
 * ```
 */
export class WalError extends Error {
  /** Always `"WalError"`. */
  override name = "WalError";
  /** What went wrong; see {@linkcode WalErrorKind}. */
  readonly kind: WalErrorKind;
  /** The log position the error is about, when one is known. */
  readonly lsn: number | undefined;

  /**
   * Creates an error of the given kind.
   *
   * @param kind What went wrong.
   * @param message What happened and what to do about it.
   * @param options The LSN and underlying error, when known.
   */
  constructor(kind: WalErrorKind, message: string, options: WalErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.kind = kind;
    this.lsn = options.lsn;
  }

  /**
   * True when the log cannot be trusted to go on as it is: after a `"failed"` write or flush
   * the log must be reopened, and `"corruption"` needs a decision by the operator.
   */
  get isFatal(): boolean {
    return this.kind === "failed" || this.kind === "corruption";
  }
}

/** True for a missing permission: it surfaces unchanged, as Deno's message names the flag. */
export function isPermissionError(error: unknown): boolean {
  return error instanceof Error &&
    (error.name === "NotCapable" || error.name === "PermissionDenied");
}

/**
 * True for an error an I/O call reported: one with a `code` (Deno's `"ENOSPC"`, `"EIO"`; the
 * shim's negative errno; a directory's stand-in for them), itself or as the cause of a `WalError`
 * of kind `"io"`. What a best-effort write (the head spare, the flush record) may absorb; any
 * other error (a bug, a closed handle, a permission, a test disk's power loss) surfaces.
 */
export function isIoError(error: unknown): boolean {
  if (isPermissionError(error)) return false;
  if (error instanceof WalError) return error.kind === "io" && isIoError(error.cause);
  if (!(error instanceof Error) || !("code" in error)) return false;
  const code = error.code;
  return typeof code === "string" || typeof code === "number";
}
