// Copyright 2026 the wal-db authors. MIT license.
// Tests for src/read_window.ts: which range a window holds, and a read that throws.

import { equal, throws } from "node:assert/strict";
import fc from "fast-check";
import type { ByteSource } from "../src/read_window.ts";
import { ReadWindow } from "../src/read_window.ts";

function arraySource(bytes: Uint8Array): ByteSource {
  return {
    readAt(offset: number, into: Uint8Array): number {
      const part = bytes.subarray(offset, offset + into.length);
      into.set(part);
      return part.length;
    },
  };
}

Deno.test("ReadWindow.indexOf finds exactly the ranges a load read, at the source's bytes", () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 1, maxLength: 300 }),
      fc.nat({ max: 299 }),
      fc.integer({ min: 1, max: 64 }),
      fc.nat({ max: 320 }),
      fc.nat({ max: 70 }),
      (bytes, loadAt, want, offset, size) => {
        const window = new ReadWindow(64);
        const got = window.load(arraySource(bytes), loadAt, want);
        equal(got, Math.max(0, Math.min(want, bytes.length - loadAt)));
        const from = window.indexOf(offset, size);
        const inside = offset >= loadAt && offset + size <= loadAt + got;
        equal(from >= 0, inside);
        if (inside) {
          for (let i = 0; i < size; i++) equal(window.array[from + i], bytes[offset + i]);
        }
      },
    ),
  );
});

Deno.test("ReadWindow holds nothing after a load that throws part way, until the next load", () => {
  const bytes = Uint8Array.from({ length: 100 }, (_, i) => i);
  const clean = arraySource(bytes);
  const window = new ReadWindow(32);
  window.load(clean, 0, 32);
  equal(window.indexOf(4, 8), 4);
  const failing: ByteSource = {
    readAt(_offset: number, into: Uint8Array): number {
      into.fill(0x5a); // scribbles over the array before it fails
      throw new Error("EIO");
    },
  };
  throws(() => window.load(failing, 40, 32), /EIO/);
  // Neither the old range nor the new one is claimed: their bytes are the scribble.
  equal(window.indexOf(4, 8), -1);
  equal(window.indexOf(40, 1), -1);
  equal(window.end - window.start, 0);
  window.load(clean, 40, 32);
  equal(window.array[window.indexOf(41, 1)], 41);
});

Deno.test("ReadWindow holds nothing before its first load", () => {
  const window = new ReadWindow(8);
  equal(window.indexOf(0, 0), -1);
  equal(window.array.length, 0);
});
