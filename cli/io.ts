// Copyright 2026 the wal-db authors. MIT license.
// Where the CLI's text goes and comes from: the process's streams, or memory in tests.
// The only file of the CLI that touches stdin, stdout, stderr and signals.

/** A standard stream the CLI may ask about. */
export type StreamName = "stdin" | "stdout" | "stderr";

/**
 * The CLI's view of the outside world, so that tests (and programs embedding the CLI) can
 * drive {@linkcode main} without a terminal.
 */
export interface CliIo {
  /** Writes `text` to standard output, all of it, before returning. */
  stdout(text: string): void;
  /** Writes `text` to standard error, all of it, before returning. */
  stderr(text: string): void;
  /** True when `stream` is a terminal (progress bars and prompts need one). */
  isTerminal(stream: StreamName): boolean;
  /**
   * Shows `question` on stderr and resolves to the line the user typed, without its line
   * break, or `undefined` when input ended first.
   */
  prompt(question: string): Promise<string | undefined>;
  /** Ends long-running commands (`tail -f`) when aborted, as Ctrl-C does. */
  readonly signal?: AbortSignal;
}

/** A {@linkcode CliIo} on the process's own streams. */
export function denoIo(): CliIo {
  const encoder = new TextEncoder();
  return {
    stdout: (text) => writeAll(Deno.stdout, encoder.encode(text)),
    stderr: (text) => writeAll(Deno.stderr, encoder.encode(text)),
    isTerminal: (stream) => Deno[stream].isTerminal(),
    prompt: async (question) => {
      writeAll(Deno.stderr, encoder.encode(question));
      return await readLine(Deno.stdin.readable);
    },
  };
}

/** Options for {@linkcode MemoryIo}. */
export interface MemoryIoOptions {
  /**
   * Which streams claim to be terminals.
   *
   * @default {[]}
   */
  terminals?: readonly StreamName[];
  /**
   * The lines `prompt` answers with, in order; `undefined` once they run out.
   *
   * @default {[]}
   */
  answers?: readonly string[];
  /** Passed on as {@linkcode CliIo.signal}. */
  signal?: AbortSignal;
}

/**
 * A {@linkcode CliIo} that keeps everything in memory: what was written, what was asked.
 *
 * @example Capturing the output of a command
 * ```ts
 * import { main, MemoryIo } from "@wal-db/wal-db/cli";
 * import { equal } from "node:assert/strict";
 *
 * const io = new MemoryIo();
 * equal(await main(["--version"], io), 0);
 * equal(io.out.startsWith("wal "), true);
 * ```
 */
export class MemoryIo implements CliIo {
  /** Everything written to stdout. */
  out = "";
  /** Everything written to stderr. */
  err = "";
  /** Every question `prompt` was asked. */
  readonly questions: string[] = [];
  /** See {@linkcode MemoryIoOptions.signal}. */
  readonly signal?: AbortSignal;
  readonly #terminals: readonly StreamName[];
  readonly #answers: string[];
  /** Called after every write to stdout, so a test can react to output as it appears. */
  onStdout: ((text: string) => void) | undefined;

  /**
   * Creates an io with nothing written yet.
   *
   * @param options Which streams are terminals, the prompt's answers, the abort signal.
   */
  constructor(options: MemoryIoOptions = {}) {
    this.#terminals = options.terminals ?? [];
    this.#answers = [...(options.answers ?? [])];
    if (options.signal !== undefined) this.signal = options.signal;
  }

  /** Appends to {@linkcode MemoryIo.out}. */
  stdout(text: string): void {
    this.out += text;
    this.onStdout?.(text);
  }

  /** Appends to {@linkcode MemoryIo.err}. */
  stderr(text: string): void {
    this.err += text;
  }

  /** True for the streams named in `terminals`. */
  isTerminal(stream: StreamName): boolean {
    return this.#terminals.includes(stream);
  }

  /** Records the question and answers with the next of `answers`. */
  prompt(question: string): Promise<string | undefined> {
    this.questions.push(question);
    this.err += question;
    return Promise.resolve(this.#answers.shift());
  }
}

/**
 * Reads one line from `stream` and releases it: the text before the first `\n` (a `\r` before
 * it is dropped), or whatever came before the end, or `undefined` for no input at all.
 */
export async function readLine(stream: ReadableStream<Uint8Array>): Promise<string | undefined> {
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  let text = "";
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return text === "" ? undefined : text;
      text += decoder.decode(value, { stream: true });
      const newline = text.indexOf("\n");
      if (newline !== -1) return text.slice(0, newline).replace(/\r$/, "");
    }
  } finally {
    reader.releaseLock();
  }
}

/**
 * An AbortSignal that fires on Ctrl-C (SIGINT) or when `io.signal` aborts, and a function that
 * removes the SIGINT listener again. While it is installed, Ctrl-C no longer kills the process:
 * the command ends cleanly instead.
 */
export function interruptSignal(io: CliIo): { signal: AbortSignal; release: () => void } {
  const controller = new AbortController();
  const onInterrupt = () => controller.abort();
  const onAbort = () => controller.abort();
  Deno.addSignalListener("SIGINT", onInterrupt);
  io.signal?.addEventListener("abort", onAbort, { once: true });
  if (io.signal?.aborted) controller.abort();
  return {
    signal: controller.signal,
    release: () => {
      Deno.removeSignalListener("SIGINT", onInterrupt);
      io.signal?.removeEventListener("abort", onAbort);
    },
  };
}

/** `writeSync` may write part of the buffer; a closed pipe (`wal dump | head`) ends output. */
function writeAll(stream: typeof Deno.stdout, bytes: Uint8Array): void {
  try {
    for (let done = 0; done < bytes.length;) done += stream.writeSync(bytes.subarray(done));
  } catch (error) {
    if (error instanceof Deno.errors.BrokenPipe) throw new OutputClosedError({ cause: error });
    throw error;
  }
}

/** The reader of our output went away (`wal dump | head`): not a failure of the command. */
export class OutputClosedError extends Error {
  /** Always `"OutputClosedError"`. */
  override name = "OutputClosedError";

  /**
   * Creates the error.
   *
   * @param options The BrokenPipe error, as `cause`.
   */
  constructor(options?: ErrorOptions) {
    super("the output was closed", options);
  }
}
