// Copyright 2026 the wal-db authors. MIT license.
// Tests for cli/open.ts: telling the layouts apart, deriving the segment size, opening.

import { deepEqual, equal, match, ok, throws } from "node:assert/strict";
import { join } from "node:path";
import { parseArgs } from "../cli/args.ts";
import { CliError, EXIT_UNREADABLE, UsageError } from "../cli/errors.ts";
import {
  deriveSegmentSize,
  detectLayout,
  diskSizeOf,
  iterFromChecked,
  nearestRecords,
  NO_LOCK_FLAG,
  openForReading,
  READ_CONFIG,
  SEGMENT_SIZE_FLAG,
  SEGMENT_SIZE_UNBOUNDED,
} from "../cli/open.ts";
import { WalError } from "../src/errors.ts";
import { Wal } from "../src/open.ts";
import { encodeHead, encodeSegmentSize, segmentName } from "../src/segments.ts";
import { bytes, logImage, withTempDir } from "./_helpers.ts";

const READ_SPEC = {
  name: "read",
  summary: "",
  positionals: ["path"],
  flags: [SEGMENT_SIZE_FLAG, NO_LOCK_FLAG],
  details: "",
};

/** Writes `image` as a segmented log: segment k holds bytes [k·size, (k+1)·size). */
function writeSegments(dir: string, image: Uint8Array, size: number): void {
  Deno.mkdirSync(dir, { recursive: true });
  for (let k = 0; k * size < image.length || k === 0; k++) {
    Deno.writeFileSync(join(dir, segmentName(k)), image.subarray(k * size, (k + 1) * size));
  }
}

const unreadable = (error: unknown) =>
  error instanceof CliError && error.exitCode === EXIT_UNREADABLE;

Deno.test("detectLayout() calls a file a single-file log", async () => {
  await withTempDir((dir) => {
    const path = join(dir, "app.wal");
    Deno.writeFileSync(path, logImage([bytes("a")]));
    deepEqual(detectLayout(path), { kind: "file", path, size: 9 });
  });
});

Deno.test("detectLayout() derives the segment size from the segments before the last", async () => {
  await withTempDir((dir) => {
    writeSegments(dir, logImage([bytes("abc"), bytes("hello")]), 10);
    const layout = detectLayout(dir);
    equal(layout.kind, "segmented");
    if (layout.kind !== "segmented") return;
    equal(layout.segmentSize, 10);
    equal(layout.segmentSizeSource, "files");
    deepEqual(layout.segments.map((s) => [s.index, s.size]), [[0, 10], [1, 10], [2, 4]]);
    equal(diskSizeOf(layout), 24);
  });
});

Deno.test("detectLayout() reads one segment at index 0 as unbounded, and says so", async () => {
  await withTempDir((dir) => {
    writeSegments(dir, logImage([bytes("abc")]), 100);
    const layout = detectLayout(dir);
    if (layout.kind !== "segmented") throw new Error("not segmented");
    equal(layout.segmentSize, SEGMENT_SIZE_UNBOUNDED);
    equal(layout.segmentSizeSource, "unbounded");
  });
});

Deno.test("detectLayout() takes --segment-size over what the files say", async () => {
  await withTempDir((dir) => {
    writeSegments(dir, logImage([bytes("abc"), bytes("hello")]), 10);
    const layout = detectLayout(dir, 12);
    if (layout.kind !== "segmented") throw new Error("not segmented");
    equal(layout.segmentSize, 12);
    equal(layout.segmentSizeSource, "option");
    equal(layout.derivedSegmentSize, 10);
    throws(() => detectLayout(dir, 0), UsageError);
  });
});

Deno.test("detectLayout() needs --segment-size when a lone segment is not number 0", async () => {
  await withTempDir((dir) => {
    Deno.writeFileSync(join(dir, segmentName(3)), logImage([bytes("abc")]));
    throws(
      () => detectLayout(dir),
      (e) => e instanceof UsageError && /--segment-size/.test(e.message),
    );
    equal(detectLayout(dir, 100).kind, "segmented");
  });
});

Deno.test("detectLayout() narrows the segment size down from the head file", async () => {
  await withTempDir((dir) => {
    // Written with segments of 100 bytes and checkpointed at LSN 250: segment 2 remains.
    Deno.writeFileSync(join(dir, segmentName(2)), new Uint8Array(60));
    Deno.writeFileSync(join(dir, "head"), encodeHead(250));
    throws(
      () => detectLayout(dir),
      (e) =>
        e instanceof UsageError && /its head file says between 84 and 125 bytes/.test(e.message),
    );
  });
});

