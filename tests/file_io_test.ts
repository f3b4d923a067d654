// Copyright 2026 the wal-db authors. MIT license.
// Tests for src/file_io.ts: the read and write loops and the error wrapping that FileStore and
// FsDirectory share. The loops are checked on real files and on handles that take or give a
// few bytes per call, the case the loops exist for.

import { deepEqual, equal, notEqual, ok, throws } from "node:assert/strict";
import fc from "fast-check";
import { join } from "node:path";
import { WalError } from "../src/errors.ts";
import { identityOf, readAtLimit, SequentialReader, wrapIo, writeAll } from "../src/file_io.ts";
import { payload, withTempDir } from "./_helpers.ts";

/** A handle over `bytes` whose reads give at most `step` bytes each, as `readSync` may. */
function trickleReader(
  bytes: Uint8Array,
  step: number,
): { file: Deno.FsFile; reads: number[]; seeks: number[] } {
  let position = 0;
  const reads: number[] = [];
  const seeks: number[] = [];
  const file = {
    seekSync(offset: number, whence: Deno.SeekMode): number {
      equal(whence, Deno.SeekMode.Start);
      seeks.push(offset);
      position = offset;
      return position;
    },
    readSync(into: Uint8Array): number | null {
      if (position >= bytes.length) return null;
      const n = Math.min(step, into.length, bytes.length - position);
      into.set(bytes.subarray(position, position + n));
      position += n;
      reads.push(n);
      return n;
    },
  };
  return { file: file as unknown as Deno.FsFile, reads, seeks };
}

/** A handle that takes at most `limits[i]` bytes on its i-th write (the last limit repeats). */
function trickleWriter(limits: number[]): { file: Deno.FsFile; written: number[] } {
  const written: number[] = [];
  let call = 0;
  const file = {
    writeSync(data: Uint8Array): number {
      const limit = limits[Math.min(call++, limits.length - 1)]!;
      const n = Math.min(limit, data.length);
      written.push(...data.subarray(0, n));
      return n;
    },
  };
  return { file: file as unknown as Deno.FsFile, written };
}

Deno.test("readAtLimit: reads a range of a real file, never past the end it is given", async () => {
  await withTempDir((dir) => {
    const path = join(dir, "data");
    const content = payload(5000, 1);
    Deno.writeFileSync(path, content);
    using file = Deno.openSync(path, { read: true });
    const buffer = new Uint8Array(1000);
    equal(readAtLimit(file, 100, buffer, 5000), 1000);
    deepEqual(buffer, content.subarray(100, 1100));
    // The end given (the size the caller knows) cuts the read even though the file goes on.
    buffer.fill(0);
    equal(readAtLimit(file, 4500, buffer, 4800), 300);
    deepEqual(buffer.subarray(0, 300), content.subarray(4500, 4800));
    equal(buffer[300], 0, "nothing was copied past the end");
    // At or past the end: nothing.
    equal(readAtLimit(file, 4800, buffer, 4800), 0);
    equal(readAtLimit(file, 9000, buffer, 4800), 0);
    equal(readAtLimit(file, 0, new Uint8Array(0), 4800), 0);
  });
});

Deno.test("readAtLimit: an end past the file's real end returns what the file has", async () => {
  await withTempDir((dir) => {
    const path = join(dir, "data");
    Deno.writeFileSync(path, payload(10, 2));
    using file = Deno.openSync(path, { read: true });
    const buffer = new Uint8Array(64);
    equal(readAtLimit(file, 4, buffer, 64), 6);
    deepEqual(buffer.subarray(0, 6), payload(10, 2).subarray(4));
  });
});

Deno.test("readAtLimit: loops over short reads until the range is full", () => {
  const content = payload(3000, 3);
  const { file, reads } = trickleReader(content, 7);
  const buffer = new Uint8Array(2000);
  equal(readAtLimit(file, 500, buffer, 3000), 2000);
  deepEqual(buffer, content.subarray(500, 2500));
  ok(reads.length > 1, "the reader gave the bytes in several calls");
  equal(reads.reduce((a, b) => a + b, 0), 2000);
});

