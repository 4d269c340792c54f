// Retries as a real ali-ons 3.12.0 client drives them: its CONSUMER_SEND_MSG_BACK with maxReconsumeTimes, the
// dead-letter queue at the end, and both under an instance namespace (topics and groups "NS%name", as Alibaba
// Cloud instances name them, so the retry topic is "%RETRY%NS%group").
//
// One cluster serves the whole file.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { FAST_DELAY_LEVELS, startCluster } from "../support/cluster-fixture.js";
import type { Cluster } from "../support/cluster-fixture.js";
import { decodeRecord } from "../../src/common/message-record.js";
import { decodeProperties, Prop } from "../../src/common/properties.js";
import { closeClients, common, consumer, ons, until } from "./ali-ons-kit.js";
import type { OnsMessage } from "./ali-ons.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let cluster: Cluster;
before(async () => {
  cluster = await startCluster({ messageDelayLevel: FAST_DELAY_LEVELS });
});
after(async () => {
  await cluster.stop();
});

/**
 * Sends one message on topic `TP_<id>` and lets the listener of group `GID_<id>` fail `failures` times; returns
 * what it saw. `id` also names the client instance (ali-ons shares one client per instance name).
 */
async function sendAndFail(
  t: { after: (f: () => Promise<void>) => void },
  id: string,
  namespace: string,
  maxReconsumeTimes: number,
  failures: number,
) {
  const ns = cluster.namesrvAddr;
  const opts = namespace ? { namespace } : {};
  const producer = new ons.Producer({
    ...common(ns),
    ...opts,
    producerGroup: `PID_${id}`,
    instanceName: `p${id}`,
  });
  const c = consumer(ns, `GID_${id}`, id, { ...opts, maxReconsumeTimes });
  t.after(() => closeClients(c, producer));
  const seen: OnsMessage[] = [];
  c.subscribe(`TP_${id}`, "*", async (m) => {
    seen.push(m);
    if (seen.length <= failures) throw new Error(`listener failure ${seen.length}`);
  });
  await producer.ready();
  await c.ready();
  const sent = await producer.send(new ons.Message(`TP_${id}`, "TagA", "payload"));
  assert.equal(sent.sendStatus, "SEND_OK");
  return { seen, sent };
}

test("ali-ons under a namespace: topic and group 'NS%name' produce, consume and retry with the reconsume count", async (t) => {
  const { seen, sent } = await sendAndFail(t, "NS", "MQ_INST_1", 16, 2);
  await until(() => seen.length >= 3, 20_000, "two retries and the success");
  await sleep(500);
  assert.equal(seen.length, 3, "delivered until the listener succeeded, then no more");
  assert.deepEqual(
    seen.map((m) => m.reconsumeTimes),
    [0, 1, 2],
  );
  for (const m of seen) {
    assert.equal(m.body.toString(), "payload");
    assert.equal(m.tags, "TagA");
    assert.equal(m.topic, "MQ_INST_1%TP_NS", "ali-ons hands the original topic back, namespace included");
  }
  assert.equal(seen[0]!.msgId, sent.msgId);
  const broker = cluster.broker.server.broker;
  assert.ok(
    broker.store.getMaxOffset("%RETRY%MQ_INST_1%GID_NS", 0) >= 2,
    "the retries went through the group's retry topic",
  );
});

test("ali-ons: a message whose listener keeps failing goes to %DLQ%group after maxReconsumeTimes retries", async (t) => {
  const { seen } = await sendAndFail(t, "DLQ", "", 2, Infinity);
  const store = cluster.broker.server.broker.store;
  const dlq = "%DLQ%GID_DLQ";
  await until(() => store.getMaxOffset(dlq, 0) >= 1, 20_000, "the message in the dead-letter queue");
  await sleep(1000);
  assert.deepEqual(
    seen.map((m) => m.reconsumeTimes),
    [0, 1, 2],
    "the first delivery and maxReconsumeTimes retries, then no more",
  );
  assert.equal(store.getMaxOffset(dlq, 0), 1, "one copy in the dead-letter queue");
  const r = store.getMessages(dlq, 0, 0, 1);
  assert.equal(r.status, "FOUND");
  const dead = decodeRecord(r.messages[0]!);
  assert.equal(dead.body.toString(), "payload");
  assert.equal(dead.reconsumeTimes, 3, "it carries the retries it went through");
  assert.equal(decodeProperties(dead.properties).get(Prop.ORIGIN_MESSAGE_ID), seen[0]!.msgId);
});
