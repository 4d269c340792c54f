// Our SDK against a broker with access control on: it signs with its credentials and reports the broker's
// reason (NO_PERMISSION, 16) when refused; a slave of such a master copies its metadata with the master's own
// admin account (the copy requests are admin requests).
import { test } from "node:test";
import assert from "node:assert/strict";
import { Consumer } from "../../src/client/consumer.js";
import { MQClientError } from "../../src/client/errors.js";
import { Message } from "../../src/client/message.js";
import { Producer } from "../../src/client/producer.js";
import { topicConfig } from "../../src/common/topic.js";
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
