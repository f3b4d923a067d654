// Copyright 2026 the wal-db authors. MIT license.
// Typed records: a codec turns values into payloads and back; a typed view wraps a Wal.
// I/O core: no `Deno.*`; all I/O goes through the Wal it wraps.

import { WalError } from "./errors.ts";
import type { Entry, Lsn, TailOptions } from "./cursor.ts";
import type { WalWrites } from "./wal_writes.ts";

/**
 * Turns values of type `T` into record payloads and back. `decode` must throw on bytes it
 * cannot read; the typed view reports that as `kind: "encoding"` with the record's LSN.
 *
 * @typeParam T The record type.
 */
export interface Codec<T> {
  /** The payload for `value`. */
  encode(value: T): Uint8Array;
  /** The value a payload holds; throws if it holds none. */
  decode(bytes: Uint8Array): T;
}

/** One typed record read back from the log. */
export interface TypedEntry<T> {
  /** Where the record's frame starts. */
  lsn: Lsn;
  /** The decoded value. */
  value: T;
}

/**
 * A codec that stores values as UTF-8 JSON. Values must survive `JSON.stringify`: no
 * `undefined` at the top level, no functions, no cycles, no `BigInt`.
 *
 * @typeParam T The record type.
 * @returns The codec.
 *
 * @example
 * ```ts
 * import { jsonCodec } from "@wal-db/wal-db";
 * import { deepEqual } from "node:assert/strict";
 *
 * const codec = jsonCodec<{ n: number }>();
 * deepEqual(codec.decode(codec.encode({ n: 1 })), { n: 1 });
 * ```
 */
export function jsonCodec<T>(): Codec<T> {
  const encoder = new TextEncoder();
  const decoder = new TextDecoder("utf-8", { fatal: true });
  return {
    encode(value: T): Uint8Array {
      const text = JSON.stringify(value);
      if (text === undefined) throw new TypeError(`Cannot encode ${typeof value} as JSON`);
      return encoder.encode(text);
    },
    decode: (bytes: Uint8Array): T => JSON.parse(decoder.decode(bytes)) as T,
  };
}

/**
 * A typed view of a {@linkcode Wal}, made by `wal.typed(codec)`. It adds no state: appends and
 * reads go straight to the log, with the codec in between.
 *
 * @typeParam T The record type.
 * @typeParam W The log's type (`Wal` when made by `wal.typed`).
 */
export class TypedWal<T, W extends WalWrites = WalWrites> implements Disposable, AsyncDisposable {
  /** The log underneath, for truncation and the rest of its API. */
  readonly wal: W;
  readonly #codec: Codec<T>;

  /**
   * Wraps `wal` with `codec`; prefer `wal.typed(codec)`.
   *
   * @param wal The log.
   * @param codec How values become bytes and back.
   */
  constructor(wal: W, codec: Codec<T>) {
    if (typeof codec?.encode !== "function" || typeof codec.decode !== "function") {
      throw new TypeError("Cannot make a typed log: codec must have encode() and decode()");
    }
    this.wal = wal;
    this.#codec = codec;
  }

  /**
   * Encodes `value` and appends it; see `Wal.append`.
   *
   * @param value The value.
   * @returns The record's LSN.
   * @throws {WalError} `"encoding"` if the codec cannot encode it, or any error of `append`.
   */
  append(value: T): Lsn {
    return this.wal.append(this.#encode(value));
  }

  /**
   * Encodes every value, then appends them with one write; see `Wal.appendBatch`.
   *
   * @param values The values, in order.
   * @returns Their LSNs.
   * @throws {WalError} `"encoding"` (nothing is written) or any error of `appendBatch`.
   */
  appendBatch(values: readonly T[]): Lsn[] {
    return this.wal.appendBatch(values.map((value) => this.#encode(value)));
  }

  /**
   * Replays the log, decoding each record.
   *
   * @returns The typed entries, in log order.
   * @throws {WalError} `"encoding"` with the LSN of a record the codec cannot decode.
   */
  *iter(): IterableIterator<TypedEntry<T>> {
    for (const entry of this.wal.iter()) yield this.#decode(entry);
  }

  /**
   * Replays from `lsn`, decoding each record; see `Wal.iterFrom`.
   *
   * @param lsn A record boundary.
   * @returns The typed entries from `lsn` on.
   */
  *iterFrom(lsn: Lsn): IterableIterator<TypedEntry<T>> {
    for (const entry of this.wal.iterFrom(lsn)) yield this.#decode(entry);
  }

  /**
   * Follows the log, decoding each record; see `Wal.tail`.
   *
   * @param from Where to start.
   * @param options Abort signal and polling interval.
   * @returns The typed entries as they become durable.
   */
  async *tail(from?: Lsn, options: TailOptions = {}): AsyncIterableIterator<TypedEntry<T>> {
    for await (const entry of this.wal.tail(from, options)) yield this.#decode(entry);
  }

  /** Where the next append lands; see `Wal.nextLsn`. */
  get nextLsn(): Lsn {
    return this.wal.nextLsn;
  }

  /** The end of the durable prefix; see `Wal.durableLsn`. */
  get durableLsn(): Lsn {
    return this.wal.durableLsn;
  }

  /**
   * Makes every record appended before the call durable; see `Wal.sync`.
   *
   * @returns A promise that resolves once the records are on stable storage.
   *
   * @example
   * ```ts
   * import { jsonCodec, MemStore, Wal } from "@wal-db/wal-db";
   * import { equal } from "node:assert/strict";
   *
   * await using log = Wal.withStore(new MemStore()).typed(jsonCodec<number>());
   * log.append(1);
   * await log.sync();
   * equal(log.durableLsn, log.nextLsn);
   * ```
   */
  sync(): Promise<void> {
    return this.wal.sync();
  }

  /** Like `sync`, but blocks the thread; see `Wal.syncSync`. */
  syncSync(): void {
    this.wal.syncSync();
  }

  /**
   * Closes the log underneath (the view has no state of its own); see `Wal.close`.
   *
   * @example
   * ```ts
   * import { jsonCodec, MemStore, Wal } from "@wal-db/wal-db";
   *
   * const log = Wal.withStore(new MemStore()).typed(jsonCodec<string>());
   * log.close();
   * await log.closed;
   * ```
   */
  close(): void {
    this.wal.close();
  }

  /** Settles once the log's store is closed; see `Wal.closed`. */
  get closed(): Promise<void> {
    return this.wal.closed;
  }

  /** Closes the log; lets `using log = ...` close it at the end of the scope. */
  [Symbol.dispose](): void {
    this.wal.close();
  }

  /** Closes the log and waits until its store is closed (`await using`). */
  [Symbol.asyncDispose](): Promise<void> {
    return this.wal[Symbol.asyncDispose]();
  }

  #encode(value: T): Uint8Array {
    let bytes: unknown;
    try {
      bytes = this.#codec.encode(value);
    } catch (error) {
      throw new WalError("encoding", `Cannot encode record: ${messageOf(error)}`, { cause: error });
    }
    if (!(bytes instanceof Uint8Array)) {
      throw new WalError("encoding", "Cannot encode record: the codec did not return a Uint8Array");
    }
    return bytes;
  }

  #decode(entry: Entry): TypedEntry<T> {
    try {
      return { lsn: entry.lsn, value: this.#codec.decode(entry.data) };
    } catch (error) {
      throw new WalError(
        "encoding",
        `Cannot decode the record at LSN ${entry.lsn}: ${messageOf(error)}`,
        { lsn: entry.lsn, cause: error },
      );
    }
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
