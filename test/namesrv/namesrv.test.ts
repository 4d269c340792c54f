// The NameServer over real sockets: a RemotingClient plays the brokers and the clients.

import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Perm, topicConfig } from "../../src/common/topic.js";
import type { TopicConfig } from "../../src/common/topic.js";
import type { Namesrv, NamesrvConfig } from "../../src/namesrv/namesrv.js";
import { createNamesrv } from "../../src/namesrv/namesrv.js";
import { RemotingClient } from "../../src/protocol/remoting/client.js";
import { createRequest } from "../../src/protocol/remoting/command.js";
import type { RemotingCommand } from "../../src/protocol/remoting/command.js";
import { RequestCode } from "../../src/protocol/remoting/request-code.js";
import { ResponseCode } from "../../src/protocol/remoting/response-code.js";
import {
  decodeDataVersion,
  decodeKVTable,
  decodeTopicList,
  encodeDataVersion,
  encodeRegisterBrokerBody,
  encodeTopicRouteData,
} from "../../src/protocol/remoting/namesrv/body-codec.js";
import type { BrokerRegistrationInfo } from "../../src/protocol/remoting/namesrv/namesrv-client.js";
import {
  NamesrvResponseError,
  deleteTopicInNamesrv,
  getAllTopicListFromNamesrv,
  getBrokerClusterInfo,
  getKvConfig,
  getRouteInfoByTopic,
  putKvConfig,
  registerBrokerToNamesrv,
  unregisterBrokerFromNamesrv,
} from "../../src/protocol/remoting/namesrv/namesrv-client.js";
import { rawPeer, sleep } from "../protocol/remoting/helpers.js";

interface Harness {
  ns: Namesrv;
  addr: string;
  client: RemotingClient;
  close(): Promise<void>;
}

async function harness(config: Partial<NamesrvConfig> = {}): Promise<Harness> {
  const ns = createNamesrv({ host: "127.0.0.1", port: 0, ...config });
  await ns.start();
  const client = new RemotingClient();
  return {
    ns,
    addr: `127.0.0.1:${ns.port}`,
    client,
    async close() {
      await client.close();
      await ns.stop();
    },
  };
}

const dv = { stateVersion: 0, timestamp: Date.now(), counter: 1 };

function broker(
  brokerName: string,
  port: number,
  topics: TopicConfig[],
  extra: Partial<BrokerRegistrationInfo> = {},
): BrokerRegistrationInfo {
  return {
    clusterName: "DefaultCluster",
    brokerName,
    brokerAddr: `127.0.0.1:${port}`,
    brokerId: 0,
    haServerAddr: `127.0.0.1:${port + 1}`,
    topicConfigs: topics,
    dataVersion: dv,
    ...extra,
  };
}

async function until(cond: () => boolean, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await sleep(10);
  }
}

