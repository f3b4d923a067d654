// Copyright 2026 the wal-db authors. MIT license.
// The backend seam: the contract every store meets. Types only.

import type { SectorInfo } from "./damage.ts";
import type { ByteSource } from "./reader.ts";

/** What {@linkcode WalStore.setAside} copies and how it names the copy. */
export interface SetAsideOptions {
  /** One past the last byte to copy; defaults to the store's size. */
  end?: number;
  /**
   * `"damaged"` (the default): bytes from damage that no crash leaves. `"unsynced"`: the records
   * a crash left after a torn write, which no sync acknowledged: kept in case the zeros that
   * ended the log were a disk fault and not a crash.
   */
  kind?: "damaged" | "unsynced";
}

/**
 * Where a log's bytes live. A store holds one contiguous byte range `[head, size)` and knows
 * nothing of records; the {@linkcode Wal} does all framing, checking and recovery on top of it.
 * Implement it to put a log somewhere new (a block device, a test double that injects faults).
 *
 * What a third-party store must and may implement: it must have `size`, `head`, `durability`,
 * `readAt`, `append`, `flushSync`, `flush`, `truncate`, `setAside`, `truncateBefore` and
 * `close` (the log checks they are there when it opens). `truncateBefore` may drop nothing and
 * return the head unchanged, and `setAside` may copy into any place of its own: the store stays a
 * byte store, and the log does every framing, checking and recovery decision. It may add
 * `identity`, `discardUnflushed`, `refresh` and `contiguousEnd` (for read-only followers), `sectorAt`,
 * `identifiesLog`, `truncateBeforeAsync` and `truncateAsync`; each says below what is lost
 * without it.
 *
 * The contract, method by method:
 *
 * - `readAt` copies bytes out and never keeps `buffer`. It returns fewer bytes than asked only
 *   when the range passes `size`. It may be called while appends happen: the bytes it returns
 *   below `size` are the bytes appended there.
 * - `append` writes all of `data` at `size` and then advances `size`, or throws. After a throw
 *   an unknown prefix of `data` may be in the store; the Wal stops using the store until it is
 *   reopened, and recovery sorts the bytes out. It never keeps `data`. The bytes need not be
 *   durable yet.
 * - `flushSync` and `flush` make every byte appended before the call durable: on stable
 *   storage, surviving power loss. A flush that throws must not be retried as if it had worked
 *   (the operating system may already have dropped the dirty data); the Wal treats it as fatal.
 *   `flush` may run while `append` is called; it must still cover everything appended before
 *   it was called.
 * - `truncate` drops every byte at or after `size`. When it returns, the shorter log is
 *   durable: its size and every byte below it.
 * - `setAside` copies `[offset, end)` (`end` defaults to `size`) to a place of its own beside the
 *   log, named by `kind` (`"damaged"`: damage no crash leaves; `"unsynced"`: records after a torn
 *   write, which no sync acknowledged) and the offset, and makes that copy durable, so recovery
 *   can cut bytes without destroying intact records in them. It returns where the copy is (a
 *   path for files).
 * - `truncateBefore` drops the prefix before `head` where the layout can (a segmented store
 *   removes whole segments below it, after making the new head durable) and returns the new
 *   head. Stores that keep one contiguous file return their head unchanged and drop nothing;
 *   the Wal then throws `kind: "unsupported"`.
 * - `close` releases every resource, including the lock, and is idempotent. When one step of
 *   it fails, it still releases everything else, then throws; the Wal reports that error from
 *   `close()` or `Wal.closed`. The Wal never closes a store while a `flush` is pending.
 * - `discardUnflushed` (optional) is what the Wal calls after a flush failed: it drops every
 *   byte at or after `size` and makes the shorter log durable, like `truncate`, with two
 *   things more. The bytes dropped include those the operating system still holds in its
 *   cache though writing them failed (Linux marks such pages clean: they read back, and no
 *   later flush writes them), so that no later open of the same file reads them as the log.
 *   And its flush must judge only what happens from now on: flush through a descriptor opened
 *   after the failure, which is not told of the error an earlier flush already reported, but
 *   is told of any new one. Without it the Wal calls `truncate`, which must then meet the same
 *   bar.
 * - `identity` (optional) names the medium the log is on, the same for every store opened on
 *   it in this process and different for any other (a file's device and inode, not its path).
 *   When a failed flush's bytes could not be discarded, the Wal remembers the identity and
 *   retries the cut at the next open of the same log in this process, refusing it while the
 *   cut fails. Without it, that protection is lost.
 */
