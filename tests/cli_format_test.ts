// Copyright 2026 the wal-db authors. MIT license.
// Tests for cli/format.ts: record formats, aligned rows, sizes and the progress bar.

import { equal, ok } from "node:assert/strict";
import {
  alignRows,
  base64Of,
  formatRecord,
  hexDump,
  humanSize,
  plural,
  PREVIEW_SIZE_MAX,
  previewOf,
  PROGRESS_REDRAW_MS,
  ProgressBar,
  progressLine,
} from "../cli/format.ts";
import { bytes, payload } from "./_helpers.ts";

Deno.test("formatRecord() text: padded LSN, size, printable preview", () => {
  const entry = { lsn: 11, data: bytes("hi\x00\n!") };
  equal(formatRecord(entry, "text", 4), "  11       5  hi..!\n");
  equal(formatRecord(entry, "text"), "11       5  hi..!\n");
});

Deno.test("formatRecord() json: one object per line with base64 data", () => {
  const line = formatRecord({ lsn: 0, data: bytes("abc") }, "json");
  equal(line, '{"lsn":0,"size":3,"data":"YWJj"}\n');
  const data = payload(300, 7);
  const parsed = JSON.parse(formatRecord({ lsn: 24, data }, "json"));
  equal(parsed.size, 300);
  equal(atob(parsed.data).length, 300);
});

Deno.test("formatRecord() hex: a title line and a hex dump", () => {
  equal(
    formatRecord({ lsn: 24, data: bytes("abc") }, "hex"),
    "LSN 24, 3 bytes\n  00000000  61 62 63" + " ".repeat(42) + "|abc|\n",
  );
});

Deno.test("hexDump() lays out sixteen bytes a line like hexdump -C", () => {
  const data = new Uint8Array(18).map((_, i) => 0x41 + i);
  equal(
    hexDump(data),
    "  00000000  41 42 43 44 45 46 47 48  49 4a 4b 4c 4d 4e 4f 50  |ABCDEFGHIJKLMNOP|\n" +
      "  00000010  51 52" + " ".repeat(45) + "|QR|\n",
  );
  equal(hexDump(new Uint8Array()), "  (empty)\n");
});

Deno.test("previewOf() shows at most PREVIEW_SIZE_MAX bytes and counts the rest", () => {
  const long = new Uint8Array(PREVIEW_SIZE_MAX + 5).fill(0x7a);
  equal(previewOf(long), `${"z".repeat(PREVIEW_SIZE_MAX)}... (+5 bytes)`);
  equal(previewOf(new Uint8Array([0x1f, 0x20, 0x7e, 0x7f, 0xff])), ". ~..");
});

Deno.test("base64Of() matches the RFC 4648 vectors and handles large payloads", () => {
  const vectors = [["", ""], ["f", "Zg=="], ["fo", "Zm8="], ["foo", "Zm9v"], ["foob", "Zm9vYg=="]];
  for (const [text, expected] of vectors) equal(base64Of(bytes(text!)), expected);
  const big = payload(100_000, 3);
  const back = Uint8Array.from(atob(base64Of(big)), (c) => c.charCodeAt(0));
  ok(back.every((byte, i) => byte === big[i]));
});

Deno.test("alignRows() pads labels to the longest and trims trailing space", () => {
  equal(alignRows([["a", "1"], ["long", "2"], ["", "3"]]), "a     1\nlong  2\n      3\n");
  equal(alignRows([]), "");
});

Deno.test("humanSize() and plural() read naturally", () => {
  equal(humanSize(0), "0 B");
  equal(humanSize(1023), "1023 B");
  equal(humanSize(1536), "1.5 KiB");
  equal(humanSize(3 * 1024 ** 3), "3.0 GiB");
  equal(plural(1, "record"), "1 record");
  equal(plural(0, "record"), "0 records");
});

Deno.test("progressLine() draws a 30-character bar with the percentage and sizes", () => {
  equal(
    progressLine("verifying", 512, 1024),
    `verifying [${"#".repeat(15)}${"-".repeat(15)}]  50%  512 B of 1.0 KiB`,
  );
  equal(progressLine("x", 0, 0), `x [${"#".repeat(30)}] 100%  0 B of 0 B`);
});

Deno.test("ProgressBar redraws at most every PROGRESS_REDRAW_MS and erases itself", () => {
  let now = 0;
  let written = "";
  const bar = new ProgressBar((text) => written += text, "scan", 100, () => now);
  bar.update(10);
  bar.update(20); // too soon: skipped
  now += PROGRESS_REDRAW_MS;
  bar.update(30);
  equal(written.split("\r").length - 1, 2);
  ok(written.includes("30 B of 100 B"));
  ok(!written.includes("20 B of"));
  bar.finish();
  ok(written.endsWith("\r\x1b[2K"));
});

Deno.test("ProgressBar.finish() writes nothing when no bar was drawn", () => {
  let written = "";
  new ProgressBar((text) => written += text, "scan", 100).finish();
  equal(written, "");
});
