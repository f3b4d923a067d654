// Copyright 2026 the wal-db authors. MIT license.
// A sparse index of record boundaries, so an LSN can be checked without scanning the log.
// Pure: no `Deno.*`; reads headers only through the `ByteSource` it is given.

import { assert } from "./assert.ts";
import { BOUNDARY_SAMPLE_INTERVAL, HEADER_SIZE } from "./constants.ts";
import type { ByteSource } from "./reader.ts";
import { decodeHeader, frameSize } from "./record.ts";
import { type RecordRun, sampleRun } from "./record_run.ts";

/**
 * Keeps the LSN of every {@linkcode BOUNDARY_SAMPLE_INTERVAL}th record (and the head). To check
 * an LSN, it starts at the nearest sample at or below it and follows header lengths forward:
 * at most one interval of 8-byte header reads, whatever the size of the log. Every record it
 * walks over was verified when it was recovered or appended, so following lengths is safe.
 *
 * Invariant: samples are strictly increasing record boundaries inside `[head, end)`, and the
 * first sample is the head.
 */
export class BoundaryIndex {
  readonly #samples: number[];
  #sinceSample = 0;
  /** Damaged ranges the "skip" policy left in place: start → the next intact record. */
  readonly #skipped = new Map<number, number>();

  constructor(head: number) {
    this.#samples = [head];
  }

  /** How many LSNs the index holds (for tests of its memory bound). */
  get sampleCount(): number {
    return this.#samples.length;
  }

  /** The last LSN the index holds: a record boundary (or the head). */
  get lastSample(): number {
    return this.#samples.at(-1)!;
  }

  /** Notes that a record starts at `lsn`; records must be noted in log order. */
  add(lsn: number): void {
    assert(lsn >= this.#samples.at(-1)!, "a boundary is noted in log order: LSN", lsn);
    if (++this.#sinceSample < BOUNDARY_SAMPLE_INTERVAL) return;
    if (lsn !== this.#samples.at(-1)) this.#samples.push(lsn);
    this.#sinceSample = 0;
  }

  /** Notes the records of `run`, as `add` of each in turn would, with a step per sample. */
  addRun(run: RecordRun): void {
    assert(run.lsnAt(0) >= this.#samples.at(-1)!, "a run is noted in log order: LSN", run.lsnAt(0));
    this.#sinceSample = sampleRun(run, this.#sinceSample, BOUNDARY_SAMPLE_INTERVAL, (lsn) => {
      if (lsn !== this.#samples.at(-1)) this.#samples.push(lsn);
    });
  }

  /**
   * Notes that `[from, to)` is a damaged range left in place, with a record starting at `to`.
   * That record is always sampled, so no walk along header lengths ever crosses the damage, and
   * no LSN inside the range counts as a boundary.
   */
  skip(from: number, to: number): void {
    // `from` equals the last sample only when the damage starts at the head.
    assert(from >= this.#samples.at(-1)! && to > from, "a skipped range is in order: from", from);
    this.#skipped.set(from, to);
    this.#samples.push(to);
    this.#sinceSample = 0;
  }

  /** Where reading resumes after a skipped range that starts at `lsn`, if one does. */
  resumeAfter(lsn: number): number | undefined {
    return this.#skipped.get(lsn);
  }

  /** True when a record starts at `lsn`, which must lie in `[head, end)` of `source`. */
  isBoundary(lsn: number, source: ByteSource, end: number): boolean {
    for (const [from, to] of this.#skipped) if (lsn >= from && lsn < to) return false;
    const header = new Uint8Array(HEADER_SIZE);
    for (let at = this.#sampleAtOrBelow(lsn); at < end;) {
      // A walk that reaches a skipped range jumps over it: the bytes there are not headers.
      const resume = this.#skipped.get(at);
      if (resume !== undefined) {
        at = resume;
        continue;
      }
      if (at === lsn) return true;
      if (at > lsn || source.readAt(at, header) < HEADER_SIZE) return false;
      at += frameSize(decodeHeader(header, 0).length);
    }
    return false;
  }

  /** Forgets samples at or past `end` (after a suffix truncation). */
  truncateAfter(end: number): void {
    while (this.#samples.length > 1 && this.#samples.at(-1)! >= end) this.#samples.pop();
    for (const from of [...this.#skipped.keys()]) if (from >= end) this.#skipped.delete(from);
    this.#sinceSample = 0;
  }

  /** Makes `head` the first sample (after a prefix truncation). */
  truncateBefore(head: number): void {
    let drop = 0;
    while (drop < this.#samples.length && this.#samples[drop]! <= head) drop++;
    this.#samples.splice(0, drop, head);
  }

  #sampleAtOrBelow(lsn: number): number {
    let low = 0;
    let high = this.#samples.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >> 1;
      if (this.#samples[middle]! <= lsn) low = middle;
      else high = middle - 1;
    }
    return this.#samples[low]!;
  }
}
