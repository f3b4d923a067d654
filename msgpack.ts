// Copyright 2026 the wal-db authors. MIT license.

/**
 * A MessagePack codec for typed wal-db records, built on the npm package `@msgpack/msgpack`.
 * It lives at its own export path so the core module stays free of dependencies.
 *
 * ```ts
 * import { MemStore, Wal } from "@wal-db/wal-db";
 * import { msgpackCodec } from "@wal-db/wal-db/msgpack";
 * import { deepEqual } from "node:assert/strict";
 *
 * using wal = Wal.withStore(new MemStore());
 * const log = wal.typed(msgpackCodec<{ id: number; tags: string[] }>());
 * log.append({ id: 7, tags: ["a", "b"] });
 * deepEqual([...log.iter()].map((e) => e.value), [{ id: 7, tags: ["a", "b"] }]);
 * ```
 *
 * @module
 */

export { msgpackCodec } from "./src/msgpack_codec.ts";
