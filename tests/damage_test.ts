// Copyright 2026 the wal-db authors. MIT license.
// What the bytes after the intact prefix are (reserve, torn, damage), and the promise built on
// it: a file that is not a wal-db log is refused and left exactly as it was, under every policy.

import { deepEqual, equal, ok, throws } from "node:assert/strict";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { type RecoveryPolicy, Wal, WalError } from "../mod.ts";
import { SECTOR_SIZE } from "../src/constants.ts";
import { classify, couldBeFirstAppends, fileSectors, type SectorMap } from "../src/damage.ts";
import { MemStore } from "../src/mem_store.ts";
import { RecordReader } from "../src/reader.ts";
import { frame } from "../src/record.ts";
import { bytes, concat, hex, logImage, payload, withTempDir } from "./_helpers.ts";

const POLICIES: readonly RecoveryPolicy[] = ["tolerate-torn-tail", "strict", "skip", "truncate"];
const MAX = 64 * 1024 * 1024;

function stopOf(image: Uint8Array, lsn: number, sectors: SectorMap = fileSectors) {
  const reader = new RecordReader(new MemStore(image), 0, image.length, MAX);
  return { reader, stop: classify(reader, sectors, lsn, image.length) };
}

Deno.test("classify() reads zeros to the end as the reserve", () => {
  const image = concat([logImage([bytes("a")]), new Uint8Array(3000)]);
  equal(stopOf(image, 9).stop.kind, "reserve");
});

Deno.test("classify() reads a frame running past the end as torn", () => {
  const whole = frame(payload(2000, 1));
  equal(stopOf(whole.subarray(0, 1024), 0).stop.kind, "torn");
  equal(stopOf(whole.subarray(0, 5), 0).stop.kind, "torn");
});

Deno.test("classify() reads a frame with a sector that never landed as torn", () => {
  const image = frame(payload(2000, 2));
  image.fill(0, 1024, 1536); // the third sector of the frame
  const { stop } = stopOf(image, 0);
  equal(stop.kind, "torn");
  equal(stop.reason, "crc-mismatch");
});

Deno.test("classify() reads zeros that stop short of the sector's end as damage", () => {
  // A record whose payload holds 500 zero bytes inside one sector, with a flipped bit: no
  // crash leaves a zero run that ends before its sector does.
  // An intact record follows, as it would in the middle of a log.
  const body = payload(2000, 3);
  body.fill(0, 600, 1100); // bytes 608..1108 of the frame, across sectors 1 and 2 but neither whole
  const damaged = frame(body);
  damaged[1500]! ^= 1;
  equal(stopOf(concat([damaged, frame(bytes("next"))]), 0).stop.kind, "damage");
});

Deno.test("classify() reads a frame whose end never landed, the next record right after, as torn", () => {
  // A frame split over two write calls (two segment files), the second lost.
  const torn = frame(payload(300, 12));
  torn.fill(0, 250);
  const image = concat([torn, frame(bytes("next"))]);
  equal(stopOf(image, 0).stop.kind, "torn");
  const flipped = frame(payload(300, 12));
  flipped[100]! ^= 1; // a flipped bit, no zeros: damage
  equal(stopOf(concat([flipped, frame(bytes("next"))]), 0).stop.kind, "damage");
});

Deno.test("classify() never calls a frame torn when an intact record follows its cut", () => {
  // A length that bit rot enlarged claims the records after it and the reserve's zeros.
  const records = logImage([bytes("one"), bytes("two"), bytes("three")]);
  const image = concat([records, new Uint8Array(4096)]);
  new DataView(image.buffer).setUint32(4, 3000, true); // "one" now claims 3000 bytes
  equal(stopOf(image, 0).stop.kind, "damage");
  new DataView(image.buffer).setUint32(4, 9000, true); // past the end of the file
  equal(stopOf(image, 0).stop.kind, "damage");
});

Deno.test("classify() follows the store's sectors and ignores the zeros of missing files", () => {
  const torn = frame(payload(2000, 4));
  torn.fill(0, 512, 1000); // a whole sector in a map of 1000-byte segments, not at 512 bytes
  const image = concat([torn, frame(bytes("after"))]);
  const segments: SectorMap = (lsn) => ({
    end: Math.min(lsn - ((lsn % 1000) % SECTOR_SIZE) + SECTOR_SIZE, lsn - (lsn % 1000) + 1000),
    missing: false,
  });
  equal(stopOf(image, 0).stop.kind, "damage"); // 512-aligned sectors: none is zero to its end
  equal(stopOf(image, 0, segments).stop.kind, "torn");
  const missing: SectorMap = (lsn) => ({ ...segments(lsn), missing: true });
  equal(stopOf(image, 0, missing).stop.kind, "damage");
});

