// Access control on the gRPC endpoint: the official client signing with sessionCredentials (an admin account, an
// account with rights on some topics only, a wrong secret, none), a bare grpc-js client sending malformed
// authorization headers, and every RPC's rights checked one by one with a correctly signed bare client.
//
// What the official client does with a refusal: a Producer started without a topic makes no call at startup, so a
// send meets the refusal itself (QueryRoute's, or SendMessage's when the route is allowed) and throws the
// client's exception, whose `code` is the v2 status code. A SimpleConsumer fetches routes at startup (three tries,
// a few seconds) and then sends its Settings on the Telemetry stream; its startup fails with an Error whose cause
// chain ends in that exception.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import * as grpc from "@grpc/grpc-js";
import { topicConfig } from "../../../src/common/topic.js";
import { uniq, waitFor } from "../../client/helpers.js";
import { startBroker } from "../../support/broker-fixture.js";
import { RawClient } from "../../support/grpc-raw-client.js";
import type { RawStatus } from "../../support/grpc-raw-client.js";
import { quietLogger, receiveN, rocketmqClient } from "../../support/rocketmq-client.js";

const { client } = rocketmqClient();

interface Credentials {
  accessKey: string;
  accessSecret: string;
}

const ADMIN: Credentials = { accessKey: "AdminAK", accessSecret: "AdminSK" };
const LIMITED: Credentials = { accessKey: "LimitedAK", accessSecret: "LimitedSK" };
const ACL_TOPIC = "AclTopic";
const READ_ONLY_TOPIC = "AclReadOnlyTopic";
const OTHER_TOPIC = "AclOtherTopic";
const DENIED_GROUP = "GID_acl_denied";

let b: Awaited<ReturnType<typeof startBroker>>;

before(async () => {
  b = await startBroker({
    acl: {
      accounts: [
        { accessKey: ADMIN.accessKey, secretKey: ADMIN.accessSecret, admin: true },
        {
          accessKey: LIMITED.accessKey,
          secretKey: LIMITED.accessSecret,
          topicPerms: [`${ACL_TOPIC}=PUB`, `${READ_ONLY_TOPIC}=SUB`],
          defaultGroupPerm: "SUB",
          groupPerms: [`${DENIED_GROUP}=DENY`],
        },
      ],
      globalWhiteRemoteAddresses: [],
    },
  });
  for (const t of [ACL_TOPIC, READ_ONLY_TOPIC, OTHER_TOPIC]) b.server.broker.createTopic(topicConfig(t, 2));
});

after(async () => {
  await b.stop();
});

/** A started Producer (no topics declared: startup makes no call, so sends meet any refusal themselves). */
async function producer(addr: string, creds?: Credentials) {
  const p = new client.Producer({
    endpoints: addr,
    namespace: "",
    logger: quietLogger,
    ...(creds ? { sessionCredentials: creds } : {}),
  });
  await p.startup();
  return p;
}

function simpleConsumer(group: string, topic: string, creds?: Credentials) {
  return new client.SimpleConsumer({
    endpoints: b.grpcAddr,
    namespace: "",
    consumerGroup: group,
    subscriptions: new Map([[topic, "*"]]),
    awaitDuration: 1000,
    logger: quietLogger,
    ...(creds ? { sessionCredentials: creds } : {}),
  });
}

/** The v2 status code the client's exception carries, and its message: the error or the first cause with one. */
function refusal(e: unknown): { code: number; message: string } {
  for (let cur = e; cur instanceof Error; cur = cur.cause) {
    const code = (cur as { code?: unknown }).code;
    if (typeof code === "number") return { code, message: cur.message };
  }
  throw new Error(`no status code in ${String(e)}`, { cause: e });
}

async function refusedWith(p: Promise<unknown>, code: number, message: RegExp): Promise<void> {
  const e = await p.then(
    () => assert.fail("expected a refusal"),
    (err: unknown) => err,
  );
  const r = refusal(e);
  assert.equal(r.code, code, r.message);
  assert.match(r.message, message);
}

