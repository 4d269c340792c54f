// Where a consumer group without a committed offset starts (QUERY_CONSUMER_OFFSET): RocketMQ's rule, 0 while the
// queue still starts at offset 0 with that message in memory, otherwise "not found" so the client applies its
// consumeFromWhere.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Broker } from "../../src/broker/broker.js";
import type { BrokerConfig } from "../../src/broker/broker-config.js";
import { isBrokerError } from "../../src/common/errors.js";
import { topicConfig } from "../../src/common/topic.js";
import { tempDir } from "../support/temp-dir.js";

const TOPIC = "StartTopic";

async function withBroker(t: { after: (f: () => Promise<void>) => void }, extra: Partial<BrokerConfig> = {}) {
  const tmp = tempDir();
  const b = new Broker({ dataDir: tmp.dir, port: 0, ...extra });
  b.start();
  b.createTopic(topicConfig(TOPIC, 2));
  t.after(async () => {
    await b.stop();
    tmp.cleanup();
  });
  return b;
}

async function send(b: Broker, n: number, queueId: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    await b.sendMessage({
      producerGroup: "P",
      topic: TOPIC,
      queueId,
      body: Buffer.from(`m${i}`),
      properties: "",
    });
  }
}

function notFound(f: () => unknown): boolean {
  try {
    f();
    return false;
  } catch (e) {
    return isBrokerError(e) && e.code === "OFFSET_NOT_FOUND";
  }
}

test("a group without an offset starts at 0 on an empty queue and on one whose first message is in memory", async (t) => {
  const b = await withBroker(t);
  assert.equal(b.queryConsumerOffset("G", TOPIC, 1), 0, "empty queue");
  await send(b, 3, 0);
  assert.equal(
    b.queryConsumerOffset("G", TOPIC, 0),
    0,
    "first message within 40 % of memory of the log's end",
  );
  assert.ok(
    notFound(() => b.queryConsumerOffset("G", TOPIC, 0, false)),
    "setZeroIfNotFound=false: not found",
  );
  b.updateConsumerOffset("G", TOPIC, 0, 2);
  assert.equal(b.queryConsumerOffset("G", TOPIC, 0), 2, "a committed offset wins");
  assert.equal(b.queryConsumerOffset("G", TOPIC, 0, false), 2);
});

test("a group without an offset gets OFFSET_NOT_FOUND once the queue's first message has left memory", async (t) => {
  // No memory at all: every message but the log's very end counts as on disk.
  const b = await withBroker(t, { accessMessageInMemoryMaxRatio: 0 });
  await send(b, 2, 0);
  assert.ok(
    notFound(() => b.queryConsumerOffset("G", TOPIC, 0)),
    "the history is on disk: not found",
  );
  assert.equal(b.queryConsumerOffset("G", TOPIC, 1), 0, "an empty queue still starts at 0");
  b.updateConsumerOffset("G", TOPIC, 0, 1);
  assert.equal(b.queryConsumerOffset("G", TOPIC, 0), 1);
});

test("accessMessageInMemoryMaxRatio outside 0..100 is refused", () => {
  const tmp = tempDir();
  try {
    assert.throws(
      () => new Broker({ dataDir: tmp.dir, port: 0, accessMessageInMemoryMaxRatio: 101 }),
      /ratio/i,
    );
    assert.throws(
      () => new Broker({ dataDir: tmp.dir, port: 0, accessMessageInMemoryMaxRatio: -1 }),
      /ratio/i,
    );
  } finally {
    tmp.cleanup();
  }
});
