// Copyright 2026 the wal-db authors. MIT license.
// `deno task demo`: a guided run of the four calls and of recovery after a simulated crash,
// in a temporary folder that is removed at the end.

import { join } from "node:path";
import { frame } from "../src/record.ts";
import { Wal } from "../mod.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function step(title: string): void {
  console.log(`\n== ${title}`);
}

function show(wal: Wal): void {
  for (const { lsn, data } of wal.iter()) {
    console.log(`   lsn ${String(lsn).padStart(4)}  ${JSON.stringify(decoder.decode(data))}`);
  }
}

const dir = await Deno.makeTempDir({ prefix: "wal_demo_" });
const path = join(dir, "app.wal");
try {
  step(`Wal.open("${path}")`);
  let wal = Wal.open(path);
  console.log(`   flush mechanism: ${wal.durability}`);

  step("append five records (each lands in the OS page cache), then one sync");
  for (const change of ["set a=1", "set b=2", "del a", "set c=3", "set b=5"]) {
    console.log(`   append ${JSON.stringify(change)} -> lsn ${wal.append(encoder.encode(change))}`);
  }
  await wal.sync();
  console.log(`   sync resolved: durable up to lsn ${wal.durableLsn}`);

  step("simulate a crash in the middle of an append: half a frame reaches the file");
  const torn = frame(encoder.encode("set d=4 (never acknowledged)"));
  wal.close();
  Deno.writeFileSync(path, torn.subarray(0, 13), { append: true });
  console.log(
    `   wrote 13 of the record's ${torn.length} bytes; file is ${Deno.statSync(path).size} bytes`,
  );

  step("reopen: recovery finds the torn tail and cuts it");
  wal = Wal.open(path);
  const { recordCount, endLsn, cutSize, damage } = wal.recovery;
  console.log(`   ${recordCount} intact records, log ends at lsn ${endLsn}, cut ${cutSize} bytes`);
  console.log(`   damage: ${damage?.reason} at lsn ${damage?.lsn}, torn tail: ${damage?.tornTail}`);

  step("replay");
  show(wal);

  step("appends continue right after the last intact record");
  console.log(`   append "set d=4" -> lsn ${wal.append(encoder.encode("set d=4"))}`);
  wal.syncSync();

  step("bit rot in the middle: flip one byte of the second record, then reopen");
  wal.close();
  const bytes = Deno.readFileSync(path);
  bytes[15 + 10]! ^= 0x20;
  Deno.writeFileSync(path, bytes);
  wal = Wal.open(path);
  const rot = wal.recovery.damage!;
  console.log(
    `   damage: ${rot.reason} at lsn ${rot.lsn}; ${rot.intactRecordCount} intact records after it`,
  );
  console.log(`   those bytes were copied to ${rot.setAsidePath} before the cut`);
  show(wal);
  wal.close();
  console.log("\nDone.");
} finally {
  await Deno.remove(dir, { recursive: true });
}
