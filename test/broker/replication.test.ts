// Master and slave brokers in-process behind one NameServer: the slave finds its master through its registration,
// copies its log over the HA connection (same records, same queues) and its topics, groups and offsets over
// remoting; it refuses sends; it resumes after a restart. A SYNC_MASTER answers sends by what its slave stored.
import { connect } from "node:net";
import { test } from "node:test";
import assert from "node:assert/strict";
import { BrokerError } from "../../src/common/errors.js";
import { readInt64BE, writeInt64BE } from "../../src/common/int64.js";
import { encodeProperties } from "../../src/common/properties.js";
import { topicConfig } from "../../src/common/topic.js";
import type { Broker } from "../../src/broker/broker.js";
import type { BrokerConfig } from "../../src/broker/broker-config.js";
import { createNamesrv } from "../../src/namesrv/namesrv.js";
import { startBroker } from "../support/broker-fixture.js";
import { tempDir } from "../support/temp-dir.js";

const FAST: Partial<BrokerConfig> = {
  brokerName: "broker-ha",
  registerIntervalMs: 200,
  haHeartbeatIntervalMs: 200,
  haHousekeepingMs: 2000,
  haReconnectMs: 200,
  slaveSyncIntervalMs: 200,
};

async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function send(b: Broker, topic: string, i: number, queueId = i % 4) {
  return b.sendMessage({
    producerGroup: "PG",
    topic,
    queueId,
    body: Buffer.from(`m-${i}-${"y".repeat(i % 500)}`),
    properties: encodeProperties({ TAGS: "t", KEYS: `key-${i}`, UNIQ_CLIENT_MESSAGE_ID_KEYIDX: `U-${i}` }),
  });
}

function bodies(b: Broker, topic: string, q: number): string[] {
  const out: string[] = [];
  let off = b.store.getMinOffset(topic, q);
  for (;;) {
    const r = b.store.getMessages(topic, q, off, 64);
    if (r.status !== "FOUND") return out;
    for (const m of r.messages) out.push(m.toString("latin1"));
    off = r.nextBeginOffset;
  }
}

async function namesrv() {
  const ns = createNamesrv({ host: "127.0.0.1", port: 0, autoCreateQueueNums: 4 });
  await ns.start();
  return { ns, addr: `127.0.0.1:${ns.port}` };
}

