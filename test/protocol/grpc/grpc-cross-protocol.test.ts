// One store, two protocols: what the official 5.x client sends over gRPC is consumed by our remoting SDK with the
// same message id, tag, keys and properties, and what the SDK sends over remoting (compressed bodies included)
// is received over gRPC with them.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { Consumer, Message, Producer } from "../../../src/client/index.js";
import { Collector, clientOpts, createTopic, startCluster, uniq } from "../../client/helpers.js";
import type { Cluster } from "../../client/helpers.js";
import { quietLogger, rocketmqClient } from "../../support/rocketmq-client.js";

const { client } = rocketmqClient();
let c: Cluster;

before(async () => {
  c = await startCluster();
});

after(async () => {
  await c.stop();
});

test("sent over gRPC, consumed over remoting", { timeout: 60_000 }, async () => {
  const topic = uniq("T_g2r");
  await createTopic(c, topic);
  const producer = new client.Producer({
    endpoints: c.broker.grpcAddr,
    namespace: "",
    topic,
    logger: quietLogger,
  });
  const received = new Collector();
  const consumer = new Consumer({ ...clientOpts(c, uniq("GID_g2r")), consumeFromWhere: "FIRST" });
  consumer.subscribe(topic, "TagA", received.listener);
  await producer.startup();
  await consumer.start();
  try {
    const r1 = await producer.send({
      topic,
      tag: "TagA",
      keys: ["order-1"],
      properties: new Map([["region", "hz"]]),
      body: Buffer.from("from grpc"),
    });
    await producer.send({ topic, tag: "TagB", body: Buffer.from("filtered out") });
    await received.waitCount(1, 30_000);
    const m = received.messages[0]!;
    assert.equal(m.messageId, r1.messageId);
    assert.equal(m.body.toString(), "from grpc");
    assert.equal(m.tag, "TagA");
    assert.deepEqual(m.keys, ["order-1"]);
    assert.equal(m.properties.get("region"), "hz");
    await new Promise((r) => setTimeout(r, 500));
    assert.deepEqual(received.bodies(), ["from grpc"]);
  } finally {
    await consumer.shutdown();
    await producer.shutdown();
  }
});

test("sent over remoting (compressed too), received over gRPC", { timeout: 60_000 }, async () => {
  const topic = uniq("T_r2g");
  await createTopic(c, topic);
  const producer = new Producer({ ...clientOpts(c, uniq("PID_r2g")), compressOverBytes: 100 });
  const consumer = new client.SimpleConsumer({
    endpoints: c.broker.grpcAddr,
    namespace: "",
    consumerGroup: uniq("GID_r2g"),
    subscriptions: new Map([[topic, "*"]]),
    awaitDuration: 2000,
    logger: quietLogger,
  });
  await producer.start();
  await consumer.startup();
  try {
    const msg = new Message(topic, "TagR", "from remoting");
    msg.keys = ["k-1", "k-2"];
    msg.properties = { region: "sh" };
    const sent = await producer.send(msg);
    const big = "z".repeat(5000);
    const sentBig = await producer.send(new Message(topic, "TagR", big));
    const got = [];
    const deadline = Date.now() + 30_000;
    while (got.length < 2 && Date.now() < deadline) got.push(...(await consumer.receive(16, 15_000)));
    assert.equal(got.length, 2);
    const small = got.find((m) => m.messageId === sent.messageId);
    assert.ok(small, "the remoting message id is what gRPC consumers see");
    assert.equal(small.body.toString(), "from remoting");
    assert.equal(small.tag, "TagR");
    assert.deepEqual(small.keys, ["k-1", "k-2"]);
    assert.equal(small.properties.get("region"), "sh");
    assert.equal(small.deliveryAttempt, 1);
    assert.notEqual(small.corrupted, true, "the body digest matches");
    const large = got.find((m) => m.messageId === sentBig.messageId);
    assert.equal(large?.body.toString(), big, "a compressed body arrives inflated");
    for (const m of got) await consumer.ack(m);
  } finally {
    await consumer.shutdown();
    await producer.shutdown();
  }
});
