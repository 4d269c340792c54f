import { test } from "node:test";
import assert from "node:assert/strict";
import { RemotingClient } from "../../src/protocol/remoting/client.js";
import { createRequest } from "../../src/protocol/remoting/command.js";
import { RequestCode } from "../../src/protocol/remoting/request-code.js";
import { ResponseCode } from "../../src/protocol/remoting/response-code.js";
import { decodeRecord } from "../../src/common/message-record.js";
import { encodeProperties, getProperty } from "../../src/common/properties.js";
import { startBroker } from "../support/broker-fixture.js";
import { pullRequest, sendV2Request } from "../support/remoting-requests.js";

function send(
  client: RemotingClient,
  addr: string,
  topic: string,
  queueId: number,
  body: string,
  props: Record<string, string>,
) {
  return client.invoke(addr, sendV2Request(topic, queueId, body, props), 3000);
}

function pull(
  client: RemotingClient,
  addr: string,
  topic: string,
  queueId: number,
  offset: number,
  sub = "*",
  suspend = 0,
) {
  return client.invoke(addr, pullRequest("CG", topic, queueId, offset, sub, suspend), suspend + 3000);
}

function bodies(res: { body?: Buffer }): string[] {
  const out: string[] = [];
  const b = res.body ?? Buffer.alloc(0);
  let p = 0;
  while (p < b.length) {
    const r = decodeRecord(b, p);
    out.push(r.body.toString());
    p += b.readInt32BE(p);
  }
  return out;
}

