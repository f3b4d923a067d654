// Copyright 2026 the wal-db authors. MIT license.
// The writer: the end of the log, its durable watermark, the sticky failure state (kept in
// write_failure.ts), truncation at either end, and the epoch every truncation advances.
// I/O core: talks to its store through the `WalStore` interface.

import type { BoundaryIndex } from "./boundary_index.ts";
import type { ChangeSignal } from "./change_signal.ts";
import type { ResolvedConfig } from "./config.ts";
import { HEADER_SIZE, LOG_SIZE_LIMIT, NATIVE_FRAME_SIZE_MAX } from "./constants.ts";
import type { Epoch } from "./epoch.ts";
import { WalError } from "./errors.ts";
import { FrameScratch } from "./frame_scratch.ts";
import { GatherStore } from "./gather_store.ts";
import { GroupCommit } from "./group_commit.ts";
import { TruncationGate } from "./truncation_gate.ts";
import { readError, typeName } from "./lsn.ts";
import { decodeHeader, encodeFrame, type FrameChecksum, frameSize } from "./record.ts";
import type { WalStats } from "./stats.ts";
import { StatsRecorder } from "./stats.ts";
import type { WalStore } from "./store.ts";
import { WriteFailure } from "./write_failure.ts";

/**
 * The write side of a log. The `Wal` checks arguments' LSNs and that the log is open; the
 * writer does the rest. Every truncation it makes (a suffix cut, a new head, the cut back to
 * the durable end after a failure) advances the epoch, so cursors notice it.
 */
export class Writer {
  readonly #store: WalStore;
  readonly #config: ResolvedConfig;
  readonly #commit: GroupCommit;
  readonly #index: BoundaryIndex;
  readonly #epoch: Epoch;
  readonly #changes: ChangeSignal;
  readonly #checksum: FrameChecksum;
  readonly #stats: StatsRecorder;
  /** Set in the gathered write mode: `#store` is then this, in front of the real store. */
  readonly #gather: GatherStore | undefined;
  readonly #scratch = new FrameScratch();
  /** `#stats.appends` when the flush in flight began (one flush runs at a time). */
  #flushAppends = 0;
  #flushStarted = 0;
  /** The sticky failed state, and the cut back to the durable end it makes once. */
  readonly #failures: WriteFailure;
  /** One truncation at a time (see `truncateBeforeAsync`). */
  readonly #gate = new TruncationGate();
  /** Set while an asynchronous suffix cut runs: the log ends here, and nothing is appended. */
  #cutTo: number | undefined;

  constructor(
    raw: WalStore,
    config: ResolvedConfig,
    index: BoundaryIndex,
    epoch: Epoch,
    changes: ChangeSignal,
    recoveryMs = 0,
  ) {
    this.#gather = config.writeMode === "gathered" && !config.readOnly
      ? new GatherStore(raw, (cause, end) => void this.#failures.failWrite(cause, end))
      : undefined;
    const store = this.#gather ?? raw;
    this.#store = store;
    this.#config = config;
    this.#index = index;
    this.#epoch = epoch;
    this.#changes = changes;
    this.#checksum = config.checksum;
    this.#stats = new StatsRecorder(recoveryMs);
    this.#commit = new GroupCommit(
      {
        get appendedEnd() {
          return store.size;
        },
        flush: () => this.#timedFlush(),
        fail: (cause) => this.#failures.fail(cause, "flush the log to stable storage"),
        changed: () => changes.notify(),
      },
      store.size,
      config.commitDelayMs,
    );
    this.#failures = new WriteFailure({ store, commit: this.#commit, index, epoch, changes });
  }

  /** The store the log uses: the one it was opened on, or the gathering one in front of it. */
  get store(): WalStore {
    return this.#store;
  }

  /** A snapshot of the counters; see `Wal.stats`. */
  get stats(): WalStats {
    return this.#stats.snapshot(this.#gather?.writes ?? this.#stats.writes);
  }

  /** One past the last record; never past where a failed append started. */
  get end(): number {
    const size = this.#cutTo ?? this.#store.size;
    const failedAt = this.#failures.endAfterFailure;
    return failedAt === undefined ? size : Math.min(size, failedAt);
  }

