// Copyright 2026 the wal-db authors. MIT license.
// The Wal over segmented logs: layout compatibility, truncation at both ends, iterFrom, and
// recovery across segment files. (Split from wal_test.ts to keep each file readable.)

import { deepEqual, equal, match, ok, throws } from "node:assert/strict";
import { join } from "node:path";
import fc from "fast-check";
import { WalError, type WalErrorKind } from "../src/errors.ts";
import { frame } from "../src/record.ts";
import { encodeHead, encodeSegmentSize, segmentName } from "../src/segments.ts";
import { Wal } from "../src/open.ts";
import {
  agePast,
  bytes,
  concat,
  directorySnapshot,
  payload,
  readBytes,
  removeIfPresent,
  withTempDir,
} from "./_helpers.ts";

function kind(expected: WalErrorKind) {
  return (e: unknown) => e instanceof WalError && e.kind === expected;
}

function entries(wal: Wal): [number, Uint8Array][] {
  return [...wal.iter()].map((e) => [e.lsn, e.data]);
}

function segmentFiles(dir: string): string[] {
  return Deno.readDirSync(dir).map((e) => e.name).toArray().filter((n) => n.endsWith(".wal"))
    .sort();
}

/** Writes `image` as segments of `size` bytes starting at segment `first`, by the spec alone. */
function writeSegments(dir: string, image: Uint8Array, size: number, first = 0): void {
  for (let k = first; k * size < image.length; k++) {
    Deno.writeFileSync(join(dir, segmentName(k)), image.subarray(k * size, (k + 1) * size));
  }
}

Deno.test("Wal.openSegmented() reads a log built byte by byte from the spec", async () => {
  await withTempDir((dir) => {
    const records = [bytes("abc"), bytes("hello"), payload(40, 1), new Uint8Array(0), bytes("z")];
    const image = concat(records.map((r) => frame(r)));
    // Segments of 10 bytes; the log starts at the third record (LSN 24), so segments 0 and 1
    // are gone and segment 2 starts in the middle of record 2.
    writeSegments(dir, image, 10, 2);
    Deno.writeFileSync(join(dir, "head"), encodeHead(24));
    Deno.writeFileSync(join(dir, "notes.txt"), bytes("ignored: not a segment name"));
    using wal = Wal.openSegmented(dir, 10);
    equal(wal.head, 24);
    deepEqual(entries(wal), [[24, records[2]!], [72, records[3]!], [80, records[4]!]]);
    equal(wal.nextLsn, image.length);
    equal(wal.recovery.damage, undefined);
  });
});

Deno.test("Wal.openSegmented() writes the same bytes as a single file, split every S bytes", async () => {
  await withTempDir((dir) => {
    const records = Array.from({ length: 30 }, (_, i) => payload(i * 3, i));
    const wal = Wal.openSegmented(join(dir, "seg"), 32);
    const single = Wal.open(join(dir, "single.wal"));
    for (const r of records) equal(wal.append(r), single.append(r));
    wal.syncSync();
    single.close();
    wal.close();
    const image = readBytes(join(dir, "single.wal"));
    const files = segmentFiles(join(dir, "seg"));
    equal(files.length, Math.ceil(image.length / 32));
    deepEqual(concat(files.map((f) => readBytes(join(dir, "seg", f)))), image);
  });
});

Deno.test("Wal.openSegmented() round-trips a record larger than several segments", async () => {
  await withTempDir((dir) => {
    const big = payload(1000, 7);
    let wal = Wal.openSegmented(dir, 64);
    wal.append(bytes("before"));
    const lsn = wal.append(big);
    wal.append(bytes("after"));
    wal.syncSync();
    wal.close();
    ok(segmentFiles(dir).length >= 16);
    wal = Wal.openSegmented(dir, 64);
    deepEqual(entries(wal).map(([, d]) => d), [bytes("before"), big, bytes("after")]);
    deepEqual([...wal.iterFrom(lsn)].map((e) => e.lsn), [lsn, lsn + 1008]);
    wal.close();
  });
});

