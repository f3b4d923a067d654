// Copyright 2026 the wal-db authors. MIT license.
// Shared fixtures for the tests: temp folders, log images built by hand, byte surgery.

import { fileSectors, type SectorInfo } from "../src/damage.ts";
import type { ByteSource } from "../src/reader.ts";
import { frame } from "../src/record.ts";
import type { SetAsideOptions, WalStore } from "../src/store.ts";

const encoder = new TextEncoder();

/** UTF-8 bytes of `text`. */
export function bytes(text: string): Uint8Array {
  return encoder.encode(text);
}

/** Parses `"c7 4b 67 48"` into bytes. */
export function hex(text: string): Uint8Array {
  const parts = text.trim().split(/\s+/).filter((p) => p !== "");
  return new Uint8Array(parts.map((p) => parseInt(p, 16)));
}

/** The bytes of a log holding `payloads`, framed back to back, built from the format alone. */
export function logImage(payloads: readonly Uint8Array[]): Uint8Array {
  return concat(payloads.map((p) => frame(p)));
}

/** The LSN of each payload in a log that holds them back to back from 0. */
export function lsnsOf(payloads: readonly Uint8Array[]): number[] {
  const lsns: number[] = [];
  let at = 0;
  for (const p of payloads) {
    lsns.push(at);
    at += 8 + p.length;
  }
  return lsns;
}

/** Concatenates byte arrays. */
export function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** A deterministic payload of `size` bytes derived from `seed`. */
export function payload(size: number, seed: number): Uint8Array {
  const out = new Uint8Array(size);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** Runs `fn` with a fresh temp folder that is removed afterwards. */
export async function withTempDir<T>(fn: (dir: string) => Promise<T> | T): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "wal_test_" });
  try {
    return await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** A file's bytes. */
export function readBytes(path: string): Uint8Array {
  return Deno.readFileSync(path);
}

/** A store that forwards every call to `inner`; tests extend it to change one or two calls. */
export class ForwardingStore implements WalStore {
  constructor(readonly inner: WalStore) {}

  get size(): number {
    return this.inner.size;
  }
  get head(): number {
    return this.inner.head;
  }
  get durability(): string {
    return this.inner.durability;
  }
  readAt(offset: number, buffer: Uint8Array): number {
    return this.inner.readAt(offset, buffer);
  }
  append(data: Uint8Array): void {
    this.inner.append(data);
  }
  flushSync(): void {
    this.inner.flushSync();
  }
  flush(): Promise<void> {
    return this.inner.flush();
  }
  truncate(size: number): void {
    this.inner.truncate(size);
  }
  setAside(offset: number, copy?: SetAsideOptions): string {
    return this.inner.setAside(offset, copy);
  }
  truncateBefore(head: number): number {
    return this.inner.truncateBefore(head);
  }
  close(): void {
    this.inner.close();
  }
  get identifiesLog(): boolean {
    return this.inner.identifiesLog ?? false;
  }
  sectorAt(lsn: number): SectorInfo {
    return this.inner.sectorAt?.(lsn) ?? fileSectors(lsn);
  }
  get identity(): string | undefined {
    return this.inner.identity;
  }
  discardUnflushed(size: number): void {
    if (this.inner.discardUnflushed === undefined) this.inner.truncate(size);
    else this.inner.discardUnflushed(size);
  }
}

/** What a directory holds, for "nothing was changed" checks: see {@linkcode directorySnapshot}. */
export interface DirectorySnapshot {
  /** The directory's own modification time: creating, renaming or removing an entry moves it. */
  mtime: number | undefined;
  /** Each file by name, sorted: size, modification time and bytes. */
  files: [name: string, size: number, mtime: number | undefined, bytes: Uint8Array][];
}

/**
 * Sets the modification time of `dir` and of every file in it to a fixed moment long past, so
 * that a later {@linkcode directorySnapshot} shows any write, even one in the same millisecond.
 */
export function agePast(dir: string): void {
  const past = new Date(Date.UTC(2001, 0, 1));
  for (const entry of Deno.readDirSync(dir)) Deno.utimeSync(`${dir}/${entry.name}`, past, past);
  Deno.utimeSync(dir, past, past);
}

/** Names, sizes, modification times and bytes of every file in `dir`, and the directory's mtime. */
export function directorySnapshot(dir: string): DirectorySnapshot {
  const files: DirectorySnapshot["files"] = [];
  for (const entry of Deno.readDirSync(dir)) {
    const path = `${dir}/${entry.name}`;
    const info = Deno.statSync(path);
    files.push([entry.name, info.size, info.mtime?.getTime(), Deno.readFileSync(path)]);
  }
  files.sort((a, b) => a[0] < b[0] ? -1 : 1);
  return { mtime: Deno.statSync(dir).mtime?.getTime(), files };
}

/** Removes the file at `path` when there is one. */
export function removeIfPresent(path: string): void {
  try {
    Deno.removeSync(path);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
}

/**
 * `source`, except that its first read at or past `offset` scribbles over the buffer it was given
 * and throws, as an I/O error part way through a read may; later reads go through.
 */
export function failingOnceFrom(source: ByteSource, offset: number): ByteSource {
  let failed = false;
  return {
    readAt(at: number, buffer: Uint8Array): number {
      if (!failed && at >= offset) {
        failed = true;
        buffer.fill(0x5a);
        throw new Error("EIO");
      }
      return source.readAt(at, buffer);
    },
  };
}