Deno.test("detectLayout() needs --segment-size when every segment but the last is empty", async () => {
  await withTempDir((dir) => {
    Deno.writeFileSync(join(dir, segmentName(0)), new Uint8Array());
    Deno.writeFileSync(join(dir, segmentName(1)), logImage([bytes("abc")]));
    throws(() => detectLayout(dir), UsageError);
  });
});

Deno.test("detectLayout() accepts a segmented log that has no segment yet", async () => {
  await withTempDir((dir) => {
    Deno.writeFileSync(join(dir, "wal.lock"), new Uint8Array());
    const layout = detectLayout(dir);
    equal(layout.kind, "segmented");
    equal(diskSizeOf(layout), 0);
  });
});

Deno.test("detectLayout() refuses a missing path and a directory that holds no log", async () => {
  await withTempDir((dir) => {
    throws(() => detectLayout(join(dir, "missing")), unreadable);
    Deno.writeFileSync(join(dir, "notes.txt"), bytes("hi"));
    Deno.writeFileSync(join(dir, "0.wal"), bytes("hi"));
    throws(() => detectLayout(dir), unreadable);
  });
});

Deno.test("deriveSegmentSize() takes the most common size; a short segment is a hole", () => {
  const of = (...sizes: number[]) => sizes.map((size, index) => ({ index, size }));
  equal(deriveSegmentSize(of(10, 10, 3)), 10);
  equal(deriveSegmentSize(of(10, 4, 10, 10, 1)), 10);
  equal(deriveSegmentSize(of(4, 10, 1)), 10); // a tie goes to the larger
  equal(deriveSegmentSize(of(0, 7)), undefined);
  equal(deriveSegmentSize(of(7)), undefined);
  equal(deriveSegmentSize([]), undefined);
});

Deno.test("openForReading() opens read-only and reads every intact record", async () => {
  await withTempDir((dir) => {
    const image = logImage([bytes("abc"), bytes("hello"), bytes("more")]);
    image[11 + 8]! ^= 1; // damage "hello": "more" stays readable
    writeSegments(dir, image, 10);
    const warnings: string[] = [];
    const { layout, wal } = openForReading(parseArgs(READ_SPEC, [dir]), (t) => warnings.push(t));
    try {
      equal(layout.kind, "segmented");
      deepEqual([...wal.iter()].map((e) => e.lsn), [0, 24]);
      throws(() => wal.append(bytes("x")), (e) => e instanceof WalError && e.kind === "read-only");
    } finally {
      wal.close();
    }
    deepEqual(warnings, []);
  });
});

Deno.test("openForReading() warns when --segment-size disagrees with the files", async () => {
  await withTempDir((dir) => {
    writeSegments(dir, logImage([bytes("abc"), bytes("hello")]), 10);
    // Segment 1 cut short: the sizes before the last differ, so the library cannot tell that
    // 30 is wrong (short segments may be holes); the CLI still sees that most hold 10.
    Deno.truncateSync(join(dir, segmentName(1)), 4);
    const warnings: string[] = [];
    const args = parseArgs(READ_SPEC, [dir, "--segment-size", "30", "--no-lock"]);
    const { wal } = openForReading(args, (text) => warnings.push(text));
    try {
      // Read with the wrong size, the first segment ends in a hole: damage at LSN 0.
      equal(wal.recovery.damage?.lsn, 0);
    } finally {
      wal.close();
    }
    equal(warnings.length, 1);
    match(warnings[0]!, /--segment-size 30 differs from the size of the segment files \(10\)/);
  });
});

Deno.test("openForReading() refuses a --segment-size that the log rules out", async (t) => {
  await withTempDir(async (dir) => {
    const isWrongSize = (size: number) => (e: unknown) =>
      e instanceof WalError && e.kind === "corruption" && /wrong segment size/.test(e.message) &&
      e.message.includes(String(size));
    const open = (size: string) =>
      openForReading(parseArgs(READ_SPEC, [dir, "--segment-size", size, "--no-lock"]), () => {});
    await t.step("every segment but the last holds 10 bytes", () => {
      writeSegments(dir, logImage([bytes("abc"), bytes("hello")]), 10);
      throws(() => open("30"), isWrongSize(10));
      throws(() => open("5"), isWrongSize(10));
    });
    await t.step("the segment-size file records 10", () => {
      Deno.writeFileSync(join(dir, "segment-size"), encodeSegmentSize(10));
      throws(() => open("30"), isWrongSize(10));
    });
  });
});

Deno.test("detectLayout() takes the size the segment-size file records, even for one segment", async () => {
  await withTempDir((dir) => {
    // One segment, numbered 3 (a checkpoint dropped 0 to 2): the files alone cannot tell the size.
    Deno.writeFileSync(join(dir, segmentName(3)), logImage([bytes("abc")]));
    Deno.writeFileSync(join(dir, "head"), encodeHead(30));
    Deno.writeFileSync(join(dir, "segment-size"), encodeSegmentSize(10));
    const layout = detectLayout(dir);
    equal(layout.kind, "segmented");
    if (layout.kind !== "segmented") return;
    equal(layout.segmentSize, 10);
    equal(layout.segmentSizeSource, "recorded");
    equal(layout.recordedSegmentSize, 10);
  });
});

