// Copyright 2026 the wal-db authors. MIT license.
// Tests for cli/paths.ts: relative paths mean the folder the user ran the command from, also
// under `deno task`, which runs in the folder of the wal-db checkout.

import { equal, match } from "node:assert/strict";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  chooseUserFolder,
  INIT_CWD_VARIABLE,
  resolveAgainst,
  userFolder,
  userPath,
} from "../cli/paths.ts";
import { bytes, logImage, withTempDir } from "./_helpers.ts";

const CHECKOUT = join(dirname(fileURLToPath(import.meta.url)), "..");

/** Runs `use` with INIT_CWD set to `value` (or unset), then puts it back. */
function withInitCwd<T>(value: string | undefined, use: () => T): T {
  const previous = Deno.env.get(INIT_CWD_VARIABLE);
  if (value === undefined) Deno.env.delete(INIT_CWD_VARIABLE);
  else Deno.env.set(INIT_CWD_VARIABLE, value);
  try {
    return use();
  } finally {
    if (previous === undefined) Deno.env.delete(INIT_CWD_VARIABLE);
    else Deno.env.set(INIT_CWD_VARIABLE, previous);
  }
}

Deno.test("resolveAgainst() joins a relative path to the folder and keeps an absolute one", () => {
  equal(resolveAgainst("data/app.wal", "/home/me/service"), "/home/me/service/data/app.wal");
  equal(resolveAgainst("../app.wal", "/home/me/service"), "/home/me/app.wal");
  equal(resolveAgainst("/var/lib/app.wal", "/home/me/service"), "/var/lib/app.wal");
  equal(resolveAgainst("/var/lib/../app.wal", "/home/me"), "/var/app.wal");
});

Deno.test("chooseUserFolder() trusts INIT_CWD only in the task's folder", () => {
  const task = "/opt/wal-db";
  equal(chooseUserFolder("/home/me/service", task, task), "/home/me/service");
  equal(chooseUserFolder("/home/me/service", `${task}/`, task), "/home/me/service");
  // A stale INIT_CWD inherited by `deno run cli.ts` started in another folder: that folder wins.
  equal(chooseUserFolder("/home/me/service", "/srv/other", task), "/srv/other");
  equal(chooseUserFolder(undefined, task, task), task);
  equal(chooseUserFolder("relative", task, task), task);
});

Deno.test("userFolder() is INIT_CWD when it is set to an absolute folder, else the cwd", () => {
  withInitCwd("/home/me/service", () => equal(userFolder(), "/home/me/service"));
  withInitCwd(undefined, () => equal(userFolder(), Deno.cwd()));
  withInitCwd("relative/folder", () => equal(userFolder(), Deno.cwd()));
  withInitCwd("/home/me/service", () => {
    equal(userPath("data/app.wal"), "/home/me/service/data/app.wal");
    equal(userPath("/abs/app.wal"), "/abs/app.wal");
  });
});

Deno.test("`deno task wal stat` reads a relative path in the folder it was run from", async () => {
  await withTempDir(async (dir) => {
    await Deno.mkdir(join(dir, "data"));
    await Deno.writeFile(join(dir, "data", "app.wal"), logImage([bytes("hello")]));
    const task = (path: string) =>
      new Deno.Command(Deno.execPath(), {
        args: ["task", "--quiet", "--config", join(CHECKOUT, "deno.json"), "wal", "stat", path],
        cwd: dir,
        // deno task keeps an INIT_CWD it inherits (this test may itself run under deno task).
        env: withoutInitCwd(),
        clearEnv: true,
        stdout: "piped",
        stderr: "piped",
      }).output();
    const found = await task("data/app.wal");
    const out = new TextDecoder().decode(found.stdout);
    equal(found.code, 0, new TextDecoder().decode(found.stderr));
    match(out, new RegExp(`^path +${join(dir, "data", "app.wal")}\n`));
    match(out, /\nrecords +1\n/);
    const missing = await task("data/other.wal");
    equal(missing.code, 3);
    equal(
      new TextDecoder().decode(missing.stderr),
      `wal stat: Cannot read "${join(dir, "data", "other.wal")}": no such file or directory\n`,
    );
  });
});

/** This process's environment without INIT_CWD. */
function withoutInitCwd(): Record<string, string> {
  const env = Deno.env.toObject();
  delete env[INIT_CWD_VARIABLE];
  return env;
}
