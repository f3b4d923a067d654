// Copyright 2026 the wal-db authors. MIT license.
// The bytes of a checkpoint's snapshot file: a checked header (LSN, length, CRCs) and the
// caller's payload. Pure: no I/O and no `Deno.*` (docs/ON_DISK_FORMAT.md, "Snapshot file").

import {
  LOG_SIZE_LIMIT,
  SNAPSHOT_FILE_MAGIC,
  SNAPSHOT_FILE_VERSION,
  SNAPSHOT_HEADER_SIZE,
} from "./constants.ts";
import { crc32c } from "./crc32c.ts";

const MAGIC = new TextEncoder().encode(SNAPSHOT_FILE_MAGIC);
const VERSION_OFFSET = 4;
const LSN_OFFSET = 8;
const LENGTH_OFFSET = 16;
const PAYLOAD_CRC_OFFSET = 24;
const HEADER_CRC_OFFSET = 28;

/** A snapshot: the caller's state as bytes, and the LSN of the first record it does not hold. */
export interface Snapshot {
  /** Replay the log from here: every record before it is already in `data`. */
  readonly lsn: number;
  /** The caller's bytes, exactly as they were written. */
  readonly data: Uint8Array;
}

/** What a snapshot header says, or why it cannot be trusted. */
export type SnapshotHeader =
  | { readonly lsn: number; readonly length: number; readonly payloadCrc: number }
  | { readonly damage: string };

/**
 * The whole file for a snapshot of `data` taken at `lsn`: the header, then `data`.
 *
 * @param lsn Where replay starts: a non-negative safe integer.
 * @param data The payload.
 * @returns The file's bytes.
 */
export function encodeSnapshot(lsn: number, data: Uint8Array): Uint8Array {
  const bytes = new Uint8Array(SNAPSHOT_HEADER_SIZE + data.length);
  const view = new DataView(bytes.buffer);
  bytes.set(MAGIC, 0);
  view.setUint32(VERSION_OFFSET, SNAPSHOT_FILE_VERSION, true);
  view.setBigUint64(LSN_OFFSET, BigInt(lsn), true);
  view.setBigUint64(LENGTH_OFFSET, BigInt(data.length), true);
  view.setUint32(PAYLOAD_CRC_OFFSET, crc32c(data), true);
  view.setUint32(HEADER_CRC_OFFSET, crc32c(bytes.subarray(0, HEADER_CRC_OFFSET)), true);
  bytes.set(data, SNAPSHOT_HEADER_SIZE);
  return bytes;
}

/**
 * Reads a snapshot header from the first bytes of a file of `fileSize` bytes. The header's own
 * CRC is checked first, so a damaged length is never believed; the length must then account
 * for the file exactly (a snapshot cut short or with bytes after it is damaged).
 *
 * @param header The file's first bytes (at most {@linkcode SNAPSHOT_HEADER_SIZE} are read).
 * @param fileSize The whole file's size.
 * @returns The header's fields, or what is wrong with it.
 */
export function decodeSnapshotHeader(header: Uint8Array, fileSize: number): SnapshotHeader {
  if (header.length < SNAPSHOT_HEADER_SIZE) {
    return { damage: `${fileSize} bytes, shorter than the ${SNAPSHOT_HEADER_SIZE}-byte header` };
  }
  if (!MAGIC.every((byte, i) => header[i] === byte)) {
    return { damage: `it does not start with "${SNAPSHOT_FILE_MAGIC}"` };
  }
  const view = new DataView(header.buffer, header.byteOffset, SNAPSHOT_HEADER_SIZE);
  if (view.getUint32(HEADER_CRC_OFFSET, true) !== crc32c(header.subarray(0, HEADER_CRC_OFFSET))) {
    return { damage: "its header fails its CRC32C" };
  }
  const version = view.getUint32(VERSION_OFFSET, true);
  if (version !== SNAPSHOT_FILE_VERSION) {
    return { damage: `version ${version}, this wal-db reads ${SNAPSHOT_FILE_VERSION}` };
  }
  const lsn = view.getBigUint64(LSN_OFFSET, true);
  const length = view.getBigUint64(LENGTH_OFFSET, true);
  if (lsn > BigInt(LOG_SIZE_LIMIT)) return { damage: `its LSN ${lsn} is past any log's end` };
  if (length + BigInt(SNAPSHOT_HEADER_SIZE) !== BigInt(fileSize)) {
    return {
      damage: `its header says ${length} payload bytes, the file holds ${
        Math.max(0, fileSize - SNAPSHOT_HEADER_SIZE)
      }`,
    };
  }
  return {
    lsn: Number(lsn),
    length: Number(length),
    payloadCrc: view.getUint32(PAYLOAD_CRC_OFFSET, true),
  };
}
