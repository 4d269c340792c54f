// The HA transfer codec: frames split at every possible point, several in one read, a header split across reads,
// heartbeats, and bad headers; offset reports split and batched.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  FrameDecoder,
  HaFrameError,
  OffsetReportDecoder,
  encodeFrameHeader,
  encodeOffsetReport,
  encodeHello,
  HELLO_MAGIC,
  helloSignature,
  readHello,
} from "../../src/protocol/ha/ha-codec.js";

function frame(offset: number, data: Buffer): Buffer {
  return Buffer.concat([encodeFrameHeader(offset, data.length), data]);
}

test("frames come out whole and in order, however the stream is cut", () => {
  const a = Buffer.from("first frame's records");
  const b = Buffer.alloc(300, 7);
  const stream = Buffer.concat([frame(4096, a), frame(4096 + a.length, Buffer.alloc(0)), frame(5000, b)]);
  for (let cut1 = 0; cut1 <= stream.length; cut1 += 5) {
    for (const cut2 of [cut1, Math.min(stream.length, cut1 + 11), stream.length]) {
      const d = new FrameDecoder();
      const got = [
        ...d.push(stream.subarray(0, cut1)),
        ...d.push(stream.subarray(cut1, cut2)),
        ...d.push(stream.subarray(cut2)),
      ];
      assert.deepEqual(
        got.map((f) => [f.offset, f.data.toString("hex")]),
        [
          [4096, a.toString("hex")],
          [4096 + a.length, ""],
          [5000, b.toString("hex")],
        ],
        `cut at ${cut1} and ${cut2}`,
      );
    }
  }
});

test("a frame header with a negative size or offset, or a size past the limit, is an HaFrameError", () => {
  const bad = [encodeFrameHeader(0, -1), encodeFrameHeader(-5, 10), encodeFrameHeader(0, 65 * 1024 * 1024)];
  for (const h of bad) assert.throws(() => new FrameDecoder().push(h), HaFrameError);
});

test("offset reports: the last whole one counts, split ones wait for their rest", () => {
  const d = new OffsetReportDecoder();
  const two = Buffer.concat([encodeOffsetReport(100), encodeOffsetReport(2 ** 40)]);
  assert.equal(d.push(two.subarray(0, 5)), undefined);
  assert.equal(d.push(two.subarray(5, 12)), 100);
  assert.equal(d.push(two.subarray(12)), 2 ** 40);
  assert.throws(() => new OffsetReportDecoder().push(Buffer.alloc(8, 0xff)), HaFrameError);
});

test("hello: read whole or in pieces, told apart from an offset report, bad key lengths refused", () => {
  const hello = encodeHello("haAdmin", "s3cret", 1_764_000_000_000);
  const report = Buffer.alloc(8);
  report.writeBigInt64BE(4096n);
  const stream = Buffer.concat([hello, report]);
  for (let cut = 0; cut < hello.length; cut++)
    assert.equal(readHello(stream.subarray(0, cut)), undefined, `incomplete at ${cut}`);
  const opened = readHello(stream);
  assert.equal(opened?.hello?.accessKey, "haAdmin");
  assert.equal(opened?.hello?.timeMs, 1_764_000_000_000);
  assert.ok(opened?.hello?.signature.equals(helloSignature("s3cret", "haAdmin", 1_764_000_000_000)));
  assert.ok(!opened?.hello?.signature.equals(helloSignature("other", "haAdmin", 1_764_000_000_000)));
  assert.deepEqual(opened?.rest, report);
  const plain = readHello(report);
  assert.equal(plain?.hello, undefined);
  assert.deepEqual(plain?.rest, report);
  const zeroKey = Buffer.concat([HELLO_MAGIC, Buffer.from([0, 0])]);
  assert.throws(() => readHello(zeroKey), /access key of 0 bytes/);
  const hugeKey = Buffer.concat([HELLO_MAGIC, Buffer.from([0xff, 0xff])]);
  assert.throws(() => readHello(hugeKey), /access key of 65535 bytes/);
});
