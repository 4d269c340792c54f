// The append path's own record encoder must agree with the shared codec bit for bit.
import { test } from "node:test";
import assert from "node:assert/strict";
import { encodeRecord, sysFlagForHosts } from "../../src/common/message-record.js";
import { hostAddress } from "../../src/common/socket-address.js";
import { RecordFields, writeRecord } from "../../src/store/record-writer.js";
import { rng } from "./fixtures/store-kit.js";

test("writeRecord writes the bytes encodeRecord writes (V1 and V2 topics, IPv4 and IPv6 hosts, ASCII and non-ASCII properties)", () => {
  const rand = rng(7);
  const hosts = [hostAddress("10.1.2.3", 10911), hostAddress("::1", 8080), hostAddress("fe80::7:8", 1)];
  const topics = ["T", "Topic-é", "x".repeat(127), "y".repeat(128), "z".repeat(300)];
  for (let i = 0; i < 200; i++) {
    const topic = Buffer.from(topics[i % topics.length]!);
    const born = hosts[i % hosts.length]!;
    const store = hosts[(i >> 1) % hosts.length]!;
    const body = Buffer.alloc(Math.floor(rand() * 3000), i & 0xff);
    // Empty, ASCII (written as Latin-1), Latin-1 range (two UTF-8 bytes each), and a surrogate pair.
    const properties = [
      "",
      `KEYS\u0001k${i}\u0002TAGS\u0001t${i}`,
      `KEYS\u0001k${i} ünï\u0002TAGS\u0001t${i}`,
      `KEYS\u0001k${i} \u{1F600}\u0002TAGS\u0001t${i}`,
    ][i % 4]!;
    const propertiesBytes = Buffer.byteLength(properties);
    const sysFlag = sysFlagForHosts(i % 16 === 0 ? 0x8 : 0, born, store);
    const input = {
      topic,
      queueId: i % 7,
      flag: i * 3,
      queueOffset: Math.floor(rand() * 2 ** 40),
      physicalOffset: Math.floor(rand() * 2 ** 50),
      sysFlag,
      bornTimestamp: 1_700_000_000_000 + i,
      bornHost: born,
      storeTimestamp: 1_800_000_000_000 - i,
      storeHost: store,
      reconsumeTimes: i % 17,
      preparedTransactionOffset: i % 5 === 0 ? 0 : Math.floor(rand() * 2 ** 45),
      body,
      bodyCrc: (i * 2654435761) & 0x7fffffff,
      properties,
      propertiesBytes,
    };
    const len = 4096 + body.length;
    const expected = Buffer.alloc(len, 0xee);
    const n = encodeRecord(input, expected, 3);
    const got = Buffer.alloc(len, 0xee);
    const f = Object.assign(new RecordFields(), input);
    writeRecord(f, got, new DataView(got.buffer, got.byteOffset, got.length), 3, n);
    assert.ok(got.equals(expected), `record ${i} differs`);
  }
});
