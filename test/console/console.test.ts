// The web console end to end in real Chromium (Debian's, driven by playwright-core) against an in-process broker
// with real traffic: every page loads, the numbers it shows equal the admin API's, a topic created and a test
// message sent from the UI are seen by the API, a dead letter resent from the UI is back in its topic, and an
// alarm added from the UI fires and clears. A screenshot of each page is kept under test-artifacts/console/.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { chromium } from "playwright-core";
import type { Browser, Locator, Page } from "playwright-core";
import { Consumer, Action } from "../../src/client/consumer.js";
import { Producer } from "../../src/client/producer.js";
import { Message } from "../../src/client/message.js";
import { decodeRecord } from "../../src/common/message-record.js";
import { startCluster } from "../support/cluster-fixture.js";

const CHROMIUM = process.env["CHROMIUM_PATH"] ?? "/usr/bin/chromium";
const ARTIFACTS = resolve(process.env["CONSOLE_ARTIFACTS"] ?? join("test-artifacts", "console"));
const WAIT_MS = 30_000;
const TOPIC = "ConsoleTopic";
const LAG = "GID_CONSOLE_LAG";
const CONSUMER = "GID_CONSOLE_C";
const MIXED = "GID_CONSOLE_MIXED";

async function until(cond: () => boolean | Promise<boolean>, what: string, ms = WAIT_MS): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Debian's Chromium, headless (no sandbox: CI runs as root). */
function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox"] });
}

async function text(l: Locator): Promise<string> {
  return ((await l.textContent({ timeout: WAIT_MS })) ?? "").trim();
}

/** Waits until the element shows what the admin API says (both read again on every try). */
async function sameAsApi(l: Locator, fromApi: () => Promise<unknown>, what: string): Promise<string> {
  let shown = "";
  let expected = "";
  try {
    await until(async () => {
      expected = String(await fromApi());
      shown = (await l.count()) > 0 ? ((await l.first().textContent()) ?? "").trim() : "<absent>";
      return shown === expected;
    }, what);
  } catch {
    assert.equal(shown, expected, `${what}: the console shows what the admin API says`);
  }
  return shown;
}

