// The official RocketMQ 5.x Node.js client's SimpleConsumer and PushConsumer against our gRPC endpoint: receive
// with every field the client reads, ack, changeInvisibleDuration, redelivery with attempt 2 after the invisible
// time, the dead-letter queue after the group's max attempts, tag filters, and FIFO message-group order.
import { test } from "node:test";
import assert from "node:assert/strict";
import { groupConfig } from "../../../src/broker/group-manager.js";
import { topicConfig } from "../../../src/common/topic.js";
import { uniq } from "../../client/helpers.js";
import { RawClient } from "../../support/grpc-raw-client.js";
import {
  brokerWithProducer,
  quietLogger,
  receiveN,
  rocketmqClient,
  startSimpleConsumer,
} from "../../support/rocketmq-client.js";

const { client } = rocketmqClient();
const env = brokerWithProducer();

/** A started PushConsumer of every message of `topic`; `consume` says whether consumption succeeded. */
async function startPushConsumer(group: string, topic: string, consume: (body: string) => boolean) {
  const push = new client.PushConsumer({
    endpoints: env.b.grpcAddr,
    namespace: "",
    consumerGroup: group,
    subscriptions: new Map([[topic, "*"]]),
    logger: quietLogger,
    messageListener: {
      consume: (m) =>
        consume(m.body.toString()) ? client.ConsumeResult.SUCCESS : client.ConsumeResult.FAILURE,
    },
  });
  await push.startup();
  return push;
}

function topicWith(queues: number): string {
  const t = uniq("GrpcC");
  env.b.server.broker.createTopic(topicConfig(t, queues));
  return t;
}

test("receive: every field the client reads; ack removes for good", { timeout: 60_000 }, async () => {
  const topic = topicWith(4);
  const group = uniq("GID_recv");
  const c = await startSimpleConsumer(env.b.grpcAddr, group, { [topic]: "*" });
  try {
    const before = Date.now();
    const sent = await env.producer.send({
      topic,
      tag: "TagA",
      keys: ["k1", "k2"],
      properties: new Map([["region", "hz"]]),
      body: Buffer.from("payload"),
    });
    for (let i = 0; i < 4; i++) await env.producer.send({ topic, body: Buffer.from(`more-${i}`) });
    const got = await receiveN(c, 5, 15_000);
    assert.equal(got.length, 5);
    const m = got.find((v) => v.messageId === sent.messageId);
    assert.ok(m, "the producer's message id is what the consumer sees");
    assert.equal(m.topic, topic);
    assert.equal(m.body.toString(), "payload");
    assert.notEqual(m.corrupted, true, "the body digest matches");
    assert.equal(m.tag, "TagA");
    assert.deepEqual(m.keys, ["k1", "k2"]);
    assert.equal(m.properties.get("region"), "hz");
    assert.equal(m.properties.size, 1, "only user properties");
    assert.equal(m.deliveryAttempt, 1);
    assert.ok(m.receiptHandle.length > 0);
    assert.ok(m.bornTimestamp && m.bornTimestamp.getTime() >= before - 1000);
    assert.equal(m.bornHost, "127.0.0.1");
    assert.equal(typeof m.offset, "number");
    for (const v of got) await c.ack(v);
    assert.deepEqual(await c.receive(16, 15_000), [], "acked messages never come back");
  } finally {
    await c.shutdown();
  }
});

test(
  "the largest body the settings allow goes through both ways; a larger one is refused",
  { timeout: 60_000 },
  async () => {
    const topic = topicWith(1);
    const c = await startSimpleConsumer(env.b.grpcAddr, uniq("GID_big"), { [topic]: "*" });
    try {
      const max = env.producer.publishingSettings.maxBodySizeBytes;
      assert.ok(max > 4_000_000, `max body ${max}`);
      const body = Buffer.alloc(max, 7);
      await env.producer.send({ topic, body, properties: new Map([["p", "x".repeat(1000)]]) });
      await assert.rejects(
        env.producer.send({ topic, body: Buffer.alloc(max + 1) }),
        /exceeds the threshold/,
      );
      const got = await receiveN(c, 1, 15_000);
      assert.equal(got[0]?.body.length, max);
      assert.ok(got[0]!.body.equals(body));
      await c.ack(got[0]!);
    } finally {
      await c.shutdown();
    }
  },
);

