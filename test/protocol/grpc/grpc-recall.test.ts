// RecallMessage with the official RocketMQ 5.x Node.js client: a timed message's SendReceipt carries a recall
// handle; recalling it before its time means it is never delivered, also across a broker restart; bad handles
// and late recalls are refused with a status the client reports.
import { test } from "node:test";
import assert from "node:assert/strict";
import { decodeRecord } from "../../../src/common/message-record.js";
import { decodeRecallHandle, encodeRecallHandle } from "../../../src/common/recall-handle.js";
import { uniq } from "../../client/helpers.js";
import { startBroker } from "../../support/broker-fixture.js";
import { quietLogger, rocketmqClient } from "../../support/rocketmq-client.js";
import { tempDir } from "../../support/temp-dir.js";

const { client } = rocketmqClient();
type Broker = Awaited<ReturnType<typeof startBroker>>;

function bodies(b: Broker, topic: string): string[] {
  const out: string[] = [];
  const tc = b.server.broker.topics.get(topic);
  for (let q = 0; tc && q < tc.writeQueueNums; q++) {
    const r = b.server.broker.store.getMessages(topic, q, 0, 1024);
    if (r.status === "FOUND") for (const m of r.messages) out.push(decodeRecord(m).body.toString());
  }
  return out.sort();
}

async function producer(b: Broker, topic: string) {
  const p = new client.Producer({ endpoints: b.grpcAddr, namespace: "", topic, logger: quietLogger });
  await p.startup();
  return p;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test("a recalled timed message is never delivered; the others are", { timeout: 60_000 }, async (t) => {
  const b = await startBroker();
  const topic = uniq("GrpcRecall");
  const p = await producer(b, topic);
  t.after(async () => {
    await p.shutdown();
    await b.stop();
  });
  const at = new Date(Date.now() + 2500);
  const keep = await p.send({ topic, deliveryTimestamp: at, body: Buffer.from("keep") });
  const drop = await p.send({ topic, deliveryTimestamp: at, body: Buffer.from("drop") });
  const plain = await p.send({ topic, body: Buffer.from("now") });
  assert.ok(drop.recallHandle, "a timed message's receipt has a recall handle");
  assert.ok(!plain.recallHandle, "a normal message's receipt has none");
  const h = decodeRecallHandle(drop.recallHandle);
  assert.equal(h?.topic, topic);
  assert.equal(h?.messageId, drop.messageId);
  assert.ok(Math.abs(h!.deliverMs - at.getTime()) <= 1);

  const receipt = await p.recallMessage(topic, drop.recallHandle);
  assert.equal(receipt.messageId, drop.messageId);
  // Recalling twice is harmless, as in RocketMQ.
  await p.recallMessage(topic, drop.recallHandle);
  assert.ok(keep.recallHandle);

  await sleep(at.getTime() - Date.now() + 1500);
  assert.deepEqual(bodies(b, topic), ["keep", "now"]);
  const stats = b.server.broker.timer.pending();
  assert.ok(stats.recalled >= 1, `recalled count ${stats.recalled}`);
});

test("a recall survives a broker restart", { timeout: 60_000 }, async (t) => {
  const dir = tempDir("rmq-recall-");
  let b = await startBroker({}, dir.dir);
  const topic = uniq("GrpcRecallRestart");
  const p = await producer(b, topic);
  const at = new Date(Date.now() + 4000);
  const keep = await p.send({ topic, deliveryTimestamp: at, body: Buffer.from("keep") });
  const drop = await p.send({ topic, deliveryTimestamp: at, body: Buffer.from("drop") });
  await p.recallMessage(topic, drop.recallHandle);
  await p.shutdown();
  await b.stop();
  b = await startBroker({}, dir.dir);
  t.after(async () => {
    await b.stop();
    dir.cleanup();
  });
  await sleep(at.getTime() - Date.now() + 1500);
  assert.deepEqual(bodies(b, topic), ["keep"]);
  assert.ok(keep.messageId);
});

test(
  "bad, foreign and late recall handles are refused; the endpoint keeps serving",
  { timeout: 60_000 },
  async (t) => {
    const b = await startBroker();
    const topic = uniq("GrpcRecallBad");
    const other = uniq("GrpcRecallOther");
    const p = await producer(b, topic);
    t.after(async () => {
      await p.shutdown();
      await b.stop();
    });
    await p.send({ topic: other, body: Buffer.from("creates the other topic") }).catch(() => undefined);
    const timed = await p.send({
      topic,
      deliveryTimestamp: new Date(Date.now() + 1000),
      body: Buffer.from("x"),
    });
    const cases: [string, string, RegExp][] = [
      ["garbage", "not a handle!", /invalid/],
      ["not base64 of v1", Buffer.from("v2 a b 1 c").toString("base64url"), /invalid/],
      ["another topic", timed.recallHandle, /topic/],
      [
        "another broker",
        encodeRecallHandle({
          topic,
          brokerName: "broker-z",
          deliverMs: Date.now() + 60_000,
          messageId: "AB",
        }),
        /broker/,
      ],
    ];
    for (const [what, handle, msg] of cases) {
      const t2 = what === "another topic" ? other : topic;
      await assert.rejects(p.recallMessage(t2, handle), (e: Error) => {
        assert.match(e.message, msg, what);
        return true;
      });
    }
    await sleep(1500);
    await assert.rejects(p.recallMessage(topic, timed.recallHandle), /already due/);
    assert.deepEqual(bodies(b, topic), ["x"], "a late recall changes nothing");
    // Still serving.
    const after = await p.send({ topic, body: Buffer.from("y") });
    assert.ok(after.messageId);
  },
);
