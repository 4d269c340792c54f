// Interop with the real @aliyunmq/mq-http-sdk 1.0.4 (the Alibaba Cloud MQ HTTP protocol) against our broker's
// HTTP endpoint in-process: publish of every kind, consume with and without tags, acks (also partial), redelivery,
// ordered consumption, transactions with pulled checks, signatures, cross-protocol, and bad input.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { createRequire } from "node:module";
import { Consumer, Action } from "../../src/client/consumer.js";
import { Producer } from "../../src/client/producer.js";
import { Message } from "../../src/client/message.js";
import type { HttpSdk, HttpSdkError, HttpSdkMessage, MQConsumer } from "./mq-http-sdk.js";
import { startCluster } from "../support/cluster-fixture.js";
import { quietLogger, receiveN, rocketmqClient, startSimpleConsumer } from "../support/rocketmq-client.js";
import { closeClients, common, consumer, ons, until } from "./ali-ons-kit.js";

function keyed(key: string) {
  const props = new sdk.MessageProperties();
  props.messageKey(key);
  return props;
}

const require = createRequire(import.meta.url);
const sdk = require("@aliyunmq/mq-http-sdk") as HttpSdk;

const FAST = { invisibleMs: 1500, orderInvisibleMs: 1000, transactionCheckIntervalMs: 500 };

async function cluster(
  t: { after: (f: () => Promise<void>) => void },
  http: object = FAST,
  broker: Parameters<typeof startCluster>[0] = {},
) {
  const c = await startCluster(broker, { http });
  const endpoint = `http://127.0.0.1:${c.broker.server.httpPort}`;
  const cleanup: (() => Promise<void>)[] = [];
  t.after(async () => {
    for (const f of cleanup) await f();
    await c.stop();
  });
  return { c, endpoint, cleanup, client: new sdk.MQClient(endpoint, "ak", "sk") };
}

/** consumeMessage that returns [] on MessageNotExist, as the SDK's users write it. */
async function consume(
  consumer: MQConsumer,
  n: number,
  wait = 0,
  orderly = false,
): Promise<HttpSdkMessage[]> {
  try {
    const r = orderly
      ? await consumer.consumeMessageOrderly(n, wait)
      : await consumer.consumeMessage(n, wait);
    return r.body;
  } catch (e) {
    if ((e as HttpSdkError).Code === "MessageNotExist") return [];
    throw e;
  }
}

async function consumeUntil(consumer: MQConsumer, count: number, ms: number, orderly = false) {
  const out: HttpSdkMessage[] = [];
  const end = Date.now() + ms;
  while (out.length < count && Date.now() < end) out.push(...(await consume(consumer, 16, 1, orderly)));
  return out;
}

test("publish normal, tagged and keyed messages; a tag filter gets exactly its tags; ack ends them", async (t) => {
  const { client } = await cluster(t);
  const producer = client.getProducer("", "HttpTopic");
  const props = new sdk.MessageProperties();
  props.messageKey("order-42");
  props.putProperty("region", "hz");
  const a = await producer.publishMessage("hello A", "TagA", props);
  assert.equal(a.code, 201);
  assert.match(a.body.MessageId, /^[0-9A-F]{32}$/);
  assert.equal(a.body.MessageBodyMD5, createHash("md5").update("hello A").digest("hex").toUpperCase());
  await producer.publishMessage("hello B", "TagB");
  await producer.publishMessage("hello C", "TagC");
  await producer.publishMessage("no tag");
  const consumer = client.getConsumer("", "HttpTopic", "GID_HTTP_A", "TagA||TagB");
  const got = await consumeUntil(consumer, 2, 5000);
  assert.deepEqual(got.map((m) => m.MessageBody).sort(), ["hello A", "hello B"]);
  const ma = got.find((m) => m.MessageTag === "TagA")!;
  assert.equal(ma.MessageId, a.body.MessageId);
  assert.equal(ma.MessageKey, "order-42");
  assert.deepEqual(ma.Properties, { region: "hz" });
  assert.equal(ma.ConsumedTimes, "1");
  assert.ok(Number(ma.NextConsumeTime) > Date.now());
  const ack = await consumer.ackMessage(got.map((m) => m.ReceiptHandle));
  assert.equal(ack.code, 204);
  assert.deepEqual(await consume(consumer, 16, 0), [], "acked and filtered: nothing left");
  const all = client.getConsumer("", "HttpTopic", "GID_HTTP_ALL");
  assert.deepEqual((await consumeUntil(all, 4, 5000)).map((m) => m.MessageBody).sort(), [
    "hello A",
    "hello B",
    "hello C",
    "no tag",
  ]);
});

