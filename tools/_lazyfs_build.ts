// Copyright 2026 the wal-db authors. MIT license.
// Builds the LazyFS binary the power-loss suite mounts (tools/lazyfs.ts), from the vendored
// source with one fix of ours applied first.
//
// The fix: LazyFS's `lfs_truncate` declares `int res;` and sets it only when the file's content
// is not in LazyFS's cache; it still ends with `if (res == -1) return -errno;`. On a cached file
// that reads whatever the stack slot held (the release build keeps `res` at -0x334(%rbp), written
// only after its `ftruncate`/`truncate` calls), so now and then an `ftruncate` that succeeded
// failed with the thread's stale errno. CI met it once: a segmented log's asynchronous suffix
// cut failed with a bare "No such file or directory (os error 2)" (no path: an ftruncate), the
// log failed as it must on a failed cut, and the round was reported as a workload that stopped
// on its own (seed 1288427095, clear-cache round 13). The fix initializes `res` to 0.

import { join } from "node:path";

/** Written into the patched line, so a build made from unpatched source can be told apart. */
export const LAZYFS_PATCH_MARKER = "wal-db: res initialized";

const TRUNCATE_START = "int LazyFS::lfs_truncate (";
const UNINITIALIZED = "\n    int res;\n";

/**
 * LazyFS's `lazyfs.cpp` with `res` initialized in `lfs_truncate` (see the file's comment).
 * Source already patched is returned as it is; source whose `lfs_truncate` has no
 * uninitialized `int res;` throws, so an upstream change is noticed, not built around.
 */
export function patchLazyFsSource(source: string): string {
  if (source.includes(LAZYFS_PATCH_MARKER)) return source;
  const start = source.indexOf(TRUNCATE_START);
  if (start < 0) throw new Error("lazyfs.cpp has no lfs_truncate: update tools/_lazyfs_build.ts");
  const next = source.indexOf("\nint LazyFS::", start + TRUNCATE_START.length);
  const end = next < 0 ? source.length : next;
  const at = source.indexOf(UNINITIALIZED, start);
  if (at < 0 || at > end) {
    throw new Error(
      "lfs_truncate in lazyfs.cpp no longer declares `int res;`: check whether it still needs " +
        "the fix in tools/_lazyfs_build.ts",
    );
  }
  const fixed = `\n    int res = 0; // ${LAZYFS_PATCH_MARKER} (read below on every path)\n`;
  return source.slice(0, at) + fixed + source.slice(at + UNINITIALIZED.length);
}

/** Where LazyFS's main source file sits under a vendor copy's `lazyfs` directory. */
const SOURCE_PATH = join("lazyfs", "src", "lazyfs.cpp");

/**
 * Builds LazyFS into `buildDir` with `vendor`'s `build-lazyfs.sh`, from a copy of `vendor`
 * patched by {@linkcode patchLazyFsSource}; returns the binary's path. A build made earlier from
 * unpatched source is removed first (the script reuses any binary it finds).
 */
export async function buildLazyFs(vendor: string, buildDir: string): Promise<string> {
  const staged = join(buildDir, "vendor");
  await Deno.mkdir(buildDir, { recursive: true });
  await Deno.remove(staged, { recursive: true }).catch(ignoreNotFound);
  // -H: a vendor path that is a symlink is copied as the tree it leads to, never as a link (the
  // patch below would then write through it into the vendored source).
  await run("cp", ["-RH", vendor, staged]);
  await run("chmod", ["-R", "u+w", staged]); // the vendored tree is read-only
  const source = join(staged, "lazyfs", SOURCE_PATH);
  await Deno.writeTextFile(source, patchLazyFsSource(await Deno.readTextFile(source)));
  const built = join(buildDir, "lazyfs", SOURCE_PATH);
  const builtText = await Deno.readTextFile(built).catch(() => undefined);
  if (builtText !== undefined && !builtText.includes(LAZYFS_PATCH_MARKER)) {
    console.error(`[lazyfs] rebuilding: ${built} is not patched`);
    await Deno.remove(join(buildDir, "lazyfs"), { recursive: true });
  }
  const lines = (await run("bash", [join(staged, "build-lazyfs.sh"), buildDir])).trim().split("\n");
  return lines[lines.length - 1]!;
}

/** Runs a command, its errors shown; returns its output, or throws if it failed. */
async function run(command: string, args: string[]): Promise<string> {
  const result = await new Deno.Command(command, { args, stdout: "piped", stderr: "inherit" })
    .output();
  if (result.code !== 0) {
    throw new Error(`${command} ${args.join(" ")} failed (exit ${result.code})`);
  }
  return new TextDecoder().decode(result.stdout);
}

function ignoreNotFound(error: unknown): void {
  if (!(error instanceof Deno.errors.NotFound)) throw error;
}
