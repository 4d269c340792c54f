// Consumer groups: two clustering members split the queues and together see every message; broadcasting
// members each see every message and resume from their local offset file.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Consumer, Message, MessageModel, Producer } from "../../src/client/index.js";
import { tempDir } from "../support/temp-dir.js";
import { Collector, clientOpts, createTopic, sleep, startCluster, uniq, waitFor } from "./helpers.js";
import type { Cluster } from "./helpers.js";

let c: Cluster;
let producer: Producer;
const dirs: { cleanup: () => void }[] = [];

before(async () => {
  c = await startCluster();
  producer = new Producer(clientOpts(c, uniq("PID")));
  await producer.start();
});

after(async () => {
  await producer.shutdown();
  await c.stop();
  for (const d of dirs) d.cleanup();
});

async function sendN(topic: string, from: number, n: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = from; i < from + n; i++) {
    await producer.send(new Message(topic, "T", `g${i}`));
    out.push(`g${i}`);
  }
  return out;
}

function topicQueues(consumer: Consumer, topic: string): string[] {
  return consumer
    .assignedQueues()
    .filter((q) => q.topic === topic)
    .map((q) => `${q.brokerName}/${q.queueId}`)
    .sort();
}

test(
  "two clustering consumers share the queues and together get every message",
  { timeout: 60_000 },
  async () => {
    const topic = uniq("T_share");
    await createTopic(c, topic, 8);
    const group = uniq("GID_share");
    const a = new Collector();
    const b = new Collector();
    const ca = new Consumer({ ...clientOpts(c, group), consumeFromWhere: "FIRST" });
    const cb = new Consumer({ ...clientOpts(c, group), consumeFromWhere: "FIRST" });
    ca.subscribe(topic, "*", a.listener);
    cb.subscribe(topic, "*", b.listener);
    await ca.start();
    try {
      await waitFor(() => topicQueues(ca, topic).length === 8, 5000, "A owns all 8 queues");
      // Phase 1: a member joins while messages flow; nothing may be lost (duplicates are allowed here).
      const first = await sendN(topic, 0, 50);
      await cb.start();
      assert.notEqual(ca.clientId, cb.clientId);
      const second = await sendN(topic, 50, 50);
      await waitFor(
        () => topicQueues(ca, topic).length === 4 && topicQueues(cb, topic).length === 4,
        10_000,
        "4 queues each",
      );
      const all1 = [...first, ...second];
      await waitFor(
        () => all1.every((x) => a.bodies().includes(x) || b.bodies().includes(x)),
        10_000,
        "every phase-1 message",
      );
      const qa = topicQueues(ca, topic);
      const qb = topicQueues(cb, topic);
      assert.equal(new Set([...qa, ...qb]).size, 8, "disjoint, covering every queue");
      // Phase 2: steady state; exactly once.
      await sleep(500);
      const seenA = a.messages.length;
      const seenB = b.messages.length;
      const third = await sendN(topic, 100, 80);
      await waitFor(
        () => a.messages.length - seenA + (b.messages.length - seenB) >= 80,
        10_000,
        "every phase-2 message",
      );
      await sleep(300);
      const got = [...a.bodies().slice(seenA), ...b.bodies().slice(seenB)];
      assert.equal(got.length, 80, "no duplicates in a steady state");
      assert.deepEqual(new Set(got), new Set(third));
      assert.ok(a.messages.length > seenA && b.messages.length > seenB, "both members consumed");
    } finally {
      await cb.shutdown();
      await ca.shutdown();
    }
  },
);

