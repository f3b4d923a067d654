// Copyright 2026 the wal-db authors. MIT license.
// CRC32C (Castagnoli) with slicing-by-8 tables. Pure: no I/O and no `Deno.*`.

import {
  CRC32C_POLYNOMIAL_REFLECTED,
  CRC_SLICE_TABLES,
  CRC_WORD_LOOP_MIN_BYTES,
  CRC_WORD_VIEW_MIN_BYTES,
} from "./constants.ts";

/**
 * Eight 256-entry tables ({@linkcode CRC_SLICE_TABLES}), built once at module load. Table 0 is
 * the classic byte-at-a-time table; table k gives the CRC contribution of a byte that is
 * followed by k zero bytes, which lets the loops fold eight input bytes per step with eight
 * independent lookups.
 *
 * Signed 32-bit entries: V8 keeps a value of a Uint32Array above 2^31 as a double, which made
 * every lookup a conversion; an Int32Array entry stays a small integer (measured 0.9 -> 1.4
 * GB/s on 256 B payloads). The XORs give the same 32 bits either way; callers `>>> 0` last.
 */
const TABLES: Int32Array = buildTables();

/** True where a 32-bit word load reads bytes in little-endian order, as the word path needs. */
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

function buildTables(): Int32Array {
  const tables = new Int32Array(CRC_SLICE_TABLES * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let bit = 0; bit < 8; bit++) {
      c = c & 1 ? (c >>> 1) ^ CRC32C_POLYNOMIAL_REFLECTED : c >>> 1;
    }
    tables[n] = c;
  }
  for (let n = 0; n < 256; n++) {
    let c = tables[n]!;
    for (let k = 1; k < CRC_SLICE_TABLES; k++) {
      c = tables[c & 0xff]! ^ (c >>> 8);
      tables[k * 256 + n] = c;
    }
  }
  return tables;
}

/**
 * Computes the CRC32C (Castagnoli) checksum of `data`, the checksum every wal-db record carries.
 *
 * Pass the result of a previous call as `seed` to continue a checksum over data that arrives in
 * pieces: `crc32c(b, crc32c(a))` equals `crc32c(a + b)`.
 *
 * @param data The bytes to checksum.
 * @param seed The checksum of the bytes before `data`; 0 (the default) starts a new checksum.
 * @returns The checksum as an unsigned 32-bit integer.
 *
 * @example The standard check value
 * ```ts
 * import { crc32c } from "@wal-db/wal-db";
 * import { equal } from "node:assert/strict";
 *
 * const bytes = new TextEncoder().encode("123456789");
 * equal(crc32c(bytes), 0xe3069283);
 * equal(crc32c(bytes.subarray(4), crc32c(bytes.subarray(0, 4))), 0xe3069283);
 * ```
 */
export function crc32c(data: Uint8Array, seed = 0): number {
  if (!(data instanceof Uint8Array)) {
    throw new TypeError(`Cannot compute CRC32C: data must be a Uint8Array, got ${typeof data}`);
  }
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffff_ffff) {
    throw new RangeError(`Cannot compute CRC32C: seed must be a u32, got ${seed}`);
  }
  // `~seed` is a signed 32-bit value, as the loops want their register (see updateBytes):
  // `~seed >>> 0` started every call from a double and took 256 B 1.8x as long.
  return (update(~seed, data) ^ 0xffff_ffff) >>> 0;
}

/**
 * The CRC32C of a frame's four little-endian length bytes followed by its payload, without
 * materialising the length bytes or checking arguments: the hot path of every append and
 * every read. Equal to `crc32c(payload, crc32c(lengthBytes))`.
 */
export function frameChecksum(length: number, payload: Uint8Array): number {
  return (update(lengthRegister(length), payload) ^ 0xffff_ffff) >>> 0;
}

/**
 * {@linkcode frameChecksum} of the payload `bytes[from, to)`, read in place: the search for
 * records after damage checks candidates inside its read window without a view per candidate.
 */
export function frameChecksumIn(
  length: number,
  bytes: Uint8Array,
  from: number,
  to: number,
): number {
  return (update(lengthRegister(length), bytes, from, to) ^ 0xffff_ffff) >>> 0;
}