Deno.test("Wal.openSegmented() with 64 concurrent writers crossing segment boundaries", async () => {
  await withTempDir(async (dir) => {
    const written = new Map<number, Uint8Array>();
    {
      using wal = Wal.openSegmented(dir, 48);
      await Promise.all(Array.from({ length: 64 }, async (_, w) => {
        for (let i = 0; i < 20; i++) {
          const data = payload((w * 7 + i) % 60, w * 1000 + i);
          written.set(wal.append(data), data);
          await wal.sync();
        }
      }));
      equal(wal.durableLsn, wal.nextLsn);
    }
    using wal = Wal.openSegmented(dir, 48);
    const read = entries(wal);
    equal(read.length, 64 * 20);
    for (const [lsn, data] of read) deepEqual(data, written.get(lsn));
  });
});

Deno.test("Wal.iterFrom() accepts boundaries and rejects every other LSN with invalid-lsn", async () => {
  await withTempDir((dir) => {
    using wal = Wal.openSegmented(dir, 16);
    const lsns = Array.from({ length: 200 }, (_, i) => wal.append(payload(i % 20, i)));
    wal.truncateBefore(lsns[50]!);
    deepEqual([...wal.iterFrom(lsns[120]!)].map((e) => e.lsn), lsns.slice(120));
    deepEqual([...wal.iterFrom(wal.nextLsn)], []);
    deepEqual([...wal.iterFrom(wal.head)].length, 150);
    for (const bad of [lsns[49]!, lsns[120]! + 1, wal.nextLsn + 1, 1.5, -1, NaN, Infinity]) {
      throws(() => wal.iterFrom(bad), kind("invalid-lsn"), String(bad));
    }
    throws(() => wal.iterFrom("0" as unknown as number), TypeError);
  });
});

Deno.test("Wal.truncateFrom() and truncateAfter() cut the log durably; appends continue", async () => {
  await withTempDir((dir) => {
    let wal = Wal.openSegmented(dir, 20);
    const lsns = Array.from({ length: 10 }, (_, i) => wal.append(payload(i + 3, i)));
    wal.truncateFrom(lsns[6]!);
    equal(wal.nextLsn, lsns[6]);
    equal(wal.durableLsn, lsns[6]);
    wal.truncateAfter(lsns[3]!);
    equal(wal.nextLsn, lsns[4]);
    throws(() => wal.truncateAfter(wal.nextLsn), kind("invalid-lsn"));
    throws(() => wal.truncateFrom(lsns[1]! + 2), kind("invalid-lsn"));
    equal(wal.append(bytes("new")), lsns[4]);
    wal.close();
    wal = Wal.openSegmented(dir, 20);
    deepEqual(entries(wal).map(([l]) => l), [...lsns.slice(0, 4), lsns[4]]);
    wal.truncateFrom(wal.head);
    equal(wal.nextLsn, 0);
    wal.close();
    wal = Wal.openSegmented(dir, 20);
    deepEqual(entries(wal), []);
    wal.close();
  });
});

Deno.test("Wal.truncateBefore() drops leading segments; iteration starts at the head", async () => {
  await withTempDir((dir) => {
    let wal = Wal.openSegmented(dir, 32);
    const lsns = Array.from({ length: 40 }, (_, i) => wal.append(payload(10, i)));
    equal(wal.truncateBefore(lsns[25]!), lsns[25]);
    equal(wal.head, lsns[25]);
    ok(!segmentFiles(dir).includes(segmentName(0)));
    equal(wal.append(bytes("later")), lsns[39]! + 18);
    wal.close();
    wal = Wal.openSegmented(dir, 32);
    equal(wal.head, lsns[25]);
    deepEqual(entries(wal).map(([l]) => l), [...lsns.slice(25), lsns[39]! + 18]);
    throws(() => wal.truncateBefore(lsns[10]!), kind("invalid-lsn"));
    wal.close();
  });
});

Deno.test("Wal on a single file: truncateBefore refuses (unsupported) and changes nothing", async () => {
  await withTempDir((dir) => {
    using wal = Wal.open(join(dir, "one.wal"));
    wal.append(bytes("a"));
    const second = wal.append(bytes("b"));
    throws(() => wal.truncateBefore(second), kind("unsupported"));
    equal(wal.head, 0);
    equal(entries(wal).length, 2);
  });
});

