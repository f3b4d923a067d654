// Copyright 2026 the wal-db authors. MIT license.

import { equal, ok } from "node:assert/strict";
import {
  CRC32C_OF_ZERO_LENGTH,
  HEADER_SIZE,
  LOG_SIZE_LIMIT,
  READ_CHUNK_SIZE,
  RECORD_SIZE_LIMIT,
  RECORD_SIZE_MAX_DEFAULT,
} from "../src/constants.ts";
import { crc32c } from "../src/crc32c.ts";

Deno.test("constants: the zero-length CRC is what makes zeros unreadable as records", () => {
  equal(crc32c(new Uint8Array(4)), CRC32C_OF_ZERO_LENGTH);
  ok(crc32c(new Uint8Array(4)) !== 0);
});

Deno.test("constants: the limits fit the format and the number type", () => {
  equal(HEADER_SIZE, 8);
  equal(RECORD_SIZE_MAX_DEFAULT, 67108864);
  equal(RECORD_SIZE_LIMIT, 2 ** 32 - 1);
  ok(Number.isSafeInteger(LOG_SIZE_LIMIT));
  ok(READ_CHUNK_SIZE >= HEADER_SIZE);
});
