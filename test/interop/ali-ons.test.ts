// Interop with the real ali-ons 3.12.0 client (remoting), against our NameServer and broker in-process.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { createHash } from "node:crypto";
import type { OnsMessage } from "./ali-ons.js";
import type { HttpSdk, HttpSdkMessage } from "./mq-http-sdk.js";
import { FAST_DELAY_LEVELS, startCluster } from "../support/cluster-fixture.js";
import { receiveN, startSimpleConsumer } from "../support/rocketmq-client.js";
import { Action, Consumer } from "../../src/client/consumer.js";
import { SysFlag } from "../../src/common/message-record.js";
import { findById, viewOf } from "../../src/broker/ops/message-lookup.js";
import { common, consumer, ons, teardown, until } from "./ali-ons-kit.js";

const require = createRequire(import.meta.url);
const httpSdk = require("@aliyunmq/mq-http-sdk") as HttpSdk;

test("ali-ons: produce, 'TagA || TagB' filter, keys and properties, msgId, retry with reconsumeTimes 1", async (t) => {
  const cluster = await startCluster({ messageDelayLevel: FAST_DELAY_LEVELS });
  const producer = new ons.Producer({ ...common(cluster.namesrvAddr), producerGroup: "PID_IT" });
  const c = consumer(cluster.namesrvAddr, "GID_IT", "c1");
  t.after(() => teardown(cluster, c, producer));
  await producer.ready();
  const got: OnsMessage[] = [];
  let failed = false;
  c.subscribe("TP_IT", "TagA || TagB", async (m) => {
    got.push(m);
    if (m.body.toString() === "fail" && !failed) {
      failed = true;
      throw new Error("listener failure");
    }
  });
  await c.ready();
  const sent = new Map<string, string>();
  for (const [tag, body] of [
    ["TagA", "a"],
    ["TagB", "b"],
    ["TagC", "c"],
    ["TagA", "fail"],
  ] as const) {
    const m = new ons.Message("TP_IT", tag, body);
    m.keys = [`key-${body}`];
    m.properties["color"] = "绿";
    const r = await producer.send(m);
    assert.equal(r.sendStatus, "SEND_OK");
    sent.set(body, r.msgId);
  }
  await until(
    () => got.filter((m) => m.body.toString() === "fail").length >= 2,
    15_000,
    "the retried message",
  );
  await new Promise((r) => setTimeout(r, 300));
  const firstPass = got.filter((m) => m.reconsumeTimes === 0);
  assert.deepEqual(
    firstPass.map((m) => m.body.toString()).sort(),
    ["a", "b", "fail"],
    "exactly the TagA and TagB messages",
  );
  for (const m of firstPass) {
    assert.equal(m.msgId, sent.get(m.body.toString()), "the consumer sees the msgId the send returned");
    assert.equal(m.properties["color"], "绿");
    assert.equal(String(m.keys), `key-${m.body.toString()}`);
  }
  const retried = got.filter((m) => m.reconsumeTimes > 0);
  assert.equal(retried.length, 1);
  assert.equal(retried[0]!.body.toString(), "fail");
  assert.equal(retried[0]!.reconsumeTimes, 1);
  assert.equal(retried[0]!.topic, "TP_IT");
});

test("ali-ons on a topic nobody created: the consumer that subscribed first polls only the queues its first send creates", async (t) => {
  // The NameServer guesses an unknown topic's route; ali-ons (like Java) asks the broker for 4 queues on the first
  // send. When the guess said 8, the early consumer pulled queues 4..7 and got "out of range" until its route
  // refreshed, and the producer sent to queues its first route had and the topic never got.
  const cluster = await startCluster();
  const producer = new ons.Producer({ ...common(cluster.namesrvAddr), producerGroup: "PID_FRESH" });
  // ali-ons's own route refresh (30 s), so the route the consumer started with is the one it pulls with.
  const c = consumer(cluster.namesrvAddr, "GID_FRESH", "c1", { pollNameServerInteval: 30_000 });
  t.after(() => teardown(cluster, c, producer));
  const errors: string[] = [];
  c.on("error", (e) => errors.push(e.message));
  const got = new Set<string>();
  c.subscribe("TP_FRESH", "*", async (m) => {
    got.add(m.body.toString());
  });
  await c.ready();
  await new Promise((r) => setTimeout(r, 1000));
  await producer.ready();
  const queues = new Set<number>();
  for (let i = 0; i < 20; i++) {
    const r = await producer.send(new ons.Message("TP_FRESH", "T", `m${i}`));
    assert.equal(r.sendStatus, "SEND_OK");
    queues.add(r.messageQueue.queueId);
  }
  await until(() => got.size === 20, 15_000, "all 20 messages");
  const tc = cluster.broker.server.broker.topics.get("TP_FRESH");
  assert.equal(tc?.writeQueueNums, 4);
  assert.equal(tc?.readQueueNums, 4);
  assert.ok(
    [...queues].every((q) => q < 4),
    `sent to queues ${[...queues].join(",")}`,
  );
  // (Pulls before the first send get "topic does not exist", as from RocketMQ's broker; none may name a queue the
  // topic does not have.)
  assert.deepEqual(
    errors.filter((m) => /out of range/i.test(m)),
    [],
  );
});

