// SQL92 subscriptions (the broker filters by message properties; a malformed expression is refused when the
// consumer starts or subscribes) and delay levels (DELAY property; delivered no earlier than the level's delay).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { Consumer, Message, MessageSelector, MQClientError, Producer } from "../../src/client/index.js";
import { Collector, clientOpts, createTopic, sleep, startCluster, uniq, waitFor } from "./helpers.js";
import type { Cluster } from "./helpers.js";

let c: Cluster;
let producer: Producer;

before(async () => {
  // Level 1 = 300 ms, level 2 = 1.5 s.
  c = await startCluster({ broker: { messageDelayLevel: "300ms 1500ms 3s" } });
  producer = new Producer(clientOpts(c, uniq("PID")));
  await producer.start();
});

after(async () => {
  await producer.shutdown();
  await c.stop();
});

const REGIONS = ["hz", "sh", "bj"];

test("an SQL92 subscription receives exactly the matching messages", { timeout: 30_000 }, async () => {
  const topic = uniq("T_sql");
  await createTopic(c, topic);
  const viaObject = new Collector();
  const viaSelector = new Collector();
  const a = new Consumer({ ...clientOpts(c, uniq("GID_sql")), consumeFromWhere: "FIRST" });
  a.subscribe(topic, { sql: "a > 5 AND region IN ('hz','sh')" }, viaObject.listener);
  const b = new Consumer({ ...clientOpts(c, uniq("GID_sql")), consumeFromWhere: "FIRST" });
  b.subscribe(topic, MessageSelector.bySql("TAGS = 'TagB' OR region IS NULL"), viaSelector.listener);
  await a.start();
  await b.start();
  try {
    const expectA: string[] = [];
    const expectB: string[] = [];
    for (let i = 0; i < 12; i++) {
      const region = REGIONS[i % 3]!;
      const tag = i % 4 === 0 ? "TagB" : "TagA";
      const m = new Message(topic, tag, `m${i}`);
      m.putUserProperty("a", String(i));
      if (i !== 7) m.putUserProperty("region", region);
      await producer.send(m);
      if (i > 5 && i !== 7 && (region === "hz" || region === "sh")) expectA.push(`m${i}`);
      if (tag === "TagB" || i === 7) expectB.push(`m${i}`);
    }
    await viaObject.waitCount(expectA.length);
    await viaSelector.waitCount(expectB.length);
    await sleep(500);
    assert.deepEqual(viaObject.bodies().sort(), expectA.sort());
    assert.deepEqual(viaSelector.bodies().sort(), expectB.sort());
  } finally {
    await a.shutdown();
    await b.shutdown();
  }
});

test("a malformed SQL92 expression is refused at start, with its position", { timeout: 30_000 }, async () => {
  const topic = uniq("T_sqlbad");
  await createTopic(c, topic);
  const bad = new Consumer(clientOpts(c, uniq("GID_sqlbad")));
  bad.subscribe(topic, { sql: "a > AND region = 'hz'" }, () => undefined);
  const err = await bad.start().then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(err instanceof MQClientError, `an MQClientError, got ${String(err)}`);
  assert.equal(err.responseCode, 23, "SUBSCRIPTION_PARSE_FAILED");
  assert.match(err.message, /position \d+/);
  await bad.shutdown();

  // The shared client is not poisoned: a consumer of the same process still works afterwards.
  const good = new Collector();
  const ok = new Consumer({ ...clientOpts(c, uniq("GID_sqlgood")), consumeFromWhere: "FIRST" });
  ok.subscribe(topic, { sql: "a = 1" }, good.listener);
  await ok.start();
  try {
    // On a running consumer, subscribeAsync reports the refusal and leaves the old subscription in place.
    await assert.rejects(
      ok.subscribeAsync(topic, MessageSelector.bySql("a = = 1"), () => undefined),
      (e: unknown) => e instanceof MQClientError && e.responseCode === 23,
    );
    const m1 = new Message(topic, "T", "one");
    m1.putUserProperty("a", "1");
    const m2 = new Message(topic, "T", "two");
    m2.putUserProperty("a", "2");
    await producer.send(m2);
    await producer.send(m1);
    await good.waitCount(1);
    await sleep(300);
    assert.deepEqual(good.bodies(), ["one"]);
  } finally {
    await ok.shutdown();
  }
  assert.throws(() => MessageSelector.bySql(" "), MQClientError);
});

test("a delay level is delivered no earlier than its delay", { timeout: 30_000 }, async () => {
  const topic = uniq("T_delay");
  await createTopic(c, topic);
  const got = new Collector();
  const consumer = new Consumer({ ...clientOpts(c, uniq("GID_delay")), consumeFromWhere: "FIRST" });
  consumer.subscribe(topic, "*", got.listener);
  await consumer.start();
  try {
    await waitFor(() => consumer.assignedQueues().length >= 4, 5000, "queues");
    const now = new Message(topic, "D", "now");
    const late = new Message(topic, "D", "level2");
    late.delayTimeLevel = 2;
    const sentAt = performance.now();
    await producer.send(late);
    await producer.send(now);
    await got.waitCount(2, 10_000);
    const at = (body: string) => got.times[got.bodies().indexOf(body)]! - sentAt;
    assert.ok(at("now") < 1000, `undelayed message came at ${at("now")} ms`);
    assert.ok(at("level2") >= 1500, `level 2 (1.5 s) came at ${at("level2")} ms`);
    assert.ok(at("level2") < 6000, `level 2 came at ${at("level2")} ms`);
    const m = got.messages.find((x) => x.body.toString() === "level2")!;
    assert.equal(m.topic, topic);
    assert.equal(m.systemProperties.has("DELAY"), false, "the broker clears DELAY on delivery");
  } finally {
    await consumer.shutdown();
  }
});
