// Copyright 2026 the wal-db authors. MIT license.
// Read commands take no lock, so a writer may checkpoint a segmented log while they read it: a
// segment listed a moment ago is gone, or the head moved past the reader. Such a failure is the
// writer's doing, not the log's, and reading again from the start gives a true answer.

import { join } from "node:path";
import { segmentLayout } from "../mod.ts";

/** How many times a read command reads a log that a writer keeps changing under it. */
export const READ_ATTEMPTS_MAX = 5;

/**
 * What a writer's checkpoint or rotation changes in a segmented log's directory: the names of
 * its files and the bytes of its head file. A single file gives a constant: a writer never
 * removes what a reader of a single file has read (it only cuts after the end the reader saw).
 */
export function logFingerprint(path: string): string {
  try {
    if (!Deno.statSync(path).isDirectory) return "file";
    const names = [...Deno.readDirSync(path)].map((entry) => entry.name).sort();
    let head = "";
    try {
      head = Deno.readFileSync(join(path, segmentLayout.headFileName)).join(",");
    } catch {
      // No head file (a log never checkpointed), or removed: the names tell the change.
    }
    return `${names.join("/")}|${head}`;
  } catch {
    return "unreadable";
  }
}

/**
 * Runs `attempt`, and runs it again when it fails while the log at `path` changed (see
 * {@linkcode logFingerprint}), at most {@linkcode READ_ATTEMPTS_MAX} times in all. A failure on
 * a log that did not change is the log's own (missing, damaged, not a log), thrown at once.
 *
 * @param path The log, absolute.
 * @param attempt The whole read: open, read, and nothing written anywhere before it succeeds,
 * or before `canRetry` says it may start over.
 * @param canRetry Whether a failed attempt may be repeated (a dump that printed records may not).
 */
export function retryWhileChanging<T>(
  path: string,
  attempt: () => T,
  canRetry: () => boolean = () => true,
): T {
  for (let attempts = 1;; attempts++) {
    const before = logFingerprint(path);
    try {
      return attempt();
    } catch (error) {
      const changed = logFingerprint(path) !== before;
      if (!changed || attempts >= READ_ATTEMPTS_MAX || !canRetry()) throw error;
    }
  }
}

/**
 * What a writer's appends change: the size and modification time of every file of the log (a
 * writer that appends into space it reserved ahead keeps the size, not the time).
 */
export function logActivity(path: string): string {
  try {
    const info = Deno.statSync(path);
    if (!info.isDirectory) return `${info.size}@${info.mtime?.getTime()}`;
    return [...Deno.readDirSync(path)].map((entry) => {
      const file = Deno.statSync(join(path, entry.name));
      return `${entry.name}:${file.size}@${file.mtime?.getTime()}`;
    }).sort().join("/");
  } catch {
    // A file removed while it was listed: the log is changing.
    return `changing ${crypto.randomUUID()}`;
  }
}

/**
 * How long to watch a log whose read found a torn tail for a writer's next write, in
 * milliseconds. A writer in the middle of an append can be stalled in a flush (a new segment
 * flushes the directory) for a few milliseconds; a torn tail nobody is writing costs this once.
 */
export const TORN_TAIL_WATCH_MS = 100;

/**
 * Runs `read`, and runs it again while its result is `unsettled` and the log was written to
 * meanwhile or within `watchMs` after (see {@linkcode logActivity}), at most
 * {@linkcode READ_ATTEMPTS_MAX} times in all: a torn tail in a log that is being written is most
 * often the writer's append in progress, complete a moment later, while a torn tail in a log
 * nobody writes stays.
 */
export async function readUntilSettled<T>(
  path: string,
  read: () => T,
  unsettled: (result: T) => boolean,
  watchMs: number = TORN_TAIL_WATCH_MS,
): Promise<T> {
  for (let attempts = 1;; attempts++) {
    const before = logActivity(path);
    const result = read();
    if (!unsettled(result) || attempts >= READ_ATTEMPTS_MAX) return result;
    if (watchMs > 0) await new Promise((resolve) => setTimeout(resolve, watchMs));
    if (logActivity(path) === before) return result;
  }
}
