// Copyright 2026 the wal-db authors. MIT license.

import { deepEqual, equal, ok, throws } from "node:assert/strict";
import fc from "fast-check";
import { REPLAY_CHUNK_SIZE, SCAN_BATCH_MAX, TORN_ZERO_RUN_MIN } from "../src/constants.ts";
import { WalError } from "../src/errors.ts";
import { type FrameScanner, scanFrames } from "../src/frame_scan.ts";
import { MemStore } from "../src/mem_store.ts";
import { frame } from "../src/record.ts";
import { recover, type RecoveryOptions } from "../src/recovery.ts";
import { bytes, concat, hex, logImage, payload } from "./_helpers.ts";

const TOLERANT: RecoveryOptions = { maxRecordSize: 1024, recoveryPolicy: "tolerate-torn-tail" };
const STRICT: RecoveryOptions = { maxRecordSize: 1024, recoveryPolicy: "strict" };
const THREE = [bytes("first"), bytes("second"), bytes("third")];

function isCorruption(lsn: number) {
  return (e: unknown) => e instanceof WalError && e.kind === "corruption" && e.lsn === lsn;
}

Deno.test("recover() leaves an intact log alone and counts its records", () => {
  const store = new MemStore(logImage(THREE));
  deepEqual(recover(store, TOLERANT), {
    recordCount: 3,
    endLsn: 40,
    cutSize: 0,
    reserveSize: 0,
    damage: undefined,
    ranges: [],
  });
  equal(store.size, 40);
});

Deno.test("recover() cuts a torn payload at the end and reports it as a torn tail", () => {
  const image = logImage(THREE);
  const store = new MemStore(image.subarray(0, 36));
  const report = recover(store, TOLERANT);
  equal(report.recordCount, 2);
  equal(report.endLsn, 27);
  equal(report.cutSize, 9);
  deepEqual(report.damage, {
    lsn: 27,
    reason: "partial-record",
    tornTail: true,
    intactRecordCount: 0,
    intactSize: 0,
    setAsidePath: undefined,
  });
  deepEqual(report.ranges, [{ lsn: 27, size: 9, reason: "partial-record", action: "cut" }]);
  deepEqual(store.bytes(), image.subarray(0, 27));
  equal(store.setAsideCopies.size, 0);
});

Deno.test("recover() reports zeros after the last record as the reserve, not damage", () => {
  for (const options of [TOLERANT, STRICT, SKIP, TRUNCATE]) {
    const store = new MemStore(concat([logImage(THREE), new Uint8Array(4096)]));
    const report = recover(store, options);
    deepEqual(report, {
      recordCount: 3,
      endLsn: 40,
      cutSize: 0,
      reserveSize: 4096,
      damage: undefined,
      ranges: [],
    });
    equal(store.size, 40);
  }
});

Deno.test("recover() leaves the reserve in place on a read-only open", () => {
  const store = new MemStore(concat([logImage(THREE), new Uint8Array(100)]));
  const report = recover(store, { ...STRICT, readOnly: true });
  equal(report.reserveSize, 100);
  equal(report.damage, undefined);
  equal(store.size, 140);
});

Deno.test("recover() sets aside the bytes after a damaged middle record, then cuts", () => {
  const image = logImage(THREE);
  image[13 + 9]! ^= 0x40; // a payload byte of "second"
  const store = new MemStore(image);
  const report = recover(store, TOLERANT);
  equal(report.recordCount, 1);
  equal(report.endLsn, 13);
  equal(report.cutSize, 27);
  deepEqual(report.damage, {
    lsn: 13,
    reason: "crc-mismatch",
    tornTail: false,
    intactRecordCount: 1,
    intactSize: 13,
    setAsidePath: "damaged-13",
  });
  deepEqual(report.ranges, [{ lsn: 13, size: 27, reason: "crc-mismatch", action: "set-aside" }]);
  deepEqual(store.setAsideCopies.get("damaged-13"), image.subarray(13));
  equal(store.size, 13);
});

