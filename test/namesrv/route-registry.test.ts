import { test } from "node:test";
import assert from "node:assert/strict";
import { Perm, topicConfig } from "../../src/common/topic.js";
import type { TopicConfig } from "../../src/common/topic.js";
import type { BrokerRegistration, RouteRegistryOptions } from "../../src/namesrv/route-registry.js";
import { RouteRegistry } from "../../src/namesrv/route-registry.js";
import { KvConfigStore } from "../../src/namesrv/kv-config.js";

function fakeClock(start = 1_000_000): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => (t += ms) };
}

function reg(
  brokerName: string,
  brokerAddr: string,
  topics: TopicConfig[],
  extra: Partial<BrokerRegistration> = {},
): BrokerRegistration {
  return {
    clusterName: "DefaultCluster",
    brokerName,
    brokerAddr,
    brokerId: 0,
    haServerAddr: "",
    topicConfigs: topics,
    dataVersion: { stateVersion: 0, timestamp: 1, counter: 1 },
    enableActingMaster: false,
    ...extra,
  };
}

function registry(opts: RouteRegistryOptions = {}): RouteRegistry {
  return new RouteRegistry(opts);
}

test("a master's registration publishes its topics with QueueData and BrokerData", () => {
  const r = registry();
  const out = r.registerBroker(
    reg("broker-a", "10.0.0.1:10911", [topicConfig("T1", 8), topicConfig("T2", 2, Perm.READ)]),
  );
  assert.deepEqual(out, { newBroker: true });
  const route = r.pickupTopicRoute("T1");
  assert.deepEqual(route, {
    orderTopicConf: null,
    queueDatas: [{ brokerName: "broker-a", readQueueNums: 8, writeQueueNums: 8, perm: 6, topicSysFlag: 0 }],
    brokerDatas: [
      {
        cluster: "DefaultCluster",
        brokerName: "broker-a",
        brokerAddrs: { "0": "10.0.0.1:10911" },
        enableActingMaster: false,
      },
    ],
    filterServerTable: {},
  });
  assert.equal(r.pickupTopicRoute("T2")?.queueDatas[0]?.perm, Perm.READ);
  assert.equal(r.pickupTopicRoute("nope"), undefined);
  assert.deepEqual(r.getAllTopicList(), ["T1", "T2"]);
  // Re-registering is not new; with the same data version it changes nothing (RocketMQ's isTopicConfigChanged)...
  r.registerBroker(reg("broker-a", "10.0.0.1:10911", [topicConfig("T1", 4)]));
  assert.equal(r.pickupTopicRoute("T1")?.queueDatas[0]?.writeQueueNums, 8);
  // ...and with the next one it changes the queue counts.
  const again = r.registerBroker(
    reg("broker-a", "10.0.0.1:10911", [topicConfig("T1", 4)], {
      dataVersion: { stateVersion: 0, timestamp: 1, counter: 2 },
    }),
  );
  assert.equal(again.newBroker, false);
  assert.equal(r.pickupTopicRoute("T1")?.queueDatas[0]?.writeQueueNums, 4);
  // A registration never drops topics it does not list (increment registrations), by default.
  assert.ok(r.pickupTopicRoute("T2"));
});

test("two groups in one cluster share a topic; cluster info and topics by cluster", () => {
  const r = registry();
  r.registerBroker(reg("broker-b", "10.0.0.2:10911", [topicConfig("T", 4), topicConfig("OnlyB", 1)]));
  r.registerBroker(reg("broker-a", "10.0.0.1:10911", [topicConfig("T", 4)]));
  r.registerBroker(reg("broker-x", "10.0.0.9:10911", [topicConfig("X", 1)], { clusterName: "Other" }));
  const route = r.pickupTopicRoute("T");
  assert.deepEqual(
    route?.queueDatas.map((q) => q.brokerName),
    ["broker-a", "broker-b"],
  );
  assert.deepEqual(
    route?.brokerDatas.map((b) => b.brokerAddrs["0"]),
    ["10.0.0.1:10911", "10.0.0.2:10911"],
  );
  const ci = r.getClusterInfo();
  assert.deepEqual(ci.clusterAddrTable, { DefaultCluster: ["broker-a", "broker-b"], Other: ["broker-x"] });
  assert.deepEqual(Object.keys(ci.brokerAddrTable), ["broker-a", "broker-b", "broker-x"]);
  assert.equal(ci.brokerAddrTable["broker-x"]?.cluster, "Other");
  assert.deepEqual(r.getTopicsByCluster("DefaultCluster"), ["OnlyB", "T"]);
  assert.deepEqual(r.getTopicsByCluster("Other"), ["X"]);
  assert.deepEqual(r.getTopicsByCluster("missing"), []);
});

