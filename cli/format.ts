// Copyright 2026 the wal-db authors. MIT license.
// Turns records, key-value summaries and progress into text. Pure: no I/O; callers write it.

import type { Entry } from "../mod.ts";

/** How `dump` and `tail` print a record. */
export type RecordFormat = "text" | "hex" | "json";

/** Every {@linkcode RecordFormat}, for the `--format` flag. */
export const RECORD_FORMATS: readonly RecordFormat[] = ["text", "hex", "json"];

/** Payload bytes the text format shows before it elides the rest. */
export const PREVIEW_SIZE_MAX = 64;

/** Bytes per line of a hex dump, as in `hexdump -C`. */
const HEX_LINE_SIZE = 16;

/** Bytes per `String.fromCharCode` call when encoding base64; well under the argument limit. */
const BASE64_CHUNK_SIZE = 0x8000;

/** Redraw the progress bar at most this often, so a fast scan is not slowed by the terminal. */
export const PROGRESS_REDRAW_MS = 100;

/** Characters between the brackets of the progress bar. */
const PROGRESS_BAR_WIDTH = 30;

const FIRST_PRINTABLE = 0x20;
const LAST_PRINTABLE = 0x7e;

/**
 * One record as `format` prints it, ending with a line break.
 *
 * @param entry The record.
 * @param format `text`: LSN, size and a printable preview on one line; `hex`: a title line and
 * a hex dump of the payload; `json`: one JSON object with `lsn`, `size` and base64 `data`.
 * @param lsnWidth The width LSNs are padded to in the text format, so columns line up.
 */
export function formatRecord(entry: Entry, format: RecordFormat, lsnWidth = 0): string {
  const { lsn, data } = entry;
  if (format === "json") {
    return `${JSON.stringify({ lsn, size: data.length, data: base64Of(data) })}\n`;
  }
  if (format === "hex") {
    return `LSN ${lsn}, ${data.length} bytes\n${hexDump(data)}`;
  }
  const size = String(data.length).padStart(SIZE_COLUMN_WIDTH);
  return `${String(lsn).padStart(lsnWidth)}  ${size}  ${previewOf(data)}\n`;
}

/** Sizes up to a million line up in the text format; larger ones push the preview along. */
const SIZE_COLUMN_WIDTH = 6;

/**
 * The payload as text: printable ASCII as is, every other byte as `.`, at most
 * {@linkcode PREVIEW_SIZE_MAX} bytes, then how many more there are.
 */
export function previewOf(data: Uint8Array): string {
  const shown = printable(data.subarray(0, PREVIEW_SIZE_MAX));
  const more = data.length - PREVIEW_SIZE_MAX;
  return more > 0 ? `${shown}... (+${more} bytes)` : shown;
}

function printable(data: Uint8Array): string {
  let text = "";
  for (const byte of data) {
    text += byte >= FIRST_PRINTABLE && byte <= LAST_PRINTABLE ? String.fromCharCode(byte) : ".";
  }
  return text;
}

/**
 * A hex dump in the layout of `hexdump -C`, indented by two spaces: the offset in the payload,
 * sixteen bytes in two groups of eight, and those bytes as text. An empty payload prints
 * `  (empty)`.
 */
export function hexDump(data: Uint8Array): string {
  if (data.length === 0) return "  (empty)\n";
  let text = "";
  for (let offset = 0; offset < data.length; offset += HEX_LINE_SIZE) {
    const line = data.subarray(offset, offset + HEX_LINE_SIZE);
    const hex = [...line].map((byte) => byte.toString(16).padStart(2, "0"));
    const left = hex.slice(0, HEX_LINE_SIZE / 2).join(" ");
    const right = hex.slice(HEX_LINE_SIZE / 2).join(" ");
    const columns = `${left.padEnd(23)}  ${right.padEnd(23)}`;
    text += `  ${offset.toString(16).padStart(8, "0")}  ${columns}  |${printable(line)}|\n`;
  }
  return text;
}

/** Standard base64 with padding. */
export function base64Of(data: Uint8Array): string {
  let binary = "";
  for (let at = 0; at < data.length; at += BASE64_CHUNK_SIZE) {
    binary += String.fromCharCode(...data.subarray(at, at + BASE64_CHUNK_SIZE));
  }
  return btoa(binary);
}

/** Label-value rows as aligned text: the labels padded to the longest, one row per line. */
export function alignRows(rows: readonly (readonly [string, string])[]): string {
  const width = Math.max(0, ...rows.map(([label]) => label.length));
  return rows.map(([label, value]) => `${label.padEnd(width)}  ${value}`.trimEnd() + "\n")
    .join("");
}

const SIZE_UNITS = ["KiB", "MiB", "GiB", "TiB", "PiB"];

/** A byte count for people: `512 B`, `1.5 KiB`, `3.0 GiB`. */
export function humanSize(size: number): string {
  if (size < 1024) return `${size} B`;
  let value = size;
  let unit = -1;
  while (value >= 1024 && unit < SIZE_UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${SIZE_UNITS[unit]}`;
}

/** `1 record`, `2 records`: a count with its noun. */
export function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? "" : "s"}`;
}

/**
 * A progress bar redrawn in place on a terminal: `\r` returns to the start of the line, and
 * {@linkcode ProgressBar.finish} erases it so the result that follows starts on a clean line.
 */
export class ProgressBar {
  readonly #write: (text: string) => void;
  readonly #total: number;
  readonly #label: string;
  readonly #now: () => number;
  #drawnAt = -Infinity;

  /**
   * Creates a bar; nothing is drawn until the first update.
   *
   * @param write Where the bar goes (stderr).
   * @param label What is in progress, e.g. `verifying`.
   * @param total The amount that means 100%; 0 counts as done.
   * @param now The clock, in milliseconds (tests pass their own).
   */
  constructor(
    write: (text: string) => void,
    label: string,
    total: number,
    now: () => number = () => performance.now(),
  ) {
    this.#write = write;
    this.#label = label;
    this.#total = total;
    this.#now = now;
  }

  /** Redraws for `done` of the total, unless it was drawn less than a redraw interval ago. */
  update(done: number): void {
    const now = this.#now();
    if (now - this.#drawnAt < PROGRESS_REDRAW_MS) return;
    this.#drawnAt = now;
    this.#write(`\r${progressLine(this.#label, done, this.#total)}`);
  }

  /** Erases the bar, if it was ever drawn. */
  finish(): void {
    if (this.#drawnAt !== -Infinity) this.#write("\r\x1b[2K");
  }
}

/** One frame of the progress bar: `label [#####-----]  50%  1.0 KiB of 2.0 KiB`. */
export function progressLine(label: string, done: number, total: number): string {
  const fraction = total <= 0 ? 1 : Math.min(1, Math.max(0, done / total));
  const filled = Math.round(fraction * PROGRESS_BAR_WIDTH);
  const bar = "#".repeat(filled) + "-".repeat(PROGRESS_BAR_WIDTH - filled);
  const percent = `${Math.floor(fraction * 100)}%`.padStart(4);
  return `${label} [${bar}] ${percent}  ${humanSize(done)} of ${humanSize(total)}`;
}
