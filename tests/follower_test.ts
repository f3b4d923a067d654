// Copyright 2026 the wal-db authors. MIT license.
// Tests for src/follower.ts: a follower's fingerprints of the records it saw, and how they find
// where a writer in another process cut the log.

import { deepEqual, equal, ok } from "node:assert/strict";
import { BOUNDARY_SAMPLE_INTERVAL } from "../src/constants.ts";
import { SeenRecords } from "../src/follower.ts";
import { bytes, logImage, lsnsOf } from "./_helpers.ts";

function source(image: Uint8Array) {
  return {
    readAt(offset: number, buffer: Uint8Array): number {
      const part = image.subarray(offset, offset + buffer.length);
      buffer.set(part);
      return part.length;
    },
  };
}

const COUNT = BOUNDARY_SAMPLE_INTERVAL * 2 + 5;
const RECORDS = Array.from({ length: COUNT }, (_, i) => bytes(`record ${i}`));
const LSNS = lsnsOf(RECORDS);

function seenAll(image: Uint8Array): SeenRecords {
  const seen = new SeenRecords();
  for (const lsn of LSNS) seen.note(lsn);
  seen.seal(source(image));
  return seen;
}

Deno.test("SeenRecords: an unchanged log shows no cut, also after it grew", () => {
  const image = logImage(RECORDS);
  const seen = seenAll(image);
  equal(seen.cutSince(source(image), image.length, 0), undefined);
  const grown = logImage([...RECORDS, bytes("more")]);
  equal(seen.cutSince(source(grown), grown.length, 0), undefined);
});

Deno.test("SeenRecords: a cut and rewrite is found at or before the writer's cut", () => {
  const image = logImage(RECORDS);
  const seen = seenAll(image);
  const cutIndex = COUNT - 3;
  const rewritten = logImage([...RECORDS.slice(0, cutIndex), bytes("other 1"), bytes("other 22")]);
  const cut = seen.cutSince(source(rewritten), rewritten.length, 0)!;
  // The newest sample still matching is record 2·interval: the cut is reported at its end.
  equal(cut, LSNS[BOUNDARY_SAMPLE_INTERVAL * 2 + 1]);
  equal(cut <= LSNS[cutIndex]!, true);
  seen.forgetFrom(cut);
  equal(seen.cutSince(source(rewritten), rewritten.length, 0), undefined);
});

Deno.test("SeenRecords: a log cut below every fingerprint is reported at the head", () => {
  const image = logImage(RECORDS);
  const seen = seenAll(image);
  const other = logImage([bytes("different")]);
  equal(seen.cutSince(source(other), other.length, 0), 0);
  seen.forgetBefore(LSNS.at(-1)! + 1);
  equal(seen.cutSince(source(other), other.length, 0), undefined);
});

Deno.test("SeenRecords: samples noted with their headers are sealed without reading them", () => {
  const image = logImage(RECORDS);
  const headers = {
    headerAt: (lsn: number) => ({
      length: new DataView(image.buffer).getUint32(lsn + 4, true),
      crc: new DataView(image.buffer).getUint32(lsn, true),
    }),
  };
  const seen = new SeenRecords();
  for (const lsn of LSNS) seen.note(lsn, headers);
  const reads: number[] = [];
  const counting = {
    readAt(offset: number, buffer: Uint8Array): number {
      reads.push(offset);
      return source(image).readAt(offset, buffer);
    },
  };
  seen.seal(counting);
  // Only the newest record, which is not a sample, is read.
  deepEqual(reads, [LSNS.at(-1)]);
  // The fingerprints are those a reading seal takes: the same cut is found.
  const rewritten = logImage([...RECORDS.slice(0, COUNT - 3), bytes("other 1"), bytes("x")]);
  equal(
    seen.cutSince(source(rewritten), rewritten.length, 0),
    seenAll(image).cutSince(source(rewritten), rewritten.length, 0),
  );
  equal(seen.cutSince(source(image), image.length, 0), undefined);
});

Deno.test("SeenRecords.noteRun() takes the fingerprints note() of each record takes", () => {
  const image = logImage(RECORDS);
  const view = new DataView(image.buffer);
  const headers = {
    headerAt: (lsn: number) => ({
      length: view.getUint32(lsn + 4, true),
      crc: view.getUint32(lsn, true),
    }),
  };
  for (const split of [1, 5, BOUNDARY_SAMPLE_INTERVAL, 100, COUNT]) {
    const seen = new SeenRecords();
    for (let from = 0; from < COUNT; from += split) {
      const slice = LSNS.slice(from, from + split);
      const end = LSNS[from + slice.length] ?? image.length;
      seen.noteRun({ count: slice.length, end, lsnAt: (k) => slice[k]! }, headers);
    }
    const reads: number[] = [];
    seen.seal({
      readAt(offset: number, buffer: Uint8Array): number {
        reads.push(offset);
        return source(image).readAt(offset, buffer);
      },
    });
    // Only the newest record is read: every sample came with its header, as with note().
    deepEqual(reads, [LSNS.at(-1)], `runs of ${split}`);
    // Cut just after the second sample: found at the same boundary as with note().
    const cutAt = BOUNDARY_SAMPLE_INTERVAL + 3;
    const rewritten = logImage([...RECORDS.slice(0, cutAt), bytes("other")]);
    const expected = seenAll(image).cutSince(source(rewritten), rewritten.length, 0);
    equal(seen.cutSince(source(rewritten), rewritten.length, 0), expected, `runs of ${split}`);
    equal(seen.cutSince(source(image), image.length, 0), undefined);
  }
});

Deno.test("SeenRecords: a sample whose header the lookup does not hold is read at seal", () => {
  const image = logImage(RECORDS);
  const seen = new SeenRecords();
  for (const lsn of LSNS) seen.note(lsn, { headerAt: () => undefined });
  const reads: number[] = [];
  seen.seal({
    readAt(offset: number, buffer: Uint8Array): number {
      reads.push(offset);
      return source(image).readAt(offset, buffer);
    },
  });
  equal(reads.length, 4); // the first, every interval-th after it, and the newest
  equal(seen.cutSince(source(image), image.length, 0), undefined);
});

Deno.test("SeenRecords: a last record the writer cut before seal read it still lets the next refresh find the cut", () => {
  const image = logImage(RECORDS);
  const seen = new SeenRecords();
  for (const lsn of LSNS) seen.note(lsn);
  // Cut between the scan and the seal: the last record's header is no longer there.
  seen.seal(source(image.subarray(0, LSNS.at(-1)!)));
  const rewritten = logImage([...RECORDS.slice(0, COUNT - 1), bytes("other")]);
  const cut = seen.cutSince(source(rewritten), rewritten.length, 0);
  ok(cut !== undefined && cut <= LSNS.at(-1)!, `cut ${cut}`);
});
