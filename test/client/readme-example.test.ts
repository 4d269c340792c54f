// The README's SDK example, as written there (addresses aside), against a real NameServer and broker: the
// documentation must not promise an API the SDK does not have.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Producer, Consumer, Message, Action, MessageModel } from "../../src/client/index.js";
import { startCluster } from "../support/cluster-fixture.js";

test("the README example produces and consumes", async (t) => {
  const cluster = await startCluster();
  const nameServer = cluster.namesrvAddr;
  const producer = new Producer({ nameServer, groupId: "GID_DEMO_P" });
  const consumer = new Consumer({ nameServer, groupId: "GID_DEMO", messageModel: MessageModel.CLUSTERING });
  t.after(async () => {
    await consumer.shutdown();
    await producer.shutdown();
    await cluster.stop();
  });
  await producer.start();
  const msg = new Message("TopicDemo", "TagA", "hello");
  msg.keys = ["order-42"];
  msg.properties = { region: "hz" };
  const sent = await producer.send(msg);
  assert.ok(sent.messageId && sent.queueOffset >= 0);
  const a = await producer.send(msg, { shardingKey: "user-7" });
  const b = await producer.send(msg, { shardingKey: "user-7" });
  assert.equal(a.queueId, b.queueId, "same key, same queue");
  const batch = await producer.sendBatch([msg, new Message("TopicDemo", "TagB", "hello")]);
  assert.equal(batch[1]!.queueOffset, batch[0]!.queueOffset + 1, "one queue, back to back");

  const got: { id: string; body: string; reconsumeTimes: number; region: string | undefined }[] = [];
  consumer.subscribe("TopicDemo", "TagA||TagB", async (m) => {
    got.push({
      id: m.messageId,
      body: m.body.toString(),
      reconsumeTimes: m.reconsumeTimes,
      region: m.properties.get("region"),
    });
    return Action.CommitMessage;
  });
  await consumer.start();
  const deadline = Date.now() + 15_000;
  while (got.length < 5 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  assert.equal(got.length, 5);
  assert.ok(got.some((g) => g.id === sent.messageId));
  for (const g of got) {
    assert.equal(g.body, "hello");
    assert.equal(g.reconsumeTimes, 0);
    assert.equal(g.region, g.id === batch[1]!.messageId ? undefined : "hz");
  }
});
