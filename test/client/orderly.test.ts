// Orderly consumption: one message of a queue at a time in offset order under the broker's queue lease; a
// failure is retried in place (the messages behind it wait) and, after maxReconsumeTimes, goes to the DLQ;
// queues change owners only after the old owner committed and unlocked, so order holds across rebalances.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import {
  Action,
  Consumer,
  Message,
  MessageModel,
  MQClientError,
  OrderProducer,
  shardingQueueIndex,
} from "../../src/client/index.js";
import type { ReceivedMessage } from "../../src/client/index.js";
import { tempDir } from "../support/temp-dir.js";
import { clientOpts, createTopic, sleep, startCluster, uniq, waitFor } from "./helpers.js";
import type { Cluster } from "./helpers.js";

let c: Cluster;
let producer: OrderProducer;
const dir = tempDir("rmq-orderly-");

before(async () => {
  c = await startCluster();
  producer = new OrderProducer(clientOpts(c, uniq("PID_order")));
  await producer.start();
});

after(async () => {
  await producer.shutdown();
  await c.stop();
  dir.cleanup();
});

interface Delivery {
  consumer: string;
  key: string;
  seq: number;
  queue: string;
  offset: number;
  reconsumeTimes: number;
  start: number;
  end: number;
}

function parse(m: ReceivedMessage): { key: string; seq: number } {
  const [key, seq] = m.body.toString().split("#");
  return { key: key!, seq: Number(seq) };
}

function record(log: Delivery[], consumer: string, m: ReceivedMessage): Delivery {
  const d: Delivery = {
    consumer,
    ...parse(m),
    queue: `${m.brokerName}/${m.queueId}`,
    offset: m.queueOffset,
    reconsumeTimes: m.reconsumeTimes,
    start: performance.now(),
    end: Number.POSITIVE_INFINITY,
  };
  log.push(d);
  return d;
}

/** No two listener calls of one queue overlap in time, whoever made them. */
function assertNoOverlapPerQueue(log: Delivery[]): void {
  const byQueue = new Map<string, Delivery[]>();
  for (const d of log) byQueue.set(d.queue, [...(byQueue.get(d.queue) ?? []), d]);
  for (const [queue, ds] of byQueue) {
    const sorted = [...ds].sort((x, y) => x.start - y.start);
    for (let i = 1; i < sorted.length; i++) {
      const prev = sorted[i - 1]!;
      const cur = sorted[i]!;
      assert.ok(
        cur.start >= prev.end,
        `queue ${queue}: ${cur.consumer} started ${cur.key}#${cur.seq} while ${prev.consumer} ran ${prev.key}#${prev.seq}`,
      );
    }
  }
}

test(
  "same sharding key: strict send order, a failing message is retried in place and the rest wait",
  { timeout: 30_000 },
  async () => {
    const topic = uniq("T_order");
    await createTopic(c, topic, 4);
    const keys = ["k0", "k1", "k2", "k3"];
    for (let seq = 0; seq < 10; seq++) {
      for (const key of keys) await producer.send(new Message(topic, "O", `${key}#${seq}`), key);
    }
    const log: Delivery[] = [];
    const consumer = new Consumer({
      ...clientOpts(c, uniq("GID_order")),
      orderly: true,
      suspendTimeMillis: 200,
      consumeFromWhere: "FIRST",
    });
    consumer.subscribe(topic, "*", async (m) => {
      const d = record(log, "A", m);
      await sleep(1);
      d.end = performance.now();
      if (d.key === "k1" && d.seq === 3) {
        if (m.reconsumeTimes === 0) return Action.ReconsumeLater;
        if (m.reconsumeTimes === 1) throw new Error("still failing");
      }
      return Action.CommitMessage;
    });
    await consumer.start();
    try {
      await waitFor(() => new Set(log.map((d) => `${d.key}#${d.seq}`)).size === 40, 15_000, "40 messages");
      await sleep(300);
      for (const key of keys) {
        const seqs = log.filter((d) => d.key === key).map((d) => d.seq);
        const want = Array.from({ length: 10 }, (_, i) => i);
        if (key === "k1") want.splice(3, 0, 3, 3);
        assert.deepEqual(seqs, want, `order of ${key}`);
      }
      const tries = log.filter((d) => d.key === "k1" && d.seq === 3);
      assert.deepEqual(
        tries.map((d) => d.reconsumeTimes),
        [0, 1, 2],
        "reconsumeTimes counts the local retries",
      );
      for (let i = 1; i < tries.length; i++) {
        assert.ok(tries[i]!.start - tries[i - 1]!.end >= 150, "retried after suspendTimeMillis");
      }
      // Nothing behind the failing message on its queue ran while it was being retried.
      const q = tries[0]!.queue;
      const during = log.filter(
        (d) => d.queue === q && d.start > tries[0]!.start && d.start < tries[2]!.start,
      );
      assert.ok(
        during.every((d) => d.key === "k1" && d.seq === 3),
        `others ran meanwhile: ${JSON.stringify(during)}`,
      );
      assertNoOverlapPerQueue(log);
      // Offsets of each queue are consumed in increasing order.
      for (const queue of new Set(log.map((d) => d.queue))) {
        const offs = log.filter((d) => d.queue === queue).map((d) => d.offset);
        for (let i = 1; i < offs.length; i++) assert.ok(offs[i]! >= offs[i - 1]!, `offset order on ${queue}`);
      }
    } finally {
      await consumer.shutdown();
    }
  },
);

