import { test } from "node:test";
import assert from "node:assert/strict";
import { deflateSync } from "node:zlib";
import { topicConfig } from "../../src/common/topic.js";
import type { TopicConfig } from "../../src/common/topic.js";
import {
  NamesrvBodyError,
  decodeClusterInfo,
  decodeDataVersion,
  decodeKVTable,
  decodeRegisterBrokerBody,
  decodeTopicList,
  decodeTopicRouteData,
  encodeClusterInfo,
  encodeDataVersion,
  encodeKVTable,
  encodeRegisterBrokerBody,
  encodeTopicList,
  encodeTopicRouteData,
  parseJsonBody,
} from "../../src/protocol/remoting/namesrv/body-codec.js";
import type { TopicRouteData } from "../../src/protocol/remoting/namesrv/body-codec.js";

const dv = { stateVersion: 3, timestamp: 1_700_000_000_123, counter: 42 };

function withAttrs(name: string, queues: number, perm: number, attrs: Record<string, string>): TopicConfig {
  return { ...topicConfig(name, queues, perm), attributes: attrs, topicFilterType: "MULTI_TAG" };
}

test("RegisterBrokerBody: the JSON layout Java reads, and back", () => {
  const topics = [
    topicConfig("T1", 8),
    { ...withAttrs("T2", 2, 7, { "+message.type": "FIFO" }), order: true, topicSysFlag: 1 },
  ];
  const buf = encodeRegisterBrokerBody(topics, dv, { filterServerList: ["1.2.3.4:5"] });
  const json = JSON.parse(buf.toString()) as Record<string, unknown>;
  assert.deepEqual(Object.keys(json), ["topicConfigSerializeWrapper", "filterServerList"]);
  assert.deepEqual(json["topicConfigSerializeWrapper"], {
    topicConfigTable: {
      T1: {
        topicName: "T1",
        readQueueNums: 8,
        writeQueueNums: 8,
        perm: 6,
        topicFilterType: "SINGLE_TAG",
        topicSysFlag: 0,
        order: false,
        attributes: {},
      },
      T2: {
        topicName: "T2",
        readQueueNums: 2,
        writeQueueNums: 2,
        perm: 7,
        topicFilterType: "MULTI_TAG",
        topicSysFlag: 1,
        order: true,
        attributes: { "+message.type": "FIFO" },
      },
    },
    dataVersion: dv,
  });
  assert.deepEqual(decodeRegisterBrokerBody(buf), {
    topicConfigs: topics,
    dataVersion: dv,
    filterServerList: ["1.2.3.4:5"],
  });
});

test("RegisterBrokerBody: Java defaults fill missing fields; numbers as strings; bare wrapper of old brokers", () => {
  const javaish = Buffer.from(
    '{"filterServerList":[],"topicConfigSerializeWrapper":{"dataVersion":{"counter":"7","stateVersion":0,' +
      '"timestamp":1},"topicConfigTable":{"K":{"perm":"6","readQueueNums":4,"writeQueueNums":4},' +
      '"N":null}}}',
  );
  const body = decodeRegisterBrokerBody(javaish);
  assert.deepEqual(body.dataVersion, { stateVersion: 0, timestamp: 1, counter: 7 });
  assert.deepEqual(body.topicConfigs, [{ ...topicConfig("K", 4), readQueueNums: 4 }]);
  const old = decodeRegisterBrokerBody(
    Buffer.from(
      '{"topicConfigTable":{"O":{"topicName":"O","readQueueNums":1,"writeQueueNums":1}},"dataVersion":null}',
    ),
  );
  assert.equal(old.topicConfigs[0]?.topicName, "O");
  assert.deepEqual(old.dataVersion, { stateVersion: 0, timestamp: 0, counter: 0 });
});

