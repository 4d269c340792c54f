// peerHost turns grpc-js's peer string into the born host records store; it is called once per sent message,
// so it keeps what it parsed. The cache must not mix peers up, nor turn a non-IP peer into an address.
import { test } from "node:test";
import assert from "node:assert/strict";
import { peerHost } from "../../../src/protocol/grpc/context.js";
import { formatHost } from "../../../src/common/socket-address.js";

test("peerHost: IPv4, IPv6 and mapped peers parse, each to its own address, the same on every call", () => {
  const cases: [string, string][] = [
    ["127.0.0.1:40001", "127.0.0.1:40001"],
    ["127.0.0.1:40002", "127.0.0.1:40002"],
    ["10.1.2.3:5", "10.1.2.3:5"],
    ["[::1]:7000", "[0:0:0:0:0:0:0:1]:7000"],
    ["[::ffff:192.168.0.9]:8081", "192.168.0.9:8081"],
  ];
  for (let round = 0; round < 2; round++) {
    for (const [peer, want] of cases) {
      const h = peerHost(peer);
      assert.ok(h, `${peer} parses`);
      assert.equal(formatHost(h), want, `${peer}, round ${round}`);
    }
  }
});

test("peerHost: a peer that is not an IP address stays undefined, also when asked again", () => {
  assert.equal(peerHost("unknown"), undefined);
  assert.equal(peerHost("unknown"), undefined);
  assert.equal(peerHost("unix:/tmp/sock"), undefined);
  assert.ok(peerHost("127.0.0.1:1"), "a valid peer after invalid ones still parses");
});

test("peerHost: thousands of distinct peers (the cache empties itself) still parse correctly", () => {
  for (let i = 0; i < 10_000; i++) {
    const port = 1024 + i;
    const h = peerHost(`10.0.${i >> 8}.${i & 255}:${port}`);
    assert.ok(h);
    assert.equal(formatHost(h), `10.0.${i >> 8}.${i & 255}:${port}`);
  }
});
