// Access control as ali-ons 3.12.0 meets it: it signs every request with accessKey/secretKey (RocketMQ's ACL
// scheme plus its OnsChannel field), and the broker checks the signature and the account's rights per request.
// ali-ons retries a send refused with NO_PERMISSION and then reports only "still failed", not the broker's
// reason; test/client/acl.test.ts checks the reasons through our SDK, which reports them.
//
// One cluster serves the whole file.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { FAST_DELAY_LEVELS, startCluster } from "../support/cluster-fixture.js";
import type { Cluster } from "../support/cluster-fixture.js";
import { closeClients, common, consumer, ons, until } from "./ali-ons-kit.js";
import type { OnsProducer } from "./ali-ons-kit.js";
import type { OnsMessage } from "./ali-ons.js";
import { topicConfig } from "../../src/common/topic.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const ADMIN = { accessKey: "AclAdmin", secretKey: "admin-secret" };
const APP = { accessKey: "OrdersApp", secretKey: "orders-secret" };

let cluster: Cluster;
before(async () => {
  cluster = await startCluster({
    messageDelayLevel: FAST_DELAY_LEVELS,
    acl: {
      accounts: [
        { ...ADMIN, admin: true },
        {
          ...APP,
          topicPerms: ["AclOrders=PUB|SUB", "AclAudit=PUB", "AclSecret=DENY"],
          groupPerms: ["GID_ACL_ORDERS=SUB"],
          defaultTopicPerm: "DENY",
          defaultGroupPerm: "DENY",
        },
      ],
      globalWhiteRemoteAddresses: [],
    },
  });
  // The topics exist, so the tests are about rights, not about creating topics.
  for (const t of ["AclOrders", "AclAudit", "AclSecret"])
    cluster.broker.server.broker.createTopic(topicConfig(t, 4));
});
after(async () => {
  await cluster.stop();
});

function stored(topic: string): number {
  const store = cluster.broker.server.broker.store;
  return store.queueIds(topic).reduce((n, q) => n + store.getMaxOffset(topic, q), 0);
}

function producerAs(creds: object, group: string, instance: string): OnsProducer {
  const p = new ons.Producer({
    ...common(cluster.namesrvAddr),
    ...creds,
    producerGroup: group,
    instanceName: instance,
  });
  p.on("error", () => undefined);
  return p;
}

async function sendError(p: OnsProducer, topic: string): Promise<Error> {
  try {
    const r = await p.send(new ons.Message(topic, "T", "x"));
    assert.fail(`the send to ${topic} was accepted: ${r.sendStatus}`);
  } catch (e) {
    return e as Error;
  }
}

test("ali-ons with an account's rights: produce and consume its topic and group, retry included", async (t) => {
  const p = producerAs(APP, "PID_ACL_ORDERS", "aclApp");
  const c = consumer(cluster.namesrvAddr, "GID_ACL_ORDERS", "aclAppC", APP);
  t.after(() => closeClients(c, p));
  const seen: OnsMessage[] = [];
  let failedOnce = false;
  c.subscribe("AclOrders", "*", async (m) => {
    // The first delivery of order-3 fails: its retry goes through CONSUMER_SEND_MSG_BACK, the group's SUB right.
    if (m.body.toString() === "order-3" && !failedOnce) {
      failedOnce = true;
      throw new Error("fail once");
    }
    seen.push(m);
  });
  await p.ready();
  await c.ready();
  for (let i = 0; i < 5; i++) {
    const r = await p.send(new ons.Message("AclOrders", "T", `order-${i}`));
    assert.equal(r.sendStatus, "SEND_OK");
  }
  await until(() => seen.length >= 5, 20_000, "five orders consumed");
  assert.deepEqual(
    seen.map((m) => m.body.toString()).sort(),
    [0, 1, 2, 3, 4].map((i) => `order-${i}`),
  );
  const retried = seen.find((m) => m.body.toString() === "order-3");
  assert.equal(retried?.reconsumeTimes, 1, "order-3 came back once through the retry topic");
});

test("ali-ons: topics and groups outside an account's rights are refused with NO_PERMISSION", async (t) => {
  const p = producerAs(APP, "PID_ACL_DENIED", "aclDenied");
  t.after(() => closeClients(p));
  await p.ready();
  assert.equal((await p.send(new ons.Message("AclAudit", "T", "audit"))).sendStatus, "SEND_OK");
  const e = await sendError(p, "AclSecret");
  assert.match(e.message, /still failed/);
  assert.equal(stored("AclSecret"), 0, "the refused send was not stored");
  // AclAudit is PUB only: a consumer of it, even in a group the account may use, gets nothing.
  const c = consumer(cluster.namesrvAddr, "GID_ACL_ORDERS", "aclAuditC", APP);
  t.after(() => closeClients(c));
  const got: string[] = [];
  c.subscribe("AclAudit", "*", async (m) => {
    got.push(m.body.toString());
  });
  await c.ready();
  await sleep(3000);
  assert.deepEqual(got, [], "no message of a topic the account may not SUB");
  // The admin account may read it all.
  const admin = consumer(cluster.namesrvAddr, "GID_ACL_ADMIN", "aclAdminC", ADMIN);
  t.after(() => closeClients(admin));
  const adminGot: string[] = [];
  admin.subscribe("AclAudit", "*", async (m) => {
    adminGot.push(m.body.toString());
  });
  await admin.ready();
  await until(() => adminGot.includes("audit"), 20_000, "the admin consumer reads AclAudit");
});

test("ali-ons: a wrong secret, an unknown account and no account at all are refused; nothing is stored", async (t) => {
  const before = stored("AclOrders");
  const cases: Array<[string, object]> = [
    ["wrong secret", { accessKey: APP.accessKey, secretKey: "not-the-secret" }],
    ["unknown account", { accessKey: "Nobody", secretKey: "x" }],
    ["no account", {}],
  ];
  for (const [what, creds] of cases) {
    const p = producerAs(creds, `PID_ACL_${what.replace(/ /g, "_")}`, `acl${what.replace(/ /g, "")}`);
    t.after(() => closeClients(p));
    await p.ready();
    const e = await sendError(p, "AclOrders");
    assert.match(e.message, /still failed/, `${what}: ${e.message}`);
  }
  assert.equal(stored("AclOrders"), before, "no refused send was stored");
});
