// A batch's scan (body CRCs, tag and key hashes) must give what the decoded strings give, whichever thread
// runs it, and the writer thread must land a batch byte for byte or report why not.
import { test } from "node:test";
import assert from "node:assert/strict";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { javaHashContinue, javaStringHashCode } from "../../src/common/java-hash.js";
import { bodyCrc, encodeRecord, sysFlagForHosts, SysFlag } from "../../src/common/message-record.js";
import { Prop, encodeProperties, getProperty } from "../../src/common/properties.js";
import { hostAddress } from "../../src/common/socket-address.js";
import { batchWriter } from "../../src/store/batch-writer.js";
import { MessageStore } from "../../src/store/message-store.js";
import { ScanOut, scanBatch } from "../../src/store/record-scan.js";
import { rng } from "./fixtures/store-kit.js";

interface Spec {
  topic: string;
  props: string;
  body: Buffer;
  sysFlag: number;
}

/** A batch of records as the store lays them out (CRC field zero), plus what each should scan to. */
function batchOf(specs: Spec[]): { buf: Buffer; len: number; expected: number[]; crcs: number[] } {
  const buf = Buffer.alloc(specs.reduce((n, s) => n + 4096 + s.body.length, 0));
  let pos = 0;
  const expected: number[] = [];
  const crcs: number[] = [];
  const born = hostAddress("10.0.0.1", 5000);
  const v6 = hostAddress("fe80::1", 10911);
  specs.forEach((s, i) => {
    const store = i % 3 === 0 ? v6 : born;
    pos += encodeRecord(
      {
        topic: Buffer.from(s.topic),
        queueId: i % 4,
        flag: 0,
        queueOffset: i,
        physicalOffset: pos,
        sysFlag: sysFlagForHosts(s.sysFlag, born, store),
        bornTimestamp: 1,
        bornHost: born,
        storeTimestamp: 2,
        storeHost: store,
        reconsumeTimes: 0,
        preparedTransactionOffset: 0,
        body: s.body,
        bodyCrc: 0,
        properties: s.props,
        propertiesBytes: Buffer.byteLength(s.props),
      },
      buf,
      pos,
    );
    crcs.push(bodyCrc(s.body));
    const tags = getProperty(s.props, Prop.TAGS);
    expected.push(tags ? javaStringHashCode(tags) : 0);
    const hashes: number[] = [];
    if ((s.sysFlag & SysFlag.TRANSACTION_MASK) !== SysFlag.TRANSACTION_ROLLBACK) {
      const th = javaStringHashCode(`${s.topic}#`);
      const uniq = getProperty(s.props, Prop.UNIQ_KEY);
      if (uniq) hashes.push(javaHashContinue(th, uniq));
      const keys = getProperty(s.props, Prop.KEYS);
      for (const k of keys?.split(" ") ?? []) if (k) hashes.push(javaHashContinue(th, k));
    }
    expected.push(hashes.length, ...hashes);
  });
  return { buf, len: pos, expected, crcs };
}

function specs(n: number): Spec[] {
  const rand = rng(11);
  const topics = ["T", "Topic-é", "x".repeat(200)];
  const out: Spec[] = [];
  for (let i = 0; i < n; i++) {
    const m = new Map<string, string>();
    if (i % 5 !== 0) m.set(Prop.TAGS, i % 7 === 0 ? "標籤" : `Tag${i % 3}`);
    if (i % 4 !== 1) m.set(Prop.KEYS, i % 6 === 0 ? ` k${i}  ключ-${i} 🔑 ` : `ORDER_${i}`);
    if (i % 3 !== 2) m.set(Prop.UNIQ_KEY, `AC1100${i.toString(16).padStart(26, "0")}`);
    m.set(Prop.WAIT, "true");
    m.set("a\u0001b", "c"); // a value holding the name/value separator
    out.push({
      topic: topics[i % topics.length]!,
      props: encodeProperties(m),
      body: Buffer.alloc(Math.floor(rand() * 2000), i & 0xff),
      sysFlag: i % 9 === 0 ? SysFlag.TRANSACTION_ROLLBACK : i % 10 === 0 ? SysFlag.TRANSACTION_COMMIT : 0,
    });
  }
  return out;
}

