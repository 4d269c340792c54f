// Auto-renewal: a receive with auto_renew and no invisible_duration (what push consumers send) stays invisible
// while the client that holds it is connected, and its first handle still acks; once the client is gone it
// comes back. The official PushConsumer with a listener slower than the invisible slice consumes each message
// once. The renewal slice here is 1 s, so anything not renewed would come back within the tests.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { topicConfig } from "../../../src/common/topic.js";
import { uniq } from "../../client/helpers.js";
import { startBroker } from "../../support/broker-fixture.js";
import { RawClient } from "../../support/grpc-raw-client.js";
import type { RawStatus } from "../../support/grpc-raw-client.js";
import { quietLogger, rocketmqClient } from "../../support/rocketmq-client.js";

let b: Awaited<ReturnType<typeof startBroker>>;
const RENEWAL = { sliceMs: 1000, aheadMs: 400, maxMs: 60_000, tickMs: 100, silentMs: 60_000 };

before(async () => {
  b = await startBroker({}, undefined, {
    grpcRenewal: RENEWAL,
  });
});

after(async () => {
  await b.stop();
});

interface Frame {
  status?: RawStatus;
  message?: { body: Buffer; systemProperties: { deliveryAttempt?: number; receiptHandle?: string } };
}

function receiveReq(topic: string, group: string, opts: { autoRenew: boolean; pollMs: number }) {
  return {
    group: { name: group },
    messageQueue: { topic: { name: topic }, id: 0 },
    filterExpression: { type: "TAG", expression: "*" },
    batchSize: 16,
    ...(opts.autoRenew ? { autoRenew: true } : { invisibleDuration: { seconds: 30 } }),
    longPollingTimeout: { seconds: Math.floor(opts.pollMs / 1000), nanos: (opts.pollMs % 1000) * 1e6 },
  };
}

function setup(): string {
  const topic = uniq("GrpcRenew");
  b.server.broker.createTopic(topicConfig(topic, 1));
  return topic;
}

