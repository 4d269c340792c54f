// Pop consumption on the broker itself (what the gRPC and HTTP endpoints call): invisible time, receipt handles,
// redelivery with the attempt count, dead-lettering, tag filters, FIFO message groups, long polling, and the
// receive state surviving a clean restart and a crash.
import { test } from "node:test";
import assert from "node:assert/strict";
import { cpSync } from "node:fs";
import { join } from "node:path";
import { Broker } from "../../src/broker/broker.js";
import type { BrokerConfig } from "../../src/broker/broker-config.js";
import { PopService } from "../../src/broker/pop/pop-service.js";
import type { ReceiveRequest } from "../../src/broker/pop/pop-types.js";
import { nodeFileIO } from "../../src/store/file-io.js";
import { isBrokerError } from "../../src/common/errors.js";
import { encodeProperties, getProperty } from "../../src/common/properties.js";
import { topicConfig } from "../../src/common/topic.js";
import { groupConfig } from "../../src/broker/group-manager.js";
import { groupProgress, listGroups } from "../../src/broker/ops/group-info.js";
import { tempDir } from "../support/temp-dir.js";

const TOPIC = "PopTopic";

function open(dir: string, extra: Partial<BrokerConfig> = {}): Broker {
  const b = new Broker({ dataDir: dir, port: 0, ...extra });
  b.start();
  return b;
}

async function send(b: Broker, body: string, props: Record<string, string> = {}, queueId = -1) {
  return b.sendMessage({
    producerGroup: "P",
    topic: TOPIC,
    queueId,
    body: Buffer.from(body),
    properties: encodeProperties({ UNIQ_CLIENT_MESSAGE_ID_KEYIDX: `id-${body}`, ...props }),
  });
}

function receive(b: Broker, group: string, more: Partial<ReceiveRequest> = {}) {
  return b.receiveMessages({
    group,
    topic: TOPIC,
    subscription: { expression: "*" },
    batchSize: 32,
    invisibleMs: 30_000,
    pollTimeoutMs: 0,
    ...more,
  });
}

const bodies = (ms: { record: { body: Buffer } }[]) => ms.map((m) => m.record.body.toString()).sort();
/** Bodies in the order they were handed out. */
const inOrder = (ms: { record: { body: Buffer } }[]) => ms.map((m) => m.record.body.toString());

async function withBroker(t: { after: (f: () => Promise<void>) => void }, extra: Partial<BrokerConfig> = {}) {
  const tmp = tempDir();
  const state = { b: open(tmp.dir, extra), dir: tmp.dir };
  t.after(async () => {
    await state.b.stop();
    tmp.cleanup();
  });
  return state;
}

test("receive hands out each message once, ack finishes it and moves the group's offset", async (t) => {
  const { b } = await withBroker(t);
  for (let i = 0; i < 5; i++) await send(b, `m${i}`);
  const got = await receive(b, "G1");
  assert.deepEqual(bodies(got), ["m0", "m1", "m2", "m3", "m4"]);
  assert.ok(got.every((m) => m.deliveryAttempt === 1));
  assert.equal(new Set(got.map((m) => m.receiptHandle)).size, 5);
  assert.deepEqual(await receive(b, "G1"), [], "in-flight messages are invisible");
  assert.equal((await receive(b, "G2")).length, 5, "another group gets its own copy");
  for (const m of got) await b.ackMessage("G1", TOPIC, m.receiptHandle);
  const committed = b.consumeStats("G1", TOPIC).reduce((n, s) => n + s.consumerOffset, 0);
  assert.equal(committed, 5);
  await assert.rejects(b.ackMessage("G1", TOPIC, got[0]!.receiptHandle), (e) =>
    isBrokerError(e, "INVALID_RECEIPT_HANDLE"),
  );
  assert.deepEqual(await receive(b, "G1"), []);
});