Deno.test("Wal.openSegmented() treats a missing inner segment as damage and sets aside what follows", async () => {
  await withTempDir((dir) => {
    const records = Array.from({ length: 12 }, (_, i) => payload(10, i));
    {
      using wal = Wal.openSegmented(dir, 32);
      for (const r of records) wal.append(r);
    }
    Deno.removeSync(join(dir, segmentName(2)));
    throws(() => Wal.openSegmented(dir, 32, { recoveryPolicy: "strict" }), kind("corruption"));
    equal(segmentFiles(dir).length, 6, "strict changed nothing");
    using wal = Wal.openSegmented(dir, 32);
    const damage = wal.recovery.damage!;
    equal(damage.tornTail, false);
    ok(damage.lsn <= 64 && damage.lsn > 32, `damage at ${damage.lsn}`);
    ok(damage.intactRecordCount >= 5);
    equal(damage.setAsidePath, join(dir, `damaged-${damage.lsn}`));
    equal(readBytes(damage.setAsidePath!).length, 12 * 18 - damage.lsn);
    deepEqual(entries(wal).map(([, d]) => d), records.slice(0, entries(wal).length));
  });
});

Deno.test("Wal.openSegmented() rejects a bad segment size and a second open", async () => {
  await withTempDir((dir) => {
    throws(() => Wal.openSegmented(dir, 0), RangeError);
    throws(() => Wal.openSegmented(dir, 2.5), RangeError);
    using wal = Wal.openSegmented(dir, 64);
    throws(() => Wal.openSegmented(dir, 64), kind("locked"));
    equal(wal.nextLsn, 0);
  });
});

Deno.test("Wal.openSegmented() refuses another segment size and changes nothing", async (t) => {
  // The report: 100 synced records in 4096-byte segments, reopened with 2048 or 8192.
  const records = Array.from({ length: 100 }, (_, i) => payload(200, i));
  for (const checkpoint of [false, true]) {
    for (const recorded of [true, false]) {
      const name = `${checkpoint ? "after" : "before"} a checkpoint, ${
        recorded ? "with" : "without"
      } a segment-size file`;
      await t.step(name, async () => {
        await withTempDir((dir) => {
          let lsns: number[];
          {
            using wal = Wal.openSegmented(dir, 4096);
            lsns = wal.appendBatch(records);
            wal.syncSync();
            if (checkpoint) wal.truncateBefore(lsns[50]!);
          }
          if (!recorded) removeIfPresent(join(dir, "segment-size"));
          agePast(dir);
          const before = directorySnapshot(dir);
          for (const size of [2048, 8192]) {
            for (const readOnly of [true, false]) {
              throws(() => Wal.openSegmented(dir, size, { readOnly }), (error) => {
                ok(error instanceof WalError && error.kind === "corruption", String(error));
                match(error.message, /wrong segment size/);
                match(error.message, recorded ? /written with segment size 4096/ : /of 4096/);
                ok(!/missing/.test(error.message), error.message);
                return true;
              }, `${size}, readOnly: ${readOnly}`);
              deepEqual(directorySnapshot(dir), before, `${size}, readOnly ${readOnly}`);
            }
          }
          using wal = Wal.openSegmented(dir, 4096);
          const kept = checkpoint ? 50 : 0;
          deepEqual(entries(wal), records.slice(kept).map((r, i) => [lsns[kept + i], r]));
          equal(wal.recovery.damage, undefined);
        });
      });
    }
  }
});

Deno.test("Wal.openSegmented() gives a log built by the spec alone a segment-size file", async () => {
  await withTempDir((dir) => {
    const records = Array.from({ length: 30 }, (_, i) => payload(100, i));
    writeSegments(dir, concat(records.map((r) => frame(r))), 1024);
    throws(() => Wal.openSegmented(dir, 512, { readOnly: true }), /wrong segment size/);
    throws(() => Wal.openSegmented(dir, 2048, { readOnly: true }), /wrong segment size/);
    {
      using reader = Wal.openSegmented(dir, 1024, { readOnly: true });
      equal(entries(reader).length, 30);
    }
    throws(() => Deno.statSync(join(dir, "segment-size")), Deno.errors.NotFound);
    {
      using wal = Wal.openSegmented(dir, 1024);
      equal(entries(wal).length, 30);
    }
    deepEqual(readBytes(join(dir, "segment-size")), encodeSegmentSize(1024));
  });
});

