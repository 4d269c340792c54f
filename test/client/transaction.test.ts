// Transactional messages: the half message stays invisible until END_TRANSACTION commits it; a rollback is never
// delivered; an unknown outcome (or a throwing executor) is settled by the broker's check-back, which the
// producer's checker answers. A transaction group cannot be shared with plain or order producers.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import {
  Consumer,
  Message,
  OrderProducer,
  Producer,
  TransactionProducer,
  TransactionStatus,
} from "../../src/client/index.js";
import type { ReceivedMessage } from "../../src/client/index.js";
import { Collector, clientOpts, createTopic, sleep, startCluster, uniq, waitFor } from "./helpers.js";
import type { Cluster } from "./helpers.js";

let c: Cluster;

before(async () => {
  c = await startCluster({
    broker: { transactionTimeoutMs: 300, transactionCheckIntervalMs: 300, transactionCheckMax: 30 },
  });
});

after(async () => {
  await c.stop();
});

test(
  "commit is delivered, rollback never; unknown outcomes are settled by check-backs",
  { timeout: 30_000 },
  async () => {
    const topic = uniq("T_tx");
    await createTopic(c, topic);
    const checks: ReceivedMessage[] = [];
    const checkedTimes = new Map<string, number>();
    const producer = new TransactionProducer({
      ...clientOpts(c, uniq("PID_tx")),
      checker: (m) => {
        checks.push(m);
        const body = m.body.toString();
        const n = (checkedTimes.get(body) ?? 0) + 1;
        checkedTimes.set(body, n);
        if (body === "unknown-then-commit") {
          // The first check stays unknown: the broker must ask again.
          return n === 1 ? TransactionStatus.Unknow : TransactionStatus.CommitTransaction;
        }
        if (body === "throws-then-commit") return Promise.resolve(TransactionStatus.CommitTransaction);
        if (body === "unknown-then-rollback") return TransactionStatus.RollbackTransaction;
        throw new Error(`unexpected check of ${body}`);
      },
    });
    const received = new Collector();
    const consumer = new Consumer({ ...clientOpts(c, uniq("GID_tx")), consumeFromWhere: "FIRST" });
    consumer.subscribe(topic, "*", received.listener);
    await producer.start();
    await consumer.start();
    try {
      const seenByExecutor: { transactionId: string | undefined; arg: unknown }[] = [];
      const send = (body: string, outcome: () => TransactionStatus | undefined) => {
        const m = new Message(topic, "TagTx", body);
        m.putUserProperty("kind", body);
        m.keys = [`key-${body}`];
        return producer.sendMessageInTransaction(
          m,
          (msg, arg: { n: number }) => {
            seenByExecutor.push({ transactionId: msg.transactionId, arg });
            return outcome();
          },
          { n: seenByExecutor.length },
        );
      };
      const committed = await send("commit-me", () => TransactionStatus.CommitTransaction);
      const rolledBack = await send("rollback-me", () => TransactionStatus.RollbackTransaction);
      const unknown1 = await send("unknown-then-commit", () => TransactionStatus.Unknow);
      const threw = await send("throws-then-commit", () => {
        throw new Error("local transaction failed");
      });
      const unknown2 = await send("unknown-then-rollback", () => undefined);

      assert.equal(committed.transactionStatus, TransactionStatus.CommitTransaction);
      assert.equal(rolledBack.transactionStatus, TransactionStatus.RollbackTransaction);
      assert.equal(unknown1.transactionStatus, TransactionStatus.Unknow);
      assert.equal(threw.transactionStatus, TransactionStatus.Unknow, "a throwing executor means unknown");
      assert.equal(unknown2.transactionStatus, TransactionStatus.Unknow, "nothing returned means unknown");
      assert.equal(committed.transactionId, committed.messageId);
      assert.deepEqual(
        seenByExecutor.map((x) => x.transactionId),
        [committed, rolledBack, unknown1, threw, unknown2].map((r) => r.messageId),
        "the executor sees the transaction id",
      );
      assert.deepEqual(
        seenByExecutor.map((x) => x.arg),
        [0, 1, 2, 3, 4].map((n) => ({ n })),
      );

      await received.waitCount(3, 15_000);
      await waitFor(() => (checkedTimes.get("unknown-then-rollback") ?? 0) >= 1, 10_000, "rollback check");
      await sleep(1000);
      assert.deepEqual(
        received.bodies().sort(),
        ["commit-me", "throws-then-commit", "unknown-then-commit"],
        "committed ones only, once each",
      );
      assert.equal(checkedTimes.get("unknown-then-commit"), 2, "checked again after an unknown answer");
      assert.equal(checkedTimes.get("throws-then-commit"), 1);
      assert.equal(checkedTimes.get("unknown-then-rollback"), 1);
      assert.ok(
        !checkedTimes.has("commit-me") && !checkedTimes.has("rollback-me"),
        "settled ones are not checked",
      );

      const check = checks.find((m) => m.body.toString() === "unknown-then-commit")!;
      assert.equal(check.topic, topic, "the check carries the message as sent");
      assert.equal(check.tag, "TagTx");
      assert.deepEqual(check.keys, ["key-unknown-then-commit"]);
      assert.equal(check.properties.get("kind"), "unknown-then-commit");
      assert.equal(check.messageId, unknown1.messageId);
      assert.equal(check.transactionId, unknown1.transactionId);

      const got = received.messages.find((m) => m.body.toString() === "commit-me")!;
      assert.equal(got.messageId, committed.messageId);
      assert.equal(got.topic, topic);
      assert.equal(got.tag, "TagTx");
      assert.equal(got.properties.get("kind"), "commit-me");
      assert.equal(got.properties.has("TRAN_MSG"), false, "system properties are not the user's");
    } finally {
      await consumer.shutdown();
      await producer.shutdown();
    }
  },
);