test("when one clustering member leaves, the other takes over its queues", { timeout: 60_000 }, async () => {
  const topic = uniq("T_leave");
  await createTopic(c, topic, 4);
  const group = uniq("GID_leave");
  const a = new Collector();
  const b = new Collector();
  const ca = new Consumer({ ...clientOpts(c, group), consumeFromWhere: "FIRST" });
  const cb = new Consumer({ ...clientOpts(c, group), consumeFromWhere: "FIRST" });
  ca.subscribe(topic, "*", a.listener);
  cb.subscribe(topic, "*", b.listener);
  await ca.start();
  await cb.start();
  try {
    await waitFor(
      () => topicQueues(ca, topic).length === 2 && topicQueues(cb, topic).length === 2,
      10_000,
      "split",
    );
    const before = await sendN(topic, 0, 20);
    await waitFor(() => a.messages.length + b.messages.length >= 20, 10_000, "first batch");
    await cb.shutdown();
    await waitFor(() => topicQueues(ca, topic).length === 4, 10_000, "A takes every queue");
    const afterLeave = await sendN(topic, 20, 20);
    await waitFor(() => afterLeave.every((x) => a.bodies().includes(x)), 10_000, "A gets the rest");
    const all = [...a.bodies(), ...b.bodies()];
    assert.deepEqual(new Set(all), new Set([...before, ...afterLeave]));
    assert.equal(all.length, 40, "B committed its offsets before leaving: nothing replayed");
  } finally {
    await cb.shutdown();
    await ca.shutdown();
  }
});

test(
  "two broadcasting consumers each get every message; offsets resume from the local file",
  { timeout: 60_000 },
  async () => {
    const topic = uniq("T_bcast");
    await createTopic(c, topic, 4);
    const group = uniq("GID_bcast");
    const dir = tempDir("rmq-offsets-");
    dirs.push(dir);
    const opts = {
      ...clientOpts(c, group),
      messageModel: MessageModel.BROADCASTING,
      offsetStoreDir: dir.dir,
      persistOffsetIntervalMs: 100,
    };
    const x = new Collector();
    const y = new Collector();
    const cx = new Consumer({ ...opts, instanceName: "bx" });
    const cy = new Consumer({ ...opts, instanceName: "by" });
    cx.subscribe(topic, "*", x.listener);
    cy.subscribe(topic, "*", y.listener);
    await cx.start();
    await cy.start();
    const sent = await sendN(topic, 0, 40);
    await x.waitCount(40);
    await y.waitCount(40);
    await sleep(200);
    assert.deepEqual(x.bodies().sort(), [...sent].sort());
    assert.deepEqual(y.bodies().sort(), [...sent].sort());
    await cx.shutdown();
    const file = join(dir.dir, "127.0.0.1@bx", group, "offsets.json");
    assert.ok(existsSync(file), "offset file written");
    const table = (JSON.parse(readFileSync(file, "utf8")) as { offsetTable: Record<string, number> })
      .offsetTable;
    assert.equal(
      Object.entries(table)
        .filter(([k]) => k.startsWith(`${topic}@`))
        .reduce((s, [, v]) => s + v, 0),
      40,
      "file holds the next offsets",
    );
    // While bx is down: 10 more. It must resume exactly there; a brand-new member starts at the end.
    const more = await sendN(topic, 40, 10);
    await y.waitCount(50);
    const x2 = new Collector();
    const z = new Collector();
    const cx2 = new Consumer({ ...opts, instanceName: "bx" });
    const cz = new Consumer({ ...opts, instanceName: "bz" });
    cx2.subscribe(topic, "*", x2.listener);
    cz.subscribe(topic, "*", z.listener);
    await cx2.start();
    await cz.start();
    try {
      await x2.waitCount(10);
      const last = await sendN(topic, 50, 5);
      await x2.waitCount(15);
      await z.waitCount(5);
      await y.waitCount(55);
      await sleep(200);
      assert.deepEqual(x2.bodies().sort(), [...more, ...last].sort(), "restarted member: no loss, no replay");
      assert.deepEqual(z.bodies().sort(), [...last].sort(), "new member starts at the latest offset");
      assert.equal(y.messages.length, 55);
    } finally {
      await cx2.shutdown();
      await cz.shutdown();
      await cy.shutdown();
    }
  },
);
