// The broker's admin request codes as RocketMQ's Java admin (mqadmin, DefaultMQAdminExt, the Dashboard) sends
// them: header field names and body shapes from its request headers and protocol bodies, answers checked against
// what the broker really did (messages sent and consumed, offsets committed, clients connected).
import { test } from "node:test";
import assert from "node:assert/strict";
import { RemotingClient } from "../../src/protocol/remoting/client.js";
import { createRequest } from "../../src/protocol/remoting/command.js";
import type { RemotingCommand } from "../../src/protocol/remoting/command.js";
import { RequestCode } from "../../src/protocol/remoting/request-code.js";
import { ResponseCode } from "../../src/protocol/remoting/response-code.js";
import { Perm } from "../../src/common/topic.js";
import { ThroughputHistory } from "../../src/broker/ops/throughput-history.js";
import { startBroker } from "../support/broker-fixture.js";
import { pullRequest, sendV2Request } from "../support/remoting-requests.js";

type Broker = Awaited<ReturnType<typeof startBroker>>;

async function setup(t: { after(f: () => Promise<void>): void }) {
  const b = await startBroker();
  const client = new RemotingClient();
  t.after(async () => {
    await client.close();
    await b.stop();
  });
  const call = (code: number, header: Record<string, string> = {}, body?: string | Buffer) =>
    client.invoke(
      b.addr,
      createRequest(code, header, typeof body === "string" ? Buffer.from(body) : body),
      3000,
    );
  return { b, client, call };
}

function sendTo(b: Broker, client: RemotingClient, topic: string, queueId: number, body: string) {
  return client.invoke(b.addr, sendV2Request(topic, queueId, body, { TAGS: "t" }), 3000);
}

async function sendMany(b: Broker, client: RemotingClient, topic: string, n: number, from = 0) {
  for (let i = 0; i < n; i++) {
    const r = await sendTo(b, client, topic, 0, `m${from + i}`);
    assert.equal(r.code, ResponseCode.SUCCESS, r.remark);
  }
}

const json = (r: RemotingCommand): Record<string, unknown> => {
  assert.equal(r.code, ResponseCode.SUCCESS, r.remark);
  return JSON.parse(r.body!.toString()) as Record<string, unknown>;
};

/** A ResetOffsetBody's offsetTable (keys are MessageQueue objects in fastjson's form) as queue id → offset. */
function offsetTable(body: Buffer | undefined, topic: string, brokerName: string): Map<number, number> {
  const text = body!.toString();
  assert.match(text, /^\{"offsetTable":\{.*\}\}$/);
  const out = new Map<number, number>();
  for (const m of text.matchAll(/\{"brokerName":"([^"]*)","queueId":(\d+),"topic":"([^"]*)"\}:(-?\d+)/g)) {
    assert.equal(m[1], brokerName);
    assert.equal(m[3], topic);
    out.set(Number(m[2]), Number(m[4]));
  }
  return out;
}

function heartbeat(
  client: RemotingClient,
  addr: string,
  clientID: string,
  consumers: { group: string; topic: string; model?: string }[],
  producers: string[] = [],
) {
  const hb = {
    clientID,
    producerDataSet: producers.map((groupName) => ({ groupName })),
    consumerDataSet: consumers.map((c) => ({
      groupName: c.group,
      consumeType: "CONSUME_PASSIVELY",
      messageModel: c.model ?? "CLUSTERING",
      consumeFromWhere: "CONSUME_FROM_FIRST_OFFSET",
      subscriptionDataSet: [{ topic: c.topic, subString: "*" }],
    })),
  };
  return client.invoke(
    addr,
    createRequest(RequestCode.HEART_BEAT, {}, Buffer.from(JSON.stringify(hb))),
    3000,
  );
}