/**
 * A view of `bytes` as 32-bit words, from the 4-byte boundary of its buffer at or before its
 * first byte, for {@linkcode frameChecksumWords}; undefined on a big-endian host, where words
 * would read the bytes in the wrong order. Make it once per chunk: it costs about as much as
 * checksumming 100 bytes. Offsets here never go through 32-bit operators (`>>>`, `&`): a buffer
 * may be 4 GiB or more, and an offset past 2^32 would wrap.
 */
export function wordsOf(bytes: Uint8Array): Int32Array | undefined {
  if (!LITTLE_ENDIAN) return undefined;
  const lead = bytes.byteOffset % 4;
  const count = Math.floor((lead + bytes.length) / 4);
  return new Int32Array(bytes.buffer, bytes.byteOffset - lead, count);
}

/**
 * {@linkcode frameChecksumIn} reading the aligned middle of `bytes[from, to)` four bytes at a
 * time through `words` (from {@linkcode wordsOf} on the same `bytes`; undefined reads bytewise):
 * the frame scanner's loop, which makes the view once per chunk.
 */
export function frameChecksumWords(
  length: number,
  bytes: Uint8Array,
  words: Int32Array | undefined,
  from: number,
  to: number,
): number {
  const crc = lengthRegister(length);
  // Short: the byte loop, whose few instructions are what a scan of small frames pays per
  // frame (see CRC_WORD_LOOP_MIN_BYTES).
  const raw = words === undefined || to - from < CRC_WORD_LOOP_MIN_BYTES
    ? updateBytes(crc, bytes, from, to)
    : updateWords(crc, bytes, words, from, to);
  return (raw ^ 0xffff_ffff) >>> 0;
}

/**
 * {@linkcode frameChecksumWords} of two payloads of the same `bytes`, `[from1, from1 + length1)`
 * and `[from2, from2 + length2)`, written to `out[0]` and `out[1]`. The frame scanner checks a
 * chunk's frames two at a time with it: the word loop steps both checksums at once, so the two
 * chains of dependent table lookups overlap in the CPU where one chain waits on itself (a scan
 * of 256 B frames took 0.72x the time of one frame after the other, 1000 B ones 0.68x). Where
 * both payloads start on a 4-byte boundary, their common length goes two by two, and the rest of
 * each alone.
 *
 * @example Equal to two single checksums
 * ```ts
 * import { frameChecksumPairWords, frameChecksumWords, wordsOf } from "./crc32c.ts";
 * import { equal } from "node:assert/strict";
 *
 * const bytes = new Uint8Array(96).map((_, i) => i * 7);
 * const words = wordsOf(bytes);
 * const out = new Uint32Array(2);
 * frameChecksumPairWords(bytes, words, 8, 40, 56, 36, out);
 * equal(out[0], frameChecksumWords(40, bytes, words, 8, 48));
 * equal(out[1], frameChecksumWords(36, bytes, words, 56, 92));
 * ```
 */