test("an un-acked message comes back after its invisible time with the next delivery attempt", async (t) => {
  const { b } = await withBroker(t);
  await send(b, "again");
  const [first] = await receive(b, "G", { invisibleMs: 300 });
  assert.ok(first);
  const t0 = Date.now();
  const [second] = await receive(b, "G", { pollTimeoutMs: 5000, invisibleMs: 300 });
  assert.ok(second, "redelivered within the long poll");
  assert.ok(Date.now() - t0 >= 200, "not before the invisible time ended");
  assert.equal(second.deliveryAttempt, 2);
  assert.equal(second.record.reconsumeTimes, 1);
  assert.equal(second.record.body.toString(), "again");
  assert.equal(getProperty(second.record.properties, "UNIQ_CLIENT_MESSAGE_ID_KEYIDX"), "id-again");
  await assert.rejects(b.ackMessage("G", TOPIC, first.receiptHandle), (e) =>
    isBrokerError(e, "INVALID_RECEIPT_HANDLE"),
  );
  await b.ackMessage("G", TOPIC, second.receiptHandle);
});

test("changeInvisibleDuration issues a new handle and moves the deadline", async (t) => {
  const { b } = await withBroker(t);
  await send(b, "c");
  const [m] = await receive(b, "G", { invisibleMs: 200 });
  assert.ok(m);
  const h2 = await b.changeInvisibleDuration("G", TOPIC, m.receiptHandle, 60_000);
  assert.notEqual(h2, m.receiptHandle);
  await new Promise((r) => setTimeout(r, 400));
  assert.deepEqual(await receive(b, "G"), [], "still invisible after the first deadline");
  await assert.rejects(b.ackMessage("G", TOPIC, m.receiptHandle), (e) =>
    isBrokerError(e, "INVALID_RECEIPT_HANDLE"),
  );
  const h3 = await b.changeInvisibleDuration("G", TOPIC, h2, 0);
  const [back] = await receive(b, "G", { pollTimeoutMs: 2000 });
  assert.equal(back?.deliveryAttempt, 2, "visible again at once after a change to 0");
  await assert.rejects(b.ackMessage("G", TOPIC, h3), (e) => isBrokerError(e, "INVALID_RECEIPT_HANDLE"));
  for (const bogus of ["", "nope", "rh1.0.0.zzzzzzzz", "rh1.-1.2.3", "rh1.0.0.0.0"]) {
    await assert.rejects(b.ackMessage("G", TOPIC, bogus), (e) => isBrokerError(e, "INVALID_RECEIPT_HANDLE"));
  }
});

test("after the group's max attempts the message goes to %DLQ%group", async (t) => {
  const { b } = await withBroker(t);
  b.groups.createOrUpdate({ ...groupConfig("GD", 16), retryMaxTimes: 1 });
  assert.equal(b.maxDeliveryAttempts("GD"), 2);
  await send(b, "doomed");
  const a1 = await receive(b, "GD", { invisibleMs: 100 });
  assert.equal(a1[0]?.deliveryAttempt, 1);
  const a2 = await receive(b, "GD", { invisibleMs: 100, pollTimeoutMs: 3000 });
  assert.equal(a2[0]?.deliveryAttempt, 2);
  const deadline = Date.now() + 5000;
  while (b.listDeadLetters("GD").length === 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
  }
  const dl = b.listDeadLetters("GD");
  assert.equal(dl.length, 1);
  assert.equal(dl[0]!.record.body.toString(), "doomed");
  assert.equal(getProperty(dl[0]!.record.properties, "RETRY_TOPIC"), TOPIC);
  assert.equal(dl[0]!.record.reconsumeTimes, 2);
  assert.deepEqual(await receive(b, "GD", { pollTimeoutMs: 300 }), [], "not delivered a third time");
  assert.equal(b.inFlightCount("GD", TOPIC), 0);
});

test("forwardToDeadLetter moves a received message at once", async (t) => {
  const { b } = await withBroker(t);
  await send(b, "fwd");
  const [m] = await receive(b, "GF");
  assert.ok(m);
  await b.forwardToDeadLetter("GF", TOPIC, m.receiptHandle);
  assert.equal(b.listDeadLetters("GF")[0]?.record.body.toString(), "fwd");
  await assert.rejects(b.ackMessage("GF", TOPIC, m.receiptHandle), (e) =>
    isBrokerError(e, "INVALID_RECEIPT_HANDLE"),
  );
});

