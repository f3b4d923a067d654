// Copyright 2026 the wal-db authors. MIT license.
// The segmented layout's names and numbers: segment file names, the `head` file's bytes, and
// which segment holds which byte. Pure: no I/O and no `Deno.*`.

import { crc32c } from "./crc32c.ts";
import {
  HEAD_FILE_SIZE,
  LOG_SIZE_LIMIT,
  SEGMENT_NAME_DIGITS,
  SEGMENT_NAME_SUFFIX,
} from "./constants.ts";

const SEGMENT_NAME = new RegExp(`^[0-9]{${SEGMENT_NAME_DIGITS}}\\${SEGMENT_NAME_SUFFIX}$`);

/** The file name of segment `index`: 20 decimal digits, zero padded, then `.wal`. */
export function segmentName(index: number): string {
  return String(index).padStart(SEGMENT_NAME_DIGITS, "0") + SEGMENT_NAME_SUFFIX;
}

/**
 * The index a segment file name stands for, or `undefined` for any other name (which the
 * layout ignores). Indices beyond what an LSN can address are not segments of ours either.
 */
export function parseSegmentName(name: string): number | undefined {
  if (!SEGMENT_NAME.test(name)) return undefined;
  const index = Number(name.slice(0, SEGMENT_NAME_DIGITS));
  return Number.isSafeInteger(index) ? index : undefined;
}

/** Checks a segment size: a positive integer. */
export function checkSegmentSize(segmentSize: unknown): number {
  if (
    typeof segmentSize !== "number" || !Number.isSafeInteger(segmentSize) || segmentSize <= 0 ||
    segmentSize > LOG_SIZE_LIMIT
  ) {
    throw new RangeError(
      `Cannot open segmented log: segmentSize must be a positive integer, got ${
        String(segmentSize)
      }`,
    );
  }
  return segmentSize;
}

/** The 12 bytes of a `head` file: the head LSN (u64 LE), then the CRC32C of those 8 bytes. */
export function encodeHead(head: number): Uint8Array {
  const bytes = new Uint8Array(HEAD_FILE_SIZE);
  const view = new DataView(bytes.buffer);
  view.setBigUint64(0, BigInt(head), true);
  view.setUint32(8, crc32c(bytes.subarray(0, 8)), true);
  return bytes;
}

/** The head a `head` file holds, or `undefined` when it is short, long or fails its CRC. */
export function decodeHead(bytes: Uint8Array): number | undefined {
  if (bytes.length !== HEAD_FILE_SIZE) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(8, true) !== crc32c(bytes.subarray(0, 8))) return undefined;
  const head = view.getBigUint64(0, true);
  return head <= BigInt(LOG_SIZE_LIMIT) ? Number(head) : undefined;
}