Deno.test("recover() under strict refuses damage before intact records and changes nothing", () => {
  const image = logImage(THREE);
  image[13 + 9]! ^= 0x40;
  const store = new MemStore(image);
  throws(() => recover(store, STRICT), isCorruption(13));
  deepEqual(store.bytes(), image);
  equal(store.setAsideCopies.size, 0);
});

Deno.test("recover() under strict still cuts a torn tail", () => {
  const store = new MemStore(logImage(THREE).subarray(0, 30));
  equal(recover(store, STRICT).endLsn, 27);
  equal(store.size, 27);
});

Deno.test("recover() cuts from a sector of zeros on, copying the records after it aside", () => {
  // "a" ends at 9; the rest of its sector never reached the disk, later sectors did. Nothing
  // after the tear was acknowledged if a crash made it, but a disk fault makes zeros too: the
  // intact records after it are copied aside (`unsynced-`), never destroyed, and not damage.
  const image = concat([logImage([bytes("a")]), new Uint8Array(503), logImage(THREE)]);
  for (const options of [TOLERANT, STRICT, SKIP, TRUNCATE]) {
    const store = new MemStore(image);
    const report = recover(store, options);
    equal(report.endLsn, 9);
    equal(report.cutSize, image.length - 9);
    deepEqual(report.damage, {
      lsn: 9,
      reason: "torn-write",
      tornTail: true,
      intactRecordCount: 3,
      intactSize: 40,
      setAsidePath: "unsynced-9",
    });
    deepEqual(report.ranges, [
      { lsn: 9, size: image.length - 9, reason: "torn-write", action: "set-aside" },
    ]);
    deepEqual([...store.setAsideCopies.keys()], ["unsynced-9"]);
    deepEqual(store.setAsideCopies.get("unsynced-9"), image.subarray(9));
    equal(store.size, 9);
  }
});

Deno.test("recover() keeps a last record with zeros and a flipped bit: read as torn, copied", () => {
  // Bit rot in a synced record whose payload holds zeros looks like a torn write; the copy is
  // what keeps its bytes (review finding: it was cut with no copy).
  const body = payload(200, 21);
  body.fill(0, 50, 66);
  const last = frame(body);
  last[120]! ^= 0x04;
  const image = concat([logImage(THREE), last]);
  for (const options of [TOLERANT, STRICT, SKIP, TRUNCATE]) {
    const store = new MemStore(image);
    const report = recover(store, options);
    equal(report.damage?.reason, "torn-write");
    deepEqual(store.setAsideCopies.get("unsynced-40"), last, "the damaged record's bytes are kept");
    equal(store.size, 40);
  }
});

Deno.test("recover() copies nothing aside for a torn tail with nothing intact after it", () => {
  const image = concat([logImage(THREE), frame(payload(900, 2)).subarray(0, 700)]);
  const store = new MemStore(image);
  const report = recover(store, STRICT);
  equal(report.damage?.setAsidePath, undefined);
  equal(store.setAsideCopies.size, 0);
  equal(store.size, 40);
});

Deno.test("recover() treats garbage that stops short of a sector's end as damage", () => {
  // 20 bytes that are neither a record nor zeros, then records in the same sector: no crash
  // leaves that, so strict refuses and the default sets everything from it aside.
  const image = concat([logImage([bytes("a")]), new Uint8Array(20).fill(0x5a), logImage(THREE)]);
  throws(() => recover(new MemStore(image), STRICT), isCorruption(9));
  const store = new MemStore(image);
  const report = recover(store, TOLERANT);
  equal(report.damage?.reason, "implausible-length");
  equal(report.damage?.tornTail, false);
  deepEqual(store.setAsideCopies.get("damaged-9"), image.subarray(9));
});