/** Messages stored on a topic (every queue). */
function storedCount(topic: string): number {
  let n = 0;
  for (let q = 0; q < 2; q++) n += b.server.broker.getMaxOffset(topic, q);
  return n;
}

/** The headers a signing client sends (the official client's scheme, computed here on its own). */
function signedHeaders(
  creds: Credentials,
  dateTime = "20261123T215435Z",
): { authorization: string; "x-mq-date-time": string } {
  const signature = createHmac("sha1", creds.accessSecret).update(dateTime).digest("hex").toUpperCase();
  return {
    authorization: `MQv2-HMAC-SHA1 Credential=${creds.accessKey}, SignedHeaders=x-mq-date-time, Signature=${signature}`,
    "x-mq-date-time": dateTime,
  };
}

/** A bare client that adds these headers to every call. */
class HeaderClient extends RawClient {
  constructor(
    addr: string,
    private readonly headers: Record<string, string>,
  ) {
    super(addr);
  }

  override metadata(): grpc.Metadata {
    const md = super.metadata();
    for (const [k, v] of Object.entries(this.headers)) md.set(k, v);
    return md;
  }
}

test(
  "an admin account: the Producer sends, the SimpleConsumer receives and acks",
  { timeout: 60_000 },
  async () => {
    const topic = uniq("AclAdmin");
    b.server.broker.createTopic(topicConfig(topic, 2));
    const p = await producer(b.grpcAddr, ADMIN);
    const c = simpleConsumer(uniq("GID_acl_admin"), topic, ADMIN);
    await c.startup();
    try {
      const sent = await p.send({ topic, body: Buffer.from("signed") });
      const got = await receiveN(c, 1, 15_000);
      assert.equal(got.length, 1);
      assert.equal(got[0]!.messageId, sent.messageId);
      assert.equal(got[0]!.body.toString(), "signed");
      await c.ack(got[0]!);
      assert.deepEqual(await c.receive(16, 15_000), [], "acked");
    } finally {
      await c.shutdown();
      await p.shutdown();
    }
  },
);

test(
  "an account with PUB on AclTopic: sends there; other topics and receiving are refused with 40300",
  { timeout: 60_000 },
  async () => {
    const p = await producer(b.grpcAddr, LIMITED);
    try {
      const before = storedCount(ACL_TOPIC);
      await p.send({ topic: ACL_TOPIC, body: Buffer.from("allowed") });
      assert.equal(storedCount(ACL_TOPIC), before + 1);
      // No right at all on the topic: its route is refused.
      await refusedWith(
        p.send({ topic: OTHER_TOPIC, body: Buffer.from("x") }),
        40300,
        /LimitedAK may not PUB or SUB topic AclOtherTopic/,
      );
      // SUB only: the route is served, the send itself is refused and nothing is stored.
      await refusedWith(
        p.send({ topic: READ_ONLY_TOPIC, body: Buffer.from("x") }),
        40300,
        /LimitedAK may not PUB topic AclReadOnlyTopic/,
      );
      assert.equal(storedCount(READ_ONLY_TOPIC), 0);
      assert.equal(storedCount(OTHER_TOPIC), 0);
    } finally {
      await p.shutdown();
    }
    // The consumer's route of AclTopic is served (PUB is a right on it); its Settings, which subscribe to it,
    // are refused on the Telemetry stream and fail the startup.
    const c = simpleConsumer(uniq("GID_acl_limited"), ACL_TOPIC, LIMITED);
    try {
      await refusedWith(c.startup(), 40300, /LimitedAK may not SUB topic AclTopic/);
    } finally {
      await c.shutdown();
    }
  },
);