test("a slave copies its master's log, topics, groups and offsets, refuses sends, and resumes after a restart", async (t) => {
  const { ns, addr } = await namesrv();
  const master = await startBroker({ ...FAST, namesrvAddrs: [addr] }, undefined, { http: {} });
  const slaveDir = tempDir("rmq-slave-");
  let slave = await startBroker({ ...FAST, brokerId: 1, namesrvAddrs: [addr] }, slaveDir.dir, { http: {} });
  t.after(async () => {
    await slave.stop();
    await master.stop();
    await ns.stop();
    slaveDir.cleanup();
  });
  const m = master.server.broker;
  m.createTopic(topicConfig("HA_T", 4));
  m.groups.getOrCreate("HA_G");
  for (let i = 0; i < 200; i++) await send(m, "HA_T", i);
  m.updateConsumerOffset("HA_G", "HA_T", 2, 17);

  await until(() => slave.server.replica?.connected === true, 5000, "the slave connected to its master");
  const s = () => slave.server.broker;
  await until(
    () => s().store.stats().maxPhyOffset === m.store.stats().maxPhyOffset,
    5000,
    "the slave caught up",
  );
  for (let q = 0; q < 4; q++) assert.deepEqual(bodies(s(), "HA_T", q), bodies(m, "HA_T", q));
  await until(() => s().topics.get("HA_T") !== undefined, 5000, "the topic reached the slave");
  await until(() => s().offsets.query("HA_G", "HA_T", 2) === 17, 5000, "the offset reached the slave");
  assert.ok(s().groups.get("HA_G"), "the group reached the slave");
  assert.equal(
    m.slaveAcks.bestAck,
    m.store.stats().maxPhyOffset,
    "the master heard how far the slave stored",
  );
  const metrics = await (await fetch(`http://127.0.0.1:${master.server.httpPort}/metrics`)).text();
  assert.match(metrics, /^rocketmq_ha_slaves 1$/m);
  assert.match(metrics, /^rocketmq_ha_slave_lag_bytes 0$/m);
  const status = async (b: typeof master) =>
    (
      (await (await fetch(`http://127.0.0.1:${b.server.httpPort}/admin/broker`)).json()) as {
        replication: unknown;
      }
    ).replication;
  assert.deepEqual(await status(master), { role: "ASYNC_MASTER", slaves: 1, slaveLagBytes: 0 });
  assert.deepEqual(await status(slave), {
    role: "SLAVE",
    masterHaAddress: `127.0.0.1:${master.server.haPort}`,
    connected: true,
  });
  // The route lists both, the slave under id 1.
  assert.deepEqual(ns.registry.getTopicRoute("HA_T")?.brokerDatas[0]?.brokerAddrs, {
    0: master.addr,
    1: slave.addr,
  });

  // The slave serves pulls of what it copied, with the same ids and keys.
  const pulled = await s().pullMessage({
    group: "HA_G",
    topic: "HA_T",
    queueId: 1,
    offset: 0,
    maxMsgNums: 8,
    suspendTimeoutMs: 0,
    subscription: { expression: "*", type: "TAG" },
  });
  assert.equal(pulled.status, "FOUND");
  assert.equal(pulled.count, 8);
  assert.equal(pulled.suggestWhichBrokerId, 0);
  assert.equal(s().queryMessageByKey("HA_T", "key-13", 4, 0, Date.now() + 1000).length, 1);

  // A slave refuses sends with SERVICE_NOT_AVAILABLE (remoting 14), and stores nothing.
  await assert.rejects(send(s(), "HA_T", 999), (e: unknown) => {
    return e instanceof BrokerError && e.code === "SERVICE_NOT_AVAILABLE" && /slave/.test(e.message);
  });

  // Stopped, it misses sends; restarted on its data, it catches up from where it was.
  await slave.stop();
  for (let i = 200; i < 300; i++) await send(m, "HA_T", i);
  slave = await startBroker({ ...FAST, brokerId: 1, namesrvAddrs: [addr] }, slaveDir.dir);
  await until(() => s().store.stats().maxPhyOffset === m.store.stats().maxPhyOffset, 5000, "caught up again");
  for (let q = 0; q < 4; q++) assert.deepEqual(bodies(s(), "HA_T", q), bodies(m, "HA_T", q));
  // Long polling on the slave wakes for a message that arrives by replication.
  const held = s().pullMessage({
    group: "HA_G",
    topic: "HA_T",
    queueId: 0,
    offset: m.getMaxOffset("HA_T", 0),
    maxMsgNums: 8,
    suspendTimeoutMs: 5000,
    subscription: { expression: "*", type: "TAG" },
  });
  const t0 = Date.now();
  await send(m, "HA_T", 300, 0);
  const woke = await held;
  assert.equal(woke.status, "FOUND");
  assert.ok(Date.now() - t0 < 4000, "woken by the replicated message, not by the hold's timeout");
});

test("a slave follows its master through the master's restart on a new HA port, and two slaves both keep up", async (t) => {
  const { ns, addr } = await namesrv();
  const masterDir = tempDir("rmq-master-");
  let master = await startBroker({ ...FAST, namesrvAddrs: [addr] }, masterDir.dir);
  const slaves = [
    await startBroker({ ...FAST, brokerId: 1, namesrvAddrs: [addr] }),
    await startBroker({ ...FAST, brokerId: 2, namesrvAddrs: [addr] }),
  ];
  t.after(async () => {
    for (const sl of slaves) await sl.stop();
    await master.stop();
    await ns.stop();
    masterDir.cleanup();
  });
  const m = () => master.server.broker;
  m().createTopic(topicConfig("HA_R", 2));
  for (let i = 0; i < 50; i++) await send(m(), "HA_R", i, i % 2);
  const caughtUp = (what: string) =>
    until(
      () =>
        slaves.every((sl) => sl.server.broker.store.stats().maxPhyOffset === m().store.stats().maxPhyOffset),
      5000,
      what,
    );
  await caughtUp("both slaves caught up");
  assert.equal(m().slaveAcks.slaveCount, 2);
  const firstHa = master.server.haPort;

  await master.stop();
  master = await startBroker({ ...FAST, namesrvAddrs: [addr] }, masterDir.dir);
  assert.notEqual(master.server.haPort, firstHa, "the restarted master listens for slaves elsewhere");
  for (let i = 50; i < 100; i++) await send(m(), "HA_R", i, i % 2);
  await caughtUp("both slaves caught up with the restarted master");
  for (const sl of slaves) {
    assert.equal(sl.server.replica?.masterAddress, `127.0.0.1:${master.server.haPort}`);
    for (let q = 0; q < 2; q++) assert.deepEqual(bodies(sl.server.broker, "HA_R", q), bodies(m(), "HA_R", q));
  }
});