test("send, tag-filtered pull, offsets and long polling over remoting", async (t) => {
  const b = await startBroker();
  const client = new RemotingClient();
  t.after(async () => {
    client.close();
    await b.stop();
  });
  const r1 = await send(client, b.addr, "TopicA", 1, "a1", { TAGS: "TagA", KEYS: "k1" });
  assert.equal(r1.code, ResponseCode.SUCCESS, r1.remark);
  assert.equal(r1.extFields.queueId, "1");
  assert.equal(r1.extFields.queueOffset, "0");
  assert.match(r1.extFields.msgId ?? "", /^7F000001[0-9A-F]{24}$/);
  await send(client, b.addr, "TopicA", 1, "b1", { TAGS: "TagB" });
  await send(client, b.addr, "TopicA", 1, "c1", { TAGS: "TagC" });

  const all = await pull(client, b.addr, "TopicA", 1, 0);
  assert.equal(all.code, ResponseCode.SUCCESS);
  assert.deepEqual(bodies(all), ["a1", "b1", "c1"]);
  assert.equal(all.extFields.nextBeginOffset, "3");
  assert.equal(all.extFields.maxOffset, "3");

  const ab = await pull(client, b.addr, "TopicA", 1, 0, "TagA || TagB");
  assert.deepEqual(bodies(ab), ["a1", "b1"]);
  const none = await pull(client, b.addr, "TopicA", 1, 2, "TagA");
  assert.equal(none.code, ResponseCode.PULL_RETRY_IMMEDIATELY);
  assert.equal(none.extFields.nextBeginOffset, "3");
  const moved = await pull(client, b.addr, "TopicA", 1, 99);
  assert.equal(moved.code, ResponseCode.PULL_OFFSET_MOVED);

  // Long polling: a held pull answers as soon as a message arrives.
  const started = Date.now();
  const held = pull(client, b.addr, "TopicA", 1, 3, "*", 5000);
  await new Promise((r) => setTimeout(r, 100));
  const sentAt = Date.now();
  await send(client, b.addr, "TopicA", 1, "d1", { TAGS: "TagA" });
  const got = await held;
  assert.equal(got.code, ResponseCode.SUCCESS);
  assert.deepEqual(bodies(got), ["d1"]);
  assert.ok(Date.now() - sentAt < 50, `woke ${Date.now() - sentAt} ms after the send`);
  assert.ok(Date.now() - started >= 100);
  // A held pull with nothing arriving ends with PULL_NOT_FOUND after its suspend time.
  const t0 = Date.now();
  const empty = await pull(client, b.addr, "TopicA", 2, 0, "*", 300);
  assert.equal(empty.code, ResponseCode.PULL_NOT_FOUND);
  assert.ok(Date.now() - t0 >= 250);

  // Offsets: a new group reads from 0 on a young queue; commits persist.
  const q = await client.invoke(
    b.addr,
    createRequest(RequestCode.QUERY_CONSUMER_OFFSET, { consumerGroup: "G1", topic: "TopicA", queueId: "1" }),
    3000,
  );
  assert.equal(q.code, ResponseCode.SUCCESS);
  assert.equal(q.extFields.offset, "0");
  // A client that asks not to be given 0 gets QUERY_NOT_FOUND and applies its own consumeFromWhere.
  const noZero = await client.invoke(
    b.addr,
    createRequest(RequestCode.QUERY_CONSUMER_OFFSET, {
      consumerGroup: "G1",
      topic: "TopicA",
      queueId: "1",
      setZeroIfNotFound: "false",
    }),
    3000,
  );
  assert.equal(noZero.code, ResponseCode.QUERY_NOT_FOUND);
  await client.invoke(
    b.addr,
    createRequest(RequestCode.UPDATE_CONSUMER_OFFSET, {
      consumerGroup: "G1",
      topic: "TopicA",
      queueId: "1",
      commitOffset: "2",
    }),
    3000,
  );
  const q2 = await client.invoke(
    b.addr,
    createRequest(RequestCode.QUERY_CONSUMER_OFFSET, { consumerGroup: "G1", topic: "TopicA", queueId: "1" }),
    3000,
  );
  assert.equal(q2.extFields.offset, "2");
  const max = await client.invoke(
    b.addr,
    createRequest(RequestCode.GET_MAX_OFFSET, { topic: "TopicA", queueId: "1" }),
    3000,
  );
  assert.equal(max.extFields.offset, "4");

  // Lookup by key and by offset.
  const byKey = await client.invoke(
    b.addr,
    createRequest(RequestCode.QUERY_MESSAGE, {
      topic: "TopicA",
      key: "k1",
      maxNum: "10",
      beginTimestamp: "0",
      endTimestamp: String(Date.now() + 1000),
    }),
    3000,
  );
  assert.equal(byKey.code, ResponseCode.SUCCESS);
  assert.deepEqual(bodies(byKey), ["a1"]);
  const phy = parseInt((r1.extFields.msgId ?? "").slice(16), 16);
  const view = await client.invoke(
    b.addr,
    createRequest(RequestCode.VIEW_MESSAGE_BY_ID, { offset: String(phy) }),
    3000,
  );
  assert.deepEqual(bodies(view), ["a1"]);
  // An offset inside a record (as a made-up offset message id gives) is no message, not its bytes from there on:
  // here a body whose first four bytes read as a plausible record size.
  const trap = "\u0000\u0000\u0000d" + "Z".repeat(120);
  const sent = await send(client, b.addr, "TopicA", 0, trap, {});
  const trapPhy = parseInt((sent.extFields.msgId ?? "").slice(16), 16);
  const at = trapPhy + b.server.broker.store.readAt(trapPhy)!.indexOf(Buffer.from(trap));
  const inside = await client.invoke(
    b.addr,
    createRequest(RequestCode.VIEW_MESSAGE_BY_ID, { offset: String(at) }),
    3000,
  );
  assert.notEqual(inside.code, ResponseCode.SUCCESS);
  assert.match(inside.remark ?? "", /no message/);
});

