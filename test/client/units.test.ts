// Pure parts of the SDK: queue allocation, subscription parsing, in-flight offset tracking, message property
// encoding and pull-body decoding, NameServer option parsing.
import { test } from "node:test";
import assert from "node:assert/strict";
import { deflateSync } from "node:zlib";
import { SysFlag, decodeRecord, encodeRecord, recordLength } from "../../src/common/message-record.js";
import type { RecordInput } from "../../src/common/message-record.js";
import { decodeProperties } from "../../src/common/properties.js";
import { parseNameServers } from "../../src/client/client-config.js";
import { Message, encodeMessageProperties, toReceivedMessage } from "../../src/client/message.js";
import { decodePullBody } from "../../src/client/pull-body.js";
import { ConsumePool } from "../../src/client/consume-pool.js";
import { ProcessQueue } from "../../src/client/pull-loop.js";
import { allocateAveragely } from "../../src/client/rebalance.js";
import { MessageSelector, buildSubscriptionData, readExpression } from "../../src/client/subscription.js";
import { shardingQueueIndex } from "../../src/client/producer.js";

test("allocateAveragely matches RocketMQ's AllocateMessageQueueAveragely", () => {
  const qs = Array.from({ length: 8 }, (_, i) => i);
  const ids = ["a", "b", "c"];
  assert.deepEqual(allocateAveragely(qs, ids, "a"), [0, 1, 2]);
  assert.deepEqual(allocateAveragely(qs, ids, "b"), [3, 4, 5]);
  assert.deepEqual(allocateAveragely(qs, ids, "c"), [6, 7]);
  assert.deepEqual(allocateAveragely([0, 1], ids, "c"), [], "more consumers than queues");
  assert.deepEqual(allocateAveragely([0, 1], ids, "b"), [1]);
  assert.deepEqual(allocateAveragely(qs, ids, "zz"), [], "not a member");
  for (let q = 0; q < 20; q++) {
    for (let n = 1; n < 7; n++) {
      const all = Array.from({ length: q }, (_, i) => i);
      const members = Array.from({ length: n }, (_, i) => `c${i}`);
      const got = members.flatMap((m) => allocateAveragely(all, members, m));
      assert.deepEqual(got, all, `q=${q} n=${n}: every queue exactly once, in order`);
    }
  }
});

test("subscription expressions", () => {
  assert.deepEqual(buildSubscriptionData("t", "*").tagsSet, []);
  assert.equal(buildSubscriptionData("t", "").subString, "*");
  const s = buildSubscriptionData("t", " TagA || TagB ||");
  assert.deepEqual(s.tagsSet, ["TagA", "TagB"]);
  assert.deepEqual(s.codeSet, [2598919, 2598920]);
  assert.equal(s.subString, "TagA||TagB");
});

test("ProcessQueue commits the lowest unfinished offset", () => {
  const pq = new ProcessQueue({ topic: "t", brokerName: "b", queueId: 0 }, 10);
  assert.equal(pq.committable(), 10);
  const msgs = [10, 11, 13].map((queueOffset) => ({ queueOffset }) as never);
  pq.addPulled(msgs, 15);
  assert.equal(pq.inFlight, 3);
  assert.equal(pq.finish(11, 0), 10);
  assert.equal(pq.finish(13, 0), 10);
  assert.equal(pq.finish(10, 0), 15, "all done: where the pull said to continue (12, 14 were filtered)");
  assert.equal(pq.inFlight, 0);
  pq.addPulled([{ queueOffset: 15 } as never], 16);
  pq.reset(100);
  assert.equal(pq.finish(15, 0), undefined, "stale completion after reset is ignored");
  assert.equal(pq.committable(), 100);
});

