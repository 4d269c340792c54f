// ReceiveMessage through a bare client: long polling that ends inside the call's deadline, a cancelled poll that
// takes nothing, SQL92 filters, unknown topics and groups, and TOO_MANY_REQUESTS when too much is in flight.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { gzipSync } from "node:zlib";
import { groupConfig } from "../../../src/broker/group-manager.js";
import { topicConfig } from "../../../src/common/topic.js";
import { GrpcServer } from "../../../src/protocol/grpc/server.js";
import { uniq } from "../../client/helpers.js";
import { startBroker } from "../../support/broker-fixture.js";
import { RawClient } from "../../support/grpc-raw-client.js";
import type { RawStatus } from "../../support/grpc-raw-client.js";

let b: Awaited<ReturnType<typeof startBroker>>;
let c: RawClient;

before(async () => {
  b = await startBroker({ autoCreateTopicEnable: false, autoCreateSubscriptionGroup: false });
  c = new RawClient(b.grpcAddr);
});

after(async () => {
  c.close();
  await b.stop();
});

interface Frame {
  status?: RawStatus;
  message?: { body: Buffer; systemProperties: { deliveryAttempt?: number; receiptHandle?: string } };
}

function setup(): { topic: string; group: string } {
  const topic = uniq("GrpcRecv");
  const group = uniq("GID_recv");
  b.server.broker.createTopic(topicConfig(topic, 2));
  b.server.broker.groups.createOrUpdate(groupConfig(group, 16));
  return { topic, group };
}

function receiveReq(topic: string, group: string, pollMs: number, filter = { type: "TAG", expression: "*" }) {
  return {
    group: { name: group },
    messageQueue: { topic: { name: topic }, id: 0 },
    filterExpression: filter,
    batchSize: 16,
    invisibleDuration: { seconds: 30 },
    longPollingTimeout: { seconds: Math.floor(pollMs / 1000), nanos: (pollMs % 1000) * 1e6 },
  };
}

async function send(topic: string, body: string, userProperties: Record<string, string> = {}): Promise<void> {
  const r = await c.unary("SendMessage", {
    messages: [
      {
        topic: { name: topic },
        userProperties,
        systemProperties: { messageId: uniq("id").replace(/\W/g, ""), messageType: "NORMAL" },
        body: Buffer.from(body),
      },
    ],
  });
  assert.equal(r.status?.code, "OK");
}

test(
  "an empty poll waits for the long-polling time, then MESSAGE_NOT_FOUND; an arrival ends it early",
  { timeout: 30_000 },
  async () => {
    const { topic, group } = setup();
    let t = Date.now();
    const empty = await c.stream<Frame>("ReceiveMessage", receiveReq(topic, group, 1500));
    assert.deepEqual(
      empty.map((f) => f.status?.code),
      ["MESSAGE_NOT_FOUND"],
    );
    assert.ok(Date.now() - t >= 1300, `held ${Date.now() - t} ms`);
    t = Date.now();
    const waiting = c.stream<Frame>("ReceiveMessage", receiveReq(topic, group, 10_000));
    await new Promise((r) => setTimeout(r, 300));
    await send(topic, "wake");
    const got = await waiting;
    assert.ok(Date.now() - t < 5000, "woken by the arrival");
    assert.equal(got[0]?.status?.code, "OK");
    assert.equal(got[1]?.message?.body.toString(), "wake");
  },
);

test("the poll ends inside a deadline shorter than the long-polling time", { timeout: 30_000 }, async () => {
  const { topic, group } = setup();
  const t = Date.now();
  const frames = await c.stream<Frame>("ReceiveMessage", receiveReq(topic, group, 20_000), 3000);
  assert.equal(frames[0]?.status?.code, "MESSAGE_NOT_FOUND");
  assert.ok(Date.now() - t < 3000, "answered before the client's deadline");
});

test(
  "a cancelled poll takes nothing: the next receiver gets the message on its first delivery",
  { timeout: 30_000 },
  async () => {
    const { topic, group } = setup();
    const Ctor = c.client as unknown as Record<
      string,
      (req: unknown, md: unknown) => { cancel(): void; on(e: string, f: () => void): void }
    >;
    const call = Ctor["ReceiveMessage"]!(receiveReq(topic, group, 10_000), c.metadata());
    call.on("error", () => undefined);
    await new Promise((r) => setTimeout(r, 300));
    call.cancel();
    await new Promise((r) => setTimeout(r, 200));
    await send(topic, "after-cancel");
    const frames = await c.stream<Frame>("ReceiveMessage", receiveReq(topic, group, 3000));
    const m = frames.find((f) => f.message)?.message;
    assert.equal(m?.body.toString(), "after-cancel");
    assert.equal(m?.systemProperties.deliveryAttempt, 1);
  },
);

test("NotifyClientTermination ends the client's long polls at once", { timeout: 30_000 }, async () => {
  const { topic, group } = setup();
  const t = Date.now();
  const waiting = c.stream<Frame>("ReceiveMessage", receiveReq(topic, group, 15_000));
  await new Promise((r) => setTimeout(r, 300));
  const bye = await c.unary("NotifyClientTermination", { group: { name: group } });
  assert.equal(bye.status?.code, "OK");
  const frames = await waiting;
  assert.equal(frames[0]?.status?.code, "MESSAGE_NOT_FOUND");
  assert.ok(Date.now() - t < 5000, `ended after ${Date.now() - t} ms`);
});

