// Draining a broker group the way operators do with mqadmin wipeWritePerm: real ali-ons 3.12.0 producers stop
// sending to the group once its write permission is wiped on the NameServer (they read perms from the route),
// its consumers still read what it holds, and addWritePerm brings the sends back.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createNamesrv } from "../../src/namesrv/namesrv.js";
import { topicConfig } from "../../src/common/topic.js";
import { RemotingClient } from "../../src/protocol/remoting/client.js";
import { createRequest } from "../../src/protocol/remoting/command.js";
import { RequestCode } from "../../src/protocol/remoting/request-code.js";
import { ResponseCode } from "../../src/protocol/remoting/response-code.js";
import { startBroker } from "../support/broker-fixture.js";
import { closeClients, common, consumer, ons, until } from "./ali-ons-kit.js";

const TOPIC = "TP_DRAIN";

test("ali-ons: after wipeWritePerm on broker-a, sends go to broker-b only and broker-a's backlog is consumed; addWritePerm restores both", async (t) => {
  const ns = createNamesrv({ host: "127.0.0.1", port: 0 });
  await ns.start();
  const nsAddr = `127.0.0.1:${ns.port}`;
  const brokers = await Promise.all(
    ["broker-a", "broker-b"].map((brokerName) =>
      startBroker({ brokerName, namesrvAddrs: [nsAddr], registerIntervalMs: 300 }),
    ),
  );
  for (const b of brokers) b.server.broker.createTopic(topicConfig(TOPIC, 4));
  const admin = new RemotingClient();
  const producer = new ons.Producer({
    ...common(nsAddr),
    producerGroup: "PID_DRAIN",
    instanceName: "drain-p",
  });
  const c = consumer(nsAddr, "GID_DRAIN", "drain-c");
  t.after(async () => {
    await closeClients(c, producer);
    await admin.close();
    for (const b of brokers) await b.stop();
    await ns.stop();
  });
  await until(
    () => ns.registry.pickupTopicRoute(TOPIC)?.brokerDatas.length === 2,
    10_000,
    "both brokers routed",
  );
  await producer.ready();

  const sendSome = async (prefix: string, n: number) => {
    const byBroker = new Map<string, number>();
    for (let i = 0; i < n; i++) {
      const r = (await producer.send(new ons.Message(TOPIC, "T", `${prefix}-${i}`))) as unknown as {
        sendStatus: string;
        messageQueue: { brokerName: string };
      };
      assert.equal(r.sendStatus, "SEND_OK");
      byBroker.set(r.messageQueue.brokerName, (byBroker.get(r.messageQueue.brokerName) ?? 0) + 1);
    }
    return byBroker;
  };
  const before = await sendSome("before", 40);
  assert.deepEqual([...before.keys()].sort(), ["broker-a", "broker-b"]);

  // As mqadmin wipeWritePerm / addWritePerm send it; ali-ons refreshes routes every 500 ms here (ali-ons-kit), so
  // wait past two refreshes and a registration.
  const setWritePerm = async (code: number) => {
    const r = await admin.invoke(nsAddr, createRequest(code, { brokerName: "broker-a" }), 3000);
    assert.equal(r.code, ResponseCode.SUCCESS, r.remark);
    await new Promise((res) => setTimeout(res, 1500));
  };
  await setWritePerm(RequestCode.WIPE_WRITE_PERM_OF_BROKER);
  const during = await sendSome("during", 40);
  assert.deepEqual([...during.entries()], [["broker-b", 40]], "no send went to the drained group");

  const got = new Set<string>();
  c.subscribe(TOPIC, "*", async (m) => {
    got.add(m.body.toString());
  });
  await c.ready();
  await until(() => got.size === 80, 30_000, "every message, broker-a's backlog included");

  await setWritePerm(RequestCode.ADD_WRITE_PERM_OF_BROKER);
  const after = await sendSome("after", 40);
  assert.deepEqual([...after.keys()].sort(), ["broker-a", "broker-b"], "broker-a takes sends again");
});
