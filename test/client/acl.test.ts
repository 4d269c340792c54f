// Our SDK against a broker with access control on: it signs with its credentials and reports the broker's
// reason (NO_PERMISSION, 16) when refused; a slave of such a master copies its metadata with the master's own
// admin account (the copy requests are admin requests).
import { test } from "node:test";
import { connect } from "node:net";
import assert from "node:assert/strict";
import { Consumer } from "../../src/client/consumer.js";
import { MQClientError } from "../../src/client/errors.js";
import { Message } from "../../src/client/message.js";
import { Producer } from "../../src/client/producer.js";
import { topicConfig } from "../../src/common/topic.js";
import { encodeHello } from "../../src/protocol/ha/ha-codec.js";
import type { BrokerConfig } from "../../src/broker/broker-config.js";
import { startBroker } from "../support/broker-fixture.js";
import { Collector, clientOpts, startNamesrvs, uniq, waitFor } from "./helpers.js";

const ADMIN = { accessKey: "sdkAdmin", secretKey: "sdk-admin-secret" };
const APP = { accessKey: "sdkApp", secretKey: "sdk-app-secret" };

const ACL: Partial<BrokerConfig> = {
  brokerName: "broker-sdk-acl",
  registerIntervalMs: 200,
  haHeartbeatIntervalMs: 200,
  haReconnectMs: 200,
  slaveSyncIntervalMs: 200,
  acl: {
    accounts: [
      { ...ADMIN, admin: true },
      {
        ...APP,
        topicPerms: ["SdkAclOpen=PUB|SUB", "SdkAclClosed=DENY"],
        groupPerms: ["GID_SDK_ACL=SUB"],
      },
    ],
    globalWhiteRemoteAddresses: [],
  },
};

async function refusal(p: Producer, topic: string): Promise<MQClientError> {
  try {
    await p.send(new Message(topic, "T", "x"));
  } catch (e) {
    assert.ok(e instanceof MQClientError, String(e));
    return e;
  }
  assert.fail(`the send to ${topic} was accepted`);
}

test("SDK with credentials: sends and consumes within its rights, refusals carry the broker's reason", async (t) => {
  const [ns] = await startNamesrvs(1);
  const c = { nameServer: [`127.0.0.1:${ns!.port}`] };
  const master = await startBroker({ ...ACL, namesrvAddrs: c.nameServer });
  const slave = await startBroker({ ...ACL, brokerId: 1, namesrvAddrs: c.nameServer });
  for (const topic of ["SdkAclOpen", "SdkAclClosed"]) master.server.broker.createTopic(topicConfig(topic, 4));
  const quick = { pollNameServerIntervalMs: 200, heartbeatIntervalMs: 200 };
  const producer = new Producer({ ...clientOpts(c, uniq("PID")), ...quick, credentials: APP });
  const wrong = new Producer({
    ...clientOpts(c, uniq("PID")),
    ...quick,
    instanceName: "wrong",
    credentials: { accessKey: APP.accessKey, secretKey: "nope" },
  });
  const anonymous = new Producer({ ...clientOpts(c, uniq("PID")), ...quick, instanceName: "anon" });
  const consumer = new Consumer({
    ...clientOpts(c, "GID_SDK_ACL"),
    ...quick,
    consumeFromWhere: "FIRST" as const,
    rebalanceIntervalMs: 200,
    credentials: APP,
  });
  t.after(async () => {
    await consumer.shutdown();
    for (const p of [producer, wrong, anonymous]) await p.shutdown();
    await slave.stop();
    await master.stop();
    await ns!.stop();
  });
  await producer.start();
  for (let i = 0; i < 10; i++) await producer.send(new Message("SdkAclOpen", "T", `m-${i}`));
  const got = new Collector();
  consumer.subscribe("SdkAclOpen", "*", got.listener);
  await consumer.start();
  await got.waitCount(10);
  assert.deepEqual(got.bodies().sort(), Array.from({ length: 10 }, (_, i) => `m-${i}`).sort());

  const denied = await refusal(producer, "SdkAclClosed");
  assert.equal(denied.responseCode, 16);
  assert.match(denied.message, /sdkApp may not PUB topic SdkAclClosed/);
  await wrong.start();
  const badSig = await refusal(wrong, "SdkAclOpen");
  assert.equal(badSig.responseCode, 16);
  assert.match(badSig.message, /signature check failed for AccessKey sdkApp/);
  await anonymous.start();
  const none = await refusal(anonymous, "SdkAclOpen");
  assert.equal(none.responseCode, 16);
  assert.match(none.message, /no AccessKey/);

  // The slave copied the log: its HA hello proved the admin account.
  await waitFor(
    () => slave.server.broker.store.stats().maxPhyOffset === master.server.broker.store.stats().maxPhyOffset,
    5000,
    "the slave's log caught up",
  );
  // A peer that does not prove an admin account gets nothing from the HA port and is dropped.
  const haAddr = { host: "127.0.0.1", port: master.server.haPort };
  const bare = Buffer.alloc(8); // an offset report of 0, no hello
  for (const opening of [
    bare,
    Buffer.concat([encodeHello(APP.accessKey, APP.secretKey, Date.now()), bare]),
  ]) {
    const got = await new Promise<number>((resolve) => {
      let bytes = 0;
      const sock = connect(haAddr, () => sock.write(opening));
      // A master that served it would stream frames (heartbeats at least) and keep it open: give up after 3 s.
      setTimeout(() => sock.destroy(), 3000).unref();
      sock.on("data", (d: Buffer) => (bytes += d.length));
      sock.on("error", () => undefined);
      sock.on("close", () => resolve(bytes));
    });
    assert.equal(got, 0, "no log bytes for a peer without an admin account");
  }

  // The slave copied the topics and the group's offsets: its GET_ALL_* requests passed as the admin account.
  const s = slave.server.broker;
  await waitFor(() => s.topics.get("SdkAclClosed") !== undefined, 5000, "topics copied to the slave");
  const committed = [0, 1, 2, 3].reduce(
    (n, q) => n + Math.max(0, s.offsets.query("GID_SDK_ACL", "SdkAclOpen", q)),
    0,
  );
  await waitFor(
    () =>
      [0, 1, 2, 3].reduce((n, q) => n + Math.max(0, s.offsets.query("GID_SDK_ACL", "SdkAclOpen", q)), 0) ===
      10,
    5000,
    `offsets copied to the slave (had ${committed})`,
  );
});