test("an un-acked message comes back after NextConsumeTime; a stale handle is listed in <Errors>", async (t) => {
  const { client } = await cluster(t);
  await client.getProducer("", "HttpRetry").publishMessage("again");
  const consumer = client.getConsumer("", "HttpRetry", "GID_HTTP_R");
  const [first] = await consumeUntil(consumer, 1, 5000);
  assert.ok(first);
  const [second] = await consumeUntil(consumer, 1, 6000);
  assert.ok(second, "redelivered");
  assert.equal(second.MessageId, first.MessageId);
  assert.equal(second.ConsumedTimes, "2");
  assert.equal(second.FirstConsumeTime, first.FirstConsumeTime);
  assert.notEqual(second.ReceiptHandle, first.ReceiptHandle);
  const r = await consumer.ackMessage([first.ReceiptHandle, second.ReceiptHandle, "not-a-handle"]);
  assert.notEqual(r.code, 204);
  const errors = r.body!;
  assert.deepEqual(
    errors.map((e) => [e.ReceiptHandle, e.ErrorCode]),
    [
      [first.ReceiptHandle, "MessageNotExist"],
      ["not-a-handle", "ReceiptHandleError"],
    ],
  );
  assert.deepEqual(await consume(consumer, 16, 2), [], "the fresh handle acked it");
});

