// Copyright 2026 the wal-db authors. MIT license.
// Self-describing payloads for the kill tests: a record says which round and sequence number
// wrote it, and its filler is derived from both, so a phantom or mangled record is detectable.

import { payload } from "./_helpers.ts";

/** The payload record `seq` of `round` carries: 8 bytes of identity, then filler. */
export function killPayload(round: number, seq: number): Uint8Array {
  const size = 8 + ((round * 7919 + seq * 104729) % 300);
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  view.setUint32(0, round, true);
  view.setUint32(4, seq, true);
  out.set(payload(size - 8, round * 1_000_003 + seq), 8);
  return out;
}

/** The identity a payload claims, if its filler matches it; `undefined` for a foreign record. */
export function parseKillPayload(data: Uint8Array): { round: number; seq: number } | undefined {
  if (data.length < 8) return undefined;
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const round = view.getUint32(0, true);
  const seq = view.getUint32(4, true);
  const expected = killPayload(round, seq);
  if (expected.length !== data.length) return undefined;
  for (let i = 0; i < data.length; i++) if (expected[i] !== data[i]) return undefined;
  return { round, seq };
}
