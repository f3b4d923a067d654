// Copyright 2026 the wal-db authors. MIT license.
// Tests for cli/args.ts: parsing argv against a command's spec, usage and help text.

import { deepEqual, equal, match, ok, throws } from "node:assert/strict";
import {
  type CommandSpec,
  helpOf,
  integerFlag,
  parseArgs,
  parseInteger,
  switchFlag,
  usageOf,
  wordFlag,
  wrap,
} from "../cli/args.ts";
import { UsageError } from "../cli/errors.ts";

const SPEC: CommandSpec = {
  name: "demo",
  summary: "A command for tests.",
  positionals: ["path", "LSN"],
  flags: [
    { name: "from", value: "integer", placeholder: "LSN", help: "where to start" },
    { name: "format", value: ["text", "json"], help: "how to print" },
    { name: "follow", short: "f", value: "none", help: "keep going" },
    { name: "lines", short: "n", value: "integer", help: "how many" },
  ],
  details: "Details.",
};

function usage(pattern: RegExp) {
  return (error: unknown) => error instanceof UsageError && pattern.test(error.message);
}

Deno.test("parseArgs() reads positionals and every kind of flag", () => {
  const args = parseArgs(SPEC, ["a.wal", "--from", "12", "--format=json", "-f", "-n", "3", "7"]);
  deepEqual(args.positionals, ["a.wal", "7"]);
  equal(args.help, false);
  equal(integerFlag(args, "from"), 12);
  equal(integerFlag(args, "lines"), 3);
  equal(wordFlag(args, "format", "text"), "json");
  equal(switchFlag(args, "follow"), true);
});

Deno.test("parseArgs() leaves flags that were not given unset", () => {
  const args = parseArgs(SPEC, ["a.wal", "7"]);
  equal(integerFlag(args, "from"), undefined);
  equal(wordFlag(args, "format", "text"), "text");
  equal(switchFlag(args, "follow"), false);
});

Deno.test("parseArgs() takes everything after -- as positionals", () => {
  const args = parseArgs(SPEC, ["--", "-odd name", "5"]);
  deepEqual(args.positionals, ["-odd name", "5"]);
});

Deno.test("parseArgs() sees --help or -h anywhere and checks nothing else", () => {
  equal(parseArgs(SPEC, ["--bogus", "--help"]).help, true);
  equal(parseArgs(SPEC, ["-h"]).help, true);
});

Deno.test("parseArgs() rejects unknown, repeated and malformed flags", () => {
  throws(() => parseArgs(SPEC, ["a", "1", "--bogus"]), usage(/unknown option --bogus/));
  throws(() => parseArgs(SPEC, ["a", "1", "-x"]), usage(/unknown option -x/));
  throws(() => parseArgs(SPEC, ["a", "1", "--from"]), usage(/--from needs a value/));
  throws(() => parseArgs(SPEC, ["a", "1", "-f", "-f"]), usage(/--follow is given twice/));
  throws(() => parseArgs(SPEC, ["a", "1", "--follow=yes"]), usage(/takes no value/));
  throws(() => parseArgs(SPEC, ["a", "1", "--format", "xml"]), usage(/one of text, json/));
  throws(() => parseArgs(SPEC, ["a", "1", "--from", "1e3"]), usage(/non-negative integer/));
  throws(() => parseArgs(SPEC, ["a", "1", "--from", "-1"]), usage(/non-negative integer/));
});

Deno.test("parseArgs() needs exactly the positionals the spec names", () => {
  throws(() => parseArgs(SPEC, []), usage(/missing path/));
  throws(() => parseArgs(SPEC, ["a.wal"]), usage(/missing LSN/));
  throws(() => parseArgs(SPEC, ["a.wal", "1", "2"]), usage(/unexpected argument "2"/));
});

Deno.test("parseArgs() treats a negative number as a value, so the range check names it", () => {
  deepEqual(parseArgs(SPEC, ["a.wal", "-5"]).positionals, ["a.wal", "-5"]);
});

Deno.test("parseInteger() accepts decimal digits up to 2^53 - 1 only", () => {
  equal(parseInteger("0", "LSN"), 0);
  equal(parseInteger("9007199254740991", "LSN"), Number.MAX_SAFE_INTEGER);
  for (const bad of ["", " 1", "1.5", "0x10", "-3", "9007199254740993", "+1"]) {
    throws(() => parseInteger(bad, "LSN"), usage(/LSN must be a non-negative integer/));
  }
});

Deno.test("usageOf() lists positionals and flags with their placeholders", () => {
  equal(
    usageOf(SPEC),
    "wal demo <path> <LSN> [--from LSN] [--format text|json] [--follow] [--lines N]",
  );
});

Deno.test("helpOf() shows the summary, usage, each option and the details", () => {
  const help = helpOf(SPEC);
  ok(help.startsWith("A command for tests.\n\nUsage: wal demo <path> <LSN>"));
  match(help, /\n {6}--from LSN {10}where to start\n/);
  match(help, /\n {2}-f, --follow {12}keep going\n/);
  match(help, /\n {2}-h, --help {14}show this help\n/);
  ok(help.endsWith("\nDetails.\n"));
});

Deno.test("wrap() breaks at spaces within the width and keeps long words whole", () => {
  equal(wrap("aa bb cc dd", 5), "aa bb\ncc dd");
  equal(wrap("a verylongword b", 4), "a\nverylongword\nb");
  equal(wrap("", 10), "");
});
