import { test } from "node:test";
import assert from "node:assert/strict";
import { javaStringHashCode } from "../../src/common/java-hash.js";
import { decodeProperties, encodeProperties, getProperty } from "../../src/common/properties.js";
import {
  MAGIC_V1,
  MAGIC_V2,
  bodyCrc,
  decodeRecord,
  encodeRecord,
  recordLength,
  RecordFormatError,
} from "../../src/common/message-record.js";
import { hostAddress, formatHost } from "../../src/common/socket-address.js";

test("javaStringHashCode matches Java's String.hashCode", () => {
  // Values computed by the JVM: "".hashCode()=0, "TagA".hashCode()=2598919, "hello".hashCode()=99162322,
  // "polygenelubricants".hashCode()=Integer.MIN_VALUE, and a non-BMP character hashes its two UTF-16 units.
  assert.equal(javaStringHashCode(""), 0);
  assert.equal(javaStringHashCode("TagA"), 2598919);
  assert.equal(javaStringHashCode("hello"), 99162322);
  assert.equal(javaStringHashCode("polygenelubricants"), -2147483648);
  assert.equal(javaStringHashCode("😀"), 31 * 0xd83d + 0xde00);
});

test("properties round-trip, including non-ASCII text and separators at the edges", () => {
  const m = new Map([
    ["TAGS", "TagA"],
    ["KEYS", "k1 k2"],
    ["城市", "杭州 🚀"],
    ["empty", ""],
  ]);
  const s = encodeProperties(m);
  assert.deepEqual(decodeProperties(s), m);
  assert.equal(getProperty(s, "KEYS"), "k1 k2");
  assert.equal(getProperty(s, "城市"), "杭州 🚀");
  assert.equal(getProperty(s, "AGS"), undefined, "a key that is a suffix of another must not match");
  assert.equal(getProperty(s, "missing"), undefined);
  assert.deepEqual(decodeProperties(""), new Map());
});

function sample(topic: string, body: Buffer, props: string, v6 = false) {
  return {
    topic: Buffer.from(topic),
    queueId: 3,
    flag: 7,
    queueOffset: 2 ** 40 + 5,
    physicalOffset: 2 ** 45 + 11,
    sysFlag: 0x8,
    bornTimestamp: 1_700_000_000_123,
    bornHost: v6 ? hostAddress("fe80::1", 4321) : hostAddress("10.1.2.3", 4321),
    storeTimestamp: 1_700_000_000_456,
    storeHost: hostAddress("127.0.0.1", 10911),
    reconsumeTimes: 2,
    preparedTransactionOffset: 12345,
    body,
    bodyCrc: bodyCrc(body),
    properties: Buffer.from(props),
  };
}

for (const [name, topic, body, v6] of [
  ["V1 short topic", "TopicA", Buffer.from("hello"), false],
  ["V2 long topic", "T".repeat(200), Buffer.from("x"), false],
  ["empty body, IPv6 born host", "TopicB", Buffer.alloc(0), true],
  ["4 MiB body", "Big", Buffer.alloc(4 * 1024 * 1024, 0xab), false],
] as const) {
  test(`record round-trip: ${name}`, () => {
    const props = encodeProperties({ TAGS: "TagA", KEYS: "订单 2", UNIQ_CLIENT_MESSAGE_ID_KEYIDX: "ABC" });
    const input = sample(topic, body, props, v6);
    const len = recordLength(input.topic.length, body.length, input.properties.length, v6 ? 0x10 : 0);
    const buf = Buffer.alloc(len + 10);
    assert.equal(encodeRecord(input, buf, 5), len);
    const r = decodeRecord(buf.subarray(0, 5 + len), 5);
    assert.equal(buf.readInt32BE(9), topic.length > 127 ? MAGIC_V2 : MAGIC_V1);
    assert.equal(r.topic, topic);
    assert.equal(r.queueId, 3);
    assert.equal(r.flag, 7);
    assert.equal(r.queueOffset, 2 ** 40 + 5);
    assert.equal(r.physicalOffset, 2 ** 45 + 11);
    assert.equal(r.sysFlag & 0xc, 0x8);
    assert.equal(r.bornTimestamp, 1_700_000_000_123);
    assert.equal(formatHost(r.bornHost), v6 ? "[fe80:0:0:0:0:0:0:1]:4321" : "10.1.2.3:4321");
    assert.equal(r.storeTimestamp, 1_700_000_000_456);
    assert.equal(formatHost(r.storeHost), "127.0.0.1:10911");
    assert.equal(r.reconsumeTimes, 2);
    assert.equal(r.preparedTransactionOffset, 12345);
    assert.ok(r.body.equals(body));
    assert.equal(r.bodyCrc, bodyCrc(body));
    assert.equal(r.properties, props);
  });
}

test("decodeRecord rejects truncated and garbage bytes with RecordFormatError", () => {
  const input = sample("T", Buffer.from("abc"), "");
  const len = recordLength(1, 3, 0, 0);
  const buf = Buffer.alloc(len);
  encodeRecord(input, buf, 0);
  for (let cut = 0; cut < len; cut++) {
    assert.throws(() => decodeRecord(buf.subarray(0, cut)), RecordFormatError);
  }
  const bad = Buffer.from(buf);
  bad.writeInt32BE(1 << 20, 0);
  assert.throws(() => decodeRecord(bad), RecordFormatError);
});
