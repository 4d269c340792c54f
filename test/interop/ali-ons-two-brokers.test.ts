// Two brokers behind one NameServer, driven by real ali-ons 3.12.0 clients: the producer spreads a topic's sends
// over both brokers' queues, a group of two consumers gets every message once between them, and a failed message
// is retried through the broker that holds it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createNamesrv } from "../../src/namesrv/namesrv.js";
import { topicConfig } from "../../src/common/topic.js";
import { FAST_DELAY_LEVELS } from "../support/cluster-fixture.js";
import { startBroker } from "../support/broker-fixture.js";
import { closeClients, common, consumer, ons, until } from "./ali-ons-kit.js";
import type { OnsMessage } from "./ali-ons.js";

const TOPIC = "TP_TWO";

test("ali-ons with two brokers: sends spread over both, a group gets everything once, a retry comes back", async (t) => {
  const ns = createNamesrv({ host: "127.0.0.1", port: 0, autoCreateQueueNums: 4 });
  await ns.start();
  const nsAddr = `127.0.0.1:${ns.port}`;
  const brokers = await Promise.all(
    ["broker-a", "broker-b"].map((brokerName) =>
      startBroker({
        brokerName,
        namesrvAddrs: [nsAddr],
        registerIntervalMs: 300,
        messageDelayLevel: FAST_DELAY_LEVELS,
      }),
    ),
  );
  for (const b of brokers) b.server.broker.createTopic(topicConfig(TOPIC, 4));
  const producer = new ons.Producer({ ...common(nsAddr), producerGroup: "PID_TWO", instanceName: "two-p" });
  const c1 = consumer(nsAddr, "GID_TWO", "two-c1");
  const c2 = consumer(nsAddr, "GID_TWO", "two-c2");
  t.after(async () => {
    await closeClients(c1, c2, producer);
    for (const b of brokers) await b.stop();
    await ns.stop();
  });
  await until(
    () => ns.registry.getTopicRoute(TOPIC)?.brokerDatas.length === 2,
    10_000,
    "both brokers in the topic's route",
  );

  const got: { c: string; m: OnsMessage }[] = [];
  let failedOnce = false;
  for (const [name, c] of [
    ["c1", c1],
    ["c2", c2],
  ] as const) {
    c.subscribe(TOPIC, "*", async (m) => {
      got.push({ c: name, m });
      if (m.body.toString() === "m-7" && !failedOnce) {
        failedOnce = true;
        throw new Error("listener failure");
      }
    });
    await c.ready();
  }
  await producer.ready();

  const byBroker = new Map<string, number>();
  const bodies = Array.from({ length: 40 }, (_, i) => `m-${i}`);
  for (const body of bodies) {
    const r = (await producer.send(new ons.Message(TOPIC, "T", body))) as unknown as {
      sendStatus: string;
      messageQueue: { brokerName: string };
    };
    assert.equal(r.sendStatus, "SEND_OK");
    byBroker.set(r.messageQueue.brokerName, (byBroker.get(r.messageQueue.brokerName) ?? 0) + 1);
  }
  assert.deepEqual([...byBroker.keys()].sort(), ["broker-a", "broker-b"], "sends went to both brokers");
  for (const b of brokers) {
    const stored = [0, 1, 2, 3].reduce((n, q) => n + b.server.broker.store.getMaxOffset(TOPIC, q), 0);
    assert.equal(
      stored,
      byBroker.get(b.server.broker.config.brokerName),
      `${b.server.broker.config.brokerName} holds its share`,
    );
  }

  await until(
    () => bodies.every((b) => got.some((g) => g.m.body.toString() === b && g.m.reconsumeTimes === 0)),
    20_000,
    "every message at a consumer",
  );
  await until(
    () => got.some((g) => g.m.body.toString() === "m-7" && g.m.reconsumeTimes === 1),
    20_000,
    "the retried message",
  );
  await new Promise((r) => setTimeout(r, 500));
  const firsts = got.filter((g) => g.m.reconsumeTimes === 0).map((g) => g.m.body.toString());
  assert.deepEqual(firsts.sort(), [...bodies].sort(), "each message delivered once on its first pass");
  assert.ok(new Set(got.map((g) => g.c)).size === 2, "both consumers took part");
  const retried = got.filter((g) => g.m.reconsumeTimes > 0);
  assert.deepEqual(
    retried.map((g) => g.m.body.toString()),
    ["m-7"],
  );
  assert.equal(retried[0]!.m.topic, TOPIC);
});