test("changeInvisibleDuration and redelivery with delivery attempt 2", { timeout: 60_000 }, async () => {
  const topic = topicWith(2);
  const group = uniq("GID_inv");
  const c = await startSimpleConsumer(env.b.grpcAddr, group, { [topic]: "*" }, 1000);
  const raw = new RawClient(env.b.grpcAddr);
  try {
    await env.producer.send({ topic, body: Buffer.from("retry-me") });
    await env.producer.send({ topic, body: Buffer.from("extend-me") });
    const first = await receiveN(c, 2, 3000);
    assert.equal(first.length, 2);
    const extend = first.find((m) => m.body.toString() === "extend-me")!;
    const oldHandle = extend.receiptHandle;
    await c.changeInvisibleDuration(extend, 20_000);
    assert.notEqual(extend.receiptHandle, oldHandle, "a new handle is adopted");
    // retry-me comes back after 3 s with attempt 2; extend-me stays invisible.
    const again = await receiveN(c, 1, 15_000, 15_000);
    assert.equal(again.length, 1);
    assert.equal(again[0]!.body.toString(), "retry-me");
    assert.equal(again[0]!.deliveryAttempt, 2);
    assert.equal(again[0]!.messageId, first.find((m) => m.body.toString() === "retry-me")!.messageId);
    // The superseded handle is refused; the adopted one acks.
    const stale = await raw.unary("AckMessage", {
      group: { name: group },
      topic: { name: topic },
      entries: [{ messageId: extend.messageId, receiptHandle: oldHandle }],
    });
    assert.equal(stale.status?.code, "INVALID_RECEIPT_HANDLE");
    await c.ack(extend);
    await c.ack(again[0]!);
    assert.deepEqual(await c.receive(16, 15_000), []);
  } finally {
    raw.close();
    await c.shutdown();
  }
});

test("dead-letter queue after the group's max attempts", { timeout: 60_000 }, async () => {
  const topic = topicWith(1);
  const group = uniq("GID_dlq");
  env.b.server.broker.groups.createOrUpdate(groupConfig(group, 1)); // 1 retry: 2 deliveries
  const c = await startSimpleConsumer(env.b.grpcAddr, group, { [topic]: "*" }, 1000);
  try {
    const sent = await env.producer.send({ topic, tag: "T", body: Buffer.from("poison") });
    const attempts: number[] = [];
    const end = Date.now() + 30_000;
    while (env.b.server.broker.listDeadLetters(group).length === 0 && Date.now() < end) {
      for (const m of await c.receive(1, 500)) attempts.push(m.deliveryAttempt ?? 0);
    }
    assert.deepEqual(attempts, [1, 2]);
    const dead = env.b.server.broker.listDeadLetters(group);
    assert.equal(dead.length, 1);
    assert.equal(dead[0]!.record.body.toString(), "poison");
    assert.deepEqual(await c.receive(1, 500), [], "a dead letter is not delivered again");
    void sent;
  } finally {
    await c.shutdown();
  }
});

test("tag filter: only TagA || TagB are delivered", { timeout: 60_000 }, async () => {
  const topic = topicWith(2);
  const c = await startSimpleConsumer(env.b.grpcAddr, uniq("GID_tag"), { [topic]: "TagA||TagB" });
  try {
    for (const tag of ["TagA", "TagC", "TagB", "TagC"])
      await env.producer.send({ topic, tag, body: Buffer.from(tag) });
    const got = await receiveN(c, 2, 15_000);
    assert.deepEqual(got.map((m) => m.tag).sort(), ["TagA", "TagB"]);
    for (const m of got) await c.ack(m);
    assert.deepEqual(await c.receive(16, 15_000), [], "TagC never comes");
  } finally {
    await c.shutdown();
  }
});