async function send(c: RawClient, topic: string, body: string): Promise<void> {
  const r = await c.unary("SendMessage", {
    messages: [
      {
        topic: { name: topic },
        systemProperties: { messageId: uniq("id").replace(/\W/g, ""), messageType: "NORMAL" },
        body: Buffer.from(body),
      },
    ],
  });
  assert.equal(r.status?.code, "OK");
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Sends `body` and receives it the way push consumers do (auto_renew, no invisible time); its handle. */
async function holdOne(holder: RawClient, topic: string, group: string, body: string): Promise<string> {
  await send(holder, topic, body);
  const got = await holder.stream<Frame>(
    "ReceiveMessage",
    receiveReq(topic, group, { autoRenew: true, pollMs: 2000 }),
  );
  assert.equal(got[1]?.message?.body.toString(), body);
  return got[1]!.message!.systemProperties.receiptHandle!;
}

test(
  "a held message stays invisible past its slice and its first handle acks",
  { timeout: 30_000 },
  async () => {
    const topic = setup();
    const group = uniq("GID_renew");
    const holder = new RawClient(b.grpcAddr);
    const other = new RawClient(b.grpcAddr);
    try {
      const handle = await holdOne(holder, topic, group, "held");
      await sleep(3000);
      const meanwhile = await other.stream<Frame>(
        "ReceiveMessage",
        receiveReq(topic, group, { autoRenew: false, pollMs: 0 }),
      );
      assert.equal(
        meanwhile[0]?.status?.code,
        "MESSAGE_NOT_FOUND",
        "renewed three times over: still invisible",
      );
      const ack = await holder.unary("AckMessage", {
        group: { name: group },
        topic: { name: topic },
        entries: [{ messageId: "x", receiptHandle: handle }],
      });
      assert.equal(ack.status?.code, "OK", "the handle of the first delivery is still the message's");
      await sleep(1500);
      const after = await other.stream<Frame>(
        "ReceiveMessage",
        receiveReq(topic, group, { autoRenew: false, pollMs: 0 }),
      );
      assert.equal(after[0]?.status?.code, "MESSAGE_NOT_FOUND", "acked for good");
    } finally {
      holder.close();
      other.close();
    }
  },
);

test("what a client held comes back once it is gone", { timeout: 30_000 }, async () => {
  const topic = setup();
  const group = uniq("GID_renew");
  const holder = new RawClient(b.grpcAddr);
  const other = new RawClient(b.grpcAddr);
  try {
    await holdOne(holder, topic, group, "orphan");
    const bye = await holder.unary("NotifyClientTermination", { group: { name: group } });
    assert.equal(bye.status?.code, "OK");
    const again = await other.stream<Frame>(
      "ReceiveMessage",
      receiveReq(topic, group, { autoRenew: false, pollMs: 5000 }),
    );
    assert.equal(again[1]?.message?.body.toString(), "orphan", "visible again after the current slice");
    assert.equal(again[1]?.message?.systemProperties.deliveryAttempt, 2);
  } finally {
    holder.close();
    other.close();
  }
});

test("a PushConsumer slower than the slice consumes each message once", { timeout: 60_000 }, async () => {
  const { client } = rocketmqClient();
  const topic = setup();
  const producer = new client.Producer({ endpoints: b.grpcAddr, namespace: "", logger: quietLogger });
  await producer.startup();
  const seen: string[] = [];
  const push = new client.PushConsumer({
    endpoints: b.grpcAddr,
    namespace: "",
    consumerGroup: uniq("GID_slow"),
    subscriptions: new Map([[topic, "*"]]),
    logger: quietLogger,
    messageListener: {
      consume: async (m) => {
        seen.push(m.body.toString());
        await sleep(2500);
        return client.ConsumeResult.SUCCESS;
      },
    },
  });
  await push.startup();
  try {
    for (let i = 0; i < 3; i++) await producer.send({ topic, body: Buffer.from(`slow-${i}`) });
    const end = Date.now() + 20_000;
    while (seen.length < 3 && Date.now() < end) await sleep(100);
    await sleep(4000);
    assert.deepEqual([...seen].sort(), ["slow-0", "slow-1", "slow-2"], "each once, none handed out again");
  } finally {
    await push.shutdown();
    await producer.shutdown();
  }
});

test(
  "a client whose stream stays open but who stops heartbeating loses what it held",
  { timeout: 30_000 },
  async (tc) => {
    // Its own broker: the official client in the test above heartbeats only every 10 s.
    const b = await startBroker({}, undefined, { grpcRenewal: { ...RENEWAL, silentMs: 2500 } });
    tc.after(() => b.stop());
    const topic = uniq("GrpcSilent");
    b.server.broker.createTopic(topicConfig(topic, 1));
    const group = uniq("GID_renew");
    const holder = new RawClient(b.grpcAddr);
    const other = new RawClient(b.grpcAddr);
    const t = holder.telemetry<{ status?: RawStatus }>();
    try {
      t.stream.write(RawClient.consumerSettings("PUSH_CONSUMER", group, topic));
      const end = Date.now() + 5000;
      while (t.frames.length === 0 && Date.now() < end) await sleep(20);
      assert.equal(t.frames[0]?.status?.code, "OK");
      await holdOne(holder, topic, group, "silent");
      const early = await other.stream<Frame>(
        "ReceiveMessage",
        receiveReq(topic, group, { autoRenew: false, pollMs: 1500 }),
      );
      assert.equal(early[0]?.status?.code, "MESSAGE_NOT_FOUND", "renewed while the client was recently seen");
      const again = await other.stream<Frame>(
        "ReceiveMessage",
        receiveReq(topic, group, { autoRenew: false, pollMs: 6000 }),
      );
      assert.equal(again[1]?.message?.body.toString(), "silent", "no heartbeat for 2.5 s: renewals stop");
    } finally {
      t.stream.end();
      holder.close();
      other.close();
    }
  },
);
