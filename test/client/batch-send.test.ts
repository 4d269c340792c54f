// Producer.sendBatch (SEND_BATCH_MESSAGE) and autoBatch, against a real broker: what the producer reports must be
// where the messages are, and a consumer must get every message whole, with its own id, tag, keys, properties
// and flag.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { Action, Consumer, MQClientError, Message, Producer } from "../../src/client/index.js";
import type { ReceivedMessage, SendResult } from "../../src/client/index.js";
import { shardingQueueIndex } from "../../src/client/producer.js";
import { Perm, topicConfig } from "../../src/common/topic.js";
import { clientOpts, createTopic, startCluster, uniq, waitFor } from "./helpers.js";
import type { Cluster } from "./helpers.js";
import type { ProducerOptions } from "../../src/client/producer.js";
import type { TestContext } from "node:test";

let c: Cluster;

before(async () => {
  c = await startCluster();
});

after(async () => {
  await c.stop();
});

/** A started producer for this test (shut down after it), with `options` on top of the cluster's. */
async function startedProducer(t: TestContext, options: Partial<ProducerOptions> = {}): Promise<Producer> {
  const p = new Producer({ ...clientOpts(c, uniq("PID")), ...options });
  await p.start();
  t.after(() => p.shutdown());
  return p;
}

function msgOf(topic: string, i: number): Message {
  const m = new Message(
    topic,
    i % 2 === 0 ? "TagEven" : "TagOdd",
    Buffer.from(`body-${i}-ü-${"x".repeat(i % 7)}`),
  );
  m.keys = [`key-${i}`];
  m.putUserProperty("idx", String(i));
  m.flag = i;
  return m;
}

/** Consumes `topic` from the start until `n` messages arrived; returns them by message id. */
async function consumeAll(topic: string, n: number): Promise<Map<string, ReceivedMessage>> {
  const got = new Map<string, ReceivedMessage>();
  const consumer = new Consumer({ ...clientOpts(c, uniq("GID")), consumeFromWhere: "FIRST" });
  consumer.subscribe(topic, "*", (m) => {
    got.set(m.messageId, m);
    return Action.CommitMessage;
  });
  await consumer.start();
  try {
    await waitFor(() => got.size >= n, 20_000, `${n} messages of ${topic}`);
  } finally {
    await consumer.shutdown();
  }
  return got;
}

/** Every sent message arrived once, as it was sent, where its SendResult said. */
function checkDelivered(sent: { msg: Message; r: SendResult }[], got: Map<string, ReceivedMessage>): void {
  assert.equal(got.size, sent.length);
  for (const { msg, r } of sent) {
    const m = got.get(r.messageId);
    assert.ok(m, `message ${r.messageId} arrived`);
    assert.deepEqual(m.body, msg.body);
    assert.equal(m.tag, msg.tag);
    assert.deepEqual(m.keys, msg.keys);
    assert.equal(m.properties.get("idx"), msg.getUserProperty("idx"));
    assert.equal(m.flag, msg.flag);
    assert.equal(m.queueId, r.queueId);
    assert.equal(m.queueOffset, r.queueOffset);
    assert.equal(m.offsetMsgId, r.offsetMsgId);
  }
}

test("sendBatch stores the messages back to back in one queue and each arrives whole", async (t) => {
  const topic = uniq("T_batch");
  await createTopic(c, topic, 4);
  const p = await startedProducer(t);
  const msgs = Array.from({ length: 20 }, (_, i) => msgOf(topic, i));
  const rs = await p.sendBatch(msgs);
  assert.equal(rs.length, 20);
  assert.equal(new Set(rs.map((r) => r.queueId)).size, 1, "one queue");
  assert.equal(new Set(rs.map((r) => r.messageId)).size, 20, "an id each");
  assert.equal(new Set(rs.map((r) => r.offsetMsgId)).size, 20, "an offset id each");
  for (let i = 1; i < rs.length; i++) assert.equal(rs[i]!.queueOffset, rs[i - 1]!.queueOffset + 1);
  assert.ok(rs.every((r) => r.sendStatus === "SEND_OK" && r.topic === topic));
  // A second batch continues the same queue's offsets or starts another queue at its own.
  const more = await p.sendBatch([msgOf(topic, 20), msgOf(topic, 21)]);
  const all = [...msgs, msgOf(topic, 20), msgOf(topic, 21)];
  const sent = [...rs, ...more].map((r, i) => ({ msg: all[i]!, r }));
  checkDelivered(sent, await consumeAll(topic, sent.length));
});

test("sendBatch with a sharding key uses the key's queue", async (t) => {
  const topic = uniq("T_batch_key");
  await createTopic(c, topic, 4);
  const p = await startedProducer(t);
  const rs = await p.sendBatch([msgOf(topic, 0), msgOf(topic, 1)], { shardingKey: "order-42" });
  const queues = [...new Set(rs.map((r) => r.queueId))];
  assert.deepEqual(queues, [shardingQueueIndex("order-42", 4)]);
});