test("heartbeat registers consumers; retry goes to %RETRY% with RETRY_TOPIC and reconsume count", async (t) => {
  const b = await startBroker({
    messageDelayLevel:
      "10ms 10ms 10ms 10ms 10ms 10ms 10ms 10ms 10ms 10ms 10ms 10ms 10ms 10ms 10ms 10ms 10ms 10ms",
  });
  const client = new RemotingClient();
  t.after(async () => {
    client.close();
    await b.stop();
  });
  const hb = {
    clientID: "127.0.0.1@1",
    producerDataSet: [],
    consumerDataSet: [
      {
        groupName: "GR",
        consumeType: "CONSUME_PASSIVELY",
        messageModel: "CLUSTERING",
        consumeFromWhere: "CONSUME_FROM_FIRST_OFFSET",
        subscriptionDataSet: [{ topic: "TR", subString: "*" }],
      },
    ],
  };
  const hr = await client.invoke(
    b.addr,
    createRequest(RequestCode.HEART_BEAT, {}, Buffer.from(JSON.stringify(hb))),
    3000,
  );
  assert.equal(hr.code, ResponseCode.SUCCESS);
  const list = await client.invoke(
    b.addr,
    createRequest(RequestCode.GET_CONSUMER_LIST_BY_GROUP, { consumerGroup: "GR" }),
    3000,
  );
  assert.deepEqual(JSON.parse(list.body!.toString()), { consumerIdList: ["127.0.0.1@1"] });
  assert.ok(b.server.broker.topics.get("%RETRY%GR"), "the retry topic exists once the group heartbeats");

  const s = await send(client, b.addr, "TR", 0, "fail-me", { TAGS: "x", KEYS: "kk" });
  const phy = parseInt((s.extFields.msgId ?? "").slice(16), 16);
  const back = await client.invoke(
    b.addr,
    createRequest(RequestCode.CONSUMER_SEND_MSG_BACK, {
      offset: String(phy),
      group: "GR",
      delayLevel: "0",
      originMsgId: s.extFields.msgId!,
      originTopic: "TR",
      maxReconsumeTimes: "16",
    }),
    3000,
  );
  assert.equal(back.code, ResponseCode.SUCCESS, back.remark);
  let retried: ReturnType<typeof decodeRecord> | undefined;
  for (let i = 0; i < 50 && !retried; i++) {
    await new Promise((r) => setTimeout(r, 20));
    const p = await client.invoke(
      b.addr,
      createRequest(RequestCode.PULL_MESSAGE, {
        consumerGroup: "GR",
        topic: "%RETRY%GR",
        queueId: "0",
        queueOffset: "0",
        maxMsgNums: "32",
        sysFlag: "4",
        subscription: "*",
      }),
      3000,
    );
    if (p.code === ResponseCode.SUCCESS) retried = decodeRecord(p.body!);
  }
  assert.ok(retried, "the message came back on the retry topic");
  assert.equal(retried.topic, "%RETRY%GR");
  assert.equal(retried.body.toString(), "fail-me");
  assert.equal(retried.reconsumeTimes, 1);
  assert.equal(getProperty(retried.properties, "RETRY_TOPIC"), "TR");
  assert.equal(getProperty(retried.properties, "ORIGIN_MESSAGE_ID"), s.extFields.msgId);
  assert.equal(getProperty(retried.properties, "KEYS"), "kk");

  // Past maxReconsumeTimes it goes to the dead-letter queue.
  const dl = await client.invoke(
    b.addr,
    createRequest(RequestCode.CONSUMER_SEND_MSG_BACK, {
      offset: String(retried.physicalOffset),
      group: "GR",
      delayLevel: "0",
      maxReconsumeTimes: "1",
    }),
    3000,
  );
  assert.equal(dl.code, ResponseCode.SUCCESS);
  const dlq = await client.invoke(
    b.addr,
    createRequest(RequestCode.PULL_MESSAGE, {
      consumerGroup: "GR",
      topic: "%DLQ%GR",
      queueId: "0",
      queueOffset: "0",
      maxMsgNums: "32",
      sysFlag: "4",
      subscription: "*",
    }),
    3000,
  );
  assert.equal(dlq.code, ResponseCode.SUCCESS);
  const d = decodeRecord(dlq.body!);
  assert.equal(d.reconsumeTimes, 2);
  assert.equal(getProperty(d.properties, "RETRY_TOPIC"), "TR");
});

