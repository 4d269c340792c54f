// Pull bodies are built in memory the broker reuses once the connection has written them (src/store/body-pool.ts).
// Two groups drain the same topic at once, so bodies are taken and handed back across connections while pulls are
// in flight; every message must arrive exactly as sent.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { Action, Consumer, Message, Producer } from "../../src/client/index.js";
import { clientOpts, createTopic, startCluster, uniq, waitFor } from "./helpers.js";
import type { Cluster } from "./helpers.js";

let c: Cluster;

before(async () => {
  c = await startCluster();
});

after(async () => {
  await c.stop();
});

/** 1 KiB that only message `i` has: its index, then bytes derived from it. */
function bodyOf(i: number): Buffer {
  const b = Buffer.alloc(1024);
  b.writeUInt32BE(i, 0);
  for (let j = 4; j < b.length; j++) b[j] = (i * 131 + j * 7) & 0xff;
  return b;
}

test("bodies of pulls served from reused memory arrive exactly as sent", { timeout: 60_000 }, async () => {
  const topic = uniq("T_reuse");
  await createTopic(c, topic, 4);
  const producer = new Producer(clientOpts(c, uniq("PID")));
  await producer.start();
  const total = 4000;
  try {
    for (let i = 0; i < total; i += 200) {
      const sends: Promise<unknown>[] = [];
      for (let k = i; k < Math.min(i + 200, total); k++)
        sends.push(producer.send(new Message(topic, "T", bodyOf(k))));
      await Promise.all(sends);
    }
  } finally {
    await producer.shutdown();
  }
  const store = c.broker.server.broker.store;
  const reusedBefore = store.reusedBodies;
  const groups = [new Map<number, Buffer>(), new Map<number, Buffer>()];
  const bad: string[] = [];
  const consumers = groups.map((seen) => {
    const consumer = new Consumer({
      ...clientOpts(c, uniq("GID")),
      consumeFromWhere: "FIRST",
      pullBatchSize: 32,
    });
    consumer.subscribe(topic, "*", (m) => {
      const i = m.body.readUInt32BE(0);
      if (!bodyOf(i).equals(m.body))
        bad.push(`message ${i} (queue ${m.queueId}, offset ${m.queueOffset}) arrived changed`);
      seen.set(i, m.body);
      return Action.CommitMessage;
    });
    return consumer;
  });
  await Promise.all(consumers.map((x) => x.start()));
  try {
    await waitFor(() => groups.every((g) => g.size === total), 40_000, `both groups to get all ${total}`);
  } finally {
    await Promise.all(consumers.map((x) => x.shutdown()));
  }
  assert.deepEqual(bad, []);
  assert.ok(
    store.reusedBodies - reusedBefore > 0,
    "some pulls were served from memory handed back by earlier ones",
  );
});
