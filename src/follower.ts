// Copyright 2026 the wal-db authors. MIT license.
// What a read-only log (a follower) remembers of the records it has seen, so that a refresh can
// tell that a writer in another process cut the log under it, and where.
// Pure: no `Deno.*`; the only I/O is through the `ByteSource` it is given.

import { BOUNDARY_SAMPLE_INTERVAL, HEADER_SIZE } from "./constants.ts";
import type { ByteSource } from "./reader.ts";
import { decodeHeader, frameSize } from "./record.ts";

/** A record the follower saw: where it starts, its payload length and its stored checksum. */
interface Mark {
  lsn: number;
  length: number;
  crc: number;
}

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
  readonly #samples: Mark[] = [];
  /** The newest record seen, when it is not the newest sample. */
  #last: Mark | undefined;
  /** Noted since the last `seal`: LSNs to sample, and the newest. */
  #pendingSamples: number[] = [];
  #pendingLast: number | undefined;
  #sinceSample = BOUNDARY_SAMPLE_INTERVAL - 1;

  /** Notes a record the follower has seen; records must be noted in log order. */
  note(lsn: number): void {
    this.#pendingLast = lsn;
    if (++this.#sinceSample < BOUNDARY_SAMPLE_INTERVAL) return;
    this.#sinceSample = 0;
    this.#pendingSamples.push(lsn);
  }

  /** Fingerprints the records noted since the last call, reading their headers. */
  seal(source: ByteSource): void {
    for (const lsn of this.#pendingSamples) {
      const mark = markAt(source, lsn);
      if (mark !== undefined) this.#samples.push(mark);
    }
    const last = this.#pendingLast;
    if (last !== undefined) {
      this.#last = last === this.#samples.at(-1)?.lsn ? undefined : markAt(source, last);
    }
    this.#pendingSamples = [];
    this.#pendingLast = undefined;
  }

  /**
   * Where the log now differs from what was seen, judged by the fingerprints: undefined when
   * the newest still matches, else the end of the newest older one that does (a boundary at or
   * before the writer's cut), or `head` when none does.
   */
  cutSince(source: ByteSource, size: number, head: number): number | undefined {
    const marks = this.#last === undefined ? this.#samples : [...this.#samples, this.#last];
    const newest = marks.at(-1);
    if (newest === undefined || matches(source, newest, size)) return undefined;
    for (let i = marks.length - 2; i >= 0; i--) {
      const mark = marks[i]!;
      if (mark.lsn >= head && matches(source, mark, size)) return mark.lsn + frameSize(mark.length);
    }
    return head;
  }

  /** Forgets the records at or after `lsn` (after a cut). */
  forgetFrom(lsn: number): void {
    while ((this.#samples.at(-1)?.lsn ?? -1) >= lsn) this.#samples.pop();
    if ((this.#last?.lsn ?? -1) >= lsn) this.#last = undefined;
    this.#sinceSample = BOUNDARY_SAMPLE_INTERVAL - 1;
  }

  /** Forgets the records before `head` (after a checkpoint). */
  forgetBefore(head: number): void {
    while (this.#samples.length > 0 && this.#samples[0]!.lsn < head) this.#samples.shift();
    if ((this.#last?.lsn ?? head) < head) this.#last = undefined;
    if (this.#samples.length === 0) this.#sinceSample = BOUNDARY_SAMPLE_INTERVAL - 1;
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
