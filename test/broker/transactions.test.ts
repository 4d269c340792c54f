import { test } from "node:test";
import assert from "node:assert/strict";
import { RemotingClient } from "../../src/protocol/remoting/client.js";
import { createRequest } from "../../src/protocol/remoting/command.js";
import type { RemotingCommand } from "../../src/protocol/remoting/command.js";
import { RequestCode } from "../../src/protocol/remoting/request-code.js";
import { ResponseCode } from "../../src/protocol/remoting/response-code.js";
import { decodeRecord } from "../../src/common/message-record.js";
import { encodeProperties, getProperty } from "../../src/common/properties.js";
import { startBroker } from "../support/broker-fixture.js";
import { tempDir } from "../support/temp-dir.js";

const fast = { transactionTimeoutMs: 150, transactionCheckIntervalMs: 100, transactionCheckMax: 3 };

async function producer(client: RemotingClient, addr: string) {
  const hb = { clientID: "127.0.0.1@tx", producerDataSet: [{ groupName: "TXG" }], consumerDataSet: [] };
  const r = await client.invoke(
    addr,
    createRequest(RequestCode.HEART_BEAT, {}, Buffer.from(JSON.stringify(hb))),
    3000,
  );
  assert.equal(r.code, ResponseCode.SUCCESS);
}

async function sendHalf(
  client: RemotingClient,
  addr: string,
  body: string,
  extra: Record<string, string> = {},
) {
  const r = await client.invoke(
    addr,
    createRequest(
      RequestCode.SEND_MESSAGE_V2,
      {
        a: "TXG",
        b: "TxTopic",
        e: "0",
        f: "4",
        g: String(Date.now()),
        h: "0",
        j: "0",
        i: encodeProperties({
          TRAN_MSG: "true",
          PGROUP: "TXG",
          UNIQ_CLIENT_MESSAGE_ID_KEYIDX: `U-${body}`,
          KEYS: `k-${body}`,
          ...extra,
        }),
      },
      Buffer.from(body),
    ),
    3000,
  );
  assert.equal(r.code, ResponseCode.SUCCESS, r.remark);
  assert.equal(r.extFields.transactionId, `U-${body}`);
  return { halfOffset: Number(r.extFields.queueOffset), phy: parseInt(r.extFields.msgId!.slice(16), 16) };
}

function end(
  client: RemotingClient,
  addr: string,
  h: { halfOffset: number; phy: number },
  type: number,
  fromCheck = false,
) {
  return client.invoke(
    addr,
    createRequest(RequestCode.END_TRANSACTION, {
      producerGroup: "TXG",
      tranStateTableOffset: String(h.halfOffset),
      commitLogOffset: String(h.phy),
      commitOrRollback: String(type),
      fromTransactionCheck: String(fromCheck),
    }),
    3000,
  );
}

