// Our SDK with a master and its slave: with the master gone from the route, a consumer group reads from the slave,
// starting at the offsets it committed on the master (copied to the slave) and committing further ones there.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Consumer } from "../../src/client/consumer.js";
import { Message } from "../../src/client/message.js";
import { Producer } from "../../src/client/producer.js";
import { topicConfig } from "../../src/common/topic.js";
import type { BrokerConfig } from "../../src/broker/broker-config.js";
import { startBroker } from "../support/broker-fixture.js";
import { Collector, clientOpts, startNamesrvs, uniq, waitFor } from "./helpers.js";

const FAST: Partial<BrokerConfig> = {
  brokerName: "broker-sdk-ha",
  registerIntervalMs: 200,
  haHeartbeatIntervalMs: 200,
  haReconnectMs: 200,
  slaveSyncIntervalMs: 200,
};

test("SDK consumer: with the master gone, the group goes on from the slave at its committed offsets", async (t) => {
  const [ns] = await startNamesrvs(1);
  const c = { nameServer: [`127.0.0.1:${ns!.port}`] };
  const master = await startBroker({ ...FAST, namesrvAddrs: c.nameServer });
  const slave = await startBroker({ ...FAST, brokerId: 1, namesrvAddrs: c.nameServer });
  let masterUp = true;
  const topic = uniq("SLAVE_T");
  const group = uniq("GID");
  master.server.broker.createTopic(topicConfig(topic, 4));
  const quick = { pollNameServerIntervalMs: 200, heartbeatIntervalMs: 200 };
  const producer = new Producer({ ...clientOpts(c, uniq("PID")), ...quick });
  const consumerOpts = {
    ...clientOpts(c, group),
    ...quick,
    consumeFromWhere: "FIRST" as const,
    rebalanceIntervalMs: 200,
    persistOffsetIntervalMs: 100,
  };
  const first = new Consumer(consumerOpts);
  const second = new Consumer(consumerOpts);
  t.after(async () => {
    await first.shutdown();
    await second.shutdown();
    await producer.shutdown();
    await slave.stop();
    if (masterUp) await master.stop();
    await ns!.stop();
  });
  await producer.start();
  for (let i = 0; i < 30; i++) await producer.send(new Message(topic, "T", `a-${i}`));
  const a = new Collector();
  first.subscribe(topic, "*", a.listener);
  await first.start();
  await a.waitCount(30);
  await first.shutdown();
  const committed = (b: typeof master) =>
    [0, 1, 2, 3].reduce((n, q) => n + Math.max(0, b.server.broker.offsets.query(group, topic, q)), 0);
  await waitFor(() => committed(master) === 30, 5000, "offsets on the master");

  for (let i = 0; i < 20; i++) await producer.send(new Message(topic, "T", `b-${i}`));
  const m = master.server.broker;
  const s = slave.server.broker;
  await waitFor(
    () => s.store.stats().maxPhyOffset === m.store.stats().maxPhyOffset,
    5000,
    "the slave caught up",
  );
  await waitFor(() => committed(slave) === 30, 5000, "offsets on the slave");
  await master.stop();
  masterUp = false;

  const b = new Collector();
  second.subscribe(topic, "*", b.listener);
  await second.start();
  await b.waitCount(20, 15_000);
  await new Promise((r) => setTimeout(r, 300));
  assert.deepEqual(
    b.bodies().sort(),
    Array.from({ length: 20 }, (_, i) => `b-${i}`).sort(),
    "the unconsumed 20 from the slave, once each",
  );
  await waitFor(() => committed(slave) === 50, 5000, "the new offsets committed to the slave");
});