Deno.test("Wal.openSegmented() records no segment size when recovery refuses the log", async () => {
  await withTempDir((dir) => {
    // An older wal-db's log (a lock file, no segment-size file) with a damaged record in its
    // middle: "strict" refuses it, and the refusal must change nothing.
    const records = Array.from({ length: 30 }, (_, i) => payload(100, i));
    const image = concat(records.map((r) => frame(r)));
    image[10 * 108 + 20]! ^= 1;
    writeSegments(dir, image, 1024);
    Deno.writeFileSync(join(dir, "wal.lock"), new Uint8Array(0));
    agePast(dir);
    const before = directorySnapshot(dir);
    throws(() => Wal.openSegmented(dir, 1024, { recoveryPolicy: "strict" }), kind("corruption"));
    deepEqual(directorySnapshot(dir), before);
    using wal = Wal.openSegmented(dir, 1024);
    equal(wal.recovery.damage?.lsn, 10 * 108, "the default policy accepts it");
    deepEqual(readBytes(join(dir, "segment-size")), encodeSegmentSize(1024));
  });
});

type Op =
  | { op: "append"; data: Uint8Array }
  | { op: "sync" }
  | { op: "truncateFrom" | "truncateAfter" | "truncateBefore"; pick: number }
  | { op: "reopen" }
  | { op: "reopenWrongSize"; other: number; readOnly: boolean };

const OP: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant("reopenWrongSize" as const),
      other: fc.integer({ min: 1, max: 8192 }),
      readOnly: fc.boolean(),
    }),
  },
  {
    weight: 6,
    arbitrary: fc.uint8Array({ maxLength: 90 }).map((data) => ({ op: "append" as const, data })),
  },
  { weight: 1, arbitrary: fc.constant({ op: "sync" as const }) },
  { weight: 1, arbitrary: fc.constant({ op: "reopen" as const }) },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constantFrom(
        "truncateFrom" as const,
        "truncateAfter" as const,
        "truncateBefore" as const,
      ),
      pick: fc.nat(),
    }),
  },
);

Deno.test("Wal segmented property: random appends, syncs, truncations and reopens", async () => {
  await withTempDir((root) => {
    let run = 0;
    fc.assert(
      fc.property(
        fc.integer({ min: 16, max: 4096 }),
        fc.array(OP, { maxLength: 60 }),
        (size, ops) => {
          const dir = join(root, `p${run++}`);
          let wal = Wal.openSegmented(dir, size);
          let model: [number, Uint8Array][] = [];
          let end = 0;
          try {
            for (const step of ops) {
              if (step.op === "append") {
                model.push([wal.append(step.data), step.data]);
                end += 8 + step.data.length;
              } else if (step.op === "sync") wal.syncSync();
              else if (step.op === "reopen") {
                wal.close();
                wal = Wal.openSegmented(dir, size);
                deepEqual(entries(wal), model);
              } else if (step.op === "reopenWrongSize") {
                if (step.other === size) continue;
                wal.close();
                agePast(dir);
                const before = directorySnapshot(dir);
                const readOnly = step.readOnly;
                throws(() => Wal.openSegmented(dir, step.other, { readOnly }), (error) => {
                  ok(error instanceof WalError && /wrong segment size/.test(error.message));
                  return true;
                });
                deepEqual(directorySnapshot(dir), before, "a refused open changes nothing");
                wal = Wal.openSegmented(dir, size);
                deepEqual(entries(wal), model);
              } else if (model.length > 0) {
                const i = step.pick % model.length;
                const lsn = model[i]![0];
                if (step.op === "truncateFrom") wal.truncateFrom(lsn), model = model.slice(0, i);
                if (step.op === "truncateAfter") {
                  wal.truncateAfter(lsn), model = model.slice(0, i + 1);
                }
                if (step.op === "truncateBefore") {
                  equal(wal.truncateBefore(lsn), lsn), model = model.slice(i);
                }
                end = model.length === 0
                  ? (step.op === "truncateBefore" ? end : lsn)
                  : model.at(-1)![0] + 8 + model.at(-1)![1].length;
              }
              equal(wal.nextLsn, end);
            }
            wal.close();
            wal = Wal.openSegmented(dir, size);
            deepEqual(entries(wal), model);
          } finally {
            wal.close();
            Deno.removeSync(dir, { recursive: true });
          }
        },
      ),
      { numRuns: 120 },
    );
  });
});