test("message properties round-trip through a pulled record", () => {
  const m = new Message("TopicX", "TagZ", "body");
  m.keys = ["k1", "k2"];
  m.properties = { a: "1", "b c": "2" };
  m.shardingKey = "sk";
  const props = encodeMessageProperties(m, "UNIQ123");
  const decoded = decodeProperties(props);
  assert.equal(decoded.get("TAGS"), "TagZ");
  assert.equal(decoded.get("KEYS"), "k1 k2");
  assert.equal(decoded.get("UNIQ_CLIENT_MESSAGE_ID_KEYIDX"), "UNIQ123");
  const host = { ip: Buffer.from([127, 0, 0, 1]), port: 10911 };
  const rec = {
    topic: Buffer.from("%RETRY%G"),
    queueId: 0,
    flag: 0,
    queueOffset: 7,
    physicalOffset: 4096,
    sysFlag: 0,
    bornTimestamp: 1,
    bornHost: host,
    storeTimestamp: 2,
    storeHost: host,
    reconsumeTimes: 1,
    preparedTransactionOffset: 0,
    body: Buffer.from("body"),
    bodyCrc: 0,
    properties: Buffer.from(props + "RETRY_TOPIC\u0001TopicX\u0002"),
  };
  const buf = Buffer.alloc(recordLength(rec.topic.length, rec.body.length, rec.properties.length, 0) * 2);
  const n = encodeRecord(rec, buf, 0);
  encodeRecord({ ...rec, queueOffset: 8 }, buf, n);
  const got = decodePullBody(buf, "broker-a");
  assert.equal(got.length, 2);
  const r = got[0]!;
  assert.equal(r.topic, "TopicX");
  assert.equal(r.pulledTopic, "%RETRY%G");
  assert.equal(r.messageId, "UNIQ123");
  assert.equal(r.offsetMsgId, "7F00000100002A9F0000000000001000");
  assert.deepEqual(r.keys, ["k1", "k2"]);
  assert.deepEqual(Object.fromEntries(r.properties), { a: "1", "b c": "2" });
  assert.equal(r.shardingKey, "sk");
  assert.equal(got[1]!.queueOffset, 8);
});

