// Copyright 2026 the wal-db authors. MIT license.
// Cursors: `iter`, `iterFrom` and `tail` read the log through one of these. A cursor holds the
// truncation epoch it last saw and its position, and never yields a record the log no longer
// holds: when a cut passes it, it throws `kind: "truncated"` instead.
// Pure: no `Deno.*`; the only I/O is through the `ByteSource` it is given.

import type { ChangeSignal } from "./change_signal.ts";
import type { Epoch } from "./epoch.ts";
import { WalError } from "./errors.ts";
import { type FrameScanner, scanFrames } from "./frame_scan.ts";
import { type ByteSource, type ReadResult, RecordReader } from "./reader.ts";
import { frameSize } from "./record.ts";

/** A log sequence number: the byte offset where a record's frame starts. */
export type Lsn = number;

/** One record read back from the log. */
export interface Entry {
  /** Where the record's frame starts. */
  lsn: Lsn;
  /**
   * The payload. It belongs to the caller: the log never reuses it. It may be a view into an
   * array shared with the other payloads of one read-ahead chunk (use `data.slice()` before
   * transferring its buffer, or to keep a few payloads of a long replay without their chunk).
   */
  data: Uint8Array;
}

/**
 * Where the record after `entry` starts: its LSN plus its frame (an 8-byte header and the
 * payload). Resume reading there, or compare it with `durableLsn`.
 *
 * @param entry An entry read from the log.
 * @returns The LSN one past the entry's frame.
 *
 * @example
 * ```ts
 * import { entryEnd, MemStore, Wal } from "@wal-db/wal-db";
 * import { equal } from "node:assert/strict";
 *
 * using wal = Wal.withStore(new MemStore());
 * wal.append(new Uint8Array(3));
 * const second = wal.append(new Uint8Array(5));
 * const [first] = wal.iter();
 * equal(entryEnd(first!), second);
 * ```
 */
export function entryEnd(entry: Entry): Lsn {
  return entry.lsn + frameSize(entry.data.length);
}

/** Options for `Wal.tail`. */
export interface TailOptions {
  /** Ends the iteration when aborted. */
  signal?: AbortSignal;
  /**
   * How often a read-only log looks for new records, in milliseconds. A writer's log is told
   * about each flush and never polls.
   *
   * @default {50}
   */
  pollMs?: number;
}

/** What a cursor needs of the log it reads: the writer's or the follower's view of it. */
export interface CursorSource {
  /** Where the bytes are read from. */
  readonly bytes: ByteSource;
  /** The first LSN of the log now. */
  readonly head: Lsn;
  /** Where the intact records end now. */
  readonly nextLsn: Lsn;
  /** Where the records a tail may deliver end now (the durable end for a writer). */
  readonly durableLsn: Lsn;
  /** Advances with every truncation. */
  readonly epoch: Epoch;
  /** Wakes tails when the log changes. */
  readonly changes: ChangeSignal;
  /** For `RecordReader`. */
  readonly maxRecordSize: number;
  /**
   * Checks the frames of each chunk a cursor reads ahead; `scanFrames` (TypeScript) when
   * absent. The shim's scanner has the same contract.
   */
  readonly scanner?: FrameScanner | undefined;
  /** True for a read-only log, which learns of changes by polling `refresh`. */
  readonly following: boolean;
  /** True once the log is closed. */
  readonly isClosed: boolean;
  /** Throws `"closed"` once the log is closed. */
  checkOpen(): void;
  /** Reads the next record, turning a failed read into a `WalError`. */
  read(reader: RecordReader, copy: boolean): ReadResult;
  /** Where reading resumes after a damaged range left in place that starts at `lsn`. */
  resumeAfter(lsn: Lsn): Lsn | undefined;
  /**
   * For a follower: re-reads the head and end from the medium, noting any cut. `damaged`: a
   * cursor just read damage below the end it knew, which a writer's cut in progress leaves.
   */
  refresh(damaged?: boolean): void;
}

/**
 * Where a cursor stands: the epoch it last checked, the next LSN it reads, and for `iter` the
 * end it was asked to read up to (a tail has none).
 */
export interface CursorState {
  epoch: number;
  position: Lsn;
  readonly end: Lsn | undefined;
}

/**
 * Throws `"truncated"` when a cut since the cursor last looked removed a record it yielded or
 * (for `iter`, up to its end) was to yield; returns true when the epoch moved all the same, so
 * the caller must drop what it has buffered and read again from its position.
 */
