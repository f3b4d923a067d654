// Copyright 2026 the wal-db authors. MIT license.
// Tests for cli/io.ts: the in-memory CliIo, reading a prompt's answer, Ctrl-C handling.

import { deepEqual, equal } from "node:assert/strict";
import { denoIo, interruptSignal, MemoryIo, readLine } from "../cli/io.ts";

function streamOf(...chunks: string[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return ReadableStream.from(chunks.map((chunk) => encoder.encode(chunk)));
}

Deno.test("MemoryIo keeps output, answers prompts in order and reports its terminals", async () => {
  const io = new MemoryIo({ terminals: ["stdin"], answers: ["y"] });
  io.stdout("out ");
  io.stdout("more");
  io.stderr("err");
  equal(io.out, "out more");
  equal(await io.prompt("Proceed? "), "y");
  equal(await io.prompt("Again? "), undefined);
  deepEqual(io.questions, ["Proceed? ", "Again? "]);
  equal(io.err, "errProceed? Again? ");
  equal(io.isTerminal("stdin"), true);
  equal(io.isTerminal("stderr"), false);
});

Deno.test("MemoryIo calls onStdout with each write", () => {
  const io = new MemoryIo();
  const seen: string[] = [];
  io.onStdout = (text) => seen.push(text);
  io.stdout("a");
  io.stdout("b");
  deepEqual(seen, ["a", "b"]);
});

Deno.test("readLine() returns the first line without its line break", async () => {
  equal(await readLine(streamOf("yes\nno\n")), "yes");
  equal(await readLine(streamOf("y", "e", "s\r\n")), "yes");
});

Deno.test("readLine() returns what came before the end, or undefined for nothing", async () => {
  equal(await readLine(streamOf("partial")), "partial");
  equal(await readLine(streamOf()), undefined);
  equal(await readLine(streamOf("\n")), "");
});

Deno.test("readLine() releases the stream so it can be read again", async () => {
  const stream = streamOf("one\n");
  await readLine(stream);
  equal(stream.locked, false);
});

Deno.test("interruptSignal() aborts when the CliIo's signal aborts", () => {
  const controller = new AbortController();
  const interrupt = interruptSignal(new MemoryIo({ signal: controller.signal }));
  try {
    equal(interrupt.signal.aborted, false);
    controller.abort();
    equal(interrupt.signal.aborted, true);
  } finally {
    interrupt.release();
  }
});

Deno.test("interruptSignal() is aborted at once when the CliIo's signal already is", () => {
  const interrupt = interruptSignal(new MemoryIo({ signal: AbortSignal.abort() }));
  interrupt.release();
  equal(interrupt.signal.aborted, true);
});

Deno.test("denoIo() answers isTerminal for each stream and writes nothing for empty text", () => {
  const io = denoIo();
  for (const stream of ["stdin", "stdout", "stderr"] as const) {
    equal(typeof io.isTerminal(stream), "boolean");
  }
  io.stdout("");
  io.stderr("");
});
