// Copyright 2026 the wal-db authors. MIT license.
// What a read-only log (a follower) remembers of the records it has seen, so that a refresh can
// tell that a writer in another process cut the log under it, and where.
// I/O core: no `Deno.*`; talks to its store through the `WalStore` interface.

import type { BoundaryIndex } from "./boundary_index.ts";
import { BOUNDARY_SAMPLE_INTERVAL, HEADER_SIZE } from "./constants.ts";
import type { Epoch } from "./epoch.ts";
import type { FrameScanner } from "./frame_scan.ts";
import { type ByteSource, type HeaderLookup, type ReadResult, RecordReader } from "./reader.ts";
import { type Mark, MarkList } from "./mark_list.ts";
import { type RecordRun, sampleRun } from "./record_run.ts";
import type { WalStore } from "./store.ts";
import { decodeHeader, frameSize } from "./record.ts";

/** The length of a pending sample whose header `seal` must read. */
const UNREAD = -1;

/**
 * Fingerprints of the records a follower has seen: the first after the head, every
 * {@linkcode BOUNDARY_SAMPLE_INTERVAL}th after it, and the last. A writer in another process
 * has no epoch the follower can read, so a refresh compares these with the bytes now there: a
 * fingerprint that no longer matches means the log was cut at or before that record.
 *
 * What it cannot see: a writer that cut the log and appended records identical, byte for byte
 * where the fingerprints are, to those it removed. Records with distinct payloads (a Raft term
 * and index in each, say) are always told apart.
 */
export class SeenRecords {
  /** The first record after the head and every interval-th after it, oldest first. */
  readonly #samples = new MarkList();
  /** The newest record seen, when it is not the newest sample. */
  #last: Mark | undefined;
  /**
   * Noted since the last `seal`: samples, fingerprinted or (with a length of -1) to be read,
   * and the newest record.
   */
  readonly #pendingSamples = new MarkList();
  #pendingLast: number | undefined;
  #sinceSample = BOUNDARY_SAMPLE_INTERVAL - 1;

  /**
   * Notes a record the follower has seen; records must be noted in log order. A sample is
   * fingerprinted from `headers` when it holds the record's header, else read by `seal` (a
   * read-only open's scan would otherwise read a header every 64 records: two system calls).
   */
  note(lsn: number, headers?: HeaderLookup): void {
    this.#pendingLast = lsn;
    if (++this.#sinceSample < BOUNDARY_SAMPLE_INTERVAL) return;
    this.#sinceSample = 0;
    this.#noteSample(lsn, headers);
  }

  /** Notes the records of `run`, as `note` of each in turn would, with a step per sample. */
  noteRun(run: RecordRun, headers?: HeaderLookup): void {
    this.#pendingLast = run.lsnAt(run.count - 1);
    this.#sinceSample = sampleRun(
      run,
      this.#sinceSample,
      BOUNDARY_SAMPLE_INTERVAL,
      (lsn) => this.#noteSample(lsn, headers),
    );
  }

