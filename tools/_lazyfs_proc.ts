// Copyright 2026 the wal-db authors. MIT license.
// The processes of the LazyFS suite (tools/lazyfs.ts): a LazyFS mount with its fault FIFO, and a
// workload (tools/lazyfs_workload.ts) whose output is read as it comes. Every process started
// here is tracked by pid and every mount by path, so that both can be ended even when a round
// fails or the suite is interrupted.

import { join } from "node:path";
import { fifoCommand } from "./_lazyfs_model.ts";

const WORKLOAD = join(new URL(".", import.meta.url).pathname, "lazyfs_workload.ts");
/** LazyFS's own page cache, allocated at mount (larger takes longer); far more than a cycle writes. */
const CACHE_SIZE = "64mb";
const MOUNT_WAIT_MS = 10_000;
const COMMAND_WAIT_MS = 5_000;
const EXIT_WAIT_MS = 5_000;
/** How often the suite looks at LazyFS's log, the mount table and the workload's progress. */
export const POLL_MS = 20;

/** Every process this run started that may still be alive, by pid, and mounts to undo. */
const live = new Set<Deno.ChildProcess>();
const mounts = new Set<string>();

function killPid(child: Deno.ChildProcess): void {
  try {
    child.kill("SIGKILL");
  } catch {
    // Already exited.
  }
}

export async function sleep(ms: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms));
}