async function visible(client: RemotingClient, addr: string): Promise<string[]> {
  const out: string[] = [];
  const r = await client.invoke(
    addr,
    createRequest(RequestCode.PULL_MESSAGE, {
      consumerGroup: "C",
      topic: "TxTopic",
      queueId: "0",
      queueOffset: "0",
      maxMsgNums: "32",
      sysFlag: "4",
      subscription: "*",
    }),
    3000,
  );
  if (r.code !== ResponseCode.SUCCESS) return out;
  for (let p = 0; p < r.body!.length; p += r.body!.readInt32BE(p)) {
    const rec = decodeRecord(r.body!, p);
    assert.equal(
      getProperty(rec.properties, "UNIQ_CLIENT_MESSAGE_ID_KEYIDX"),
      `U-${rec.body.toString()}`,
      "the committed message keeps its id",
    );
    assert.equal(rec.sysFlag & 0xc, 0x8, "marked as a committed transactional message");
    out.push(rec.body.toString());
  }
  return out;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A broker, and a client registered as a producer of TXG on it; `onCheck` answers the broker's check-backs. */
async function txProducer(
  t: { after(f: () => Promise<void>): void },
  config: Parameters<typeof startBroker>[0],
  onCheck?: (req: RemotingCommand, client: RemotingClient, addr: string) => void,
) {
  const b = await startBroker(config);
  const client = new RemotingClient();
  if (onCheck)
    client.registerHandler(RequestCode.CHECK_TRANSACTION_STATE, (req) => {
      onCheck(req, client, b.addr);
      return undefined;
    });
  t.after(async () => {
    client.close();
    await b.stop();
  });
  await producer(client, b.addr);
  return { b, client };
}

test("half messages are invisible until commit; rollback never delivers; decisions are idempotent", async (t) => {
  const { b, client } = await txProducer(t, fast);
  const a = await sendHalf(client, b.addr, "a");
  const r = await sendHalf(client, b.addr, "r");
  assert.deepEqual(await visible(client, b.addr), [], "nothing visible before the decision");
  assert.equal((await end(client, b.addr, a, 8)).code, ResponseCode.SUCCESS);
  assert.equal((await end(client, b.addr, a, 8)).code, ResponseCode.SUCCESS, "a repeated commit is harmless");
  assert.equal((await end(client, b.addr, r, 12)).code, ResponseCode.SUCCESS);
  assert.deepEqual(await visible(client, b.addr), ["a"]);
  const late = await end(client, b.addr, r, 8);
  assert.equal(late.code, ResponseCode.NO_PERMISSION);
  assert.match(late.remark ?? "", /rollback/);
  const wrong = await end(client, b.addr, { halfOffset: 99, phy: 0 }, 8);
  assert.notEqual(wrong.code, ResponseCode.SUCCESS);
  assert.deepEqual(await visible(client, b.addr), ["a"], "one commit, one copy");
});

test("unknown outcome: the broker checks back with a producer of the group, which commits", async (t) => {
  const checks: RemotingCommand[] = [];
  const { b, client } = await txProducer(t, fast, (req, c, addr) => {
    checks.push(req);
    const half = {
      halfOffset: Number(req.extFields.tranStateTableOffset),
      phy: Number(req.extFields.commitLogOffset),
    };
    void end(c, addr, half, 8, true);
  });
  const sentAt = Date.now();
  await sendHalf(client, b.addr, "u");
  assert.equal(
    (await end(client, b.addr, { halfOffset: 0, phy: 0 }, 0)).code,
    ResponseCode.SUCCESS,
    "unknown is accepted",
  );
  for (let i = 0; i < 400 && checks.length === 0; i++) await sleep(25);
  assert.equal(checks.length, 1);
  assert.ok(Date.now() - sentAt >= fast.transactionTimeoutMs, "not checked before the first-check time");
  const rec = decodeRecord(checks[0]!.body!);
  assert.equal(rec.topic, "TxTopic", "the check carries the message as sent");
  assert.equal(checks[0]!.extFields.transactionId, "U-u");
  for (let i = 0; i < 400; i++) {
    if ((await visible(client, b.addr)).length) break;
    await sleep(25);
  }
  assert.deepEqual(await visible(client, b.addr), ["u"]);
});

test("CheckImmunityTimeInSeconds delays the first check; unanswered checks end in a discard", async (t) => {
  const checkTimes: number[] = [];
  const { b, client } = await txProducer(t, fast, () => checkTimes.push(Date.now()));
  const events: string[] = [];
  b.server.broker.transactions.onEvent = (e) => events.push(e.type);
  const sentAt = Date.now();
  const h = await sendHalf(client, b.addr, "x", { CHECK_IMMUNITY_TIME_IN_SECONDS: "1" });
  for (let i = 0; i < 400 && !events.includes("discard"); i++) await sleep(25);
  assert.equal(checkTimes.length, 3, "checked transactionCheckMax times");
  assert.ok(checkTimes[0]! - sentAt >= 1000, `first check ${checkTimes[0]! - sentAt} ms after the send`);
  // Delivery jitter on a loaded machine can bring two arrivals a little closer than the interval.
  assert.ok(checkTimes[1]! - checkTimes[0]! >= fast.transactionCheckIntervalMs / 2);
  assert.ok(events.includes("discard"));
  const late = await end(client, b.addr, h, 8);
  assert.equal(late.code, ResponseCode.NO_PERMISSION);
  assert.match(late.remark ?? "", /discarded/);
  assert.deepEqual(await visible(client, b.addr), []);
});

test("a CheckImmunityTimeInSeconds shorter than the transaction timeout brings the first check forward", async (t) => {
  // RocketMQ takes the producer's immunity as it is; the broker's timeout (here a minute) applies only without one.
  const checks: { at: number; body: string }[] = [];
  const { b, client } = await txProducer(t, { ...fast, transactionTimeoutMs: 60_000 }, (req) => {
    checks.push({ at: Date.now(), body: req.body ? decodeRecord(req.body).body.toString() : "" });
  });
  const sentAt = Date.now();
  await sendHalf(client, b.addr, "soon", { CHECK_IMMUNITY_TIME_IN_SECONDS: "1" });
  await sendHalf(client, b.addr, "default");
  for (let i = 0; i < 200 && checks.length === 0; i++) await sleep(25);
  await sleep(500);
  assert.ok(checks.length >= 1, "checked within 5 s");
  const first = checks[0]!;
  assert.equal(first.body, "soon");
  assert.ok(first.at - sentAt >= 1000, `first check ${first.at - sentAt} ms after the send`);
  assert.ok(first.at - sentAt < 5000, `first check ${first.at - sentAt} ms after the send`);
  assert.deepEqual(
    checks.filter((c) => c.body === "default"),
    [],
    "the half message without an immunity waits for the transaction timeout",
  );
});

test("unresolved half messages survive a restart and can be committed after it", async (t) => {
  const { dir, cleanup } = tempDir();
  const cfg = { ...fast, transactionTimeoutMs: 60_000 };
  let b = await startBroker(cfg, dir);
  const client = new RemotingClient();
  await producer(client, b.addr);
  const h1 = await sendHalf(client, b.addr, "p1");
  const h2 = await sendHalf(client, b.addr, "p2");
  await end(client, b.addr, h2, 12);
  await b.server.stop();
  b = await startBroker(cfg, dir);
  t.after(async () => {
    client.close();
    await b.server.stop();
    cleanup();
  });
  assert.equal(b.server.broker.transactions.unresolved, 1, "p1 is still pending, p2 was rolled back");
  assert.equal((await end(client, b.addr, h1, 8)).code, ResponseCode.SUCCESS);
  assert.equal(
    (await end(client, b.addr, h2, 8)).code,
    ResponseCode.NO_PERMISSION,
    "the rollback survived too",
  );
  assert.deepEqual(await visible(client, b.addr), ["p1"]);
});
