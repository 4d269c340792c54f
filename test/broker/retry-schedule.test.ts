// The retry schedule: the n-th retry of a message waits delay level 3 + n (10s 30s 1m 2m ... 2h with the default
// levels); past the 18th level every retry waits the last one (2 h); at maxReconsumeTimes it goes to the DLQ.
import { test } from "node:test";
import assert from "node:assert/strict";
import { decodeRecord } from "../../src/common/message-record.js";
import { getProperty } from "../../src/common/properties.js";
import { parseDelayLevels } from "../../src/broker/broker-config.js";
import { startBroker } from "../support/broker-fixture.js";

test("retry n waits level 3 + n, clamped to the last level; the DLQ after maxReconsumeTimes", async (t) => {
  const b = await startBroker({ maxReconsumeTimes: 20 });
  t.after(() => b.stop());
  const broker = b.server.broker;
  const levels = parseDelayLevels(broker.config.messageDelayLevel);
  // The seed's table: 16 retries at 10s 30s 1m 2m 3m 4m 5m 6m 7m 8m 9m 10m 20m 30m 1h 2h.
  const expected = [10, 30, 60, 120, 180, 240, 300, 360, 420, 480, 540, 600, 1200, 1800, 3600, 7200].map(
    (s) => s * 1000,
  );
  assert.deepEqual(levels.slice(2), expected);

  let phy = (
    await broker.sendMessage({
      producerGroup: "P",
      topic: "Sched",
      queueId: 0,
      body: Buffer.from("x"),
      properties: "",
    })
  ).phyOffset;
  for (let n = 0; n < 20; n++) {
    // Pretend the previous retry came back: re-send what is stored at `phy` with its reconsume count.
    const r = await broker.consumerSendMsgBack({ group: "GSched", offset: phy, delayLevel: 0 });
    const stored = decodeRecord(broker.store.readAt(r.phyOffset)!);
    assert.equal(stored.topic, "SCHEDULE_TOPIC_XXXX", `retry ${n + 1} waits in the schedule topic`);
    const level = Number(getProperty(stored.properties, "DELAY"));
    assert.equal(level, Math.min(3 + n, 18), `retry ${n + 1}`);
    assert.equal(stored.queueId, level - 1);
    assert.equal(stored.reconsumeTimes, n + 1);
    assert.equal(getProperty(stored.properties, "REAL_TOPIC"), "%RETRY%GSched");
    phy = r.phyOffset;
  }
  const last = await broker.consumerSendMsgBack({ group: "GSched", offset: phy, delayLevel: 0 });
  assert.equal(last.topic, "%DLQ%GSched", "the 21st failure (reconsumeTimes 20 = max) goes to the DLQ");
  const dlq = decodeRecord(broker.store.readAt(last.phyOffset)!);
  assert.equal(
    getProperty(dlq.properties, "RETRY_TOPIC"),
    "Sched",
    "the dead letter keeps its original topic",
  );
});