test("GET_BROKER_RUNTIME_INFO: counters, rates and store figures as clusterList and brokerStatus parse them", async (t) => {
  const { b, client, call } = await setup(t);
  const before = Date.now();
  await sendMany(b, client, "RT", 3);
  const pulled = await client.invoke(b.addr, pullRequest("CG_RT", "RT", 0, 0), 3000);
  assert.equal(pulled.code, ResponseCode.SUCCESS);

  const table = json(await call(RequestCode.GET_BROKER_RUNTIME_INFO))["table"] as Record<string, string>;
  assert.equal(table["msgPutTotalTodayNow"], "3");
  assert.equal(table["msgGetTotalTodayNow"], "3");
  // A broker that has not lived through a midnight has morning totals of 0, so "today" is everything.
  for (const k of ["TodayMorning", "YesterdayMorning"]) {
    assert.equal(table[`msgPutTotal${k}`], "0");
    assert.equal(table[`msgGetTotal${k}`], "0");
  }
  const stats = b.server.broker.store.stats();
  assert.equal(table["commitLogMaxOffset"], String(stats.maxPhyOffset));
  assert.ok(stats.maxPhyOffset > 0);
  assert.equal(table["commitLogMinOffset"], String(stats.minPhyOffset));
  const earliest = Number(table["earliestMessageTimeStamp"]);
  assert.ok(earliest >= before && earliest <= Date.now(), `earliest message time ${earliest}`);
  assert.equal(table["brokerActive"], "true");
  assert.match(table["brokerVersionDesc"]!, /^V\d+_\d+_\d+$/);
  assert.equal(table["bootTimestamp"], String(b.server.broker.stats.startedAt));
  // The text forms Java parses: Long.parseLong, Double.parseDouble of "a b c".split(" ")[0], Float.parseFloat.
  for (const k of ["putTps", "getTransferredTps", "getTransferedTps", "getTotalTps"])
    assert.match(table[k]!, /^\d+\.\d+(E-?\d+)? \d+\.\d+(E-?\d+)? \d+\.\d+(E-?\d+)?$/, k);
  for (const k of ["pageCacheLockTimeMills", "dispatchBehindBytes", "timerReadBehind", "timerCongestNum"])
    assert.match(table[k]!, /^\d+$/, k);
  for (const k of [
    "sendThreadPoolQueueSize",
    "pullThreadPoolQueueSize",
    "sendThreadPoolQueueHeadWaitTimeMills",
  ])
    assert.match(table[k]!, /^\d+$/, k);
  const ratio = Number(table["commitLogDiskRatio"]);
  assert.ok(ratio > 0 && ratio < 1, `disk ratio ${table["commitLogDiskRatio"]}`);
  assert.match(table["timerEnqueueTps"]!, /^\d+\.\d+$/);
});

test("throughput history: 10/60/600 s rates once there is that much history, and midnight totals", () => {
  const h = new ThroughputHistory();
  const t0 = new Date(2024, 0, 1, 23, 59, 0).getTime();
  for (let s = 0; s <= 10; s++) h.sample(t0 + s * 1000, s * 50, s * 20);
  assert.equal(h.rate("put", 10), 50);
  assert.equal(h.rate("get", 10), 20);
  assert.equal(h.rate("put", 60), 0, "no 60 s of history yet");
  for (let s = 11; s <= 70; s++) h.sample(t0 + s * 1000, 500 + (s - 10) * 10, 200);
  assert.equal(h.rate("put", 10), 10);
  assert.equal(h.rate("get", 10), 0);
  assert.equal(Math.round(h.rate("put", 60)), 10);
  // The samples crossed midnight at 60 s: that moment's totals became today's morning.
  assert.deepEqual(h.todayMorning, { put: 500 + 50 * 10, get: 200 });
  assert.deepEqual(h.yesterdayMorning, { put: 0, get: 0 });
});