test("after maxRetries redeliveries the message goes to %DLQ%group", async (t) => {
  const { c, client } = await cluster(t, { ...FAST, invisibleMs: 300, maxRetries: 1 });
  await client.getProducer("", "HttpDlq").publishMessage("poison");
  const consumer = client.getConsumer("", "HttpDlq", "GID_HTTP_DLQ");
  const seen = await consumeUntil(consumer, 2, 6000);
  assert.deepEqual(
    seen.map((m) => m.ConsumedTimes),
    ["1", "2"],
  );
  const broker = c.broker.server.broker;
  const end = Date.now() + 5000;
  while (broker.listDeadLetters("GID_HTTP_DLQ").length === 0 && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.equal(broker.listDeadLetters("GID_HTTP_DLQ")[0]?.record.body.toString(), "poison");
  assert.deepEqual(await consumeUntil(consumer, 1, 1000), [], "not delivered a third time");
});

test("a long poll (waitseconds) answers as soon as a message is published", async (t) => {
  const { client } = await cluster(t);
  const producer = client.getProducer("", "HttpPoll");
  await producer.publishMessage("warm-up");
  const consumer = client.getConsumer("", "HttpPoll", "GID_HTTP_POLL");
  const first = await consumeUntil(consumer, 1, 5000);
  await consumer.ackMessage(first.map((m) => m.ReceiptHandle));
  const t0 = Date.now();
  setTimeout(() => void producer.publishMessage("wake"), 300);
  const got = await consume(consumer, 16, 20);
  assert.deepEqual(
    got.map((m) => m.MessageBody),
    ["wake"],
  );
  assert.ok(
    Date.now() - t0 < 10_000,
    `answered after ${Date.now() - t0} ms, not at the end of the 20 s poll`,
  );
});

test("a timed message (__STARTDELIVERTIME) is consumable only from its time", async (t) => {
  const { client } = await cluster(t);
  const at = Date.now() + 1500;
  const props = new sdk.MessageProperties();
  props.startDeliverTime(at);
  await client.getProducer("", "HttpTimed").publishMessage("later", "", props);
  const consumer = client.getConsumer("", "HttpTimed", "GID_HTTP_T");
  assert.deepEqual(await consume(consumer, 16, 0), []);
  const got = await consumeUntil(consumer, 1, 8000);
  assert.equal(got[0]?.MessageBody, "later");
  assert.ok(Date.now() >= at - 50, "not before its time");
  assert.equal(got[0]?.StartDeliverTime, at);
});

test("ordered consumption: a partition's batch blocks it until acked and comes back whole", async (t) => {
  const { client } = await cluster(t);
  const producer = client.getProducer("", "HttpOrder");
  for (const b of ["o1", "o2", "o3"]) {
    const props = new sdk.MessageProperties();
    props.shardingKey("user-7");
    await producer.publishMessage(b, "", props);
  }
  const consumer = client.getConsumer("", "HttpOrder", "GID_HTTP_O");
  const r1 = (await consumer.consumeMessageOrderly(2, 1)).body;
  assert.deepEqual(
    r1.map((m) => m.MessageBody),
    ["o1", "o2"],
  );
  assert.equal(r1[0]!.ShardingKey, "user-7");
  assert.deepEqual(await consume(consumer, 16, 0, true), [], "partition blocked while its batch is out");
  const r2 = await consumeUntil(consumer, 2, 6000, true);
  assert.deepEqual(
    r2.map((m) => [m.MessageBody, m.ConsumedTimes]),
    [
      ["o1", "2"],
      ["o2", "2"],
    ],
  );
  assert.equal((await consumer.ackMessage(r2.map((m) => m.ReceiptHandle))).code, 204);
  const r3 = await consumeUntil(consumer, 1, 5000, true);
  assert.deepEqual(
    r3.map((m) => m.MessageBody),
    ["o3"],
  );
});

test("transactions: commit and rollback by the publish handle, and a pulled check answered", async (t) => {
  const { client } = await cluster(t);
  const tx = client.getTransProducer("", "HttpTx", "GID_HTTP_TX");
  const check = () => {
    const props = new sdk.MessageProperties();
    props.transCheckImmunityTime(1);
    return props;
  };
  const committed = await tx.publishMessage("tx-commit", "", check());
  assert.ok(committed.body.ReceiptHandle, "a transactional publish returns a handle");
  const rolled = await tx.publishMessage("tx-rollback", "", check());
  const asked = await tx.publishMessage("tx-checked", "", check());
  const consumer = client.getConsumer("", "HttpTx", "GID_HTTP_TXC");
  assert.deepEqual(await consume(consumer, 16, 0), [], "half messages are invisible");
  assert.equal((await tx.commit(committed.body.ReceiptHandle!)).code, 204);
  assert.equal((await tx.rollback(rolled.body.ReceiptHandle!)).code, 204);
  // The third is left open: after its check time it is offered to consumeHalfMessage.
  let half: HttpSdkMessage[] = [];
  const end = Date.now() + 8000;
  while (half.length === 0 && Date.now() < end) {
    try {
      half = (await tx.consumeHalfMessage(16, 1)).body;
    } catch (e) {
      if ((e as HttpSdkError).Code !== "MessageNotExist") throw e;
    }
  }
  assert.deepEqual(
    half.map((m) => m.MessageBody),
    ["tx-checked"],
  );
  assert.equal(half[0]!.MessageId, asked.body.MessageId);
  assert.equal((await tx.commit(half[0]!.ReceiptHandle)).code, 204);
  const got = await consumeUntil(consumer, 2, 5000);
  assert.deepEqual(got.map((m) => m.MessageBody).sort(), ["tx-checked", "tx-commit"]);
  assert.equal((await consumer.ackMessage(got.map((m) => m.ReceiptHandle))).code, 204);
  const again = await consumeUntil(consumer, 1, 1500);
  assert.deepEqual(again, [], "the rolled-back message never appears");
});

test("signatures: checked when accounts are configured; an account's rights limit what it may do", async (t) => {
  const acl = {
    accounts: [
      { accessKey: "goodAk", secretKey: "goodSecret", admin: true },
      {
        accessKey: "pubOnly",
        secretKey: "pubSecret",
        topicPerms: ["HttpSigned=PUB"],
        defaultGroupPerm: "SUB",
      },
    ],
    globalWhiteRemoteAddresses: [],
  };
  const { endpoint } = await cluster(t, FAST, { acl });
  const good = new sdk.MQClient(endpoint, "goodAk", "goodSecret");
  assert.equal((await good.getProducer("", "HttpSigned").publishMessage("signed")).code, 201);
  const got = await consumeUntil(good.getConsumer("", "HttpSigned", "GID_SIG"), 1, 5000);
  assert.equal(got[0]?.MessageBody, "signed");
  const wrong = new sdk.MQClient(endpoint, "goodAk", "wrongSecret");
  await assert.rejects(wrong.getProducer("", "HttpSigned").publishMessage("x"), (e: HttpSdkError) => {
    assert.equal(e.Code, "SignatureDoesNotMatch");
    return true;
  });
  const unknown = new sdk.MQClient(endpoint, "otherAk", "goodSecret");
  await assert.rejects(
    unknown.getConsumer("", "HttpSigned", "GID_SIG").consumeMessage(1),
    (e: HttpSdkError) => {
      assert.equal(e.Code, "InvalidAccessKeyId");
      return true;
    },
  );
  const noDate = await fetch(`${endpoint}/topics/HttpSigned/messages?consumer=GID_SIG&numOfMessages=1`, {
    headers: { authorization: "MQ goodAk:abc" },
  });
  assert.equal(noDate.status, 400);
  assert.match(await noDate.text(), /<Code>InvalidDateHeader<\/Code>/);
  const stale = await fetch(`${endpoint}/topics/HttpSigned/messages?consumer=GID_SIG&numOfMessages=1`, {
    headers: { authorization: "MQ goodAk:abc", date: new Date(Date.now() - 3600_000).toUTCString() },
  });
  assert.match(await stale.text(), /<Code>TimeExpired<\/Code>/);

  const pubOnly = new sdk.MQClient(endpoint, "pubOnly", "pubSecret");
  assert.equal((await pubOnly.getProducer("", "HttpSigned").publishMessage("by pubOnly")).code, 201);
  await assert.rejects(
    pubOnly.getConsumer("", "HttpSigned", "GID_SIG").consumeMessage(1),
    (e: HttpSdkError) => {
      assert.equal(e.Code, "AccessDenied");
      assert.match(e.message, /pubOnly may not SUB topic HttpSigned/);
      return true;
    },
  );
  await assert.rejects(pubOnly.getProducer("", "OtherTopic").publishMessage("x"), (e: HttpSdkError) => {
    assert.equal(e.Code, "AccessDenied");
    return true;
  });
  const more = await consumeUntil(good.getConsumer("", "HttpSigned", "GID_SIG"), 1, 5000);
  assert.equal(more[0]?.MessageBody, "by pubOnly", "what pubOnly published was stored");
  const status = (await (await fetch(`${endpoint}/admin/broker`)).json()) as {
    accessControl: unknown;
    tlsMode: string;
  };
  assert.deepEqual(status.accessControl, { enabled: true, accounts: 2 });
  assert.equal(status.tlsMode, "permissive");
});

test("cross-protocol: HTTP to remoting and remoting to HTTP", async (t) => {
  const { c, client, cleanup } = await cluster(t);
  await client.getProducer("", "HttpCross").publishMessage("from-http", "TagX");
  await client.getProducer("", "HttpCross").publishMessage("from-http-2", "TagX");
  const received: string[] = [];
  const bornViaHttp: string[] = [];
  const consumer = new Consumer({ nameServer: c.namesrvAddr, groupId: "GID_CROSS_R" });
  consumer.subscribe("HttpCross", "*", async (m) => {
    received.push(`${m.body.toString()}|${m.tag}`);
    if (m.tag === "TagX") bornViaHttp.push(m.bornHost);
    return Action.CommitMessage;
  });
  await consumer.start();
  const producer = new Producer({ nameServer: c.namesrvAddr, groupId: "GID_CROSS_P" });
  await producer.start();
  cleanup.push(
    () => consumer.shutdown(),
    () => producer.shutdown(),
  );
  const msg = new Message("HttpCross", "TagY", "from-remoting");
  msg.keys = ["k-remoting"];
  msg.properties = { color: "red" };
  await producer.send(msg);
  const end = Date.now() + 10_000;
  while (received.length < 3 && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(received.sort(), ["from-http-2|TagX", "from-http|TagX", "from-remoting|TagY"]);
  // The born host of an HTTP publish is the publisher's connection: this host, with the connection's port.
  assert.equal(bornViaHttp.length, 2);
  for (const b of bornViaHttp) assert.match(b, /^127\.0\.0\.1:[1-9]\d*$/);
  const viaHttp = await consumeUntil(client.getConsumer("", "HttpCross", "GID_CROSS_H", "TagY"), 1, 5000);
  assert.equal(viaHttp[0]?.MessageBody, "from-remoting");
  assert.equal(viaHttp[0]?.MessageKey, "k-remoting");
  assert.deepEqual(viaHttp[0]?.Properties, { color: "red" });
});

test("cross-protocol: HTTP to gRPC and gRPC to HTTP", async (t) => {
  const { c, client, cleanup } = await cluster(t);
  const { client: grpc } = rocketmqClient();
  const topic = "HttpGrpc";
  await client.getProducer("", topic).publishMessage("from-http", "TagH", keyed("k-http"));
  const consumer = await startSimpleConsumer(c.broker.grpcAddr, "GID_HG_G", { [topic]: "*" });
  const producer = new grpc.Producer({
    endpoints: c.broker.grpcAddr,
    namespace: "",
    topic,
    logger: quietLogger,
  });
  await producer.startup();
  cleanup.push(
    () => consumer.shutdown(),
    () => producer.shutdown(),
  );
  const viaGrpc = await receiveN(consumer, 1, 30_000);
  assert.equal(viaGrpc[0]?.body.toString(), "from-http");
  assert.equal(viaGrpc[0]?.tag, "TagH");
  assert.deepEqual(viaGrpc[0]?.keys, ["k-http"]);
  await consumer.ack(viaGrpc[0]!);
  const sent = await producer.send({
    topic,
    tag: "TagG",
    keys: ["k-grpc"],
    properties: new Map([["color", "blue"]]),
    body: Buffer.from("from-grpc"),
  });
  const viaHttp = await consumeUntil(client.getConsumer("", topic, "GID_HG_H", "TagG"), 1, 10_000);
  assert.equal(viaHttp[0]?.MessageBody, "from-grpc");
  assert.equal(viaHttp[0]?.MessageId, sent.messageId, "one message id across protocols");
  assert.equal(viaHttp[0]?.MessageKey, "k-grpc");
  assert.deepEqual(viaHttp[0]?.Properties, { color: "blue" });
});

test("bad input gets an XML error and the endpoint keeps serving", async (t) => {
  const { endpoint, client } = await cluster(t, { ...FAST, maxBodyBytes: 1024 });
  const url = `${endpoint}/topics/HttpBad/messages`;
  const call = async (method: string, path: string, body?: string) => {
    const r = await fetch(`${endpoint}${path}`, { method, body, headers: { "content-type": "text/xml" } });
    assert.match(r.headers.get("content-type") ?? "", /^text\/xml/);
    assert.ok(r.headers.get("x-mq-request-id"));
    return { status: r.status, text: await r.text() };
  };
  const code = (x: { text: string }) => /<Code>([^<]*)<\/Code>/.exec(x.text)?.[1];
  assert.equal(
    code(await call("POST", "/topics/HttpBad/messages", "<Message><MessageBody>x")),
    "MalformedXML",
  );
  assert.equal(code(await call("POST", "/topics/HttpBad/messages", "<Other/>")), "MalformedXML");
  assert.equal(code(await call("POST", "/topics/HttpBad/messages", "")), "MalformedXML");
  const big = `<Message><MessageBody>${"x".repeat(2000)}</MessageBody></Message>`;
  const tooBig = await call("POST", "/topics/HttpBad/messages", big);
  assert.equal(tooBig.status, 413);
  assert.equal(code(tooBig), "InvalidArgument");
  const huge = await call("POST", "/topics/HttpBad/messages", "x".repeat(100_000));
  assert.equal(huge.status, 413);
  assert.equal(
    code(await call("GET", "/topics/NoSuchTopic/messages?consumer=G&numOfMessages=1")),
    "TopicNotExist",
  );
  assert.equal(code(await call("GET", "/topics/HttpBad/messages?numOfMessages=1")), "InvalidArgument");
  assert.equal(
    code(await call("GET", "/topics/HttpBad/messages?consumer=G&numOfMessages=abc")),
    "InvalidArgument",
  );
  assert.equal(
    code(await call("GET", "/topics/HttpBad/messages?consumer=bad%20group&numOfMessages=1")),
    "InvalidArgument",
  );
  const put = await call("PUT", "/topics/HttpBad/messages", "<Message/>");
  assert.equal(put.status, 405);
  assert.equal(code(put), "MethodNotAllowed");
  assert.equal(code(await call("GET", "/nothing/here")), "InvalidRequestURL");
  assert.equal(
    code(await call("DELETE", "/topics/HttpBad/messages?consumer=G", "<ReceiptHandles/>")),
    "InvalidArgument",
  );
  assert.equal(
    code(
      await call(
        "POST",
        "/topics/HttpBad/messages",
        "<Message><MessageBody>x</MessageBody><Properties>__STARTDELIVERTIME:soon</Properties></Message>",
      ),
    ),
    "InvalidArgument",
  );
  assert.equal(
    code(
      await call("POST", "/topics/bad%20topic/messages", "<Message><MessageBody>x</MessageBody></Message>"),
    ),
    "InvalidArgument",
  );
  // Still serving, nothing lost.
  await client.getProducer("", "HttpBad").publishMessage("fine");
  const got = await consumeUntil(client.getConsumer("", "HttpBad", "GID_BAD"), 1, 5000);
  assert.deepEqual(
    got.map((m) => m.MessageBody),
    ["fine"],
  );
  void url;
});

test("the SDK's own unchecked input: separators, a stray ']]>', out-of-range parameters, long and badly encoded names", async (t) => {
  const { endpoint, client } = await cluster(t);
  const producer = client.getProducer("", "HttpEdge");
  const refused = async (p: Promise<unknown>, code: string) => {
    const e = (await p.then(
      () => assert.fail("accepted"),
      (err: unknown) => err,
    )) as HttpSdkError;
    assert.equal(e.Code, code, String((e as { message?: string }).message));
  };
  // \u0001 and \u0002 separate the stored properties: inside a tag or a property they would become a TAGS, DELAY
  // or UNIQ_KEY of the sender's choosing (this tag would have been a delay level 3 message tagged "A").
  await refused(producer.publishMessage("x", "A\u0002DELAY\u00013"), "InvalidArgument");
  const evil = new sdk.MessageProperties();
  evil.putProperty("evil", "x\u0002TAGS\u0001Evil");
  await refused(producer.publishMessage("x", "Real", evil), "InvalidArgument");
  const evilKey = new sdk.MessageProperties();
  evilKey.messageKey("k\u0001v");
  await refused(producer.publishMessage("x", "Real", evilKey), "InvalidArgument");
  // The SDK puts a body in one CDATA section without splitting a "]]>" in it: refused rather than stored cut.
  await refused(producer.publishMessage("before ]]> after", "Real"), "MalformedXML");
  // Parameters: decimal integers in the documented ranges (1..16 messages, 0..30 s), nothing capped or coerced.
  const consumer = client.getConsumer("", "HttpEdge", "GID_EDGE");
  await refused(consumer.consumeMessage(17, 1), "InvalidArgument");
  await refused(consumer.consumeMessage(1, 31), "InvalidArgument");
  await refused(consumer.consumeMessage("1e1" as unknown as number, 1), "InvalidArgument");
  await refused(consumer.consumeMessage("0x2" as unknown as number, 1), "InvalidArgument");

  // A topic name may have 127 characters; the router once refused more than 100 in JSON, which the SDK took
  // for a success with no message id.
  const long = "T".repeat(120);
  const sent = await client.getProducer("", long).publishMessage("long name", "Real");
  assert.match(sent.body.MessageId, /^[0-9A-F]{32}$/);
  const gotLong = await consumeUntil(client.getConsumer("", long, "GID_EDGE_LONG"), 1, 5000);
  assert.deepEqual(
    gotLong.map((m) => m.MessageBody),
    ["long name"],
  );
  // The router's own refusals answer in XML too.
  for (const path of [`/topics/${"T".repeat(2000)}/messages`, "/topics/%RETRY%G/messages"]) {
    const r = await fetch(`${endpoint}${path}?consumer=G&numOfMessages=1`);
    assert.ok(r.status >= 400 && r.status < 500, `${path}: ${r.status}`);
    assert.match(r.headers.get("content-type") ?? "", /^text\/xml/);
    assert.match(await r.text(), /<Code>InvalidArgument<\/Code>/);
  }

  // Nothing refused was stored; a message like the refused ones, without the separators, arrives as sent.
  const props = new sdk.MessageProperties();
  props.putProperty("evil", "x TAGS Evil");
  await producer.publishMessage("before ]] > after", "Real", props);
  const got = await consumeUntil(consumer, 1, 5000);
  assert.equal(got.length, 1);
  assert.equal(got[0]!.MessageBody, "before ]] > after");
  assert.equal(got[0]!.MessageTag, "Real");
  assert.equal(got[0]!.Properties["evil"], "x TAGS Evil");
  assert.deepEqual(await consume(consumer, 16, 1), []);
});

test("an instance id (ns=) is the instance's namespace: HTTP and ali-ons with that namespace share topic and group", async (t) => {
  const { c, client, cleanup } = await cluster(t);
  const ns = "MQ_INST_7";
  const producer = new ons.Producer({ ...common(c.namesrvAddr), namespace: ns, producerGroup: "PID_NSX" });
  const onsConsumer = consumer(c.namesrvAddr, "GID_NSX_T", "nsx", { namespace: ns });
  cleanup.push(() => closeClients(onsConsumer, producer));
  await producer.ready();
  const sent = await producer.send(new ons.Message("TP_NSX", "TagT", "from-tcp"));
  assert.equal(sent.sendStatus, "SEND_OK");

  const httpConsumer = client.getConsumer(ns, "TP_NSX", "GID_NSX_H");
  const viaHttp = await consumeUntil(httpConsumer, 1, 10_000);
  assert.deepEqual(
    viaHttp.map((m) => [m.MessageBody, m.MessageTag]),
    [["from-tcp", "TagT"]],
  );
  const acked = await httpConsumer.ackMessage(viaHttp.map((m) => m.ReceiptHandle));
  assert.equal(acked.code, 204);

  const fromTcp: string[] = [];
  onsConsumer.subscribe("TP_NSX", "*", async (m) => {
    fromTcp.push(m.body.toString());
  });
  await onsConsumer.ready();
  await client.getProducer(ns, "TP_NSX").publishMessage("from-http", "TagH");
  await until(() => fromTcp.includes("from-http"), 15_000, "the HTTP message at the ali-ons consumer");

  const store = c.broker.server.broker.store;
  assert.deepEqual(store.queueIds("TP_NSX"), [], "nothing under the bare topic name");
  assert.ok(store.topics().includes(`${ns}%TP_NSX`));
  const offsets = c.broker.server.broker.offsets;
  assert.ok(
    [...Array(8).keys()].some((q) => offsets.query(`${ns}%GID_NSX_H`, `${ns}%TP_NSX`, q) >= 0),
    "the HTTP group's progress is kept under the namespaced group",
  );
});