test("ali-ons: two clustering consumers share the queues and together get everything", async (t) => {
  const cluster = await startCluster();
  const producer = new ons.Producer({ ...common(cluster.namesrvAddr), producerGroup: "PID_SHARE" });
  const c1 = consumer(cluster.namesrvAddr, "GID_SHARE", "s1");
  const c2 = consumer(cluster.namesrvAddr, "GID_SHARE", "s2");
  t.after(() => teardown(cluster, c1, c2, producer));
  await producer.ready();
  const by1: string[] = [];
  const by2: string[] = [];
  c1.subscribe("TP_SHARE", "*", async (m) => void by1.push(m.body.toString()));
  c2.subscribe("TP_SHARE", "*", async (m) => void by2.push(m.body.toString()));
  await Promise.all([c1.ready(), c2.ready()]);
  // Let both see each other before sending, so the split is steady.
  await until(
    () => cluster.broker.server.broker.consumerIds("GID_SHARE").length === 2,
    5000,
    "both consumers",
  );
  await new Promise((r) => setTimeout(r, 1500));
  const n = 80;
  for (let i = 0; i < n; i++) await producer.send(new ons.Message("TP_SHARE", "T", `m${i}`));
  await until(() => new Set([...by1, ...by2]).size === n, 15_000, "all messages");
  assert.ok(by1.length > 0 && by2.length > 0, `both consumers got a share (${by1.length} / ${by2.length})`);
  assert.equal(new Set([...by1, ...by2]).size, n);
});

test("ali-ons: two broadcasting consumers each get every message", async (t) => {
  const cluster = await startCluster();
  const producer = new ons.Producer({ ...common(cluster.namesrvAddr), producerGroup: "PID_BC" });
  const c1 = consumer(cluster.namesrvAddr, "GID_BC", "b1", { isBroadcast: true });
  const c2 = consumer(cluster.namesrvAddr, "GID_BC", "b2", { isBroadcast: true });
  t.after(() => teardown(cluster, c1, c2, producer));
  await producer.ready();
  const by1 = new Set<string>();
  const by2 = new Set<string>();
  c1.subscribe("TP_BC", "*", async (m) => void by1.add(m.body.toString()));
  c2.subscribe("TP_BC", "*", async (m) => void by2.add(m.body.toString()));
  await Promise.all([c1.ready(), c2.ready()]);
  await new Promise((r) => setTimeout(r, 1000));
  const n = 30;
  for (let i = 0; i < n; i++) await producer.send(new ons.Message("TP_BC", "T", `b${i}`));
  await until(() => by1.size === n && by2.size === n, 15_000, "both consumers to get everything");
});

test("ali-ons: a DELAY level message is invisible until its delay has passed, then arrives on its topic", async (t) => {
  // Level 2 waits 600 ms here (the schedule is shortened through the broker's messageDelayLevel).
  const cluster = await startCluster({
    messageDelayLevel: "100ms 600ms 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s",
  });
  const producer = new ons.Producer({ ...common(cluster.namesrvAddr), producerGroup: "PID_DELAY" });
  const c = consumer(cluster.namesrvAddr, "GID_DELAY", "d1");
  t.after(() => teardown(cluster, c, producer));
  await producer.ready();
  const got: { body: string; at: number; topic: string }[] = [];
  c.subscribe(
    "TP_DELAY",
    "*",
    async (m) => void got.push({ body: m.body.toString(), at: Date.now(), topic: m.topic }),
  );
  await c.ready();
  const m = new ons.Message("TP_DELAY", "T", "later");
  m.delayTimeLevel = 2;
  const sentAt = Date.now();
  const r = await producer.send(m);
  assert.equal(r.sendStatus, "SEND_OK");
  await until(() => got.length === 1, 10_000, "the delayed message");
  assert.equal(got[0]!.body, "later");
  assert.equal(got[0]!.topic, "TP_DELAY");
  assert.ok(got[0]!.at - sentAt >= 600, `arrived ${got[0]!.at - sentAt} ms after the send`);
});