test("a wrong secret or an unknown AccessKey is refused with 40100", { timeout: 60_000 }, async () => {
  const wrong = await producer(b.grpcAddr, { ...LIMITED, accessSecret: "not-the-secret" });
  const unknown = await producer(b.grpcAddr, { accessKey: "NoSuchAK", accessSecret: "x" });
  try {
    await refusedWith(
      wrong.send({ topic: ACL_TOPIC, body: Buffer.from("x") }),
      40100,
      /signature check failed for AccessKey LimitedAK/,
    );
    await refusedWith(
      unknown.send({ topic: ACL_TOPIC, body: Buffer.from("x") }),
      40100,
      /no account NoSuchAK/,
    );
  } finally {
    await wrong.shutdown();
    await unknown.shutdown();
  }
  // A consumer's startup fails at its route queries (retried, then given up).
  const c = simpleConsumer(uniq("GID_acl_wrong"), ACL_TOPIC, { ...ADMIN, accessSecret: "not-the-secret" });
  try {
    await refusedWith(c.startup(), 40100, /signature check failed for AccessKey AdminAK/);
  } finally {
    await c.shutdown();
  }
});

test(
  "no credentials: refused with 40100, on unary calls and on the Telemetry stream",
  { timeout: 30_000 },
  async () => {
    const p = await producer(b.grpcAddr);
    try {
      await refusedWith(p.send({ topic: ACL_TOPIC, body: Buffer.from("x") }), 40100, /no AccessKey/);
    } finally {
      await p.shutdown();
    }
    // The stream's opening is refused before any Settings: a bare status, then the end of the call.
    const raw = new RawClient(b.grpcAddr);
    try {
      const t = raw.telemetry<{ status?: RawStatus }>();
      await t.ended;
      assert.equal(t.frames.length, 1);
      assert.equal(t.frames[0]!.status?.code, "UNAUTHORIZED");
      assert.match(t.frames[0]!.status?.message ?? "", /no AccessKey/);
      const receive = await raw.stream<{ status?: RawStatus }>("ReceiveMessage", {
        group: { name: "GID_x" },
        messageQueue: { topic: { name: ACL_TOPIC } },
      });
      assert.deepEqual(
        receive.map((f) => f.status?.code),
        ["UNAUTHORIZED"],
      );
      assert.equal(b.server.grpc.sessions.get(raw.clientId), undefined, "no session registered");
    } finally {
      raw.close();
    }
  },
);

test(
  "malformed authorization headers get 40100, never a crash, and the endpoint keeps serving",
  { timeout: 60_000 },
  async () => {
    const good = signedHeaders(ADMIN);
    const sig = /Signature=([0-9A-F]+)/.exec(good.authorization)![1]!;
    const cases: Array<[Record<string, string>, RegExp]> = [
      [{ authorization: "garbage" }, /not MQv2-HMAC-SHA1/],
      [{ authorization: "MQv2-HMAC-SHA1" }, /not MQv2-HMAC-SHA1/],
      [
        { ...good, authorization: good.authorization.replace("MQv2-HMAC-SHA1", "MQv2-HMAC-SHA256") },
        /not MQv2/,
      ],
      [{ ...good, authorization: "MQv2-HMAC-SHA1 Credential=AdminAK, junk" }, /cannot read "junk"/],
      [
        { ...good, authorization: `MQv2-HMAC-SHA1 SignedHeaders=x-mq-date-time, Signature=${sig}` },
        /no Credential/,
      ],
      [{ ...good, authorization: "MQv2-HMAC-SHA1 Credential=, Signature=AB" }, /no Credential/],
      [{ ...good, authorization: "MQv2-HMAC-SHA1 Credential=AdminAK" }, /Signature is not hex/],
      [
        { ...good, authorization: "MQv2-HMAC-SHA1 Credential=AdminAK, Signature=XYZW" },
        /Signature is not hex/,
      ],
      // One hex digit more than the right signature: odd, refused rather than read as the signature.
      [{ ...good, authorization: `${good.authorization}0` }, /Signature is not hex/],
      [{ authorization: good.authorization }, /no x-mq-date-time/],
    ];
    for (const [headers, why] of cases) {
      const raw = new HeaderClient(b.grpcAddr, headers);
      try {
        const route = await raw.unary("QueryRoute", { topic: { name: ACL_TOPIC } });
        assert.equal(route.status?.code, "UNAUTHORIZED", headers.authorization);
        assert.match(route.status?.message ?? "", /malformed authorization header/);
        assert.match(route.status?.message ?? "", why);
        const t = raw.telemetry<{ status?: RawStatus }>();
        await t.ended;
        assert.equal(t.frames[0]?.status?.code, "UNAUTHORIZED", headers.authorization);
      } finally {
        raw.close();
      }
    }
    // The right headers through the same bare client pass, and so does the official client.
    const raw = new HeaderClient(b.grpcAddr, good);
    try {
      assert.equal((await raw.unary("QueryRoute", { topic: { name: ACL_TOPIC } })).status?.code, "OK");
      // The signature's hex digits may be lower case.
      const hexLower = new HeaderClient(b.grpcAddr, {
        ...good,
        authorization: good.authorization.replace(sig, sig.toLowerCase()),
      });
      assert.equal((await hexLower.unary("QueryRoute", { topic: { name: ACL_TOPIC } })).status?.code, "OK");
      hexLower.close();
    } finally {
      raw.close();
    }
    const p = await producer(b.grpcAddr, ADMIN);
    try {
      await p.send({ topic: ACL_TOPIC, body: Buffer.from("still serving") });
    } finally {
      await p.shutdown();
    }
  },
);

