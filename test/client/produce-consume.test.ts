// Producer and clustering consumer against a real broker and NameServer: delivery, tag filters, keys and
// properties, compression, sharding keys, async and oneway sends, and long-poll latency.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import {
  Action,
  Consumer,
  Message,
  OrderProducer,
  Producer,
  shardingQueueIndex,
} from "../../src/client/index.js";
import type { ReceivedMessage, SendResult } from "../../src/client/index.js";
import { Collector, clientOpts, createTopic, sleep, startCluster, uniq, waitFor } from "./helpers.js";
import type { Cluster } from "./helpers.js";

let c: Cluster;
let producer: Producer;

before(async () => {
  c = await startCluster();
  producer = new Producer(clientOpts(c, uniq("PID")));
  await producer.start();
});

after(async () => {
  await producer.shutdown();
  await c.stop();
});

async function withConsumer(
  topic: string,
  expr: string,
  col: Collector,
  fn: (consumer: Consumer) => Promise<void>,
): Promise<void> {
  const consumer = new Consumer({ ...clientOpts(c, uniq("GID")), consumeFromWhere: "FIRST" });
  consumer.subscribe(topic, expr, col.listener);
  await consumer.start();
  try {
    await fn(consumer);
  } finally {
    await consumer.shutdown();
  }
}

test(
  "produce and consume (clustering): every message once, ids and positions match",
  { timeout: 30_000 },
  async () => {
    const topic = uniq("T_basic");
    await createTopic(c, topic);
    const col = new Collector();
    await withConsumer(topic, "*", col, async () => {
      const sent: SendResult[] = [];
      for (let i = 0; i < 40; i++) sent.push(await producer.send(new Message(topic, "TagA", `m${i}`)));
      assert.ok(new Set(sent.map((s) => s.queueId)).size > 1, "sends spread over queues");
      await col.waitCount(40);
      await sleep(200);
      assert.equal(col.messages.length, 40, "no duplicates");
      const byId = new Map(col.messages.map((m) => [m.messageId, m]));
      for (const s of sent) {
        assert.equal(s.sendStatus, "SEND_OK");
        const m = byId.get(s.messageId);
        assert.ok(m, `message ${s.messageId} received`);
        assert.equal(m.offsetMsgId, s.offsetMsgId);
        assert.equal(m.queueId, s.queueId);
        assert.equal(m.queueOffset, s.queueOffset);
        assert.equal(m.topic, topic);
        assert.equal(m.tag, "TagA");
        assert.equal(m.reconsumeTimes, 0);
        assert.ok(m.storeTimestamp >= m.bornTimestamp - 1000);
      }
    });
  },
);

test('"TagA||TagB" receives exactly the A and B messages', { timeout: 30_000 }, async () => {
  const topic = uniq("T_tags");
  await createTopic(c, topic);
  const col = new Collector();
  await withConsumer(topic, "TagA || TagB", col, async () => {
    const tags = ["TagA", "TagB", "TagC", undefined, "TagAB", "TagB"];
    for (let i = 0; i < 30; i++) await producer.send(new Message(topic, tags[i % tags.length], `t${i}`));
    const expected = Array.from({ length: 30 }, (_, i) => i)
      .filter((i) => ["TagA", "TagB"].includes(tags[i % tags.length] ?? ""))
      .map((i) => `t${i}`);
    await col.waitCount(expected.length);
    await sleep(300);
    assert.deepEqual(col.bodies().sort(), expected.sort());
    assert.ok(col.messages.every((m) => m.tag === "TagA" || m.tag === "TagB"));
  });
});

test("keys, user properties and large (compressed) bodies survive", { timeout: 30_000 }, async () => {
  const topic = uniq("T_props");
  await createTopic(c, topic);
  const col = new Collector();
  await withConsumer(topic, "*", col, async () => {
    const m = new Message(topic, "TagP", "hello");
    m.keys = ["order-1", "user-7"];
    m.properties = { region: "eu", "x-trace": "abc=1;b" };
    await producer.send(m);
    const big = new Message(topic, "TagP", Buffer.from("0123456789abcdef".repeat(1024)));
    big.properties = new Map([["size", "16k"]]);
    big.putUserProperty("more", "yes");
    await producer.send(big);
    await col.waitCount(2);
    const small = col.messages.find((x) => x.body.toString() === "hello")!;
    assert.deepEqual(small.keys, ["order-1", "user-7"]);
    assert.deepEqual(Object.fromEntries(small.properties), { region: "eu", "x-trace": "abc=1;b" });
    const large = col.messages.find((x) => x.body.length > 100)!;
    assert.deepEqual(large.body, big.body);
    assert.equal(large.sysFlag & 1, 1, "stored compressed");
    assert.deepEqual(Object.fromEntries(large.properties), { size: "16k", more: "yes" });
  });
});

test("a user property may not use a system key", async () => {
  const m = new Message("T_any", "x", "y");
  m.putUserProperty("TAGS", "sneaky");
  await assert.rejects(producer.send(m), { name: "MQClientError", kind: "MESSAGE_ILLEGAL" });
});

test("the same sharding key always picks the same queue", { timeout: 30_000 }, async () => {
  const topic = uniq("T_shard");
  await createTopic(c, topic, 8);
  const order = new OrderProducer(clientOpts(c, uniq("PID_order")));
  await order.start();
  try {
    const byKey = new Map<string, Set<number>>();
    for (let i = 0; i < 60; i++) {
      const key = `order-${i % 6}`;
      const r =
        i % 2 === 0
          ? await order.send(new Message(topic, "T", `s${i}`), key)
          : await producer.send(new Message(topic, "T", `s${i}`), { shardingKey: key });
      if (!byKey.has(key)) byKey.set(key, new Set());
      byKey.get(key)!.add(r.queueId);
    }
    for (const [key, queues] of byKey) {
      assert.equal(queues.size, 1, `${key} used one queue`);
      assert.equal([...queues][0], shardingQueueIndex(key, 8), `${key} uses |hashCode| mod 8`);
    }
    assert.ok(new Set([...byKey.values()].map((s) => [...s][0])).size > 1, "different keys spread");
    await assert.rejects(order.send(new Message(topic, "T", "no key")), { kind: "ILLEGAL_ARGUMENT" });
  } finally {
    await order.shutdown();
  }
});

