// Lite topics (RIP-83) with the official RocketMQ 5.x Node.js client: a Producer sends with liteTopic, a
// LitePushConsumer follows lite topics by name. Each consumer gets exactly the lite topics it follows, each in
// order; following a lite topic with an offset option reaches its backlog; unfollowing stops it; a suspended
// message comes back without using an attempt; bad lite topic names get ILLEGAL_LITE_TOPIC.
import { test } from "node:test";
import assert from "node:assert/strict";
import { topicConfig } from "../../../src/common/topic.js";
import { uniq } from "../../client/helpers.js";
import { createServer } from "node:net";
import { RawClient } from "../../support/grpc-raw-client.js";
import { startBroker } from "../../support/broker-fixture.js";
import { tempDir } from "../../support/temp-dir.js";
import { brokerWithProducer, quietLogger, rocketmqClient } from "../../support/rocketmq-client.js";

const { client } = rocketmqClient();
const env = brokerWithProducer();

interface Got {
  liteTopic: string | undefined;
  topic: string;
  body: string;
  attempt: number;
}

type Listener = (m: Got) => typeof client.ConsumeResult.SUCCESS | undefined;

async function startLiteConsumer(group: string, bindTopic: string, listen?: Listener) {
  const got: Got[] = [];
  const consumer = await new client.LitePushConsumerBuilder()
    .setClientConfiguration({ endpoints: env.b.grpcAddr, namespace: "", logger: quietLogger })
    .setConsumerGroup(group)
    .bindTopic(bindTopic)
    .setMessageListener({
      consume: (v) => {
        const m: Got = {
          liteTopic: v.liteTopic,
          topic: v.topic,
          body: v.body.toString(),
          attempt: v.deliveryAttempt ?? 0,
        };
        got.push(m);
        return listen?.(m) ?? client.ConsumeResult.SUCCESS;
      },
    })
    .build();
  return { consumer, got };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

async function until(what: string, cond: () => boolean, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function parent(): string {
  const t = uniq("LiteParent");
  env.b.server.broker.createTopic({ ...topicConfig(t, 4), attributes: { "message.type": "LITE" } });
  return t;
}

async function sendLite(topic: string, liteTopic: string, body: string) {
  return env.producer.send({ topic, liteTopic, body: Buffer.from(body) });
}

test(
  "a lite consumer gets exactly the lite topics it follows, each in order",
  { timeout: 60_000 },
  async () => {
    const topic = parent();
    const { consumer, got } = await startLiteConsumer(uniq("GID_lite"), topic);
    try {
      await consumer.subscribeLite("chat-a");
      await consumer.subscribeLite("chat-b");
      for (let i = 0; i < 5; i++) {
        for (const lite of ["chat-a", "chat-b", "chat-c"]) await sendLite(topic, lite, `${lite}:${i}`);
      }
      await until("10 messages", () => got.length >= 10);
      await new Promise((r) => setTimeout(r, 1000));
      assert.equal(got.length, 10, "chat-c is not followed: none of its messages");
      for (const lite of ["chat-a", "chat-b"]) {
        const mine = got.filter((m) => m.liteTopic === lite);
        assert.deepEqual(
          mine.map((m) => m.body),
          [0, 1, 2, 3, 4].map((i) => `${lite}:${i}`),
          `${lite} arrives whole and in order`,
        );
      }
      for (const m of got) {
        assert.equal(m.topic, topic, "the message names its parent topic");
        assert.equal(m.attempt, 1);
      }
    } finally {
      await consumer.close();
    }
  },
);

test(
  "following a lite topic with MIN_OFFSET reaches its backlog; unfollowing stops it",
  { timeout: 60_000 },
  async () => {
    const topic = parent();
    for (let i = 0; i < 3; i++) await sendLite(topic, "backlog", `old-${i}`);
    const { consumer, got } = await startLiteConsumer(uniq("GID_lite"), topic);
    try {
      await consumer.subscribeLite("backlog", client.OffsetOption.MAX_OFFSET);
      await consumer.subscribeLite("live");
      await sendLite(topic, "backlog", "new-0");
      await until("the message sent after following with MAX_OFFSET", () => got.length >= 1);
      assert.deepEqual(
        got.map((m) => m.body),
        ["new-0"],
        "MAX_OFFSET skips what was there before",
      );
      await consumer.unsubscribeLite("backlog");
      await consumer.subscribeLite("backlog", client.OffsetOption.MIN_OFFSET);
      await until("the backlog from the first message", () => got.length >= 5);
      assert.deepEqual(
        got.slice(1).map((m) => m.body),
        ["old-0", "old-1", "old-2", "new-0"],
      );
      for (let i = 0; i < 5; i++) await sendLite(topic, "tail", `tail-${i}`);
      await consumer.subscribeLite("tail", client.OffsetOption.ofTailN(2));
      await until("the last two of five", () => got.filter((m) => m.liteTopic === "tail").length >= 2);
      await new Promise((r) => setTimeout(r, 500));
      assert.deepEqual(
        got.filter((m) => m.liteTopic === "tail").map((m) => m.body),
        ["tail-3", "tail-4"],
        "ofTailN(2): the last two",
      );
      await consumer.unsubscribeLite("tail");
      await consumer.unsubscribeLite("backlog");
      assert.deepEqual([...consumer.getLiteTopicSet()], ["live"]);
      await sendLite(topic, "backlog", "after-unfollow");
      await sendLite(topic, "live", "live-0");
      await until("the followed lite topic's message", () => got.some((m) => m.body === "live-0"));
      await new Promise((r) => setTimeout(r, 1000));
      assert.ok(!got.some((m) => m.body === "after-unfollow"), "an unfollowed lite topic delivers nothing");
    } finally {
      await consumer.close();
    }
  },
);

test(
  "a failed message is retried in place; a suspended one comes back without using an attempt",
  { timeout: 60_000 },
  async () => {
    const topic = parent();
    let failOnce = true;
    let suspendOnce = true;
    const { consumer, got } = await startLiteConsumer(uniq("GID_lite"), topic, (m) => {
      if (m.body === "fails" && failOnce) {
        failOnce = false;
        return client.ConsumeResult.FAILURE;
      }
      if (m.body === "suspends" && suspendOnce) {
        suspendOnce = false;
        return client.ConsumeResultSuspend.of(300);
      }
      return client.ConsumeResult.SUCCESS;
    });
    try {
      await consumer.subscribeLite("retry");
      await consumer.subscribeLite("pause");
      await sendLite(topic, "retry", "fails");
      await sendLite(topic, "retry", "after-fail");
      await sendLite(topic, "pause", "suspends");
      await sendLite(topic, "pause", "after-suspend");
      await until("all four, with the retry and the suspended one twice", () => got.length >= 6);
      const retry = got.filter((m) => m.liteTopic === "retry");
      assert.deepEqual(
        retry.map((m) => [m.body, m.attempt]),
        [
          ["fails", 1],
          ["fails", 2],
          ["after-fail", 1],
        ],
        "the failed message is retried before the next one of its lite topic",
      );
      const pause = got.filter((m) => m.liteTopic === "pause");
      assert.deepEqual(
        pause.map((m) => [m.body, m.attempt]),
        [
          ["suspends", 1],
          ["suspends", 1],
          ["after-suspend", 1],
        ],
        "a suspension is not an attempt, and order holds",
      );
      await new Promise((r) => setTimeout(r, 1000));
      assert.equal(got.length, 6, "acked messages do not come back");
    } finally {
      await consumer.close();
    }
  },
);

test("two clients of one group each get only what they follow", { timeout: 60_000 }, async () => {
  const topic = parent();
  const group = uniq("GID_lite");
  const one = await startLiteConsumer(group, topic);
  const two = await startLiteConsumer(group, topic);
  try {
    await one.consumer.subscribeLite("agent-1");
    await two.consumer.subscribeLite("agent-2");
    for (let i = 0; i < 3; i++) {
      await sendLite(topic, "agent-1", `to-1:${i}`);
      await sendLite(topic, "agent-2", `to-2:${i}`);
    }
    await until("both clients' messages", () => one.got.length >= 3 && two.got.length >= 3);
    assert.deepEqual(
      one.got.map((m) => m.body),
      ["to-1:0", "to-1:1", "to-1:2"],
    );
    assert.deepEqual(
      two.got.map((m) => m.body),
      ["to-2:0", "to-2:1", "to-2:2"],
    );
  } finally {
    await one.consumer.close();
    await two.consumer.close();
  }
});

test(
  "bad lite topics and conflicting types are refused with the protocol's codes",
  { timeout: 30_000 },
  async () => {
    const topic = parent();
    const raw = new RawClient(env.b.grpcAddr);
    try {
      const send = (systemProperties: Record<string, unknown>) =>
        raw.unary("SendMessage", {
          messages: [
            {
              topic: { name: topic },
              body: Buffer.from("x"),
              systemProperties: { messageId: uniq("id"), ...systemProperties },
            },
          ],
        }) as Promise<{ status: { code: string } }>;
      for (const bad of ["has space", "dollar$", "x".repeat(65), "   "]) {
        const r = await send({ messageType: "LITE", liteTopic: bad });
        assert.equal(
          r.status.code,
          "ILLEGAL_LITE_TOPIC",
          `lite topic ${JSON.stringify(bad)}: ILLEGAL_LITE_TOPIC`,
        );
      }
      const fifo = await send({ messageType: "LITE", liteTopic: "ok", messageGroup: "g" });
      assert.equal(fifo.status.code, "MESSAGE_PROPERTY_CONFLICT_WITH_TYPE", "lite with a message group");
      const ok = await send({ messageType: "LITE", liteTopic: "ok" });
      assert.equal(ok.status.code, "OK");
      const normalTopic = uniq("Typed");
      env.b.server.broker.createTopic({
        ...topicConfig(normalTopic, 1),
        attributes: { "message.type": "NORMAL" },
      });
      const typed = (await raw.unary("SendMessage", {
        messages: [
          {
            topic: { name: normalTopic },
            body: Buffer.from("x"),
            systemProperties: { messageId: uniq("id"), messageType: "LITE", liteTopic: "ok" },
          },
        ],
      })) as { status: { code: string } };
      assert.equal(
        typed.status.code,
        "MESSAGE_PROPERTY_CONFLICT_WITH_TYPE",
        "a topic typed NORMAL takes no lite message",
      );
      const sync = (await raw.unary("SyncLiteSubscription", {
        action: "PARTIAL_ADD",
        topic: { name: topic },
        group: { name: "GID_raw" },
        liteTopicSet: ["a@b"],
      })) as { status: { code: string } };
      assert.equal(sync.status.code, "ILLEGAL_LITE_TOPIC", "subscribing to a bad lite topic name");
    } finally {
      raw.close();
    }
  },
);

test(
  "a LiteSimpleConsumer (raw) receives only the lite topics it follows and acks by lite topic",
  { timeout: 30_000 },
  async () => {
    const topic = parent();
    const group = uniq("GID_lite_simple");
    const raw = new RawClient(env.b.grpcAddr);
    interface Frame {
      status?: { code?: string };
      settings?: { subscription?: { liteSubscriptionQuota?: number; maxLiteTopicSize?: number } };
    }
    const t = raw.telemetry<Frame>();
    try {
      t.stream.write(RawClient.consumerSettings("LITE_SIMPLE_CONSUMER", group, topic));
      await until("the settings answer", () => t.frames.length >= 1);
      assert.equal(t.frames[0]!.status?.code, "OK");
      assert.equal(t.frames[0]!.settings?.subscription?.liteSubscriptionQuota, 2000);
      assert.equal(t.frames[0]!.settings?.subscription?.maxLiteTopicSize, 64);
      await sendLite(topic, "mine", "for-me");
      await sendLite(topic, "theirs", "not-for-me");
      const sync = await raw.unary("SyncLiteSubscription", {
        action: "PARTIAL_ADD",
        topic: { name: topic },
        group: { name: group },
        liteTopicSet: ["mine"],
        offsetOption: { policy: "MIN" },
      });
      assert.equal(sync.status?.code, "OK");
      type Delivered = {
        message?: { body: Buffer; systemProperties: { liteTopic?: string; receiptHandle?: string } };
      };
      const frames = await raw.stream<Delivered & { status?: { code?: string } }>("ReceiveMessage", {
        group: { name: group },
        messageQueue: { topic: { name: topic }, id: 0 },
        filterExpression: { type: "TAG", expression: "*" },
        batchSize: 16,
        invisibleDuration: { seconds: 10 },
        longPollingTimeout: { seconds: 2 },
      });
      const got = frames.filter((f) => f.message);
      assert.deepEqual(
        got.map((f) => [f.message!.body.toString(), f.message!.systemProperties.liteTopic]),
        [["for-me", "mine"]],
      );
      const ack = await raw.unary("AckMessage", {
        group: { name: group },
        topic: { name: topic },
        entries: [
          {
            messageId: "x",
            receiptHandle: got[0]!.message!.systemProperties.receiptHandle,
            liteTopic: "mine",
          },
        ],
      });
      assert.equal(ack.status?.code, "OK");
    } finally {
      t.stream.end();
      raw.close();
    }
  },
);

test(
  "after a broker restart a lite consumer gets its lite topics again at once",
  { timeout: 90_000 },
  async (t) => {
    // Its own broker on a fixed port and data dir, restarted in place; the clients reconnect by themselves.
    const dir = tempDir("rmq-lite-restart-");
    const port = await freePort();
    let b = await startBroker({ grpcPort: port }, dir.dir);
    const topic = "RestartParent";
    const producer = new client.Producer({ endpoints: b.grpcAddr, namespace: "", logger: quietLogger });
    await producer.startup();
    const got: string[] = [];
    const consumer = await new client.LitePushConsumerBuilder()
      .setClientConfiguration({ endpoints: b.grpcAddr, namespace: "", logger: quietLogger })
      .setConsumerGroup(uniq("GID_lite_restart"))
      .bindTopic(topic)
      .setMessageListener({
        consume: (m) => {
          got.push(m.body.toString());
          return client.ConsumeResult.SUCCESS;
        },
      })
      .build();
    t.after(async () => {
      await consumer.close();
      await producer.shutdown();
      await b.stop();
      dir.cleanup();
    });
    await consumer.subscribeLite("s1");
    await producer.send({ topic, liteTopic: "s1", body: Buffer.from("before") });
    await until("the message before the restart", () => got.length >= 1);
    await b.stop();
    b = await startBroker({ grpcPort: port }, dir.dir);
    const restartedAt = Date.now();
    for (;;) {
      try {
        await producer.send({ topic, liteTopic: "s1", body: Buffer.from("after") });
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    await until("the message after the restart", () => got.includes("after"), 20_000);
    assert.ok(
      Date.now() - restartedAt < 10_000,
      `${Date.now() - restartedAt} ms: well before the client's 30 s re-sync`,
    );
    assert.deepEqual(got, ["before", "after"], "nothing consumed twice");
  },
);