Deno.test("readAtLimit: stops at the file's end (a null read) before the range is full", () => {
  const content = payload(100, 4);
  const { file } = trickleReader(content, 30);
  const buffer = new Uint8Array(200);
  equal(readAtLimit(file, 50, buffer, 500), 50);
  deepEqual(buffer.subarray(0, 50), content.subarray(50));
});

Deno.test("SequentialReader: reads what readAtLimit reads, whatever the order of the ranges", () => {
  const content = payload(3000, 5);
  fc.assert(
    fc.property(
      fc.array(fc.record({ offset: fc.nat({ max: 3100 }), length: fc.nat({ max: 700 }) }), {
        maxLength: 12,
      }),
      fc.integer({ min: 1, max: 900 }),
      fc.nat({ max: 3100 }),
      (ranges, step, end) => {
        const { file } = trickleReader(content, step);
        const reader = new SequentialReader(file);
        const plain = trickleReader(content, step).file;
        // Half the reads start where the last one ended, the case that skips the seek.
        let next = 0;
        for (const [i, { offset, length }] of ranges.entries()) {
          const at = i % 2 === 0 ? next : offset;
          const got = new Uint8Array(length);
          const want = new Uint8Array(length);
          const n = reader.readAt(at, got, end);
          equal(n, readAtLimit(plain, at, want, end));
          deepEqual(got, want);
          next = at + n;
        }
      },
    ),
    { numRuns: 300 },
  );
});

Deno.test("SequentialReader: seeks only when a read does not start where the last one ended", () => {
  const content = payload(1000, 2);
  const { file, seeks } = trickleReader(content, 64);
  const reader = new SequentialReader(file);
  const buffer = new Uint8Array(100);
  equal(reader.readAt(0, buffer, 1000), 100);
  equal(reader.readAt(100, buffer, 1000), 100);
  equal(reader.readAt(200, buffer, 1000), 100);
  deepEqual(buffer, content.subarray(200, 300));
  equal(reader.readAt(50, buffer, 1000), 100);
  equal(reader.readAt(150, buffer, 1000), 100);
  // An empty range reads nothing and leaves the position alone.
  equal(reader.readAt(999, new Uint8Array(0), 1000), 0);
  equal(reader.readAt(250, buffer, 1000), 100);
  deepEqual(seeks, [0, 50]);
});

Deno.test("SequentialReader: a read that fails part way seeks again next time", () => {
  const content = payload(1000, 3);
  let failNext = false;
  const { file, seeks } = trickleReader(content, 10);
  const readSync = file.readSync.bind(file);
  file.readSync = (into: Uint8Array) => {
    if (failNext) throw new Error("EIO");
    return readSync(into);
  };
  const reader = new SequentialReader(file);
  const buffer = new Uint8Array(30);
  equal(reader.readAt(0, buffer, 1000), 30);
  failNext = true;
  throws(() => reader.readAt(30, buffer, 1000), /EIO/);
  failNext = false;
  equal(reader.readAt(30, buffer, 1000), 30);
  deepEqual(buffer, content.subarray(30, 60));
  deepEqual(seeks, [0, 30]);
});

Deno.test("writeAll: writes everything through a handle that takes a few bytes per call", () => {
  const data = payload(2500, 5);
  const { file, written } = trickleWriter([1000, 3]);
  const counts: number[] = [];
  writeAll(file, data, (count) => counts.push(count));
  deepEqual(new Uint8Array(written), data);
  // 1000 bytes, then the other 1500 three at a time, each counted.
  deepEqual(counts, [1000, ...new Array(500).fill(3)]);
});