function crcsIn(buf: Buffer, len: number): number[] {
  const out: number[] = [];
  for (let pos = 0; pos < len; pos += buf.readInt32BE(pos)) out.push(buf.readInt32BE(pos + 8));
  return out;
}

test("scanBatch fills each body CRC and gives the tag and key hashes of the decoded strings", () => {
  const { buf, len, expected, crcs } = batchOf(specs(300));
  const out = new ScanOut(4); // grows
  scanBatch(buf, len, out);
  assert.deepEqual([...out.arr.subarray(0, out.len)], expected);
  assert.deepEqual(crcsIn(buf, len), crcs);
});

test("scanBatch stops at a segment's end marker", () => {
  const { buf, len, expected } = batchOf(specs(3));
  buf.writeInt32BE(1 << 20, len);
  buf.writeInt32BE(0xcbd43194 | 0, len + 4);
  const out = new ScanOut();
  scanBatch(buf, len + 8, out);
  assert.deepEqual([...out.arr.subarray(0, out.len)], expected);
});

test("the batch writer thread scans and writes a batch, and hands its memory back", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "bw-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const { buf, len, expected, crcs } = batchOf(specs(120));
  const movable = Buffer.allocUnsafeSlow(buf.length);
  buf.copy(movable);
  const file = join(dir, "seg");
  const fd = openSync(file, "w+");
  try {
    const w = await batchWriter.write(fd, movable, len, 100);
    assert.equal(movable.length, 0, "the caller's buffer is moved away");
    assert.deepEqual([...w.meta], expected);
    const onDisk = readFileSync(file).subarray(100, 100 + len);
    assert.deepEqual(crcsIn(onDisk, len), crcs);
    assert.ok(onDisk.equals(w.buf.subarray(0, len)), "what was written is what came back");
  } finally {
    closeSync(fd);
  }
});

test("a failed write in the batch writer thread rejects with its code and gives the memory back", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "bw-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, "ro");
  writeFileSync(file, "");
  const fd = openSync(file, "r");
  try {
    const { buf, len } = batchOf(specs(5));
    const movable = Buffer.allocUnsafeSlow(buf.length);
    buf.copy(movable);
    await assert.rejects(
      batchWriter.write(fd, movable, len, 0),
      (e: Error & { code?: string; buf?: Buffer }) => {
        assert.equal(e.code, "EBADF");
        assert.equal(e.buf?.length, buf.length);
        return true;
      },
    );
  } finally {
    closeSync(fd);
  }
});

test("big batches go through the writer thread: CRCs check on reopen, keys and tags are indexed", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "bw-store-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  let store = MessageStore.open({ dir });
  const body = Buffer.alloc(1000, 7);
  const puts = [];
  // 400 appends in one turn: one batch of about 450 KiB, far over the in-place limit.
  for (let i = 0; i < 400; i++) {
    const props = encodeProperties(
      new Map([
        [Prop.TAGS, i % 2 === 0 ? "TagA" : "TagB"],
        [Prop.KEYS, `key-${i} ключ-${i}`],
      ]),
    );
    puts.push(store.putMessage({ topic: "BW", queueId: i % 4, body, properties: props }));
  }
  await Promise.all(puts);
  const filter = { matchTagsCode: (c: number) => c === javaStringHashCode("TagA") };
  const tagA = store.getMessages("BW", 0, 0, 200, filter);
  assert.equal(tagA.messages.length, 100, "queue 0 holds the even appends, all TagA");
  assert.equal(store.queryByKey("BW", "ключ-7", 10, 0, Date.now() + 1000).length, 1);
  await store.close();
  store = MessageStore.open({ dir });
  try {
    assert.equal(store.recovery.end, store.stats().maxPhyOffset);
    assert.equal(store.recovery.stoppedBecause, undefined, "every record's CRC checked out");
    assert.equal(store.queryByKey("BW", "key-399", 10, 0, Date.now() + 1000).length, 1);
  } finally {
    await store.close();
  }
});
