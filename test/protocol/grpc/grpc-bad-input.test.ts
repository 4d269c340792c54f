// Requests the official clients would not send, through a bare grpc-js client: each gets a clear v2 status (never
// a transport error, never code 0), nothing is stored, and the endpoint keeps serving.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import * as grpc from "@grpc/grpc-js";
import { groupConfig } from "../../../src/broker/group-manager.js";
import { topicConfig } from "../../../src/common/topic.js";
import { startBroker } from "../../support/broker-fixture.js";
import { RawClient } from "../../support/grpc-raw-client.js";
import type { RawStatus } from "../../support/grpc-raw-client.js";

let b: Awaited<ReturnType<typeof startBroker>>;
let c: RawClient;
const TOPIC = `GrpcBad_${process.pid}`;

before(async () => {
  b = await startBroker({ autoCreateTopicEnable: false, autoCreateSubscriptionGroup: false });
  b.server.broker.createTopic(topicConfig(TOPIC, 4));
  c = new RawClient(b.grpcAddr);
});

after(async () => {
  c.close();
  await b.stop();
});

function message(over: Record<string, unknown> = {}, sys: Record<string, unknown> = {}) {
  return {
    topic: { name: TOPIC },
    systemProperties: { messageId: "0100000000000000000000000000000001", messageType: "NORMAL", ...sys },
    body: Buffer.from("x"),
    ...over,
  };
}

async function sendStatus(messages: unknown[]): Promise<RawStatus | undefined> {
  const r = await c.unary<{ status?: RawStatus; entries?: { status?: RawStatus }[] }>("SendMessage", {
    messages,
  });
  return r.status;
}

test("QueryRoute: queue 0 read-write on broker 0 at the gRPC address; unknown and nameless topics refused", async () => {
  const r = await c.unary<{ status: RawStatus; messageQueues: Record<string, unknown>[] }>("QueryRoute", {
    topic: { name: TOPIC },
  });
  assert.equal(r.status.code, "OK");
  assert.equal(r.messageQueues.length, 4);
  const q0 = r.messageQueues[0] as {
    id?: number;
    permission: string;
    broker: { id?: number; endpoints: { addresses: { host: string; port: number }[] } };
    acceptMessageTypes: string[];
  };
  assert.equal(q0.id ?? 0, 0);
  assert.equal(q0.permission, "READ_WRITE");
  assert.equal(q0.broker.id ?? 0, 0);
  assert.deepEqual(q0.broker.endpoints.addresses, [{ host: "127.0.0.1", port: b.server.grpcPort }]);
  assert.deepEqual(q0.acceptMessageTypes, ["NORMAL", "FIFO", "DELAY", "TRANSACTION", "LITE", "PRIORITY"]);

  const unknown = await c.unary("QueryRoute", { topic: { name: "NoSuchTopic" } });
  assert.equal(unknown.status?.code, "TOPIC_NOT_FOUND");
  assert.match(unknown.status?.message ?? "", /NoSuchTopic/);
  const nameless = await c.unary("QueryRoute", {});
  assert.equal(nameless.status?.code, "ILLEGAL_TOPIC");
  assert.match(nameless.status?.message ?? "", /topic is required/);
});

test("SendMessage: malformed messages get a BAD_REQUEST-family status and nothing is stored", async () => {
  assert.equal((await sendStatus([]))?.code, "BAD_REQUEST");
  assert.equal((await sendStatus([message({}, { messageId: "" })]))?.code, "ILLEGAL_MESSAGE_ID");
  assert.equal((await sendStatus([message({ systemProperties: undefined })]))?.code, "BAD_REQUEST");
  assert.equal(
    (await sendStatus([message({ userProperties: { TAGS: "x" } })]))?.code,
    "ILLEGAL_MESSAGE_PROPERTY_KEY",
  );
  assert.equal((await sendStatus([message({}, { tag: "a||b" })]))?.code, "ILLEGAL_MESSAGE_TAG");
  assert.equal(
    (await sendStatus([message({}, { messageType: "FIFO" })]))?.code,
    "MESSAGE_PROPERTY_CONFLICT_WITH_TYPE",
  );
  assert.equal(
    (await sendStatus([message({}, { bodyDigest: { type: "MD5", checksum: "00" } })]))?.code,
    "MESSAGE_CORRUPTED",
  );
  assert.equal(
    (await sendStatus([message({ body: Buffer.alloc(4 * 1024 * 1024 - 64 * 1024 + 1) })]))?.code,
    "MESSAGE_BODY_TOO_LARGE",
  );
  assert.equal((await sendStatus([message({ body: Buffer.alloc(0) })]))?.code, "MESSAGE_BODY_EMPTY");
  const farAhead = { seconds: Math.floor(Date.now() / 1000) + 41 * 86_400, nanos: 0 };
  assert.equal(
    (await sendStatus([message({}, { messageType: "DELAY", deliveryTimestamp: farAhead })]))?.code,
    "ILLEGAL_DELIVERY_TIME",
  );
  // A topic whose type changed after the client's route said otherwise: the broker checks the type too.
  b.server.broker.createTopic({ ...topicConfig(`${TOPIC}_fifo`, 1), attributes: { "message.type": "FIFO" } });
  const wrongType = await sendStatus([message({ topic: { name: `${TOPIC}_fifo` } })]);
  assert.equal(wrongType?.code, "MESSAGE_PROPERTY_CONFLICT_WITH_TYPE");
  assert.match(wrongType?.message ?? "", /takes FIFO messages, not NORMAL/);
  assert.equal(b.server.broker.getMaxOffset(`${TOPIC}_fifo`, 0), 0, "nothing stored");
  assert.equal((await sendStatus([message({ topic: { name: "NoSuchTopic" } })]))?.code, "TOPIC_NOT_FOUND");
  assert.equal((await sendStatus([message({ topic: { name: "bad topic!" } })]))?.code, "ILLEGAL_TOPIC");
  for (let q = 0; q < 4; q++) assert.equal(b.server.broker.getMaxOffset(TOPIC, q), 0, "nothing stored");

  // One good and one bad message: the good one is stored, the answer says results differ.
  const mixed = await c.unary<{ status: RawStatus; entries: { status: RawStatus; messageId?: string }[] }>(
    "SendMessage",
    { messages: [message(), message({}, { messageId: "" })] },
  );
  assert.equal(mixed.status.code, "MULTIPLE_RESULTS");
  assert.deepEqual(
    mixed.entries.map((e) => e.status.code),
    ["OK", "ILLEGAL_MESSAGE_ID"],
  );
});