test("bad requests get clear errors and the broker keeps serving", async (t) => {
  const b = await startBroker({ autoCreateTopicEnable: false });
  const client = new RemotingClient();
  t.after(async () => {
    client.close();
    await b.stop();
  });
  const noTopic = await send(client, b.addr, "Missing", 0, "x", {});
  assert.equal(noTopic.code, ResponseCode.TOPIC_NOT_EXIST);
  const bad = await send(client, b.addr, "bad topic!", 0, "x", {});
  assert.equal(bad.code, ResponseCode.MESSAGE_ILLEGAL);
  const sys = await send(client, b.addr, "SCHEDULE_TOPIC_XXXX", 0, "x", {});
  assert.equal(sys.code, ResponseCode.NO_PERMISSION);
  const missing = await client.invoke(b.addr, createRequest(RequestCode.PULL_MESSAGE, { topic: "x" }), 3000);
  assert.equal(missing.code, ResponseCode.MESSAGE_ILLEGAL);
  assert.match(missing.remark ?? "", /consumerGroup/);
  const hb = await client.invoke(
    b.addr,
    createRequest(RequestCode.HEART_BEAT, {}, Buffer.from("{not json")),
    3000,
  );
  assert.equal(hb.code, ResponseCode.MESSAGE_ILLEGAL);
  const unknown = await client.invoke(b.addr, createRequest(9999, {}), 3000);
  assert.equal(unknown.code, ResponseCode.REQUEST_CODE_NOT_SUPPORTED);
  const create = await client.invoke(
    b.addr,
    createRequest(RequestCode.UPDATE_AND_CREATE_TOPIC, {
      topic: "Made",
      readQueueNums: "2",
      writeQueueNums: "2",
      perm: "6",
    }),
    3000,
  );
  assert.equal(create.code, ResponseCode.SUCCESS);
  const ok = await send(client, b.addr, "Made", 5, "x", {});
  assert.equal(ok.code, ResponseCode.SUCCESS);
  assert.equal(ok.extFields.queueId, "1", "a queue id past the topic's queues wraps around");
  const typed = (attributes: string) =>
    client.invoke(
      b.addr,
      createRequest(RequestCode.UPDATE_AND_CREATE_TOPIC, { topic: "Made", writeQueueNums: "2", attributes }),
      3000,
    );
  assert.equal((await typed("+message.type=PRIORITY,+lite.topic.expiration=60")).code, ResponseCode.SUCCESS);
  assert.deepEqual(b.server.broker.topics.get("Made")?.attributes, {
    "message.type": "PRIORITY",
    "lite.topic.expiration": "60",
  });
  assert.equal((await typed("-lite.topic.expiration")).code, ResponseCode.SUCCESS);
  assert.deepEqual(
    b.server.broker.topics.get("Made")?.attributes,
    { "message.type": "PRIORITY" },
    "an update keeps the attributes it does not name",
  );
  for (const bad of ["+message.type=WEIRD", "+color=blue", "message.type=FIFO", "+lite.topic.expiration=0"]) {
    const r = await typed(bad);
    assert.notEqual(r.code, ResponseCode.SUCCESS, `${bad} is refused`);
    assert.ok((r.remark ?? "").length > 0, "with a reason");
  }
  assert.deepEqual(b.server.broker.topics.get("Made")?.attributes, { "message.type": "PRIORITY" });
});

