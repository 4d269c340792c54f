import { readdirSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import assert from "node:assert/strict";
import { MessageStore } from "../../src/store/message-store.js";
import { decodeRecord } from "../../src/common/message-record.js";
import { encodeProperties } from "../../src/common/properties.js";
import { javaStringHashCode } from "../../src/common/java-hash.js";
import { tempDir } from "../support/temp-dir.js";

const small = {
  segmentBytes: 256 * 1024,
  maxMessageBytes: 64 * 1024,
  queueEntriesPerFile: 50,
  indexSlotNum: 64,
};

test("put then get across queues, segments and consume-queue files; reopen serves the same", async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  let store = MessageStore.open({ dir, ...small });
  const sent: { q: number; body: string; off: number; phy: number }[] = [];
  const puts = [];
  for (let i = 0; i < 600; i++) {
    const q = i % 4;
    const body = `m-${i}-${"x".repeat(i % 700)}`;
    puts.push(
      store
        .putMessage({
          topic: "T1",
          queueId: q,
          body: Buffer.from(body),
          properties: encodeProperties({
            TAGS: i % 2 ? "odd" : "even",
            KEYS: `k${i} common`,
            UNIQ_CLIENT_MESSAGE_ID_KEYIDX: `U${i}`,
          }),
        })
        .then((r) => sent.push({ q, body, off: r.queueOffset, phy: r.phyOffset })),
    );
  }
  await Promise.all(puts);
  assert.equal(sent.length, 600);
  const check = (s: MessageStore) => {
    for (let q = 0; q < 4; q++) {
      assert.equal(s.getMaxOffset("T1", q), 150);
      const got: string[] = [];
      let off = 0;
      for (;;) {
        const r = s.getMessages("T1", q, off, 32);
        if (r.status !== "FOUND") break;
        for (const m of r.messages) got.push(decodeRecord(m).body.toString());
        off = r.nextBeginOffset;
      }
      const expect = sent
        .filter((x) => x.q === q)
        .sort((a, b) => a.off - b.off)
        .map((x) => x.body);
      assert.deepEqual(got, expect);
    }
    const odd = s.getMessages("T1", 1, 0, 1000, { matchTagsCode: (c) => c === javaStringHashCode("odd") });
    assert.equal(odd.messages.length, 150);
    const even = s.getMessages("T1", 1, 0, 1000, { matchTagsCode: (c) => c === javaStringHashCode("even") });
    assert.equal(even.status, "NO_MATCHED_MESSAGE");
    const byKey = s.queryByKey("T1", "k17");
    assert.equal(byKey.length, 1);
    assert.equal(byKey[0]!.body.toString().startsWith("m-17-"), true);
    assert.equal(s.queryByKey("T1", "U33")[0]?.body.toString().startsWith("m-33-"), true);
    assert.equal(s.queryByKey("T1", "common", 10).length, 10);
  };
  check(store);
  await store.close();
  store = MessageStore.open({ dir, ...small });
  assert.equal(store.recovery.aborted, false);
  check(store);
  await store.close();
});

test("offset by timestamp: binary search over store times", async (t) => {
  const { dir, cleanup } = tempDir();
  const store = MessageStore.open({ dir, ...small });
  t.after(async () => {
    await store.close();
    cleanup();
  });
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const r = await store.putMessage({ topic: "Time", queueId: 0, body: Buffer.from(`t${i}`) });
    times.push(r.storeTimestamp);
    await new Promise((res) => setTimeout(res, 15));
  }
  assert.equal(store.getOffsetByTime("Time", 0, 0), 0);
  assert.equal(store.getOffsetByTime("Time", 0, times[2]!), 2);
  assert.equal(store.getOffsetByTime("Time", 0, times[2]! + 1), 3);
  assert.equal(store.getOffsetByTime("Time", 0, Date.now() + 1000), 5);
  assert.equal(store.getStoreTime("Time", 0, 4), times[4]);
  assert.equal(store.getOffsetByTime("Nope", 0, 0), 0);
});

