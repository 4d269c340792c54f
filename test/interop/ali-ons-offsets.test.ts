// Where a real ali-ons 3.12.0 consumer starts and resumes: its consumeFromWhere settings go through our broker's
// QUERY_CONSUMER_OFFSET, GET_MAX_OFFSET and SEARCH_OFFSET_BY_TIMESTAMP, and its progress through
// UPDATE_CONSUMER_OFFSET. As from RocketMQ, a new group starts at offset 0 while its queue's first message is "in
// memory" (accessMessageInMemoryMaxRatio), whatever its consumeFromWhere; past that, consumeFromWhere decides.
import { test } from "node:test";
import assert from "node:assert/strict";
import { startCluster } from "../support/cluster-fixture.js";
import { common, consumer, ons, teardown, until } from "./ali-ons-kit.js";
import type { OnsConsumer, OnsProducer } from "./ali-ons-kit.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** ali-ons's consumeTimestamp: local time to the second, yyyyMMddHHmmss. */
function onsTimestamp(ms: number): string {
  const d = new Date(ms);
  const two = (n: number) => String(n).padStart(2, "0");
  return (
    String(d.getFullYear()) +
    two(d.getMonth() + 1) +
    two(d.getDate()) +
    two(d.getHours()) +
    two(d.getMinutes()) +
    two(d.getSeconds())
  );
}

async function sendAll(producer: OnsProducer, topic: string, bodies: string[]): Promise<void> {
  for (const b of bodies) {
    const r = await producer.send(new ons.Message(topic, "T", b));
    assert.equal(r.sendStatus, "SEND_OK");
  }
}

const names = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}-${i}`);

/** Subscribes `c` to every tag of `topic`; the bodies it gets are appended to the returned array. */
function collect(c: OnsConsumer, topic: string): string[] {
  const got: string[] = [];
  c.subscribe(topic, "*", async (m) => {
    got.push(m.body.toString());
  });
  return got;
}

/** Starts `c` on `topic` and waits for `n` messages; the returned array keeps collecting. */
async function startAndReceive(c: OnsConsumer, topic: string, n: number, what: string): Promise<string[]> {
  const got = collect(c, topic);
  await c.ready();
  await until(() => got.length >= n, 15_000, what);
  return got;
}

test("ali-ons: on a history out of memory, a new group from a timestamp starts at the first message stored after it; one from the last offset skips the backlog", async (t) => {
  // Ratio 0: the whole history counts as out of memory, so the broker answers QUERY_NOT_FOUND.
  const cluster = await startCluster({ accessMessageInMemoryMaxRatio: 0 });
  const ns = cluster.namesrvAddr;
  const producer = new ons.Producer({ ...common(ns), producerGroup: "PID_TS" });
  const clients: { close(): Promise<void> }[] = [producer];
  t.after(() => teardown(cluster, ...clients));
  await producer.ready();

  await sendAll(producer, "TP_TS", names("old", 16));
  // The timestamp has whole seconds: the second batch goes out in a later second than every old message.
  const boundary = Math.ceil(Date.now() / 1000) * 1000;
  await sleep(boundary - Date.now() + 50);
  await sendAll(producer, "TP_TS", names("new", 16));

  const fromTs = consumer(ns, "GID_TS", "ts", {
    consumeFromWhere: "CONSUME_FROM_TIMESTAMP",
    consumeTimestamp: onsTimestamp(boundary),
  });
  clients.push(fromTs);
  const gotTs = await startAndReceive(fromTs, "TP_TS", 16, "the messages stored after the timestamp");

  const fromLast = consumer(ns, "GID_LAST", "last", { consumeFromWhere: "CONSUME_FROM_LAST_OFFSET" });
  clients.push(fromLast);
  const gotLast = collect(fromLast, "TP_TS");
  await fromLast.ready();
  // Until every queue is positioned, a late message may land before its queue's starting point (and rightly be
  // skipped): send one at a time until they arrive, then give the rebalance time to place every queue.
  for (let i = 0; gotLast.length === 0; i++) {
    if (i > 100) throw new Error("CONSUME_FROM_LAST_OFFSET consumer got nothing");
    await sendAll(producer, "TP_TS", [`probe-${i}`]);
    await sleep(100);
  }
  await sleep(1500);
  await sendAll(producer, "TP_TS", names("late", 16));
  await until(
    () => names("late", 16).every((b) => gotLast.includes(b)),
    15_000,
    "the messages sent after the last-offset consumer started",
  );
  await sleep(300);

  assert.deepEqual(
    gotTs.filter((b) => !b.startsWith("probe-") && !b.startsWith("late-")).sort(),
    names("new", 16).sort(),
    "from the timestamp: every message after it, none before",
  );
  assert.deepEqual(
    gotLast.filter((b) => b.startsWith("old-") || b.startsWith("new-")),
    [],
    "from the last offset: nothing of the backlog",
  );
});

test("ali-ons: on a young topic (first message in memory), a new group from the last offset still starts at 0", async (t) => {
  const cluster = await startCluster();
  const ns = cluster.namesrvAddr;
  const producer = new ons.Producer({ ...common(ns), producerGroup: "PID_YOUNG" });
  const c = consumer(ns, "GID_YOUNG", "young", { consumeFromWhere: "CONSUME_FROM_LAST_OFFSET" });
  t.after(() => teardown(cluster, c, producer));
  await producer.ready();
  await sendAll(producer, "TP_YOUNG", names("early", 12));
  const got = await startAndReceive(c, "TP_YOUNG", 12, "the messages sent before the group started");
  await sleep(300);
  assert.deepEqual([...got].sort(), names("early", 12).sort());
});

test("ali-ons: a consumer restarted in its group resumes after the offsets it committed, nothing again and nothing lost", async (t) => {
  const cluster = await startCluster();
  const ns = cluster.namesrvAddr;
  const producer = new ons.Producer({ ...common(ns), producerGroup: "PID_RS" });
  const first = consumer(ns, "GID_RS", "first");
  const second = consumer(ns, "GID_RS", "second");
  t.after(() => teardown(cluster, first, second, producer));
  await producer.ready();

  await sendAll(producer, "TP_RS", names("a", 20));
  const got1 = await startAndReceive(first, "TP_RS", 20, "the first batch");
  await first.close();

  // What the broker holds for the group now: every queue's committed offset at the end of what was consumed.
  const broker = cluster.broker.server.broker;
  let committed = 0;
  for (let q = 0; q < 16; q++) committed += Math.max(0, broker.offsets.query("GID_RS", "TP_RS", q));
  assert.equal(committed, 20, "the offsets ali-ons committed on close cover the 20 messages it consumed");

  await sendAll(producer, "TP_RS", names("b", 12));
  const got2 = await startAndReceive(second, "TP_RS", 12, "the second batch");
  await sleep(500);
  assert.deepEqual([...got1].sort(), names("a", 20).sort());
  assert.deepEqual(
    [...got2].sort(),
    names("b", 12).sort(),
    "the restarted consumer gets the new messages only",
  );
});