test("RegisterBrokerBody: the compressed layout round-trips (minus sysFlag/order, which it does not carry)", () => {
  const topics = [topicConfig("T1", 8), withAttrs("T2", 2, 7, { a: "b c" })];
  const buf = encodeRegisterBrokerBody(topics, dv, { compressed: true, filterServerList: ["f:1"] });
  assert.equal(buf[0], 0x78, "zlib header, as Java's DeflaterOutputStream writes");
  const body = decodeRegisterBrokerBody(buf, true);
  assert.deepEqual(body, { topicConfigs: topics, dataVersion: dv, filterServerList: ["f:1"] });
});

test("compressed RegisterBrokerBody: lengths past the data and garbage are NamesrvBodyErrors", () => {
  const i32 = (n: number): Buffer => {
    const b = Buffer.alloc(4);
    b.writeInt32BE(n);
    return b;
  };
  const dvJson = encodeDataVersion(dv);
  const cases = [
    Buffer.from("not zlib at all"),
    deflateSync(Buffer.from([0, 0])),
    deflateSync(Buffer.concat([i32(1 << 30), dvJson])),
    deflateSync(Buffer.concat([i32(dvJson.length), dvJson, i32(1_000_000)])),
    deflateSync(Buffer.concat([i32(dvJson.length), dvJson, i32(1), i32(5), Buffer.from("a 1 2")])),
    deflateSync(Buffer.concat([i32(dvJson.length), dvJson, i32(1), i32(-3)])),
  ];
  for (const c of cases) assert.throws(() => decodeRegisterBrokerBody(c, true), NamesrvBodyError);
});

test("malformed JSON bodies throw NamesrvBodyError naming the problem", () => {
  const bad: Array<[string, RegExp]> = [
    ["", /empty body/],
    ["{", /not JSON/],
    ["[]", /RegisterBrokerBody is not an object/],
    [
      '{"topicConfigSerializeWrapper":{"topicConfigTable":{"T":{"readQueueNums":"x"}}}}',
      /readQueueNums is not an integer/,
    ],
    [
      '{"topicConfigSerializeWrapper":{"topicConfigTable":{"T":{"topicFilterType":"ANY"}}}}',
      /topicFilterType/,
    ],
    ['{"topicConfigSerializeWrapper":{"topicConfigTable":[1]}}', /topicConfigTable is not an object/],
    ['{"filterServerList":{}}', /filterServerList is not an array/],
  ];
  for (const [text, re] of bad) {
    assert.throws(
      () => decodeRegisterBrokerBody(Buffer.from(text)),
      (e: unknown) => e instanceof NamesrvBodyError && re.test(e.message),
      text,
    );
  }
  assert.throws(() => decodeRegisterBrokerBody(undefined), NamesrvBodyError);
});

test("TopicRouteData: the standard JSON ali-ons reads, and back; fastjson's bare numeric keys decode", () => {
  const route: TopicRouteData = {
    orderTopicConf: null,
    queueDatas: [{ brokerName: "broker-a", readQueueNums: 4, writeQueueNums: 4, perm: 6, topicSysFlag: 0 }],
    brokerDatas: [
      {
        cluster: "DefaultCluster",
        brokerName: "broker-a",
        brokerAddrs: { "0": "127.0.0.1:10911", "1": "127.0.0.1:10921" },
        enableActingMaster: false,
      },
    ],
    filterServerTable: {},
  };
  const text = encodeTopicRouteData(route).toString();
  assert.equal(
    text,
    '{"orderTopicConf":null,"queueDatas":[{"brokerName":"broker-a","readQueueNums":4,"writeQueueNums":4,"perm":6,' +
      '"topicSysFlag":0}],"brokerDatas":[{"cluster":"DefaultCluster","brokerName":"broker-a","brokerAddrs":' +
      '{"0":"127.0.0.1:10911","1":"127.0.0.1:10921"},"enableActingMaster":false}],"filterServerTable":{}}',
  );
  assert.deepEqual(decodeTopicRouteData(Buffer.from(text)), route);
  const fastjson =
    '{"brokerDatas":[{"brokerAddrs":{0:"127.0.0.1:10911", 1 :"127.0.0.1:10921"},"brokerName":"broker-a",' +
    '"cluster":"DefaultCluster","enableActingMaster":false}],"filterServerTable":{},"queueDatas":[{"brokerName":' +
    '"broker-a","perm":6,"readQueueNums":4,"topicSysFlag":0,"writeQueueNums":4}]}';
  assert.deepEqual(decodeTopicRouteData(Buffer.from(fastjson)), route);
  // Digits followed by a colon inside strings are left alone.
  assert.deepEqual(parseJsonBody('{"a":"{1:2,3:4}", 5:"x,6:y"}', "t"), { a: "{1:2,3:4}", "5": "x,6:y" });
});