Deno.test("recover() cuts zeros from a record boundary to the next intact record: lost appends", () => {
  // Appends that never landed, then later ones that did, inside one sector: a file system that
  // keeps whole write calls but not all of them (LazyFS's torn-seq) leaves this.
  const image = concat([logImage([bytes("a")]), new Uint8Array(20), logImage(THREE)]);
  for (const options of [TOLERANT, STRICT, SKIP, TRUNCATE]) {
    const store = new MemStore(image);
    const report = recover(store, options);
    equal(report.endLsn, 9);
    equal(report.damage?.reason, "torn-write");
    equal(report.damage?.tornTail, true);
    equal(report.damage?.intactRecordCount, 3);
    deepEqual(store.setAsideCopies.get("unsynced-9"), image.subarray(9));
  }
});

Deno.test("recover() cuts a last frame holding a run of zeros, and only then", () => {
  // Parts of the last append lost at finer than a sector (LazyFS's torn-op): nothing intact
  // follows, so cutting destroys no intact record.
  const body = payload(300, 9);
  const torn = frame(body);
  torn.fill(0, 100, 100 + TORN_ZERO_RUN_MIN);
  const image = concat([logImage([bytes("a")]), torn]);
  const store = new MemStore(image);
  equal(recover(store, STRICT).damage?.reason, "torn-write");
  equal(store.size, 9);
  // One zero fewer, or a flipped bit alone: damage, set aside.
  const flipped = frame(body);
  flipped.fill(0, 100, 100 + TORN_ZERO_RUN_MIN - 1);
  flipped[200]! ^= 0x10;
  throws(() => recover(new MemStore(concat([logImage([bytes("a")]), flipped])), STRICT));
});

Deno.test("recover() refuses a file that is not a wal-db log and leaves it unchanged", () => {
  const text = bytes("This is a text file, not a log.\nIt has a few lines.\n");
  for (const options of [TOLERANT, STRICT]) {
    const store = new MemStore(text);
    throws(() => recover(store, options), isCorruption(0));
    deepEqual(store.bytes(), text);
  }
});

Deno.test("recover() refuses a first append cut off a sector's end, and sets aside one torn by zeros", () => {
  // A header and 29 bytes of a 66-byte payload, then the end (LazyFS's torn-op left this): no
  // disk leaves it, and a small foreign file looks the same, so every policy refuses it and
  // changes nothing (docs/RECOVERY.md, "A first write cut short").
  const body = payload(66, 21).map((b) => b | 1);
  const cut = frame(body).slice(0, 37);
  for (const options of [STRICT, TOLERANT, SKIP, TRUNCATE]) {
    for (const readOnly of [false, true]) {
      const store = new MemStore(cut);
      throws(() => recover(store, { ...options, readOnly }), isCorruption(0));
      deepEqual(store.bytes(), cut);
      equal(store.setAsideCopies.size, 0);
    }
  }
  // The payload's last 8 bytes never landed and the reserve follows: torn, set aside whole.
  const torn = concat([frame(body).subarray(0, 66), new Uint8Array(13)]);
  for (const options of [STRICT, TOLERANT, SKIP, TRUNCATE]) {
    const looked = new MemStore(torn);
    const seen = recover(looked, { ...options, readOnly: true });
    deepEqual(seen.ranges.map((r) => r.action), ["ignored"]);
    deepEqual(looked.bytes(), torn);
    const store = new MemStore(torn);
    const report = recover(store, options);
    equal(report.endLsn, 0);
    equal(report.damage?.tornTail, true);
    equal(report.damage?.setAsidePath, "damaged-0");
    deepEqual(store.setAsideCopies.get("damaged-0"), torn);
    equal(store.size, 0);
  }
});

Deno.test("recover() treats a header with length 0xFFFFFFF0 and no record as not a log", () => {
  const store = new MemStore(concat([hex("12 34 56 78 f0 ff ff ff"), new Uint8Array(64)]));
  throws(() => recover(store, { ...TOLERANT, maxRecordSize: 64 * 1024 * 1024 }), isCorruption(0));
  equal(store.size, 72);
});

Deno.test("recover() empties a file of zeros: a log whose first write never landed", () => {
  const store = new MemStore(new Uint8Array(1000));
  const report = recover(store, STRICT);
  equal(report.endLsn, 0);
  equal(report.damage, undefined);
  equal(report.reserveSize, 1000);
  equal(store.size, 0);
});

