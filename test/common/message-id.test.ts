import { test } from "node:test";
import assert from "node:assert/strict";
import { writeInt64BE } from "../../src/common/int64.js";
import { createOffsetMsgId, decodeOffsetMsgId, UniqueIdGenerator } from "../../src/common/message-id.js";

/** The id spelled out the plain way: host bytes, port, offset, as upper-case hex. */
function reference(ip: Buffer, port: number, offset: number): string {
  const b = Buffer.alloc(ip.length + 12);
  ip.copy(b, 0);
  b.writeInt32BE(port, ip.length);
  writeInt64BE(b, offset, ip.length + 4);
  return b.toString("hex").toUpperCase();
}

test("offset message ids match the plain encoding across hosts, ports and offsets", () => {
  const hosts = [
    { ip: Buffer.from([127, 0, 0, 1]), port: 10911 },
    { ip: Buffer.from([10, 255, 0, 7]), port: 65535 },
    { ip: Buffer.from("fe800000000000000000000000000abc", "hex"), port: 1 },
    { ip: Buffer.from([127, 0, 0, 1]), port: 10912 },
  ];
  const offsets = [0, 1, 15, 16, 0x7fffffff, 0x80000000, 0xffffffff, 2 ** 32, 2 ** 40 + 12345, 2 ** 53 - 1];
  for (let round = 0; round < 2; round++) {
    for (const h of hosts) {
      for (const o of offsets) {
        const id = createOffsetMsgId(h, o);
        assert.equal(id, reference(h.ip, h.port, o));
        const back = decodeOffsetMsgId(id);
        assert.equal(back?.phyOffset, o);
        assert.equal(back?.storeHost.port, h.port);
      }
    }
  }
  // A host whose address changes in place (the broker learns its advertised port late) gets fresh ids.
  const h = { ip: Buffer.from([192, 168, 1, 2]), port: 10911 };
  assert.equal(createOffsetMsgId(h, 5), reference(h.ip, 10911, 5));
  h.ip[3] = 9;
  assert.equal(createOffsetMsgId(h, 5), reference(h.ip, 10911, 5));
  h.port = 20000;
  assert.equal(createOffsetMsgId(h, 5), reference(h.ip, 20000, 5));
});

test("unique ids: fixed ip/pid/hash prefix, then ms since the month began and a counter, in upper-case hex", () => {
  const gen = new UniqueIdGenerator(Buffer.from([10, 1, 2, 3]));
  const now = new Date(2026, 10, 24, 4, 5, 6, 789).getTime();
  const monthMs = now - new Date(2026, 10, 1).getTime();
  const a = gen.next(now);
  const b = gen.next(now + 1);
  assert.match(a, /^[0-9A-F]{32}$/);
  const pid = (process.pid & 0xffff).toString(16).toUpperCase().padStart(4, "0");
  assert.equal(a.slice(0, 12), "0A010203" + pid);
  assert.equal(a.slice(0, 20), b.slice(0, 20));
  assert.equal(a.slice(20, 28), monthMs.toString(16).toUpperCase().padStart(8, "0"));
  assert.equal(b.slice(20, 28), (monthMs + 1).toString(16).toUpperCase().padStart(8, "0"));
  assert.equal(parseInt(b.slice(28), 16), (parseInt(a.slice(28), 16) + 1) & 0xffff);
  const seen = new Set<string>();
  for (let i = 0; i < 70000; i++) seen.add(gen.next(now + 5));
  assert.equal(seen.size, 65536, "the counter wraps at 16 bits");
});
