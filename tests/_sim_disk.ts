// Copyright 2026 the wal-db authors. MIT license.
// A simulated disk for crash and fault tests: files whose unflushed writes are volatile, a
// directory whose unsynced entry changes are volatile, seeded power loss, process kills and
// injected I/O errors. Exposes `SimStore` (a single-file WalStore) and `SimDirectory` (a
// WalDirectory for segmented logs).
//
// The model (ALICE-style, as adversarial as the contracts allow):
// - A file has a page-cache view (what reads see) and a durable image. Every append and truncate
//   goes to the page cache and joins the file's list of unflushed writes. A flush that completes
//   applies, in order, every write made before the flush was called to the durable image.
// - The directory has a current view and a durable view. Creating, renaming and removing an
//   entry changes the current view and joins the list of unsynced changes; `sync` makes the
//   current view durable.
// - At a power loss every unflushed write is independently dropped, kept, or torn: split at
//   512-byte sector boundaries (absolute file offsets), each piece kept or not. A piece that is
//   not kept reads as whatever the file held there before (zeros past the old end); the file
//   ends after the last kept piece, or, when the new size reached the disk before the data,
//   after the whole write. A dropped truncate leaves the longer file. Writes are replayed in the
//   order they were made, so a kept later write can sit after a dropped earlier one (a hole),
//   but never in the same sector: a disk writes a sector as the page cache held it at one
//   moment, so once a write's piece of a sector is lost, later writes' pieces of it are too.
// - At a power loss every unsynced entry change is independently lost or kept, replayed in
//   order: a lost create leaves no file, a lost rename leaves the old names, a lost remove brings
//   the file back with its durable content. A file's data survives only under a surviving name.
// - A flush that fails (an injected fault) behaves like Linux after a write-back error
//   ("fsyncgate"): the writes it covered are marked clean without reaching the durable image, so
//   a later flush that succeeds does not save them, though reads still see them. The error is
//   reported once per descriptor (Linux's per-file-description errseq), and a handle has two,
//   one for blocking and one for background flushes, as FileStore and FsDirectory files do:
//   every other descriptor open on the file reports it from its next flush; a descriptor opened
//   after the error was reported is not told of it (it samples the error count when it opens).
// - A truncate drops the cached bytes past the cut, whether they were dirty or left clean by a
//   failed flush; it is itself a write that a flush makes durable.
// - Identities (`SimStore.identity`, `SimDirectory.identity`) are per file (or directory) and
//   per process: after `kill`, a new process does not know what the old one remembered.
// - A process kill (`kill`) keeps the page cache and releases the locks; handles of the killed
//   process throw from then on, and its flushes in flight never complete.
// - A file's fingerprint (`SimDirectory.fingerprint`) is its inode's serial, its count of writes
//   and its size: exact, as a clock-free counter can be. A power loss makes new inodes, so no
//   fingerprint survives one (a real file keeps its inode; its times may not be the cached
//   ones): conservative. `SimDisk.copy` is `cp -a`: new inodes, nothing durable.

import type {
  DirectoryFile,
  FileFingerprint,
  SetAsideOptions,
  WalDirectory,
  WalStore,
} from "../mod.ts";
import { SegmentedStore, Wal, WalError } from "../mod.ts";
import type { Rng } from "./_rng.ts";

/** The unit in which a write may be torn. */
export const SECTOR_SIZE = 512;

/** A flush completes after 0 to this many microtask turns, so other writers can run meanwhile. */
export const FLUSH_TICKS_MAX = 3;

/** What a power loss does to volatile state; each field is a chance out of 100. */
export interface CrashModel {
  /** An unflushed write is dropped whole. */
  writeDroppedPercent: number;
  /** An unflushed append is torn at sector boundaries (else, not dropped, it is kept whole). */
  writeTornPercent: number;
  /** A torn append's new size reached the disk though some of its sectors did not. */
  tornSizeKeptPercent: number;
  /** An unsynced create, rename or remove is lost. */
  entryLostPercent: number;
}

/** The model the crash simulation uses: every outcome is common. */
export const CRASH_MODEL_DEFAULT: CrashModel = {
  writeDroppedPercent: 35,
  writeTornPercent: 30,
  tornSizeKeptPercent: 30,
  entryLostPercent: 50,
};

/** Nothing volatile survives: the durable state exactly, for deterministic scenario tests. */
export const CRASH_MODEL_LOSE_ALL: CrashModel = {
  writeDroppedPercent: 100,
  writeTornPercent: 0,
  tornSizeKeptPercent: 0,
  entryLostPercent: 100,
};

/** Everything volatile survives, as if the page cache had been written back just in time. */
export const CRASH_MODEL_KEEP_ALL: CrashModel = {
  writeDroppedPercent: 0,
  writeTornPercent: 0,
  tornSizeKeptPercent: 0,
  entryLostPercent: 0,
};