test(
  "a TransactionProducer that has sent nothing gets the checks of what its group's earlier producer left open",
  { timeout: 30_000 },
  async () => {
    // The broker checks back with producers it knows; a restarted producer must introduce itself at start, as
    // Java's does (it follows TBW102's route), not only with its first send.
    const topic = uniq("T_tx_restart");
    const group = uniq("PID_tx_restart");
    await createTopic(c, topic);
    const first = new TransactionProducer({
      ...clientOpts(c, group),
      checker: () => TransactionStatus.Unknow,
    });
    await first.start();
    const sent = await first.sendMessageInTransaction(
      new Message(topic, "TagTx", "left-open"),
      () => TransactionStatus.Unknow,
    );
    assert.equal(sent.transactionStatus, TransactionStatus.Unknow);
    await first.shutdown();

    const checked: string[] = [];
    const second = new TransactionProducer({
      ...clientOpts(c, group),
      checker: (m) => {
        checked.push(m.body.toString());
        return TransactionStatus.CommitTransaction;
      },
    });
    await second.start();
    try {
      await waitFor(() => checked.length > 0, 10_000, "a check of the open transaction");
      assert.deepEqual([...new Set(checked)], ["left-open"]);
      const received = new Collector();
      const consumer = new Consumer({ ...clientOpts(c, uniq("GID_tx_restart")), consumeFromWhere: "FIRST" });
      consumer.subscribe(topic, "*", received.listener);
      await consumer.start();
      try {
        await waitFor(() => received.bodies().includes("left-open"), 10_000, "the committed message");
      } finally {
        await consumer.shutdown();
      }
    } finally {
      await second.shutdown();
    }
  },
);

test("a TransactionProducer needs a checker and an executor", async () => {
  const opts = clientOpts(c, uniq("PID_nochecker"));
  assert.throws(
    () => new TransactionProducer(opts as unknown as ConstructorParameters<typeof TransactionProducer>[0]),
    /needs a checker/,
  );
  const p = new TransactionProducer({ ...opts, checker: () => TransactionStatus.Unknow });
  await p.start();
  try {
    await assert.rejects(
      p.sendMessageInTransaction(new Message("T_x", "a", "b"), undefined as never),
      /executor/,
    );
  } finally {
    await p.shutdown();
  }
});

test("a transaction group is not shared with other producer types", { timeout: 10_000 }, async () => {
  const group = uniq("PID_shared");
  const tx = new TransactionProducer({ ...clientOpts(c, group), checker: () => TransactionStatus.Unknow });
  await tx.start();
  try {
    await assert.rejects(new Producer(clientOpts(c, group)).start(), /already used by a TransactionProducer/);
    await assert.rejects(
      new OrderProducer(clientOpts(c, group)).start(),
      /already used by a TransactionProducer/,
    );
  } finally {
    await tx.shutdown();
  }
  const plain = new Producer(clientOpts(c, group));
  await plain.start();
  try {
    const tx2 = new TransactionProducer({
      ...clientOpts(c, group),
      checker: () => TransactionStatus.Unknow,
    });
    await assert.rejects(tx2.start(), /already used by a Producer or OrderProducer/);
    const order = new OrderProducer(clientOpts(c, group));
    await order.start();
    await order.shutdown();
  } finally {
    await plain.shutdown();
  }
});