test("ClusterInfo, TopicList, KVTable and DataVersion round-trip", () => {
  const ci = {
    brokerAddrTable: {
      "broker-a": {
        cluster: "C",
        brokerName: "broker-a",
        brokerAddrs: { "0": "h:1" },
        enableActingMaster: false,
        zoneName: "z",
      },
    },
    clusterAddrTable: { C: ["broker-a"] },
  };
  assert.deepEqual(decodeClusterInfo(encodeClusterInfo(ci)), ci);
  assert.deepEqual(
    decodeClusterInfo(
      Buffer.from(
        '{"brokerAddrTable":{"b":{"brokerAddrs":{0:"h:1"},"brokerName":"b","cluster":"C"}},"clusterAddrTable":{"C":["b"]}}',
      ),
    ),
    {
      brokerAddrTable: {
        b: { cluster: "C", brokerName: "b", brokerAddrs: { "0": "h:1" }, enableActingMaster: false },
      },
      clusterAddrTable: { C: ["b"] },
    },
  );
  assert.equal(encodeTopicList({ topicList: ["a", "b"] }).toString(), '{"topicList":["a","b"]}');
  assert.deepEqual(decodeTopicList(encodeTopicList({ topicList: ["a"], brokerAddr: "h:1" })), {
    topicList: ["a"],
    brokerAddr: "h:1",
  });
  assert.equal(encodeKVTable({ k: "v" }).toString(), '{"table":{"k":"v"}}');
  assert.deepEqual(decodeKVTable(encodeKVTable({ k: "v" })), { k: "v" });
  assert.deepEqual(decodeDataVersion(encodeDataVersion(dv)), dv);
});

test("fuzz: random and mutated bodies only ever throw NamesrvBodyError", () => {
  let seed = 12345;
  const rand = (n: number): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const seeds = [
    encodeRegisterBrokerBody([topicConfig("T", 4)], dv),
    encodeTopicRouteData({
      orderTopicConf: null,
      queueDatas: [{ brokerName: "b", readQueueNums: 1, writeQueueNums: 1, perm: 6, topicSysFlag: 0 }],
      brokerDatas: [
        { cluster: "c", brokerName: "b", brokerAddrs: { "0": "h:1" }, enableActingMaster: false },
      ],
      filterServerTable: {},
    }),
  ];
  const compressed = encodeRegisterBrokerBody([topicConfig("T", 4)], dv, { compressed: true });
  const deadline = Date.now() + 2000;
  for (let i = 0; i < 3000 && Date.now() < deadline; i++) {
    const base = Buffer.from(seeds[i % 2] as Buffer);
    for (let m = 0; m < 1 + rand(4); m++) base[rand(base.length)] = rand(256);
    const cut = base.subarray(0, rand(base.length + 1));
    const z = Buffer.from(compressed);
    z[rand(z.length)] = rand(256);
    for (const [fn, buf] of [
      [(b: Buffer) => decodeRegisterBrokerBody(b), cut],
      [(b: Buffer) => decodeTopicRouteData(b), cut],
      [(b: Buffer) => decodeClusterInfo(b), cut],
      [(b: Buffer) => decodeRegisterBrokerBody(b, true), z],
    ] as const) {
      try {
        fn(buf);
      } catch (e) {
        assert.ok(e instanceof NamesrvBodyError, `unexpected ${String(e)}`);
      }
    }
  }
});
