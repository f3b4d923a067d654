// Copyright 2026 the wal-db authors. MIT license.
// The fix tools/_lazyfs_build.ts applies to LazyFS before the power-loss suite builds it:
// `res` initialized in `lfs_truncate`, and nowhere else; the build (root, FUSE, a compiler) is
// exercised by `deno task test:lazyfs`, not here.
//
// Goal: the patch lands on the one declaration that needs it, is applied once, and refuses
// source it does not recognise instead of building LazyFS unfixed.

import { equal, ok, throws } from "node:assert/strict";
import { join } from "node:path";
import { LAZYFS_PATCH_MARKER, patchLazyFsSource } from "../tools/_lazyfs_build.ts";

/** Shaped like LazyFS's source: an `int res;` before lfs_truncate, one in it, one after it. */
const SOURCE = [
  "int LazyFS::lfs_write (const char* path) {",
  "    int res;",
  "    return res;",
  "}",
  "",
  "int LazyFS::lfs_truncate (const char* path, off_t size, struct fuse_file_info* fi) {",
  "    struct stat stats;",
  "",
  "    int res;",
  "",
  "    if (fi != NULL) {",
  "            int res;",
  "    }",
  "    if (res == -1)",
  "        return -errno;",
  "    return 0;",
  "}",
  "",
  "int LazyFS::lfs_symlink (const char* from, const char* to) {",
  "    int res;",
  "}",
  "",
].join("\n");

/** The lines of `after` that differ from `before`'s (same line count: the patch adds none). */
function changedLines(before: string, after: string): string[] {
  const old = before.split("\n");
  const lines = after.split("\n");
  equal(lines.length, old.length);
  return lines.filter((line, i) => line !== old[i]);
}

/** The text of function `name` in `source`, up to the next LazyFS function. */
function functionText(source: string, name: string): string {
  const from = source.indexOf(`int LazyFS::${name} (`);
  ok(from >= 0, name);
  const to = source.indexOf("\nint LazyFS::", from + 1);
  return source.slice(from, to < 0 ? source.length : to);
}

Deno.test("lazyfs build: res is initialized in lfs_truncate only", () => {
  const patched = patchLazyFsSource(SOURCE);
  const changed = changedLines(SOURCE, patched);
  equal(changed.length, 1);
  ok(changed[0]!.startsWith("    int res = 0; //"), changed[0]);
  ok(changed[0]!.includes(LAZYFS_PATCH_MARKER));
  // The declaration inside lfs_truncate, not lfs_write's before it or lfs_symlink's after it.
  ok(functionText(patched, "lfs_truncate").includes(changed[0]!));
  equal(functionText(patched, "lfs_write"), functionText(SOURCE, "lfs_write"));
  equal(functionText(patched, "lfs_symlink"), functionText(SOURCE, "lfs_symlink"));
});

Deno.test("lazyfs build: patched source is left as it is", () => {
  const once = patchLazyFsSource(SOURCE);
  equal(patchLazyFsSource(once), once);
});

Deno.test("lazyfs build: source it does not recognise is refused", () => {
  throws(() => patchLazyFsSource("int main() { return 0; }\n"), /no lfs_truncate/);
  // lfs_truncate without the declaration (upstream fixed or changed it): the next function's
  // `int res;` must not be taken for it.
  const fixedUpstream = SOURCE.replace("    struct stat stats;\n\n    int res;\n", "");
  throws(() => patchLazyFsSource(fixedUpstream), /no longer declares/);
});

Deno.test("lazyfs build: the vendored source takes the patch, when it is here", () => {
  const vendor = Deno.env.get("LAZYFS_VENDOR") ??
    join(new URL(".", import.meta.url).pathname, "..", "..", "shared", "vendor");
  let source: string;
  try {
    source = Deno.readTextFileSync(join(vendor, "lazyfs", "lazyfs", "src", "lazyfs.cpp"));
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return; // a checkout without the vendor tree
    throw error;
  }
  const patched = patchLazyFsSource(source);
  const changed = changedLines(source, patched);
  equal(changed.length, 1);
  ok(functionText(patched, "lfs_truncate").includes(changed[0]!));
});