test("pull statuses follow RocketMQ: empty queue, too small, overflow by one and badly", async (t) => {
  const { dir, cleanup } = tempDir();
  const store = MessageStore.open({ dir, ...small });
  t.after(async () => {
    await store.close();
    cleanup();
  });
  assert.equal(store.getMessages("P", 0, 0, 1).status, "NO_MATCHED_LOGIC_QUEUE");
  for (let i = 0; i < 3; i++) await store.putMessage({ topic: "P", queueId: 0, body: Buffer.from("p") });
  assert.equal(store.getMessages("P", 0, 3, 1).status, "OFFSET_OVERFLOW_ONE");
  const bad = store.getMessages("P", 0, 9, 1);
  assert.equal(bad.status, "OFFSET_OVERFLOW_BADLY");
  assert.equal(bad.nextBeginOffset, 0, "min offset 0: RocketMQ sends the consumer back to it");
  const ok = store.getMessages("P", 0, 1, 10);
  assert.equal(ok.status, "FOUND");
  assert.deepEqual(ok.offsets, [1, 2]);
  assert.equal(ok.nextBeginOffset, 3);
  assert.equal(ok.maxOffset, 3);
});

test("transactional prepared and rollback records stay out of consume queues but commit records enter", async (t) => {
  const { dir, cleanup } = tempDir();
  const store = MessageStore.open({ dir, ...small });
  t.after(async () => {
    await store.close();
    cleanup();
  });
  const half = await store.putMessage({ topic: "Tx", queueId: 0, body: Buffer.from("half"), sysFlag: 0x4 });
  assert.equal(half.queueOffset, 0);
  await store.putMessage({ topic: "Tx", queueId: 0, body: Buffer.from("rb"), sysFlag: 0xc });
  const commit = await store.putMessage({
    topic: "Tx",
    queueId: 0,
    body: Buffer.from("commit"),
    sysFlag: 0x8,
  });
  assert.equal(commit.queueOffset, 0);
  assert.equal(store.getMaxOffset("Tx", 0), 1);
  assert.equal(decodeRecord(store.readAt(half.phyOffset)!).body.toString(), "half");
  assert.equal(decodeRecord(store.viewByOffsetMsgId(commit.offsetMsgId)!).body.toString(), "commit");
});

for (const flushMode of ["async", "sync"] as const) {
  test(`more queue files than may be open at once (${flushMode} flush): all written, read and reopened`, async (t) => {
    const { dir, cleanup } = tempDir();
    t.after(cleanup);
    // 30 topics of 2 files each (120 units of 50 per file) against 4 open files: files are closed and reopened
    // on every flush and read.
    const config = { dir, ...small, maxOpenQueueFiles: 4, flushMode };
    const openFds = () => readdirSync("/proc/self/fd").length;
    const fdsBefore = openFds();
    let store = MessageStore.open(config);
    const puts = [];
    for (let i = 0; i < 60; i++)
      for (let n = 0; n < 30; n++)
        puts.push(store.putMessage({ topic: `Many${n}`, queueId: 0, body: Buffer.from(`t${n}-m${i}`) }));
    await Promise.all(puts);
    await store.flush();
    const segments = readdirSync(join(dir, "commitlog")).length;
    const indexFiles = readdirSync(join(dir, "index")).length;
    assert.ok(
      openFds() - fdsBefore <= segments + indexFiles + 4 + 2,
      `${openFds() - fdsBefore} descriptors open for 60 queue files (limit 4)`,
    );
    const check = (s: MessageStore) => {
      for (let n = 0; n < 30; n++) {
        const got: string[] = [];
        let off = 0;
        for (;;) {
          const r = s.getMessages(`Many${n}`, 0, off, 32);
          if (r.status !== "FOUND") break;
          for (const m of r.messages) got.push(decodeRecord(m).body.toString());
          off = r.nextBeginOffset;
        }
        assert.deepEqual(
          got,
          Array.from({ length: 60 }, (_, i) => `t${n}-m${i}`),
          `topic Many${n}`,
        );
      }
    };
    check(store);
    await store.close();
    store = MessageStore.open(config);
    check(store);
    await store.close();
  });
}
