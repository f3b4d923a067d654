// Copyright 2026 the wal-db authors. MIT license.
// For the tests of the asynchronous truncations (wal_writes_test.ts, wal_async_cuts_test.ts): a
// simulated directory that refuses blocking flushes, cuts and removals on demand.

import type { DirectoryFile, WalDirectory } from "../src/directory.ts";
import { Wal } from "../src/open.ts";
import { SegmentedStore } from "../src/segmented_store.ts";
import { bytes } from "./_helpers.ts";
import { SimDirectory, SimDisk } from "./_sim_disk.ts";

/**
 * A simulated directory whose blocking flushes (and blocking cuts and removals of segments) throw
 * while `forbid` is set.
 */
export class NoBlockingDirectory implements WalDirectory {
  readonly #inner: SimDirectory;
  constructor(disk: SimDisk, readonly blocking: { forbid: boolean }) {
    this.#inner = SimDirectory.open(disk);
  }
  get path(): string {
    return this.#inner.path;
  }
  get durability(): string {
    return this.#inner.durability;
  }
  list = (): string[] => this.#inner.list();
  sizeOf = (name: string): number | undefined => this.#inner.sizeOf(name);
  open(name: string, create: boolean): DirectoryFile {
    const file = this.#inner.open(name, create);
    const blocking = this.blocking;
    return {
      get size() {
        return file.size;
      },
      readAt: (o, b) => file.readAt(o, b),
      append: (d) => file.append(d),
      truncate: (s) => {
        // Cutting a segment frees its blocks: the asynchronous cuts do it on a worker.
        if (blocking.forbid && name.endsWith(".wal")) throw new Error(`a blocking cut of ${name}`);
        file.truncate(s);
      },
      truncateAsync: (s) => file.truncateAsync!(s),
      flushSync: () => {
        if (blocking.forbid) throw new Error(`a blocking flush of ${name}`);
        file.flushSync();
      },
      flush: () => file.flush(),
      close: () => file.close(),
    };
  }
  remove(name: string): void {
    if (this.blocking.forbid) throw new Error(`a blocking removal of ${name}`);
    this.#inner.remove(name);
  }
  removeAsync = (name: string): Promise<void> => this.#inner.removeAsync(name);
  rename = (from: string, to: string): void => this.#inner.rename(from, to);
  sync(): void {
    if (this.blocking.forbid) throw new Error("a blocking directory flush");
    this.#inner.sync();
  }
  syncAsync = (): Promise<void> => this.#inner.syncAsync();
  close = (): void => this.#inner.close();
}

/** A segmented log of 64-byte segments over a {@linkcode NoBlockingDirectory}. */
export function openSegmented(disk: SimDisk, blocking: { forbid: boolean }): Wal {
  return Wal.withStore(SegmentedStore.open(new NoBlockingDirectory(disk, blocking), 64));
}

/** Appends `count` short records; returns their LSNs. */
export function fillWords(wal: Wal, count: number): number[] {
  return Array.from({ length: count }, (_, i) => wal.append(bytes(`record ${i}`)));
}

/**
 * Two segmented logs with the same `count` records, on their own disks, for comparing a blocking
 * truncation (on `slow`) with its asynchronous variant (on `fast`): set `blocking.forbid` around
 * the asynchronous call to prove it flushes only off the main thread.
 */
export function twinLogs(count: number): {
  blocking: { forbid: boolean };
  slow: Wal;
  fast: Wal;
  slowDisk: SimDisk;
  fastDisk: SimDisk;
  lsns: number[];
} {
  const blocking = { forbid: false };
  const [slowDisk, fastDisk] = [new SimDisk(), new SimDisk()];
  const [slow, fast] = [openSegmented(slowDisk, blocking), openSegmented(fastDisk, blocking)];
  const lsns = fillWords(slow, count);
  const again = fillWords(fast, count);
  if (again.join() !== lsns.join()) throw new Error("the twin logs got different LSNs");
  return { blocking, slow, fast, slowDisk, fastDisk, lsns };
}