Deno.test("couldBeFirstAppends() accepts torn frames chained to zeros, and nothing else", () => {
  const first = frame(payload(2000, 5));
  const second = frame(payload(1500, 6));
  const image = concat([first, second, new Uint8Array(4096)]);
  image.fill(0, 1024, 1536); // a sector of the first frame never landed
  image.fill(0, 3072, 3584); // nor one of the second
  const chained = stopOf(image, 0);
  ok(couldBeFirstAppends(chained.reader, fileSectors, chained.stop, image.length));
  image.set(bytes("garbage!"), first.length); // no frame where the second should start
  const broken = stopOf(image, 0);
  ok(!couldBeFirstAppends(broken.reader, fileSectors, broken.stop, image.length));
});

Deno.test("couldBeFirstAppends() keeps a frame cut at a sector's end, and nothing shorter", () => {
  const short = stopOf(bytes("\x01\x02\x03"), 0);
  ok(!couldBeFirstAppends(short.reader, fileSectors, short.stop, 3));
  const whole = frame(payload(3000, 6));
  const atSector = stopOf(whole.subarray(0, 1024), 0);
  ok(couldBeFirstAppends(atSector.reader, fileSectors, atSector.stop, 1024));
  // Off a sector's end: no crash leaves that (a failed write does, and the log cuts it then).
  const offSector = stopOf(whole.subarray(0, 1000), 0);
  ok(!couldBeFirstAppends(offSector.reader, fileSectors, offSector.stop, 1000));
});

Deno.test("couldBeFirstAppends() keeps bytes whose first header never landed", () => {
  const image = frame(payload(3000, 7));
  image.fill(0, 0, 512);
  const lost = stopOf(image, 0);
  ok(couldBeFirstAppends(lost.reader, fileSectors, lost.stop, image.length));
});

/** Files of real formats, made at test time: none is a wal-db log. */
async function foreignFiles(dir: string): Promise<Map<string, Uint8Array>> {
  const files = new Map<string, Uint8Array>();
  for (const candidate of ["/bin/ls", "/usr/bin/env", Deno.execPath()]) {
    const elf = await Deno.readFile(candidate).catch(() => undefined);
    if (elf !== undefined && elf.length < 64 * 1024 * 1024) {
      files.set("elf", elf);
      break;
    }
  }
  // A small ELF: its bytes 4..7 read as a 65,794-byte length that runs past its end.
  for (const candidate of ["/usr/bin/true", "/bin/true"]) {
    const elf = await Deno.readFile(candidate).catch(() => undefined);
    if (elf !== undefined && elf.length < 65_802) {
      files.set("elf-small", elf);
      break;
    }
  }
  files.set(
    "mach-o",
    concat([le([[4, 0xfeedfacf], [4, 0x01000007], [4, 3], [4, 2]]), payload(4000, 11)]),
  );
  files.set("wav-silence", wavOf(4000, 2000));
  files.set("tar-of-a-log", tarOf("app.wal", logImage([bytes("one"), bytes("two")])));
  const text = bytes("wal-db is a write-ahead log.\n".repeat(200));
  files.set("gzip", await compress(text, "gzip"));
  files.set("zip", await zipOf("notes.txt", text));
  files.set("sqlite", sqliteFile(join(dir, "made.db")));
  files.set("png", await pngOf(64, 64));
  files.set("pdf", bytes("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"));
  files.set("json", bytes(JSON.stringify({ records: [1, 2, 3], name: "not a log" }, null, 2)));
  files.set("text", text);
  files.set("wav", wavOf(4000));
  files.set("length-prefixed", lengthPrefixedLog(200));
  for (let n = 1; n <= 7; n++) files.set(`bytes-${n}`, payload(n, 100 + n).map((b) => b | 1));
  return files;
}

Deno.test("a file that is not a wal-db log is refused and left exactly as it was", async () => {
  await withTempDir(async (dir) => {
    const corpus = await foreignFiles(dir);
    ok(corpus.size >= 21, `the corpus has every format (${[...corpus.keys()]})`);
    for (const [name, content] of corpus) checkRefused(dir, name, content);
  });
});