test("dead letters can be listed and sent back to their group", async (t) => {
  const b = await startBroker();
  const client = new RemotingClient();
  t.after(async () => {
    client.close();
    await b.stop();
  });
  const broker = b.server.broker;
  const s = await send(client, b.addr, "Orig", 0, "poison", { TAGS: "t", KEYS: "pk" });
  const phy = parseInt((s.extFields.msgId ?? "").slice(16), 16);
  await broker.consumerSendMsgBack({ group: "GD", offset: phy, delayLevel: -1 });
  const dl = broker.listDeadLetters("GD");
  assert.equal(dl.length, 1);
  assert.equal(dl[0]!.record.body.toString(), "poison");
  assert.equal(getProperty(dl[0]!.record.properties, "RETRY_TOPIC"), "Orig");
  const origMessages = () =>
    broker.store.queueIds("Orig").reduce((n, q) => n + broker.getMaxOffset("Orig", q), 0);
  const before = origMessages();
  // A group no client has announced (as a gRPC or HTTP group): through the original topic.
  const viaTopic = await broker.resendDeadLetter("GD", dl[0]!.offset);
  assert.equal(viaTopic.topic, "Orig");
  assert.equal(origMessages(), before + 1);
  // Once a remoting consumer of the group has announced itself, the group has its retry topic, and a dead letter
  // goes there: back to that group only, not to every group of Orig.
  const hb = {
    clientID: "127.0.0.1@dlq",
    consumerDataSet: [
      {
        groupName: "GD",
        messageModel: "CLUSTERING",
        subscriptionDataSet: [{ topic: "Orig", subString: "*" }],
      },
    ],
  };
  const hr = await client.invoke(
    b.addr,
    createRequest(RequestCode.HEART_BEAT, {}, Buffer.from(JSON.stringify(hb))),
    3000,
  );
  assert.equal(hr.code, ResponseCode.SUCCESS);
  const back = await broker.resendDeadLetter("GD", dl[0]!.offset);
  assert.equal(back.topic, "%RETRY%GD");
  assert.equal(origMessages(), before + 1, "nothing more on Orig");
  const again = b.server.broker.store.getMessages("%RETRY%GD", back.queueId, back.queueOffset, 1);
  const rec = decodeRecord(again.messages[0]!);
  assert.equal(rec.body.toString(), "poison");
  assert.equal(rec.reconsumeTimes, 0);
  assert.equal(getProperty(rec.properties, "KEYS"), "pk");
  assert.equal(getProperty(rec.properties, "RETRY_TOPIC"), "Orig", "its clients restore the topic from it");
  await assert.rejects(broker.resendDeadLetter("GD", 5), /no dead letter/);
});

test("SQL92 property filters on pull; a malformed expression is refused at subscribe time", async (t) => {
  const b = await startBroker();
  const client = new RemotingClient();
  t.after(async () => {
    client.close();
    await b.stop();
  });
  await send(client, b.addr, "Sql", 0, "m1", { TAGS: "x", a: "7", region: "hz" });
  await send(client, b.addr, "Sql", 0, "m2", { TAGS: "x", a: "3", region: "hz" });
  await send(client, b.addr, "Sql", 0, "m3", { TAGS: "x", a: "9", region: "bj" });
  await send(client, b.addr, "Sql", 0, "m4", { a: "10", region: "sh" });
  const expr = "a > 5 AND region IN ('hz','sh') AND TAGS IS NOT NULL";
  const p = await client.invoke(
    b.addr,
    createRequest(RequestCode.PULL_MESSAGE, {
      consumerGroup: "GS",
      topic: "Sql",
      queueId: "0",
      queueOffset: "0",
      maxMsgNums: "32",
      sysFlag: "4",
      subscription: expr,
      expressionType: "SQL92",
    }),
    3000,
  );
  assert.equal(p.code, ResponseCode.SUCCESS, p.remark);
  assert.deepEqual(bodies(p), ["m1"]);

  const hb = (subString: string) => ({
    clientID: "127.0.0.1@sql",
    consumerDataSet: [
      {
        groupName: "GS",
        messageModel: "CLUSTERING",
        subscriptionDataSet: [{ topic: "Sql", subString, expressionType: "SQL92" }],
      },
    ],
  });
  const bad = await client.invoke(
    b.addr,
    createRequest(RequestCode.HEART_BEAT, {}, Buffer.from(JSON.stringify(hb("a > AND b")))),
    3000,
  );
  assert.equal(bad.code, ResponseCode.SUBSCRIPTION_PARSE_FAILED);
  assert.match(bad.remark ?? "", /position/);
  const good = await client.invoke(
    b.addr,
    createRequest(RequestCode.HEART_BEAT, {}, Buffer.from(JSON.stringify(hb(expr)))),
    3000,
  );
  assert.equal(good.code, ResponseCode.SUCCESS);
});

