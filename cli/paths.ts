// Copyright 2026 the wal-db authors. MIT license.
// Where a path typed on the command line points: relative paths are resolved against the folder
// the user ran the command from, which under `deno task` is not the process's working directory.

import { isAbsolute, resolve } from "node:path";
import { fileURLToPath } from "node:url";

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

/** Where `deno task wal` runs the CLI: the checkout's folder, which holds its deno.json. */
const TASK_FOLDER = fileURLToPath(new URL("..", import.meta.url));

/**
 * The user's folder, from what the process sees. `INIT_CWD` counts only while the working
 * directory is the task's folder, as under `deno task`: the variable is inherited by every
 * child process, so a stale one (an outer `npm run` or task) must not move a plain
 * `deno run cli.ts` run elsewhere onto another folder's log. Pure, so the rule is tested apart.
 *
 * @param initCwd The `INIT_CWD` value, if readable.
 * @param cwd The working directory.
 * @param taskFolder The folder `deno task` runs the CLI in.
 */
export function chooseUserFolder(
  initCwd: string | undefined,
  cwd: string,
  taskFolder: string,
): string {
  const underTask = resolve(cwd) === resolve(taskFolder);
  return underTask && initCwd !== undefined && isAbsolute(initCwd) ? initCwd : cwd;
}

/**
 * The folder relative paths on the command line mean: `INIT_CWD` under `deno task` (see
 * {@linkcode chooseUserFolder}), else the working directory. Never prompts: without
 * `--allow-env` the variable is not looked at.
 */
export function userFolder(): string {
  const permission = Deno.permissions.querySync({ name: "env", variable: INIT_CWD_VARIABLE });
  const initCwd = permission.state === "granted" ? Deno.env.get(INIT_CWD_VARIABLE) : undefined;
  return chooseUserFolder(initCwd, Deno.cwd(), TASK_FOLDER);
}

/** `path` as the user meant it, absolute, so every message names the file that was read. */
export function userPath(path: string): string {
  // An absolute path needs no folder: looking one up could need a permission the user did not
  // give (the working directory needs read access to it).
  return isAbsolute(path) ? resolve(path) : resolveAgainst(path, userFolder());
}