/** Opens `content` as a log under every policy, writer and reader: refused, nothing changed. */
function checkRefused(dir: string, name: string, content: Uint8Array): void {
  const path = join(dir, `${name}.bin`);
  Deno.writeFileSync(path, content);
  const before = Deno.statSync(path);
  const listing = Deno.readDirSync(dir).map((e) => e.name).toArray().sort();
  for (const recoveryPolicy of POLICIES) {
    for (const readOnly of [false, true]) {
      const how = `${name} under ${recoveryPolicy}${readOnly ? " (read-only)" : ""}`;
      throws(
        () => Wal.open(path, { recoveryPolicy, readOnly, durability: "runtime" }),
        (e: unknown) =>
          e instanceof WalError && e.kind === "corruption" && /not a wal-db log/.test(e.message),
        `${how} is refused`,
      );
      deepEqual(Deno.readFileSync(path), content, `${how}: bytes unchanged`);
      const after = Deno.statSync(path);
      equal(after.size, before.size, `${how}: size unchanged`);
      equal(after.mtime?.getTime(), before.mtime?.getTime(), `${how}: mtime unchanged`);
      deepEqual(Deno.readDirSync(dir).map((e) => e.name).toArray().sort(), listing, how);
    }
  }
}

Deno.test("a torn first append is set aside, never destroyed, under every policy", async () => {
  await withTempDir((dir) => {
    const image = concat([frame(payload(3000, 7)), new Uint8Array(8192)]);
    image.fill(0, 1536, 2048); // a sector of the first record never reached the disk
    for (const recoveryPolicy of POLICIES) {
      const path = join(dir, `${recoveryPolicy}.wal`);
      Deno.writeFileSync(path, image);
      using wal = Wal.open(path, { recoveryPolicy, durability: "runtime" });
      equal(wal.nextLsn, 0);
      const damage = wal.recovery.damage;
      equal(damage?.reason, "torn-write");
      equal(damage?.tornTail, true);
      equal(damage?.setAsidePath, `${path}.damaged-0`);
      deepEqual(Deno.readFileSync(`${path}.damaged-0`), image);
    }
  });
});

Deno.test("bytes a first append could leave only off a sector's end, or only by bit rot, are refused", async () => {
  // Set aside, these would empty other programs' files: a hostile review found 1 in 64 random
  // small binary files, UTF-16 text and a log whose one synced record had bit rot emptied (the
  // copy kept) by a rule that took any cut, or any zeros at a frame's end, for a torn first append.
  await withTempDir((dir) => {
    const body = payload(3000, 13).map((b) => b | 1);
    // A first frame cut at a byte that is not a sector's end, then the end of the file: what a
    // short first write leaves if cutting it back fails too (docs/RECOVERY.md), and what a small
    // binary file whose bytes 4..7 happen to be a plausible length looks like.
    for (const cut of [8, 9, 37, 1000, 3007]) {
      checkRefused(dir, `cut-at-${cut}`, frame(body).slice(0, cut));
    }
    // The one synced record of a log, a bit flipped, its payload ending in a zero byte (a
    // little-endian integer, say), with and without the reserve after it: bit rot, not a cut.
    const record = frame(concat([body.subarray(0, 99), new Uint8Array(1)]));
    record[50]! ^= 0x08;
    checkRefused(dir, "record-ending-in-zero-rotted", record);
    checkRefused(
      dir,
      "record-ending-in-zero-rotted-reserve",
      concat([record, new Uint8Array(4096)]),
    );
    // Text in UTF-16 (with or without a byte-order mark): bytes 4..7 read as a length of a few MB.
    const utf16 = (text: string) =>
      new Uint8Array(Uint16Array.from(text, (c) => c.charCodeAt(0)).buffer);
    // A sector's worth each: a frame cut at a sector's end is what a crash leaves.
    const sector = (text: string, bom: number) => utf16(text.padEnd(SECTOR_SIZE / 2 - bom, "."));
    checkRefused(dir, "utf16le-bom", concat([hex("ff fe"), sector("hello, world: a note", 1)]));
    checkRefused(dir, "utf16le", sector("hello, world: a note", 0));
    checkRefused(
      dir,
      "utf16be-bom",
      concat([hex("fe ff"), sector("hello", 1).map((_, i, a) => a[i ^ 1]!)]),
    );
  });
});

