// Failures around the client: a NameServer that is down, and a broker that restarts under a running consumer.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Consumer, Message, Producer } from "../../src/client/index.js";
import { startBroker } from "../support/broker-fixture.js";
import { tempDir } from "../support/temp-dir.js";
import {
  Collector,
  FAST_DELAY_LEVELS,
  clientOpts,
  createTopic,
  sleep,
  startCluster,
  startNamesrvs,
  uniq,
  waitFor,
} from "./helpers.js";
import type { Cluster } from "./helpers.js";

test(
  "NameServer failover: clients work while one of two NameServers is down",
  { timeout: 60_000 },
  async () => {
    const c = await startCluster({ namesrvs: 2 });
    const producers: Producer[] = [];
    const consumers: Consumer[] = [];
    try {
      const topic = uniq("T_nsfail");
      await createTopic(c, topic);
      await c.namesrvs[0]!.stop();
      // The first NameServer is picked at random: several clients make both picks likely.
      const col = new Collector();
      for (let i = 0; i < 4; i++) {
        const consumer = new Consumer({ ...clientOpts(c, uniq("GID_ns")), consumeFromWhere: "FIRST" });
        consumer.subscribe(topic, "*", col.listener);
        await consumer.start();
        consumers.push(consumer);
      }
      for (let i = 0; i < 6; i++) {
        const p = new Producer({ ...clientOpts(c, uniq("PID_ns")), nameServer: c.nameServer.join(";") });
        await p.start();
        producers.push(p);
        const r = await p.send(new Message(topic, "N", `ns${i}`));
        assert.equal(r.sendStatus, "SEND_OK");
      }
      await col.waitCount(24);
      await sleep(200);
      assert.equal(col.messages.length, 24, "each of 4 groups got all 6");
    } finally {
      for (const p of producers) await p.shutdown();
      for (const s of consumers) await s.shutdown();
      await c.stop();
    }
  },
);

test(
  "broker restart: the consumer resumes from its committed offset, no loss and no replay",
  { timeout: 90_000 },
  async () => {
    const [ns] = await startNamesrvs(1);
    const nameServer = [`127.0.0.1:${ns!.port}`];
    const data = tempDir("rmq-restart-");
    const brokerCfg = { namesrvAddrs: nameServer, messageDelayLevel: FAST_DELAY_LEVELS };
    let broker = await startBroker(brokerCfg, data.dir);
    const port = broker.server.port;
    const cluster = (): Cluster => ({ namesrvs: [ns!], nameServer, broker, stop: async () => {} });
    const topic = uniq("T_restart");
    const group = uniq("GID_restart");
    const producer = new Producer({
      ...clientOpts({ nameServer }, uniq("PID_restart")),
      sendTimeoutMs: 5000,
    });
    const col = new Collector();
    const opts = {
      ...clientOpts({ nameServer }, group),
      consumeFromWhere: "FIRST" as const,
      persistOffsetIntervalMs: 200,
    };
    let consumer = new Consumer(opts);
    try {
      await createTopic(cluster(), topic);
      await producer.start();
      consumer.subscribe(topic, "*", col.listener);
      await consumer.start();
      const sent: string[] = [];
      const sendN = async (from: number, n: number) => {
        for (let i = from; i < from + n; i++) {
          await producer.send(new Message(topic, "R", `r${i}`));
          sent.push(`r${i}`);
        }
      };
      await sendN(0, 20);
      await col.waitCount(20);
      const committed = () =>
        [0, 1, 2, 3].reduce(
          (s, q) => s + Math.max(0, broker.server.broker.offsets.query(group, topic, q)),
          0,
        );
      await waitFor(() => committed() === 20, 5000, "offsets committed");

      await broker.server.stop();
      await sleep(300);
      broker = await startBroker({ ...brokerCfg, port }, data.dir);
      assert.equal(broker.server.port, port);
      assert.equal(committed(), 20, "offsets survived the restart");

      await sendN(20, 20);
      await col.waitCount(40, 20_000);
      await sleep(500);
      assert.deepEqual(col.bodies().sort(), [...sent].sort(), "no loss, no replay");
      await waitFor(() => committed() === 40, 10_000, "offsets committed after restart");

      // A new member of the group (after this one leaves) starts from the committed offsets too.
      await consumer.shutdown();
      const col2 = new Collector();
      consumer = new Consumer(opts);
      consumer.subscribe(topic, "*", col2.listener);
      await consumer.start();
      await sendN(40, 5);
      await col2.waitCount(5);
      await sleep(300);
      assert.deepEqual(col2.bodies().sort(), sent.slice(40).sort());
    } finally {
      await consumer.shutdown();
      await producer.shutdown();
      await broker.server.stop();
      await ns!.stop();
      data.cleanup();
    }
  },
);