Deno.test("recover() sets aside an implausible length after intact records: no crash leaves it", () => {
  const image = concat([logImage(THREE), hex("00 00 00 00 ff ff 00 00 01 02")]);
  throws(() => recover(new MemStore(image), STRICT), isCorruption(40));
  const store = new MemStore(image);
  const report = recover(store, TOLERANT);
  equal(report.damage?.reason, "implausible-length");
  equal(report.damage?.tornTail, false);
  equal(report.endLsn, 40);
  deepEqual(store.setAsideCopies.get("damaged-40"), image.subarray(40));
});

const SKIP: RecoveryOptions = { maxRecordSize: 1024, recoveryPolicy: "skip" };
const TRUNCATE: RecoveryOptions = { maxRecordSize: 1024, recoveryPolicy: "truncate" };

Deno.test("recover() under truncate cuts at the damage without a copy and reports the loss", () => {
  const image = logImage(THREE);
  image[13 + 9]! ^= 0x40;
  const store = new MemStore(image);
  const report = recover(store, TRUNCATE);
  equal(report.endLsn, 13);
  equal(report.damage?.intactRecordCount, 1);
  equal(report.damage?.setAsidePath, undefined);
  deepEqual(report.ranges, [{ lsn: 13, size: 27, reason: "crc-mismatch", action: "cut" }]);
  equal(store.setAsideCopies.size, 0);
  equal(store.size, 13);
});

Deno.test("recover() under skip keeps every intact record and lists each damaged range", () => {
  const image = concat([
    logImage([bytes("a")]),
    new Uint8Array(20).fill(0x5a), // garbage in the middle
    logImage([bytes("b"), bytes("c")]),
    hex("ff ff ff ff ff"), // garbage
    logImage([bytes("d")]),
    hex("12 34"), // a torn tail
  ]);
  const store = new MemStore(image);
  const seen: (number | [number, number])[] = [];
  const report = recover(store, {
    ...SKIP,
    onRecord: (lsn) => seen.push(lsn),
    onSkip: (from, to) => seen.push([from, to]),
  });
  deepEqual(seen, [0, [9, 29], 29, 38, [47, 52], 52]);
  deepEqual(report.ranges, [
    { lsn: 9, size: 20, reason: "implausible-length", action: "skipped" },
    { lsn: 47, size: 5, reason: "implausible-length", action: "skipped" },
    { lsn: 61, size: 2, reason: "partial-header", action: "cut" },
  ]);
  equal(report.recordCount, 4);
  equal(report.endLsn, 61);
  equal(report.cutSize, 2);
  equal(report.damage?.lsn, 9);
  equal(report.damage?.intactRecordCount, 3);
  deepEqual(store.bytes(), image.subarray(0, 61), "skipped ranges stay in place");
});

Deno.test("recover() finds the same records and acts the same with the scanner as without it", () => {
  // A scanner that never vouches for a frame leaves the whole scan to RecordReader's checks.
  const never: FrameScanner = () => 0;
  const policies = ["tolerate-torn-tail", "strict", "truncate", "skip"] as const;
  fc.assert(
    fc.property(
      fc.array(fc.uint8Array({ maxLength: 1500 }), { maxLength: 10 }),
      fc.constantFrom(...policies),
      fc.constantFrom("flip", "zeros", "cut"),
      fc.nat(),
      fc.boolean(),
      (payloads, policy, kind, at, readOnly) => {
        let image = concat([logImage(payloads), new Uint8Array(at % 3 === 0 ? 64 : 0)]);
        if (image.length > 0) {
          const where = at % image.length;
          if (kind === "flip") image[where]! ^= 1 << (at % 8);
          else if (kind === "zeros") image.fill(0, where, where + 1 + (at % 700));
          else image = image.subarray(0, where);
        }
        const run = (scanner: FrameScanner) => {
          const store = new MemStore(image.slice());
          const lsns: number[] = [];
          const options = { maxRecordSize: 1024, recoveryPolicy: policy, readOnly, scanner };
          try {
            const report = recover(store, { ...options, onRecord: (lsn) => lsns.push(lsn) });
            return { report, lsns, bytes: store.bytes().slice() };
          } catch (error) {
            return { error: error instanceof WalError ? [error.kind, error.lsn] : error, lsns };
          }
        };
        deepEqual(run(scanFrames), run(never));
      },
    ),
    { numRuns: 400 },
  );
});