/** The operations a handle performs; faults can be injected into each. */
export type SimOperationKind =
  | "read"
  | "stat"
  | "list"
  | "open"
  | "create"
  | "append"
  | "truncate"
  | "flush"
  | "remove"
  | "rename"
  | "sync"
  | "close";

/** One operation, as the fault hook sees it. */
export interface SimOperation {
  kind: SimOperationKind;
  /** The file the operation is about (the source of a rename; "" for list and sync). */
  name: string;
}

/** An injected failure: the operation throws `SimIoError` with `code`. */
export interface SimFault {
  code: "EIO" | "ENOSPC";
  /** For an append: how many bytes are written before the error (a short write). */
  shortBytes?: number;
}

/** Decides, for each operation, whether it fails. */
export type FaultHook = (operation: SimOperation) => SimFault | undefined;

/** Thrown by every operation once the simulated power is off. */
export class SimPowerLoss extends Error {
  override name = "SimPowerLoss";
}

/** Thrown by the handles of a process that was killed. */
export class SimProcessKilled extends Error {
  override name = "SimProcessKilled";
}

/** An injected I/O error. */
export class SimIoError extends Error {
  override name = "SimIoError";
  constructor(readonly code: string, message: string) {
    super(`${code}: ${message}`);
  }
}

/** What the disk did, summed over the generations of a disk (each crash makes a new one). */
export interface SimDiskStats {
  operations: number;
  faultsInjected: number;
  crashes: number;
  writesKept: number;
  writesDropped: number;
  writesTorn: number;
  entriesKept: number;
  entriesLost: number;
}

/** Operations that change state or durability: the ones a power-off countdown counts. */
const COUNTED = new Set<SimOperationKind>([
  "create",
  "append",
  "truncate",
  "flush",
  "remove",
  "rename",
  "sync",
]);

const PERCENT = 100;

function checkCrashModel(model: CrashModel): void {
  for (const [field, value] of Object.entries(model)) {
    if (!(Number.isInteger(value) && value >= 0 && value <= PERCENT)) {
      throw new RangeError(`CrashModel.${field} must be an integer from 0 to 100, got ${value}`);
    }
  }
  if (model.writeDroppedPercent + model.writeTornPercent > PERCENT) {
    throw new RangeError("CrashModel: writeDroppedPercent + writeTornPercent must be at most 100");
  }
}

/** A growable byte array whose bytes past `size` are always zero. */
class Bytes {
  #data: Uint8Array;
  size: number;

  constructor(initial: Uint8Array = new Uint8Array(0)) {
    this.#data = initial.slice();
    this.size = initial.length;
  }

  clone(): Bytes {
    return new Bytes(this.view());
  }

  view(): Uint8Array {
    return this.#data.subarray(0, this.size);
  }

