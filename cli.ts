// Copyright 2026 the wal-db authors. MIT license.
// The `wal` command line's entry point: runs `main` when executed, exports it when imported.

/**
 * `wal`, a command line for wal-db logs: `stat`, `verify`, `dump`, `tail` (with `-f` to follow
 * a log another process is writing), `truncate-before` and `truncate-after`. Read commands open
 * logs read-only and never change a byte; the truncate commands ask before they write.
 *
 * ```sh
 * deno run --allow-read jsr:@wal-db/wal-db/cli verify app.wal
 * deno run --allow-read --allow-write jsr:@wal-db/wal-db/cli truncate-after app.wal 1200
 * ```
 *
 * Programs can run it too: {@linkcode main} takes the arguments and a {@linkcode CliIo}, and
 * resolves to the exit code instead of exiting (see docs/CLI.md).
 *
 * @example Running a command and capturing its output
 * ```ts
 * import { main, MemoryIo } from "@wal-db/wal-db/cli";
 * import { equal, match } from "node:assert/strict";
 *
 * const io = new MemoryIo();
 * equal(await main(["--help"], io), 0);
 * match(io.out, /verify/);
 * ```
 *
 * @module
 */

import { main } from "./cli/main.ts";

export { main, VERSION } from "./cli/main.ts";
export { type CliIo, MemoryIo, type MemoryIoOptions, type StreamName } from "./cli/io.ts";

if (import.meta.main) Deno.exit(await main(Deno.args));