/** Resolves true when `child` exits within `ms`, false otherwise. */
async function exited(status: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<boolean>((resolve) => timer = setTimeout(() => resolve(false), ms));
  try {
    return await Promise.race([status.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function run(command: string, args: string[]): Promise<{ code: number; output: string }> {
  const result = await new Deno.Command(command, { args, stdout: "piped", stderr: "piped" })
    .output();
  const decoder = new TextDecoder();
  return {
    code: result.code,
    output: decoder.decode(result.stdout) + decoder.decode(result.stderr),
  };
}

function isMounted(mountPoint: string): boolean {
  const info = Deno.readTextFileSync("/proc/self/mountinfo");
  return info.split("\n").some((line) => line.split(" ")[4] === mountPoint);
}

async function unmount(mountPoint: string): Promise<void> {
  if (!isMounted(mountPoint)) {
    mounts.delete(mountPoint);
    return;
  }
  let result = await run("fusermount3", ["-u", mountPoint]);
  if (result.code !== 0) result = await run("fusermount3", ["-uz", mountPoint]);
  if (result.code !== 0 && isMounted(mountPoint)) {
    throw new Error(`cannot unmount ${mountPoint}: ${result.output.trim()}`);
  }
  mounts.delete(mountPoint);
}

/** Kills every process still running (by pid), waits for them, and undoes every mount. */
export async function cleanUpEverything(): Promise<void> {
  const children = [...live];
  for (const child of children) killPid(child);
  for (const mountPoint of [...mounts]) {
    try {
      await unmount(mountPoint);
    } catch (error) {
      console.error(String(error));
    }
  }
  for (const child of children) {
    if (!(await exited(child.status, EXIT_WAIT_MS))) console.error(`pid ${child.pid} did not exit`);
  }
}

/** A LazyFS process serving one mount, and its fault FIFO. */
export class LazyFsMount {
  readonly #child: Deno.ChildProcess;
  readonly #status: Promise<Deno.CommandStatus>;
  readonly #log: string;
  readonly #mountPoint: string;
  #fifo: Deno.FsFile | undefined;
  #dead = false;

  private constructor(child: Deno.ChildProcess, log: string, mountPoint: string) {
    this.#child = child;
    this.#status = child.status.then((status) => {
      this.#dead = true;
      live.delete(child);
      return status;
    });
    this.#log = log;
    this.#mountPoint = mountPoint;
  }

  /** Mounts LazyFS at `mountPoint` over `disk`, with its FIFO at `fifo` and its log at `log`. */
  static async start(
    binary: string,
    work: string,
    disk: string,
    mountPoint: string,
    name: string,
  ): Promise<LazyFsMount> {
    const fifo = join(work, "f");
    const log = join(work, `${name}.lazyfs.log`);
    const config = join(work, "lazyfs.toml");
    try {
      Deno.removeSync(fifo);
    } catch {
      // Not there.
    }
    Deno.writeTextFileSync(
      config,
      [
        "[faults]",
        `fifo_path="${fifo}"`,
        "[cache]",
        "apply_eviction=false",
        "[cache.simple]",
        `custom_size="${CACHE_SIZE}"`,
        "blocks_per_page=1",
        "[filesystem]",
        "log_all_operations=false",
        `logfile="${log}"`,
        "",
      ].join("\n"),
    );
    const child = new Deno.Command("sh", {
      args: [
        "-c",
        'out=$1; shift; exec "$@" >>"$out" 2>&1',
        "sh",
        join(work, `${name}.lazyfs.out`),
        binary,
        mountPoint,
        "--config-path",
        config,
        "-o",
        "modules=subdir",
        "-o",
        `subdir=${disk}`,
        "-f",
      ],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    live.add(child);
    mounts.add(mountPoint);
    const mount = new LazyFsMount(child, log, mountPoint);
    const deadline = Date.now() + MOUNT_WAIT_MS;
    while (!isMounted(mountPoint)) {
      if (mount.#dead || Date.now() > deadline) {
        await mount.stop();
        throw new Error(`LazyFS did not mount ${mountPoint}; see ${work}/${name}.lazyfs.out`);
      }
      await sleep(POLL_MS);
    }
    // Read and write: opening a FIFO this way never blocks, even once LazyFS is gone.
    mount.#fifo = Deno.openSync(fifo, { read: true, write: true });
    return mount;
  }

  get dead(): boolean {
    return this.#dead;
  }

  get status(): Promise<Deno.CommandStatus> {
    return this.#status;
  }

  #logText(): string {
    try {
      return Deno.readTextFileSync(this.#log);
    } catch {
      return "";
    }
  }

  #count(marker: string): number {
    return this.#logText().split(marker).length - 1;
  }

  /**
   * Sends one command and waits until LazyFS's log shows `done` once more (LazyFS reads its
   * FIFO in chunks, so two commands in the pipe at once could be read as one). Returns false
   * when LazyFS died or did not answer.
   */
  async command(line: string, done: string | string[]): Promise<boolean> {
    const markers = Array.isArray(done) ? done : [done];
    const before = markers.map((m) => this.#count(m));
    const bytes = new TextEncoder().encode(fifoCommand(line.replace(/\n$/, "")));
    if (this.#dead) return false;
    this.#fifo!.writeSync(bytes);
    const deadline = Date.now() + COMMAND_WAIT_MS;
    while (Date.now() < deadline && !this.#dead) {
      if (markers.some((m, i) => this.#count(m) > before[i]!)) return true;
      await sleep(POLL_MS);
    }
    return markers.some((m, i) => this.#count(m) > before[i]!);
  }

  /** Drops every unsynced byte LazyFS holds: the power cut. */
  async clearCache(): Promise<void> {
    if (!(await this.command("lazyfs::clear-cache", "cache is cleared"))) {
      throw new Error(
        this.#dead ? "LazyFS died before clearing its cache" : "clear-cache timed out",
      );
    }
  }

  /** Unmounts and makes sure the process has ended, killing it by pid if it has not. */
  async stop(): Promise<void> {
    try {
      await unmount(this.#mountPoint);
    } finally {
      if (!(await exited(this.#status, EXIT_WAIT_MS))) {
        killPid(this.#child);
        await this.#status;
      }
      this.#fifo?.close();
      this.#fifo = undefined;
    }
  }
}

/** A running workload, its output so far, and what that output says. */
export class Workload {
  readonly #child: Deno.ChildProcess;
  readonly status: Promise<Deno.CommandStatus>;
  readonly #done: Promise<void>;
  #text = "";
  #stderr = "";
  acks = 0;
  maxAckLsn = -1;
  /** Whether the last cut line seen was a `T` with no `R` yet: a suffix cut is running. */
  cutting = false;
  /** How many `R` lines (suffix cuts returned) it printed. */
  cutsReturned = 0;
  exited = false;

  constructor(args: string[], ffi: boolean) {
    const permissions = ["--allow-read", "--allow-write", "--allow-env"];
    if (ffi) permissions.push("--allow-ffi");
    this.#child = new Deno.Command(Deno.execPath(), {
      args: ["run", "--quiet", ...permissions, WORKLOAD, ...args],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    live.add(this.#child);
    this.status = this.#child.status.then((status) => {
      this.exited = true;
      live.delete(this.#child);
      return status;
    });
    this.#done = Promise.all([this.#read(), this.#readErrors()]).then(() => {});
  }

  async #read(): Promise<void> {
    const decoder = new TextDecoder();
    for await (const chunk of this.#child.stdout) {
      const text = decoder.decode(chunk, { stream: true });
      this.#text += text;
      for (const match of text.matchAll(/^A (\d+) /gm)) {
        this.acks++;
        this.maxAckLsn = Math.max(this.maxAckLsn, Number(match[1]));
      }
      // A line split across two chunks is missed: this only times kills, the checks parse all.
      for (const match of text.matchAll(/^([TR]) /gm)) {
        this.cutting = match[1] === "T";
        if (match[1] === "R") this.cutsReturned++;
      }
    }
  }

  async #readErrors(): Promise<void> {
    const decoder = new TextDecoder();
    for await (const chunk of this.#child.stderr) this.#stderr += decoder.decode(chunk);
  }

  kill(): void {
    killPid(this.#child);
  }

  /** The whole output, once the process has ended and its pipes are drained. */
  async output(): Promise<{ stdout: string; stderr: string }> {
    await this.status;
    await this.#done;
    return { stdout: this.#text, stderr: this.#stderr };
  }
}