test("a slave joins brokerAddrs under its id, learns its master and does not write queue data", () => {
  const r = registry();
  r.registerBroker(
    reg("broker-a", "10.0.0.1:10911", [topicConfig("T", 4)], { haServerAddr: "10.0.0.1:10912" }),
  );
  const slave = r.registerBroker(
    reg("broker-a", "10.0.0.3:10911", [topicConfig("T", 4, Perm.READ), topicConfig("SlaveOnly", 1)], {
      brokerId: 1,
    }),
  );
  assert.deepEqual(slave, { newBroker: true, masterAddr: "10.0.0.1:10911", haServerAddr: "10.0.0.1:10912" });
  const route = r.pickupTopicRoute("T");
  assert.deepEqual(route?.brokerDatas[0]?.brokerAddrs, { "0": "10.0.0.1:10911", "1": "10.0.0.3:10911" });
  assert.equal(route?.queueDatas[0]?.perm, 6);
  assert.equal(r.pickupTopicRoute("SlaveOnly"), undefined);
  // The slave leaving keeps the group and its topics.
  r.unregisterBroker({
    clusterName: "DefaultCluster",
    brokerName: "broker-a",
    brokerAddr: "10.0.0.3:10911",
    brokerId: 1,
  });
  assert.deepEqual(r.pickupTopicRoute("T")?.brokerDatas[0]?.brokerAddrs, { "0": "10.0.0.1:10911" });
});

test("a slave promoted to master keeps one entry per address", () => {
  const r = registry();
  r.registerBroker(reg("broker-a", "10.0.0.3:10911", [topicConfig("T", 4)], { brokerId: 1 }));
  r.registerBroker(reg("broker-a", "10.0.0.3:10911", [topicConfig("T", 4)], { brokerId: 0 }));
  assert.deepEqual(r.getClusterInfo().brokerAddrTable["broker-a"]?.brokerAddrs, { "0": "10.0.0.3:10911" });
});

test("brokers silent longer than their timeout expire on the scan; their topics go with them", () => {
  const clock = fakeClock();
  const r = registry({ now: clock.now, brokerExpireMs: 120_000 });
  r.registerBroker(reg("broker-a", "10.0.0.1:10911", [topicConfig("T", 4), topicConfig("A", 1)]));
  r.registerBroker(reg("broker-b", "10.0.0.2:10911", [topicConfig("T", 4)], { heartbeatTimeoutMs: 10_000 }));
  clock.advance(10_001);
  const first = r.scanNotActiveBrokers();
  assert.deepEqual(
    first.map((b) => [b.brokerName, b.brokerId, b.brokerAddr]),
    [["broker-b", 0, "10.0.0.2:10911"]],
  );
  assert.deepEqual(
    r.pickupTopicRoute("T")?.queueDatas.map((q) => q.brokerName),
    ["broker-a"],
  );
  clock.advance(100_000);
  r.registerBroker(reg("broker-a", "10.0.0.1:10911", [topicConfig("T", 4)])); // the 30 s re-registration
  clock.advance(119_000);
  assert.deepEqual(r.scanNotActiveBrokers(), []);
  assert.equal(r.touchBroker("DefaultCluster", "10.0.0.1:10911"), true);
  clock.advance(119_000);
  assert.deepEqual(r.scanNotActiveBrokers(), []);
  clock.advance(1_001);
  assert.equal(r.scanNotActiveBrokers().length, 1);
  assert.equal(r.pickupTopicRoute("T"), undefined);
  assert.equal(r.pickupTopicRoute("A"), undefined);
  assert.deepEqual(r.getAllTopicList(), []);
  assert.deepEqual(r.getClusterInfo(), { brokerAddrTable: {}, clusterAddrTable: {} });
  assert.equal(r.touchBroker("DefaultCluster", "10.0.0.1:10911"), false);
});

test("connectionClosed removes every broker registered over that connection, and only those", () => {
  const r = registry();
  r.registerBroker(reg("broker-a", "10.0.0.1:10911", [topicConfig("T", 4)], { channel: "10.0.0.1:50001" }));
  r.registerBroker(reg("broker-b", "10.0.0.2:10911", [topicConfig("T", 4)], { channel: "10.0.0.2:50002" }));
  assert.equal(r.brokersOnChannel("10.0.0.1:50001"), 1);
  assert.deepEqual(r.connectionClosed("10.9.9.9:1"), []);
  const gone = r.connectionClosed("10.0.0.1:50001");
  assert.deepEqual(
    gone.map((b) => b.brokerName),
    ["broker-a"],
  );
  assert.deepEqual(
    r.pickupTopicRoute("T")?.queueDatas.map((q) => q.brokerName),
    ["broker-b"],
  );
  assert.equal(r.liveBrokers().length, 1);
});

