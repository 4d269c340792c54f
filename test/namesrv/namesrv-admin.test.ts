// The NameServer's admin requests as mqadmin sends them (header fields and bodies of RocketMQ's
// DefaultMQAdminExtImpl): settings, draining a broker group of its write permission, and the system and unit
// topic lists. A real broker registers with it, so the routes are the ones clients get.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createNamesrv } from "../../src/namesrv/namesrv.js";
import type { Namesrv } from "../../src/namesrv/namesrv.js";
import { Perm, topicConfig } from "../../src/common/topic.js";
import { parseJavaProperties } from "../../src/common/java-properties.js";
import { RemotingClient } from "../../src/protocol/remoting/client.js";
import { createRequest } from "../../src/protocol/remoting/command.js";
import { RequestCode } from "../../src/protocol/remoting/request-code.js";
import { ResponseCode } from "../../src/protocol/remoting/response-code.js";
import { decodeTopicList } from "../../src/protocol/remoting/namesrv/body-codec.js";
import { startBroker } from "../support/broker-fixture.js";
import { waitFor } from "../client/helpers.js";

type StartedBroker = Awaited<ReturnType<typeof startBroker>>;

async function setup(t: { after(fn: () => Promise<void>): void }): Promise<{
  ns: Namesrv;
  nsAddr: string;
  client: RemotingClient;
  broker: StartedBroker;
  ask(code: number, ext?: Record<string, string>, body?: string): ReturnType<RemotingClient["invoke"]>;
}> {
  const ns = createNamesrv({ host: "127.0.0.1", port: 0 });
  await ns.start();
  const nsAddr = `127.0.0.1:${ns.port}`;
  const broker = await startBroker({
    brokerName: "broker-x",
    namesrvAddrs: [nsAddr],
    registerIntervalMs: 100,
  });
  const client = new RemotingClient();
  t.after(async () => {
    await client.close();
    await broker.stop();
    await ns.stop();
  });
  const ask = (code: number, ext: Record<string, string> = {}, body?: string) =>
    client.invoke(nsAddr, createRequest(code, ext, body === undefined ? undefined : Buffer.from(body)), 3000);
  return { ns, nsAddr, client, broker, ask };
}

// The registered route only (getTopicRoute would answer an auto route for a topic not registered yet).
const permOf = (ns: Namesrv, topic: string) => ns.registry.pickupTopicRoute(topic)?.queueDatas[0]?.perm;

test("wipeWritePerm takes write off a broker group's queues until addWritePerm; re-registrations keep it", async (t) => {
  const { ns, broker, ask } = await setup(t);
  broker.server.broker.createTopic(topicConfig("DrainTopic", 4));
  await waitFor(() => permOf(ns, "DrainTopic") === Perm.READ_WRITE, 5000, "the topic registered");

  const wiped = await ask(RequestCode.WIPE_WRITE_PERM_OF_BROKER, { brokerName: "broker-x" });
  assert.equal(wiped.code, ResponseCode.SUCCESS, wiped.remark);
  const count = Number(wiped.extFields.wipeTopicCount);
  assert.ok(count >= 2, `the group's topics were counted (${count}: DrainTopic and the system topics)`);
  assert.equal(permOf(ns, "DrainTopic"), Perm.READ);
  // Several periodic registrations later (every 100 ms, same topic table) the wipe holds.
  const before = ns.registry.liveBrokers()[0]?.lastUpdateTimestamp ?? 0;
  await waitFor(
    () => (ns.registry.liveBrokers()[0]?.lastUpdateTimestamp ?? 0) > before + 250,
    5000,
    "re-registrations",
  );
  assert.equal(
    permOf(ns, "DrainTopic"),
    Perm.READ,
    "a registration with the same data version undoes nothing",
  );

  const added = await ask(RequestCode.ADD_WRITE_PERM_OF_BROKER, { brokerName: "broker-x" });
  assert.equal(added.code, ResponseCode.SUCCESS, added.remark);
  assert.equal(Number(added.extFields.addTopicCount), count);
  assert.equal(permOf(ns, "DrainTopic"), Perm.READ_WRITE);

  // As in RocketMQ, a wipe lasts until the broker's own topic table changes: then its registration wins.
  await ask(RequestCode.WIPE_WRITE_PERM_OF_BROKER, { brokerName: "broker-x" });
  assert.equal(permOf(ns, "DrainTopic"), Perm.READ);
  broker.server.broker.createTopic(topicConfig("AnotherTopic", 2));
  await waitFor(() => permOf(ns, "DrainTopic") === Perm.READ_WRITE, 5000, "the changed table re-registered");

  const unknown = await ask(RequestCode.WIPE_WRITE_PERM_OF_BROKER, { brokerName: "no-such-broker" });
  assert.equal(unknown.code, ResponseCode.SUCCESS);
  assert.equal(unknown.extFields.wipeTopicCount, "0");
  const missing = await ask(RequestCode.WIPE_WRITE_PERM_OF_BROKER, {});
  assert.equal(missing.code, ResponseCode.SYSTEM_ERROR);
  assert.match(missing.remark ?? "", /brokerName/);
});