test("sendBatch refuses what Java refuses, and sends nothing then", async (t) => {
  const topic = uniq("T_batch_bad");
  await createTopic(c, topic, 4);
  const p = await startedProducer(t, { maxMessageSize: 4096 });
  const code = async (f: () => Promise<unknown>): Promise<string> => {
    try {
      await f();
      return "resolved";
    } catch (e) {
      assert.ok(e instanceof MQClientError, String(e));
      return e.kind;
    }
  };
  assert.equal(await code(() => p.sendBatch([])), "ILLEGAL_ARGUMENT");
  const other = msgOf(uniq("T_other"), 1);
  assert.equal(await code(() => p.sendBatch([msgOf(topic, 0), other])), "MESSAGE_ILLEGAL");
  const delayed = msgOf(topic, 1);
  delayed.delayTimeLevel = 2;
  assert.equal(await code(() => p.sendBatch([msgOf(topic, 0), delayed])), "MESSAGE_ILLEGAL");
  const timed = msgOf(topic, 1);
  timed.startDeliverTime = Date.now() + 60_000;
  assert.equal(await code(() => p.sendBatch([timed])), "MESSAGE_ILLEGAL");
  assert.equal(await code(() => p.sendBatch([msgOf("%RETRY%G", 0)])), "MESSAGE_ILLEGAL");
  const big = Array.from({ length: 3 }, () => new Message(topic, "T", Buffer.alloc(2000, 1)));
  assert.equal(await code(() => p.sendBatch(big)), "MESSAGE_ILLEGAL");
  const admin = c.broker.server.broker;
  for (let q = 0; q < 4; q++) assert.equal(admin.store.getMaxOffset(topic, q), 0, `queue ${q} stays empty`);
});

test("autoBatch: the sends of one turn share batches; each send gets its own result", async (t) => {
  const topic = uniq("T_auto");
  await createTopic(c, topic, 4);
  // About 12 messages of ~60 bytes fit in 1 KiB: 100 sends make several batches.
  const p = await startedProducer(t, { autoBatch: true, batchMaxBytes: 1024 });
  await p.send(msgOf(topic, 1000)); // the route: sends before it is known go one by one
  const msgs = Array.from({ length: 100 }, (_, i) => msgOf(topic, i));
  const rs = await Promise.all(msgs.map((m) => p.send(m)));
  const runs = new Map<number, number[]>();
  for (const r of rs) runs.set(r.queueId, [...(runs.get(r.queueId) ?? []), r.queueOffset]);
  // Batched: consecutive sends share a queue with consecutive offsets, far fewer queue switches than the
  // round robin of single sends (which changes queue on every send).
  let switches = 0;
  for (let i = 1; i < rs.length; i++) {
    if (rs[i]!.queueId !== rs[i - 1]!.queueId) switches++;
    else assert.equal(rs[i]!.queueOffset, rs[i - 1]!.queueOffset + 1, `send ${i} follows send ${i - 1}`);
  }
  assert.ok(switches >= 5 && switches <= 15, `${switches} batches of at most 1 KiB for 100 sends`);
  assert.equal(new Set(rs.map((r) => r.messageId)).size, 100);
  checkDelivered(
    rs.map((r, i) => ({ msg: msgs[i]!, r })),
    new Map([...(await consumeAll(topic, 101))].filter(([id]) => rs.some((r) => r.messageId === id))),
  );
});

test("autoBatch leaves keyed, timed and compressible sends on their own paths", async (t) => {
  const topic = uniq("T_auto_mixed");
  await createTopic(c, topic, 4);
  const p = await startedProducer(t, { autoBatch: true, compressOverBytes: 512 });
  await p.send(msgOf(topic, 1000));
  const keyed = Array.from({ length: 3 }, (_, i) => msgOf(topic, i));
  const timed = msgOf(topic, 10);
  timed.startDeliverTime = Date.now() + 60_000;
  const big = new Message(topic, "Big", Buffer.alloc(4096, 7));
  const [k0, k1, k2, d, b, plain1, plain2] = await Promise.all([
    ...keyed.map((m) => p.send(m, { shardingKey: "k-7" })),
    p.send(timed),
    p.send(big),
    p.send(msgOf(topic, 20)),
    p.send(msgOf(topic, 21)),
  ]);
  const keyQueue = shardingQueueIndex("k-7", 4);
  assert.deepEqual([k0!.queueId, k1!.queueId, k2!.queueId], [keyQueue, keyQueue, keyQueue]);
  assert.equal(plain2!.queueId, plain1!.queueId, "the two plain sends made one batch");
  assert.equal(plain2!.queueOffset, plain1!.queueOffset + 1);
  // The timed message is held by the broker for a minute; the compressed one arrives inflated.
  const got = await consumeAll(topic, 7);
  assert.equal(got.size, 7);
  assert.equal(got.has(d!.messageId), false, "the timed message is not delivered yet");
  assert.deepEqual(got.get(b!.messageId)?.body, big.body);
});

test("autoBatch: a batch the broker refuses fails every send in it with the broker's reason", async (t) => {
  const topic = uniq("T_auto_refused");
  await createTopic(c, topic, 4);
  const p = await startedProducer(t, { autoBatch: true, sendTimeoutMs: 2000 });
  await p.send(msgOf(topic, 1000)); // the route, cached from here on
  const broker = c.broker.server.broker;
  broker.createTopic(topicConfig(topic, 4, Perm.READ)); // the cached route still says writable
  const refused = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => p.send(msgOf(topic, i))));
  for (const r of refused) {
    assert.equal(r.status, "rejected");
    const e = (r as PromiseRejectedResult).reason as unknown;
    assert.ok(e instanceof MQClientError, String(e));
    assert.equal(e.responseCode, 16, e.message);
  }
  const stored = [0, 1, 2, 3].reduce((n, q) => n + broker.store.getMaxOffset(topic, q), 0);
  assert.equal(stored, 1, "only the first message was stored");
  broker.createTopic(topicConfig(topic, 4));
  const rs = await Promise.all(Array.from({ length: 10 }, (_, i) => p.send(msgOf(topic, 10 + i))));
  assert.equal(new Set(rs.map((r) => r.messageId)).size, 10);
});
