// Priority messages (RocketMQ RIP-80) with the official Node.js client: a message's priority is its queue on a
// topic typed PRIORITY (capped at the last queue), and a receive takes the highest level first. Delivered
// messages carry their priority. Negative priorities and priorities mixed with other types are refused.
import { test } from "node:test";
import assert from "node:assert/strict";
import { topicConfig } from "../../../src/common/topic.js";
import { uniq } from "../../client/helpers.js";
import { RawClient } from "../../support/grpc-raw-client.js";
import { brokerWithProducer, receiveN, startSimpleConsumer } from "../../support/rocketmq-client.js";

const env = brokerWithProducer();

function priorityTopic(): string {
  const t = uniq("Prio");
  env.b.server.broker.createTopic({ ...topicConfig(t, 8), attributes: { "message.type": "PRIORITY" } });
  return t;
}

/** `n` receives of one message each by a new group, each acked before the next. */
async function receiveOneByOne(topic: string, n: number) {
  const c = await startSimpleConsumer(env.b.grpcAddr, uniq("GID_prio"), { [topic]: "*" });
  try {
    const out = [];
    for (let i = 0; i < n; i++) {
      const [m] = await receiveN(c, 1, 30_000, 5_000);
      assert.ok(m, `receive ${i + 1} got a message`);
      out.push(m);
      await c.ack(m);
    }
    return out;
  } finally {
    await c.shutdown();
  }
}

test("each level is a queue; one at a time, the highest level comes first", { timeout: 60_000 }, async () => {
  const topic = priorityTopic();
  for (const p of [3, 0, 7, 5, 99, 1])
    await env.producer.send({ topic, priority: p, body: Buffer.from(`p${p}`) });
  const store = env.b.server.broker.store;
  assert.equal(store.getMaxOffset(topic, 7), 2, "7 and 99 (capped) are both in the last queue");
  for (const q of [0, 1, 3, 5]) assert.equal(store.getMaxOffset(topic, q), 1, `level ${q} in queue ${q}`);
  const got = await receiveOneByOne(topic, 6);
  for (const m of got)
    assert.equal(m.priority, Number(m.body.toString().slice(1)), "the message carries its priority");
  assert.deepEqual(
    got.map((m) => m.body.toString()),
    ["p7", "p99", "p5", "p3", "p1", "p0"],
  );
});

test("a backlog of higher priority is drained before a lower one", { timeout: 60_000 }, async () => {
  const topic = priorityTopic();
  for (let i = 0; i < 3; i++) {
    await env.producer.send({ topic, priority: 2, body: Buffer.from(`low-${i}`) });
    await env.producer.send({ topic, priority: 6, body: Buffer.from(`high-${i}`) });
  }
  const got = await receiveOneByOne(topic, 6);
  assert.deepEqual(
    got.map((m) => m.body.toString()),
    ["high-0", "high-1", "high-2", "low-0", "low-1", "low-2"],
  );
});

test("negative priorities and priorities with other types are refused", { timeout: 30_000 }, async () => {
  const topic = priorityTopic();
  const raw = new RawClient(env.b.grpcAddr);
  try {
    const send = async (sp: Record<string, unknown>) =>
      (
        (await raw.unary("SendMessage", {
          messages: [
            {
              topic: { name: topic },
              body: Buffer.from("x"),
              systemProperties: { messageId: uniq("id"), ...sp },
            },
          ],
        })) as { status: { code: string } }
      ).status.code;
    assert.equal(await send({ messageType: "PRIORITY", priority: -1 }), "BAD_REQUEST");
    assert.equal(
      await send({ messageType: "PRIORITY", priority: 1, messageGroup: "g" }),
      "MESSAGE_PROPERTY_CONFLICT_WITH_TYPE",
    );
    assert.equal(
      await send({ messageType: "PRIORITY" }),
      "MESSAGE_PROPERTY_CONFLICT_WITH_TYPE",
      "no priority",
    );
    assert.equal(await send({ messageType: "PRIORITY", priority: 4 }), "OK");
    assert.equal(env.b.server.broker.store.getMaxOffset(topic, 4), 1);
  } finally {
    raw.close();
  }
});
