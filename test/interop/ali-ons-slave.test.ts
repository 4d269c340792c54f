// A master and its slave behind one NameServer, driven by real ali-ons 3.12.0 clients: with the master gone from the
// route, consumers read from the slave, a group resumes at the offsets it committed on the master (copied to the
// slave), a new group gets the whole history, and producers have nowhere to send. A SYNC_MASTER's sends report
// SEND_OK while its slave confirms and SLAVE_NOT_AVAILABLE once it is gone.
import { test } from "node:test";
import type { TestContext } from "node:test";
import assert from "node:assert/strict";
import { createNamesrv } from "../../src/namesrv/namesrv.js";
import { topicConfig } from "../../src/common/topic.js";
import type { BrokerConfig } from "../../src/broker/broker-config.js";
import { startBroker } from "../support/broker-fixture.js";
import { closeClients, consumer, ons, producer as onsProducer, until } from "./ali-ons-kit.js";
import type { OnsConsumer } from "./ali-ons-kit.js";
import type { OnsMessage } from "./ali-ons.js";

const FAST: Partial<BrokerConfig> = {
  brokerName: "broker-ha",
  registerIntervalMs: 300,
  haHeartbeatIntervalMs: 200,
  haHousekeepingMs: 3000,
  haReconnectMs: 200,
  slaveSyncIntervalMs: 200,
};

function sumOffsets(get: (q: number) => number): number {
  return [0, 1, 2, 3].reduce((n, q) => n + Math.max(0, get(q)), 0);
}

type Started = Awaited<ReturnType<typeof startBroker>>;

/**
 * A NameServer, a master (with `masterConfig`) and its slave, `topic` created on the master (4 queues). After the
 * test: the clients pushed to `clients` close, then whichever broker `stop` has not stopped yet, then the NameServer.
 */
async function haPair(t: TestContext, topic: string, masterConfig: Partial<BrokerConfig> = {}) {
  const ns = createNamesrv({ host: "127.0.0.1", port: 0, autoCreateQueueNums: 4 });
  await ns.start();
  const nsAddr = `127.0.0.1:${ns.port}`;
  const master = await startBroker({ ...FAST, ...masterConfig, namesrvAddrs: [nsAddr] });
  const slave = await startBroker({ ...FAST, brokerId: 1, namesrvAddrs: [nsAddr] });
  master.server.broker.createTopic(topicConfig(topic, 4));
  const clients: { close(): Promise<void> }[] = [];
  const stopped = new Set<Started>();
  const stop = async (b: Started): Promise<void> => {
    if (stopped.has(b)) return;
    stopped.add(b);
    await b.stop();
  };
  t.after(async () => {
    await closeClients(...clients);
    await stop(slave);
    await stop(master);
    await ns.stop();
  });
  return { ns, nsAddr, master, slave, m: master.server.broker, s: slave.server.broker, clients, stop };
}

test("ali-ons reads from the slave when the master is gone, from the offsets it committed on the master", async (t) => {
  const TOPIC = "TP_HA";
  const { ns, nsAddr, master, slave, m, s, clients, stop } = await haPair(t, TOPIC);
  const producer = onsProducer(nsAddr, "PID_HA", "ha-p");
  clients.push(producer);
  await until(() => s.topics.get(TOPIC) !== undefined, 10_000, "the topic on the slave");
  await producer.ready();
  const send = async (body: string) => {
    const r = await producer.send(new ons.Message(TOPIC, "T", body));
    assert.equal(r.sendStatus, "SEND_OK");
  };

  // A first batch, consumed from the master by GID_HA, its offsets committed there.
  const first = Array.from({ length: 40 }, (_, i) => `first-${i}`);
  for (const b of first) await send(b);
  const got1: string[] = [];
  const c1 = consumer(nsAddr, "GID_HA", "ha-c1");
  clients.push(c1);
  c1.subscribe(TOPIC, "*", async (msg) => {
    got1.push(msg.body.toString());
  });
  await c1.ready();
  await until(() => first.every((b) => got1.includes(b)), 20_000, "the first batch at c1");
  await until(
    () => sumOffsets((q) => m.offsets.query("GID_HA", TOPIC, q)) === 40,
    10_000,
    "offsets on the master",
  );
  await c1.close();

  // A second batch nobody has consumed yet; the slave copies it and the group's offsets.
  const second = Array.from({ length: 30 }, (_, i) => `second-${i}`);
  for (const b of second) await send(b);
  await until(
    () => s.store.stats().maxPhyOffset === m.store.stats().maxPhyOffset,
    10_000,
    "the slave caught up",
  );
  await until(
    () => sumOffsets((q) => s.offsets.query("GID_HA", TOPIC, q)) === 40,
    10_000,
    "offsets on the slave",
  );

  // The master goes: its NameServer entry with it, the slave stays in the route.
  await stop(master);
  await until(
    () => {
      const addrs = ns.registry.getTopicRoute(TOPIC)?.brokerDatas[0]?.brokerAddrs ?? {};
      return addrs[0] === undefined && addrs[1] === slave.addr;
    },
    10_000,
    "a route with the slave only",
  );

  // The same group resumes on the slave: the second batch only, each message once.
  const got2: OnsMessage[] = [];
  const c2 = consumer(nsAddr, "GID_HA", "ha-c2");
  clients.push(c2);
  c2.subscribe(TOPIC, "*", async (msg) => {
    got2.push(msg);
  });
  await c2.ready();
  await until(
    () => second.every((b) => got2.some((g) => g.body.toString() === b)),
    30_000,
    "the second batch at c2",
  );
  // A new group gets the whole history from the slave.
  const got3: string[] = [];
  const c3: OnsConsumer = consumer(nsAddr, "GID_HA_NEW", "ha-c3");
  clients.push(c3);
  c3.subscribe(TOPIC, "*", async (msg) => {
    got3.push(msg.body.toString());
  });
  await c3.ready();
  await until(() => [...first, ...second].every((b) => got3.includes(b)), 30_000, "the whole history at c3");
  await new Promise((r) => setTimeout(r, 500));
  assert.deepEqual(
    got2.map((g) => g.body.toString()).sort(),
    [...second].sort(),
    "c2: the second batch, once",
  );
  assert.equal(got3.length, 70, "c3: every message once");
  // What c2 consumed was committed to the slave (there is no master to take it).
  await until(
    () => sumOffsets((q) => s.offsets.query("GID_HA", TOPIC, q)) === 70,
    10_000,
    "c2's offsets on the slave",
  );

  // No master: nowhere to send.
  await assert.rejects(producer.send(new ons.Message(TOPIC, "T", "lost?")));
  assert.equal(
    sumOffsets((q) => s.store.getMaxOffset(TOPIC, q)),
    70,
  );
});