test("getNamesrvConfig lists the settings; updateNamesrvConfig applies them, refuses black-listed, unknown and bad ones whole", async (t) => {
  const { ns, nsAddr, ask } = await setup(t);
  const got = await ask(RequestCode.GET_NAMESRV_CONFIG);
  assert.equal(got.code, ResponseCode.SUCCESS, got.remark);
  const props = parseJavaProperties(got.body?.toString() ?? "");
  assert.equal(props.get("listenPort"), String(ns.port));
  assert.equal(props.get("enableAllTopicList"), "true");
  assert.equal(props.get("orderMessageEnable"), "false");
  assert.equal(props.get("autoCreateQueueNums"), "4");

  const off = await ask(
    RequestCode.UPDATE_NAMESRV_CONFIG,
    {},
    "# from mqadmin\nenableAllTopicList=false\nautoCreateQueueNums = 2\n",
  );
  assert.equal(off.code, ResponseCode.SUCCESS, off.remark);
  const list = await ask(RequestCode.GET_ALL_TOPIC_LIST_FROM_NAMESERVER);
  assert.equal(list.code, ResponseCode.SYSTEM_ERROR);
  assert.equal(list.remark, "disable");
  assert.equal(ns.registry.getTopicRoute("NoSuchTopicYet")?.queueDatas[0]?.writeQueueNums, 2);
  const after = parseJavaProperties((await ask(RequestCode.GET_NAMESRV_CONFIG)).body?.toString() ?? "");
  assert.equal(after.get("enableAllTopicList"), "false");
  assert.equal(after.get("autoCreateQueueNums"), "2");

  const black = await ask(RequestCode.UPDATE_NAMESRV_CONFIG, {}, "kvConfigPath=/tmp/elsewhere\n");
  assert.equal(black.code, ResponseCode.NO_PERMISSION);
  assert.equal(black.remark, "Can not update config in black list.");
  // One bad key refuses the whole request: enableAllTopicList stays false.
  for (const [body, word] of [
    ["enableAllTopicList=true\nnoSuchSetting=1\n", "noSuchSetting"],
    ["enableAllTopicList=true\nlistenPort=1\n", "listenPort"],
    ["enableAllTopicList=true\nautoCreateQueueNums=zero\n", "autoCreateQueueNums"],
    ["enableAllTopicList=yes\n", "enableAllTopicList"],
  ] as const) {
    const r = await ask(RequestCode.UPDATE_NAMESRV_CONFIG, {}, body);
    assert.equal(r.code, ResponseCode.SYSTEM_ERROR, body);
    assert.match(r.remark ?? "", new RegExp(word));
    assert.equal((await ask(RequestCode.GET_ALL_TOPIC_LIST_FROM_NAMESERVER)).remark, "disable", body);
  }
  const on = await ask(RequestCode.UPDATE_NAMESRV_CONFIG, {}, "enableAllTopicList=true\n");
  assert.equal(on.code, ResponseCode.SUCCESS);
  const back = await ask(RequestCode.GET_ALL_TOPIC_LIST_FROM_NAMESERVER);
  assert.equal(back.code, ResponseCode.SUCCESS);
  assert.ok(decodeTopicList(back.body).topicList.includes("TBW102"));
  assert.ok(nsAddr);
});

test("system topic list: cluster and broker names with a broker address; unit topic lists by TopicSysFlag", async (t) => {
  const { ns, broker, ask } = await setup(t);
  const unit = topicConfig("UnitTopic", 2);
  unit.topicSysFlag = 1;
  const unitSub = topicConfig("UnitSubTopic", 2);
  unitSub.topicSysFlag = 2;
  broker.server.broker.createTopic(unit);
  broker.server.broker.createTopic(unitSub);
  await waitFor(() => ns.registry.pickupTopicRoute("UnitSubTopic") !== undefined, 5000, "registered");

  const sys = await ask(RequestCode.GET_SYSTEM_TOPIC_LIST_FROM_NS);
  assert.equal(sys.code, ResponseCode.SUCCESS, sys.remark);
  const tl = decodeTopicList(sys.body);
  const cluster = broker.server.broker.config.clusterName;
  assert.deepEqual(tl.topicList, [cluster, "broker-x"].sort());
  assert.equal(tl.brokerAddr, broker.addr);

  const lists = async (code: number) => decodeTopicList((await ask(code)).body).topicList;
  assert.deepEqual(await lists(RequestCode.GET_UNIT_TOPIC_LIST), ["UnitTopic"]);
  assert.deepEqual(await lists(RequestCode.GET_HAS_UNIT_SUB_TOPIC_LIST), ["UnitSubTopic"]);
  assert.deepEqual(await lists(RequestCode.GET_HAS_UNIT_SUB_UNUNIT_TOPIC_LIST), ["UnitSubTopic"]);
  await ask(RequestCode.UPDATE_NAMESRV_CONFIG, {}, "enableTopicList=false\n");
  const disabled = await ask(RequestCode.GET_UNIT_TOPIC_LIST);
  assert.equal(disabled.code, ResponseCode.SYSTEM_ERROR);
  assert.equal(disabled.remark, "disable");
});
