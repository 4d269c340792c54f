// SYNC_MASTER keeps its promise when the master dies for good: real ali-ons 3.12.0 producers send from several
// loops to a master (a child process) with a slave; the master gets SIGKILL and never comes back, and an ali-ons
// consumer reading from the slave finds every message whose send was answered SEND_OK.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createNamesrv } from "../../src/namesrv/namesrv.js";
import { startBroker } from "../support/broker-fixture.js";
import { startBrokerProcess } from "../support/broker-process.js";
import { freePort } from "../support/free-port.js";
import { tempDir } from "../support/temp-dir.js";
import { closeClients, consumer, producer as onsProducer, sendThroughKill, until } from "./ali-ons-kit.js";

test(
  "ali-ons: SIGKILL of a SYNC_MASTER loses no SEND_OK message, its slave has them all",
  { timeout: 120_000 },
  async (t) => {
    const { dir, cleanup } = tempDir();
    const ns = createNamesrv({ host: "127.0.0.1", port: 0, autoCreateQueueNums: 4 });
    await ns.start();
    const nsAddr = `127.0.0.1:${ns.port}`;
    const ha = { brokerName: "broker-sync", haHeartbeatIntervalMs: 200, haHousekeepingMs: 3000 };
    const master = await startBrokerProcess(dir, {
      ...ha,
      brokerRole: "SYNC_MASTER",
      port: await freePort(),
      namesrvAddrs: [nsAddr],
      registerIntervalMs: 300,
      store: { segmentBytes: 8 * 1024 * 1024 },
    });
    const slave = await startBroker({
      ...ha,
      brokerId: 1,
      namesrvAddrs: [nsAddr],
      registerIntervalMs: 300,
      haReconnectMs: 200,
      slaveSyncIntervalMs: 200,
    });
    const producer = onsProducer(nsAddr, "PID_SCRASH", "scrash-p");
    const c = consumer(nsAddr, "GID_SCRASH", "scrash-c");
    t.after(async () => {
      await closeClients(c, producer);
      await master.kill();
      await slave.stop();
      await ns.stop();
      cleanup();
    });
    await until(() => slave.server.replica?.connected === true, 10_000, "the slave connected");
    await producer.ready();

    const { acked, statuses, failed } = await sendThroughKill(producer, "TP_SCRASH", 300, () =>
      master.kill(),
    );
    assert.deepEqual(
      [...statuses.keys()],
      ["SEND_OK"],
      "the slave confirmed every send while the master lived",
    );

    // The master's NameServer entry goes with its connection; the route keeps the slave.
    await until(
      () => {
        const addrs = ns.registry.getTopicRoute("TP_SCRASH")?.brokerDatas[0]?.brokerAddrs ?? {};
        return addrs[0] === undefined && addrs[1] === slave.addr;
      },
      10_000,
      "a route with the slave only",
    );
    const got = new Set<string>();
    c.subscribe("TP_SCRASH", "*", async (m) => {
      got.add(m.body.toString());
    });
    await c.ready();
    await until(
      () => [...acked].every((b) => got.has(b)),
      30_000,
      "every acknowledged message from the slave",
    );
    // Every queue the slave has for the topic (ali-ons asks for 4 when its send creates the topic).
    const queues = slave.server.broker.topics.get("TP_SCRASH")?.readQueueNums ?? 0;
    assert.equal(queues, 4, "the topic has the 4 queues ali-ons asked for");
    let stored = 0;
    for (let q = 0; q < queues; q++) stored += slave.server.broker.store.getMaxOffset("TP_SCRASH", q);
    assert.ok(stored >= acked.size, `${stored} stored on the slave, ${acked.size} acknowledged`);
    t.diagnostic(`${acked.size} acknowledged, ${failed} failed sends, ${stored} stored on the slave`);
  },
);