test(
  "FIFO group: a message group's messages come in send order, a run per receive, the next run once it is acked",
  { timeout: 60_000 },
  async () => {
    const topic = topicWith(4);
    const group = uniq("GID_fifo");
    env.b.server.broker.groups.createOrUpdate({ ...groupConfig(group, 16), consumeMessageOrderly: true });
    const c = await startSimpleConsumer(env.b.grpcAddr, group, { [topic]: "*" });
    try {
      for (let i = 0; i < 5; i++) {
        await env.producer.send({ topic, messageGroup: "g1", body: Buffer.from(`a${i}`) });
        await env.producer.send({ topic, messageGroup: "g2", body: Buffer.from(`b${i}`) });
      }
      const first: Awaited<ReturnType<typeof c.receive>> = [];
      const end = Date.now() + 15_000;
      while (first.length < 10 && Date.now() < end) first.push(...(await c.receive(32, 15_000)));
      const ofGroup = (g: string) => first.filter((m) => m.messageGroup === g).map((m) => m.body.toString());
      assert.deepEqual(ofGroup("g1"), ["a0", "a1", "a2", "a3", "a4"]);
      assert.deepEqual(ofGroup("g2"), ["b0", "b1", "b2", "b3", "b4"]);

      await env.producer.send({ topic, messageGroup: "g1", body: Buffer.from("a5") });
      await env.producer.send({ topic, messageGroup: "g2", body: Buffer.from("b5") });
      // g1's run is acked but for a2; g2's whole run is acked.
      for (const m of first) if (m.body.toString() !== "a2") await c.ack(m);
      const second = await c.receive(32, 15_000);
      assert.deepEqual(
        second.map((m) => m.body.toString()),
        ["b5"],
        "g2 moves on; g1 waits for a2",
      );
      await c.ack(second[0]!);
      await c.ack(first.find((m) => m.body.toString() === "a2")!);
      const third = await c.receive(32, 15_000);
      assert.deepEqual(
        third.map((m) => m.body.toString()),
        ["a5"],
      );
      await c.ack(third[0]!);
    } finally {
      await c.shutdown();
    }
  },
);

test(
  "PushConsumer: receives and acks through QueryAssignment and long polling",
  { timeout: 60_000 },
  async () => {
    const topic = topicWith(2);
    const group = uniq("GID_push");
    const seen: string[] = [];
    const push = await startPushConsumer(group, topic, (body) => {
      seen.push(body);
      return true;
    });
    try {
      for (let i = 0; i < 5; i++) await env.producer.send({ topic, body: Buffer.from(`p${i}`) });
      const end = Date.now() + 30_000;
      while (seen.length < 5 && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
      assert.deepEqual([...seen].sort(), ["p0", "p1", "p2", "p3", "p4"]);
    } finally {
      await push.shutdown();
    }
    // Every message was acked: a simple consumer of the same group finds nothing.
    const c = await startSimpleConsumer(env.b.grpcAddr, group, { [topic]: "*" }, 1000);
    try {
      assert.deepEqual(await c.receive(16, 15_000), []);
    } finally {
      await c.shutdown();
    }
  },
);

test(
  "FIFO PushConsumer: a message that keeps failing is forwarded to the dead-letter queue",
  { timeout: 60_000 },
  async () => {
    const topic = topicWith(1);
    const group = uniq("GID_pushfifo");
    env.b.server.broker.groups.createOrUpdate({ ...groupConfig(group, 1), consumeMessageOrderly: true });
    const attempts: string[] = [];
    const push = await startPushConsumer(group, topic, (body) => {
      attempts.push(body);
      return body !== "bad";
    });
    try {
      await env.producer.send({ topic, messageGroup: "g", body: Buffer.from("bad") });
      await env.producer.send({ topic, messageGroup: "g", body: Buffer.from("next") });
      const end = Date.now() + 30_000;
      while (!attempts.includes("next") && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
      assert.deepEqual(attempts, ["bad", "bad", "next"], "2 attempts (1 retry), then the group moves on");
      const dead = env.b.server.broker.listDeadLetters(group);
      assert.deepEqual(
        dead.map((d) => d.record.body.toString()),
        ["bad"],
      );
    } finally {
      await push.shutdown();
    }
  },
);

test(
  "a client with a namespace works with itself: names are used as given, as Apache's proxy does",
  { timeout: 60_000 },
  async () => {
    // The Node.js client puts the namespace on its messages' topic Resource and in an x-mq-namespace header, but
    // not on the Resources of receive, ack or routes. Folding it into names on some requests only would split
    // the client from itself; the broker ignores it everywhere.
    const topic = topicWith(1);
    const group = uniq("GID_ns");
    const p = new client.Producer({
      endpoints: env.b.grpcAddr,
      namespace: "tenant1",
      topic,
      logger: quietLogger,
    });
    await p.startup();
    const c = new client.SimpleConsumer({
      endpoints: env.b.grpcAddr,
      namespace: "tenant1",
      consumerGroup: group,
      subscriptions: new Map([[topic, "*"]]),
      awaitDuration: 2000,
      logger: quietLogger,
    });
    await c.startup();
    try {
      const sent = await p.send({ topic, body: Buffer.from("namespaced") });
      const got = await receiveN(c, 1, 30_000);
      assert.equal(got[0]?.messageId, sent.messageId);
      assert.equal(got[0]?.body.toString(), "namespaced");
      await c.ack(got[0]!);
      assert.ok(env.b.server.broker.topics.get(topic), "stored under the topic as given");
    } finally {
      await c.shutdown();
      await p.shutdown();
    }
  },
);
