// The SQL92 store filter on real encoded records, the compile cache, and a bounded fuzz of the compiler.
import { test } from "node:test";
import assert from "node:assert/strict";
import { isBrokerError } from "../../../src/common/errors.js";
import { bodyCrc, decodeRecord, encodeRecord, recordLength } from "../../../src/common/message-record.js";
import { encodeProperties } from "../../../src/common/properties.js";
import { hostAddress } from "../../../src/common/socket-address.js";
import {
  SQL92_CACHE_CAPACITY,
  clearSql92Cache,
  compileSql92,
  readRecordProperties,
  sql92CacheSize,
  sql92MessageFilter,
} from "../../../src/broker/filter/sql-filter.js";

function record(
  props: Record<string, string>,
  opts: { topic?: string; v6?: boolean; body?: Buffer } = {},
): Buffer {
  const topic = Buffer.from(opts.topic ?? "TopicTest");
  const body = opts.body ?? Buffer.from("hello body, with region='bj' inside that must not be read");
  const properties = encodeProperties(props);
  const bornHost = hostAddress(opts.v6 ? "::1" : "10.1.2.3", 4321);
  const storeHost = hostAddress(opts.v6 ? "fe80::1" : "127.0.0.1", 10911);
  const len = recordLength(
    topic.length,
    body.length,
    Buffer.byteLength(properties),
    (opts.v6 ? 0x30 : 0) | 0,
  );
  const buf = Buffer.alloc(len);
  const written = encodeRecord(
    {
      topic,
      queueId: 1,
      flag: 0,
      queueOffset: 7,
      physicalOffset: 1234,
      sysFlag: 0,
      bornTimestamp: 1_700_000_000_000,
      bornHost,
      storeTimestamp: 1_700_000_000_001,
      storeHost,
      reconsumeTimes: 0,
      preparedTransactionOffset: 0,
      body,
      bodyCrc: bodyCrc(body),
      properties,
    },
    buf,
    0,
  );
  assert.equal(written, len);
  return buf;
}

test("matchRecord evaluates the properties of an encoded record; matchTagsCode passes everything", () => {
  const mf = sql92MessageFilter(compileSql92("a > 5 AND region IN ('hz','sh') AND TAGS IS NOT NULL"));
  assert.equal(mf.matchTagsCode(0), true);
  assert.equal(mf.matchTagsCode(-123456), true);
  assert.ok(mf.matchRecord);
  const hit = record({ TAGS: "TagA", a: "6", region: "hz", KEYS: "k1" });
  const miss = record({ TAGS: "TagA", a: "6", region: "bj" });
  const noTag = record({ a: "6", region: "sh" });
  assert.equal(mf.matchRecord(hit), true);
  assert.equal(mf.matchRecord(miss), false);
  assert.equal(mf.matchRecord(noTag), false);
});

test("matchRecord handles IPv6 hosts, long (V2) topics, empty properties and non-ASCII values", () => {
  const f = sql92MessageFilter(compileSql92("city = '杭州' AND n BETWEEN 1 AND 3"));
  const props = { city: "杭州", n: "2" };
  assert.equal(f.matchRecord!(record(props, { v6: true })), true);
  assert.equal(f.matchRecord!(record(props, { topic: "T".repeat(200) })), true);
  assert.equal(
    f.matchRecord!(record(props, { topic: "T".repeat(200), v6: true, body: Buffer.alloc(0) })),
    true,
  );
  assert.equal(f.matchRecord!(record({ city: "上海", n: "2" }, { v6: true })), false);
  const empty = record({});
  assert.equal(f.matchRecord!(empty), false);
  assert.equal(sql92MessageFilter(compileSql92("city IS NULL")).matchRecord!(empty), true);
});

test("readRecordProperties agrees with decodeRecord and rejects malformed bytes", () => {
  for (const opts of [{}, { v6: true }, { topic: "x".repeat(128) }, { body: Buffer.alloc(70000, 1) }]) {
    const buf = record({ TAGS: "t", k: "v", u: "ü" }, opts);
    assert.equal(readRecordProperties(buf), decodeRecord(buf).properties);
    const shifted = Buffer.concat([Buffer.alloc(9, 0xee), buf]);
    assert.equal(readRecordProperties(shifted, 9), decodeRecord(buf).properties);
  }
  const good = record({ a: "1" });
  assert.equal(readRecordProperties(Buffer.alloc(0)), undefined);
  assert.equal(readRecordProperties(good.subarray(0, 40)), undefined);
  assert.equal(
    readRecordProperties(good.subarray(0, good.length - 1)),
    undefined,
    "declared size beyond buffer",
  );
  const badMagic = Buffer.from(good);
  badMagic.writeInt32BE(0x12345678, 4);
  assert.equal(readRecordProperties(badMagic), undefined);
  const hugeBody = Buffer.from(good);
  hugeBody.writeInt32BE(1 << 30, 84); // BODYLEN of a V1 record with IPv4 hosts sits at 84
  assert.equal(readRecordProperties(hugeBody), undefined);
  const mf = sql92MessageFilter(compileSql92("TRUE"));
  assert.equal(mf.matchRecord!(badMagic), false, "a malformed record does not match");
  assert.equal(mf.matchRecord!(good), true);
  // random bytes never throw
  let seed = 7;
  for (let i = 0; i < 2000; i++) {
    const junk = Buffer.from(good);
    for (let j = 0; j < 3; j++) {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      junk[seed % junk.length] = seed >>> 24;
    }
    const r = readRecordProperties(junk);
    assert.ok(r === undefined || typeof r === "string");
  }
});

