// An offset reset by time over remoting (INVOKE_BROKER_TO_RESET_OFFSET, as mqadmin resetOffsetByTime sends it)
// seen by a real ali-ons 3.12.0 consumer. ali-ons ignores the broker's RESET_CONSUMER_CLIENT_OFFSET, but a
// consumer that starts after the reset reads the committed offsets, so it re-reads from the reset point; a running
// one is moved by its next pull.
import { test } from "node:test";
import assert from "node:assert/strict";
import { RemotingClient } from "../../src/protocol/remoting/client.js";
import { createRequest } from "../../src/protocol/remoting/command.js";
import { RequestCode } from "../../src/protocol/remoting/request-code.js";
import { ResponseCode } from "../../src/protocol/remoting/response-code.js";
import { startCluster } from "../support/cluster-fixture.js";
import { closeClients, common, consumer, ons, teardown, until } from "./ali-ons-kit.js";
import type { OnsConsumer } from "./ali-ons-kit.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function collect(c: OnsConsumer, topic: string): string[] {
  const got: string[] = [];
  c.subscribe(topic, "*", async (m) => {
    got.push(m.body.toString());
  });
  return got;
}

/** Sends a-0..a-3, then b-0..b-3 to `topic`; returns a time between the two batches. */
async function sendAroundBoundary(
  producer: { send(m: unknown): Promise<{ sendStatus: string }> },
  topic: string,
) {
  const sendAll = async (prefix: string) => {
    for (let i = 0; i < 4; i++) {
      const r = await producer.send(new ons.Message(topic, "T", `${prefix}-${i}`));
      assert.equal(r.sendStatus, "SEND_OK");
    }
  };
  await sendAll("a");
  await sleep(30);
  const boundary = Date.now();
  await sleep(30);
  await sendAll("b");
  return boundary;
}

test("ali-ons: after a reset by time, the group's next consumer re-reads exactly what was stored after it", async (t) => {
  const cluster = await startCluster();
  const ns = cluster.namesrvAddr;
  const producer = new ons.Producer({ ...common(ns), producerGroup: "PID_RST" });
  const admin = new RemotingClient();
  const clients: { close(): Promise<void> }[] = [producer];
  t.after(async () => {
    await admin.close();
    await teardown(cluster, ...clients);
  });
  await producer.ready();
  const boundary = await sendAroundBoundary(producer, "TP_RST");

  const first = consumer(ns, "GID_RST", "r1");
  clients.push(first);
  const got1 = collect(first, "TP_RST");
  await first.ready();
  await until(() => got1.length >= 8, 15_000, "the first consumer's 8 messages");
  const offsets = cluster.broker.server.broker.offsets;
  const committed = () => [...offsets.offsetsOf("GID_RST", "TP_RST").values()].reduce((n, v) => n + v, 0);
  await until(() => committed() === 8, 10_000, "the first consumer's offsets committed");
  await closeClients(first);

  const r = await admin.invoke(
    cluster.brokerAddr,
    createRequest(RequestCode.INVOKE_BROKER_TO_RESET_OFFSET, {
      topic: "TP_RST",
      group: "GID_RST",
      timestamp: String(boundary),
      isForce: "true",
      offset: "-1",
    }),
    3000,
  );
  assert.equal(r.code, ResponseCode.SUCCESS, r.remark);
  assert.equal(committed(), 4, "the four messages after the boundary are un-consumed again");

  const second = consumer(ns, "GID_RST", "r2");
  clients.push(second);
  const got2 = collect(second, "TP_RST");
  await second.ready();
  await until(() => got2.length >= 4, 15_000, "the re-read messages");
  await sleep(500);
  assert.deepEqual([...got2].sort(), ["b-0", "b-1", "b-2", "b-3"]);
});

test("ali-ons: a reset by time while the consumer runs: it re-reads what was stored after it, and its own commits do not undo the reset", async (t) => {
  // ali-ons has no handler for the broker's reset notice and commits the offsets it holds in memory; the reset
  // reaches it through its next pull (PULL_OFFSET_MOVED), as RocketMQ 5's server-side reset does.
  const cluster = await startCluster();
  const ns = cluster.namesrvAddr;
  const producer = new ons.Producer({ ...common(ns), producerGroup: "PID_RST_LIVE" });
  const c = consumer(ns, "GID_RST_LIVE", "live");
  const admin = new RemotingClient();
  t.after(async () => {
    await admin.close();
    await teardown(cluster, c, producer);
  });
  await producer.ready();
  const boundary = await sendAroundBoundary(producer, "TP_RST_LIVE");
  const got = collect(c, "TP_RST_LIVE");
  await c.ready();
  await until(() => got.length >= 8, 15_000, "the consumer's 8 messages");
  const offsets = cluster.broker.server.broker.offsets;
  const committed = () =>
    [...offsets.offsetsOf("GID_RST_LIVE", "TP_RST_LIVE").values()].reduce((n, v) => n + v, 0);
  await until(() => committed() === 8, 10_000, "the offsets committed");

  const r = await admin.invoke(
    cluster.brokerAddr,
    createRequest(RequestCode.INVOKE_BROKER_TO_RESET_OFFSET, {
      topic: "TP_RST_LIVE",
      group: "GID_RST_LIVE",
      timestamp: String(boundary),
      isForce: "true",
      offset: "-1",
    }),
    3000,
  );
  assert.equal(r.code, ResponseCode.SUCCESS, r.remark);
  // Its held pulls are ended by the reset, so it does not wait for their long polls (15 s) to end.
  await until(() => got.length >= 12, 10_000, "the re-read messages");
  await sleep(1000);
  assert.deepEqual(
    got.slice(8).sort(),
    ["b-0", "b-1", "b-2", "b-3"],
    "exactly the messages stored after the reset time, once more",
  );
  await until(() => committed() === 8, 10_000, "the offsets committed again after the re-read");
});