/** A SEND_BATCH_MESSAGE body as the Java client's MessageDecoder.encodeMessages lays it out. */
function batchBody(msgs: { body: string; props: Record<string, string> }[]): Buffer {
  return Buffer.concat(
    msgs.map((m) => {
      const body = Buffer.from(m.body);
      const props = Buffer.from(encodeProperties(m.props));
      const b = Buffer.alloc(22 + body.length + props.length);
      b.writeInt32BE(b.length, 0);
      b.writeInt32BE(0, 4); // magic (ignored)
      b.writeInt32BE(0, 8); // body CRC (recomputed by the store)
      b.writeInt32BE(7, 12); // flag
      b.writeInt32BE(body.length, 16);
      body.copy(b, 20);
      b.writeInt16BE(props.length, 20 + body.length);
      props.copy(b, 22 + body.length);
      return b;
    }),
  );
}

test("SEND_BATCH_MESSAGE stores the batch back to back in one queue, in order, each message whole", async (t) => {
  const b = await startBroker();
  const client = new RemotingClient();
  t.after(async () => {
    client.close();
    await b.stop();
  });
  const msgs = Array.from({ length: 10 }, (_, i) => ({
    body: `batch-${i}`,
    props: { TAGS: "TagB", KEYS: `bk-${i}`, UNIQ_CLIENT_MESSAGE_ID_KEYIDX: `BATCH${i}` },
  }));
  const res = await client.invoke(
    b.addr,
    createRequest(
      RequestCode.SEND_BATCH_MESSAGE,
      {
        producerGroup: "P",
        topic: "BatchTopic",
        queueId: "-1",
        sysFlag: "0",
        bornTimestamp: "0",
        flag: "0",
        properties: "",
        reconsumeTimes: "0",
      },
      batchBody(msgs),
    ),
    3000,
  );
  assert.equal(res.code, ResponseCode.SUCCESS, res.remark);
  assert.equal(res.extFields.msgId?.split(",").length, 10);
  const queueId = Number(res.extFields.queueId);
  const broker = b.server.broker;
  const r = broker.store.getMessages("BatchTopic", queueId, 0, 32);
  const got = r.messages.map((m) => decodeRecord(m));
  assert.deepEqual(
    got.map((g) => g.body.toString()),
    msgs.map((m) => m.body),
  );
  assert.deepEqual(
    got.map((g) => g.queueOffset),
    [...Array(10).keys()],
  );
  for (let i = 1; i < got.length; i++) {
    assert.equal(
      got[i]!.physicalOffset,
      got[i - 1]!.physicalOffset + r.messages[i - 1]!.length,
      "back to back",
    );
  }
  assert.equal(got[3]!.flag, 7);
  assert.equal(getProperty(got[3]!.properties, "KEYS"), "bk-3");
  assert.equal(
    broker.queryMessageByKey("BatchTopic", "bk-9", 4, 0, Date.now() + 1)[0]?.body.toString(),
    "batch-9",
  );
  // A malformed batch body is refused with a clear error; the broker keeps serving.
  const bad = await client.invoke(
    b.addr,
    createRequest(
      RequestCode.SEND_BATCH_MESSAGE,
      { producerGroup: "P", topic: "BatchTopic", queueId: "0" },
      Buffer.from([0, 0, 0, 99, 1]),
    ),
    3000,
  );
  assert.notEqual(bad.code, ResponseCode.SUCCESS);
  assert.match(bad.remark ?? "", /batch/);
});