  #noteSample(lsn: number, headers: HeaderLookup | undefined): void {
    const header = headers?.headerAt(lsn);
    if (header === undefined) this.#pendingSamples.push(lsn, UNREAD, 0);
    else this.#pendingSamples.push(lsn, header.length, header.crc);
  }

  /** Fingerprints the records noted since the last call, reading their headers. */
  seal(source: ByteSource): void {
    const pending = this.#pendingSamples;
    for (let i = 0; i < pending.length; i++) {
      const mark = pending.lengthAt(i) === UNREAD
        ? markAt(source, pending.lsnAt(i))
        : pending.at(i);
      if (mark !== undefined) this.#samples.push(mark.lsn, mark.length, mark.crc);
    }
    const last = this.#pendingLast;
    if (last !== undefined) {
      // Unreadable now (the writer cut the log after the scan): a mark that never matches, so
      // the next refresh finds the cut instead of trusting older marks only.
      this.#last = last === this.#newestSampleLsn()
        ? undefined
        : markAt(source, last) ?? { lsn: last, length: 0, crc: -1 };
    }
    pending.clear();
    this.#pendingLast = undefined;
  }

  #newestSampleLsn(): number | undefined {
    const samples = this.#samples;
    return samples.length === 0 ? undefined : samples.lsnAt(samples.length - 1);
  }

  /**
   * Where the log now differs from what was seen, judged by the fingerprints: undefined when
   * the newest still matches, else the end of the newest older one that does (a boundary at or
   * before the writer's cut), or `head` (the head the follower saw last) when none does.
   */
  cutSince(source: ByteSource, size: number, head: number): number | undefined {
    const samples = this.#samples;
    // The newest mark: the last record when it is not a sample, else the newest sample.
    let older = samples.length;
    const newest = this.#last ?? (older > 0 ? samples.at(--older) : undefined);
    if (newest === undefined || matches(source, newest, size)) return undefined;
    for (let i = older - 1; i >= 0; i--) {
      const mark = samples.at(i);
      if (mark.lsn >= head && matches(source, mark, size)) return mark.lsn + frameSize(mark.length);
    }
    return head;
  }

  /** Forgets the records at or after `lsn` (after a cut). */
  forgetFrom(lsn: number): void {
    while ((this.#newestSampleLsn() ?? -1) >= lsn) this.#samples.pop();
    if ((this.#last?.lsn ?? -1) >= lsn) this.#last = undefined;
    this.#sinceSample = BOUNDARY_SAMPLE_INTERVAL - 1;
  }

  /** Forgets the records before `head` (after a checkpoint). */
  forgetBefore(head: number): void {
    const samples = this.#samples;
    while (samples.length > 0 && samples.lsnAt(0) < head) samples.shift();
    if ((this.#last?.lsn ?? head) < head) this.#last = undefined;
    if (samples.length === 0) this.#sinceSample = BOUNDARY_SAMPLE_INTERVAL - 1;
  }
}

function markAt(source: ByteSource, lsn: number): Mark | undefined {
  const header = new Uint8Array(HEADER_SIZE);
  if (source.readAt(lsn, header) < HEADER_SIZE) return undefined;
  const { length, crc } = decodeHeader(header, 0);
  return { lsn, length, crc };
}

function matches(source: ByteSource, mark: Mark, size: number): boolean {
  if (mark.lsn + frameSize(mark.length) > size) return false;
  const now = markAt(source, mark.lsn);
  return now !== undefined && now.length === mark.length && now.crc === mark.crc;
}

/**
 * A read-only log's view of a log another process writes: where its intact records end and
 * where it starts, as last seen. Each refresh reconciles both with the medium: a new head is a
 * checkpoint (cursors below it are told), fingerprints that no longer match are a cut (cursors
 * past it are told), and the end is found again from there, so a follower never waits inside
 * records that are gone.
 */
export class Follower {
  readonly #store: WalStore;
  readonly #index: BoundaryIndex;
  readonly #epoch: Epoch;
  readonly #seen: SeenRecords;
  readonly #maxRecordSize: number;
  readonly #scanner: FrameScanner;
  #end: number;
  #head: number;

  /** `scanner` checks the chunks of new records: the log's own, the shim's when it loaded. */
  constructor(
    store: WalStore,
    index: BoundaryIndex,
    epoch: Epoch,
    seen: SeenRecords,
    end: number,
    maxRecordSize: number,
    scanner: FrameScanner,
  ) {
    this.#store = store;
    this.#index = index;
    this.#epoch = epoch;
    this.#seen = seen;
    this.#end = end;
    this.#head = store.head;
    this.#maxRecordSize = maxRecordSize;
    this.#scanner = scanner;
  }

  /** The end of the intact records seen. */
  get end(): number {
    return this.#end;
  }

  /**
   * Re-reads the head and end from the medium; returns true when the view changed. `read`
   * reads one record (turning a failed read into a `WalError`). `damaged`: a cursor read damage
   * below the end seen, so a cut in progress is looked for even when the newest mark matches.
   */
  refresh(read: (reader: RecordReader) => ReadResult, damaged = false): boolean {
    this.#store.refresh?.();
    const seen = this.#end;
    const head = this.#store.head;
    // Compared before a new head makes the follower forget what it saw below it: a writer may
    // have cut the log, written shorter records and checkpointed inside what was seen.
    let size = this.#store.size;
    let found = this.#seen.cutSince(this.#store, size, this.#head);
    if ((found !== undefined || damaged) && this.#store.contiguousEnd !== undefined) {
      // A segmented cut in progress leaves segments past the cut: marks in them still match
      // (the newest too, before the last segments are removed: then only the damage a cursor
      // read in the short segment shows it). Judged only up to the first short segment, the cut
      // found is at or below the writer's. Not on every refresh: it looks up every segment.
      const contiguous = this.#store.contiguousEnd();
      if (contiguous < size) {
        size = contiguous;
        found = this.#seen.cutSince(this.#store, size, this.#head);
      }
    }
    let changed = false;
    if (head > this.#head) {
      // A checkpoint: the records before the new head are gone, and cursors below it say so.
      this.#head = head;
      this.#index.truncateBefore(head);
      this.#seen.forgetBefore(head);
      this.#epoch.headMoved();
      changed = true;
    }
    let from = Math.max(seen, head);
    if (found !== undefined) {
      // The writer cut the log at or after `cut` (and may have appended since): what was seen
      // from there on is not what the log holds now.
      // Below a new head when the writer cut, wrote again and checkpointed: the cut is told all
      // the same (a follower that applied the cut records must undo them), and reading goes on
      // from the head.
      const cut = found;
      this.#index.truncateAfter(cut);
      this.#seen.forgetFrom(cut);
      this.#epoch.cutAfter(cut);
      from = Math.max(cut, head);
      changed = true;
    }
    const end = Math.max(from, size);
    // Chunks checked by the scanner: a follower may find a long run of new records at once.
    const reader = new RecordReader(this.#store, from, end, this.#maxRecordSize, this.#scanner);
    for (let r = read(reader); r.kind === "record"; r = read(reader)) {
      this.#index.add(r.lsn);
      this.#seen.note(r.lsn);
    }
    this.#seen.seal(this.#store);
    this.#end = reader.position;
    return changed || this.#end !== seen;
  }
}