Deno.test("writeAll: one call that takes everything reports it once", () => {
  const { file, written } = trickleWriter([1 << 20]);
  const counts: number[] = [];
  writeAll(file, payload(4096, 6), (count) => counts.push(count));
  deepEqual(counts, [4096]);
  equal(written.length, 4096);
});

Deno.test("writeAll: a handle that takes no bytes is an io error, after the progress so far", () => {
  const { file } = trickleWriter([10, 0]);
  const counts: number[] = [];
  const error = throwsWal(() => writeAll(file, payload(100, 7), (count) => counts.push(count)));
  equal(error.kind, "io");
  // The caller's size stays right: the 10 bytes written before the failure were reported.
  deepEqual(counts, [10]);
});

Deno.test("writeAll: appends to a real file (the default progress is a no-op)", async () => {
  await withTempDir((dir) => {
    const path = join(dir, "data");
    const data = payload(70_000, 8);
    {
      using file = Deno.openSync(path, { write: true, create: true });
      writeAll(file, data);
      writeAll(file, new Uint8Array(0));
    }
    deepEqual(Deno.readFileSync(path), data);
  });
});

Deno.test("identityOf: device and inode, and the creation time where there is one", () => {
  const base = { dev: 7, ino: 42 } as Deno.FileInfo;
  equal(identityOf({ ...base, birthtime: new Date(1234) }, "/a"), "inode:7:42:1234");
  equal(identityOf({ ...base, birthtime: null }, "/a"), "inode:7:42:");
  // A reused inode number with a new creation time is another file.
  notEqual(
    identityOf({ ...base, birthtime: new Date(1) }, "/a"),
    identityOf({ ...base, birthtime: new Date(2) }, "/a"),
  );
  // Where the OS reports no inode, the path is all there is.
  equal(identityOf({ dev: null, ino: 42 } as unknown as Deno.FileInfo, "/a/b"), "path:/a/b");
  equal(identityOf({ dev: 7, ino: null } as unknown as Deno.FileInfo, "/a/b"), "path:/a/b");
});

Deno.test("identityOf: the same file by two paths is one identity; two files are two", async () => {
  await withTempDir((dir) => {
    const a = join(dir, "a");
    const b = join(dir, "b");
    Deno.writeFileSync(a, new Uint8Array(1));
    Deno.writeFileSync(b, new Uint8Array(1));
    Deno.symlinkSync(a, join(dir, "link"));
    const viaLink = identityOf(Deno.statSync(join(dir, "link")), join(dir, "link"));
    equal(identityOf(Deno.statSync(a), a), viaLink);
    notEqual(identityOf(Deno.statSync(a), a), identityOf(Deno.statSync(b), b));
  });
});

Deno.test("wrapIo: an operating-system error becomes kind io, saying what was being done", () => {
  const cause = new Deno.errors.NotFound("No such file or directory (os error 2)");
  const wrapped = wrapIo(cause, 'open log "/x"');
  ok(wrapped instanceof WalError);
  equal(wrapped.kind, "io");
  equal(wrapped.message, 'Cannot open log "/x": No such file or directory (os error 2)');
  equal(wrapped.cause, cause);
  const fromString = wrapIo("disk on fire", "flush");
  ok(fromString instanceof WalError);
  equal(fromString.message, "Cannot flush: disk on fire");
});

Deno.test("wrapIo: our own errors and permission errors pass through unchanged", () => {
  const own = new WalError("locked", "held elsewhere");
  equal(wrapIo(own, "open"), own);
  const denied = new Deno.errors.PermissionDenied("Requires write access");
  equal(wrapIo(denied, "open"), denied);
  const notCapable = new Deno.errors.NotCapable('Requires read access to "/x"');
  equal(wrapIo(notCapable, "open"), notCapable);
});

function throwsWal(fn: () => unknown): WalError {
  let caught: unknown;
  throws(() => {
    try {
      fn();
    } catch (error) {
      caught = error;
      throw error;
    }
  });
  ok(caught instanceof WalError, `expected a WalError, got ${String(caught)}`);
  return caught;
}