test("pull bodies decode exactly as decodeRecord + toReceivedMessage, record by record", () => {
  const v4a = { ip: Buffer.from([127, 0, 0, 1]), port: 10911 };
  const v4b = { ip: Buffer.from([10, 1, 2, 3]), port: 40000 };
  const v6 = { ip: Buffer.from("20010db8000000000000000000000001", "hex"), port: 9876 };
  const base = (i: number): RecordInput => ({
    topic: Buffer.from("TopicA"),
    queueId: i % 4,
    flag: i,
    queueOffset: 1000 + i,
    physicalOffset: 2 ** 40 + i * 1024,
    sysFlag: 0,
    bornTimestamp: 1_700_000_000_000 + i,
    bornHost: v4a,
    storeTimestamp: 1_700_000_000_500 + i,
    storeHost: v4a,
    reconsumeTimes: i % 3,
    preparedTransactionOffset: 0,
    body: Buffer.from(`body ${i}`),
    bodyCrc: 0,
    properties: Buffer.from(
      `TAGS\u0001T${i}\u0002UNIQ_CLIENT_MESSAGE_ID_KEYIDX\u0001U${i}\u0002u\u0001${i}\u0002`,
    ),
  });
  const recs: RecordInput[] = [
    base(0),
    base(1),
    { ...base(2), bornHost: v4b },
    { ...base(3), storeHost: v4b, properties: Buffer.alloc(0) },
    { ...base(4), bornHost: v6, storeHost: v6 },
    { ...base(5), storeHost: v6, topic: Buffer.from("%RETRY%G1") },
    {
      ...base(6),
      topic: Buffer.from("%RETRY%G1"),
      properties: Buffer.from(
        "RETRY_TOPIC\u0001TopicA\u0002ORIGIN_MESSAGE_ID\u0001O6\u0002KEYS\u0001a  b\u0002x\u00011\u0002x\u00012\u0002" +
          "__SHARDINGKEY\u0001sk\u0002__transactionId__\u0001tx\u0002no-separator\u0002\u00010\u0002",
      ),
    },
    { ...base(7), topic: Buffer.from("T".repeat(130)) },
    { ...base(8), topic: Buffer.from("Topic\u00e9") },
    { ...base(9), topic: Buffer.from("TopicB") },
    { ...base(10), sysFlag: SysFlag.COMPRESSED, body: deflateSync(Buffer.alloc(300, 7)) },
    { ...base(11), sysFlag: SysFlag.COMPRESSED, body: Buffer.from("not deflated") },
    { ...base(12), physicalOffset: 0, queueOffset: 0 },
    { ...base(13), physicalOffset: 2 ** 32 - 1 },
    { ...base(14), physicalOffset: 2 ** 32 },
    { ...base(15), physicalOffset: Number.MAX_SAFE_INTEGER },
    { ...base(16), physicalOffset: -5 },
    { ...base(17), physicalOffset: 0xabcdef },
    base(18),
  ];
  let size = 0;
  for (const r of recs) {
    size += recordLength(r.topic.length, r.body.length, (r.properties as Buffer).length, r.sysFlag | 0x30);
  }
  const buf = Buffer.alloc(size);
  const starts: number[] = [];
  let at = 0;
  for (const r of recs) {
    starts.push(at);
    at += encodeRecord(r, buf, at);
  }
  const body = buf.subarray(0, at);
  const want = starts.map((p) => toReceivedMessage(decodeRecord(body, p), "broker-a"));
  const got = decodePullBody(body, "broker-a");
  assert.equal(got.length, recs.length);
  for (let i = 0; i < recs.length; i++) {
    assert.deepEqual(got[i], want[i], `record ${i}`);
    assert.deepEqual(
      Object.keys(got[i]!),
      Object.keys(want[i]!),
      `record ${i}: same own properties, same order`,
    );
    assert.equal(JSON.stringify(got[i]), JSON.stringify(want[i]), `record ${i}: same JSON`);
  }
  // A record that does not decode ends the batch, as before.
  const broken = Buffer.from(body);
  broken.writeInt32BE(0x12345678, starts[3]! + 4);
  assert.equal(decodePullBody(broken, "broker-a").length, 3);
  const short = body.subarray(0, starts[5]! + 60);
  assert.equal(decodePullBody(short, "broker-a").length, 5);
});

test("sharding queue index is |String.hashCode| mod n", () => {
  assert.equal(shardingQueueIndex("TagA", 4), 2598919 % 4);
  // "polygenelubricants".hashCode() is Integer.MIN_VALUE in Java.
  assert.equal(shardingQueueIndex("polygenelubricants", 7), 2147483648 % 7);
});

test("NameServer option forms", () => {
  assert.deepEqual(parseNameServers("a:1;b:2"), ["a:1", "b:2"]);
  assert.deepEqual(parseNameServers(["a:1", "b:2;c:3"]), ["a:1", "b:2", "c:3"]);
  assert.throws(() => parseNameServers("nope"), { kind: "ILLEGAL_ARGUMENT" });
  assert.throws(() => parseNameServers([]), { kind: "ILLEGAL_ARGUMENT" });
});

test("delay level and start deliver time become the DELAY and __STARTDELIVERTIME properties", () => {
  const m = new Message("t", "a", "b");
  m.delayTimeLevel = 3;
  m.startDeliverTime = 1_700_000_000_123;
  const props = decodeProperties(encodeMessageProperties(m, "U1"));
  assert.equal(props.get("DELAY"), "3");
  assert.equal(props.get("__STARTDELIVERTIME"), "1700000000123");
  const plain = decodeProperties(encodeMessageProperties(new Message("t", "a", "b"), "U2"));
  assert.equal(plain.has("DELAY"), false);
  assert.equal(plain.has("__STARTDELIVERTIME"), false);
  const bad = new Message("t", "a", "b");
  bad.delayTimeLevel = -1;
  assert.throws(() => encodeMessageProperties(bad, "U3"), /delayTimeLevel/);
  const badTime = new Message("t", "a", "b");
  badTime.startDeliverTime = Number.NaN;
  assert.throws(() => encodeMessageProperties(badTime, "U4"), /startDeliverTime/);
});