test(
  "web console in Chromium: every page, numbers equal the admin API, create, send, resend, alarms",
  {
    timeout: 300_000,
  },
  async (t) => {
    assert.ok(
      existsSync(CHROMIUM),
      `no browser at ${CHROMIUM}: install Debian's chromium (apt-get install -y chromium) or set CHROMIUM_PATH`,
    );
    mkdirSync(ARTIFACTS, { recursive: true });
    const c = await startCluster({ alarmCheckIntervalMs: 200 }, { http: {} });
    const base = `http://127.0.0.1:${c.broker.server.httpPort}`;
    const broker = c.broker.server.broker;
    const get = async <T = Record<string, unknown>>(path: string): Promise<T> => {
      const r = await fetch(base + path);
      assert.ok(r.ok, `GET ${path}: ${r.status}`);
      return (await r.json()) as T;
    };
    const producer = new Producer({ nameServer: c.namesrvAddr, groupId: "GID_CONSOLE_P" });
    const consumer = new Consumer({ nameServer: c.namesrvAddr, groupId: CONSUMER });
    const others: Consumer[] = [];
    const browser = await launchChromium();
    t.after(async () => {
      await browser.close();
      for (const x of others) await x.shutdown();
      await consumer.shutdown();
      await producer.shutdown();
      await c.stop();
    });

    // Real traffic: a topic of 4 queues, 24 messages with keys, one consuming group online, one lagging group.
    const created = await fetch(`${base}/admin/topics`, {
      method: "POST",
      body: JSON.stringify({ topic: TOPIC, queues: 4 }),
    });
    assert.equal(created.status, 200);
    await producer.start();
    const ids: string[] = [];
    for (let i = 0; i < 24; i++) {
      const m = new Message(TOPIC, i % 2 ? "TagB" : "TagA", `console-${i}`);
      m.keys = [`key-${i}`];
      m.properties = { n: String(i) };
      ids.push((await producer.send(m)).messageId);
    }
    const consumed = new Set<string>();
    consumer.subscribe(TOPIC, "*", async (m) => {
      consumed.add(m.body.toString());
      return Action.CommitMessage;
    });
    await consumer.start();
    await until(() => consumed.size === 24, "the consumer to take every message");
    for (let q = 0; q < 4; q++) broker.updateConsumerOffset(LAG, TOPIC, q, 0);

    const page: Page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
    const pageErrors: string[] = [];
    page.on("pageerror", (e) => pageErrors.push(e.message));
    const shots: string[] = [];
    const shot = async (name: string) => {
      const path = join(ARTIFACTS, `${name}.png`);
      await page.screenshot({ path, fullPage: true });
      shots.push(path);
    };
    const row = (testId: string, attrs: Record<string, string | number>) =>
      page.locator(
        `[data-testid="${testId}"]` +
          Object.entries(attrs)
            .map(([k, v]) => `[data-${k}="${v}"]`)
            .join(""),
      );
    const cell = (r: Locator, testId: string) => r.locator(`[data-testid="${testId}"]`);

    await t.test(
      "static files: /console with or without a slash, deep links, assets, no escape",
      async () => {
        const index = await fetch(`${base}/console`);
        assert.equal(index.status, 200);
        assert.match(index.headers.get("content-type") ?? "", /^text\/html/);
        const html = await index.text();
        const asset = /src="(\/console\/assets\/[^"]+\.js)"/.exec(html)?.[1];
        assert.ok(asset, "index.html loads a bundled script from /console/assets/");
        assert.doesNotMatch(html, /https?:\/\//, "nothing is loaded from elsewhere");
        for (const path of ["/console/", "/console/groups/GID_X", "/console/..%2f..%2fpackage.json"]) {
          const r = await fetch(base + path);
          assert.equal(r.status, 200, path);
          assert.equal(await r.text(), html, `${path} serves index.html`);
        }
        const js = await fetch(base + asset);
        assert.equal(js.status, 200);
        assert.match(js.headers.get("content-type") ?? "", /javascript/);
        assert.match(js.headers.get("cache-control") ?? "", /immutable/);
        assert.equal((await fetch(`${base}/console/assets/missing.js`)).status, 404);
      },
    );

    await t.test("overview: broker, counts and live rate charts", async () => {
      // No trailing slash: the console still loads.
      await page.goto(`${base}/console`);
      type BrokerStatus = { name: string; addr: string; topics: number; groups: number; produced: number };
      await sameAsApi(
        page.getByTestId("broker-name"),
        async () => (await get<BrokerStatus>("/admin/broker")).name,
        "broker name",
      );
      await sameAsApi(
        page.getByTestId("broker-addr"),
        async () => (await get<BrokerStatus>("/admin/broker")).addr,
        "broker address",
      );
      await sameAsApi(
        page.getByTestId("broker-role"),
        async () => (await get<{ replication: { role: string } }>("/admin/broker")).replication.role,
        "broker role",
      );
      await sameAsApi(
        page.getByTestId("stat-topics"),
        async () => (await get<BrokerStatus>("/admin/broker")).topics,
        "topic count",
      );
      await sameAsApi(
        page.getByTestId("stat-groups"),
        async () => (await get<BrokerStatus>("/admin/broker")).groups,
        "group count",
      );
      await sameAsApi(
        page.getByTestId("stat-produced"),
        async () => (await get<BrokerStatus>("/admin/broker")).produced,
        "messages produced",
      );
      const cluster = await get<{ brokers: { addr: string }[] }>("/admin/cluster");
      await until(
        async () => (await page.getByTestId("cluster-row").count()) === cluster.brokers.length,
        "cluster rows",
      );
      assert.match(
        await text(page.getByTestId("cluster-row").first()),
        new RegExp(c.brokerAddr.replace(/\./g, "\\.")),
      );
      // The rates chart is live: it gains points as /admin/rates is polled, and the topic's rate row shows up.
      const chart = page.locator('[data-testid="chart-rates"] .chart-box');
      await until(
        async () => Number(await chart.getAttribute("data-points")) >= 3,
        "three rate samples on the chart",
      );
      assert.equal(await page.locator('[data-testid="chart-rates"] canvas').count(), 1);
      await until(
        async () => (await text(page.getByTestId("produce-rates"))).includes(TOPIC),
        "the topic's produce rate row",
      );
      await until(
        async () => (await text(page.getByTestId("consume-rates"))).includes(CONSUMER),
        "the group's consume rate row",
      );
      await shot("overview");
    });

    await t.test(
      "topics: list, create from the UI, status per queue, route, send a test message",
      async () => {
        await page.goto(`${base}/console/#/topics`);
        type Topics = { topics: { topicName: string; messages: number; writeQueueNums: number }[] };
        await sameAsApi(
          cell(row("topic-row", { topic: TOPIC }), "topic-messages"),
          async () =>
            (await get<Topics>("/admin/topics")).topics.find((x) => x.topicName === TOPIC)?.messages,
          "the topic's message count",
        );
        await page.locator("#new-topic-name").fill("UiTopic");
        await page.locator("#new-topic-queues").fill("3");
        await page.locator("#create-topic-submit").click();
        await until(
          async () => (await text(page.getByTestId("create-topic-result"))) === "created UiTopic",
          "the create result",
        );
        const after = await get<Topics>("/admin/topics");
        assert.equal(
          after.topics.find((x) => x.topicName === "UiTopic")?.writeQueueNums,
          3,
          "the API sees the UI's topic",
        );
        await until(
          async () => (await row("topic-row", { topic: "UiTopic" }).count()) === 1,
          "the new topic in the list",
        );
        await shot("topics");

        // A deep link (a path under /console plus a hash route) loads the app on that topic.
        await page.goto(`${base}/console/topics/${TOPIC}#/topics/${TOPIC}`);
        assert.equal(await text(page.getByTestId("topic-name")), TOPIC);
        type Status = { queues: { queueId: number; minOffset: number; maxOffset: number }[] };
        const status = await get<Status>(`/admin/topics/${TOPIC}/status`);
        assert.equal(status.queues.length, 4);
        for (const q of status.queues) {
          await sameAsApi(
            cell(row("queue-row", { queue: q.queueId }), "queue-max"),
            async () => (await get<Status>(`/admin/topics/${TOPIC}/status`)).queues[q.queueId]?.maxOffset,
            `max offset of queue ${q.queueId}`,
          );
        }
        const route = await get<{ local: { writeQueueNums: number; addr: string } }>(
          `/admin/topics/${TOPIC}/route`,
        );
        const local = await text(row("route-row", { source: "this broker" }));
        assert.ok(local.includes(route.local.addr), `route shows ${route.local.addr}: ${local}`);

        await page.locator("#send-tag").fill("TagUi");
        await page.locator("#send-keys").fill("ui-key");
        await page.locator("#send-body").fill("sent from the console");
        await page.locator("#send-submit").click();
        const msgId = await text(page.getByTestId("sent-msgId"));
        const found = await get<{ messages: { body: string; tags: string; offsetMsgId: string }[] }>(
          `/admin/messages?topic=${TOPIC}&key=ui-key`,
        );
        assert.deepEqual(
          found.messages.map((m) => [m.body, m.tags, m.offsetMsgId]),
          [["sent from the console", "TagUi", msgId]],
        );
        await sameAsApi(
          page.getByTestId("topic-total"),
          async () =>
            (await get<Status>(`/admin/topics/${TOPIC}/status`)).queues.reduce(
              (n, q) => n + q.maxOffset - q.minOffset,
              0,
            ),
          "the topic's total after the test message",
        );
        assert.equal(await text(page.getByTestId("topic-total")), "25");
        await shot("topic-detail");
      },
    );

    await t.test("groups: list, backlog per queue and its chart, subscriptions, clients, mode", async () => {
      type Groups = { groups: { group: string; backlog: number; onlineClients: number }[] };
      await page.goto(`${base}/console/#/groups`);
      await sameAsApi(
        cell(row("group-row", { group: LAG }), "group-backlog"),
        async () => (await get<Groups>("/admin/groups")).groups.find((g) => g.group === LAG)?.backlog,
        "the lagging group's backlog in the list",
      );
      await sameAsApi(
        cell(row("group-row", { group: CONSUMER }), "group-clients"),
        async () =>
          (await get<Groups>("/admin/groups")).groups.find((g) => g.group === CONSUMER)?.onlineClients,
        "the consuming group's online clients",
      );
      await shot("groups");

      type Progress = {
        backlog: number;
        queues: { topic: string; queueId: number; backlog: number; consumerOffset: number }[];
      };
      await page.goto(`${base}/console/#/groups/${LAG}`);
      const total = await sameAsApi(
        page.getByTestId("group-total-backlog"),
        async () => (await get<Progress>(`/admin/groups/${LAG}/progress`)).backlog,
        "the group's backlog",
      );
      assert.equal(total, "25", "24 from the SDK and 1 from the UI");
      const progress = await get<Progress>(`/admin/groups/${LAG}/progress`);
      assert.equal(progress.queues.length, 4);
      for (const q of progress.queues) {
        const r = row("progress-row", { topic: q.topic, queue: q.queueId });
        assert.equal(
          await text(cell(r, "progress-backlog")),
          String(q.backlog),
          `backlog of queue ${q.queueId}`,
        );
        assert.equal(await text(cell(r, "progress-consumer-offset")), "0");
      }
      const chart = page.locator('[data-testid="chart-backlog"] .chart-box');
      await until(
        async () => Number(await chart.getAttribute("data-points")) >= 2,
        "two backlog samples on the chart",
      );
      await shot("group-lagging");

      await page.goto(`${base}/console/#/groups/${CONSUMER}`);
      const clients = await get<{ messageModel: string; consistent: boolean; clients: unknown[] }>(
        `/admin/groups/${CONSUMER}/clients`,
      );
      await until(
        async () => (await text(page.getByTestId("group-mode"))) === clients.messageModel,
        "the consumption mode",
      );
      assert.equal(clients.messageModel, "CLUSTERING");
      assert.equal(
        await page.getByTestId("subscription-consistency").getAttribute("data-consistent"),
        String(clients.consistent),
      );
      assert.equal(clients.consistent, true);
      assert.equal(await page.getByTestId("client-row").count(), clients.clients.length);
      assert.equal(clients.clients.length, 1);
      assert.ok((await text(page.getByTestId("group-subscriptions"))).includes(TOPIC));
      await shot("group-consuming");

      // Two clients of one group subscribing differently: the console says so, as the API does.
      for (const tag of ["TagA", "TagB"]) {
        const x = new Consumer({ nameServer: c.namesrvAddr, groupId: MIXED });
        x.subscribe(TOPIC, tag, async () => Action.CommitMessage);
        others.push(x);
        await x.start();
      }
      type Clients = { consistent: boolean; clients: unknown[] };
      await until(
        async () => (await get<Clients>(`/admin/groups/${MIXED}/clients`)).clients.length === 2,
        "both clients' heartbeats",
      );
      assert.equal((await get<Clients>(`/admin/groups/${MIXED}/clients`)).consistent, false);
      await page.goto(`${base}/console/#/groups/${MIXED}`);
      await until(async () => (await page.getByTestId("client-row").count()) === 2, "two clients shown");
      const consistency = page.getByTestId("subscription-consistency");
      await until(
        async () => (await consistency.getAttribute("data-consistent")) === "false",
        "the inconsistency",
      );
      assert.match(await text(consistency), /^Inconsistent/);
      await shot("group-inconsistent");
    });

    await t.test("messages: by id with body, properties and trace; by key; by time range", async () => {
      await page.goto(`${base}/console/#/messages`);
      await page.locator("#msg-topic").fill(TOPIC);
      await page.locator("#msg-id").fill(ids[5]!);
      await page.locator("#msg-search").click();
      assert.equal(await text(page.getByTestId("message-body")), "console-5");
      assert.equal(await text(page.getByTestId("prop-KEYS")), "key-5");
      assert.equal(await text(page.getByTestId("prop-n")), "5");
      await until(async () => (await row("trace-row", { type: "stored" }).count()) === 1, "the stored event");
      await until(
        async () => (await row("trace-row", { type: "consumed", group: CONSUMER }).count()) === 1,
        "the consumed event of the consuming group",
      );
      const trace = await get<{ events: { type: string }[] }>(
        `/admin/messages/trace?id=${ids[5]}&topic=${TOPIC}`,
      );
      assert.equal(await page.getByTestId("trace-row").count(), trace.events.length);
      await shot("messages-by-id");

      await page.locator("#mode-key").click();
      await page.locator("#msg-key").fill("key-7");
      await page.locator("#msg-search").click();
      await until(
        async () => (await text(page.getByTestId("message-body"))) === "console-7",
        "the message by key",
      );
      assert.equal(await text(page.getByTestId("message-count")), "1 message");

      await page.locator("#mode-time").click();
      await page.locator("#msg-search").click();
      const inRange = await get<{ messages: unknown[] }>(
        `/admin/messages?topic=${TOPIC}&begin=${Date.now() - 3600_000}&end=${Date.now() + 60_000}&max=200`,
      );
      await until(
        async () => (await text(page.getByTestId("message-count"))) === `${inRange.messages.length} messages`,
        "the time range's count",
      );
      assert.equal(await page.getByTestId("message-row").count(), 25);
      await shot("messages-by-time");
    });

    await t.test("dead letters: list and resend from the UI", async () => {
      const first = broker.store.getMessages(TOPIC, 0, 0, 1);
      const rec = decodeRecord(first.messages[0]!);
      await broker.consumerSendMsgBack({ group: CONSUMER, offset: rec.physicalOffset, delayLevel: -1 });
      const key = (await get<{ messages: { keys: string[] }[] }>(`/admin/dlq/${CONSUMER}`)).messages[0]
        ?.keys[0];
      assert.ok(key, "the dead letter keeps its key");
      // The groups with dead letters, as many as their %DLQ% topic holds; one leads to the group's list.
      await page.goto(`${base}/console/#/dlq`);
      type Topics = { topics: { topicName: string; messages: number }[] };
      const dlqGroup = row("dlq-group-row", { group: CONSUMER });
      await sameAsApi(
        cell(dlqGroup, "dlq-group-count"),
        async () =>
          (await get<Topics>("/admin/topics?system=true")).topics.find(
            (x) => x.topicName === `%DLQ%${CONSUMER}`,
          )?.messages,
        "the group's dead-letter count",
      );
      await dlqGroup.locator("a").click();
      await until(async () => (await page.getByTestId("dlq-row").count()) === 1, "one dead letter");
      assert.equal(await page.locator("#dlq-group").inputValue(), CONSUMER);
      assert.equal(await text(page.getByTestId("dlq-body")), rec.body.toString());
      await shot("dead-letters");

      // Back to its group alone, through the group's retry topic.
      type Status = { queues: { maxOffset: number }[] };
      const retry = `%RETRY%${CONSUMER}`;
      const sum = async (topic: string) =>
        (await get<Status>(`/admin/topics/${encodeURIComponent(topic)}/status`)).queues.reduce(
          (n, q) => n + q.maxOffset,
          0,
        );
      const before = await sum(retry);
      await page.getByTestId("dlq-resend").click();
      assert.match(
        await text(page.getByTestId("dlq-resent")),
        new RegExp(`resent dead letter 0 to ${retry}`),
      );
      assert.equal(await sum(retry), before + 1, "the dead letter is back for its group");
      const copies = await get<{ messages: { body: string }[] }>(
        `/admin/messages?topic=${encodeURIComponent(retry)}&key=${key}`,
      );
      assert.deepEqual(
        copies.messages.map((m) => m.body),
        [rec.body.toString()],
      );
      await shot("dead-letters-resent");
    });

    await t.test(
      "alarms: a rule added from the UI fires on a backlog and clears after an offset reset",
      async () => {
        type Alarms = {
          alarms: { rule: { id: string; group: string }; firing: boolean; value: { backlog: number } }[];
        };
        await page.goto(`${base}/console/#/alarms`);
        await page.locator("#alarm-group").fill(LAG);
        await page.locator("#alarm-max-backlog").fill("10");
        await page.locator("#alarm-add").click();
        const mine = row("alarm-row", { group: LAG });
        await until(
          async () => (await mine.getAttribute("data-state", { timeout: WAIT_MS })) === "firing",
          "the alarm to fire",
        );
        assert.equal(await text(cell(mine, "alarm-state")), "FIRING");
        const api = await get<Alarms>("/admin/alarms");
        assert.equal(api.alarms.length, 1);
        assert.equal(api.alarms[0]?.firing, true);
        assert.equal(api.alarms[0]?.rule.group, LAG);
        await sameAsApi(
          cell(mine, "alarm-backlog"),
          async () => (await get<Alarms>("/admin/alarms")).alarms[0]?.value.backlog,
          "the alarm's backlog",
        );
        assert.equal(await page.getByTestId("alarms-firing").getAttribute("data-count"), "1");
        await shot("alarms-firing");

        // Reset the group's offsets to now from its page: its backlog drops to 0 ...
        await page.goto(`${base}/console/#/groups/${LAG}`);
        await until(
          async () => (await page.locator("#reset-topic option").count()) === 1,
          "the topic to reset",
        );
        await page.locator("#reset-submit").click();
        assert.match(await text(page.getByTestId("reset-result")), /offsets now/);
        await until(
          async () => (await text(page.getByTestId("group-total-backlog"))) === "0",
          "the backlog to drop to 0",
        );
        assert.equal((await get<{ backlog: number }>(`/admin/groups/${LAG}/progress`)).backlog, 0);
        await shot("group-after-reset");

        // ... and the alarm clears.
        await page.goto(`${base}/console/#/alarms`);
        await until(
          async () => (await mine.getAttribute("data-state", { timeout: WAIT_MS })) === "ok",
          "the alarm to clear",
        );
        assert.equal((await get<Alarms>("/admin/alarms")).alarms[0]?.firing, false);
        assert.equal(await text(page.getByTestId("alarms-firing")), "nothing firing");
        await shot("alarms-cleared");

        await cell(mine, "alarm-remove").click();
        await until(async () => (await page.getByTestId("alarm-row").count()) === 0, "the rule to go");
        assert.equal((await get<Alarms>("/admin/alarms")).alarms.length, 0);
      },
    );

    assert.deepEqual(pageErrors, [], "no script errors in the pages");
    for (const s of shots) console.log(`screenshot: ${s}`);
    assert.equal(shots.length, 14);
  },
);