export function checkCursor(source: CursorSource, cursor: CursorState): boolean {
  const head = source.head;
  if (cursor.position < head) {
    throw new WalError(
      "truncated",
      `A checkpoint moved the head of the log to LSN ${head}, past this reader's position ` +
        `(${cursor.position}): the records between are gone. Read again from the head`,
      { lsn: head },
    );
  }
  const now = source.epoch.value;
  if (cursor.epoch === now) return false;
  const cut = source.epoch.lowestCutSince(cursor.epoch, head);
  if (cut !== undefined && (cut < cursor.position || cut < (cursor.end ?? -1))) {
    // A checkpoint since the cut may have moved the head past it: read again from the head.
    const from = Math.max(Math.min(cut, cursor.position), head);
    throw new WalError(
      "truncated",
      `The log was cut at LSN ${cut} while this reader was at LSN ${cursor.position}: ` +
        `records it ${
          cut < cursor.position ? "yielded" : "was to yield"
        } are gone, and others may have replaced them. Read again from LSN ${from}`,
      { lsn: from },
    );
  }
  cursor.epoch = now;
  return true;
}

/** Replays `[cursor.position, cursor.end)`; see `Wal.iter`. */
export function* entries(source: CursorSource, cursor: CursorState): IterableIterator<Entry> {
  let reader = readerOf(source, cursor, cursor.end!);
  const epoch = source.epoch;
  for (;;) {
    source.checkOpen();
    // While the epoch stands still and the head is behind the cursor, `checkCursor` would find
    // nothing: it is called only when one of the two changed (one getter, not the cut history).
    const moved = epoch.value !== cursor.epoch || cursor.position < source.head;
    if (moved && checkCursor(source, cursor)) {
      reader = readerOf(source, cursor, cursor.end!);
    }
    // Most records: one the scanner already vouched for, with no result object and no read.
    const lsn = cursor.position;
    const data = reader.nextVouched();
    if (data !== undefined) {
      cursor.position = reader.position;
      yield { lsn, data };
      continue;
    }
    const result = readChecked(source, cursor, reader);
    if (result === undefined) {
      // Past a skipped range, in the same reader: its read window may already hold what follows.
      reader.seek(cursor.position);
      continue;
    }
    if (result.kind === "end") return;
    cursor.position = reader.position;
    yield { lsn: result.lsn, data: result.data! };
  }
}

/** Follows the log from `cursor.position`; see `Wal.tail`. */
export function follow(
  source: CursorSource,
  cursor: CursorState,
  signal: AbortSignal | undefined,
  pollMs: number,
): AsyncIterableIterator<Entry> {
  return new Follow(source, cursor, signal, pollMs);
}

/** The reader a tail's generator reads through now, shared with the fast path of `Follow`. */
interface FollowState {
  reader: RecordReader | undefined;
}

/** `%AsyncIteratorPrototype%`: async generators inherit `Symbol.asyncDispose` from it. */
const ASYNC_ITERATOR_PROTOTYPE: object = Object.getPrototypeOf(
  Object.getPrototypeOf((async function* () {}).prototype),
);

/**
 * The iterator of `follow`. An async generator costs several promise turns per record (the
 * `yield` awaits, then settles the caller's promise), which made a tail's catch-up several
 * times slower than `iter`. So `next` hands out a record the scanner already vouched for at
 * once, in a settled promise, whenever the generator would do just that: no call of it is in
 * flight, the log is open, the tail is not aborted, and neither the epoch nor the head moved.
 * Everything else (the first reader, checks after a move, the slow path, waiting) is the
 * generator's, which reads through the same reader and cursor, so the two never disagree on
 * where the tail stands. It keeps the generator's protocol: calls answer in order, and once
 * the generator is done (or threw, or returned) so is this.
 */
class Follow implements AsyncIterableIterator<Entry> {
  readonly #source: CursorSource;
  readonly #cursor: CursorState;
  readonly #signal: AbortSignal | undefined;
  readonly #state: FollowState = { reader: undefined };
  readonly #slow: AsyncGenerator<Entry, void, undefined>;
  /** The last call handed to the generator while it is in flight: later calls queue behind. */
  #pending: Promise<unknown> | undefined;
  #done = false;