test("tag and SQL92 filters select messages; filtered-out ones do not hold the offset back", async (t) => {
  const { b } = await withBroker(t);
  for (const tag of ["TagA", "TagB", "TagC", "TagA"])
    await send(b, `${tag}-${Math.random()}`, { TAGS: tag, n: tag });
  const got = await receive(b, "GT", { subscription: { expression: "TagA || TagC" } });
  assert.deepEqual(got.map((m) => getProperty(m.record.properties, "TAGS")).sort(), ["TagA", "TagA", "TagC"]);
  for (const m of got) await b.ackMessage("GT", TOPIC, m.receiptHandle);
  assert.equal(
    b.consumeStats("GT", TOPIC).reduce((n, s) => n + s.consumerOffset, 0),
    4,
  );
  const sql = await receive(b, "GS", { subscription: { expression: "n = 'TagB'", type: "SQL92" } });
  assert.deepEqual(
    sql.map((m) => getProperty(m.record.properties, "TAGS")),
    ["TagB"],
  );
  await assert.rejects(receive(b, "GS2", { subscription: { expression: "a >", type: "SQL92" } }), (e) =>
    isBrokerError(e),
  );
});

test("FIFO groups: a free message group gets its messages in order in one receive, then nothing more of it until all are finished", async (t) => {
  const { b } = await withBroker(t);
  b.groups.createOrUpdate({ ...groupConfig("GO", 16), consumeMessageOrderly: true });
  assert.equal(b.isFifoGroup("GO"), true);
  const sendAll = async (list: (readonly [string, string])[]) => {
    for (const [body, key] of list) await send(b, body, key ? { __SHARDINGKEY: key } : {}, 0);
  };
  await sendAll([
    ["a1", "A"],
    ["b1", "B"],
    ["a2", "A"],
    ["b2", "B"],
    ["a3", "A"],
    ["n1", ""],
  ]);
  const r1 = await receive(b, "GO", { invisibleMs: 300 });
  assert.deepEqual(
    inOrder(r1),
    ["a1", "b1", "a2", "b2", "a3", "n1"],
    "every group was free: all of it, in order",
  );
  // A's run is acked in part: A stays busy, and so does B, whose run is not acked at all.
  await sendAll([
    ["a4", "A"],
    ["b3", "B"],
  ]);
  const byBody = new Map(r1.map((m) => [m.record.body.toString(), m]));
  for (const body of ["a1", "a2", "n1"]) await b.ackMessage("GO", TOPIC, byBody.get(body)!.receiptHandle);
  assert.deepEqual(bodies(await receive(b, "GO", { invisibleMs: 300 })), [], "a3 and b1, b2 still in flight");
  await b.ackMessage("GO", TOPIC, byBody.get("a3")!.receiptHandle);
  const r2 = await receive(b, "GO", { invisibleMs: 60_000 });
  assert.deepEqual(bodies(r2), ["a4"], "A moves on once its whole run is acked; B waits");
  // B's run is not acked: it comes back whole (attempt 2), before b3, which joins it.
  const r3 = await receive(b, "GO", { invisibleMs: 60_000, pollTimeoutMs: 3000 });
  assert.deepEqual(
    r3.map((m) => [m.record.body.toString(), m.deliveryAttempt]),
    [
      ["b1", 2],
      ["b2", 2],
      ["b3", 1],
    ],
  );
  for (const m of r3) await b.ackMessage("GO", TOPIC, m.receiptHandle);
  assert.deepEqual(bodies(await receive(b, "GO", { pollTimeoutMs: 0 })), []);
  // The same messages to a non-FIFO group: all at once.
  assert.equal((await receive(b, "GPlain")).length, 8);
});

test("FIFO groups: a receive's batch size bounds a group's run; the rest follows the run in order", async (t) => {
  const { b } = await withBroker(t);
  b.groups.createOrUpdate({ ...groupConfig("GR", 16), consumeMessageOrderly: true });
  for (let i = 0; i < 10; i++) await send(b, `x${i}`, { __SHARDINGKEY: "X" }, 0);
  const r1 = await receive(b, "GR", { batchSize: 4 });
  assert.deepEqual(inOrder(r1), ["x0", "x1", "x2", "x3"]);
  assert.deepEqual(bodies(await receive(b, "GR", { batchSize: 4 })), [], "the group is busy");
  for (const m of r1) await b.ackMessage("GR", TOPIC, m.receiptHandle);
  const r2 = await receive(b, "GR", { batchSize: 32 });
  assert.deepEqual(inOrder(r2), ["x4", "x5", "x6", "x7", "x8", "x9"]);
});