  /** The end of the durable prefix. */
  get durableEnd(): number {
    return this.#commit.durableEnd;
  }

  /**
   * Set while a flush or an asynchronous truncation runs: settles when they do (the store must
   * not close before). Never rejects.
   */
  get settled(): Promise<unknown> | undefined {
    const [flush, cut] = [this.#commit.settled, this.#gate.settled];
    return cut === undefined || flush === undefined ? flush ?? cut : Promise.all([flush, cut]);
  }

  /** Throws `"read-only"` or `"failed"` when the log refuses writes. */
  checkWritable(): void {
    if (this.#config.readOnly) {
      throw new WalError("read-only", "Cannot write: the log was opened with readOnly");
    }
    const failure = this.#failures.error;
    if (failure !== undefined) {
      throw new WalError(
        "failed",
        `The log failed earlier, so it refuses writes and syncs: ${failure.message}`,
        { cause: failure.cause },
      );
    }
  }

  /**
   * In the gathered mode, writes out the gathered records now, so that a later step (a check
   * that reads headers, a truncation) is not the one to fail on their write: a failure fails
   * the log here, as a failed append does.
   */
  writeOut(): void {
    const gather = this.#gather;
    if (gather === undefined) return;
    try {
      gather.writeOut();
    } catch (error) {
      throw this.#failures.failWrite(error, gather.writtenEnd);
    }
  }

  /** One tick of the interval policy: flush if anything is not durable yet. */
  backgroundSync(): void {
    if (this.#failures.error !== undefined) return;
    // A failure here fails the log (through the coordinator); callers see it on their next call.
    this.#commit.waitFor(this.#store.size).catch(() => {});
  }

  /** Encodes and writes one record; returns its LSN. */
  append(data: Uint8Array): number {
    if (this.#cutTo !== undefined) this.#gate.check("append");
    this.#checkRecord(data);
    const lsn = this.#store.size;
    const size = frameSize(data.length);
    this.#checkRoom(size);
    const buffer = this.#scratch.bufferFor(size);
    if (this.#store.appendFrame === undefined || size > NATIVE_FRAME_SIZE_MAX) {
      encodeFrame(data, buffer, 0, this.#checksum);
      this.#write(this.#scratch.viewOf(buffer, size));
    } else {
      // The store fills the header: the checksum and the write are one call into native code.
      buffer.set(data, HEADER_SIZE);
      this.#write(this.#scratch.viewOf(buffer, size), data.length);
    }
    this.#index.add(lsn);
    this.#stats.appends++;
    this.#stats.appendedBytes += size;
    return lsn;
  }

  /** Checks every record, then writes them all with one write; returns their LSNs. */
  appendBatch(records: readonly Uint8Array[]): number[] {
    if (this.#cutTo !== undefined) this.#gate.check("append");
    if (!Array.isArray(records)) {
      throw new TypeError("Cannot append batch: records must be an array of Uint8Array");
    }
    let size = 0;
    for (const record of records) {
      this.#checkRecord(record);
      size += frameSize(record.length);
    }
    this.#checkRoom(size);
    const target = this.#scratch.bufferFor(size);
    const lsns: number[] = [];
    let offset = 0;
    for (const record of records) {
      lsns.push(this.#store.size + offset);
      offset += encodeFrame(record, target, offset, this.#checksum);
    }
    if (size > 0) this.#write(target.subarray(0, size));
    for (const lsn of lsns) this.#index.add(lsn);
    this.#stats.appends += lsns.length;
    this.#stats.appendedBytes += size;
    return lsns;
  }

  /** Resolves once all appended is durable (group commit); during a suffix cut, after it. */
  sync(): Promise<void> {
    const cut = this.#cutTo === undefined ? undefined : this.#gate.settled;
    if (cut === undefined) return this.#commit.waitFor(this.#store.size);
    const after = cut.then(() => this.#commit.waitFor(this.#store.size));
    // As a batch's promise: a caller that holds it while awaiting the cut (which fails the log
    // or meets a close) has not attached its handler yet; the rejection is its to see, not an
    // unhandled one that ends the process.
    after.catch(() => {});
    return after;
  }

  /** Makes everything appended so far durable, blocking the thread. */
  syncSync(): void {
    if (this.#cutTo !== undefined) this.#gate.check("sync the log (syncSync)");
    const end = this.#store.size;
    if (end <= this.#commit.durableEnd) return;
    const stats = this.#stats;
    const appends = stats.appends;
    const started = stats.now();
    try {
      this.#store.flushSync();
    } catch (error) {
      throw this.#failures.fail(error, "flush the log to stable storage");
    }
    const ms = stats.now() - started;
    stats.syncBlockedMs += ms;
    stats.flushed(ms, appends);
    this.#commit.markDurable(end);
  }

  /** The store's flush, timed and counted for `stats` (one runs at a time: group commit). */
  #timedFlush(): Promise<void> {
    this.#flushAppends = this.#stats.appends;
    this.#flushStarted = this.#stats.now();
    return this.#store.flush().then(this.#flushDone);
  }

  /** Made once, not per flush. */
  readonly #flushDone = (): void => {
    this.#stats.flushed(this.#stats.now() - this.#flushStarted, this.#flushAppends);
  };

  /** Cuts the log at `lsn`, which the caller checked is the end of a record (or the head). */
  truncateAt(lsn: number): void {
    this.#gate.check(`truncate the log at LSN ${lsn}`);
    if (lsn === this.#store.size) return;
    // Before the store's first step: a store of several files may fail after cutting some of
    // them, and the failure then cuts back to the durable end, which must not pass `lsn` (the
    // bytes after it may already be gone). The records after `lsn` were being dropped anyway.
    this.#commit.cutting(lsn);
    try {
      this.#store.truncate(lsn);
    } catch (error) {
      throw this.#failures.fail(error, `truncate the log at LSN ${lsn}`);
    }
    this.#commit.truncated(lsn);
    this.#stats.truncated();
    this.#index.truncateAfter(lsn);
    this.#epoch.cutAfter(lsn);
    this.#changes.notify();
  }

  /** Where `truncateAfter(lsn)` cuts: the end of the record at `lsn` (a checked record). */
  endOfRecord(lsn: number): number {
    const header = new Uint8Array(HEADER_SIZE);
    try {
      this.#store.readAt(lsn, header);
    } catch (error) {
      throw readError(error, "truncate after", lsn);
    }
    // Not re-checked as a boundary: a range the "skip" policy left in place may start there.
    return lsn + frameSize(decodeHeader(header, 0).length);
  }

  /**
   * {@linkcode Writer.truncateAt} with the store's work off the main thread; see
   * `Wal.truncateFromAsync`. The log ends at `lsn` in this turn (cursors are told now), and
   * appends wait for the promise; a store without `truncateAsync` does the blocking cut.
   */
  truncateAtAsync(lsn: number): Promise<void> {
    const cut = this.#store.truncateAsync?.bind(this.#store);
    const action = `truncate the log at LSN ${lsn}`;
    if (lsn === this.#store.size || cut === undefined) {
      try {
        return Promise.resolve(this.truncateAt(lsn));
      } catch (error) {
        return Promise.reject(error);
      }
    }
    return this.#gate.run(action, async () => {
      this.#cutTo = lsn; // in the caller's turn (up to the first await)
      this.#commit.cutting(lsn);
      this.#stats.truncated();
      this.#index.truncateAfter(lsn);
      this.#epoch.cutAfter(lsn);
      this.#changes.notify();
      try {
        // As one of the log's flushes: a flush beside it could take its write-back error.
        await this.#commit.exclusive(async () => {
          try {
            await cut(lsn);
          } catch (error) {
            // Failed inside the work: the callers queued behind it must meet a failed log
            // when it ends, not start a flush on the log it is failing.
            throw this.#failures.fail(error, action);
          }
          this.#commit.markDurable(lsn);
        });
      } catch (error) {
        throw this.#failures.fail(error, action);
      } finally {
        this.#cutTo = undefined;
      }
    });
  }

  /** Moves the head to `lsn`, a checked boundary; see `Wal.truncateBefore`. */
  truncateBefore(lsn: number): number {
    this.#gate.check(`truncate before LSN ${lsn}`);
    const before = this.#store.head;
    if (lsn === before) return lsn;
    // The new head must be durable before it is written, and the log must know it is: should
    // a later step fail, the log is cut back to its durable end, which must not fall below a
    // head that may already be on disk.
    if (lsn > this.#commit.durableEnd) this.syncSync();
    let head: number;
    try {
      head = this.#store.truncateBefore(lsn);
    } catch (error) {
      throw this.#failures.fail(error, `move the head of the log to LSN ${lsn}`);
    }
    // A store that keeps one contiguous file returns its head unchanged and drops nothing
    // (see WalStore): say so, rather than let a checkpoint believe it reclaimed space.
    if (head === before) {
      throw new WalError(
        "unsupported",
        `Cannot truncate before LSN ${lsn}: this log keeps one contiguous file and cannot drop ` +
          `its prefix without rewriting the whole log; nothing was changed. Use a segmented ` +
          `log (Wal.openSegmented) for checkpoints that reclaim space`,
        { lsn },
      );
    }
    this.#headMoved(head, lsn);
    return head;
  }

  /** The head moved to `head` (asked for `lsn`): cursors below it are told. */
  #headMoved(head: number, lsn: number): void {
    if (head === lsn) this.#index.truncateBefore(head);
    this.#epoch.headMoved();
    this.#changes.notify();
  }

  /**
   * Moves the head to `lsn`, a checked boundary, with the flushes off the main thread; see
   * `Wal.truncateBeforeAsync`. A store without `truncateBeforeAsync` does the blocking one.
   */
  truncateBeforeAsync(lsn: number): Promise<number> {
    const move = this.#store.truncateBeforeAsync?.bind(this.#store);
    const action = `truncate before LSN ${lsn}`;
    if (lsn === this.#store.head || move === undefined) {
      try {
        return Promise.resolve(this.truncateBefore(lsn));
      } catch (error) {
        return Promise.reject(error);
      }
    }
    return this.#gate.run(action, async () => {
      // As in `truncateBefore`: the new head is durable, and known to be, before it is written,
      // through the log's own flushes (one at a time; the store flushes none of the log).
      if (lsn > this.#commit.durableEnd) await this.#commit.waitFor(lsn);
      try {
        // Cursors are told in the turn the store moves the head, before it removes segments.
        return await move(lsn, (head) => this.#headMoved(head, lsn));
      } catch (error) {
        throw this.#failures.fail(error, `move the head of the log to LSN ${lsn}`);
      }
    });
  }

  /** Throws `"busy"` while an asynchronous truncation runs (before any other check). */
  checkIdle(action: string): void {
    this.#gate.check(action);
  }

  /** Rejects waiters whose flush has not started with `error`; see `Wal.close`. */
  abandon(error: WalError): void {
    this.#commit.abandon(error);
  }

  #write(frames: Uint8Array, unframedPayload?: number): void {
    const end = this.#store.size;
    this.#stats.writes++;
    try {
      // With a payload length: one frame whose header the store's `appendFrame` fills.
      if (unframedPayload === undefined) this.#store.append(frames);
      else this.#store.appendFrame!(frames, unframedPayload);
    } catch (error) {
      throw this.#failures.failWrite(error, end);
    }
  }

  #checkRecord(data: unknown): asserts data is Uint8Array {
    if (!(data instanceof Uint8Array)) {
      throw new TypeError(`Cannot append record: data must be a Uint8Array, got ${typeName(data)}`);
    }
    if (data.length > this.#config.maxRecordSize) {
      throw new WalError(
        "record-too-large",
        `Cannot append record: size is ${data.length} bytes, which exceeds maxRecordSize ` +
          `${this.#config.maxRecordSize}; split it or open the log with a larger maxRecordSize`,
        { lsn: this.#store.size },
      );
    }
  }

  #checkRoom(size: number): void {
    if (this.#store.size + size > LOG_SIZE_LIMIT) {
      throw new RangeError(`Cannot append: the log would pass ${LOG_SIZE_LIMIT} bytes`);
    }
  }
}
