// Copyright 2026 the wal-db authors. MIT license.
// docs/GUIDE.md, run as written: every `sh` block and every file block (```lang title=NAME) in
// order, in a temporary folder, as one bash script; the lines of each `text` block must appear
// in the output in order. The guide's last section lists the only changes made here.

import { equal, ok } from "node:assert/strict";
import { dirname, join } from "node:path";

const ROOT = join(dirname(new URL(import.meta.url).pathname), "..");
const GUIDE = join(ROOT, "docs", "GUIDE.md");
const GUIDE_PORT = "8000";
const CHECKOUT_PLACEHOLDER = "/path/to/wal-db";
/** Far above the ~10 s the script takes; only a hang reaches it. */
const SCRIPT_TIMEOUT_MS = 120_000;

interface Block {
  lang: string;
  title: string | undefined;
  text: string;
}

/** The fenced code blocks of a Markdown text, with their language and `title=` attribute. */
export function blocksOf(markdown: string): Block[] {
  const blocks: Block[] = [];
  const fence = /^```(\S*)([^\n]*)\n([\s\S]*?)^```$/gm;
  for (const match of markdown.matchAll(fence)) {
    const title = match[2]!.match(/\btitle=(\S+)/)?.[1];
    blocks.push({ lang: match[1]!, title, text: match[3]! });
  }
  return blocks;
}

/** The guide as one bash script, and the output lines it must print, in order. */
function scriptOf(blocks: Block[], port: string): { script: string; expected: string[] } {
  const lines = [
    "set -e",
    // Whatever happens, no service is left running.
    "trap 'kill $(jobs -p) 2>/dev/null || true' EXIT",
  ];
  const expected: string[] = [];
  for (const block of blocks) {
    const text = block.text.replaceAll(GUIDE_PORT, port);
    if (block.title !== undefined) {
      const content = text.replaceAll(CHECKOUT_PLACEHOLDER, ROOT);
      lines.push(`cat > '${block.title}' <<'GUIDE_EOF'`, content.trimEnd(), "GUIDE_EOF");
    } else if (block.lang === "sh") {
      if (text.includes("deno add jsr:")) continue;
      for (const line of text.split("\n").filter((l) => l.trim() !== "")) {
        // `wait` reports a killed process as a failure, which would stop `bash -e`.
        lines.push(line.startsWith("kill ") ? `${line} || true` : line);
      }
    } else if (block.lang === "text") {
      expected.push(...text.split("\n").filter((l) => l.trim() !== ""));
    }
  }
  return { script: lines.join("\n") + "\n", expected };
}

function freePort(): string {
  const listener = Deno.listen({ port: 0, hostname: "127.0.0.1" });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return String(port);
}

Deno.test("guide: the code blocks are found, with their files", () => {
  const blocks = blocksOf(Deno.readTextFileSync(GUIDE));
  const titles = blocks.flatMap((b) => b.title === undefined ? [] : [b.title]);
  equal(titles.join(" "), "deno.json counters.ts counters_test.ts service.ts");
  ok(blocks.some((b) => b.lang === "sh" && b.text.includes("deno add jsr:@wal-db/wal-db")));
  ok(blocks.some((b) => b.lang === "text"));
  // Pasted into an interactive shell, job numbers shift as jobs end: the guide uses process ids.
  ok(!blocks.some((b) => b.lang === "sh" && /%\d/.test(b.text)), "no job numbers like %1");
});

Deno.test({
  name: "guide: every command and file of docs/GUIDE.md runs, printing what it shows",
  // The guide's commands are for a POSIX shell with curl.
  ignore: Deno.build.os === "windows",
  fn: runGuide,
});

async function runGuide(): Promise<void> {
  const port = freePort();
  const { script, expected } = scriptOf(blocksOf(await Deno.readTextFile(GUIDE)), port);
  const dir = await Deno.makeTempDir({ prefix: "wal_guide_" });
  try {
    const scriptPath = join(dir, "guide.sh");
    await Deno.writeTextFile(scriptPath, script);
    // curl shows a progress meter when its output is not a terminal; the guide's reader sees none.
    await Deno.writeTextFile(join(dir, ".curlrc"), "silent\nshow-error\n");
    const child = new Deno.Command("bash", {
      args: [scriptPath],
      cwd: dir,
      env: {
        NO_COLOR: "1",
        CURL_HOME: dir,
        PATH: `${dirname(Deno.execPath())}:${Deno.env.get("PATH") ?? ""}`,
      },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const timer = setTimeout(() => child.kill("SIGKILL"), SCRIPT_TIMEOUT_MS);
    const output = await child.output();
    clearTimeout(timer);
    const text = new TextDecoder().decode(output.stdout) + new TextDecoder().decode(output.stderr);
    equal(output.code, 0, `the guide's script failed:\n${text}`);
    let at = 0;
    for (const line of expected) {
      const found = text.indexOf(line, at);
      ok(found >= 0, `the output lacks "${line}" (after offset ${at}):\n${text}`);
      at = found + line.length;
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