test("unregister drops the group's topics and the cluster once its last address leaves", () => {
  const r = registry();
  r.registerBroker(reg("broker-a", "10.0.0.1:10911", [topicConfig("T", 4)]));
  assert.equal(
    r.unregisterBroker({
      clusterName: "DefaultCluster",
      brokerName: "broker-a",
      brokerAddr: "10.0.0.1:10911",
      brokerId: 0,
    }),
    true,
  );
  assert.equal(r.pickupTopicRoute("T"), undefined);
  assert.deepEqual(r.getClusterInfo(), { brokerAddrTable: {}, clusterAddrTable: {} });
  assert.equal(
    r.unregisterBroker({
      clusterName: "DefaultCluster",
      brokerName: "broker-a",
      brokerAddr: "10.0.0.1:10911",
      brokerId: 0,
    }),
    false,
  );
});

test("a stale address for a broker id yields to the holder with the newer stateVersion", () => {
  const r = registry();
  r.registerBroker(
    reg("broker-a", "10.0.0.1:10911", [topicConfig("T", 4)], {
      dataVersion: { stateVersion: 5, timestamp: 1, counter: 1 },
    }),
  );
  const stale = r.registerBroker(
    reg("broker-a", "10.0.0.2:10911", [topicConfig("T", 1)], {
      dataVersion: { stateVersion: 4, timestamp: 1, counter: 1 },
    }),
  );
  assert.deepEqual(stale, { newBroker: false, conflict: true });
  assert.deepEqual(r.pickupTopicRoute("T")?.brokerDatas[0]?.brokerAddrs, { "0": "10.0.0.1:10911" });
  assert.equal(r.pickupTopicRoute("T")?.queueDatas[0]?.writeQueueNums, 4);
  const newer = r.registerBroker(
    reg("broker-a", "10.0.0.2:10911", [topicConfig("T", 1)], {
      dataVersion: { stateVersion: 6, timestamp: 1, counter: 1 },
    }),
  );
  assert.equal(newer.conflict, undefined);
  assert.deepEqual(r.pickupTopicRoute("T")?.brokerDatas[0]?.brokerAddrs, { "0": "10.0.0.2:10911" });
});

test("a one-topic first registration is accepted (Java would refuse it as an increment)", () => {
  const r = registry();
  assert.deepEqual(r.registerBroker(reg("broker-a", "10.0.0.1:10911", [topicConfig("T", 4)])), {
    newBroker: true,
  });
  assert.ok(r.pickupTopicRoute("T"));
});

test("deleteTopic everywhere or per cluster; deleteTopicWithBrokerRegistration prunes unlisted topics", () => {
  const r = registry();
  r.registerBroker(reg("broker-a", "10.0.0.1:10911", [topicConfig("T", 4), topicConfig("U", 4)]));
  r.registerBroker(reg("broker-x", "10.0.0.9:10911", [topicConfig("T", 4)], { clusterName: "Other" }));
  assert.equal(r.deleteTopic("T", "Other"), true);
  assert.deepEqual(
    r.pickupTopicRoute("T")?.queueDatas.map((q) => q.brokerName),
    ["broker-a"],
  );
  assert.equal(r.deleteTopic("T"), true);
  assert.equal(r.pickupTopicRoute("T"), undefined);
  assert.equal(r.deleteTopic("T"), false);

  const p = registry({ deleteTopicWithBrokerRegistration: true });
  p.registerBroker(reg("broker-a", "10.0.0.1:10911", [topicConfig("T", 4), topicConfig("U", 4)]));
  p.registerBroker(reg("broker-a", "10.0.0.1:10911", [topicConfig("T", 4), topicConfig("V", 4)]));
  assert.deepEqual(p.getAllTopicList(), ["T", "V"]);
});

test("registerTopic sets queue data only on registered groups", () => {
  const r = registry();
  r.registerBroker(reg("broker-a", "10.0.0.1:10911", []));
  const qd = { brokerName: "broker-a", readQueueNums: 2, writeQueueNums: 2, perm: 6, topicSysFlag: 0 };
  assert.equal(r.registerTopic("N", [{ ...qd, brokerName: "ghost" }]), false);
  assert.equal(r.pickupTopicRoute("N"), undefined);
  assert.equal(r.registerTopic("N", [qd]), true);
  assert.deepEqual(r.pickupTopicRoute("N")?.queueDatas, [qd]);
});

