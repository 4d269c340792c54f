// Failed messages: clustering sends them back (CONSUMER_SEND_MSG_BACK) and they return on %RETRY%<group> with
// reconsumeTimes + 1 and their original topic; broadcasting drops them.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { Action, Consumer, Message, MessageModel, Producer } from "../../src/client/index.js";
import type { ReceivedMessage } from "../../src/client/index.js";
import { tempDir } from "../support/temp-dir.js";
import { clientOpts, createTopic, sleep, startCluster, uniq, waitFor } from "./helpers.js";
import type { Cluster } from "./helpers.js";

let c: Cluster;
let producer: Producer;
const dir = tempDir("rmq-offsets-");

before(async () => {
  c = await startCluster();
  producer = new Producer(clientOpts(c, uniq("PID")));
  await producer.start();
});

after(async () => {
  await producer.shutdown();
  await c.stop();
  dir.cleanup();
});

test(
  "a thrown listener error brings the message back with reconsumeTimes 1",
  { timeout: 30_000 },
  async () => {
    const topic = uniq("T_retry");
    await createTopic(c, topic);
    const seen: ReceivedMessage[] = [];
    const consumer = new Consumer({ ...clientOpts(c, uniq("GID_retry")), consumeFromWhere: "FIRST" });
    consumer.subscribe(topic, "*", (m) => {
      seen.push(m);
      if (m.body.toString() === "bad" && m.reconsumeTimes === 0) throw new Error("boom");
      if (m.body.toString() === "later" && m.reconsumeTimes < 2) return Action.ReconsumeLater;
      return Action.CommitMessage;
    });
    await consumer.start();
    try {
      const m = new Message(topic, "TagR", "bad");
      m.keys = ["k-bad"];
      m.putUserProperty("p", "v");
      const bad = await producer.send(m);
      const later = await producer.send(new Message(topic, "TagR", "later"));
      await producer.send(new Message(topic, "TagR", "good"));
      await waitFor(() => seen.filter((x) => x.body.toString() === "later").length >= 3, 15_000, "later x3");
      await waitFor(() => seen.filter((x) => x.body.toString() === "bad").length >= 2, 15_000, "bad x2");
      await sleep(500);
      const bads = seen.filter((x) => x.body.toString() === "bad");
      assert.equal(bads.length, 2, "redelivered once");
      const [first, again] = bads as [ReceivedMessage, ReceivedMessage];
      assert.equal(first.reconsumeTimes, 0);
      assert.equal(again.reconsumeTimes, 1);
      assert.equal(again.topic, topic, "original topic, not %RETRY%");
      assert.equal(again.pulledTopic, `%RETRY%${consumer.groupId}`);
      assert.equal(again.messageId, bad.messageId, "same unique id");
      assert.equal(again.tag, "TagR");
      assert.deepEqual(again.keys, ["k-bad"]);
      assert.equal(again.properties.get("p"), "v");
      const laters = seen.filter((x) => x.body.toString() === "later");
      assert.deepEqual(
        laters.map((x) => x.reconsumeTimes),
        [0, 1, 2],
      );
      assert.ok(laters.every((x) => x.messageId === later.messageId));
      assert.equal(seen.filter((x) => x.body.toString() === "good").length, 1);
    } finally {
      await consumer.shutdown();
    }
  },
);

test(
  "returning nothing means retry; after maxReconsumeTimes the broker stops redelivering",
  { timeout: 30_000 },
  async () => {
    const topic = uniq("T_dlq");
    await createTopic(c, topic);
    const times: number[] = [];
    const consumer = new Consumer({
      ...clientOpts(c, uniq("GID_dlq")),
      consumeFromWhere: "FIRST",
      maxReconsumeTimes: 2,
    });
    consumer.subscribe(topic, "*", (m) => {
      times.push(m.reconsumeTimes);
    });
    await consumer.start();
    try {
      await producer.send(new Message(topic, "D", "always-fails"));
      await waitFor(() => times.length >= 3, 15_000, "3 deliveries");
      await sleep(1000);
      assert.deepEqual(times, [0, 1, 2], "then to the DLQ");
    } finally {
      await consumer.shutdown();
    }
  },
);

test("broadcasting: a failed message is dropped, not retried", { timeout: 30_000 }, async () => {
  const topic = uniq("T_bfail");
  await createTopic(c, topic);
  const seen: string[] = [];
  const consumer = new Consumer({
    ...clientOpts(c, uniq("GID_bfail")),
    messageModel: MessageModel.BROADCASTING,
    offsetStoreDir: dir.dir,
  });
  consumer.subscribe(topic, "*", (m) => {
    seen.push(m.body.toString());
    throw new Error("nope");
  });
  await consumer.start();
  try {
    await waitFor(() => consumer.assignedQueues().length === 4, 5000, "queues");
    await producer.send(new Message(topic, "B", "once"));
    await waitFor(() => seen.length >= 1, 5000, "delivery");
    await sleep(1000);
    assert.deepEqual(seen, ["once"]);
  } finally {
    await consumer.shutdown();
  }
});

test(
  "when CONSUMER_SEND_MSG_BACK fails: retry-topic send, and when that fails too, a local retry",
  { timeout: 30_000 },
  async () => {
    const topic = uniq("T_fallback");
    await createTopic(c, topic);
    const broker = c.broker.server.broker;
    const origSendBack = broker.consumerSendMsgBack.bind(broker);
    const origSend = broker.sendMessage.bind(broker);
    let failRetrySends = false;
    broker.consumerSendMsgBack = () => Promise.reject(new Error("send-back disabled by the test"));
    broker.sendMessage = (req) =>
      failRetrySends && req.topic.startsWith("%RETRY%")
        ? Promise.reject(new Error("retry sends disabled by the test"))
        : origSend(req);
    const seen: ReceivedMessage[] = [];
    const consumer = new Consumer({
      ...clientOpts(c, uniq("GID_fallback")),
      consumeFromWhere: "FIRST",
      localRetryDelayMs: 200,
    });
    consumer.subscribe(topic, "*", (m) => {
      seen.push(m);
      return m.reconsumeTimes === 0 ? Action.ReconsumeLater : Action.CommitMessage;
    });
    await consumer.start();
    try {
      const viaTopic = await producer.send(new Message(topic, "F", "via-retry-topic"));
      await waitFor(
        () => seen.some((m) => m.messageId === viaTopic.messageId && m.reconsumeTimes === 1),
        10_000,
        "retry-topic copy",
      );
      const copy = seen.find((m) => m.messageId === viaTopic.messageId && m.reconsumeTimes === 1)!;
      assert.equal(copy.topic, topic);
      assert.equal(copy.pulledTopic, `%RETRY%${consumer.groupId}`);

      failRetrySends = true;
      const local = await producer.send(new Message(topic, "F", "local"));
      await waitFor(
        () => seen.some((m) => m.messageId === local.messageId && m.reconsumeTimes === 1),
        10_000,
        "local retry",
      );
      const again = seen.find((m) => m.messageId === local.messageId && m.reconsumeTimes === 1)!;
      assert.equal(again.pulledTopic, topic, "retried in place, from the same queue");
      assert.equal(again.queueOffset, local.queueOffset);
      await sleep(300);
      assert.equal(seen.filter((m) => m.messageId === local.messageId).length, 2);
    } finally {
      broker.consumerSendMsgBack = origSendBack;
      broker.sendMessage = origSend;
      await consumer.shutdown();
    }
  },
);
