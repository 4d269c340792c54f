// The Telemetry stream as the official clients need it, driven by a bare grpc-js client: a complete Settings
// answer (exponential backoff, max body size, FIFO flag, batch size, long polling), sent again about a second
// later, registrations made from the settings, and the call finished when the client half-closes.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { groupConfig } from "../../../src/broker/group-manager.js";
import { startBroker } from "../../support/broker-fixture.js";
import { RawClient } from "../../support/grpc-raw-client.js";

let b: Awaited<ReturnType<typeof startBroker>>;

before(async () => {
  b = await startBroker();
});

after(async () => {
  await b.stop();
});

interface Frame {
  status?: { code?: string };
  settings?: {
    backoffPolicy?: {
      maxAttempts?: number;
      exponentialBackoff?: {
        initial?: { seconds?: number };
        max?: { seconds?: number };
        multiplier?: number;
      };
      customizedBackoff?: { next?: { seconds?: number }[] };
    };
    publishing?: { maxBodySize?: number; validateMessageType?: boolean };
    subscription?: {
      fifo?: boolean;
      receiveBatchSize?: number;
      longPollingTimeout?: { seconds?: number };
    };
  };
}

function open(c: RawClient) {
  return c.telemetry<Frame>();
}

async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test(
  "producer settings: complete answer twice, producer registered, call ended on half-close",
  { timeout: 30_000 },
  async () => {
    const c = new RawClient(b.grpcAddr);
    const topic = `TeleTopic_${process.pid}`;
    const t = open(c);
    try {
      const sentAt = Date.now();
      t.stream.write({
        settings: {
          clientType: "PRODUCER",
          publishing: { topics: [{ name: topic }], validateMessageType: true },
        },
      });
      await until(() => t.frames.length >= 1, 5000, "the settings answer");
      const first = t.frames[0]!;
      assert.equal(first.status?.code, "OK");
      assert.ok(
        first.settings?.backoffPolicy?.exponentialBackoff,
        "exponential backoff, or the client crashes",
      );
      assert.ok((first.settings?.backoffPolicy?.maxAttempts ?? 0) > 0);
      assert.equal(first.settings?.publishing?.maxBodySize, 4 * 1024 * 1024 - 64 * 1024);
      assert.equal(first.settings?.publishing?.validateMessageType, true);
      await until(() => t.frames.length >= 2, 5000, "the repeated answer");
      assert.ok(Date.now() - sentAt >= 800, "the repeat comes about a second later");
      assert.deepEqual(t.frames[1], first);
      const producers = b.server.broker.clients.producers.get(`GRPC_PRODUCER_${topic}`);
      assert.ok(producers?.has(c.clientId), "registered as a producer of the topic");
      t.stream.end();
      await t.ended;
      await until(
        () => !b.server.broker.clients.producers.has(`GRPC_PRODUCER_${topic}`),
        5000,
        "unregistration",
      );
      assert.equal(b.server.grpc.sessionCount, 0);
    } finally {
      c.close();
    }
  },
);

test(
  "consumer settings: FIFO flag and max attempts from the group, batch size, long polling",
  { timeout: 30_000 },
  async () => {
    const c = new RawClient(b.grpcAddr);
    const group = `GID_tele_${process.pid}`;
    b.server.broker.groups.createOrUpdate({ ...groupConfig(group, 2), consumeMessageOrderly: true });
    const t = open(c);
    try {
      t.stream.write(RawClient.consumerSettings("PUSH_CONSUMER", group, "TeleTopicC", "A||B"));
      await until(() => t.frames.length >= 1, 5000, "the settings answer");
      const s = t.frames[0]!.settings;
      assert.equal(s?.subscription?.fifo, true);
      assert.equal(s?.subscription?.receiveBatchSize, 32);
      assert.ok((s?.subscription?.longPollingTimeout?.seconds ?? 0) > 0);
      assert.equal(s?.backoffPolicy?.maxAttempts, 3, "retryMaxTimes 2 + the first delivery");
      const e = s?.backoffPolicy?.exponentialBackoff;
      assert.deepEqual(
        [e?.initial?.seconds, e?.max?.seconds, e?.multiplier],
        [1, 1, 1],
        "ordered consumption retries every second",
      );
      assert.deepEqual(b.server.broker.consumerIds(group), [c.clientId]);
      assert.equal(b.server.broker.clients.subscription(group, "TeleTopicC")?.subString, "A||B");
      t.stream.end();
      await t.ended;
      assert.deepEqual(b.server.broker.consumerIds(group), []);
    } finally {
      c.close();
    }
  },
);

test(
  "unordered push consumers retry on the retry schedule: as given to Java, as exponential backoff of the same length to Node.js",
  { timeout: 30_000 },
  async () => {
    const policy = async (language: string) => {
      const c = new RawClient(b.grpcAddr);
      const t = open(c);
      try {
        const settings = RawClient.consumerSettings("PUSH_CONSUMER", `GID_sched_${language}`, "TeleSched");
        t.stream.write({ settings: { ...settings.settings, userAgent: { language, version: "5.0.0" } } });
        await until(() => t.frames.length >= 1, 5000, "the settings answer");
        t.stream.end();
        await t.ended;
        return t.frames[0]!.settings?.backoffPolicy;
      } finally {
        c.close();
      }
    };
    const java = await policy("JAVA");
    assert.equal(java?.maxAttempts, 17, "16 retries after the first delivery");
    assert.deepEqual(
      java?.customizedBackoff?.next?.map((d) => Number(d.seconds)),
      [10, 30, 60, 120, 180, 240, 300, 360, 420, 480, 540, 600, 1200, 1800, 3600, 7200],
    );
    const node = await policy("NODE_JS");
    assert.equal(node?.maxAttempts, 17);
    const e = node?.exponentialBackoff;
    assert.deepEqual([e?.initial?.seconds, e?.max?.seconds].map(Number), [10, 7200]);
    // 16 retries growing by the multiplier from 10 s take about as long as the schedule's 17,140 s.
    let total = 0;
    for (let k = 0, w = 10; k < 16; k++, w = Math.min(w * e!.multiplier!, 7200)) total += w;
    assert.ok(Math.abs(total - 17_140) < 17_140 * 0.02, `16 retries take ${total} s`);
    assert.equal(node?.customizedBackoff, undefined, "the Node.js client cannot read a customized one");
  },
);

test("a client that vanishes (cancelled stream) loses its registrations", { timeout: 30_000 }, async () => {
  const c = new RawClient(b.grpcAddr);
  const topic = `TeleGone_${process.pid}`;
  const t = open(c);
  try {
    t.stream.write({ settings: { clientType: "PRODUCER", publishing: { topics: [{ name: topic }] } } });
    await until(() => t.frames.length >= 1, 5000, "the settings answer");
    assert.ok(b.server.broker.clients.producers.has(`GRPC_PRODUCER_${topic}`));
    t.stream.cancel();
    await until(
      () => !b.server.broker.clients.producers.has(`GRPC_PRODUCER_${topic}`),
      5000,
      "unregistration",
    );
    await until(() => b.server.grpc.sessionCount === 0, 5000, "the session to close");
  } finally {
    c.close();
  }
});
