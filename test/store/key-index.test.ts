import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import { join } from "node:path";
import { nodeFileIO, type FileIO } from "../../src/store/file-io.js";
import {
  KeyIndex,
  keyIndexHash,
  KEY_INDEX_ENTRY_SIZE,
  KEY_INDEX_HEADER_SIZE,
  KEY_INDEX_SLOTS_HEADER_SIZE,
} from "../../src/store/key-index.js";
import { javaStringHashCode } from "../../src/common/java-hash.js";

const T0 = 1_700_000_000_000;
const ALL = [0, Number.MAX_SAFE_INTEGER] as const;

function tmpDir(): string {
  return fs.mkdtempSync(join(os.tmpdir(), "key-index-"));
}

function idxFiles(dir: string): string[] {
  return fs
    .readdirSync(dir)
    .filter((n) => n.endsWith(".idx"))
    .sort();
}

function open(dir: string, extra: Partial<{ slotNum: number; maxEntriesPerFile: number; io: FileIO }> = {}) {
  return KeyIndex.open({ dir, io: nodeFileIO, slotNum: 64, ...extra });
}

/** Adds `n` messages, message i having offset 100*i, time T0 + 1000*i and key `t#k{i % keys}`. */
function fill(ki: KeyIndex, n: number, keys: number, from = 0): Map<string, number[]> {
  const expected = new Map<string, number[]>();
  for (let i = from; i < from + n; i++) {
    const key = `t#k${i % keys}`;
    ki.add(key, 100 * i, T0 + 1000 * i);
    let l = expected.get(key);
    if (l === undefined) expected.set(key, (l = []));
    l.unshift(100 * i);
  }
  return expected;
}

/** Every true match is present, newest first; anything extra must be a same-hash collision. */
function assertMatches(ki: KeyIndex, key: string, want: number[], all: Map<number, string>): void {
  const got = ki.query(key, 1_000_000, ...ALL);
  for (let i = 1; i < got.length; i++) assert.ok(got[i - 1]! >= got[i]!, `${key}: not newest first`);
  const wantSet = new Set(want);
  const trueHits = got.filter((o) => wantSet.has(o));
  assert.deepEqual(trueHits, want, `${key}: true matches`);
  for (const o of got) {
    if (!wantSet.has(o)) assert.equal(keyIndexHash(all.get(o)!), keyIndexHash(key), `${key}: stray ${o}`);
  }
}

function offsetsToKeys(expected: Map<string, number[]>): Map<number, string> {
  const m = new Map<number, string>();
  for (const [k, offs] of expected) for (const o of offs) m.set(o, k);
  return m;
}

test("add/query round trip with a tiny slot table: every match, newest first, maxNum respected", () => {
  const dir = tmpDir();
  const ki = open(dir, { slotNum: 7 });
  const expected = fill(ki, 3000, 250);
  const all = offsetsToKeys(expected);
  // Before any flush: the entries are only in memory.
  for (const [k, offs] of expected) assertMatches(ki, k, offs, all);
  ki.flush(false);
  for (const [k, offs] of expected) assertMatches(ki, k, offs, all);
  const k5 = expected.get("t#k5")!;
  assert.deepEqual(ki.query("t#k5", 3, ...ALL), k5.slice(0, 3));
  assert.deepEqual(ki.query("t#k5", 0, ...ALL), []);
  assert.deepEqual(ki.query("t#absent", 10, ...ALL), []);
  ki.close();
});

test("keys with equal Java hash codes are both returned (the caller filters)", () => {
  assert.equal(javaStringHashCode("t#Aa"), javaStringHashCode("t#BB"));
  const ki = open(tmpDir());
  ki.add("t#Aa", 10, T0);
  ki.add("t#BB", 20, T0);
  ki.add("t#other", 30, T0);
  assert.deepEqual(ki.query("t#Aa", 10, ...ALL), [20, 10]);
  // Integer.MIN_VALUE hashes (made non-negative as 0) work too.
  assert.equal(javaStringHashCode("polygenelubricants"), -2147483648);
  ki.add("polygenelubricants", 40, T0);
  assert.deepEqual(ki.query("polygenelubricants", 10, ...ALL), [40]);
  ki.close();
});