test("SYNC_MASTER: SEND_OK once the slave stored it, SLAVE_NOT_AVAILABLE without one, FLUSH_SLAVE_TIMEOUT when it does not confirm", async (t) => {
  const { ns, addr } = await namesrv();
  const master = await startBroker({
    ...FAST,
    brokerRole: "SYNC_MASTER",
    haSlaveTimeoutMs: 400,
    namesrvAddrs: [addr],
  });
  let slave: Awaited<ReturnType<typeof startBroker>> | undefined = await startBroker({
    ...FAST,
    brokerId: 1,
    namesrvAddrs: [addr],
  });
  t.after(async () => {
    await slave?.stop();
    await master.stop();
    await ns.stop();
  });
  const m = master.server.broker;
  m.createTopic(topicConfig("SYNC_T", 2));
  await until(() => m.slaveAcks.slaveCount === 1, 5000, "the slave connected");
  for (let i = 0; i < 20; i++) {
    const r = await send(m, "SYNC_T", i);
    assert.equal(r.slaveStatus, undefined, "SEND_OK");
    // Answered only once the slave stored the record.
    assert.ok(slave.server.broker.store.stats().maxPhyOffset > r.phyOffset);
  }

  await slave.stop();
  slave = undefined;
  await until(() => m.slaveAcks.slaveCount === 0, 5000, "the master saw the slave go");
  const alone = await send(m, "SYNC_T", 20);
  assert.equal(alone.slaveStatus, "SLAVE_NOT_AVAILABLE");
  assert.equal(m.getMaxOffset("SYNC_T", 0) + m.getMaxOffset("SYNC_T", 1), 21, "stored all the same");

  // A "slave" that reports once and then never confirms anything: the send waits haSlaveTimeoutMs.
  const sock = connect({ host: "127.0.0.1", port: master.server.haPort });
  t.after(() => sock.destroy());
  await new Promise<void>((r) => sock.once("connect", () => r()));
  const report = Buffer.alloc(8);
  writeInt64BE(report, m.store.stats().maxPhyOffset, 0);
  sock.write(report);
  const frames: Buffer[] = [];
  sock.on("data", (d: Buffer) => frames.push(d));
  await until(() => m.slaveAcks.slaveCount === 1, 5000, "the silent slave counted");
  const t0 = Date.now();
  const late = await send(m, "SYNC_T", 21);
  assert.equal(late.slaveStatus, "FLUSH_SLAVE_TIMEOUT");
  assert.ok(Date.now() - t0 >= 350);
  // The master did send it the record: [offset 8][size 4][record].
  await until(() => Buffer.concat(frames).length >= 12, 2000, "a frame");
  const f = Buffer.concat(frames);
  assert.equal(readInt64BE(f, 0), late.phyOffset);
  assert.ok(f.readInt32BE(8) > 0);
});

test("the HA port drops a peer that speaks nonsense or claims more log than the master has, and serves on", async (t) => {
  const master = await startBroker({ ...FAST, haHeartbeatIntervalMs: 100 });
  t.after(() => master.stop());
  const m = master.server.broker;
  m.createTopic(topicConfig("HA_BAD", 1));
  await send(m, "HA_BAD", 0, 0);
  const closed = (payload: Buffer) =>
    new Promise<void>((resolve, reject) => {
      const sock = connect({ host: "127.0.0.1", port: master.server.haPort });
      const timer = setTimeout(() => reject(new Error("the master kept the connection")), 3000);
      sock.on("connect", () => sock.write(payload));
      sock.on("error", () => undefined);
      sock.on("close", () => {
        clearTimeout(timer);
        resolve();
      });
    });
  // An HTTP request: its first 8 bytes read as an offset far past the log's end.
  await closed(Buffer.from("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  // A negative offset.
  await closed(Buffer.alloc(8, 0xff));
  // A "slave" ahead of its master (its log diverged).
  const ahead = Buffer.alloc(8);
  writeInt64BE(ahead, m.store.stats().maxPhyOffset + 1, 0);
  await closed(ahead);
  assert.equal(m.slaveAcks.slaveCount, 0);
  // A real slave still gets everything.
  const slave = await startBroker({
    ...FAST,
    brokerId: 1,
    haMasterAddress: `127.0.0.1:${master.server.haPort}`,
  });
  t.after(() => slave.stop());
  await until(
    () => slave.server.broker.store.stats().maxPhyOffset === m.store.stats().maxPhyOffset,
    5000,
    "a real slave caught up",
  );
});
