// The admin API and the CLI's admin commands against a broker with real traffic: topics, group progress equal to
// the broker's own numbers, offset reset (refused for broadcasting groups), message lookup and trace, dead
// letters, backlog alarms firing and clearing (log, webhook, metric), and /metrics.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { AdminError, adminCommand } from "../../src/cli/admin.js";
import { Consumer, Action, MessageModel } from "../../src/client/consumer.js";
import { Producer } from "../../src/client/producer.js";
import { Message } from "../../src/client/message.js";
import { decodeRecord } from "../../src/common/message-record.js";
import { startCluster } from "../support/cluster-fixture.js";

async function cli(server: string, ...args: string[]): Promise<string> {
  const lines: string[] = [];
  const cmd = adminCommand((s) => lines.push(s));
  cmd.exitOverride();
  await cmd.parseAsync(["--server", server, ...args], { from: "user" });
  return lines.join("\n");
}

async function json<T = Record<string, unknown>>(server: string, ...args: string[]): Promise<T> {
  return JSON.parse(await cli(server, "--json", ...args)) as T;
}

async function until(cond: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test("admin API and CLI: topics, progress, lookup, trace, DLQ, offset reset, alarms and metrics", async (t) => {
  const hooks: { event: string; alarm: { rule: { group: string } } }[] = [];
  const webhook = createServer((req, res) => {
    let body = "";
    req.on("data", (d: Buffer) => (body += d.toString()));
    req.on("end", () => {
      hooks.push(JSON.parse(body) as (typeof hooks)[number]);
      res.end("ok");
    });
  });
  await new Promise<void>((r) => webhook.listen(0, "127.0.0.1", r));
  const hookUrl = `http://127.0.0.1:${(webhook.address() as AddressInfo).port}/hook`;
  const c = await startCluster({ alarmCheckIntervalMs: 100 }, { http: {}, alarmWebhook: hookUrl });
  const server = `http://127.0.0.1:${c.broker.server.httpPort}`;
  const broker = c.broker.server.broker;
  const producer = new Producer({ nameServer: c.namesrvAddr, groupId: "GID_OPS_P" });
  const consumers: Consumer[] = [];
  t.after(async () => {
    for (const x of consumers) await x.shutdown();
    await producer.shutdown();
    await c.stop();
    webhook.close();
  });

  // Topics.
  assert.match(await cli(server, "topic", "create", "OpsTopic", "--queues", "4"), /created OpsTopic/);
  const topics = await json<{ topics: { topicName: string; writeQueueNums: number }[] }>(
    server,
    "topic",
    "list",
  );
  assert.equal(topics.topics.find((x) => x.topicName === "OpsTopic")?.writeQueueNums, 4);
  assert.match(
    await cli(
      server,
      "topic",
      "create",
      "OpsPrio",
      "--queues",
      "8",
      "--attributes",
      "+message.type=PRIORITY",
    ),
    /created OpsPrio/,
  );
  const typed = await json<{ topics: { topicName: string; attributes: Record<string, string> }[] }>(
    server,
    "topic",
    "list",
  );
  assert.deepEqual(typed.topics.find((x) => x.topicName === "OpsPrio")?.attributes, {
    "message.type": "PRIORITY",
  });
  await assert.rejects(
    cli(server, "topic", "update", "OpsPrio", "--attributes", "+message.type=SOMETIMES"),
    /message.type SOMETIMES/,
  );
  // An update changes what it names and keeps the rest (it used to reset queues to 8 and perm to 6).
  await cli(server, "topic", "create", "OpsNarrow", "--queues", "2", "--perm", "4");
  await cli(server, "topic", "update", "OpsNarrow", "--attributes", "+message.type=FIFO");
  const narrow = (
    await json<{
      topics: { topicName: string; readQueueNums: number; writeQueueNums: number; perm: number }[];
    }>(server, "topic", "list")
  ).topics.find((x) => x.topicName === "OpsNarrow");
  assert.deepEqual([narrow?.readQueueNums, narrow?.writeQueueNums, narrow?.perm], [2, 2, 4]);
  await cli(server, "topic", "update", "OpsNarrow", "--write-queues", "1");
  const narrower = (
    await json<{
      topics: { topicName: string; readQueueNums: number; writeQueueNums: number; attributes: object }[];
    }>(server, "topic", "list")
  ).topics.find((x) => x.topicName === "OpsNarrow");
  assert.deepEqual(
    [narrower?.readQueueNums, narrower?.writeQueueNums, narrower?.attributes],
    [2, 1, { "message.type": "FIFO" }],
  );
  await producer.start();
  const ids: string[] = [];
  for (let i = 0; i < 20; i++) {
    const m = new Message("OpsTopic", "TagOps", `ops-${i}`);
    m.keys = [`key-${i}`];
    ids.push((await producer.send(m)).messageId);
  }
  const status = await json<{ queues: { maxOffset: number }[] }>(server, "topic", "status", "OpsTopic");
  assert.equal(
    status.queues.reduce((n, q) => n + q.maxOffset, 0),
    20,
  );
  assert.match(await cli(server, "topic", "status", "OpsTopic"), /queueId\s+minOffset\s+maxOffset/);

  // Lite subscriptions of a group's clients.
  broker.lite.sync({
    clientId: "lite-client-1",
    group: "GID_OPS_LITE",
    parentTopic: "OpsTopic",
    action: "COMPLETE_ADD",
    liteTopics: ["s-1", "s-2"],
  });
  const lite = await json<{ clients: { clientId: string; liteTopics: string[] }[] }>(
    server,
    "group",
    "lite",
    "GID_OPS_LITE",
  );
  assert.deepEqual(lite.clients, [
    { clientId: "lite-client-1", group: "GID_OPS_LITE", parentTopic: "OpsTopic", liteTopics: ["s-1", "s-2"] },
  ]);
  assert.match(await cli(server, "group", "lite", "GID_OPS_LITE"), /lite-client-1\s+OpsTopic\s+2\s+s-1,s-2/);

  // A group with offsets at 0: a backlog of 20, the same in the CLI as in the broker.
  for (let q = 0; q < 4; q++) broker.updateConsumerOffset("GID_LAG", "OpsTopic", q, 0);
  const progress = await json<{ backlog: number; queues: { backlog: number }[] }>(
    server,
    "group",
    "progress",
    "GID_LAG",
  );
  const brokerBacklog = broker
    .consumeStats("GID_LAG", "OpsTopic")
    .reduce((n, s) => n + s.brokerOffset - s.consumerOffset, 0);
  assert.equal(progress.backlog, 20);
  assert.equal(progress.backlog, brokerBacklog);
  assert.match(await cli(server, "group", "progress", "GID_LAG"), /backlog: 20/);

  // An alarm on it fires (webhook, list, metric) ...
  const addLagAlarm = () =>
    json<{ rule: { id: string } }>(server, "alarm", "add", "--group", "GID_LAG", "--max-backlog", "10");
  const added = await addLagAlarm();
  await until(() => hooks.some((h) => h.event === "fired"), 5000, "the fired webhook");
  assert.equal(hooks[0]?.alarm.rule.group, "GID_LAG");
  assert.match(await cli(server, "alarm", "list"), /FIRING/);
  const metrics1 = await (await fetch(`${server}/metrics`)).text();
  assert.match(metrics1, new RegExp(`rocketmq_alarm_firing\\{rule="${added.rule.id}",group="GID_LAG"\\} 1`));
  assert.match(metrics1, /rocketmq_group_backlog\{group="GID_LAG",topic="OpsTopic"\} 20/);
  assert.match(metrics1, /rocketmq_produced_messages_total\{topic="OpsTopic"\} 20/);
  assert.match(metrics1, /process_cpu_user_seconds_total/);
  assert.match(metrics1, /rocketmq_send_latency_seconds_count \d+/);

  // ... and clears once the group's offsets are reset to now.
  const reset = await json<{ offsets: Record<string, number> }>(
    server,
    "group",
    "reset-offset",
    "GID_LAG",
    "--topic",
    "OpsTopic",
    "--time",
    "now",
  );
  assert.equal(
    Object.values(reset.offsets).reduce((n, v) => n + v, 0),
    20,
  );
  await until(() => hooks.some((h) => h.event === "cleared"), 5000, "the cleared webhook");
  assert.match(await cli(server, "alarm", "list"), /\bok\b/);
  assert.match(await cli(server, "alarm", "remove", added.rule.id), /removed/);
  // A rule removed while it fires is cleared, or the receiver would keep the alarm open for good.
  await cli(server, "group", "reset-offset", "GID_LAG", "--topic", "OpsTopic", "--time", "1");
  const again = await addLagAlarm();
  const firedAgain = () => hooks.filter((h) => h.event === "fired").length === 2;
  await until(firedAgain, 5000, "the second fired webhook");
  await cli(server, "alarm", "remove", again.rule.id);
  await until(
    () => hooks.filter((h) => h.event === "cleared").length === 2,
    5000,
    "the cleared webhook on removal",
  );
  assert.deepEqual(
    hooks.map((h) => h.event),
    ["fired", "cleared", "fired", "cleared"],
  );
  // Numbers the broker cannot read are refused, not taken for 0 (the CLI: bad usage, exit 2).
  await assert.rejects(
    cli(server, "alarm", "add", "--group", "GID_LAG", "--max-backlog", "abc"),
    /must be a number/,
  );
  await assert.rejects(cli(server, "topic", "create", "OpsBadPerm", "--perm", "abc"), /must be a number/);
  const put = (body: object) =>
    fetch(`${server}/admin/groups/GID_LAG`, { method: "PUT", body: JSON.stringify(body) }).then(
      (r) => r.status,
    );
  assert.equal(await put({ retryMaxTimes: null }), 400);
  assert.equal(await put({ retryMaxTimes: -7 }), 400);
  assert.equal(await put({ fifo: "yes" }), 400);
  const perm99 = await fetch(`${server}/admin/topics`, {
    method: "POST",
    body: JSON.stringify({ topic: "OpsBadPerm", perm: 99 }),
  });
  assert.equal(perm99.status, 400);
  // System topics stay, and a reset of a group that does not exist is an error that creates nothing.
  await assert.rejects(cli(server, "topic", "delete", "SCHEDULE_TOPIC_XXXX"), /system topic/);
  await assert.rejects(
    cli(server, "group", "reset-offset", "GID_NOBODY", "--topic", "OpsTopic", "--time", "now"),
    /does not exist/,
  );
  assert.equal(c.broker.server.broker.groups.get("GID_NOBODY"), undefined);

  // A consuming group: lookup by key and id, and the trace shows it consumed.
  const done = new Set<string>();
  const consumer = new Consumer({ nameServer: c.namesrvAddr, groupId: "GID_OPS_C" });
  consumer.subscribe("OpsTopic", "*", async (m) => {
    done.add(m.body.toString());
    return Action.CommitMessage;
  });
  consumers.push(consumer);
  await consumer.start();
  await until(() => done.size === 20, 15_000, "consumption");
  const byKey = await json<{ messages: { msgId: string; body: string }[] }>(
    server,
    "message",
    "key",
    "OpsTopic",
    "key-7",
  );
  assert.deepEqual(
    byKey.messages.map((m) => m.body),
    ["ops-7"],
  );
  const byId = await json<{ messages: { keys: string[] }[] }>(
    server,
    "message",
    "id",
    ids[3]!,
    "--topic",
    "OpsTopic",
  );
  assert.deepEqual(byId.messages[0]?.keys, ["key-3"]);
  await assert.rejects(
    cli(server, "message", "id", "0A0000000000000000000000000000FF", "--topic", "OpsTopic"),
    (e) => e instanceof AdminError && e.exitCode === 1 && /MESSAGE_NOT_FOUND/.test(e.message),
  );
  const byTime = await json<{ messages: unknown[] }>(
    server,
    "message",
    "time",
    "OpsTopic",
    "--begin",
    String(Date.now() - 600_000),
  );
  assert.equal(byTime.messages.length, 20);
  await until(
    async () => {
      const tr = await json<{ events: { type: string; group?: string }[] }>(
        server,
        "message",
        "trace",
        ids[3]!,
        "--topic",
        "OpsTopic",
      );
      return tr.events.some((e) => e.type === "consumed" && e.group === "GID_OPS_C");
    },
    10_000,
    "the trace to show the consumption (offsets are committed every few hundred ms)",
  );
  const groups = await json<{ groups: { group: string; onlineClients: number }[] }>(server, "group", "list");
  assert.equal(groups.groups.find((g) => g.group === "GID_OPS_C")?.onlineClients, 1);
  const clients = await json<{ consistent: boolean; clients: { subscriptions: string[] }[] }>(
    server,
    "group",
    "clients",
    "GID_OPS_C",
  );
  assert.equal(clients.consistent, true);
  assert.deepEqual(clients.clients[0]?.subscriptions, ["%RETRY%GID_OPS_C TAG *", "OpsTopic TAG *"]);

  // Broadcasting groups keep offsets on the clients: a reset is refused with the reason.
  const bc = new Consumer({
    nameServer: c.namesrvAddr,
    groupId: "GID_OPS_BC",
    messageModel: MessageModel.BROADCASTING,
  });
  bc.subscribe("OpsTopic", "*", async () => Action.CommitMessage);
  consumers.push(bc);
  await bc.start();
  await until(
    () => broker.clients.consumers.has("GID_OPS_BC"),
    5000,
    "the broadcasting consumer's heartbeat",
  );
  await assert.rejects(
    cli(server, "group", "reset-offset", "GID_OPS_BC", "--topic", "OpsTopic", "--time", "now"),
    (e) => {
      assert.ok(e instanceof AdminError);
      assert.equal(e.exitCode, 1);
      assert.match(e.message, /BROADCASTING/);
      return true;
    },
  );

  // Dead letters: list and resend.
  const first = broker.store.getMessages("OpsTopic", 0, 0, 1);
  const rec = decodeRecord(first.messages[0]!);
  await broker.consumerSendMsgBack({ group: "GID_OPS_C", offset: rec.physicalOffset, delayLevel: -1 });
  const dl = await json<{ messages: { dlqOffset: number; body: string }[] }>(
    server,
    "dlq",
    "list",
    "GID_OPS_C",
  );
  assert.equal(dl.messages.length, 1);
  assert.equal(dl.messages[0]?.body, rec.body.toString());
  const stored = (topic: string) =>
    broker.store.queueIds(topic).reduce((n, q) => n + broker.getMaxOffset(topic, q), 0);
  const before = stored("OpsTopic");
  const retryBefore = stored("%RETRY%GID_OPS_C");
  assert.match(await cli(server, "dlq", "resend", "GID_OPS_C", "0"), /resent/);
  // Back to its group alone, through the group's retry topic; the topic's other groups do not get it again.
  assert.equal(stored("%RETRY%GID_OPS_C"), retryBefore + 1, "the dead letter is back for its group");
  assert.equal(stored("OpsTopic"), before);

  // Errors: unknown topic (exit 1), unreachable broker (exit 3); delete works.
  await assert.rejects(
    cli(server, "topic", "status", "NoSuchTopic"),
    (e) => e instanceof AdminError && e.exitCode === 1,
  );
  await assert.rejects(
    cli("http://127.0.0.1:1", "broker"),
    (e) => e instanceof AdminError && e.exitCode === 3,
  );
  const b = await json<{ produced: number; connections: Record<string, number> }>(server, "broker");
  assert.ok(b.produced >= 21);
  assert.ok((b.connections["remoting"] ?? 0) >= 1);
  assert.match(await cli(server, "cluster"), /DefaultCluster/);
  assert.match(await cli(server, "topic", "delete", "OpsTopic"), /deleted OpsTopic/);
});

test("admin token: /admin refuses requests without the bearer token; the CLI passes --token", async (t) => {
  const c = await startCluster({}, { http: { adminToken: "s3cret" } });
  t.after(() => c.stop());
  const server = `http://127.0.0.1:${c.broker.server.httpPort}`;
  const none = await fetch(`${server}/admin/topics`);
  assert.equal(none.status, 401);
  assert.match(none.headers.get("www-authenticate") ?? "", /Bearer/);
  assert.equal(((await none.json()) as { error: { code: string } }).error.code, "UNAUTHORIZED");
  const wrong = await fetch(`${server}/admin/topics`, { headers: { authorization: "Bearer nope" } });
  assert.equal(wrong.status, 401);
  const ok = await fetch(`${server}/admin/topics`, { headers: { authorization: "Bearer s3cret" } });
  assert.equal(ok.status, 200);
  // Mutations too: a topic is not created without the token, and is with it.
  const create = (headers: Record<string, string>) =>
    fetch(`${server}/admin/topics`, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify({ topic: "TokenTopic" }),
    });
  assert.equal((await create({})).status, 401);
  assert.equal(c.broker.server.broker.topics.get("TokenTopic"), undefined);
  await assert.rejects(
    cli(server, "topic", "list"),
    (e: unknown) => e instanceof AdminError && /401|UNAUTHORIZED/.test(e.message),
  );
  const out = await cli(server, "--token", "s3cret", "topic", "create", "TokenTopic");
  assert.ok(out.length > 0);
  assert.ok(c.broker.server.broker.topics.get("TokenTopic"));
  // Prometheus scrapes stay open.
  assert.equal((await fetch(`${server}/metrics`)).status, 200);
});