test("EndTransaction, Ack, ChangeInvisibleDuration with ids the broker never issued", async () => {
  const bogusTx = await c.unary("EndTransaction", {
    topic: { name: TOPIC },
    messageId: "01",
    transactionId: "not-a-transaction",
    resolution: "COMMIT",
    source: "SOURCE_CLIENT",
  });
  assert.equal(bogusTx.status?.code, "INVALID_TRANSACTION_ID");
  const ack = await c.unary("AckMessage", {
    group: { name: "GID_none" },
    topic: { name: TOPIC },
    entries: [{ messageId: "01", receiptHandle: "" }],
  });
  assert.equal(ack.status?.code, "INVALID_RECEIPT_HANDLE");
  const change = await c.unary("ChangeInvisibleDuration", {
    group: { name: "GID_none" },
    topic: { name: TOPIC },
    receiptHandle: "",
    invisibleDuration: { seconds: 10 },
  });
  assert.equal(change.status?.code, "INVALID_RECEIPT_HANDLE");
});

test("ReceiveMessage: bad batch size and invisible time are refused in the stream's status", async () => {
  b.server.broker.groups.createOrUpdate(groupConfig("GID_bad", 16));
  const base = {
    group: { name: "GID_bad" },
    messageQueue: { topic: { name: TOPIC }, id: 0 },
    filterExpression: { type: "TAG", expression: "*" },
    longPollingTimeout: { seconds: 0 },
  };
  const zero = await c.stream<{ status?: RawStatus }>("ReceiveMessage", {
    ...base,
    batchSize: 0,
    invisibleDuration: { seconds: 10 },
  });
  assert.equal(zero[0]?.status?.code, "BAD_REQUEST");
  const invisible = await c.stream<{ status?: RawStatus }>("ReceiveMessage", {
    ...base,
    batchSize: 1,
    invisibleDuration: { seconds: 100_000 },
  });
  assert.equal(invisible[0]?.status?.code, "ILLEGAL_INVISIBLE_TIME");
});

test("Telemetry: no client id, or settings naming a group that does not exist, get a bare error status", async () => {
  const anon = c.client.makeBidiStreamRequest(
    "/apache.rocketmq.v2.MessagingService/Telemetry",
    (x: Buffer) => x,
    (x: Buffer) => x,
    new grpc.Metadata(),
  );
  const frames: Buffer[] = [];
  anon.on("data", (d: Buffer) => frames.push(d));
  await new Promise<void>((resolve) => anon.on("end", resolve));
  assert.equal(frames.length, 1, "one status frame, then the call ends");

  const Ctor = c.client as unknown as {
    Telemetry(md: grpc.Metadata): grpc.ClientDuplexStream<unknown, unknown>;
  };
  const t = Ctor.Telemetry(c.metadata());
  const reply = new Promise<{ status?: RawStatus; command?: string }>((resolve) =>
    t.once("data", (d) => resolve(d as { status?: RawStatus })),
  );
  t.write({
    settings: {
      clientType: "SIMPLE_CONSUMER",
      subscription: { group: { name: "GID_missing" }, subscriptions: [{ topic: { name: TOPIC } }] },
    },
  });
  const r = await reply;
  assert.equal(r.status?.code, "CONSUMER_GROUP_NOT_FOUND");
  assert.equal(r.command, undefined, "no settings: the client's startup fails with this status");
  t.end();
  await new Promise<void>((resolve) =>
    t
      .on("end", resolve)
      .on("error", () => resolve())
      .resume(),
  );
});

test("undecodable bytes fail that call only; the endpoint keeps serving", async () => {
  const garbage = await new Promise<grpc.ServiceError | null>((resolve) =>
    c.client.makeUnaryRequest(
      "/apache.rocketmq.v2.MessagingService/SendMessage",
      () => Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]),
      (x: Buffer) => x,
      {},
      c.metadata(),
      (e) => resolve(e),
    ),
  );
  assert.ok(garbage, "the malformed request failed");
  const r = await c.unary("QueryRoute", { topic: { name: TOPIC } });
  assert.equal(r.status?.code, "OK");
});