test("GET_BROKER_CONFIG and UPDATE_BROKER_CONFIG: RocketMQ's keys, runtime changes that take effect, refusals", async (t) => {
  const { b, client, call } = await setup(t);
  const props = (r: RemotingCommand) => {
    assert.equal(r.code, ResponseCode.SUCCESS, r.remark);
    return new Map(
      r
        .body!.toString()
        .split("\n")
        .filter(Boolean)
        .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)] as const),
    );
  };
  const first = await call(RequestCode.GET_BROKER_CONFIG);
  const cfg = props(first);
  assert.equal(cfg.get("brokerName"), "broker-a");
  assert.equal(cfg.get("brokerClusterName"), "DefaultCluster");
  assert.equal(cfg.get("brokerId"), "0");
  assert.equal(cfg.get("brokerRole"), "ASYNC_MASTER");
  assert.equal(cfg.get("flushDiskType"), "ASYNC_FLUSH");
  assert.equal(cfg.get("listenPort"), String(b.server.port));
  assert.equal(cfg.get("autoCreateTopicEnable"), "true");
  assert.equal(cfg.get("defaultTopicQueueNums"), "8");
  assert.equal(cfg.get("fileReservedTime"), "72");
  assert.equal(cfg.get("deleteWhen"), "04");
  for (const k of cfg.keys()) assert.doesNotMatch(k, /secret|password|tlsKey|accessKey/i);
  const v0 = JSON.parse(first.extFields["version"]!) as { counter: number; timestamp: number };
  assert.equal(typeof v0.timestamp, "number");

  const upd = await call(
    RequestCode.UPDATE_BROKER_CONFIG,
    {},
    "# from mqadmin\nautoCreateTopicEnable=false\ndefaultTopicQueueNums = 3\n",
  );
  assert.equal(upd.code, ResponseCode.SUCCESS, upd.remark);
  const after = await call(RequestCode.GET_BROKER_CONFIG);
  assert.equal(props(after).get("autoCreateTopicEnable"), "false");
  assert.equal(props(after).get("defaultTopicQueueNums"), "3");
  assert.equal((JSON.parse(after.extFields["version"]!) as { counter: number }).counter, v0.counter + 1);
  // It took effect: TBW102 no longer invites auto-creation, and a send to a new topic is refused.
  assert.equal(b.server.broker.topics.get("TBW102")!.perm & Perm.INHERIT, 0);
  const refused = await sendTo(b, client, "NeverMade", 0, "x");
  assert.equal(refused.code, ResponseCode.TOPIC_NOT_EXIST);

  // An unknown key, a key fixed at start-up, a value out of range: SYSTEM_ERROR naming it, and nothing changes.
  for (const [body, word] of [
    ["defaultTopicQueueNums=5\nnoSuchSetting=1", "noSuchSetting"],
    ["brokerName=other", "brokerName"],
    ["defaultTopicQueueNums=abc", "defaultTopicQueueNums"],
    ["autoCreateTopicEnable=yes", "autoCreateTopicEnable"],
  ] as const) {
    const r = await call(RequestCode.UPDATE_BROKER_CONFIG, {}, body);
    assert.equal(r.code, ResponseCode.SYSTEM_ERROR, body);
    assert.match(r.remark ?? "", new RegExp(word));
  }
  const still = props(await call(RequestCode.GET_BROKER_CONFIG));
  assert.equal(still.get("defaultTopicQueueNums"), "3");
  assert.equal(still.get("brokerName"), "broker-a");
});

test("subscription groups: create or update from SubscriptionGroupConfig JSON, read back, delete with offsets", async (t) => {
  const { b, call } = await setup(t);
  const cfg = {
    groupName: "GID_ADMIN",
    consumeEnable: false,
    consumeFromMinEnable: true,
    consumeBroadcastEnable: true,
    consumeMessageOrderly: true,
    retryQueueNums: 1,
    retryMaxTimes: 3,
    brokerId: 0,
    whichBrokerWhenConsumeSlowly: 1,
    notifyConsumerIdsChangedEnable: true,
    groupSysFlag: 0,
    consumeTimeoutMinute: 15,
    subscriptionDataSet: null,
    attributes: {},
  };
  const created = await call(RequestCode.UPDATE_AND_CREATE_SUBSCRIPTIONGROUP, {}, JSON.stringify(cfg));
  assert.equal(created.code, ResponseCode.SUCCESS, created.remark);
  const got = json(await call(RequestCode.GET_SUBSCRIPTIONGROUP_CONFIG, { group: "GID_ADMIN" }));
  assert.equal(got["groupName"], "GID_ADMIN");
  assert.equal(got["consumeEnable"], false);
  assert.equal(got["consumeMessageOrderly"], true);
  assert.equal(got["retryMaxTimes"], 3);
  assert.equal(b.server.broker.groups.get("GID_ADMIN")?.retryMaxTimes, 3);

  // Bad input: no body, not JSON, no name, a wrongly typed field, a name RocketMQ's validator refuses.
  const bad = [
    [undefined, ResponseCode.MESSAGE_ILLEGAL],
    ["{nope", ResponseCode.MESSAGE_ILLEGAL],
    [JSON.stringify({ retryMaxTimes: 2 }), ResponseCode.MESSAGE_ILLEGAL],
    [JSON.stringify({ groupName: "G2", retryMaxTimes: "many" }), ResponseCode.MESSAGE_ILLEGAL],
    [JSON.stringify({ groupName: "bad name!" }), ResponseCode.INVALID_PARAMETER],
  ] as const;
  for (const [body, code] of bad) {
    const r = await call(RequestCode.UPDATE_AND_CREATE_SUBSCRIPTIONGROUP, {}, body);
    assert.equal(r.code, code, `${body}: ${r.remark}`);
    assert.ok(r.remark, "a refusal says why");
  }
  assert.equal(b.server.broker.groups.get("G2"), undefined);

  b.server.broker.offsets.commit("GID_ADMIN", "SomeTopic", 0, 42);
  const missing = await call(RequestCode.DELETE_SUBSCRIPTIONGROUP, {});
  assert.equal(missing.code, ResponseCode.MESSAGE_ILLEGAL);
  assert.match(missing.remark ?? "", /groupName/);
  // Without cleanOffset the offsets stay; with it they go.
  assert.equal(
    (await call(RequestCode.DELETE_SUBSCRIPTIONGROUP, { groupName: "GID_ADMIN", cleanOffset: "false" })).code,
    ResponseCode.SUCCESS,
  );
  assert.equal(b.server.broker.offsets.query("GID_ADMIN", "SomeTopic", 0), 42);
  const gone = await call(RequestCode.GET_SUBSCRIPTIONGROUP_CONFIG, { group: "GID_ADMIN" });
  assert.equal(gone.code, ResponseCode.SUBSCRIPTION_GROUP_NOT_EXIST);
  assert.equal(
    (await call(RequestCode.DELETE_SUBSCRIPTIONGROUP, { groupName: "GID_ADMIN", cleanOffset: "true" })).code,
    ResponseCode.SUCCESS,
  );
  assert.equal(b.server.broker.offsets.query("GID_ADMIN", "SomeTopic", 0), -1);
});