test("each RPC needs RocketMQ's rights on its topic and group", { timeout: 60_000 }, async () => {
  const raw = new HeaderClient(b.grpcAddr, signedHeaders(LIMITED));
  const group = uniq("GID_acl_rpc");
  const msg = (topic: string) => ({
    topic: { name: topic },
    systemProperties: { messageId: "0100000000000000000000000000000001", messageType: "NORMAL" },
    body: Buffer.from("x"),
  });
  const noSub = /LimitedAK may not SUB topic AclTopic/;
  const noPub = /LimitedAK may not PUB topic AclReadOnlyTopic/;
  const deniedGroup = /LimitedAK may not SUB group GID_acl_denied/;
  const refused: Array<[string, unknown, RegExp]> = [
    ["QueryRoute", { topic: { name: OTHER_TOPIC } }, /may not PUB or SUB topic AclOtherTopic/],
    ["SendMessage", { messages: [msg(ACL_TOPIC), msg(READ_ONLY_TOPIC)] }, noPub],
    ["RecallMessage", { topic: { name: READ_ONLY_TOPIC }, recallHandle: "h" }, noPub],
    [
      "EndTransaction",
      { topic: { name: READ_ONLY_TOPIC }, messageId: "01", transactionId: "t", resolution: "COMMIT" },
      noPub,
    ],
    ["Heartbeat", { clientType: "SIMPLE_CONSUMER", group: { name: DENIED_GROUP } }, deniedGroup],
    ["NotifyClientTermination", { group: { name: DENIED_GROUP } }, deniedGroup],
    ["QueryAssignment", { topic: { name: ACL_TOPIC }, group: { name: group } }, noSub],
    ["QueryAssignment", { topic: { name: READ_ONLY_TOPIC }, group: { name: DENIED_GROUP } }, deniedGroup],
    [
      "AckMessage",
      {
        topic: { name: ACL_TOPIC },
        group: { name: group },
        entries: [{ messageId: "01", receiptHandle: "h" }],
      },
      noSub,
    ],
    [
      "ChangeInvisibleDuration",
      { topic: { name: ACL_TOPIC }, group: { name: group }, receiptHandle: "h", messageId: "01" },
      noSub,
    ],
    [
      "ForwardMessageToDeadLetterQueue",
      { topic: { name: ACL_TOPIC }, group: { name: group }, receiptHandle: "h", messageId: "01" },
      noSub,
    ],
    [
      "SyncLiteSubscription",
      { action: "PARTIAL_ADD", topic: { name: ACL_TOPIC }, group: { name: group } },
      noSub,
    ],
  ];
  try {
    for (const [rpc, req, why] of refused) {
      const r = await raw.unary(rpc, req);
      assert.equal(r.status?.code, "FORBIDDEN", `${rpc}: ${r.status?.message}`);
      assert.match(r.status?.message ?? "", why, rpc);
    }
    const receive = await raw.stream<{ status?: RawStatus }>("ReceiveMessage", {
      group: { name: group },
      messageQueue: { topic: { name: ACL_TOPIC } },
    });
    assert.deepEqual(
      receive.map((f) => f.status?.code),
      ["FORBIDDEN"],
    );
    assert.match(receive[0]!.status?.message ?? "", noSub);

    // What the account may do passes the check (the handlers answer as they would without access control).
    for (const [rpc, req] of [
      ["QueryRoute", { topic: { name: READ_ONLY_TOPIC } }],
      ["QueryRoute", { topic: { name: ACL_TOPIC } }],
      ["Heartbeat", { clientType: "PRODUCER" }],
      ["QueryAssignment", { topic: { name: READ_ONLY_TOPIC }, group: { name: group } }],
    ] as const) {
      const r = await raw.unary(rpc, req);
      assert.equal(r.status?.code, "OK", `${rpc}: ${r.status?.message}`);
    }

    // Telemetry: each Settings command is checked; a refused one gets a bare status and the stream stays open.
    const t = raw.telemetry<{ status?: RawStatus; settings?: unknown }>();
    t.stream.write({
      settings: { clientType: "PRODUCER", publishing: { topics: [{ name: READ_ONLY_TOPIC }] } },
    });
    await waitFor(() => t.frames.length >= 1, 5000, "the refusal");
    assert.equal(t.frames[0]!.status?.code, "FORBIDDEN");
    assert.match(t.frames[0]!.status?.message ?? "", noPub);
    t.stream.write(RawClient.consumerSettings("SIMPLE_CONSUMER", group, ACL_TOPIC));
    await waitFor(() => t.frames.length >= 2, 5000, "the second refusal");
    assert.equal(t.frames[1]!.status?.code, "FORBIDDEN");
    assert.match(t.frames[1]!.status?.message ?? "", noSub);
    t.stream.write(RawClient.consumerSettings("SIMPLE_CONSUMER", DENIED_GROUP, READ_ONLY_TOPIC));
    await waitFor(() => t.frames.length >= 3, 5000, "the third refusal");
    assert.equal(t.frames[2]!.status?.code, "FORBIDDEN");
    assert.match(t.frames[2]!.status?.message ?? "", deniedGroup);
    t.stream.write({ settings: { clientType: "PRODUCER", publishing: { topics: [{ name: ACL_TOPIC }] } } });
    await waitFor(() => t.frames.length >= 4, 5000, "the settings answer");
    assert.equal(t.frames[3]!.status?.code, "OK");
    assert.ok(t.frames[3]!.settings);
    t.stream.end();
    await t.ended;
  } finally {
    raw.close();
  }
  assert.equal(storedCount(READ_ONLY_TOPIC), 0, "the refused SendMessage stored neither of its messages");
});

test(
  "a globally white-listed address is served without credentials, whatever it sends",
  { timeout: 30_000 },
  async () => {
    const w = await startBroker({
      acl: {
        accounts: [{ accessKey: ADMIN.accessKey, secretKey: ADMIN.accessSecret, admin: true }],
        globalWhiteRemoteAddresses: ["127.0.0.1"],
      },
    });
    try {
      w.server.broker.createTopic(topicConfig(ACL_TOPIC, 1));
      const p = await producer(w.grpcAddr);
      try {
        await p.send({ topic: ACL_TOPIC, body: Buffer.from("white-listed") });
      } finally {
        await p.shutdown();
      }
      const raw = new HeaderClient(w.grpcAddr, { authorization: "garbage" });
      try {
        assert.equal((await raw.unary("QueryRoute", { topic: { name: ACL_TOPIC } })).status?.code, "OK");
      } finally {
        raw.close();
      }
      assert.equal(w.server.broker.getMaxOffset(ACL_TOPIC, 0), 1);
    } finally {
      await w.stop();
    }
  },
);