Deno.test("READ_CONFIG asks for a read-only open that skips damage and takes no lock", () => {
  deepEqual(READ_CONFIG, { readOnly: true, lock: "none", recoveryPolicy: "skip" });
});

Deno.test("openForReading() never keeps a writer from opening the log, nor waits for one", async () => {
  await withTempDir((dir) => {
    const path = join(dir, "app.wal");
    Deno.writeFileSync(path, logImage([bytes("abc"), bytes("hello")]));
    const { wal } = openForReading(parseArgs(READ_SPEC, [path]), () => {});
    try {
      // The reader is open: a writer's exclusive lock must still be granted.
      const writer = Wal.open(path);
      try {
        const { wal: second } = openForReading(parseArgs(READ_SPEC, [path]), () => {});
        deepEqual([...second.iter()].map((e) => e.lsn), [0, 11]);
        second.close();
      } finally {
        writer.close();
      }
    } finally {
      wal.close();
    }
  });
});

Deno.test("openForReading() passes extra options to the open: a progress callback", async () => {
  await withTempDir((dir) => {
    const path = join(dir, "app.wal");
    const payload = new Uint8Array(64 * 1024);
    Deno.writeFileSync(path, logImage(Array.from({ length: 40 }, () => payload)));
    const calls: [number, number][] = [];
    const { wal } = openForReading(parseArgs(READ_SPEC, [path]), () => {}, {
      onRecoveryProgress: (scanned, total) => calls.push([scanned, total]),
    });
    wal.close();
    const total = 40 * (64 * 1024 + 8);
    ok(calls.length >= 2, `called ${calls.length} times`);
    ok(calls.every(([scanned, t]) => t === total && scanned > 0 && scanned < total));
  });
});

Deno.test("detectLayout() resolves a relative path against the user's folder and names it", async () => {
  await withTempDir((dir) => {
    Deno.writeFileSync(join(dir, "app.wal"), logImage([bytes("abc")]));
    const previous = Deno.env.get("INIT_CWD");
    Deno.env.set("INIT_CWD", dir);
    try {
      const layout = detectLayout("app.wal");
      equal(layout.path, join(dir, "app.wal"));
      throws(
        () => detectLayout("data/missing.wal"),
        (e) =>
          e instanceof CliError &&
          e.message === `Cannot read "${join(dir, "data", "missing.wal")}": no such file or ` +
              "directory",
      );
    } finally {
      if (previous === undefined) Deno.env.delete("INIT_CWD");
      else Deno.env.set("INIT_CWD", previous);
    }
  });
});

Deno.test("nearestRecords() names the records before and after an LSN", async () => {
  await withTempDir((dir) => {
    const path = join(dir, "app.wal");
    // LSNs 0, 11 and 24; the log ends at 36.
    Deno.writeFileSync(path, logImage([bytes("abc"), bytes("hello"), bytes("more")]));
    const { wal } = openForReading(parseArgs(READ_SPEC, [path]), () => {});
    try {
      equal(
        nearestRecords(wal, 12),
        "the nearest records start at LSN 11 (before it) and LSN 24 (after it)",
      );
      equal(
        nearestRecords(wal, 30),
        "the nearest record starts at LSN 24, before it (the last record of the log)",
      );
    } finally {
      wal.close();
    }
  });
  await withTempDir((dir) => {
    const path = join(dir, "empty.wal");
    Deno.writeFileSync(path, new Uint8Array());
    const { wal } = openForReading(parseArgs(READ_SPEC, [path]), () => {});
    try {
      equal(nearestRecords(wal, 3), "the log holds no record");
    } finally {
      wal.close();
    }
  });
});

Deno.test("iterFromChecked() words an invalid LSN with the action the user asked for", async () => {
  await withTempDir((dir) => {
    const path = join(dir, "app.wal");
    Deno.writeFileSync(path, logImage([bytes("abc"), bytes("hello")]));
    const { wal } = openForReading(parseArgs(READ_SPEC, [path]), () => {});
    try {
      deepEqual([...iterFromChecked(wal, 11, "dump from")].map((e) => e.lsn), [11]);
      throws(
        () => iterFromChecked(wal, 5, "dump from"),
        (e) =>
          e instanceof WalError && e.kind === "invalid-lsn" &&
          e.message === "Cannot dump from LSN 5: no record starts there; the nearest records " +
              "start at LSN 0 (before it) and LSN 11 (after it)",
      );
    } finally {
      wal.close();
    }
  });
});