test("queue order: a queue's batch is redelivered whole and nothing after it comes first", async (t) => {
  const { b } = await withBroker(t);
  for (const body of ["q1", "q2", "q3", "q4"]) await send(b, body, { __SHARDINGKEY: "user-7" });
  const order = { queueOrder: true, maxAttempts: 3 };
  const r1 = await receive(b, "GQ", { ...order, batchSize: 2, invisibleMs: 300 });
  assert.deepEqual(
    r1.map((m) => m.record.body.toString()),
    ["q1", "q2"],
    "one sharding key, one queue, in order",
  );
  assert.equal(new Set(r1.map((m) => m.queueId)).size, 1);
  await b.ackMessage("GQ", TOPIC, r1[1]!.receiptHandle);
  assert.deepEqual(await receive(b, "GQ", order), [], "q1 is in flight: the queue yields nothing new");
  const r2 = await receive(b, "GQ", { ...order, pollTimeoutMs: 3000 });
  assert.deepEqual(
    r2.map((m) => [m.record.body.toString(), m.deliveryAttempt]),
    [["q1", 2]],
  );
  await b.ackMessage("GQ", TOPIC, r2[0]!.receiptHandle);
  const r3 = await receive(b, "GQ", { ...order, invisibleMs: 100 });
  assert.deepEqual(
    r3.map((m) => m.record.body.toString()),
    ["q3", "q4"],
  );
  // maxAttempts 3 from the request: two more expiries and the third delivery's expiry dead-letter them.
  for (let i = 0; i < 2; i++) await receive(b, "GQ", { ...order, invisibleMs: 100, pollTimeoutMs: 3000 });
  const deadline = Date.now() + 5000;
  while (b.listDeadLetters("GQ").length < 2 && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(
    b.listDeadLetters("GQ").map((d) => [d.record.body.toString(), d.record.reconsumeTimes]),
    [
      ["q3", 3],
      ["q4", 3],
    ],
  );
});

test("a long poll wakes when a message arrives and ends on abort", async (t) => {
  const { b } = await withBroker(t);
  b.topics.getOrCreate(TOPIC);
  const t0 = Date.now();
  const waiting = receive(b, "GL", { pollTimeoutMs: 10_000 });
  setTimeout(() => void send(b, "late"), 150);
  const got = await waiting;
  assert.deepEqual(bodies(got), ["late"]);
  assert.ok(Date.now() - t0 < 5000);
  const ac = new AbortController();
  const t1 = Date.now();
  const idle = receive(b, "GL", { pollTimeoutMs: 10_000, signal: ac.signal });
  setTimeout(() => ac.abort(), 100);
  assert.deepEqual(await idle, []);
  assert.ok(Date.now() - t1 < 5000, "abort ended the poll");
});

test("bad receive requests are refused with clear errors", async (t) => {
  const { b } = await withBroker(t);
  await send(b, "x");
  await assert.rejects(receive(b, "G", { batchSize: 0 }), (e) => isBrokerError(e, "BAD_REQUEST"));
  await assert.rejects(receive(b, "G", { invisibleMs: -1 }), (e) => isBrokerError(e, "BAD_REQUEST"));
  await assert.rejects(receive(b, "G", { queueId: 99 }), (e) => isBrokerError(e, "BAD_REQUEST"));
  await assert.rejects(receive(b, "G", { topic: "NoSuchTopic" }), (e) => isBrokerError(e, "TOPIC_NOT_EXIST"));
  await assert.rejects(receive(b, "bad group!"), (e) => isBrokerError(e, "ILLEGAL_GROUP"));
  assert.equal((await receive(b, "G")).length, 1, "still serving");
});

test("receive state survives a clean restart: handles stay valid, acked messages stay gone", async (t) => {
  const tmp = tempDir();
  let b = open(tmp.dir);
  t.after(async () => {
    await b.stop();
    tmp.cleanup();
  });
  for (let i = 0; i < 3; i++) await send(b, `r${i}`);
  const got = await receive(b, "GR", { invisibleMs: 60_000 });
  assert.equal(got.length, 3);
  await b.ackMessage("GR", TOPIC, got[0]!.receiptHandle);
  await b.stop();
  b = open(tmp.dir);
  assert.deepEqual(await receive(b, "GR"), [], "in-flight messages are still invisible after the restart");
  assert.equal(b.inFlightCount("GR", TOPIC), 2);
  await assert.rejects(b.ackMessage("GR", TOPIC, got[0]!.receiptHandle), (e) =>
    isBrokerError(e, "INVALID_RECEIPT_HANDLE"),
  );
  for (const m of got.slice(1)) await b.ackMessage("GR", TOPIC, m.receiptHandle);
  await b.stop();
  b = open(tmp.dir);
  assert.deepEqual(await receive(b, "GR"), []);
  assert.equal(
    b.consumeStats("GR", TOPIC).reduce((n, s) => n + s.consumerOffset, 0),
    3,
  );
});

test("receive state survives a crash: the journal is replayed from what reached the OS", async (t) => {
  const live = tempDir();
  const copy = tempDir();
  const b = open(live.dir);
  const reopened: Broker[] = [];
  t.after(async () => {
    await b.stop();
    for (const r of reopened) await r.stop();
    live.cleanup();
    copy.cleanup();
  });
  for (let i = 0; i < 4; i++) await send(b, `k${i}`);
  const got = await receive(b, "GK", { invisibleMs: 60_000 });
  assert.equal(got.length, 4);
  await b.ackMessage("GK", TOPIC, got[0]!.receiptHandle);
  await b.ackMessage("GK", TOPIC, got[1]!.receiptHandle);
  // A copy of the data directory while the broker runs is what a kill -9 at this moment leaves behind.
  cpSync(live.dir, copy.dir, { recursive: true });
  const b2 = open(copy.dir);
  reopened.push(b2);
  assert.deepEqual(await receive(b2, "GK"), [], "nothing redelivered early, nothing acked comes back");
  assert.equal(b2.inFlightCount("GK", TOPIC), 2);
  await b2.ackMessage("GK", TOPIC, got[2]!.receiptHandle);
  const back = await b2.changeInvisibleDuration("GK", TOPIC, got[3]!.receiptHandle, 0);
  const again = await receive(b2, "GK", { pollTimeoutMs: 2000 });
  assert.deepEqual(
    again.map((m) => [m.record.body.toString(), m.deliveryAttempt]),
    [[got[3]!.record.body.toString(), 2]],
  );
  assert.ok(back);
});

test("a priority message goes to the queue of its level, whatever queue the sender named", async (t) => {
  const { b } = await withBroker(t);
  const r = await send(b, "prio", { _SYS_MSG_PRIORITY_: "3" }, 6);
  assert.equal(r.queueId, 3, "the sender's queue 6 is overridden by level 3");
  const capped = await send(b, "prio-high", { _SYS_MSG_PRIORITY_: "1000" });
  assert.equal(capped.queueId, 7, "above the last queue: the last queue");
  const plain = await send(b, "plain", { _SYS_MSG_PRIORITY_: "-2" }, 5);
  assert.equal(plain.queueId, 5, "not a level: the sender's queue");
});

test("a lite message is stored in its lite topic's own queue; a bad name is refused", async (t) => {
  const { b } = await withBroker(t);
  const r = await send(b, "lite-1", { __LITE_TOPIC: "session-1" });
  assert.equal(r.queueId, 0);
  assert.equal(b.store.getMaxOffset("%LMQ%$PopTopic$session-1", 0), 1);
  for (let q = 0; q < 8; q++) assert.equal(b.store.getMaxOffset(TOPIC, q), 0, "not in the parent's queues");
  await assert.rejects(send(b, "lite-bad", { __LITE_TOPIC: "bad name" }), (e) =>
    isBrokerError(e, "ILLEGAL_LITE_TOPIC"),
  );
});

test("an idle receive state with nothing in flight is let go and picks up at its committed offset", async (t) => {
  const { b, dir } = await withBroker(t);
  const popDir = join(dir, "pop-idle");
  const open = () =>
    new PopService(
      {
        store: b.store,
        topics: b.topics,
        groups: b.groups,
        offsets: b.offsets,
        newGroupStart: (topic, queueId) => b.newGroupStartOffset(topic, queueId),
        deadLetter: async () => undefined,
      },
      nodeFileIO,
      popDir,
      { idleMs: 200, sweepMs: 10 },
    );
  const req = {
    group: "GIdle",
    topic: TOPIC,
    subscription: { expression: "*" },
    batchSize: 2,
    invisibleMs: 30_000,
    pollTimeoutMs: 0,
  };
  for (let i = 0; i < 8 * 3; i++) await send(b, `idle-${i}`, {}, i % 8);
  const pop = open();
  pop.start();
  const first = await pop.receive({ ...req, queueId: 0 });
  assert.equal(first.length, 2);
  const held = await pop.receive({ ...req, queueId: 1, batchSize: 1 });
  for (const m of first) await pop.ack("GIdle", TOPIC, m.receiptHandle);
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(pop.stateCount, 1, "queue 0 let go; queue 1 still has a message in flight");
  const next = await pop.receive({ ...req, queueId: 0 });
  assert.deepEqual(bodies(next), ["idle-16"], "from the committed offset on");
  await pop.ack("GIdle", TOPIC, held[0]!.receiptHandle);
  await pop.ack("GIdle", TOPIC, next[0]!.receiptHandle);
  await pop.stop();
  const reopened = open();
  const after = await reopened.receive({ ...req, queueId: 0 });
  assert.equal(after.length, 0, "nothing acked comes back after a restart");
  await reopened.stop();
});

test("a lite consumer following many quiet lite topics gets what arrives on any of them", async (t) => {
  const { b } = await withBroker(t);
  const names = Array.from({ length: 500 }, (_, i) => `t-${i}`);
  b.topics.getOrCreate(TOPIC);
  b.lite.sync({
    clientId: "client-1",
    group: "GLite",
    parentTopic: TOPIC,
    action: "COMPLETE_ADD",
    liteTopics: names,
  });
  const receive = (pollTimeoutMs: number) =>
    b.receiveLiteMessages({
      clientId: "client-1",
      group: "GLite",
      parentTopic: TOPIC,
      batchSize: 32,
      invisibleMs: 30_000,
      pollTimeoutMs,
    });
  assert.deepEqual(await receive(0), [], "nothing yet");
  assert.equal(b.pop.stateCount, 0, "quiet lite topics hold no receive state");
  const waiting = receive(5000);
  const t0 = Date.now();
  await send(b, "to-321", { __LITE_TOPIC: "t-321" });
  const got = await waiting;
  assert.deepEqual(bodies(got), ["to-321"]);
  assert.ok(Date.now() - t0 < 1000, "woken by the arrival");
  await b.ackMessage("GLite", got[0]!.record.topic, got[0]!.receiptHandle);
  await send(b, "to-5", { __LITE_TOPIC: "t-5" });
  assert.deepEqual(bodies(await receive(0)), ["to-5"], "written while nobody was polling");
  await send(b, "unfollowed", { __LITE_TOPIC: "t-999" });
  assert.deepEqual(await receive(0), [], "a lite topic the client does not follow");
  assert.ok(b.pop.stateCount <= 2, `${b.pop.stateCount} receive states`);
});

test("a lite group's backlog shows in the group views, under its parent topic", async (t) => {
  const { b } = await withBroker(t);
  b.topics.getOrCreate(TOPIC);
  b.lite.sync({
    clientId: "client-2",
    group: "GLiteOps",
    parentTopic: TOPIC,
    action: "COMPLETE_ADD",
    liteTopics: ["a", "b"],
  });
  for (let i = 0; i < 3; i++) await send(b, `a-${i}`, { __LITE_TOPIC: "a" });
  for (let i = 0; i < 2; i++) await send(b, `b-${i}`, { __LITE_TOPIC: "b" });
  const got = await b.receiveLiteMessages({
    clientId: "client-2",
    group: "GLiteOps",
    parentTopic: TOPIC,
    batchSize: 1,
    invisibleMs: 30_000,
    pollTimeoutMs: 0,
  });
  await b.ackMessage("GLiteOps", got[0]!.record.topic, got[0]!.receiptHandle);
  const summary = listGroups(b).find((g) => g.group === "GLiteOps");
  assert.ok(summary, "the group is listed");
  assert.deepEqual(summary.topics, [TOPIC]);
  assert.equal(summary.backlog, 4, "5 sent, 1 consumed");
  const progress = groupProgress(b, "GLiteOps");
  assert.deepEqual(progress.map((p) => [p.topic, p.backlog]).sort(), [
    ["%LMQ%$PopTopic$a", got[0]!.record.topic.endsWith("$a") ? 2 : 3],
    ["%LMQ%$PopTopic$b", got[0]!.record.topic.endsWith("$b") ? 1 : 2],
  ]);
});

test("lite topics idle past their parent's lite.topic.expiration are deleted; others stay", async (t) => {
  const { b } = await withBroker(t);
  b.createTopic({ ...topicConfig("Expiring", 1), attributes: { "lite.topic.expiration": "30" } });
  b.createTopic(topicConfig("Keeping", 1));
  const put = (topic: string, lite: string, body: string) =>
    b.sendMessage({
      producerGroup: "P",
      topic,
      queueId: -1,
      body: Buffer.from(body),
      properties: encodeProperties({ __LITE_TOPIC: lite }),
    });
  await put("Expiring", "s1", "one");
  await put("Keeping", "s1", "two");
  b.updateConsumerOffset("G", "%LMQ%$Expiring$s1", 0, 1);
  const now = Date.now();
  assert.equal(b.lite.expireIdle(now + 29 * 60_000), 0, "not idle long enough");
  assert.equal(b.lite.expireIdle(now + 31 * 60_000), 1, "only the one under an expiring parent");
  assert.equal(b.store.getMaxOffset("%LMQ%$Expiring$s1", 0), 0);
  assert.equal(b.offsets.query("G", "%LMQ%$Expiring$s1", 0), -1, "its offsets went with it");
  assert.equal(b.store.getMaxOffset("%LMQ%$Keeping$s1", 0), 1);
  const again = await put("Expiring", "s1", "three");
  assert.equal(again.queueOffset, 0, "a later message starts the lite topic afresh");
  b.deleteTopic("Keeping");
  assert.ok(!b.store.topics().includes("%LMQ%$Keeping$s1"), "deleting the parent deletes its lite topics");
});

test("new lite topics past maxLiteTopics are refused; known ones still take messages", async (t) => {
  const tmp = tempDir();
  const b = new Broker({ dataDir: tmp.dir, port: 0, maxLiteTopics: 2 });
  b.start();
  t.after(async () => {
    await b.stop();
    tmp.cleanup();
  });
  b.createTopic(topicConfig("Capped", 1));
  const put = (lite: string) =>
    b.sendMessage({
      producerGroup: "P",
      topic: "Capped",
      queueId: -1,
      body: Buffer.from(lite),
      properties: encodeProperties({ __LITE_TOPIC: lite }),
    });
  await put("a");
  await put("b");
  await assert.rejects(put("c"), (e) => isBrokerError(e, "LITE_TOPIC_QUOTA_EXCEEDED"));
  await put("a");
  assert.equal(b.store.getMaxOffset("%LMQ%$Capped$a", 0), 2);
  assert.equal(b.lite.topicCount, 2);
  b.deleteTopic("Capped");
  b.createTopic(topicConfig("Capped", 1));
  await put("c");
  assert.equal(b.lite.topicCount, 1, "deleted lite topics free their places");
});

test("a batch send routes its lite and priority messages each on its own path", async (t) => {
  const { b } = await withBroker(t);
  const results = await b.sendBatch(
    { producerGroup: "P", topic: TOPIC, queueId: -1, body: Buffer.alloc(0), properties: "" },
    [
      { flag: 0, body: Buffer.from("lite"), properties: encodeProperties({ __LITE_TOPIC: "in-batch" }) },
      { flag: 0, body: Buffer.from("prio"), properties: encodeProperties({ _SYS_MSG_PRIORITY_: "6" }) },
    ],
  );
  assert.equal(results.length, 2);
  assert.equal(b.store.getMaxOffset("%LMQ%$PopTopic$in-batch", 0), 1, "the lite one in its lite topic");
  assert.equal(results[1]!.queueId, 6, "the priority one in the queue of its level");
});

test("a new group starts at 0 while the queue's first message is in memory, else at the end", async (t) => {
  const young = (await withBroker(t)).b;
  await send(young, "m0", {}, 0);
  await send(young, "m1", {}, 0);
  assert.deepEqual(bodies(await receive(young, "GNew")), ["m0", "m1"], "in memory: from the first message");

  const old = (await withBroker(t, { accessMessageInMemoryMaxRatio: 0 })).b;
  await send(old, "m0", {}, 0);
  await send(old, "m1", {}, 0);
  assert.deepEqual(bodies(await receive(old, "GNew")), [], "out of memory: nothing of the history");
  await send(old, "later", {}, 0);
  assert.deepEqual(bodies(await receive(old, "GNew")), ["later"], "then what arrives");
});