test('register, then the route has the queue data and brokerAddrs {"0": addr}', async () => {
  const h = await harness();
  try {
    const reply = await registerBrokerToNamesrv(
      h.client,
      h.addr,
      broker("broker-a", 10911, [topicConfig("TopicA", 8)]),
    );
    assert.deepEqual(reply, {});
    const route = await getRouteInfoByTopic(h.client, h.addr, "TopicA");
    assert.deepEqual(route, {
      orderTopicConf: null,
      queueDatas: [{ brokerName: "broker-a", readQueueNums: 8, writeQueueNums: 8, perm: 6, topicSysFlag: 0 }],
      brokerDatas: [
        {
          cluster: "DefaultCluster",
          brokerName: "broker-a",
          brokerAddrs: { "0": "127.0.0.1:10911" },
          enableActingMaster: false,
        },
      ],
      filterServerTable: {},
    });
    // The raw body is the standard JSON ali-ons expects.
    const res = await h.client.invoke(
      h.addr,
      createRequest(RequestCode.GET_ROUTEINFO_BY_TOPIC, { topic: "TopicA" }),
      3000,
    );
    assert.equal(res.code, ResponseCode.SUCCESS);
    assert.match(res.body?.toString() ?? "", /^\{"orderTopicConf":null,"queueDatas":\[/);
    assert.match(res.body?.toString() ?? "", /"brokerAddrs":\{"0":"127\.0\.0\.1:10911"\}/);
  } finally {
    await h.close();
  }
});

test("two brokers in one cluster, a slave, cluster info and the topic list", async () => {
  const h = await harness();
  try {
    await registerBrokerToNamesrv(
      h.client,
      h.addr,
      broker("broker-a", 10911, [topicConfig("T", 4), topicConfig("OnlyA", 1)]),
    );
    await registerBrokerToNamesrv(h.client, h.addr, broker("broker-b", 10921, [topicConfig("T", 2)]));
    const slaveReply = await registerBrokerToNamesrv(
      h.client,
      h.addr,
      broker("broker-a", 10931, [topicConfig("T", 4)], { brokerId: 1, haServerAddr: "" }),
    );
    assert.deepEqual(slaveReply, { masterAddr: "127.0.0.1:10911", haServerAddr: "127.0.0.1:10912" });

    const route = await getRouteInfoByTopic(h.client, h.addr, "T");
    assert.deepEqual(
      route?.queueDatas.map((q) => [q.brokerName, q.writeQueueNums]),
      [
        ["broker-a", 4],
        ["broker-b", 2],
      ],
    );
    assert.deepEqual(route?.brokerDatas[0]?.brokerAddrs, { "0": "127.0.0.1:10911", "1": "127.0.0.1:10931" });
    assert.deepEqual(route?.brokerDatas[1]?.brokerAddrs, { "0": "127.0.0.1:10921" });

    const ci = await getBrokerClusterInfo(h.client, h.addr);
    assert.deepEqual(ci.clusterAddrTable, { DefaultCluster: ["broker-a", "broker-b"] });
    assert.deepEqual(ci.brokerAddrTable["broker-a"]?.brokerAddrs, {
      "0": "127.0.0.1:10911",
      "1": "127.0.0.1:10931",
    });

    assert.deepEqual(await getAllTopicListFromNamesrv(h.client, h.addr), ["OnlyA", "T"]);
    const byCluster = await h.client.invoke(
      h.addr,
      createRequest(RequestCode.GET_TOPICS_BY_CLUSTER, { cluster: "DefaultCluster" }),
      3000,
    );
    assert.deepEqual(decodeTopicList(byCluster.body).topicList, ["OnlyA", "T"]);
  } finally {
    await h.close();
  }
});

test("a silent broker expires on the scan (injected clock); the route disappears", async () => {
  let now = 1_000_000;
  const h = await harness({ now: () => now, brokerExpireMs: 120_000 });
  try {
    await registerBrokerToNamesrv(h.client, h.addr, broker("broker-a", 10911, [topicConfig("T", 4)]));
    await registerBrokerToNamesrv(h.client, h.addr, broker("broker-b", 10921, [topicConfig("T", 4)]));
    now += 60_000;
    await registerBrokerToNamesrv(h.client, h.addr, broker("broker-b", 10921, [topicConfig("T", 4)]));
    now += 60_001;
    const gone = h.ns.scanNotActiveBrokers();
    assert.deepEqual(
      gone.map((b) => b.brokerName),
      ["broker-a"],
    );
    const route = await getRouteInfoByTopic(h.client, h.addr, "T");
    assert.deepEqual(
      route?.brokerDatas.map((b) => b.brokerName),
      ["broker-b"],
    );
    // broker-b still registers over that connection, so it stayed open; once broker-b expires too, the
    // NameServer closes it (as Java closes an expired broker's channel).
    const closed = new Promise<void>((resolve) => h.client.once("connectionClose", () => resolve()));
    now += 120_001;
    h.ns.scanNotActiveBrokers();
    await closed;
    assert.equal(await getRouteInfoByTopic(h.client, h.addr, "T"), undefined);
  } finally {
    await h.close();
  }
});

test("a tiny expiry and scan interval expire a broker on the timer", async () => {
  // Long enough that the assertion right after registering cannot race the first scan on a loaded machine.
  const h = await harness({ brokerExpireMs: 400, scanIntervalMs: 20 });
  try {
    await registerBrokerToNamesrv(h.client, h.addr, broker("broker-a", 10911, [topicConfig("T", 4)]));
    assert.equal(h.ns.registry.liveBrokers().length, 1);
    await until(() => h.ns.registry.liveBrokers().length === 0);
    // The expired broker's connection was closed; the client reconnects on its next call (a call that raced
    // the close fails with a connection error and is retried, as a real client does).
    let route: Awaited<ReturnType<typeof getRouteInfoByTopic>> | "failed" = "failed";
    for (let i = 0; i < 3 && route === "failed"; i++) {
      route = await getRouteInfoByTopic(h.client, h.addr, "T").catch(() => "failed" as const);
    }
    assert.equal(route, undefined);
  } finally {
    await h.close();
  }
});

test("closing the broker's connection removes it at once", async () => {
  const h = await harness();
  const brokerClient = new RemotingClient();
  try {
    await registerBrokerToNamesrv(brokerClient, h.addr, broker("broker-a", 10911, [topicConfig("T", 4)]));
    await registerBrokerToNamesrv(h.client, h.addr, broker("broker-b", 10921, [topicConfig("T", 4)]));
    await brokerClient.close();
    await until(() => h.ns.registry.liveBrokers().length === 1);
    const route = await getRouteInfoByTopic(h.client, h.addr, "T");
    assert.deepEqual(
      route?.brokerDatas.map((b) => b.brokerName),
      ["broker-b"],
    );
  } finally {
    await brokerClient.close();
    await h.close();
  }
});

test("unregister removes the broker and its topics", async () => {
  const h = await harness();
  try {
    const info = broker("broker-a", 10911, [topicConfig("T", 4)]);
    await registerBrokerToNamesrv(h.client, h.addr, info);
    await unregisterBrokerFromNamesrv(h.client, h.addr, info);
    assert.equal(await getRouteInfoByTopic(h.client, h.addr, "T"), undefined);
    assert.deepEqual(await getBrokerClusterInfo(h.client, h.addr), {
      brokerAddrTable: {},
      clusterAddrTable: {},
    });
  } finally {
    await h.close();
  }
});

test("unknown topic: TOPIC_NOT_EXIST without a TBW102-inherit broker, an auto route with one", async () => {
  const h = await harness();
  try {
    await registerBrokerToNamesrv(
      h.client,
      h.addr,
      broker("broker-a", 10911, [topicConfig("TBW102", 8, Perm.READ_WRITE)]),
    );
    const res = await h.client.invoke(
      h.addr,
      createRequest(RequestCode.GET_ROUTEINFO_BY_TOPIC, { topic: "Fresh" }),
      3000,
    );
    assert.equal(res.code, ResponseCode.TOPIC_NOT_EXIST);
    assert.match(res.remark ?? "", /No topic route info in name server for the topic: Fresh/);
    assert.equal(await getRouteInfoByTopic(h.client, h.addr, "Fresh"), undefined);

    await registerBrokerToNamesrv(
      h.client,
      h.addr,
      broker("broker-a", 10911, [topicConfig("TBW102", 8, 7)], { dataVersion: { ...dv, counter: 2 } }),
    );
    const route = await getRouteInfoByTopic(h.client, h.addr, "Fresh");
    assert.deepEqual(route?.queueDatas, [
      { brokerName: "broker-a", readQueueNums: 4, writeQueueNums: 4, perm: 6, topicSysFlag: 0 },
    ]);
    assert.deepEqual(route?.brokerDatas[0]?.brokerAddrs, { "0": "127.0.0.1:10911" });
    assert.equal(await getRouteInfoByTopic(h.client, h.addr, "%RETRY%group"), undefined);
  } finally {
    await h.close();
  }
  const off = await harness({ autoCreateTopicRoutes: false });
  try {
    await registerBrokerToNamesrv(
      off.client,
      off.addr,
      broker("broker-a", 10911, [topicConfig("TBW102", 8, 7)]),
    );
    assert.equal(await getRouteInfoByTopic(off.client, off.addr, "Fresh"), undefined);
  } finally {
    await off.close();
  }
});

test("delete topic, register topic and the DELETE_TOPIC_IN_NAMESRV cluster filter", async () => {
  const h = await harness();
  try {
    await registerBrokerToNamesrv(
      h.client,
      h.addr,
      broker("broker-a", 10911, [topicConfig("T", 4), topicConfig("U", 4)]),
    );
    await deleteTopicInNamesrv(h.client, h.addr, "T");
    assert.equal(await getRouteInfoByTopic(h.client, h.addr, "T"), undefined);
    await deleteTopicInNamesrv(h.client, h.addr, "U", "OtherCluster");
    assert.ok(await getRouteInfoByTopic(h.client, h.addr, "U"));
    await deleteTopicInNamesrv(h.client, h.addr, "U", "DefaultCluster");
    assert.deepEqual(await getAllTopicListFromNamesrv(h.client, h.addr), []);

    const body = encodeTopicRouteData({
      orderTopicConf: null,
      queueDatas: [{ brokerName: "broker-a", readQueueNums: 2, writeQueueNums: 2, perm: 6, topicSysFlag: 0 }],
      brokerDatas: [],
      filterServerTable: {},
    });
    const res = await h.client.invoke(
      h.addr,
      createRequest(RequestCode.REGISTER_TOPIC_IN_NAMESRV, { topic: "R" }, body),
      3000,
    );
    assert.equal(res.code, ResponseCode.SUCCESS);
    assert.equal((await getRouteInfoByTopic(h.client, h.addr, "R"))?.queueDatas[0]?.writeQueueNums, 2);
  } finally {
    await h.close();
  }
});

test("KV config round trip, persisted to kvConfigPath, and ORDER_TOPIC_CONFIG in routes and register replies", async () => {
  const dir = mkdtempSync(join(tmpdir(), "namesrv-kv-"));
  const kvConfigPath = join(dir, "kvConfig.json");
  const h = await harness({ kvConfigPath, orderMessageEnable: true });
  try {
    await putKvConfig(h.client, h.addr, "ns1", "k1", "v1");
    await putKvConfig(h.client, h.addr, "ns1", "k2", "v2");
    assert.equal(await getKvConfig(h.client, h.addr, "ns1", "k1"), "v1");
    assert.equal(await getKvConfig(h.client, h.addr, "ns1", "nope"), undefined);
    const list = await h.client.invoke(
      h.addr,
      createRequest(RequestCode.GET_KVLIST_BY_NAMESPACE, { namespace: "ns1" }),
      3000,
    );
    assert.deepEqual(decodeKVTable(list.body), { k1: "v1", k2: "v2" });
    const del = await h.client.invoke(
      h.addr,
      createRequest(RequestCode.DELETE_KV_CONFIG, { namespace: "ns1", key: "k1" }),
      3000,
    );
    assert.equal(del.code, ResponseCode.SUCCESS);
    assert.equal(await getKvConfig(h.client, h.addr, "ns1", "k1"), undefined);
    const missing = await h.client.invoke(
      h.addr,
      createRequest(RequestCode.GET_KVLIST_BY_NAMESPACE, { namespace: "none" }),
      3000,
    );
    assert.equal(missing.code, ResponseCode.QUERY_NOT_FOUND);
    assert.deepEqual(JSON.parse(readFileSync(kvConfigPath, "utf8")), { configTable: { ns1: { k2: "v2" } } });

    await putKvConfig(h.client, h.addr, "ORDER_TOPIC_CONFIG", "T", "broker-a:4");
    const reply = await registerBrokerToNamesrv(
      h.client,
      h.addr,
      broker("broker-a", 10911, [topicConfig("T", 4)]),
    );
    assert.deepEqual(reply.orderTopicConfig, { T: "broker-a:4" });
    assert.equal((await getRouteInfoByTopic(h.client, h.addr, "T"))?.orderTopicConf, "broker-a:4");
  } finally {
    await h.close();
  }
  const again = await harness({ kvConfigPath });
  try {
    assert.equal(await getKvConfig(again.client, again.addr, "ns1", "k2"), "v2");
  } finally {
    await again.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

/** A JSON-header frame written by hand, so ext-field values can be JSON numbers and booleans as ali-ons sends. */
function rawFrame(header: object, body?: Buffer): Buffer {
  const h = Buffer.from(JSON.stringify(header));
  const b = body ?? Buffer.alloc(0);
  const out = Buffer.alloc(8 + h.length + b.length);
  out.writeInt32BE(4 + h.length + b.length, 0);
  out.writeInt32BE(h.length, 4);
  h.copy(out, 8);
  b.copy(out, 8 + h.length);
  return out;
}

test("ext fields sent as JSON numbers and booleans are accepted", async () => {
  const h = await harness();
  const peer = await rawPeer(h.ns.port);
  try {
    const body = encodeRegisterBrokerBody([topicConfig("N", 2)], dv);
    peer.socket.write(
      rawFrame(
        {
          code: 103,
          language: "JAVA",
          version: 121,
          opaque: 1,
          flag: 0,
          extFields: {
            brokerName: "broker-n",
            brokerAddr: "127.0.0.1:10911",
            clusterName: "DefaultCluster",
            haServerAddr: "",
            brokerId: 0,
            compressed: false,
            bodyCrc32: 0,
            heartbeatTimeoutMillis: 30000,
          },
        },
        body,
      ),
    );
    peer.socket.write(
      rawFrame({ code: 105, language: "JAVA", version: 121, opaque: 2, flag: 0, extFields: { topic: "N" } }),
    );
    const [reg, route] = await peer.waitFor(2);
    assert.equal(reg?.code, ResponseCode.SUCCESS);
    assert.equal(reg?.opaque, 1);
    assert.equal(route?.code, ResponseCode.SUCCESS);
    assert.match(route?.body?.toString() ?? "", /"brokerName":"broker-n"/);
    assert.equal(h.ns.registry.liveBrokers()[0]?.heartbeatTimeoutMs, 30000);
  } finally {
    peer.socket.destroy();
    await h.close();
  }
});

async function call(
  h: Harness,
  code: number,
  ext: Record<string, string>,
  body?: Buffer,
): Promise<RemotingCommand> {
  return h.client.invoke(h.addr, createRequest(code, ext, body), 3000);
}

test("malformed requests get an error response and the NameServer keeps serving", async () => {
  const h = await harness();
  try {
    const ext = {
      brokerName: "broker-a",
      brokerAddr: "127.0.0.1:10911",
      clusterName: "DefaultCluster",
      haServerAddr: "",
      brokerId: "0",
    };
    const badJson = await call(h, RequestCode.REGISTER_BROKER, ext, Buffer.from("{not json"));
    assert.equal(badJson.code, ResponseCode.SYSTEM_ERROR);
    assert.match(badJson.remark ?? "", /RegisterBrokerBody: not JSON/);

    const badShape = await call(
      h,
      RequestCode.REGISTER_BROKER,
      ext,
      Buffer.from('{"topicConfigSerializeWrapper":{"topicConfigTable":{"T":{"perm":"x"}}}}'),
    );
    assert.equal(badShape.code, ResponseCode.SYSTEM_ERROR);
    assert.match(badShape.remark ?? "", /perm is not an integer/);

    const badZip = await call(
      h,
      RequestCode.REGISTER_BROKER,
      { ...ext, compressed: "true" },
      Buffer.from("nope"),
    );
    assert.equal(badZip.code, ResponseCode.SYSTEM_ERROR);

    const body = encodeRegisterBrokerBody([topicConfig("T", 4)], dv);
    const badCrc = await call(h, RequestCode.REGISTER_BROKER, { ...ext, bodyCrc32: "12345" }, body);
    assert.equal(badCrc.code, ResponseCode.SYSTEM_ERROR);
    assert.equal(badCrc.remark, "crc32 not match");

    const { brokerAddr: _omit, ...noAddr } = ext;
    const missing = await call(h, RequestCode.REGISTER_BROKER, noAddr, body);
    assert.equal(missing.code, ResponseCode.SYSTEM_ERROR);
    assert.match(missing.remark ?? "", /brokerAddr/);

    const badId = await call(h, RequestCode.REGISTER_BROKER, { ...ext, brokerId: "zero" }, body);
    assert.equal(badId.code, ResponseCode.SYSTEM_ERROR);
    assert.match(badId.remark ?? "", /brokerId/);

    const noTopic = await call(h, RequestCode.GET_ROUTEINFO_BY_TOPIC, {});
    assert.equal(noTopic.code, ResponseCode.SYSTEM_ERROR);
    const noValue = await call(h, RequestCode.PUT_KV_CONFIG, { namespace: "n", key: "k" });
    assert.equal(noValue.code, ResponseCode.SYSTEM_ERROR);
    const unsupported = await call(h, RequestCode.PULL_MESSAGE, { topic: "T" });
    assert.equal(unsupported.code, ResponseCode.REQUEST_CODE_NOT_SUPPORTED);

    assert.deepEqual(h.ns.registry.liveBrokers(), []);
    const ok = await call(h, RequestCode.REGISTER_BROKER, ext, body);
    assert.equal(ok.code, ResponseCode.SUCCESS);
    assert.ok(await getRouteInfoByTopic(h.client, h.addr, "T"));
  } finally {
    await h.close();
  }
});

test("compressed registration, heartbeat and QUERY_DATA_VERSION", async () => {
  let now = 5_000_000;
  const h = await harness({ now: () => now });
  try {
    const info = broker("broker-a", 10911, [topicConfig("T", 4)], {
      compressed: true,
      heartbeatTimeoutMs: 10_000,
    });
    await registerBrokerToNamesrv(h.client, h.addr, info);
    assert.equal((await getRouteInfoByTopic(h.client, h.addr, "T"))?.queueDatas[0]?.readQueueNums, 4);

    const who = {
      clusterName: "DefaultCluster",
      brokerAddr: "127.0.0.1:10911",
      brokerName: "broker-a",
      brokerId: "0",
    };
    const same = await call(h, RequestCode.QUERY_DATA_VERSION, who, encodeDataVersion(dv));
    assert.equal(same.extFields["changed"], "false");
    assert.deepEqual(decodeDataVersion(same.body), dv);
    const newer = await call(
      h,
      RequestCode.QUERY_DATA_VERSION,
      who,
      encodeDataVersion({ ...dv, counter: dv.counter + 1 }),
    );
    assert.equal(newer.extFields["changed"], "true");

    now += 9_000;
    assert.equal((await call(h, RequestCode.BROKER_HEARTBEAT, who)).code, ResponseCode.SUCCESS);
    now += 9_000;
    assert.deepEqual(h.ns.scanNotActiveBrokers(), [], "the heartbeat kept it alive");
    now += 1_001;
    assert.equal(h.ns.scanNotActiveBrokers().length, 1);
  } finally {
    await h.close();
  }
});

test("errors from the client helpers carry the response code", async () => {
  const h = await harness({ enableTopicList: false });
  try {
    await assert.rejects(getAllTopicListFromNamesrv(h.client, h.addr), (e: unknown) => {
      return (
        e instanceof NamesrvResponseError &&
        e.responseCode === ResponseCode.SYSTEM_ERROR &&
        e.remark === "disable"
      );
    });
  } finally {
    await h.close();
  }
});

test("config is validated with errors naming the field", () => {
  assert.throws(() => createNamesrv({ port: -1 }), /port/);
  assert.throws(() => createNamesrv({ port: 0, brokerExpireMs: 0 }), /brokerExpireMs/);
  assert.throws(() => createNamesrv({ port: 0, scanIntervalMs: 1.5 }), /scanIntervalMs/);
});
