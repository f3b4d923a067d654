// Copyright 2026 the wal-db authors. MIT license.
// The public view of a segmented log's directory layout, for tools that inspect a log without
// opening it (the `wal` command line among them). Pure: no I/O and no `Deno.*`.

import {
  HEAD_FILE_NAME,
  LOCK_FILE_NAME,
  LOG_SIZE_LIMIT,
  SEGMENT_SIZE_FILE_NAME,
  SEGMENT_SIZE_FILE_SIZE,
} from "./constants.ts";
import {
  decodeHead,
  decodeSegmentSize,
  parseSegmentName,
  segmentName,
  type SegmentSizeRecord,
} from "./segments.ts";

/** The names and codecs of a segmented log's files; see {@linkcode segmentLayout}. */
export interface SegmentLayout {
  /** The `head` file: where the log starts after a checkpoint. */
  readonly headFileName: string;
  /** The file a segmented log's lock is taken on (never a segment). */
  readonly lockFileName: string;
  /** The `segment-size` file: the segment size, recorded and checksummed. */
  readonly segmentSizeFileName: string;
  /** The size in bytes of a valid `segment-size` file. */
  readonly segmentSizeFileSize: number;
  /** The largest LSN a log may reach. */
  readonly logSizeLimit: number;
  /** The file name of segment `index`: 20 digits and `.wal`. */
  segmentName(index: number): string;
  /** The index a segment file name stands for, or undefined for any other name. */
  parseSegmentName(name: string): number | undefined;
  /** The head a `head` file's bytes record, or undefined when they are damaged. */
  decodeHead(bytes: Uint8Array): number | undefined;
  /** The segment size a `segment-size` file's bytes record, or why they are damaged. */
  decodeSegmentSize(bytes: Uint8Array): SegmentSizeRecord;
}

/**
 * The layout of a segmented log's directory (see docs/ON_DISK_FORMAT.md): the names of its
 * files and the codecs of its `head` and `segment-size` files, for tools that look at a log
 * without opening it. Opening a log checks all of this by itself.
 *
 * @example Reading a directory listing
 * ```ts
 * import { segmentLayout } from "@wal-db/wal-db";
 * import { deepEqual, equal } from "node:assert/strict";
 *
 * const names = [segmentLayout.segmentName(0), segmentLayout.segmentName(1), "head", "notes"];
 * equal(names[1], "00000000000000000001.wal");
 * deepEqual(names.map((n) => segmentLayout.parseSegmentName(n)), [0, 1, undefined, undefined]);
 * equal(segmentLayout.decodeHead(new Uint8Array(3)), undefined);
 * ```
 */
export const segmentLayout: SegmentLayout = {
  headFileName: HEAD_FILE_NAME,
  lockFileName: LOCK_FILE_NAME,
  segmentSizeFileName: SEGMENT_SIZE_FILE_NAME,
  segmentSizeFileSize: SEGMENT_SIZE_FILE_SIZE,
  logSizeLimit: LOG_SIZE_LIMIT,
  segmentName,
  parseSegmentName,
  decodeHead,
  decodeSegmentSize,
};

export type { SegmentSizeRecord };
