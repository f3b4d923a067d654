// Copyright 2026 the wal-db authors. MIT license.
// A MessagePack codec for typed records. The only file of src/ with an npm dependency; it is
// reached only through the `./msgpack` export, never from mod.ts.

import { decode, encode } from "@msgpack/msgpack";
import type { Codec } from "./typed.ts";

/**
 * A codec that stores values as MessagePack: more compact than JSON, and it keeps binary data
 * (`Uint8Array`), which JSON cannot. Decoding rejects bytes that are not exactly one
 * MessagePack value, trailing bytes included.
 *
 * @typeParam T The record type.
 * @returns The codec.
 *
 * @example
 * ```ts
 * import { msgpackCodec } from "@wal-db/wal-db/msgpack";
 * import { deepEqual } from "node:assert/strict";
 *
 * const codec = msgpackCodec<{ blob: Uint8Array }>();
 * deepEqual(codec.decode(codec.encode({ blob: new Uint8Array([1, 2]) })), {
 *   blob: new Uint8Array([1, 2]),
 * });
 * ```
 */
export function msgpackCodec<T>(): Codec<T> {
  return {
    encode: (value: T): Uint8Array => encode(value),
    decode: (bytes: Uint8Array): T => decode(bytes) as T,
  };
}