test("ali-ons: __STARTDELIVERTIME holds a message until its time, then delivers it with its id and keys", async (t) => {
  const cluster = await startCluster();
  const producer = new ons.Producer({ ...common(cluster.namesrvAddr), producerGroup: "PID_TIMED" });
  const c = consumer(cluster.namesrvAddr, "GID_TIMED", "t1");
  t.after(() => teardown(cluster, c, producer));
  await producer.ready();
  const got: { m: OnsMessage; at: number }[] = [];
  c.subscribe("TP_TIMED", "*", async (m) => void got.push({ m, at: Date.now() }));
  await c.ready();
  const due = Date.now() + 1200;
  const m = new ons.Message("TP_TIMED", "T", "timed");
  m.keys = ["tk"];
  m.setStartDeliverTime(due);
  const now = new ons.Message("TP_TIMED", "T", "now");
  await producer.send(m);
  await producer.send(now);
  await until(() => got.length === 2, 15_000, "both messages");
  assert.deepEqual(
    got.map((g) => g.m.body.toString()),
    ["now", "timed"],
    "the timed message comes after the one sent later without a time",
  );
  const timed = got[1]!;
  assert.ok(timed.at >= due, `delivered ${due - timed.at} ms early`);
  assert.equal(timed.m.topic, "TP_TIMED");
  assert.equal(String(timed.m.keys), "tk");
});

test(
  "ali-ons: a body over 4 KiB, which ali-ons deflates, reaches remoting, gRPC and HTTP consumers and the admin lookup as written",
  { timeout: 60_000 },
  async (t) => {
    const cluster = await startCluster({}, { http: {} });
    const producer = new ons.Producer({ ...common(cluster.namesrvAddr), producerGroup: "PID_ZIP" });
    const ours = new Consumer({ nameServer: cluster.namesrvAddr, groupId: "GID_ZIP_R" });
    const grpc = await startSimpleConsumer(cluster.broker.grpcAddr, "GID_ZIP_G", { TP_ZIP: "*" });
    t.after(async () => {
      await ours.shutdown();
      await grpc.shutdown();
      await teardown(cluster, producer);
    });
    const viaRemoting: string[] = [];
    ours.subscribe("TP_ZIP", "*", async (m) => {
      viaRemoting.push(m.body.toString());
      return Action.CommitMessage;
    });
    await ours.start();
    await producer.ready();
    // Text that deflates well but not to nothing: 10 KiB of numbered lines, with non-ASCII text.
    const text = Array.from({ length: 400 }, (_, i) => `line ${i}: 压缩 ✓\n`).join("");
    assert.ok(Buffer.byteLength(text) > 4096);
    const m = new ons.Message("TP_ZIP", "TagZ", Buffer.from(text));
    m.keys = ["zip-key"];
    const sent = await producer.send(m);
    assert.equal(sent.sendStatus, "SEND_OK");

    const stored = findById(cluster.broker.server.broker, sent.msgId, "TP_ZIP");
    assert.equal(stored.length, 1);
    assert.ok(stored[0]!.sysFlag & SysFlag.COMPRESSED, "ali-ons sent it compressed (the case under test)");
    assert.ok(stored[0]!.body.length < Buffer.byteLength(text));
    const view = viewOf(stored[0]!);
    assert.equal(view.body, text);
    assert.equal(view.bodySize, Buffer.byteLength(text));

    await until(() => viaRemoting.length >= 1, 15_000, "the remoting consumer");
    assert.deepEqual(viaRemoting, [text]);
    const viaGrpc = await receiveN(grpc, 1, 30_000);
    assert.equal(viaGrpc[0]?.body.toString(), text);
    await grpc.ack(viaGrpc[0]!);

    const http = new httpSdk.MQClient(`http://127.0.0.1:${cluster.broker.server.httpPort}`, "ak", "sk");
    const hc = http.getConsumer("", "TP_ZIP", "GID_ZIP_H");
    let viaHttp: HttpSdkMessage[] = [];
    const end = Date.now() + 10_000;
    while (viaHttp.length === 0 && Date.now() < end) {
      viaHttp = await hc.consumeMessage(1, 1).then(
        (r) => r.body,
        () => [],
      );
    }
    assert.equal(viaHttp[0]?.MessageBody, text);
    assert.equal(viaHttp[0]?.MessageBodyMD5, createHash("md5").update(text).digest("hex").toUpperCase());
  },
);