test(
  "web console with --admin-token: asks for the token once, then shows the broker",
  { timeout: 120_000 },
  async (t) => {
    assert.ok(existsSync(CHROMIUM), `no browser at ${CHROMIUM}`);
    const c = await startCluster({}, { http: { adminToken: "console-s3cret" } });
    const base = `http://127.0.0.1:${c.broker.server.httpPort}`;
    const browser = await launchChromium();
    t.after(async () => {
      await browser.close();
      await c.stop();
    });
    const page: Page = await browser.newPage();
    const prompts: string[] = [];
    page.on("dialog", (d) => {
      prompts.push(d.message());
      void d.accept(prompts.length === 1 ? "wrong-token" : "console-s3cret");
    });
    await page.goto(`${base}/console`);
    // The first answer is wrong: the console asks again, and the right one shows the broker.
    assert.equal(await text(page.getByTestId("broker-name")), c.broker.server.broker.config.brokerName);
    assert.ok(prompts.length >= 2, `asked ${prompts.length} times`);
    assert.match(prompts[0]!, /token/);
    assert.equal(await page.evaluate("localStorage.getItem('rocketmq-ts-admin-token')"), "console-s3cret");
    // Reloaded, it uses the kept token without asking.
    const asked = prompts.length;
    await page.reload();
    assert.equal(await text(page.getByTestId("broker-name")), c.broker.server.broker.config.brokerName);
    assert.equal(prompts.length, asked, "no new prompt after a reload");
  },
);