export function frameChecksumPairWords(
  bytes: Uint8Array,
  words: Int32Array | undefined,
  from1: number,
  length1: number,
  from2: number,
  length2: number,
  out: Uint32Array,
): void {
  let c1 = lengthRegister(length1);
  let c2 = lengthRegister(length2);
  const lead = bytes.byteOffset % 4;
  let done = 0;
  if (words !== undefined && (lead + from1) % 4 === 0 && (lead + from2) % 4 === 0) {
    const t = TABLES;
    const common = Math.min(length1, length2);
    let w1 = (lead + from1) / 4;
    let w2 = (lead + from2) / 4;
    for (; done + 8 <= common; done += 8, w1 += 2, w2 += 2) {
      const lo1 = c1 ^ words[w1]!;
      const hi1 = words[w1 + 1]!;
      const lo2 = c2 ^ words[w2]!;
      const hi2 = words[w2 + 1]!;
      c1 = t[1792 + (lo1 & 0xff)]! ^ t[1536 + ((lo1 >>> 8) & 0xff)]! ^
        t[1280 + ((lo1 >>> 16) & 0xff)]! ^ t[1024 + (lo1 >>> 24)]! ^
        t[768 + (hi1 & 0xff)]! ^ t[512 + ((hi1 >>> 8) & 0xff)]! ^
        t[256 + ((hi1 >>> 16) & 0xff)]! ^ t[hi1 >>> 24]!;
      c2 = t[1792 + (lo2 & 0xff)]! ^ t[1536 + ((lo2 >>> 8) & 0xff)]! ^
        t[1280 + ((lo2 >>> 16) & 0xff)]! ^ t[1024 + (lo2 >>> 24)]! ^
        t[768 + (hi2 & 0xff)]! ^ t[512 + ((hi2 >>> 8) & 0xff)]! ^
        t[256 + ((hi2 >>> 16) & 0xff)]! ^ t[hi2 >>> 24]!;
    }
  }
  if (words === undefined) {
    c1 = updateBytes(c1, bytes, from1, from1 + length1);
    c2 = updateBytes(c2, bytes, from2, from2 + length2);
  } else {
    c1 = updateWords(c1, bytes, words, from1 + done, from1 + length1);
    c2 = updateWords(c2, bytes, words, from2 + done, from2 + length2);
  }
  out[0] = c1 ^ 0xffff_ffff;
  out[1] = c2 ^ 0xffff_ffff;
}

/**
 * The register after the four little-endian bytes of `length`, from the initial value: one
 * slicing-by-4 step (tables 3 to 0), four independent lookups instead of four in a chain.
 */
function lengthRegister(length: number): number {
  const t = TABLES;
  const x = ~length;
  // Signed: the loops XOR it with table entries, and a small integer stays one.
  return t[768 + (x & 0xff)]! ^ t[512 + ((x >>> 8) & 0xff)]! ^ t[256 + ((x >>> 16) & 0xff)]! ^
    t[x >>> 24]!;
}

/** The raw (pre-inverted) register after `data[start, end)`, by whichever loop is faster. */
function update(crc: number, data: Uint8Array, start = 0, end = data.length): number {
  if (end - start < CRC_WORD_VIEW_MIN_BYTES || !LITTLE_ENDIAN) {
    return updateBytes(crc, data, start, end);
  }
  return updateWords(crc, data, wordsOf(data)!, start, end);
}

/**
 * The slicing-by-8 loop, eight byte loads per step: the portable path, and the append path's
 * (payloads under {@linkcode CRC_WORD_VIEW_MIN_BYTES}). Each step XORs its eight lookups as a
 * tree, not a chain of eight: the four of bytes 4-7 do not depend on the register, so they are
 * folded first while the previous step finishes, and only two XOR levels and the join wait on
 * the register's lookups (a 256 B frame checksum took 0.9x the time of the chain, same run).
 * The register stays a signed 32-bit value, returned as it is: `>>> 0` here makes half the
 * results doubles (above 2^31), a heap number each where the call is not inlined, and the
 * callers end with `>>> 0` anyway.
 */
function updateBytes(crc: number, data: Uint8Array, start: number, end: number): number {
  const t = TABLES;
  let i = start;
  for (; i + 8 <= end; i += 8) {
    // Bytes 4-7 need no register: their half is ready before the register is.
    const hi = (t[768 + data[i + 4]!]! ^ t[512 + data[i + 5]!]!) ^
      (t[256 + data[i + 6]!]! ^ t[data[i + 7]!]!);
    const lo = crc ^ (data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24));
    crc = ((t[1792 + (lo & 0xff)]! ^ t[1536 + ((lo >>> 8) & 0xff)]!) ^
      (t[1280 + ((lo >>> 16) & 0xff)]! ^ t[1024 + (lo >>> 24)]!)) ^ hi;
  }
  for (; i < end; i++) crc = t[(crc ^ data[i]!) & 0xff]! ^ (crc >>> 8);
  return crc;
}

/**
 * The slicing-by-8 loop with two aligned word loads per step (little-endian hosts): the bytes
 * before the first 4-byte boundary of the buffer and after the last whole step go bytewise.
 * `words` (from {@linkcode wordsOf} on `data`) starts `lead` bytes before `data`, so positions
 * here count from its first word. The same XOR tree and signed register as
 * {@linkcode updateBytes}, and one loop counter, the word index, counted to a precomputed end
 * (a 256 B frame in the scanner's path 0.83x the time of the chain with two counters, 1000 B
 * 0.7-0.8x, same run).
 */
