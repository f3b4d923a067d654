// Copyright 2026 the wal-db authors. MIT license.
// Record framing: how one payload becomes the bytes of a frame, and how a header is decoded.
// Pure: no I/O and no `Deno.*`.

import { crc32c } from "./crc32c.ts";
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
 * Writes the frame of `payload` into `target` at `offset` and returns the frame's size. The CRC
 * is computed over the length bytes as written and then the payload, so the stored bytes and
 * the checksum cannot disagree about the length.
 */
export function encodeFrame(payload: Uint8Array, target: Uint8Array, offset: number): number {
  const size = frameSize(payload.length);
  const view = new DataView(target.buffer, target.byteOffset + offset, HEADER_SIZE);
  view.setUint32(HEADER_LENGTH_OFFSET, payload.length, true);
  target.set(payload, offset + HEADER_SIZE);
  const crc = frameCrc(
    target.subarray(offset + HEADER_LENGTH_OFFSET, offset + HEADER_SIZE),
    payload,
  );
  view.setUint32(HEADER_CRC_OFFSET, crc, true);
  return size;
}

/** Returns a new array holding the frame of `payload`. */
export function frame(payload: Uint8Array): Uint8Array {
  const bytes = new Uint8Array(frameSize(payload.length));
  encodeFrame(payload, bytes, 0);
  return bytes;
}

/** Decodes the header that starts at `offset` in `bytes` (which must hold 8 bytes there). */
export function decodeHeader(bytes: Uint8Array, offset: number): RecordHeader {
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, HEADER_SIZE);
  return {
    crc: view.getUint32(HEADER_CRC_OFFSET, true),
    length: view.getUint32(HEADER_LENGTH_OFFSET, true),
  };
}

/** The CRC a frame must carry: CRC32C of its 4 length bytes followed by its payload. */
export function frameCrc(lengthBytes: Uint8Array, payload: Uint8Array): number {
  return crc32c(payload, crc32c(lengthBytes));
}