test("INVOKE_BROKER_TO_RESET_OFFSET: by time (isForce honoured), one queue to an offset, consumers told, refusals", async (t) => {
  const { b, client, call } = await setup(t);
  await sendMany(b, client, "RS", 5);
  await new Promise((r) => setTimeout(r, 30));
  const middle = Date.now();
  await new Promise((r) => setTimeout(r, 30));
  await sendMany(b, client, "RS", 5, 5);
  const commit = (group: string, offset: number) =>
    call(RequestCode.UPDATE_CONSUMER_OFFSET, {
      consumerGroup: group,
      topic: "RS",
      queueId: "0",
      commitOffset: String(offset),
    });
  assert.equal((await commit("CG_RS", 10)).code, ResponseCode.SUCCESS);

  // An online consumer of the group, on a connection of its own, hears of the reset.
  const consumer = new RemotingClient();
  t.after(() => consumer.close());
  const told: RemotingCommand[] = [];
  consumer.registerHandler(RequestCode.RESET_CONSUMER_CLIENT_OFFSET, (req) => {
    told.push(req);
    return undefined;
  });
  assert.equal(
    (await heartbeat(consumer, b.addr, "10.0.0.9@c1", [{ group: "CG_RS", topic: "RS" }])).code,
    ResponseCode.SUCCESS,
  );

  const reset = (header: Record<string, string>) =>
    call(RequestCode.INVOKE_BROKER_TO_RESET_OFFSET, { topic: "RS", group: "CG_RS", ...header });
  // As DefaultMQAdminExt sends it: offset -1 means "by time".
  const back = await reset({ timestamp: String(middle), isForce: "false", offset: "-1" });
  assert.equal(back.code, ResponseCode.SUCCESS, back.remark);
  const table = offsetTable(back.body, "RS", "broker-a");
  assert.equal(table.get(0), 5, "the first message stored after the timestamp is the sixth");
  assert.equal(b.server.broker.offsets.query("CG_RS", "RS", 0), 5);
  const q = await call(RequestCode.QUERY_CONSUMER_OFFSET, {
    consumerGroup: "CG_RS",
    topic: "RS",
    queueId: "0",
  });
  assert.equal(q.extFields["offset"], "5");
  // Every read queue of the topic; those with nothing on them go to 0.
  const queues = b.server.broker.topics.get("RS")!.readQueueNums;
  assert.ok(queues > 1);
  assert.deepEqual([...table.keys()].sort(), [...Array(queues).keys()]);
  assert.equal(table.get(queues - 1), 0);

  for (let i = 0; i < 50 && told.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
  assert.equal(told.length, 1, "the consumer got RESET_CONSUMER_CLIENT_OFFSET");
  assert.equal(told[0]!.extFields["topic"], "RS");
  assert.equal(told[0]!.extFields["group"], "CG_RS");
  assert.equal(told[0]!.extFields["timestamp"], String(middle));
  assert.equal(offsetTable(told[0]!.body, "RS", "broker-a").get(0), 5);

  // Without isForce a queue only moves back: resetting to the end (-1) keeps 5; with it, it goes to 10.
  const keep = await reset({ timestamp: "-1", isForce: "false" });
  assert.equal(offsetTable(keep.body, "RS", "broker-a").get(0), 5);
  const forced = await reset({ timestamp: "-1", isForce: "true" });
  assert.equal(offsetTable(forced.body, "RS", "broker-a").get(0), 10);
  assert.equal(b.server.broker.offsets.query("CG_RS", "RS", 0), 10);

  // RocketMQ 5's form: one queue to an exact offset; out of its range is refused.
  const exact = await reset({ timestamp: "0", isForce: "true", queueId: "0", offset: "7" });
  assert.deepEqual([...offsetTable(exact.body, "RS", "broker-a")], [[0, 7]]);
  assert.equal(b.server.broker.offsets.query("CG_RS", "RS", 0), 7);
  const outside = await reset({ timestamp: "0", isForce: "true", queueId: "0", offset: "999" });
  assert.equal(outside.code, ResponseCode.SYSTEM_ERROR);
  assert.match(outside.remark ?? "", /999/);
  assert.equal(b.server.broker.offsets.query("CG_RS", "RS", 0), 7);

  const noTime = await reset({ isForce: "true" });
  assert.equal(noTime.code, ResponseCode.MESSAGE_ILLEGAL);
  assert.match(noTime.remark ?? "", /timestamp/);
  const noTopic = await call(RequestCode.INVOKE_BROKER_TO_RESET_OFFSET, {
    topic: "NoSuchTopic",
    group: "CG_RS",
    timestamp: "0",
  });
  assert.equal(noTopic.code, ResponseCode.TOPIC_NOT_EXIST);
  const noGroup = await reset({ group: "NEVER_SEEN", timestamp: "0", isForce: "true" });
  assert.equal(noGroup.code, ResponseCode.SUBSCRIPTION_GROUP_NOT_EXIST);

  // A BROADCASTING group keeps its offsets in its clients: the broker refuses, as RocketMQ does.
  await heartbeat(consumer, b.addr, "10.0.0.9@c1", [{ group: "CG_BC", topic: "RS", model: "BROADCASTING" }]);
  const bc = await reset({ group: "CG_BC", timestamp: "0", isForce: "true" });
  assert.equal(bc.code, ResponseCode.SYSTEM_ERROR);
  assert.match(bc.remark ?? "", /BROADCASTING/);
});

test("CLONE_GROUP_OFFSET, QUERY_TOPIC_CONSUME_BY_WHO, QUERY_TOPICS_BY_CONSUMER, QUERY_CONSUME_TIME_SPAN", async (t) => {
  const { b, client, call } = await setup(t);
  const firstSent = Date.now();
  await sendMany(b, client, "CL", 4);
  await new Promise((r) => setTimeout(r, 30));
  const middle = Date.now();
  await new Promise((r) => setTimeout(r, 30));
  await sendMany(b, client, "CL", 4, 4);
  const lastSent = Date.now();
  await sendMany(b, client, "CL2", 1);
  const commit = (group: string, topic: string, offset: number) =>
    call(RequestCode.UPDATE_CONSUMER_OFFSET, {
      consumerGroup: group,
      topic,
      queueId: "0",
      commitOffset: String(offset),
    });
  await commit("SRC", "CL", 4);
  await commit("SRC", "CL2", 1);

  const one = await call(RequestCode.CLONE_GROUP_OFFSET, {
    srcGroup: "SRC",
    destGroup: "DST",
    topic: "CL",
    offline: "true",
  });
  assert.equal(one.code, ResponseCode.SUCCESS, one.remark);
  assert.equal(b.server.broker.offsets.query("DST", "CL", 0), 4);
  assert.equal(b.server.broker.offsets.query("DST", "CL2", 0), -1, "only the topic asked for");
  // No topic: every topic the source has offsets on.
  assert.equal(
    (await call(RequestCode.CLONE_GROUP_OFFSET, { srcGroup: "SRC", destGroup: "DST2", offline: "false" }))
      .code,
    ResponseCode.SUCCESS,
  );
  assert.equal(b.server.broker.offsets.query("DST2", "CL", 0), 4);
  assert.equal(b.server.broker.offsets.query("DST2", "CL2", 0), 1);
  const noSrc = await call(RequestCode.CLONE_GROUP_OFFSET, { destGroup: "DST" });
  assert.equal(noSrc.code, ResponseCode.MESSAGE_ILLEGAL);
  assert.match(noSrc.remark ?? "", /srcGroup/);

  // An online subscriber without offsets counts too.
  await heartbeat(client, b.addr, "10.0.0.8@c2", [{ group: "ONLINE_CL", topic: "CL" }]);
  const who = json(await call(RequestCode.QUERY_TOPIC_CONSUME_BY_WHO, { topic: "CL" }));
  assert.deepEqual(who["groupList"], ["DST", "DST2", "ONLINE_CL", "SRC"]);
  const byTopic2 = json(await call(RequestCode.QUERY_TOPIC_CONSUME_BY_WHO, { topic: "CL2" }));
  assert.deepEqual(byTopic2["groupList"], ["DST2", "SRC"]);
  const topics = json(await call(RequestCode.QUERY_TOPICS_BY_CONSUMER, { group: "SRC" }));
  assert.deepEqual(topics["topicList"], ["CL", "CL2"]);
  assert.equal(topics["brokerAddr"], b.server.broker.address);
  assert.equal((await call(RequestCode.QUERY_TOPIC_CONSUME_BY_WHO, {})).code, ResponseCode.MESSAGE_ILLEGAL);

  const span = json(await call(RequestCode.QUERY_CONSUME_TIME_SPAN, { topic: "CL", group: "SRC" }));
  const set = span["consumeTimeSpanSet"] as {
    messageQueue: { topic: string; brokerName: string; queueId: number };
    minTimeStamp: number;
    maxTimeStamp: number;
    consumeTimeStamp: number;
    delayTime: number;
  }[];
  assert.equal(set.length, b.server.broker.topics.get("CL")!.writeQueueNums, "one per write queue");
  const q0 = set.find((s) => s.messageQueue.queueId === 0)!;
  assert.deepEqual(q0.messageQueue, { topic: "CL", brokerName: "broker-a", queueId: 0 });
  assert.ok(q0.minTimeStamp >= firstSent && q0.minTimeStamp <= middle, "first message's store time");
  assert.ok(q0.consumeTimeStamp >= q0.minTimeStamp && q0.consumeTimeStamp <= middle, "4th message's time");
  assert.ok(q0.maxTimeStamp >= middle && q0.maxTimeStamp <= lastSent, "last message's time");
  // The next message (the 5th) was stored after `middle`, so it has waited less than since then.
  assert.ok(q0.delayTime > 0 && q0.delayTime <= Date.now() - middle, `delay ${q0.delayTime}`);
  const q1 = set.find((s) => s.messageQueue.queueId === 1)!;
  assert.equal(q1.minTimeStamp, -1);
  assert.equal(q1.delayTime, 0);
  assert.equal(
    (await call(RequestCode.QUERY_CONSUME_TIME_SPAN, { topic: "Nope", group: "SRC" })).code,
    ResponseCode.TOPIC_NOT_EXIST,
  );
});

test("GET_PRODUCER_CONNECTION_LIST and GET_TOPIC_CONFIG", async (t) => {
  const { b, client, call } = await setup(t);
  const none = await call(RequestCode.GET_PRODUCER_CONNECTION_LIST, { producerGroup: "PG_ADMIN" });
  assert.equal(none.code, ResponseCode.SYSTEM_ERROR);
  assert.match(none.remark ?? "", /PG_ADMIN/);

  assert.equal((await heartbeat(client, b.addr, "10.0.0.7@p1", [], ["PG_ADMIN"])).code, ResponseCode.SUCCESS);
  const conns = json(await call(RequestCode.GET_PRODUCER_CONNECTION_LIST, { producerGroup: "PG_ADMIN" }));
  const set = conns["connectionSet"] as {
    clientId: string;
    clientAddr: string;
    language: string;
    version: number;
  }[];
  assert.equal(set.length, 1);
  assert.equal(set[0]!.clientId, "10.0.0.7@p1");
  assert.equal(set[0]!.language, "JAVA");
  // The address the broker sees is the client's end of its connection.
  assert.equal(set[0]!.clientAddr, (await client.getConnection(b.addr)).localAddress);

  await sendMany(b, client, "TC", 1);
  const tc = json(await call(RequestCode.GET_TOPIC_CONFIG, { topic: "TC" }));
  assert.equal(tc["topicName"], "TC");
  assert.equal(tc["readQueueNums"], b.server.broker.topics.get("TC")!.readQueueNums);
  assert.equal(tc["perm"], Perm.READ_WRITE);
  const missing = await call(RequestCode.GET_TOPIC_CONFIG, { topic: "NoSuch" });
  assert.equal(missing.code, ResponseCode.TOPIC_NOT_EXIST);
  assert.equal((await call(RequestCode.GET_TOPIC_CONFIG, {})).code, ResponseCode.MESSAGE_ILLEGAL);
});

test("GET_CONSUME_STATS: per queue brokerOffset, consumerOffset and pullOffset (in flight = pull - consumer), consumeTps", async (t) => {
  const { b, client, call } = await setup(t);
  await sendMany(b, client, "CS", 10);
  const hb = await heartbeat(client, b.addr, "127.0.0.1@cs", [{ group: "GCS", topic: "CS" }]);
  assert.equal(hb.code, ResponseCode.SUCCESS);
  // The group pulls all ten and commits four (the rest are in flight at its client).
  const pulled = await client.invoke(b.addr, pullRequest("GCS", "CS", 0, 0), 3000);
  assert.equal(pulled.code, ResponseCode.SUCCESS, pulled.remark);
  const committed = await call(RequestCode.UPDATE_CONSUMER_OFFSET, {
    consumerGroup: "GCS",
    topic: "CS",
    queueId: "0",
    commitOffset: "4",
  });
  assert.equal(committed.code, ResponseCode.SUCCESS);
  // consumeTps is the group's delivery rate over the last one-second sample: ten in a second here.
  const rate = () => b.server.broker.stats.consumeTps.get("GCS") ?? 0;
  for (let i = 0; i < 40 && rate() === 0; i++) await new Promise((r) => setTimeout(r, 50));
  const stats = await call(RequestCode.GET_CONSUME_STATS, { consumerGroup: "GCS", topic: "CS" });
  assert.equal(stats.code, ResponseCode.SUCCESS, stats.remark);
  const text = stats.body!.toString();
  const q0 = /"queueId":0,"topic":"CS"\}:(\{[^}]*\})/.exec(text);
  assert.ok(q0, text);
  const entry = JSON.parse(q0[1]!) as Record<string, number>;
  assert.equal(entry["brokerOffset"], 10);
  assert.equal(entry["consumerOffset"], 4);
  assert.equal(
    entry["pullOffset"],
    10,
    "mqadmin's consumerProgress shows pullOffset - consumerOffset in flight",
  );
  const tps = Number(/"consumeTps":([\d.]+)/.exec(text)?.[1]);
  assert.ok(tps > 0 && tps <= 11, `consumeTps ${tps}: ${text}`);
  // The earliest store time: the first message's, or -1 for a queue with none (RocketMQ's answer; 0 was a date).
  const earliest = (queueId: number) =>
    call(RequestCode.GET_EARLIEST_MSG_STORETIME, { topic: "CS", queueId: String(queueId) }).then((r) =>
      Number(r.extFields.timestamp),
    );
  assert.equal(await earliest(0), b.server.broker.store.getStoreTime("CS", 0, 0));
  assert.equal(await earliest(1), -1);
  const none = await call(RequestCode.GET_CONSUME_STATS, { consumerGroup: "GNONE", topic: "CS" });
  assert.match(none.body!.toString(), /"consumeTps":0/);

  // System topics are the broker's: UPDATE_AND_CREATE_TOPIC may not redefine TBW102 (the template of new topics).
  const tbw = await call(RequestCode.UPDATE_AND_CREATE_TOPIC, {
    topic: "TBW102",
    readQueueNums: "1",
    writeQueueNums: "1",
    perm: "2",
  });
  assert.notEqual(tbw.code, ResponseCode.SUCCESS);
  assert.match(tbw.remark ?? "", /system topic/);
  assert.notEqual(b.server.broker.topics.get("TBW102")?.perm, 2);
});