test("time range filter is exact to the millisecond and inclusive", () => {
  const ki = open(tmpDir());
  const times = [T0, T0 + 1, T0 + 999, T0 + 1000, T0 + 60_000];
  times.forEach((t, i) => ki.add("t#k", i * 10, t));
  const q = (b: number, e: number) => ki.query("t#k", 100, b, e);
  assert.deepEqual(q(T0, T0), [0]);
  assert.deepEqual(q(T0 + 1, T0 + 999), [20, 10]);
  assert.deepEqual(q(T0 + 1000, T0 + 59_999), [30]);
  assert.deepEqual(q(T0 - 10, T0 + 100_000), [40, 30, 20, 10, 0]);
  assert.deepEqual(q(T0 + 60_001, T0 + 70_000), []);
  assert.deepEqual(q(T0 + 5, T0 + 1), []);
  ki.flush(true);
  assert.deepEqual(q(T0 + 1, T0 + 999), [20, 10]);
  ki.close();
});

test("persists across close/open and keeps appending", () => {
  const dir = tmpDir();
  let ki = open(dir);
  assert.equal(ki.lastIndexedOffset, -1);
  assert.ok(ki.isEmpty());
  const expected = fill(ki, 500, 40);
  ki.close();
  ki = open(dir);
  assert.equal(ki.lastIndexedOffset, 49_900);
  assert.ok(!ki.isEmpty());
  assert.deepEqual(ki.warnings, []);
  const more = fill(ki, 100, 40, 500);
  for (const [k, offs] of more) expected.get(k)!.unshift(...offs);
  ki.close();
  ki = open(dir);
  const all = offsetsToKeys(expected);
  for (const [k, offs] of expected) assertMatches(ki, k, offs, all);
  assert.throws(() => ki.add("t#x", 100, T0), RangeError);
  ki.close();
});

test("a second instance opened after flush, without close (crash), sees everything and can continue", () => {
  const dir = tmpDir();
  const a = open(dir, { maxEntriesPerFile: 50 });
  const expected = fill(a, 120, 9);
  a.flush(false);
  a.add("t#lost", 999_999, T0); // never flushed: gone after the "crash"
  const b = open(dir, { maxEntriesPerFile: 50 });
  assert.equal(b.lastIndexedOffset, 11_900);
  assert.deepEqual(b.query("t#lost", 10, ...ALL), []);
  const all = offsetsToKeys(expected);
  for (const [k, offs] of expected) assertMatches(b, k, offs, all);
  b.add("t#k1", 20_000, T0 + 200_000);
  b.close();
  const c = open(dir, { maxEntriesPerFile: 50 });
  assert.deepEqual(c.query("t#k1", 2, ...ALL), [20_000, expected.get("t#k1")![0]!]);
  c.close();
});

test("a torn tail is truncated at open", () => {
  const dir = tmpDir();
  let ki = open(dir);
  fill(ki, 10, 3);
  ki.close();
  const file = join(dir, idxFiles(dir)[0]!);
  fs.appendFileSync(file, Buffer.from([1, 2, 3, 4, 5, 6, 7]));
  ki = open(dir);
  assert.equal(ki.warnings.length, 1);
  assert.match(ki.warnings[0]!, /torn tail of 7 bytes/);
  assert.equal(fs.statSync(file).size, KEY_INDEX_HEADER_SIZE + 10 * KEY_INDEX_ENTRY_SIZE);
  assert.deepEqual(ki.query("t#k1", 10, ...ALL), [700, 400, 100]);
  ki.add("t#k1", 5000, T0);
  ki.close();
  ki = open(dir);
  assert.deepEqual(ki.query("t#k1", 10, ...ALL), [5000, 700, 400, 100]);
  assert.deepEqual(ki.warnings, []);
  ki.close();
});

test("a zero-filled tail (power loss after the size grew) is detected and cut", () => {
  const dir = tmpDir();
  let ki = open(dir);
  fill(ki, 10, 3, 1);
  ki.close();
  const file = join(dir, idxFiles(dir)[0]!);
  fs.appendFileSync(file, Buffer.alloc(3 * KEY_INDEX_ENTRY_SIZE));
  ki = open(dir);
  assert.match(ki.warnings.join("\n"), /3 damaged entries/);
  assert.equal(fs.statSync(file).size, KEY_INDEX_HEADER_SIZE + 10 * KEY_INDEX_ENTRY_SIZE);
  assert.equal(ki.lastIndexedOffset, 1000);
  assert.deepEqual(ki.query("t#k0", 10, ...ALL), [900, 600, 300]);
  ki.close();
});