test("SQL92 subscriptions go to the broker as expression type SQL92", () => {
  const s = buildSubscriptionData("t", "  a > 5 AND region IN ('hz','sh') ", "SQL92");
  assert.equal(s.expressionType, "SQL92");
  assert.equal(s.subString, "a > 5 AND region IN ('hz','sh')");
  assert.deepEqual(s.tagsSet, []);
  assert.deepEqual(s.codeSet, []);
  assert.deepEqual(readExpression({ sql: "a = 1" }), { type: "SQL92", expr: "a = 1" });
  assert.deepEqual(readExpression(MessageSelector.bySql("b = 2")), { type: "SQL92", expr: "b = 2" });
  assert.deepEqual(readExpression(MessageSelector.byTag("A || B")), { type: "TAG", expr: "A || B" });
  assert.deepEqual(readExpression("TagA"), { type: "TAG", expr: "TagA" });
  assert.throws(() => readExpression({ sql: "" }), /needs an expression/);
  assert.throws(() => readExpression(42 as unknown as string), /must be a string/);
});

test("ConsumePool: tasks that finish synchronously free their slot at once; queued ones all run, in order", async () => {
  const order: number[] = [];
  const gates: (() => void)[] = [];
  // Tasks 0 and 1 are async and hold both slots; the rest queue behind them and finish synchronously.
  const pool = new ConsumePool<number>(2, (n) => {
    order.push(n);
    if (n < 2) return new Promise<void>((resolve) => gates.push(resolve));
    return undefined;
  });
  const tasks = 50_000; // deep enough that a recursive drain would overflow the stack
  for (let i = 0; i < tasks; i++) pool.submit(i);
  assert.deepEqual(order, [0, 1]);
  assert.equal(pool.pending, tasks);
  gates[0]!();
  await new Promise((r) => setImmediate(r));
  assert.equal(order.length, tasks, "one freed slot drains every synchronous task");
  assert.deepEqual(order.slice(0, 5), [0, 1, 2, 3, 4]);
  assert.equal(pool.pending, 1, "task 1 still runs");
  const idle = pool.idle(5000);
  gates[1]!();
  await idle;
  assert.equal(pool.pending, 0);
  const sync = new ConsumePool<number>(1, () => undefined);
  sync.submit(1);
  assert.equal(sync.pending, 0, "a synchronous task is done when submit returns");
});

test("ProcessQueue: any finishing order commits the lowest unfinished offset", () => {
  let seed = 7;
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  for (let round = 0; round < 50; round++) {
    const pq = new ProcessQueue({ topic: "t", brokerName: "b", queueId: 0 }, 0);
    const pulled: number[] = [];
    let next = 0;
    for (let b = 0; b < 4; b++) {
      const batch = Array.from({ length: 1 + rand(40) }, () => (next += 1 + rand(2)));
      pulled.push(...batch);
      pq.addPulled(
        batch.map((queueOffset) => ({ queueOffset }) as never),
        next + 1,
      );
    }
    // Mostly in order, sometimes a neighbour first (as a pool of listeners finishes them).
    const order = [...pulled];
    for (let i = 0; i + 1 < order.length; i++) {
      if (rand(4) === 0) [order[i], order[i + 1]] = [order[i + 1]!, order[i]!];
    }
    const open = new Set(pulled);
    for (const o of order) {
      open.delete(o);
      const want = open.size > 0 ? Math.min(...open) : next + 1;
      assert.equal(pq.finish(o, 0), want, `round ${round}: after finishing ${o}`);
      assert.equal(pq.inFlight, open.size);
    }
  }
});
