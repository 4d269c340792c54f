// The official RocketMQ 5.x Node.js client's Producer against our gRPC endpoint: normal, FIFO, delayed and
// transactional sends, checked against what the broker stored (the consumer side is in grpc-consumer.test.ts).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { decodeRecord } from "../../../src/common/message-record.js";
import type { MessageRecord } from "../../../src/common/message-record.js";
import { decodeProperties } from "../../../src/common/properties.js";
import { uniq } from "../../client/helpers.js";
import { startBroker } from "../../support/broker-fixture.js";
import { quietLogger, rocketmqClient } from "../../support/rocketmq-client.js";

const { client, pb } = rocketmqClient();
let b: Awaited<ReturnType<typeof startBroker>>;

before(async () => {
  // The first check comes 3 s after a half message: long enough for the test to commit and roll back its own first.
  b = await startBroker({ transactionTimeoutMs: 3000, transactionCheckIntervalMs: 300 });
});

after(async () => {
  await b.stop();
});

/** Every message stored on the topic, by queue then offset. */
function stored(topic: string): MessageRecord[] {
  const out: MessageRecord[] = [];
  const tc = b.server.broker.topics.get(topic);
  for (let q = 0; tc && q < tc.writeQueueNums; q++) {
    const r = b.server.broker.store.getMessages(topic, q, 0, 1024);
    if (r.status === "FOUND") for (const m of r.messages) out.push(decodeRecord(m));
  }
  return out;
}

async function until<T>(f: () => T | undefined, ms: number, what: string): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

type Resolution = ReturnType<typeof rocketmqClient>["pb"]["TransactionResolution"][keyof ReturnType<
  typeof rocketmqClient
>["pb"]["TransactionResolution"]];

function producer(topic: string, checker?: (m: { body: Buffer }) => Promise<Resolution>) {
  return new client.Producer({
    endpoints: b.grpcAddr,
    namespace: "",
    topic,
    logger: quietLogger,
    ...(checker ? { checker: { check: checker } } : {}),
  });
}

test(
  "normal send: the client's message id, tag, keys and user properties are stored",
  { timeout: 60_000 },
  async () => {
    const topic = uniq("GrpcNormal");
    const p = producer(topic);
    await p.startup();
    try {
      const receipt = await p.send({
        topic,
        tag: "TagA",
        keys: ["k1", "k2"],
        properties: new Map([["region", "hz"]]),
        body: Buffer.from("hello grpc"),
      });
      assert.match(receipt.messageId, /^[0-9A-F]{34}$/);
      const recs = stored(topic);
      assert.equal(recs.length, 1);
      const props = decodeProperties(recs[0]!.properties);
      assert.equal(recs[0]!.body.toString(), "hello grpc");
      assert.equal(props.get("UNIQ_CLIENT_MESSAGE_ID_KEYIDX"), receipt.messageId);
      assert.equal(props.get("TAGS"), "TagA");
      assert.equal(props.get("KEYS"), "k1 k2");
      assert.equal(props.get("region"), "hz");
      // The key index finds it by key, as for remoting sends.
      assert.equal(b.server.broker.queryMessageByKey(topic, "k2", 10, 0, Date.now() + 1000).length, 1);
    } finally {
      await p.shutdown();
    }
  },
);

test("FIFO send: one message group lands in one queue, in send order", { timeout: 60_000 }, async () => {
  const topic = uniq("GrpcFifo");
  const p = producer(topic);
  await p.startup();
  try {
    for (let i = 0; i < 10; i++) {
      await p.send({ topic, messageGroup: "order-7", body: Buffer.from(`m${i}`) });
      await p.send({ topic, messageGroup: "order-8", body: Buffer.from(`n${i}`) });
    }
    const recs = stored(topic);
    for (const g of ["order-7", "order-8"]) {
      const mine = recs.filter((r) => decodeProperties(r.properties).get("__SHARDINGKEY") === g);
      assert.equal(mine.length, 10);
      assert.equal(new Set(mine.map((r) => r.queueId)).size, 1, `${g} is in one queue`);
      const prefix = g === "order-7" ? "m" : "n";
      assert.deepEqual(
        mine.map((r) => r.body.toString()),
        Array.from({ length: 10 }, (_, i) => `${prefix}${i}`),
      );
    }
  } finally {
    await p.shutdown();
  }
});

test(
  "delayed send: the message reaches its topic only at its delivery time",
  { timeout: 60_000 },
  async () => {
    const topic = uniq("GrpcDelay");
    const p = producer(topic);
    await p.startup();
    try {
      const sentAt = Date.now();
      const receipt = await p.send({ topic, delay: 1500, body: Buffer.from("later") });
      await new Promise((r) => setTimeout(r, 500));
      assert.equal(stored(topic).length, 0, "not visible before its time");
      const rec = await until(() => stored(topic)[0], 15_000, "the delayed message");
      assert.ok(
        rec.storeTimestamp >= sentAt + 1400,
        `stored ${rec.storeTimestamp - sentAt} ms after the send`,
      );
      assert.equal(decodeProperties(rec.properties).get("UNIQ_CLIENT_MESSAGE_ID_KEYIDX"), receipt.messageId);
    } finally {
      await p.shutdown();
    }
  },
);

test(
  "transactions: commit is delivered, rollback is not, unknown outcomes are settled on check-back",
  { timeout: 90_000 },
  async () => {
    const topic = uniq("GrpcTx");
    const checked: string[] = [];
    const p = producer(topic, async (m) => {
      const body = m.body.toString();
      checked.push(body);
      if (body === "check-commit") return pb.TransactionResolution.COMMIT;
      if (body === "check-rollback") return pb.TransactionResolution.ROLLBACK;
      return pb.TransactionResolution.TRANSACTION_RESOLUTION_UNSPECIFIED;
    });
    await p.startup();
    try {
      const bodies = ["commit", "rollback", "check-commit", "check-rollback"];
      const txs = [];
      for (const body of bodies) {
        const tx = p.beginTransaction();
        const receipt = await p.send({ topic, body: Buffer.from(body) }, tx);
        assert.ok(receipt.transactionId, "a transaction id comes back");
        txs.push(tx);
      }
      assert.equal(stored(topic).length, 0, "half messages are invisible");
      await txs[0]!.commit();
      await txs[1]!.rollback();
      await until(
        () => (stored(topic).length >= 2 ? true : undefined),
        30_000,
        "the committed and the checked-back message",
      );
      // Give the checker time to come back to the rolled-back one too, then look at the outcome.
      await until(
        () => (checked.includes("check-rollback") ? true : undefined),
        30_000,
        "check of check-rollback",
      );
      await new Promise((r) => setTimeout(r, 1000));
      const delivered = stored(topic)
        .map((r) => r.body.toString())
        .sort();
      assert.deepEqual(delivered, ["check-commit", "commit"]);
      assert.ok(
        !checked.includes("commit") && !checked.includes("rollback"),
        "resolved ones are never checked",
      );
      assert.equal(b.server.broker.transactions.unresolved, 0);
    } finally {
      await p.shutdown();
    }
  },
);
