// Copyright 2026 the wal-db authors. MIT license.
// Record framing: how one payload becomes the bytes of a frame, and how a header is decoded.
// Pure: no I/O and no `Deno.*`.

import { frameChecksum } from "./crc32c.ts";
import { HEADER_CRC_OFFSET, HEADER_LENGTH_OFFSET, HEADER_SIZE } from "./constants.ts";

/** The two fields of a record header. */
export interface RecordHeader {
  /** The stored CRC32C of the length bytes and the payload. */
  crc: number;
  /** The payload length in bytes. */
  length: number;
}

/** Bytes a record with a payload of `length` bytes occupies in the log. */
export function frameSize(length: number): number {
  return HEADER_SIZE + length;
}

/**
 * Computes the CRC a frame carries from its payload length and payload; see
 * {@linkcode frameChecksum}. The writer takes one as a parameter, so a faster implementation
 * (a native one) can replace the portable table without touching the framing. It may return
 * the CRC as a u32 or as its signed 32-bit equivalent: both encode to the same four bytes.
 */
export type FrameChecksum = (length: number, payload: Uint8Array) => number;

/**
 * Writes the frame of `payload` into `target` at `offset` and returns the frame's size. The CRC
 * covers the length as written (little-endian) and then the payload, so the stored bytes and
 * the checksum cannot disagree about the length. `checksum` must compute what
 * {@linkcode frameChecksum} does (the default).
 */
export function encodeFrame(
  payload: Uint8Array,
  target: Uint8Array,
  offset: number,
  checksum: FrameChecksum = frameChecksum,
): number {
  // Byte stores rather than a DataView: this runs once per append, and a view per call costs
  // more than the eight stores.
  writeU32(target, offset + HEADER_LENGTH_OFFSET, payload.length);
  writeU32(target, offset + HEADER_CRC_OFFSET, checksum(payload.length, payload));
  target.set(payload, offset + HEADER_SIZE);
  return frameSize(payload.length);
}

/** Returns a new array holding the frame of `payload`. */
export function frame(payload: Uint8Array): Uint8Array {
  const bytes = new Uint8Array(frameSize(payload.length));
  encodeFrame(payload, bytes, 0);
  return bytes;
}

/** Decodes the header that starts at `offset` in `bytes` (which must hold 8 bytes there). */
export function decodeHeader(bytes: Uint8Array, offset: number): RecordHeader {
  return {
    crc: readU32(bytes, offset + HEADER_CRC_OFFSET),
    length: readU32(bytes, offset + HEADER_LENGTH_OFFSET),
  };
}

/** The CRC a frame with this payload must carry: CRC32C of the 4 length bytes, then payload. */
export function frameCrc(payload: Uint8Array): number {
  return frameChecksum(payload.length, payload);
}

function writeU32(target: Uint8Array, offset: number, value: number): void {
  target[offset] = value & 0xff;
  target[offset + 1] = (value >>> 8) & 0xff;
  target[offset + 2] = (value >>> 16) & 0xff;
  target[offset + 3] = value >>> 24;
}

/** The little-endian u32 at `offset` of `bytes`. */
export function readU32(bytes: Uint8Array, offset: number): number {
  return (bytes[offset]! | (bytes[offset + 1]! << 8) | (bytes[offset + 2]! << 16) |
    (bytes[offset + 3]! << 24)) >>> 0;
}