test("unknown topics: no route without an INHERIT TBW102, an auto route with one", () => {
  const r = registry();
  r.registerBroker(reg("broker-a", "10.0.0.1:10911", [topicConfig("TBW102", 8, Perm.READ_WRITE)]));
  assert.equal(r.getTopicRoute("NewTopic"), undefined, "TBW102 without INHERIT gives nothing");

  // A changed topic table comes with the broker's next data version (the same version would be ignored).
  r.registerBroker(
    reg("broker-a", "10.0.0.1:10911", [topicConfig("TBW102", 8, Perm.READ_WRITE | Perm.INHERIT)], {
      dataVersion: { stateVersion: 0, timestamp: 1, counter: 2 },
    }),
  );
  r.registerBroker(reg("broker-b", "10.0.0.2:10911", [topicConfig("TBW102", 2, 7)]));
  r.registerBroker(reg("broker-c", "10.0.0.3:10911", [topicConfig("Plain", 2)]));
  const route = r.getTopicRoute("NewTopic");
  assert.deepEqual(route?.queueDatas, [
    { brokerName: "broker-a", readQueueNums: 4, writeQueueNums: 4, perm: 6, topicSysFlag: 0 },
    { brokerName: "broker-b", readQueueNums: 2, writeQueueNums: 2, perm: 6, topicSysFlag: 0 },
  ]);
  assert.deepEqual(
    route?.brokerDatas.map((b) => b.brokerName),
    ["broker-a", "broker-b"],
  );
  assert.equal(r.pickupTopicRoute("NewTopic"), undefined, "the auto route is not stored");
  assert.ok(!r.getAllTopicList().includes("NewTopic"));
  // Registered topics keep their own route; bad names, system, retry and DLQ topics get none.
  assert.equal(r.getTopicRoute("Plain")?.queueDatas.length, 1);
  for (const t of ["bad topic!", "", "SCHEDULE_TOPIC_XXXX", "rmq_sys_x", "%RETRY%g", "%DLQ%g"]) {
    assert.equal(r.getTopicRoute(t), undefined, t);
  }
  const off = registry({ autoCreateTopicRoutes: false });
  off.registerBroker(reg("broker-a", "10.0.0.1:10911", [topicConfig("TBW102", 8, 7)]));
  assert.equal(off.getTopicRoute("NewTopic"), undefined);
  const eight = registry({ autoCreateQueueNums: 16 });
  eight.registerBroker(reg("broker-a", "10.0.0.1:10911", [topicConfig("TBW102", 8, 7)]));
  assert.equal(eight.getTopicRoute("NewTopic")?.queueDatas[0]?.writeQueueNums, 8);
});

test("data versions: changed until the same version is registered", () => {
  const r = registry();
  const dv = { stateVersion: 1, timestamp: 2, counter: 3 };
  assert.equal(r.isBrokerTopicConfigChanged("DefaultCluster", "10.0.0.1:10911", dv), true);
  r.registerBroker(reg("broker-a", "10.0.0.1:10911", [], { dataVersion: dv }));
  assert.equal(r.isBrokerTopicConfigChanged("DefaultCluster", "10.0.0.1:10911", dv), false);
  assert.equal(r.isBrokerTopicConfigChanged("DefaultCluster", "10.0.0.1:10911", { ...dv, counter: 4 }), true);
  assert.deepEqual(r.brokerDataVersion("DefaultCluster", "10.0.0.1:10911"), dv);
});

test("filter servers appear in the route's filterServerTable", () => {
  const r = registry();
  r.registerBroker(
    reg("broker-a", "10.0.0.1:10911", [topicConfig("T", 1)], { filterServerList: ["10.0.0.1:20000"] }),
  );
  assert.deepEqual(r.pickupTopicRoute("T")?.filterServerTable, { "10.0.0.1:10911": ["10.0.0.1:20000"] });
  r.registerBroker(reg("broker-a", "10.0.0.1:10911", [topicConfig("T", 1)], { filterServerList: [] }));
  assert.deepEqual(r.pickupTopicRoute("T")?.filterServerTable, {});
});

test("KV config store: put, get, delete, list, snapshot and change notifications", () => {
  let changes = 0;
  const kv = new KvConfigStore(() => changes++);
  kv.put("ns", "a", "1");
  kv.put("ns", "a", "1");
  kv.put("ns", "b", "2");
  assert.equal(changes, 2);
  assert.equal(kv.get("ns", "a"), "1");
  assert.deepEqual(kv.list("ns"), { a: "1", b: "2" });
  assert.equal(kv.list("other"), undefined);
  assert.equal(kv.delete("ns", "a"), true);
  assert.equal(kv.delete("ns", "a"), false);
  assert.equal(changes, 3);
  const copy = new KvConfigStore();
  copy.load(kv.snapshot());
  assert.deepEqual(copy.snapshot(), { ns: { b: "2" } });
});
