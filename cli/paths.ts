// Copyright 2026 the wal-db authors. MIT license.
// Where a path typed on the command line points: relative paths are resolved against the folder
// the user ran the command from, which under `deno task` is not the process's working directory.

import { isAbsolute, resolve } from "node:path";

/**
 * The variable `deno task` (like `npm run`) sets to the folder the task was started from; the
 * task itself runs in the folder of its deno.json, so `deno task wal stat data/app.wal` run from
 * a project folder would otherwise read the wal-db checkout's `data/app.wal`.
 */
export const INIT_CWD_VARIABLE = "INIT_CWD";

/**
 * `path` made absolute against `base` (the user's folder). Pure, so the rule is tested apart from
 * the environment.
 *
 * @param path What the user typed.
 * @param base The user's folder, absolute.
 */
export function resolveAgainst(path: string, base: string): string {
  return isAbsolute(path) ? resolve(path) : resolve(base, path);
}

/**
 * The folder relative paths on the command line mean: `INIT_CWD` when the process may read it
 * and it names an absolute folder (the command runs under `deno task`), else the working
 * directory. Never prompts: without `--allow-env` the variable is not looked at.
 */
export function userFolder(): string {
  const permission = Deno.permissions.querySync({ name: "env", variable: INIT_CWD_VARIABLE });
  if (permission.state === "granted") {
    const folder = Deno.env.get(INIT_CWD_VARIABLE);
    if (folder !== undefined && isAbsolute(folder)) return folder;
  }
  return Deno.cwd();
}

/** `path` as the user meant it, absolute, so every message names the file that was read. */
export function userPath(path: string): string {
  // An absolute path needs no folder: looking one up could need a permission the user did not
  // give (the working directory needs read access to it).
  return isAbsolute(path) ? resolve(path) : resolveAgainst(path, userFolder());
}
