// Copyright 2026 the wal-db authors. MIT license.
// The parts an open log is made of (the recovered store, the writer, the follower, the epoch,
// the change signal), built once and shared by the layers of its API.
// I/O core: no `Deno.*`.

import type { BoundaryIndex } from "./boundary_index.ts";
import { ChangeSignal } from "./change_signal.ts";
import type { ResolvedConfig } from "./config.ts";
import { Epoch } from "./epoch.ts";
import { WalError } from "./errors.ts";
import { Follower, type SeenRecords } from "./follower.ts";
import { scanFrames } from "./frame_scan.ts";
import type { RecoveryReport } from "./recovery.ts";
import type { WalStore } from "./store.ts";
import { Writer } from "./writer.ts";

/** What opening a log hands its constructor: the store, recovered, and what recovery learned. */
export interface RecoveredLog {
  readonly store: WalStore;
  readonly config: ResolvedConfig;
  readonly recovery: RecoveryReport;
  readonly index: BoundaryIndex;
  /** For a read-only log: fingerprints of the records recovery read. */
  readonly seen: SeenRecords | undefined;
  /** How long recovery took, in milliseconds (for `wal.stats`). */
  readonly recoveryMs?: number;
  /** Starts the interval-sync timer, if the config asks for one; returns how to stop it. */
  readonly startTimer: (tick: () => void) => (() => void) | undefined;
}

/** The parts of an open log, shared by the layers of its API (`WalCore`, `WalWrites`). */
export interface LogParts extends RecoveredLog {
  readonly writer: Writer;
  /** Set for a read-only log: what it has seen of the log another process writes. */
  readonly follower: Follower | undefined;
  /** Advances with every truncation, at either end; cursors compare it with what they saw. */
  readonly epoch: Epoch;
  /** Wakes tails when the log changes (durable end, truncation, refresh, close). */
  readonly changes: ChangeSignal;
  /** Set once `close()` was called. */
  readonly state: { closed: boolean };
}

/** Builds the parts of a log around a recovered store. */
export function assemble(log: RecoveredLog): LogParts {
  const epoch = new Epoch();
  const changes = new ChangeSignal();
  const { config, recovery, index, seen } = log;
  const writer = new Writer(log.store, config, index, epoch, changes, log.recoveryMs);
  // In the gathered write mode the writer puts a store in front of the recovered one; every
  // part of the log must use that one, so that reads see the gathered records.
  const store = writer.store;
  // The log's scanner (the shim's when it loaded): a follower may catch up a long run at once.
  const scanner = config.scanner ?? scanFrames;
  return {
    ...log,
    store,
    writer,
    follower: seen === undefined
      ? undefined
      : new Follower(store, index, epoch, seen, recovery.endLsn, config.maxRecordSize, scanner),
    epoch,
    changes,
    state: { closed: false },
  };
}

/** Throws `"closed"` once the log is closed, else `"read-only"` or `"failed"` if it refuses. */
export function checkWritable(parts: LogParts): void {
  if (parts.state.closed) throw closedError();
  parts.writer.checkWritable();
}

/** The error every use of a closed log throws. */
export function closedError(): WalError {
  return new WalError("closed", "The log is closed; open it again to use it");
}