test(
  "a message that always fails goes to the DLQ after maxReconsumeTimes and its queue moves on",
  { timeout: 30_000 },
  async () => {
    const topic = uniq("T_orderdlq");
    await createTopic(c, topic, 4);
    const group = uniq("GID_orderdlq");
    const seen: string[] = [];
    const times: number[] = [];
    const consumer = new Consumer({
      ...clientOpts(c, group),
      orderly: true,
      suspendTimeMillis: 100,
      maxReconsumeTimes: 2,
      consumeFromWhere: "FIRST",
    });
    consumer.subscribe(topic, "*", (m) => {
      const body = m.body.toString();
      seen.push(body);
      if (body === "bad") {
        times.push(m.reconsumeTimes);
        return undefined;
      }
      return Action.CommitMessage;
    });
    await consumer.start();
    try {
      for (const body of ["first", "bad", "after"]) {
        await producer.send(new Message(topic, "D", body), "one-key");
      }
      await waitFor(() => seen.includes("after"), 10_000, "the message behind the bad one");
      assert.deepEqual(seen, ["first", "bad", "bad", "bad", "after"]);
      assert.deepEqual(times, [0, 1, 2]);
      const broker = c.broker.server.broker;
      await waitFor(() => broker.listDeadLetters(group).length === 1, 5000, "a dead letter");
      const dead = broker.listDeadLetters(group)[0]!.record;
      assert.equal(dead.body.toString(), "bad");
      await sleep(300);
      assert.equal(seen.length, 5, "not delivered again");
    } finally {
      await consumer.shutdown();
    }
  },
);

test(
  "two orderly members: per-key order holds across a rebalance and a shutdown, never two owners at once",
  { timeout: 60_000 },
  async () => {
    const topic = uniq("T_orderreb");
    await createTopic(c, topic, 8);
    const group = uniq("GID_orderreb");
    const keys = Array.from({ length: 16 }, (_, i) => `key${i}`);
    const log: Delivery[] = [];
    const listener = (name: string) => async (m: ReceivedMessage) => {
      const d = record(log, name, m);
      await sleep(10);
      d.end = performance.now();
      return Action.CommitMessage;
    };
    const opts = { ...clientOpts(c, group), orderly: true, consumeFromWhere: "FIRST" as const };
    const a = new Consumer(opts);
    const b = new Consumer(opts);
    a.subscribe(topic, "*", listener("A"));
    b.subscribe(topic, "*", listener("B"));
    const queuesOf = (x: Consumer) => x.assignedQueues().filter((q) => q.topic === topic).length;
    await a.start();
    let total = 0;
    const sendRounds = async (from: number, to: number) => {
      for (let seq = from; seq < to; seq++) {
        await Promise.all(keys.map((key) => producer.send(new Message(topic, "R", `${key}#${seq}`), key)));
        total += keys.length;
        await sleep(10);
      }
    };
    try {
      await waitFor(() => queuesOf(a) === 8, 5000, "A owns all 8 queues");
      const sending = sendRounds(0, 40);
      await sleep(150);
      await b.start();
      await sending;
      await waitFor(() => queuesOf(a) === 4 && queuesOf(b) === 4, 10_000, "4 queues each");
      await waitFor(() => log.length >= total, 15_000, `${total} deliveries (have ${log.length})`);
      assert.ok(
        log.some((d) => d.consumer === "B"),
        "B consumed after joining",
      );
      // A leaves: it commits, unlocks, and B takes every queue and goes on where A stopped.
      await a.shutdown();
      await waitFor(() => queuesOf(b) === 8, 10_000, "B owns all 8 queues");
      await sendRounds(40, 50);
      await waitFor(() => log.length >= total, 15_000, `${total} deliveries (have ${log.length})`);
      await sleep(300);
      assert.equal(log.length, total, "each message once");
      for (const key of keys) {
        const seqs = log.filter((d) => d.key === key).map((d) => d.seq);
        assert.deepEqual(
          seqs,
          Array.from({ length: 50 }, (_, i) => i),
          `${key}: in order, no gaps, no repeats`,
        );
      }
      assertNoOverlapPerQueue(log);
      // Each queue changed hands at most twice (A → B on the join, A → B at A's shutdown), never back and forth.
      for (const queue of new Set(log.map((d) => d.queue))) {
        const owners = log.filter((d) => d.queue === queue).map((d) => d.consumer);
        const changes = owners.filter((o, i) => i > 0 && o !== owners[i - 1]).length;
        assert.ok(changes <= 1, `queue ${queue} owners: ${owners.join("")}`);
      }
    } finally {
      await a.shutdown();
      await b.shutdown();
    }
  },
);