test("an appended entry whose chain link is wrong is cut even though its offset looks fine", () => {
  const dir = tmpDir();
  let ki = open(dir);
  fill(ki, 10, 3);
  ki.close();
  const file = join(dir, idxFiles(dir)[0]!);
  const e = Buffer.alloc(KEY_INDEX_ENTRY_SIZE);
  e.writeInt32LE(keyIndexHash("t#k0"), 0);
  e.writeUInt32LE(5000, 4);
  e.writeInt32LE(0, 12);
  e.writeInt32LE(3, 16); // the newest t#k0 entry is #9, not #3
  fs.appendFileSync(file, e);
  ki = open(dir);
  assert.match(ki.warnings.join("\n"), /1 damaged entries from #10/);
  assert.equal(ki.lastIndexedOffset, 900);
  assert.deepEqual(ki.query("t#k0", 10, ...ALL), [900, 600, 300, 0]);
  ki.close();
});

test("rolls to a new file at maxEntriesPerFile; queries span files; sealed files get a slot sidecar", () => {
  const dir = tmpDir();
  let ki = open(dir, { maxEntriesPerFile: 10 });
  const expected = fill(ki, 35, 4);
  const all = offsetsToKeys(expected);
  assert.equal(ki.files().length, 4);
  for (const [k, offs] of expected) assertMatches(ki, k, offs, all); // mixed: sealed-in-memory and pending
  ki.flush(false);
  assert.equal(idxFiles(dir).length, 4);
  const slots = fs.readdirSync(dir).filter((n) => n.endsWith(".slots"));
  assert.equal(slots.length, 3);
  assert.deepEqual(
    ki.files().map((f) => [f.count, f.sealed]),
    [
      [10, true],
      [10, true],
      [10, true],
      [5, false],
    ],
  );
  for (const [k, offs] of expected) assertMatches(ki, k, offs, all);
  // maxNum cuts across file boundaries, newest first.
  assert.deepEqual(ki.query("t#k2", 5, ...ALL), [3400, 3000, 2600, 2200, 1800]);
  // Time range selecting only the middle files.
  assert.deepEqual(ki.query("t#k2", 100, T0 + 10_000, T0 + 19_000), [1800, 1400, 1000]);
  ki.close();
  ki = open(dir, { maxEntriesPerFile: 10 });
  assert.deepEqual(ki.warnings, []);
  for (const [k, offs] of expected) assertMatches(ki, k, offs, all);
  ki.close();
});

test("rolls when a store time no longer fits the file's time difference", () => {
  const dir = tmpDir();
  const ki = open(dir);
  const day = 86_400_000;
  ki.add("t#k", 0, T0);
  ki.add("t#k", 10, T0 + 20 * day);
  ki.add("t#k", 20, T0 + 30 * day); // > 2^31 ms after T0
  ki.add("t#k", 30, T0 - 1 * day + 20 * day); // earlier than the new file's begin, still within range
  assert.equal(ki.files().length, 2);
  assert.deepEqual(ki.query("t#k", 10, T0 + 19 * day, T0 + 31 * day), [30, 20, 10]);
  assert.deepEqual(ki.query("t#k", 10, T0 + 30 * day, T0 + 30 * day), [20]);
  ki.close();
  const again = open(dir);
  assert.deepEqual(again.query("t#k", 10, ...ALL), [30, 20, 10, 0]);
  again.close();
});

test("truncateFrom drops entries at and past the offset, including unflushed ones and whole files", () => {
  const dir = tmpDir();
  let ki = open(dir, { maxEntriesPerFile: 10 });
  fill(ki, 30, 3);
  ki.flush(false);
  fill(ki, 5, 3, 30); // pending, in a 4th file
  ki.truncateFrom(1450); // keeps offsets 0..1400 (15 entries): file 2 cut to 5 entries
  assert.equal(ki.lastIndexedOffset, 1400);
  assert.deepEqual(
    ki.files().map((f) => [f.count, f.sealed]),
    [
      [10, true],
      [5, false],
    ],
  );
  assert.equal(idxFiles(dir).length, 2);
  assert.equal(fs.readdirSync(dir).filter((n) => n.endsWith(".slots")).length, 1);
  assert.deepEqual(ki.query("t#k2", 100, ...ALL), [1400, 1100, 800, 500, 200]);
  // Re-adding after the cut continues the same file.
  ki.add("t#k2", 1450, T0);
  ki.close();
  ki = open(dir, { maxEntriesPerFile: 10 });
  assert.deepEqual(ki.query("t#k2", 100, ...ALL), [1450, 1400, 1100, 800, 500, 200]);
  assert.equal(ki.lastIndexedOffset, 1450);
  // Exactly at a file boundary: the second file goes entirely.
  ki.truncateFrom(1000);
  assert.equal(ki.files().length, 1);
  assert.equal(ki.lastIndexedOffset, 900);
  ki.add("t#new", 1000, T0);
  assert.equal(ki.files().length, 2);
  ki.truncateFrom(0);
  assert.ok(ki.isEmpty());
  assert.equal(ki.lastIndexedOffset, -1);
  assert.deepEqual(idxFiles(dir), []);
  ki.add("t#k2", 5, T0);
  ki.close();
  ki = open(dir);
  assert.deepEqual(ki.query("t#k2", 100, ...ALL), [5]);
  ki.close();
});

test("deleteFilesBefore removes only whole files below the offset and never the newest", () => {
  const dir = tmpDir();
  let ki = open(dir, { maxEntriesPerFile: 10 });
  fill(ki, 35, 5);
  ki.flush(false);
  assert.equal(ki.deleteFilesBefore(900), 0); // the first file holds 0..900: 900 is still needed
  assert.equal(ki.deleteFilesBefore(901), 1);
  assert.equal(idxFiles(dir).length, 3);
  assert.deepEqual(ki.query("t#k0", 100, ...ALL), [3000, 2500, 2000, 1500, 1000]);
  assert.equal(ki.deleteFilesBefore(1_000_000), 2); // the newest file stays
  assert.deepEqual(ki.query("t#k0", 100, ...ALL), [3000]);
  assert.equal(ki.lastIndexedOffset, 3400);
  assert.equal(fs.readdirSync(dir).filter((n) => n.endsWith(".slots")).length, 0);
  ki.close();
  ki = open(dir, { maxEntriesPerFile: 10 });
  assert.deepEqual(ki.warnings, []);
  assert.deepEqual(ki.query("t#k0", 100, ...ALL), [3000]);
  ki.close();
});

test("a file with a garbage header is skipped with a warning; the rest still answers", () => {
  const dir = tmpDir();
  let ki = open(dir, { maxEntriesPerFile: 10 });
  fill(ki, 30, 3);
  ki.close();
  const names = idxFiles(dir);
  assert.equal(names.length, 3);
  const first = join(dir, names[0]!);
  const fd = fs.openSync(first, "r+");
  fs.writeSync(fd, Buffer.from("garbage garbage garbage garbage!"), 0, 32, 0);
  fs.closeSync(fd);
  // The newest file is pure noise, shorter than a header.
  fs.writeFileSync(join(dir, names[2]!), Buffer.from([9, 9, 9]));
  ki = open(dir, { maxEntriesPerFile: 10 });
  assert.equal(ki.warnings.length, 2);
  assert.match(ki.warnings[0]!, /bad magic/);
  assert.match(ki.warnings[1]!, /short header/);
  assert.equal(ki.files().length, 1);
  // The index is behind: the store re-adds records after this.
  assert.equal(ki.lastIndexedOffset, 1900);
  assert.deepEqual(ki.query("t#k1", 100, ...ALL), [1900, 1600, 1300, 1000]);
  ki.add("t#k1", 2200, T0 + 22_000);
  ki.close();
  ki = open(dir, { maxEntriesPerFile: 10 });
  assert.deepEqual(ki.query("t#k1", 100, ...ALL), [2200, 1900, 1600, 1300, 1000]);
  // Lost files older than a retention-deleted file are deleted with it.
  assert.equal(ki.deleteFilesBefore(2000), 2);
  assert.ok(!fs.existsSync(first));
  ki.close();
});

test("a flipped header bit is caught by the header checksum", () => {
  const dir = tmpDir();
  let ki = open(dir);
  fill(ki, 5, 2);
  ki.close();
  const file = join(dir, idxFiles(dir)[0]!);
  const b = fs.readFileSync(file);
  b[20]! ^= 1; // inside beginTimestamp
  fs.writeFileSync(file, b);
  ki = open(dir);
  assert.match(ki.warnings.join("\n"), /checksum/);
  assert.ok(ki.isEmpty());
  ki.close();
});

test("a missing sealed slot sidecar is rebuilt at open; a damaged one at first query", () => {
  const dir = tmpDir();
  let ki = open(dir, { maxEntriesPerFile: 10 });
  const expected = fill(ki, 30, 4);
  const all = offsetsToKeys(expected);
  ki.close();
  const sidecars = fs
    .readdirSync(dir)
    .filter((n) => n.endsWith(".slots"))
    .sort();
  assert.equal(sidecars.length, 2);
  const missing = join(dir, sidecars[0]!);
  fs.unlinkSync(missing);
  ki = open(dir, { maxEntriesPerFile: 10 });
  assert.equal(ki.warnings.length, 1);
  assert.match(ki.warnings[0]!, /rebuilt/);
  assert.ok(fs.existsSync(missing));
  for (const [k, offs] of expected) assertMatches(ki, k, offs, all);
  ki.close();

  // Damage the slot table body (not the header): found by the content checksum on first use.
  const damaged = join(dir, sidecars[1]!);
  const b = fs.readFileSync(damaged);
  for (let i = KEY_INDEX_SLOTS_HEADER_SIZE; i < b.length; i += 4) b.writeInt32LE(-1, i);
  fs.writeFileSync(damaged, b);
  ki = open(dir, { maxEntriesPerFile: 10 });
  assert.deepEqual(ki.warnings, []);
  for (const [k, offs] of expected) assertMatches(ki, k, offs, all);
  assert.match(ki.warnings.join("\n"), /damaged, rebuilt/);
  ki.close();
  ki = open(dir, { maxEntriesPerFile: 10 });
  for (const [k, offs] of expected) assertMatches(ki, k, offs, all);
  assert.deepEqual(ki.warnings, []);
  ki.close();
});

test("short writes and a failed write: flush retries and nothing is lost or duplicated", () => {
  const dir = tmpDir();
  let failNext = false;
  let syncs = 0;
  const io: FileIO = {
    ...nodeFileIO,
    writeSync: (fd, buf, off, len, pos) => {
      if (failNext) {
        failNext = false;
        // Part of the data reaches the file before the error, as with ENOSPC mid-write.
        nodeFileIO.writeSync(fd, buf, off, Math.min(len, 13), pos);
        throw Object.assign(new Error("ENOSPC: no space left on device"), { code: "ENOSPC" });
      }
      return nodeFileIO.writeSync(fd, buf, off, Math.min(len, 7), pos);
    },
    fdatasyncSync: (fd) => {
      syncs++;
      nodeFileIO.fdatasyncSync(fd);
    },
  };
  let ki = open(dir, { io, maxEntriesPerFile: 10 });
  const expected = fill(ki, 15, 3);
  failNext = true;
  assert.throws(() => ki.flush(true), /ENOSPC/);
  const all = offsetsToKeys(expected);
  for (const [k, offs] of expected) assertMatches(ki, k, offs, all);
  ki.flush(true);
  assert.ok(syncs >= 2);
  const more = fill(ki, 10, 3, 15);
  for (const [k, offs] of more) expected.get(k)!.unshift(...offs);
  ki.close();
  ki = open(dir, { io, maxEntriesPerFile: 10 });
  assert.deepEqual(ki.warnings, []);
  assert.equal(
    ki.files().reduce((n, f) => n + f.count, 0),
    25,
  );
  const all2 = offsetsToKeys(expected);
  for (const [k, offs] of expected) assertMatches(ki, k, offs, all2);
  ki.close();
});

test("reopening with a different slotNum keeps each file's own table size", () => {
  const dir = tmpDir();
  let ki = open(dir, { slotNum: 5, maxEntriesPerFile: 4 });
  fill(ki, 6, 2);
  ki.close();
  ki = open(dir, { slotNum: 11, maxEntriesPerFile: 4 });
  fill(ki, 4, 2, 6);
  assert.deepEqual(
    ki.files().map((f) => f.slotNum),
    [5, 5, 11],
  );
  assert.deepEqual(ki.query("t#k1", 100, ...ALL), [900, 700, 500, 300, 100]);
  ki.close();
});