test("RECALL_MESSAGE: a timed message's send returns a recall handle; recalled, it is never delivered", async (t) => {
  const b = await startBroker();
  const client = new RemotingClient();
  t.after(async () => {
    client.close();
    await b.stop();
  });
  const due = Date.now() + 2000;
  const timed = (body: string, id: string) =>
    send(client, b.addr, "RecallT", 0, body, {
      TIMER_DELIVER_MS: String(due),
      UNIQ_CLIENT_MESSAGE_ID_KEYIDX: id,
    });
  const keep = await timed("keep", "AC110001000000000000000000000001");
  const drop = await timed("drop", "AC110001000000000000000000000002");
  const plain = await send(client, b.addr, "RecallT", 0, "now", {});
  assert.equal(drop.code, ResponseCode.SUCCESS);
  assert.ok(keep.extFields["recallHandle"]);
  assert.equal(plain.extFields["recallHandle"], undefined, "only timed messages get a handle");
  const recall = (topic: string, handle: string) =>
    client.invoke(
      b.addr,
      createRequest(RequestCode.RECALL_MESSAGE, { producerGroup: "PG", topic, recallHandle: handle }),
      3000,
    );
  const r = await recall("RecallT", drop.extFields["recallHandle"]!);
  assert.equal(r.code, ResponseCode.SUCCESS);
  assert.equal(r.extFields["msgId"], "AC110001000000000000000000000002");
  const bad = await recall("RecallT", "bogus");
  assert.equal(bad.code, 604, "ILLEGAL_OPERATION");
  assert.match(bad.remark ?? "", /invalid/);
  const missing = await recall("RecallT", "");
  assert.notEqual(missing.code, ResponseCode.SUCCESS);

  await new Promise((r) => setTimeout(r, due - Date.now() + 1500));
  const got = await pull(client, b.addr, "RecallT", 0, 0);
  assert.deepEqual(bodies(got).sort(), ["keep", "now"]);
});

test("a topic a send creates gets the client's defaultTopicQueueNums, capped by TBW102's write queues", async (t) => {
  const b = await startBroker();
  const client = new RemotingClient();
  t.after(async () => {
    client.close();
    await b.stop();
  });
  const topics = b.server.broker.topics;
  const tbw = topics.get("TBW102")?.writeQueueNums;
  assert.equal(tbw, 8);
  // d: "4" is what ali-ons and the Java client send; their first route had 4 queues, so the topic has 4.
  const r4 = await send(client, b.addr, "AutoFour", 7, "x", {});
  assert.equal(r4.code, ResponseCode.SUCCESS, r4.remark);
  assert.equal(topics.get("AutoFour")?.writeQueueNums, 4);
  assert.equal(topics.get("AutoFour")?.readQueueNums, 4);
  assert.equal(r4.extFields.queueId, "3", "a queue id past the topic's queues is taken modulo their count");
  const big = await client.invoke(
    b.addr,
    createRequest(
      RequestCode.SEND_MESSAGE,
      {
        producerGroup: "PG",
        topic: "AutoCapped",
        defaultTopic: "TBW102",
        defaultTopicQueueNums: "64",
        queueId: "-1",
        sysFlag: "0",
        bornTimestamp: String(Date.now()),
        flag: "0",
        properties: "",
        reconsumeTimes: "0",
      },
      Buffer.from("y"),
    ),
    3000,
  );
  assert.equal(big.code, ResponseCode.SUCCESS, big.remark);
  assert.equal(topics.get("AutoCapped")?.writeQueueNums, 8, "capped by TBW102");
  const none = await client.invoke(
    b.addr,
    createRequest(
      RequestCode.SEND_MESSAGE_V2,
      { a: "PG", b: "AutoDefault", e: "-1", f: "0", g: String(Date.now()), h: "0", i: "" },
      Buffer.from("z"),
    ),
    3000,
  );
  assert.equal(none.code, ResponseCode.SUCCESS, none.remark);
  assert.equal(topics.get("AutoDefault")?.writeQueueNums, 8, "no count asked: TBW102's");
});