function updateWords(
  crc: number,
  data: Uint8Array,
  words: Int32Array,
  start: number,
  end: number,
): number {
  const t = TABLES;
  const lead = data.byteOffset % 4;
  let at = lead + start;
  const stop = lead + end;
  for (; at % 4 !== 0 && at < stop; at++) crc = t[(crc ^ data[at - lead]!) & 0xff]! ^ (crc >>> 8);
  // The range ended before a word boundary: no word to read, and `at / 4` is no index.
  if (at % 4 !== 0) return crc;
  let w = at / 4;
  const wordStop = w + Math.floor((stop - at) / 8) * 2;
  for (; w < wordStop; w += 2) {
    // The register-free half first, as in updateBytes.
    const hi = words[w + 1]!;
    const h = (t[768 + (hi & 0xff)]! ^ t[512 + ((hi >>> 8) & 0xff)]!) ^
      (t[256 + ((hi >>> 16) & 0xff)]! ^ t[hi >>> 24]!);
    const lo = crc ^ words[w]!;
    crc = ((t[1792 + (lo & 0xff)]! ^ t[1536 + ((lo >>> 8) & 0xff)]!) ^
      (t[1280 + ((lo >>> 16) & 0xff)]! ^ t[1024 + (lo >>> 24)]!)) ^ h;
  }
  for (at = w * 4; at < stop; at++) crc = t[(crc ^ data[at - lead]!) & 0xff]! ^ (crc >>> 8);
  return crc;
}

/**
 * The signature of {@linkcode crc32cRaw}: the TypeScript one, or the shim's (the CPU's CRC32C
 * instructions), which the search for records after damage takes as an option. Both take and
 * return the register as a u32.
 */
export type RawCrc = (register: number, data: Uint8Array) => number;

/**
 * The CRC register after `data`, starting from `register`, with neither the initial nor the
 * final inversion: the linear part of CRC32C that {@linkcode crc32cShift} composes with.
 * `crc32c(data, seed)` is `~crc32cRaw(~seed, data)`, so any seeded CRC32C gives it too:
 * `crc32cRaw(register, data)` is `~crc32c(data, ~register)` (all u32).
 */
export function crc32cRaw(register: number, data: Uint8Array): number {
  return update(register | 0, data, 0, data.length) >>> 0;
}

/**
 * `x^(8·2^k) mod P` in the reflected representation, for every k a byte count can need: a
 * register run over n zero bytes is the product of the entries of n's set bits.
 */
const ZERO_BYTE_POWERS: Uint32Array = buildZeroBytePowers();

function buildZeroBytePowers(): Uint32Array {
  const powers = new Uint32Array(64);
  // Bit 31 is x^0 in the reflected form, so x^8 is bit 23.
  powers[0] = 0x0080_0000;
  for (let k = 1; k < powers.length; k++) powers[k] = multiplyModP(powers[k - 1]!, powers[k - 1]!);
  return powers;
}

/** The product of two polynomials modulo the CRC32C polynomial, both in reflected form. */
function multiplyModP(a: number, b: number): number {
  let product = 0;
  for (let bit = 0x8000_0000; bit !== 0; bit >>>= 1) {
    if ((a & bit) !== 0) product ^= b;
    b = b & 1 ? (b >>> 1) ^ CRC32C_POLYNOMIAL_REFLECTED : b >>> 1;
  }
  return product >>> 0;
}

/**
 * The raw register `register` becomes after `count` zero bytes, in O(log count) steps instead
 * of `count`. With it the CRC of any byte range follows from the raw CRCs of two prefixes:
 * `raw(0, a..b) = raw(0, 0..b) ^ crc32cShift(raw(0, 0..a), b - a)`.
 */
export function crc32cShift(register: number, count: number): number {
  let result = register >>> 0;
  for (let k = 0, n = count; n > 0; k++, n = Math.floor(n / 2)) {
    if (n % 2 === 1) result = multiplyModP(ZERO_BYTE_POWERS[k]!, result);
  }
  return result;
}