async function compress(data: Uint8Array, format: CompressionFormat): Promise<Uint8Array> {
  const stream = new Blob([data as BlobPart]).stream().pipeThrough(new CompressionStream(format));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** A one-file zip archive, stored with deflate, as any zip tool writes it. */
async function zipOf(name: string, content: Uint8Array): Promise<Uint8Array> {
  const packed = await compress(content, "deflate-raw");
  const fileName = bytes(name);
  const crc = crc32(content);
  const local = le([
    [4, 0x04034b50],
    [2, 20],
    [2, 0],
    [2, 8],
    [2, 0],
    [2, 0],
    [4, crc],
    [4, packed.length],
    [4, content.length],
    [2, fileName.length],
    [2, 0],
  ]);
  const central = le([
    [4, 0x02014b50],
    [2, 20],
    [2, 20],
    [2, 0],
    [2, 8],
    [2, 0],
    [2, 0],
    [4, crc],
    [4, packed.length],
    [4, content.length],
    [2, fileName.length],
    [2, 0],
    [2, 0],
    [2, 0],
    [2, 0],
    [4, 0],
    [4, 0],
  ]);
  const centralAt = local.length + fileName.length + packed.length;
  const centralSize = central.length + fileName.length;
  const end = le([
    [4, 0x06054b50],
    [2, 0],
    [2, 0],
    [2, 1],
    [2, 1],
    [4, centralSize],
    [4, centralAt],
    [
      2,
      0,
    ],
  ]);
  return concat([local, fileName, packed, central, fileName, end]);
}

/** A small SQLite database written by node:sqlite. */
function sqliteFile(path: string): Uint8Array {
  const db = new DatabaseSync(path);
  db.exec("CREATE TABLE kv (k TEXT PRIMARY KEY, v BLOB)");
  const insert = db.prepare("INSERT INTO kv VALUES (?, ?)");
  for (let i = 0; i < 50; i++) insert.run(`key-${i}`, payload(100, i));
  db.close();
  const content = Deno.readFileSync(path);
  Deno.removeSync(path);
  return content;
}

/** A PNG of a gradient: signature, IHDR, one zlib IDAT, IEND. */
async function pngOf(width: number, height: number): Promise<Uint8Array> {
  const rows: Uint8Array[] = [];
  for (let y = 0; y < height; y++) {
    const row = new Uint8Array(1 + width * 3);
    for (let x = 0; x < width; x++) row.set([x * 4, y * 4, 128], 1 + x * 3);
    rows.push(row);
  }
  const chunk = (type: string, data: Uint8Array) => {
    const body = concat([bytes(type), data]);
    return concat([be(data.length), body, be(crc32(body))]);
  };
  const header = concat([be(width), be(height), new Uint8Array([8, 2, 0, 0, 0])]);
  return concat([
    new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", header),
    chunk("IDAT", await compress(concat(rows), "deflate")),
    chunk("IEND", new Uint8Array()),
  ]);
}

/**
 * A mono 16-bit WAV of a tone, silent from sample `silentFrom` on: the RIFF size field is the
 * file size less 8, a plausible length, and silence is sectors of zeros.
 */
function wavOf(samples: number, silentFrom = samples): Uint8Array {
  const data = new Uint8Array(samples * 2);
  const view = new DataView(data.buffer);
  for (let i = 0; i < silentFrom; i++) {
    view.setInt16(i * 2, Math.round(9000 * Math.sin(i / 7)), true);
  }
  const header = concat([
    bytes("RIFF"),
    le([[4, 36 + data.length]]),
    bytes("WAVEfmt "),
    le([[4, 16], [2, 1], [2, 1], [4, 8000], [4, 16000], [2, 2], [2, 16]]),
    bytes("data"),
    le([[4, data.length]]),
  ]);
  return concat([header, data]);
}

/** A ustar archive of one file: a 512-byte header, the content padded to 512, two zero blocks. */
function tarOf(name: string, content: Uint8Array): Uint8Array {
  const header = new Uint8Array(512);
  header.set(bytes(name), 0);
  header.set(bytes("0000644\0"), 100);
  header.set(bytes(content.length.toString(8).padStart(11, "0") + "\0"), 124);
  header.set(bytes("ustar\u000000"), 257);
  header.fill(0x20, 148, 156); // the checksum field counts as spaces while summing
  const sum = header.reduce((total, b) => total + b, 0);
  header.set(bytes(sum.toString(8).padStart(6, "0") + "\0 "), 148);
  const padded = new Uint8Array(Math.ceil(content.length / 512) * 512);
  padded.set(content);
  return concat([header, padded, new Uint8Array(1024)]);
}

/** Another program's log: u32 length, u32 sequence number, payload; no checksum. */
function lengthPrefixedLog(count: number): Uint8Array {
  const parts: Uint8Array[] = [];
  for (let seq = 0; seq < count; seq++) {
    const body = payload(20 + (seq % 50), seq);
    parts.push(le([[4, body.length + 4], [4, seq]]), body);
  }
  return concat(parts);
}

function le(fields: [number, number][]): Uint8Array {
  const out = new Uint8Array(fields.reduce((n, [size]) => n + size, 0));
  const view = new DataView(out.buffer);
  let at = 0;
  for (const [size, value] of fields) {
    if (size === 2) view.setUint16(at, value, true);
    else view.setUint32(at, value >>> 0, true);
    at += size;
  }
  return out;
}

function be(value: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, value >>> 0, false);
  return out;
}

/** The CRC-32 of zip and PNG (not the log's CRC32C). */
function crc32(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of data) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}