Deno.test("recover() hands onRun the records onRecord alone sees, in order, over several chunks", () => {
  const policies = ["tolerate-torn-tail", "strict", "truncate", "skip"] as const;
  fc.assert(
    fc.property(
      fc.array(fc.nat({ max: 3000 }), { minLength: 1, maxLength: 6 }),
      fc.constantFrom(...policies),
      fc.constantFrom("none", "flip", "zeros", "cut"),
      fc.nat(),
      (sizes, policy, kind, at) => {
        const payloads: Uint8Array[] = [];
        for (let i = 0, total = 0; total < 2 * REPLAY_CHUNK_SIZE + (at % 100_000); i++) {
          payloads.push(payload(sizes[i % sizes.length]!, i));
          total += payloads.at(-1)!.length + 8;
        }
        let image = logImage(payloads);
        const where = at % image.length;
        if (kind === "flip") image[where]! ^= 1 << (at % 8);
        else if (kind === "zeros") image.fill(0, where, where + 1 + (at % 700));
        else if (kind === "cut") image = image.subarray(0, where);
        const run = (withRuns: boolean) => {
          const lsns: number[] = [];
          const runs: number[] = [];
          const options: RecoveryOptions = {
            maxRecordSize: 4096,
            recoveryPolicy: policy,
            readOnly: true,
            scanner: scanFrames,
            onRecord: (lsn) => lsns.push(lsn),
            ...(withRuns
              ? {
                onRun: (run) => {
                  runs.push(run.count);
                  for (let k = 0; k < run.count; k++) lsns.push(run.lsnAt(k));
                  const last = run.lsnAt(run.count - 1);
                  equal(run.end, last + 8 + new DataView(image.buffer).getUint32(last + 4, true));
                },
              }
              : {}),
          };
          try {
            return { report: recover(new MemStore(image.slice()), options), lsns, runs };
          } catch (error) {
            return {
              error: error instanceof WalError ? [error.kind, error.lsn] : error,
              lsns,
              runs,
            };
          }
        };
        const alone = run(false);
        const withRuns = run(true);
        deepEqual({ ...withRuns, runs: [] }, alone);
        // Most records came in runs: a call per chunk (or per scanner batch), not per record.
        const most = 4 + Math.ceil(payloads.length / SCAN_BATCH_MAX) +
          Math.ceil(image.length / (REPLAY_CHUNK_SIZE / 2));
        ok(withRuns.runs.length <= most, `${withRuns.runs.length} runs`);
      },
    ),
    { numRuns: 60 },
  );
});

Deno.test("recover() scans through the scanner it is given", () => {
  let calls = 0;
  const counting: FrameScanner = (...args) => {
    calls++;
    return scanFrames(...args);
  };
  const report = recover(new MemStore(logImage(THREE)), { ...TOLERANT, scanner: counting });
  equal(report.recordCount, 3);
  ok(calls > 0);
});

Deno.test("recover() hands onRecord a lookup that tells each record's header without a read", () => {
  const payloads = Array.from({ length: 300 }, (_, i) => payload(i % 70, i));
  const image = logImage(payloads);
  const view = new DataView(image.buffer);
  for (const scanner of [undefined, scanFrames]) {
    let found = 0;
    recover(new MemStore(image), {
      ...SKIP,
      ...(scanner === undefined ? {} : { scanner }),
      onRecord: (lsn, headers) => {
        const header = headers?.headerAt(lsn);
        if (header === undefined) return;
        found++;
        deepEqual(header, {
          length: view.getUint32(lsn + 4, true),
          crc: view.getUint32(lsn, true),
        });
      },
    });
    // The chunk (or window) the scan just read holds every header it reports.
    equal(found, payloads.length);
  }
});