export interface WalStore extends ByteSource {
  /** One past the last byte of the log: where the next append lands. */
  readonly size: number;
  /** The first byte that belongs to the log: 0 unless a prefix was truncated. */
  readonly head: number;
  /** Words for the flush mechanism, e.g. `"FsFile.syncData (runtime)"`. */
  readonly durability: string;
  /** Copies bytes at `offset` into `buffer`; returns the count (short only past `size`). */
  readAt(offset: number, buffer: Uint8Array): number;
  /** Writes all of `data` at `size`, or throws. */
  append(data: Uint8Array): void;
  /**
   * Optional: appends one record frame whose payload is already at `frame[8]`, filling its
   * 8-byte header (CRC32C and length, as `encodeFrame` writes them) and writing
   * `frame[0, 8 + payloadLength)` at `size`, with `append`'s contract. For a store whose writes
   * cross into native code, where the checksum and the write in one call cost less than two.
   * The frame must be byte for byte what `encodeFrame` makes of the payload. Without it, the
   * log frames the record itself and calls `append`.
   */
  readonly appendFrame?: ((frame: Uint8Array, payloadLength: number) => void) | undefined;
  /** Makes every byte appended before the call durable, blocking the thread. */
  flushSync(): void;
  /** Makes every byte appended before the call durable without blocking the event loop. */
  flush(): Promise<void>;
  /** Drops the bytes at and after `size`, durably. */
  truncate(size: number): void;
  /**
   * Optional: `truncate` with its work (the cut, its flush, removing files) off the main thread,
   * resolving once the shorter log is durable, as `truncate` returns. The log calls it with no
   * flush of its own running and starts none (nor any append or other truncation) until it
   * settles, so the store's flush here is the only one. A rejection fails the log. Without it,
   * `Wal.truncateFromAsync` and `Wal.truncateAfterAsync` call `truncate`, which blocks.
   */
  truncateAsync?(size: number): Promise<void>;
  /** Durably copies `[offset, end)` beside the log; returns where the copy is. */
  setAside(offset: number, copy?: SetAsideOptions): string;
  /** Drops what the layout can of the prefix before `head`, durably; returns the new head. */
  truncateBefore(head: number): number;
  /**
   * Optional: `truncateBefore` with its flushes off the main thread. The log calls it once its
   * own flushes made every byte below `head` durable, and it flushes no byte of the log itself:
   * a flush of its own beside the log's could take a write-back error the log never hears of.
   * It calls `moved` with the new head in the same turn as its head moves (once the new head is
   * durable, before it drops anything), and resolves once what it drops is gone. The log starts
   * at most one truncation at a time. Without it, `Wal.truncateBeforeAsync` calls
   * `truncateBefore`, which blocks.
   */
  truncateBeforeAsync?(head: number, moved: (head: number) => void): Promise<number>;
  /** Releases the store and its lock. Idempotent. */
  close(): void;
  /** Optional: the medium the log is on, e.g. a file's device and inode; see above. */
  readonly identity?: string | undefined;
  /**
   * Optional: after a failed flush, drops the bytes at and after `size` (also those cached but
   * never written) and makes the shorter log durable through a descriptor opened after the
   * failure.
   */
  discardUnflushed?(size: number): void;
  /**
   * Optional: re-reads the size (and head) from the medium, for read-only stores following a
   * log that another process appends to.
   */
  refresh?(): void;
  /**
   * Optional: where the log's bytes stop being contiguous, at most `size`: for a store of
   * several files, the end of the first one (from the head) that is shorter than its place in
   * the log and is not the last. A writer's suffix cut shortens the file holding the cut first
   * and removes the later ones after it, so a follower that refreshes in between sees files
   * past the cut that are still there; a cut found in them would be reported above the real one.
   * Followers call it only after finding a cut, so it may look at every file. Without it, `size`.
   */
  contiguousEnd?(): number;
  /**
   * Optional: where the disk sector holding `lsn` ends, and whether a file holds that byte at
   * all. Recovery reads a damaged frame in a sector of zeros as a write a crash interrupted,
   * so it must know where the medium's sectors are (a store whose files do not start at
   * multiples of 512 in LSN terms) and which zeros are its own (a missing segment). Without
   * it, sectors are every 512 bytes from LSN 0, all backed.
   */
  sectorAt?(lsn: number): SectorInfo;
  /**
   * Optional: true when the medium itself shows that it holds a wal-db log (a directory of
   * segment files does; a single file of bytes does not). Recovery then never calls bytes
   * without an intact record "not a wal-db log": a torn first append is cut like any torn tail,
   * and damage is damage.
   */
  readonly identifiesLog?: boolean;
}