test("compiled filters are cached by expression text in a bounded LRU", () => {
  clearSql92Cache();
  const first = compileSql92("a = 1");
  assert.equal(compileSql92("a = 1"), first, "same text gives the cached filter");
  assert.notEqual(compileSql92("a = 1 "), first, "the key is the exact text");
  assert.equal(sql92MessageFilter(first), sql92MessageFilter(first));
  for (let i = 0; i < SQL92_CACHE_CAPACITY + 100; i++) {
    compileSql92(`n = ${i}`);
    if (i % 100 === 0) assert.equal(compileSql92("a = 1"), first, "recently used entries stay");
  }
  assert.equal(sql92CacheSize(), SQL92_CACHE_CAPACITY);
  assert.equal(compileSql92("a = 1"), first);
  const evictedProbe = compileSql92("n = 0");
  assert.equal(evictedProbe.evaluate(new Map([["n", "0"]])), true);
  assert.equal(sql92CacheSize(), SQL92_CACHE_CAPACITY);
  clearSql92Cache();
  assert.equal(sql92CacheSize(), 0);
  assert.notEqual(compileSql92("a = 1"), first);
});

// Bounded fuzz: random token strings and mutations of valid selectors. Compilation either succeeds or throws
// BrokerError(SUBSCRIPTION_PARSE_FAILED) naming a position inside the text (or just past it); a compiled
// filter evaluates to a boolean without throwing.
test("fuzz: the compiler throws only parse failures and never hangs", () => {
  let seed = 0x5a17;
  const rnd = (n: number): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return (seed >>> 8) % n;
  };
  const pick = <T>(xs: readonly T[]): T => xs[rnd(xs.length)]!;
  const TOKENS = [
    "a",
    "b",
    "TAGS",
    "region",
    "NOT",
    "AND",
    "OR",
    "BETWEEN",
    "IN",
    "IS",
    "NULL",
    "TRUE",
    "FALSE",
    "CONTAINS",
    "STARTSWITH",
    "ENDSWITH",
    "not",
    "and",
    "=",
    "<>",
    "<",
    "<=",
    ">",
    ">=",
    "(",
    ")",
    ",",
    "+",
    "-",
    "5",
    "-3",
    "2.5",
    ".5",
    "1e3",
    "9223372036854775807",
    "99999999999999999999",
    "5L",
    "'x'",
    "'it''s'",
    "''",
    "'",
    "--",
    "/*",
    "*/",
    "!=",
    "!",
    "*",
    ".",
    '"',
    "\n",
    "é",
    "012",
    "0",
  ] as const;
  const VALID = [
    "a > 5 AND region IN ('hz','sh') AND TAGS IS NOT NULL",
    "(a between 2 and 10) AND (b not between 6 and 9)",
    "a not in ('4', '4', '5') and b between 3 and 10 and c not contains 'axbc'",
    "NOT (a = 1 OR b <> 'x') AND TAGS STARTSWITH 'Tag'",
  ];
  const propSets = [
    new Map<string, string>(),
    new Map([
      ["a", "5"],
      ["b", "x"],
      ["TAGS", "TagA"],
      ["region", "hz"],
    ]),
    new Map([
      ["a", "-3"],
      ["b", "2.5"],
      ["c", "axb"],
      ["region", "sh"],
    ]),
    new Map([
      ["a", "true"],
      ["b", "9223372036854775807"],
      ["TAGS", ""],
    ]),
  ];
  const deadline = Date.now() + 1500;
  let compiled = 0;
  let rejected = 0;
  let runs = 0;
  while (Date.now() < deadline && runs < 200_000) {
    runs++;
    let text: string;
    if (rnd(3) === 0) {
      const base = pick(VALID).split("");
      for (let k = 1 + rnd(3); k > 0; k--) {
        const at = rnd(base.length + 1);
        if (rnd(2) === 0) base.splice(at, 1);
        else base.splice(at, 0, pick(["(", ")", "'", " ", "N", "5", "-", "=", ",", "*"]));
      }
      text = base.join("");
    } else {
      const parts: string[] = [];
      for (let k = rnd(12); k >= 0; k--) parts.push(pick(TOKENS));
      text = parts.join(rnd(4) === 0 ? "" : " ");
    }
    let f;
    try {
      f = compileSql92(text);
    } catch (e) {
      rejected++;
      if (!isBrokerError(e, "SUBSCRIPTION_PARSE_FAILED")) {
        assert.fail(`${JSON.stringify(text)} threw ${String(e)}`);
      }
      const m = /at position (\d+):/.exec(e.message);
      assert.ok(m, `${JSON.stringify(text)}: no position in ${e.message}`);
      const pos = Number(m[1]);
      assert.ok(pos >= 1 && pos <= text.length + 1, `${JSON.stringify(text)}: position ${pos} out of range`);
      continue;
    }
    compiled++;
    for (const props of propSets) assert.equal(typeof f.evaluate(props), "boolean");
  }
  clearSql92Cache();
  assert.ok(compiled > 0 && rejected > 0, `compiled ${compiled}, rejected ${rejected}`);
});