test(
  "a queue whose lease another client holds is not consumed until it is released",
  { timeout: 30_000 },
  async () => {
    const topic = uniq("T_orderlease");
    await createTopic(c, topic, 2);
    const group = uniq("GID_orderlease");
    const broker = c.broker.server.broker;
    const brokerName = broker.config.brokerName;
    const held = { topic, brokerName, queueId: 0 };
    assert.equal(broker.locks.tryLock(group, "10.0.0.1@intruder", [held]).length, 1);
    const keyFor = (q: number) => {
      for (let i = 0; ; i++) if (shardingQueueIndex(`key${i}`, 2) === q) return `key${i}`;
    };
    const [k0, k1] = [keyFor(0), keyFor(1)];
    for (let seq = 0; seq < 5; seq++) {
      await producer.send(new Message(topic, "L", `${k0}#${seq}`), k0);
      await producer.send(new Message(topic, "L", `${k1}#${seq}`), k1);
    }
    const log: Delivery[] = [];
    const consumer = new Consumer({ ...clientOpts(c, group), orderly: true, consumeFromWhere: "FIRST" });
    consumer.subscribe(topic, "*", (m) => {
      record(log, "A", m).end = performance.now();
      return Action.CommitMessage;
    });
    await consumer.start();
    try {
      await waitFor(() => log.length >= 5, 10_000, "the free queue's messages");
      await sleep(1500);
      assert.deepEqual(
        log.map((d) => d.key),
        Array.from({ length: 5 }, () => k1),
        "only the queue it could lock",
      );
      assert.deepEqual(
        consumer
          .assignedQueues()
          .filter((q) => q.topic === topic)
          .map((q) => q.queueId),
        [1],
      );
      assert.equal(broker.locks.owner(group, { topic, brokerName, queueId: 1 }), consumer.clientId);
      broker.locks.unlock(group, "10.0.0.1@intruder", [held]);
      await waitFor(() => log.length >= 10, 5000, "the released queue's messages");
      assert.deepEqual(
        log.filter((d) => d.key === k0).map((d) => d.seq),
        [0, 1, 2, 3, 4],
      );
      assert.equal(broker.locks.owner(group, held), consumer.clientId);
    } finally {
      await consumer.shutdown();
    }
    assert.equal(broker.locks.owner(group, held), undefined, "shutdown gives the leases back");
    assert.equal(broker.locks.owner(group, { topic, brokerName, queueId: 1 }), undefined);
    assert.equal(broker.queryConsumerOffset(group, topic, 0), 5, "offsets committed before unlocking");
  },
);

test("orderly consumption is refused for a broadcasting consumer", async () => {
  const consumer = new Consumer({
    ...clientOpts(c, uniq("GID_orderbc")),
    messageModel: MessageModel.BROADCASTING,
    orderly: true,
    offsetStoreDir: dir.dir,
  });
  assert.throws(
    () => consumer.subscribe("T_any", "*", () => Action.CommitMessage),
    (e: unknown) => e instanceof MQClientError && /BROADCASTING/.test(e.message),
  );
  await assert.rejects(
    consumer.start(),
    (e: unknown) => e instanceof MQClientError && e.kind === "ILLEGAL_ARGUMENT",
  );
  await consumer.shutdown();
});