test("admin acl: the accounts in force with their rights, never their secrets", async (t) => {
  const c = await startCluster(
    {
      acl: {
        accounts: [
          { accessKey: "opsAdmin", secretKey: "ops-admin-secret", admin: true },
          {
            accessKey: "opsApp",
            secretKey: "ops-app-secret",
            topicPerms: ["Orders=PUB|SUB"],
            defaultGroupPerm: "SUB",
            whiteRemoteAddress: "10.0.0.*",
          },
        ],
        globalWhiteRemoteAddresses: ["192.168.1.*"],
      },
    },
    { http: {} },
  );
  t.after(() => c.stop());
  const server = `http://127.0.0.1:${c.broker.server.httpPort}`;
  const raw = await cli(server, "--json", "acl");
  assert.ok(!raw.includes("secret"), "no secret key is shown");
  const d = JSON.parse(raw) as { enabled: boolean; accounts: Array<Record<string, unknown>> };
  assert.equal(d.enabled, true);
  assert.deepEqual(
    d.accounts.map((a) => [a["accessKey"], a["admin"]]),
    [
      ["opsAdmin", true],
      ["opsApp", false],
    ],
  );
  const text = await cli(server, "acl");
  assert.match(text, /global white list: 192\.168\.1\.\*; stateful authentication: off/);
  assert.match(text, /opsApp\s+no\s+Orders=PUB\|SUB \(default DENY\)\s+- \(default SUB\)\s+10\.0\.0\.\*/);

  const open = await startCluster({}, { http: {} });
  t.after(() => open.stop());
  assert.match(await cli(`http://127.0.0.1:${open.broker.server.httpPort}`, "acl"), /access control is off/);
});

test("the admin CLI's exit codes: 0 for help, 2 for bad usage, 3 for a broker it cannot reach", async () => {
  const main = new URL("../../src/cli/main.js", import.meta.url).pathname;
  const run = (...args: string[]) =>
    new Promise<number>((resolve) => {
      const child = execFile(process.execPath, [main, "admin", ...args], () => undefined);
      child.on("exit", (code) => resolve(code ?? -1));
    });
  assert.equal(await run("--help"), 0);
  assert.equal(await run("no-such-command"), 2);
  assert.equal(await run("topic", "create"), 2, "a missing argument");
  assert.equal(await run("topic", "create", "T", "--perm", "abc"), 2, "a number that is not one");
  assert.equal(await run("--server", "http://127.0.0.1:1", "topic", "list"), 3);
});