test(
  "a gzip body is stored inflated; a timed message arrives at its time, carrying it",
  { timeout: 30_000 },
  async () => {
    const { topic, group } = setup();
    const text = "compress me ".repeat(100);
    const due = Date.now() + 1200;
    const sent = await c.unary("SendMessage", {
      messages: [
        {
          topic: { name: topic },
          systemProperties: { messageId: "01GZ", messageType: "NORMAL", bodyEncoding: "GZIP" },
          body: gzipSync(Buffer.from(text)),
        },
        {
          topic: { name: topic },
          systemProperties: {
            messageId: "01TIMED",
            messageType: "DELAY",
            deliveryTimestamp: { seconds: Math.floor(due / 1000), nanos: (due % 1000) * 1e6 },
          },
          body: Buffer.from("timed"),
        },
      ],
    });
    assert.equal(sent.status?.code, "OK");
    type Sys = { bodyEncoding?: string; messageType?: string; deliveryTimestamp?: { seconds?: number } };
    const first = await c.stream<{ message?: { body: Buffer; systemProperties: Sys } }>(
      "ReceiveMessage",
      receiveReq(topic, group, 500),
    );
    const gz = first.filter((f) => f.message).map((f) => f.message!);
    assert.equal(gz.length, 1, "only the gzip one: the timed one is not due");
    assert.equal(gz[0]!.body.toString(), text);
    assert.equal(gz[0]!.systemProperties.bodyEncoding, "IDENTITY");
    const later = await c.stream<{ message?: { body: Buffer; systemProperties: Sys } }>(
      "ReceiveMessage",
      receiveReq(topic, group, 8000),
    );
    const timed = later.find((f) => f.message)?.message;
    assert.equal(timed?.body.toString(), "timed");
    assert.ok(Date.now() >= due - 50, "not before its time");
    assert.equal(timed?.systemProperties.messageType, "DELAY");
    assert.equal(timed?.systemProperties.deliveryTimestamp?.seconds, Math.floor(due / 1000));
  },
);

test("SQL92 filters select on user properties; a malformed one is refused", { timeout: 30_000 }, async () => {
  const { topic, group } = setup();
  await send(topic, "hz", { region: "hz", n: "5" });
  await send(topic, "sh", { region: "sh", n: "1" });
  const frames = await c.stream<Frame>(
    "ReceiveMessage",
    receiveReq(topic, group, 3000, { type: "SQL", expression: "region = 'hz' AND n > 3" }),
  );
  assert.deepEqual(
    frames.filter((f) => f.message).map((f) => f.message!.body.toString()),
    ["hz"],
  );
  const bad = await c.stream<Frame>(
    "ReceiveMessage",
    receiveReq(topic, group, 0, { type: "SQL", expression: "region = = 'hz'" }),
  );
  assert.equal(bad[0]?.status?.code, "ILLEGAL_FILTER_EXPRESSION");
});

test("unknown topic, unknown group, bogus receipt handle: clear statuses", { timeout: 30_000 }, async () => {
  const { topic, group } = setup();
  const noTopic = await c.stream<Frame>("ReceiveMessage", receiveReq("NoSuchTopicR", group, 0));
  assert.equal(noTopic[0]?.status?.code, "TOPIC_NOT_FOUND");
  const noGroup = await c.stream<Frame>("ReceiveMessage", receiveReq(topic, "GID_no_such_group", 0));
  assert.equal(noGroup[0]?.status?.code, "CONSUMER_GROUP_NOT_FOUND");
  const ack = await c.unary("AckMessage", {
    group: { name: group },
    topic: { name: topic },
    entries: [{ messageId: "01", receiptHandle: "bogus-handle" }],
  });
  assert.equal(ack.status?.code, "INVALID_RECEIPT_HANDLE");
  const change = await c.unary("ChangeInvisibleDuration", {
    group: { name: group },
    topic: { name: topic },
    receiptHandle: "bogus-handle",
    invisibleDuration: { seconds: 5 },
  });
  assert.equal(change.status?.code, "INVALID_RECEIPT_HANDLE");
});

test("TOO_MANY_REQUESTS while the endpoint is at its in-flight limit", { timeout: 30_000 }, async () => {
  const { topic, group } = setup();
  const small = new GrpcServer(b.server.broker, { maxInflightRequests: 1 });
  const port = await small.listen(0, "127.0.0.1");
  const sc = new RawClient(`127.0.0.1:${port}`);
  try {
    const held = sc.stream<Frame>("ReceiveMessage", receiveReq(topic, group, 2000));
    await new Promise((r) => setTimeout(r, 300));
    const busy = await sc.unary("QueryRoute", { topic: { name: topic } });
    assert.equal(busy.status?.code, "TOO_MANY_REQUESTS");
    assert.equal((await held)[0]?.status?.code, "MESSAGE_NOT_FOUND");
    const ok = await sc.unary("QueryRoute", { topic: { name: topic } });
    assert.equal(ok.status?.code, "OK");
  } finally {
    sc.close();
    await small.close();
  }
});
