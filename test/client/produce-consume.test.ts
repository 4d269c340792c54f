import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { Consumer, Message, Producer } from "../../src/client/index.js";
import { Collector, clientOpts, createTopic, startCluster, uniq } from "./helpers.js";
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

test("produce and consume (clustering)", { timeout: 30_000 }, async () => {
  const topic = uniq("T_basic");
  await createTopic(c, topic);
  const col = new Collector();
  const consumer = new Consumer({ ...clientOpts(c, uniq("GID")), consumeFromWhere: "FIRST" });
  consumer.subscribe(topic, "*", col.listener);
  await consumer.start();
  try {
    const sent = [];
    for (let i = 0; i < 20; i++) sent.push(await producer.send(new Message(topic, "TagA", `m${i}`)));
    await col.waitCount(20);
    assert.deepEqual(new Set(col.bodies()), new Set(sent.map((_, i) => `m${i}`)));
    const byId = new Map(col.messages.map((m) => [m.messageId, m]));
    for (const s of sent) {
      const m = byId.get(s.messageId);
      assert.ok(m, `message ${s.messageId} received`);
      assert.equal(m.offsetMsgId, s.offsetMsgId);
      assert.equal(m.queueId, s.queueId);
      assert.equal(m.queueOffset, s.queueOffset);
      assert.equal(m.topic, topic);
      assert.equal(m.tag, "TagA");
      assert.equal(m.reconsumeTimes, 0);
    }
  } finally {
    await consumer.shutdown();
  }
});