test("ali-ons against a SYNC_MASTER: SEND_OK while its slave confirms, SLAVE_NOT_AVAILABLE once it is gone", async (t) => {
  const TOPIC = "TP_SYNC";
  const { nsAddr, slave, m, clients, stop } = await haPair(t, TOPIC, { brokerRole: "SYNC_MASTER" });
  const producer = onsProducer(nsAddr, "PID_SYNC", "sync-p");
  clients.push(producer);
  await until(() => m.slaveAcks.slaveCount === 1, 10_000, "the slave connected");
  await producer.ready();
  for (let i = 0; i < 10; i++) {
    const r = await producer.send(new ons.Message(TOPIC, "T", `s-${i}`));
    assert.equal(r.sendStatus, "SEND_OK");
  }
  await stop(slave);
  await until(() => m.slaveAcks.slaveCount === 0, 10_000, "the master saw its slave go");
  const r = await producer.send(new ons.Message(TOPIC, "T", "alone"));
  assert.equal(r.sendStatus, "SLAVE_NOT_AVAILABLE");
  assert.equal(
    sumOffsets((q) => m.store.getMaxOffset(TOPIC, q)),
    11,
    "stored all the same",
  );
});

test("ali-ons follows a master's suggestion to read from its slave (slaveReadEnable, consumer behind)", async (t) => {
  const TOPIC = "TP_SUGGEST";
  // A memory ratio of 0: every message but the newest counts as out of memory, so any consumer is "behind".
  const { nsAddr, m, s, clients } = await haPair(t, TOPIC, {
    slaveReadEnable: true,
    accessMessageInMemoryMaxRatio: 0,
  });
  const producer = onsProducer(nsAddr, "PID_SUGGEST", "sg-p");
  const c = consumer(nsAddr, "GID_SUGGEST", "sg-c");
  clients.push(c, producer);
  await until(() => m.slaveAcks.slaveCount === 1, 10_000, "the slave connected");
  await producer.ready();
  const bodies = Array.from({ length: 200 }, (_, i) => `sg-${i}`);
  for (const b of bodies) await producer.send(new ons.Message(TOPIC, "T", b));
  await until(
    () => s.store.stats().maxPhyOffset === m.store.stats().maxPhyOffset,
    10_000,
    "the slave caught up",
  );
  await until(() => s.topics.get(TOPIC) !== undefined, 10_000, "the topic on the slave");

  const got = new Set<string>();
  c.subscribe(TOPIC, "*", async (msg) => {
    got.add(msg.body.toString());
  });
  await c.ready();
  await until(() => bodies.every((b) => got.has(b)), 30_000, "every message");
  // The first pull of each queue goes to the master, which answers with the slave's id; the rest come from it.
  assert.ok(s.stats.consumedTotal > 0, "the slave served pulls");
  assert.ok(m.stats.consumedTotal < bodies.length, "the master did not serve them all");
  // Offsets still go to the master.
  await until(
    () => sumOffsets((q) => m.offsets.query("GID_SUGGEST", TOPIC, q)) === 200,
    10_000,
    "offsets on the master",
  );
});