test("sendAsync (promise and callback) and sendOneway deliver", { timeout: 30_000 }, async () => {
  const topic = uniq("T_async");
  await createTopic(c, topic);
  const col = new Collector();
  await withConsumer(topic, "*", col, async () => {
    const viaPromise = await producer.sendAsync(new Message(topic, "A", "async-promise"));
    const viaCallback = await new Promise<SendResult>((resolve, reject) => {
      void producer.sendAsync(new Message(topic, "A", "async-callback"), (err, r) =>
        err ? reject(err) : resolve(r!),
      );
    });
    await producer.sendOneway(new Message(topic, "A", "oneway"));
    await col.waitCount(3);
    assert.deepEqual(col.bodies().sort(), ["async-callback", "async-promise", "oneway"]);
    const ids = new Set(col.messages.map((m) => m.messageId));
    assert.ok(ids.has(viaPromise.messageId) && ids.has(viaCallback.messageId));
  });
});

test(
  "long poll: an idle consumer gets a message within 50 ms of the send",
  { timeout: 30_000 },
  async (t) => {
    const topic = uniq("T_latency");
    await createTopic(c, topic, 2);
    let resolveGot: (m: ReceivedMessage) => void = () => {};
    let gotAt = 0;
    const consumer = new Consumer({ ...clientOpts(c, uniq("GID")), consumeFromWhere: "FIRST" });
    consumer.subscribe(topic, "*", (m) => {
      gotAt = performance.now();
      resolveGot(m);
      return Action.CommitMessage;
    });
    await consumer.start();
    try {
      await waitFor(
        () => consumer.assignedQueues().filter((q) => q.topic === topic).length === 2,
        5000,
        "queues",
      );
      // Measured from the send call and from its resolution: the broker may wake the parked pull before it
      // answers the send, so the listener can run first (latency 0 from send-resolve).
      const fromResolve: number[] = [];
      const fromCall: number[] = [];
      for (let i = 0; i < 5; i++) {
        await sleep(300); // idle: the pulls are parked on the broker
        const got = new Promise<ReceivedMessage>((r) => (resolveGot = r));
        const calledAt = performance.now();
        await producer.send(new Message(topic, "L", `lat${i}`));
        const resolvedAt = performance.now();
        const m = await got;
        assert.equal(m.body.toString(), `lat${i}`);
        fromResolve.push(Math.max(0, gotAt - resolvedAt));
        fromCall.push(gotAt - calledAt);
      }
      const show = (xs: number[]) => xs.map((x) => x.toFixed(2)).join(", ");
      t.diagnostic(
        `listener latency from send resolve (ms): ${show(fromResolve)}; from send call: ${show(fromCall)}`,
      );
      assert.ok(Math.max(...fromResolve) < 50, `from send resolve: ${show(fromResolve)}`);
      assert.ok([...fromCall].sort((a, b) => a - b)[2]! < 50, `from send call: ${show(fromCall)}`);
    } finally {
      await consumer.shutdown();
    }
  },
);

test("a topic created by its first send is consumed from all its queues", { timeout: 30_000 }, async () => {
  const topic = uniq("T_autocreate");
  const col = new Collector();
  await withConsumer(topic, "*", col, async (consumer) => {
    const sent: string[] = [];
    for (let i = 0; i < 30; i++) {
      await producer.send(new Message(topic, "A", `auto${i}`));
      sent.push(`auto${i}`);
      await sleep(50); // lets the producer move from the guessed route to the topic's own
    }
    await col.waitCount(30, 15_000);
    await sleep(200);
    assert.deepEqual(col.bodies().sort(), sent.sort());
    const own = c.broker.server.broker.topics.get(topic)!.readQueueNums;
    await waitFor(
      () => consumer.assignedQueues().filter((q) => q.topic === topic).length === own,
      5000,
      `all ${own} queues assigned`,
    );
  });
});

test(
  "a backlog pulled in small batches (pipelined pulls) arrives once, in queue order, and is committed",
  { timeout: 30_000 },
  async () => {
    const topic = uniq("T_backlog");
    await createTopic(c, topic, 2);
    const n = 300;
    await Promise.all(
      Array.from({ length: n }, (_, i) => producer.send(new Message(topic, "TagA", `b${i}`))),
    );
    const group = uniq("GID");
    const col = new Collector();
    const consumer = new Consumer({ ...clientOpts(c, group), consumeFromWhere: "FIRST", pullBatchSize: 8 });
    consumer.subscribe(topic, "*", col.listener);
    await consumer.start();
    try {
      await col.waitCount(n);
      await sleep(200);
    } finally {
      await consumer.shutdown();
    }
    assert.equal(col.messages.length, n, "no duplicates");
    const broker = c.broker.server.broker;
    for (const q of [0, 1]) {
      const offsets = col.messages.filter((m) => m.queueId === q).map((m) => m.queueOffset);
      const max = broker.store.getMaxOffset(topic, q);
      assert.deepEqual(
        offsets,
        Array.from({ length: max }, (_, i) => i),
        `queue ${q} in order`,
      );
      assert.equal(broker.queryConsumerOffset(group, topic, q), max, `queue ${q} committed`);
    }
  },
);