  read(offset: number, buffer: Uint8Array): number {
    const count = Math.max(0, Math.min(buffer.length, this.size - offset));
    buffer.set(this.#data.subarray(offset, offset + count));
    return count;
  }

  write(offset: number, data: Uint8Array): void {
    this.#reserve(offset + data.length);
    this.#data.set(data, offset);
    this.size = Math.max(this.size, offset + data.length);
  }

  /** Sets the size; bytes past a smaller size are zeroed, a larger size reads as zeros. */
  resize(size: number): void {
    if (size < this.size) this.#data.fill(0, size, this.size);
    else this.#reserve(size);
    this.size = size;
  }

  #reserve(size: number): void {
    if (size <= this.#data.length) return;
    const grown = new Uint8Array(Math.max(size, this.#data.length * 2));
    grown.set(this.#data.subarray(0, this.size));
    this.#data = grown;
  }
}

type PendingWrite =
  | { kind: "append"; seq: number; offset: number; data: Uint8Array }
  | { kind: "truncate"; seq: number; size: number };

let inodeSerial = 0;

/** One file's content: the page cache, the durable image and the writes between them. */
class Inode {
  /** Unique over every disk, like a device and inode number. */
  readonly serial = ++inodeSerial;
  readonly current: Bytes;
  durable: Bytes;
  readonly pending: PendingWrite[] = [];
  /**
   * Appends a failed flush marked clean: still in the page cache, never written on their own.
   * A later write that dirties the same sector writes them with it (the disk writes the
   * sector as the cache holds it), unless a truncate dropped them first.
   */
  readonly unwritten: { offset: number; data: Uint8Array }[] = [];
  #seq = 0;
  /** How many write-back errors flushes of this file have hit. */
  writebackErrors = 0;

  constructor(content: Uint8Array = new Uint8Array(0)) {
    this.current = new Bytes(content);
    this.durable = new Bytes(content);
  }

  /** The sequence number of the last write: a flush started now covers up to it. */
  get lastSeq(): number {
    return this.#seq;
  }

  append(data: Uint8Array): void {
    const offset = this.current.size;
    this.current.write(offset, data);
    this.pending.push({ kind: "append", seq: ++this.#seq, offset, data: data.slice() });
  }

  truncate(size: number): void {
    this.current.resize(size);
    this.pending.push({ kind: "truncate", seq: ++this.#seq, size });
    this.#trimUnwritten(size);
  }

  /** A truncate drops the cached bytes past the cut, unwritten ones too. */
  #trimUnwritten(size: number): void {
    for (let i = this.unwritten.length - 1; i >= 0; i--) {
      const piece = this.unwritten[i]!;
      if (piece.offset >= size) this.unwritten.splice(i, 1);
      else piece.data = piece.data.subarray(0, size - piece.offset);
    }
  }

  /** Ends the writes up to `seq`: applied to the durable image, or (a failed flush) discarded. */
  settle(seq: number, persisted: boolean): void {
    while (this.pending.length > 0 && this.pending[0]!.seq <= seq) {
      const write = this.pending.shift()!;
      if (!persisted) {
        // In order: a truncate made after an append it covers dropped that append's bytes.
        if (write.kind === "append") {
          this.unwritten.push({ offset: write.offset, data: write.data });
        } else this.#trimUnwritten(write.size);
        continue;
      }
      if (write.kind === "append") {
        const last = Math.floor((write.offset + write.data.length - 1) / SECTOR_SIZE);
        for (let sector = Math.floor(write.offset / SECTOR_SIZE); sector <= last; sector++) {
          for (const piece of this.unwritten) writeWithin(this.durable, piece, sector);
        }
      }
      applyWrite(this.durable, write);
    }
  }

  /**
   * True when the page cache holds bytes that no flush will ever write: a failed flush marked
   * them clean, and no truncate has dropped them since. A reader sees bytes a power loss loses.
   */
  holdsUnwritten(): boolean {
    const flushed = this.durable.clone();
    for (const write of this.pending) applyWrite(flushed, write);
    const a = flushed.view();
    const b = this.current.view();
    return a.length !== b.length || a.some((byte, i) => byte !== b[i]);
  }

  /**
   * What survives a power loss: the durable image plus a random fate for each pending write.
   * A disk writes a sector as the page cache held it at one moment, so what survives of a
   * sector is always its writes up to some point: once a piece of a sector is lost, every later
   * write's piece of that sector is lost too (`frozen`). Sectors land independently.
   */
  crashImage(rng: Rng, model: CrashModel, stats: SimDiskStats): Uint8Array {
    const image = this.durable.clone();
    const frozen = new Set<number>();
    for (const write of this.pending) {
      const roll = rng.below(PERCENT);
      if (write.kind === "truncate") {
        if (roll < model.writeDroppedPercent) stats.writesDropped++;
        else {
          applyWrite(image, write);
          stats.writesKept++;
        }
      } else if (roll < model.writeDroppedPercent) {
        landPieces(image, write, frozen, this.unwritten, () => false);
        stats.writesDropped++;
      } else if (roll < model.writeDroppedPercent + model.writeTornPercent) {
        const end = write.offset + write.data.length;
        landPieces(image, write, frozen, this.unwritten, () => rng.chance(PERCENT / 2));
        if (rng.chance(model.tornSizeKeptPercent) && end > image.size) image.resize(end);
        stats.writesTorn++;
      } else {
        landPieces(image, write, frozen, this.unwritten, () => true);
        stats.writesKept++;
      }
    }
    return image.view().slice();
  }
}

function applyWrite(image: Bytes, write: PendingWrite): void {
  if (write.kind === "append") image.write(write.offset, write.data);
  else image.resize(write.size);
}

/**
 * Splits an append at sector boundaries (absolute file offsets) and writes each piece that
 * `lands` unless an earlier write's piece of its sector was lost; a piece that does not land
 * freezes its sector. See the model at the top.
 */
function landPieces(
  image: Bytes,
  write: Extract<PendingWrite, { kind: "append" }>,
  frozen: Set<number>,
  unwritten: readonly { offset: number; data: Uint8Array }[],
  lands: () => boolean,
): void {
  const end = write.offset + write.data.length;
  for (let from = write.offset; from < end;) {
    const sector = Math.floor(from / SECTOR_SIZE);
    const to = Math.min(end, (sector + 1) * SECTOR_SIZE);
    if (!frozen.has(sector) && lands()) {
      for (const piece of unwritten) writeWithin(image, piece, sector);
      image.write(from, write.data.subarray(from - write.offset, to - write.offset));
    } else {
      frozen.add(sector);
    }
    from = to;
  }
}

/** Writes the part of `piece` that lies in `sector`. */
function writeWithin(
  image: Bytes,
  piece: { offset: number; data: Uint8Array },
  sector: number,
): void {
  const from = Math.max(piece.offset, sector * SECTOR_SIZE);
  const to = Math.min(piece.offset + piece.data.length, (sector + 1) * SECTOR_SIZE);
  if (from < to) image.write(from, piece.data.subarray(from - piece.offset, to - piece.offset));
}

type EntryChange =
  | { kind: "create"; name: string; inode: Inode }
  | { kind: "remove"; name: string; inode: Inode }
  | { kind: "rename"; from: string; to: string; inode: Inode };

function replayEntry(entries: Map<string, Inode>, change: EntryChange): void {
  if (change.kind === "create") {
    entries.set(change.name, change.inode);
  } else if (change.kind === "remove") {
    if (entries.get(change.name) === change.inode) entries.delete(change.name);
  } else {
    if (entries.get(change.from) === change.inode) entries.delete(change.from);
    entries.set(change.to, change.inode);
  }
}

function emptyStats(): SimDiskStats {
  return {
    operations: 0,
    faultsInjected: 0,
    crashes: 0,
    writesKept: 0,
    writesDropped: 0,
    writesTorn: 0,
    entriesKept: 0,
    entriesLost: 0,
  };
}

let diskSerial = 0;

/** The state behind a `SimDisk` and its handles. */
class DiskState {
  /** Unique over every disk and generation, for directory identities. */
  readonly serial = ++diskSerial;
  readonly entries = new Map<string, Inode>();
  durableEntries = new Map<string, Inode>();
  readonly pendingEntries: EntryChange[] = [];
  /** The sequence number of the last entry change (for directory syncs in flight). */
  entrySeq = 0;
  /** The sequence number of each pending entry change, in step with `pendingEntries`. */
  readonly pendingSeqs: number[] = [];
  /** Lock name → the token of the handle that holds it. */
  readonly locks = new Map<string, symbol>();
  session = 0;
  dead = false;
  countdown: number | undefined;
  faultHook: FaultHook | undefined;
  openFiles = 0;

  constructor(readonly path: string, readonly rng: Rng | undefined, readonly stats: SimDiskStats) {}

  /**
   * Every operation starts here: refuses it when the power is off or the caller's process was
   * killed, counts it toward a pending power-off, and returns the fault to inject, if any.
   */
  enter(session: number, kind: SimOperationKind, name: string): SimFault | undefined {
    if (this.dead) throw new SimPowerLoss(`power is off: ${kind} ${name}`);
    if (session !== this.session) throw new SimProcessKilled(`process was killed: ${kind} ${name}`);
    if (COUNTED.has(kind)) this.countOperation();
    const fault = this.faultHook?.({ kind, name });
    if (fault !== undefined) this.stats.faultsInjected++;
    return fault;
  }

  countOperation(): void {
    this.stats.operations++;
    if (this.countdown === undefined) return;
    if (this.countdown === 0) {
      this.dead = true;
      throw new SimPowerLoss("power lost");
    }
    this.countdown--;
  }

  lock(name: string, what: string): symbol {
    if (this.locks.has(name)) {
      throw new WalError("locked", `Cannot open ${what}: it is open elsewhere (simulated lock)`);
    }
    const token = Symbol(name);
    this.locks.set(name, token);
    return token;
  }

  unlock(name: string, token: symbol): void {
    if (this.locks.get(name) === token) this.locks.delete(name);
  }

  inode(name: string): Inode {
    const inode = this.entries.get(name);
    if (inode === undefined) throw new Deno.errors.NotFound(`${this.path}/${name}: no such file`);
    return inode;
  }

  create(name: string): Inode {
    const inode = new Inode();
    this.entries.set(name, inode);
    this.pendingEntries.push({ kind: "create", name, inode });
    this.pendingSeqs.push(++this.entrySeq);
    return inode;
  }

  remove(name: string): void {
    const inode = this.inode(name);
    this.entries.delete(name);
    this.pendingEntries.push({ kind: "remove", name, inode });
    this.pendingSeqs.push(++this.entrySeq);
  }

  rename(from: string, to: string): void {
    const inode = this.inode(from);
    this.entries.delete(from);
    this.entries.set(to, inode);
    this.pendingEntries.push({ kind: "rename", from, to, inode });
    this.pendingSeqs.push(++this.entrySeq);
  }

  syncEntries(): void {
    this.durableEntries = new Map(this.entries);
    this.pendingEntries.length = 0;
    this.pendingSeqs.length = 0;
  }

  /** Makes durable the pending entry changes up to sequence number `seq`; later ones stay. */
  syncEntriesUpTo(seq: number): void {
    let done = 0;
    while (done < this.pendingSeqs.length && this.pendingSeqs[done]! <= seq) done++;
    if (done === 0) return;
    this.durableEntries = new Map(this.durableEntries);
    for (const change of this.pendingEntries.splice(0, done)) {
      replayEntry(this.durableEntries, change);
    }
    this.pendingSeqs.splice(0, done);
  }

  /** A directory sync on behalf of a handle of process `session`. */
  syncEntriesAs(session: number): void {
    const fault = this.enter(session, "sync", "");
    if (fault !== undefined) throw new SimIoError(fault.code, "directory sync failed");
    this.syncEntries();
  }

  /** The state after a power loss: replays the volatile changes with random fates. */
  remount(rng: Rng, model: CrashModel): DiskState {
    this.dead = true;
    this.stats.crashes++;
    const names = new Map(this.durableEntries);
    for (const change of this.pendingEntries) {
      if (rng.chance(model.entryLostPercent)) {
        this.stats.entriesLost++;
      } else {
        replayEntry(names, change);
        this.stats.entriesKept++;
      }
    }
    const next = new DiskState(this.path, this.rng, this.stats);
    const images = new Map<Inode, Inode>();
    for (const [name, inode] of names) {
      let image = images.get(inode);
      if (image === undefined) {
        image = new Inode(inode.crashImage(rng, model, this.stats));
        images.set(inode, image);
      }
      next.entries.set(name, image);
    }
    next.syncEntries();
    return next;
  }
}

/** Options for a new `SimDisk`. */
export interface SimDiskOptions {
  /** Drives flush latency (in microtask turns); without it flushes complete on the next turn. */
  rng?: Rng;
  /** The directory path handles report, for messages and set-aside paths. */
  path?: string;
}

const states = new WeakMap<SimDisk, DiskState>();

function stateOf(disk: SimDisk): DiskState {
  return states.get(disk)!;
}

/**
 * A simulated disk holding one directory. Open a `SimStore` or `SimDirectory` on it, run a log,
 * then `crash` it to get the disk as it would be found after a power loss.
 */
export class SimDisk {
  constructor(options: SimDiskOptions = {}) {
    states.set(this, new DiskState(options.path ?? "/sim", options.rng, emptyStats()));
  }

  /** The directory's path. */
  get path(): string {
    return stateOf(this).path;
  }

  /** True once the power is off (after `powerOff`, a countdown, or `crash`). */
  get dead(): boolean {
    return stateOf(this).dead;
  }

  /** Counters, summed over every generation of this disk. */
  get stats(): Readonly<SimDiskStats> {
    return stateOf(this).stats;
  }

  /**
   * True when some file's page cache holds bytes that no flush will write (see
   * `Inode.holdsUnwritten`): what a failed flush leaves until the log cuts them off.
   */
  get holdsUnwrittenCache(): boolean {
    return [...stateOf(this).entries.values()].some((inode) => inode.holdsUnwritten());
  }

  /** Handles of the current process that are not closed yet. */
  get openFileCount(): number {
    return stateOf(this).openFiles;
  }

  /** True while a store or directory holds its lock. */
  get locked(): boolean {
    return stateOf(this).locks.size > 0;
  }

  /** The hook that injects faults, if one is installed. */
  get faults(): FaultHook | undefined {
    return stateOf(this).faultHook;
  }

  /** Installs (or, with `undefined`, removes) the hook that injects faults. */
  set faults(hook: FaultHook | undefined) {
    stateOf(this).faultHook = hook;
  }

  /** The names in the directory as a reader sees them now, sorted. */
  names(): string[] {
    return [...stateOf(this).entries.keys()].sort();
  }

  /** A copy of a file's content as a reader sees it now, or `undefined` if there is no file. */
  bytesOf(name: string): Uint8Array | undefined {
    return stateOf(this).entries.get(name)?.current.view().slice();
  }

  /** Creates or replaces file `name` with `content`, durably (for building test fixtures). */
  writeFile(name: string, content: Uint8Array): void {
    const state = stateOf(this);
    state.entries.set(name, new Inode(content));
    state.syncEntries();
  }

  /** Removes file `name` at once and durably (for building test fixtures). */
  deleteFile(name: string): void {
    const state = stateOf(this);
    state.entries.delete(name);
    state.syncEntries();
  }

  /**
   * Lets `operations` more state-changing operations (appends, truncates, flush starts and
   * completions, creates, renames, removes, directory syncs) succeed; the next one finds the
   * power off. `undefined` cancels the countdown.
   */
  powerOffAfter(operations: number | undefined): void {
    stateOf(this).countdown = operations;
  }

  /** Turns the power off now: every later operation throws `SimPowerLoss`. */
  powerOff(): void {
    stateOf(this).dead = true;
  }

  /**
   * Kills the process using the disk: its handles throw `SimProcessKilled` from now on, its
   * flushes in flight never complete and its locks are released; the page cache is kept.
   */
  kill(): void {
    const state = stateOf(this);
    state.session++;
    state.locks.clear();
    state.openFiles = 0;
  }

  /**
   * What copying the directory (`cp -a`, `rsync`, a restored backup) leaves: a new disk with
   * the same names and bytes, each file a new inode, none of it durable yet (the copy is in
   * the page cache, entries and data, until something flushes it).
   */
  copy(): SimDisk {
    const copied = new SimDisk({ path: this.path });
    const state = stateOf(copied);
    for (const [name, inode] of stateOf(this).entries) {
      state.create(name).append(inode.current.view());
    }
    return copied;
  }

  /**
   * Loses power (if it is still on) and returns the disk as found afterwards: every file and
   * entry that survived, all of it durable. This disk stays dead.
   */
  crash(rng: Rng, model: CrashModel = CRASH_MODEL_DEFAULT): SimDisk {
    checkCrashModel(model);
    const remounted = new SimDisk();
    states.set(remounted, stateOf(this).remount(rng, model));
    return remounted;
  }
}

/** One open file of a `SimDirectory` or `SimStore`. */
type FlushPath = "blocking" | "background";

class SimFile implements DirectoryFile {
  #closed = false;
  /**
   * The write-back errors this handle's blocking and background flushes have reported
   * (sampled when it opens): like FileStore and FsDirectory files, a handle flushes through two
   * descriptors, each told of every error once.
   */
  readonly #errorsSeen: Record<FlushPath, number>;

  constructor(
    readonly state: DiskState,
    readonly inode: Inode,
    readonly name: string,
    readonly session: number,
  ) {
    state.openFiles++;
    this.#errorsSeen = { blocking: inode.writebackErrors, background: inode.writebackErrors };
  }

  get size(): number {
    return this.inode.current.size;
  }

  readAt(offset: number, buffer: Uint8Array): number {
    const fault = this.#enter("read");
    if (fault !== undefined) throw new SimIoError(fault.code, `read of ${this.name} failed`);
    return this.inode.current.read(offset, buffer);
  }

  append(data: Uint8Array): void {
    const fault = this.#enter("append");
    if (fault === undefined) return this.inode.append(data);
    const written = Math.min(fault.shortBytes ?? 0, data.length);
    if (written > 0) this.inode.append(data.subarray(0, written));
    throw new SimIoError(fault.code, `write to ${this.name} failed after ${written} bytes`);
  }

  truncate(size: number): void {
    const fault = this.#enter("truncate");
    if (fault !== undefined) throw new SimIoError(fault.code, `truncate ${this.name} failed`);
    this.inode.truncate(size);
  }

  /** Like `truncate`, completing after a few microtask turns, as on a worker thread. */
  async truncateAsync(size: number): Promise<void> {
    const ticks = this.state.rng?.below(FLUSH_TICKS_MAX + 1) ?? 0;
    for (let i = 0; i <= ticks; i++) await Promise.resolve();
    this.truncate(size);
  }

  flushSync(): void {
    const fault = this.#enter("flush");
    this.#finishFlush(this.inode.lastSeq, fault, "blocking");
  }

  async flush(): Promise<void> {
    const fault = this.#enter("flush");
    const covered = this.inode.lastSeq;
    const ticks = this.state.rng?.below(FLUSH_TICKS_MAX + 1) ?? 0;
    for (let i = 0; i <= ticks; i++) await Promise.resolve();
    // The completion is an operation of its own: power can fail while the flush is in flight.
    if (this.state.dead) throw new SimPowerLoss(`power lost during flush of ${this.name}`);
    if (this.session !== this.state.session) {
      throw new SimProcessKilled(`process killed during flush of ${this.name}`);
    }
    this.state.countOperation();
    this.#finishFlush(covered, fault, "background");
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const live = this.session === this.state.session && !this.state.dead;
    if (this.session === this.state.session) this.state.openFiles--;
    // Like close(2): the handle is released even when the call then reports an error.
    const fault = live ? this.state.enter(this.session, "close", this.name) : undefined;
    if (fault !== undefined) throw new SimIoError(fault.code, `close of ${this.name} failed`);
  }

  #finishFlush(covered: number, fault: SimFault | undefined, path: FlushPath): void {
    // A failed flush marks the data clean without writing it (see the model at the top).
    this.inode.settle(covered, fault === undefined);
    if (fault !== undefined) this.inode.writebackErrors++;
    const unseen = this.#errorsSeen[path] < this.inode.writebackErrors;
    this.#errorsSeen[path] = this.inode.writebackErrors;
    if (fault !== undefined) throw new SimIoError(fault.code, `flush of ${this.name} failed`);
    if (unseen) throw new SimIoError("EIO", `flush of ${this.name}: an earlier write-back failed`);
  }

  #enter(kind: SimOperationKind): SimFault | undefined {
    if (this.#closed) throw new Error(`SimFile ${this.name} used after close (${kind})`);
    return this.state.enter(this.session, kind, this.name);
  }
}

const DIRECTORY_LOCK = "directory";

/** A `WalDirectory` on a `SimDisk`, holding the disk's directory lock until closed. */
export class SimDirectory implements WalDirectory {
  readonly #state: DiskState;
  readonly #session: number;
  readonly #token: symbol;
  #closed = false;

  private constructor(state: DiskState) {
    this.#state = state;
    this.#session = state.session;
    this.#token = state.lock(DIRECTORY_LOCK, `segmented log "${state.path}"`);
  }

  /**
   * Opens the disk's directory, taking its lock.
   *
   * @throws {WalError} `"locked"` while another `SimDirectory` of the disk is open.
   */
  static open(disk: SimDisk): SimDirectory {
    const state = stateOf(disk);
    if (state.dead) throw new SimPowerLoss("power is off");
    return new SimDirectory(state);
  }

  get path(): string {
    return this.#state.path;
  }

  get durability(): string {
    return "simulated disk";
  }

  /** The directory, as seen by this process. */
  get identity(): string {
    return `sim-directory:${this.#state.serial}:${this.#session}`;
  }

  list(): string[] {
    const fault = this.#enter("list", "");
    if (fault !== undefined) throw new SimIoError(fault.code, "listing the directory failed");
    return [...this.#state.entries.keys()];
  }

  sizeOf(name: string): number | undefined {
    const fault = this.#enter("stat", name);
    if (fault !== undefined) throw new SimIoError(fault.code, `stat of ${name} failed`);
    return this.#state.entries.get(name)?.current.size;
  }

  /** The inode's serial, its count of writes and its size; see the model at the top. */
  fingerprint(name: string): FileFingerprint | undefined {
    const fault = this.#enter("stat", name);
    if (fault !== undefined) throw new SimIoError(fault.code, `stat of ${name} failed`);
    const inode = this.#state.entries.get(name);
    if (inode === undefined) return undefined;
    const id = `${inode.serial}:${inode.lastSeq}:${inode.current.size}`;
    return { id, changedAt: Number.NEGATIVE_INFINITY };
  }

  open(name: string, create: boolean): DirectoryFile {
    const creating = create && !this.#state.entries.has(name);
    const fault = this.#enter(creating ? "create" : "open", name);
    if (fault !== undefined) throw new SimIoError(fault.code, `open ${name} failed`);
    const inode = creating ? this.#state.create(name) : this.#state.inode(name);
    return new SimFile(this.#state, inode, name, this.#session);
  }

  remove(name: string): void {
    const fault = this.#enter("remove", name);
    if (fault !== undefined) throw new SimIoError(fault.code, `remove ${name} failed`);
    this.#state.remove(name);
  }

  /** Like `open`, completing after a few microtask turns, as on a worker thread. */
  async openAsync(name: string, create: boolean): Promise<DirectoryFile> {
    const ticks = this.#state.rng?.below(FLUSH_TICKS_MAX + 1) ?? 0;
    for (let i = 0; i <= ticks; i++) await Promise.resolve();
    return this.open(name, create);
  }

  /** Like `remove`, completing after a few microtask turns, as on a worker thread. */
  async removeAsync(name: string): Promise<void> {
    const ticks = this.#state.rng?.below(FLUSH_TICKS_MAX + 1) ?? 0;
    for (let i = 0; i <= ticks; i++) await Promise.resolve();
    this.remove(name);
  }

  rename(from: string, to: string): void {
    const fault = this.#enter("rename", from);
    if (fault !== undefined) throw new SimIoError(fault.code, `rename ${from} failed`);
    this.#state.rename(from, to);
  }

  sync(): void {
    if (this.#closed) throw new Error("SimDirectory used after close (sync)");
    this.#state.syncEntriesAs(this.#session);
  }

  /**
   * Like `sync`, completing after a few microtask turns, as a flush on a worker thread would: it
   * makes durable the entry changes made before it was called, and power can fail meanwhile.
   */
  async syncAsync(): Promise<void> {
    if (this.#closed) throw new Error("SimDirectory used after close (syncAsync)");
    const state = this.#state;
    const fault = state.enter(this.#session, "sync", "");
    const covered = state.entrySeq;
    const ticks = state.rng?.below(FLUSH_TICKS_MAX + 1) ?? 0;
    for (let i = 0; i <= ticks; i++) await Promise.resolve();
    if (state.dead) throw new SimPowerLoss("power lost during directory sync");
    if (this.#session !== state.session) {
      throw new SimProcessKilled("process killed during directory sync");
    }
    state.countOperation();
    if (fault !== undefined) throw new SimIoError(fault.code, "directory sync failed");
    state.syncEntriesUpTo(covered);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#state.unlock(DIRECTORY_LOCK, this.#token);
  }

  #enter(kind: SimOperationKind, name: string): SimFault | undefined {
    if (this.#closed) throw new Error(`SimDirectory used after close (${kind} ${name})`);
    return this.#state.enter(this.#session, kind, name);
  }
}

/** The file a `SimStore` keeps its log in, unless told otherwise. */
export const SIM_LOG_NAME = "log.wal";

/**
 * A single-file `WalStore` on a `SimDisk`, shaped like `FileStore`: opening creates the file
 * (and syncs the directory), `truncate` flushes, `setAside` writes a flushed sibling file, and a
 * lock is held until `close`.
 */
export class SimStore implements WalStore {
  readonly #state: DiskState;
  readonly #file: SimFile;
  readonly #name: string;
  readonly #token: symbol;
  #closed = false;

  private constructor(state: DiskState, file: SimFile, name: string, token: symbol) {
    this.#state = state;
    this.#file = file;
    this.#name = name;
    this.#token = token;
  }

  /**
   * Opens (creating it when missing) the log file `name`, taking its lock.
   *
   * @throws {WalError} `"locked"` while another `SimStore` has this file open.
   */
  static open(disk: SimDisk, name: string = SIM_LOG_NAME): SimStore {
    const state = stateOf(disk);
    if (state.dead) throw new SimPowerLoss("power is off");
    const token = state.lock(`file:${name}`, `log "${name}"`);
    try {
      return new SimStore(state, SimStore.#openFile(state, name), name, token);
    } catch (error) {
      state.unlock(`file:${name}`, token);
      // Like FileStore.open, which reports a failed open or create as `"io"`.
      if (!(error instanceof SimIoError)) throw error;
      throw new WalError("io", `Cannot open log "${name}": ${error.message}`, { cause: error });
    }
  }

  static #openFile(state: DiskState, name: string): SimFile {
    const session = state.session;
    const exists = state.entries.has(name);
    const fault = state.enter(session, exists ? "open" : "create", name);
    if (fault !== undefined) {
      throw new SimIoError(fault.code, `${exists ? "open" : "create"} ${name} failed`);
    }
    const file = new SimFile(state, exists ? state.inode(name) : state.create(name), name, session);
    try {
      // Like FileStore: a writer's open makes the file's directory entry durable before the log
      // is used, also when the file was there (an earlier open may have failed before its flush).
      state.syncEntriesAs(session);
    } catch (error) {
      file.close();
      throw error;
    }
    return file;
  }

  get size(): number {
    return this.#file.size;
  }

  get head(): number {
    return 0;
  }

  get durability(): string {
    return "simulated disk";
  }

  /** The file, as seen by this process. */
  get identity(): string {
    return `sim-file:${this.#file.inode.serial}:${this.#file.session}`;
  }

  readAt(offset: number, buffer: Uint8Array): number {
    return this.#file.readAt(offset, buffer);
  }

  append(data: Uint8Array): void {
    this.#file.append(data);
  }

  flushSync(): void {
    this.#file.flushSync();
  }

  flush(): Promise<void> {
    return this.#file.flush();
  }

  truncate(size: number): void {
    this.#file.truncate(size);
    this.#file.flushSync();
  }

  /** Like FileStore: the cut and its flush complete after a few microtask turns each. */
  async truncateAsync(size: number): Promise<void> {
    await this.#file.truncateAsync(size);
    await this.#file.flush();
  }

  /** Like FileStore: cuts the file, then flushes through a descriptor opened now. */
  discardUnflushed(size: number): void {
    this.#file.truncate(size);
    const session = this.#file.session;
    const fault = this.#state.enter(session, "open", this.#name);
    if (fault !== undefined) throw new SimIoError(fault.code, `open ${this.#name} failed`);
    const fresh = new SimFile(this.#state, this.#file.inode, this.#name, session);
    try {
      fresh.flushSync();
    } finally {
      fresh.close();
    }
  }

  setAside(offset: number, options: SetAsideOptions = {}): string {
    const base = `${this.#name}.${options.kind ?? "damaged"}-${offset}`;
    let name = base;
    for (let n = 1; this.#state.entries.has(name); n++) name = `${base}.${n}`;
    const end = Math.min(options.end ?? this.size, this.size);
    const session = this.#file.session;
    const fault = this.#state.enter(session, "create", name);
    if (fault !== undefined) throw new SimIoError(fault.code, `create ${name} failed`);
    const copy = new SimFile(this.#state, this.#state.create(name), name, session);
    try {
      const bytes = new Uint8Array(Math.max(0, end - offset));
      copy.append(bytes.subarray(0, this.readAt(offset, bytes)));
      copy.flushSync();
    } finally {
      copy.close();
    }
    this.#state.syncEntriesAs(session);
    return `${this.#state.path}/${name}`;
  }

  truncateBefore(_head: number): number {
    return 0;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#file.close();
    } finally {
      this.#state.unlock(`file:${this.#name}`, this.#token);
    }
  }
}

/** The two layouts the scenario tests run under. */
export type SimLayout = "single file" | "segmented";
/** Both of them. */
export const SIM_LAYOUTS: readonly SimLayout[] = ["single file", "segmented"];

/** Opens a log on `disk` in `layout` (segments of `segmentSize` bytes). */
export function openSimLog(disk: SimDisk, layout: SimLayout, segmentSize = 16): Wal {
  const store: WalStore = layout === "single file"
    ? SimStore.open(disk)
    : SegmentedStore.open(SimDirectory.open(disk), segmentSize);
  return Wal.withStore(store);
}