  constructor(
    source: CursorSource,
    cursor: CursorState,
    signal: AbortSignal | undefined,
    pollMs: number,
  ) {
    this.#source = source;
    this.#cursor = cursor;
    this.#signal = signal;
    this.#slow = followSlowly(source, cursor, signal, pollMs, this.#state);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<Entry, undefined>> {
    const reader = this.#state.reader;
    if (!this.#done && this.#pending === undefined && reader !== undefined) {
      const source = this.#source;
      const cursor = this.#cursor;
      if (
        !source.isClosed && !(this.#signal?.aborted ?? false) &&
        source.epoch.value === cursor.epoch && cursor.position >= source.head
      ) {
        const lsn = cursor.position;
        const data = reader.nextVouched();
        if (data !== undefined) {
          cursor.position = reader.position;
          return Promise.resolve({ done: false, value: { lsn, data } });
        }
      }
    }
    return this.#track(this.#slow.next());
  }

  return(): Promise<IteratorResult<Entry, undefined>> {
    return this.#track(this.#slow.return(undefined));
  }

  throw(error?: unknown): Promise<IteratorResult<Entry, undefined>> {
    return this.#track(this.#slow.throw(error));
  }

  /** Notes a call in flight in the generator, and when it leaves the generator done. */
  #track(
    call: Promise<IteratorResult<Entry, void>>,
  ): Promise<IteratorResult<Entry, undefined>> {
    const settled = call.then(
      (result) => {
        if (result.done) this.#done = true;
        if (this.#pending === settled) this.#pending = undefined;
        return result as IteratorResult<Entry, undefined>;
      },
      (error) => {
        this.#done = true;
        if (this.#pending === settled) this.#pending = undefined;
        throw error;
      },
    );
    this.#pending = settled;
    return settled;
  }
}
Object.setPrototypeOf(Follow.prototype, ASYNC_ITERATOR_PROTOTYPE);

/** The whole of a tail, every check included; see `Follow` for what skips it. */
async function* followSlowly(
  source: CursorSource,
  cursor: CursorState,
  signal: AbortSignal | undefined,
  pollMs: number,
  state: FollowState,
): AsyncGenerator<Entry, void, undefined> {
  const stopped = () => source.isClosed || (signal?.aborted ?? false);
  while (!stopped()) {
    checkCursor(source, cursor);
    const visible = source.durableLsn;
    if (cursor.position < visible) {
      const reader = state.reader = readerOf(source, cursor, visible);
      const epoch = source.epoch;
      // As in `entries`: the full check only once the epoch or the head moved.
      const still = () => epoch.value === cursor.epoch && cursor.position >= source.head;
      while (!stopped() && (still() || !checkCursor(source, cursor))) {
        const lsn = cursor.position;
        const data = reader.nextVouched();
        if (data !== undefined) {
          cursor.position = reader.position;
          yield { lsn, data };
          continue;
        }
        const result = readChecked(source, cursor, reader);
        if (result === undefined && cursor.position <= visible) {
          reader.seek(cursor.position);
          continue;
        }
        if (result === undefined || result.kind === "end") break;
        cursor.position = reader.position;
        yield { lsn: result.lsn, data: result.data! };
      }
      // Past this reader's range (or a move): the fast path waits for the next one.
      state.reader = undefined;
      continue;
    }
    await source.changes.wait(signal, source.following ? pollMs : undefined);
    if (source.following && !source.isClosed) source.refresh();
  }
}

function readerOf(source: CursorSource, cursor: CursorState, end: Lsn): RecordReader {
  return new RecordReader(
    source.bytes,
    cursor.position,
    Math.max(end, cursor.position),
    source.maxRecordSize,
    source.scanner ?? scanFrames,
  );
}

/**
 * Reads one record. Damage the "skip" policy left in place is stepped over (undefined: read
 * again from the new position). Other damage is, for a follower, most likely the writer
 * cutting the log under it: the follower refreshes, and a cut it finds is reported as
 * `"truncated"`. Anything else is damage that appeared after the log was opened.
 */
function readChecked(
  source: CursorSource,
  cursor: CursorState,
  reader: RecordReader,
): Exclude<ReadResult, { kind: "damage" }> | undefined {
  let result: ReadResult;
  try {
    result = source.read(reader, true);
  } catch (error) {
    if (source.following && !(error instanceof WalError && error.kind !== "io")) {
      source.refresh(true);
      checkCursor(source, cursor);
    }
    throw error;
  }
  if (result.kind !== "damage") return result;
  const resume = source.resumeAfter(result.lsn);
  if (resume !== undefined) {
    cursor.position = resume;
    return undefined;
  }
  if (source.following) {
    source.refresh(true);
    checkCursor(source, cursor);
    // No cut found: the writer has not finished the record here yet.
    if (result.lsn >= source.nextLsn) return { kind: "end", lsn: result.lsn };
  }
  throw new WalError(
    "corruption",
    `Cannot read record at LSN ${result.lsn}: ${result.reason}. The log was damaged after ` +
      `it was opened; reopen it to recover`,
    { lsn: result.lsn },
  );
}
