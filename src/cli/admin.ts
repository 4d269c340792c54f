// `rocketmq-ts admin ...`: the operator's commands, as calls to the broker's JSON admin API on its HTTP port.
// Human tables by default, --json for scripts. Exit codes: 0 done, 1 the broker refused (its error code and
// message are printed), 2 bad usage, 3 the broker could not be reached.
import { Command } from "commander";
import { table, when } from "./table.js";

export class AdminError extends Error {
  constructor(
    readonly exitCode: number,
    message: string,
  ) {
    super(message);
  }
}

/** A numeric option as typed; a typo is bad usage (exit 2), not a NaN the broker would read as 0. */
function numberOption(v: string | undefined, name: string): number {
  const n = v !== undefined && /^-?\d+(\.\d+)?$/.test(v.trim()) ? Number(v) : NaN;
  if (!Number.isFinite(n)) throw new AdminError(2, `${name} must be a number, got "${v}"`);
  return n;
}

interface Ctx {
  server: string;
  /** Bearer token for a broker started with --admin-token. */
  token: string | undefined;
  json: boolean;
  out: (s: string) => void;
}

async function call(
  ctx: Ctx,
  method: string,
  path: string,
  body?: unknown,
): Promise<Record<string, unknown>> {
  let res: Response;
  try {
    const headers: Record<string, string> = {};
    if (body !== undefined) headers["content-type"] = "application/json";
    if (ctx.token) headers["authorization"] = `Bearer ${ctx.token}`;
    res = await fetch(`${ctx.server.replace(/\/+$/, "")}${path}`, {
      method,
      headers,
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      signal: AbortSignal.timeout(15_000),
    });
  } catch (e) {
    throw new AdminError(3, `cannot reach the broker at ${ctx.server}: ${(e as Error).message}`);
  }
  const text = await res.text();
  let data: Record<string, unknown>;
  try {
    data = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new AdminError(1, `${method} ${path}: HTTP ${res.status}: ${text.slice(0, 200)}`);
  }
  if (!res.ok) {
    const err = data["error"] as { code?: string; message?: string } | undefined;
    throw new AdminError(1, `${err?.code ?? res.status}: ${err?.message ?? text}`);
  }
  return data;
}

/** A time given as ms since the epoch, an ISO date, or "now". */
function parseTime(s: string): number {
  if (s === "now") return Date.now();
  if (/^\d+$/.test(s)) return Number(s);
  const t = Date.parse(s);
  if (Number.isNaN(t)) throw new AdminError(2, `cannot read the time "${s}" (ms, ISO date or "now")`);
  return t;
}

const enc = encodeURIComponent;

export function adminCommand(out: (s: string) => void = (s) => console.log(s)): Command {
  const admin = new Command("admin")
    .description("operate a running broker through its admin API")
    .option(
      "--server <url>",
      "the broker's HTTP endpoint",
      process.env["ROCKETMQ_TS_ADMIN"] ?? "http://127.0.0.1:8080",
    )
    .option(
      "--token <token>",
      "the broker's --admin-token (default: ROCKETMQ_TS_ADMIN_TOKEN)",
      process.env["ROCKETMQ_TS_ADMIN_TOKEN"],
    )
    .option("--json", "print JSON instead of tables");
  const ctx = (): Ctx => {
    const o = admin.opts<{ server: string; token?: string; json?: boolean }>();
    return { server: o.server, token: o.token, json: o.json === true, out };
  };
  /** Prints JSON or the human form. */
  const show = (c: Ctx, data: unknown, human: () => string) =>
    c.out(c.json ? JSON.stringify(data, null, 2) : human());

  admin
    .command("cluster")
    .description("brokers known to the NameServers")
    .action(async () => {
      const c = ctx();
      const d = await call(c, "GET", "/admin/cluster");
      show(c, d, () => table(d["brokers"] as Record<string, unknown>[], ["cluster", "name", "id", "addr"]));
    });
  admin
    .command("acl")
    .description("the access control in force: accounts (without secrets), rights, white lists")
    .action(async () => {
      const c = ctx();
      const d = await call(c, "GET", "/admin/acl");
      show(c, d, () => {
        if (!d["enabled"]) return "access control is off (no accounts)\n";
        const accounts = d["accounts"] as Array<Record<string, unknown>>;
        const list = (v: unknown) => (Array.isArray(v) && v.length > 0 ? v.join(" ") : "-");
        const head = `global white list: ${list(d["globalWhiteRemoteAddresses"])}; stateful authentication: ${d["statefulAuthentication"] ? "on" : "off"}\n`;
        return (
          head +
          table(
            accounts.map((a) => ({
              accessKey: a["accessKey"],
              admin: a["admin"] ? "yes" : "no",
              topics: `${list(a["topicPerms"])} (default ${a["defaultTopicPerm"] ?? "DENY"})`,
              groups: `${list(a["groupPerms"])} (default ${a["defaultGroupPerm"] ?? "DENY"})`,
              white: a["whiteRemoteAddress"] ?? "-",
            })),
            ["accessKey", "admin", "topics", "groups", "white"],
          )
        );
      });
    });
  admin
    .command("broker")
    .description("this broker's status")
    .action(async () => {
      const c = ctx();
      const d = await call(c, "GET", "/admin/broker");
      const store = d["store"] as Record<string, unknown>;
      show(c, d, () =>
        table(
          [
            { field: "broker", value: `${d["name"]} (${d["cluster"]}, id ${d["id"]}) ${d["addr"]}` },
            { field: "up since", value: when(d["startedAt"]) },
            { field: "produced", value: d["produced"] },
            { field: "consumed", value: d["consumed"] },
            { field: "commit log bytes", value: store["commitLogBytes"] },
            { field: "disk used", value: `${Math.round(Number(store["diskUsedRatio"]) * 100)} %` },
            { field: "timers pending", value: d["timersPending"] },
            { field: "half messages pending", value: d["halfMessagesPending"] },
            { field: "connections", value: JSON.stringify(d["connections"]) },
            { field: "topics / groups", value: `${d["topics"]} / ${d["groups"]}` },
            { field: "replication", value: replicationLine(d["replication"] as Record<string, unknown>) },
            { field: "access control", value: aclLine(d["accessControl"] as Record<string, unknown>) },
            { field: "TLS", value: String(d["tlsMode"] ?? "") },
          ],
          ["field", "value"],
        ),
      );
    });

  const topic = admin.command("topic").description("topics");
  topic
    .command("list")
    .option("--system", "include system topics")
    .action(async (o: { system?: boolean }) => {
      const c = ctx();
      const d = await call(c, "GET", `/admin/topics${o.system ? "?system=true" : ""}`);
      show(c, d, () =>
        table(d["topics"] as Record<string, unknown>[], [
          "topicName",
          "readQueueNums",
          "writeQueueNums",
          "perm",
          "messages",
        ]),
      );
    });
  for (const verb of ["create", "update"]) {
    topic
      .command(`${verb} <topic>`)
      .option("--queues <n>", "read and write queues")
      .option("--read-queues <n>")
      .option("--write-queues <n>")
      .option("--perm <n>", "6 read-write, 4 read, 2 write")
      .option(
        "--attributes <spec>",
        "+message.type=NORMAL|FIFO|DELAY|TRANSACTION|LITE|PRIORITY, +lite.topic.expiration=<minutes>, -<key>",
      )
      .action(async (name: string, o: Record<string, string | undefined>) => {
        const c = ctx();
        const body: Record<string, unknown> = { topic: name };
        if (o["attributes"]) body["attributes"] = o["attributes"];
        for (const k of ["queues", "readQueues", "writeQueues", "perm"])
          if (o[k] !== undefined) body[k] = numberOption(o[k], k);
        const d = await call(c, "POST", "/admin/topics", body);
        show(c, d, () => `${verb === "create" ? "created" : "updated"} ${name}`);
      });
  }
  topic.command("delete <topic>").action(async (name: string) => {
    const c = ctx();
    const d = await call(c, "DELETE", `/admin/topics/${enc(name)}`);
    show(c, d, () => `deleted ${name}`);
  });
  topic.command("route <topic>").action(async (name: string) => {
    const c = ctx();
    const d = await call(c, "GET", `/admin/topics/${enc(name)}/route`);
    show(c, d, () => JSON.stringify(d, null, 2));
  });
  topic.command("status <topic>").action(async (name: string) => {
    const c = ctx();
    const d = await call(c, "GET", `/admin/topics/${enc(name)}/status`);
    show(c, d, () =>
      table(
        (d["queues"] as Record<string, unknown>[]).map((q) => ({
          ...q,
          lastUpdate: when(q["lastUpdateTimestamp"]),
        })),
        ["queueId", "minOffset", "maxOffset", "lastUpdate"],
      ),
    );
  });

  const group = admin.command("group").description("consumer groups");
  group.command("list").action(async () => {
    const c = ctx();
    const d = await call(c, "GET", "/admin/groups");
    show(c, d, () =>
      table(d["groups"] as Record<string, unknown>[], [
        "group",
        "messageModel",
        "onlineClients",
        "topics",
        "backlog",
        "fifo",
      ]),
    );
  });
  group
    .command("progress <group>")
    .option("--topic <topic>")
    .action(async (name: string, o: { topic?: string }) => {
      const c = ctx();
      const d = await call(
        c,
        "GET",
        `/admin/groups/${enc(name)}/progress${o.topic ? `?topic=${enc(o.topic)}` : ""}`,
      );
      show(
        c,
        d,
        () =>
          `${table(
            (d["queues"] as Record<string, unknown>[]).map((q) => ({
              ...q,
              lastConsume: when(q["lastConsumeTime"]),
            })),
            ["topic", "queueId", "brokerOffset", "consumerOffset", "backlog", "lastConsume"],
          )}\nbacklog: ${d["backlog"]}`,
      );
    });
  group.command("clients <group>").action(async (name: string) => {
    const c = ctx();
    const d = await call(c, "GET", `/admin/groups/${enc(name)}/clients`);
    show(
      c,
      d,
      () =>
        `${d["messageModel"]} ${d["consumeType"]}; subscriptions ${d["consistent"] ? "consistent" : "NOT consistent"} across clients\n` +
        table(
          (d["clients"] as Record<string, unknown>[]).map((x) => ({
            ...x,
            lastHeartbeat: when(x["lastHeartbeat"]),
          })),
          ["clientId", "remoteAddress", "language", "version", "lastHeartbeat", "subscriptions"],
        ),
    );
  });
  group.command("lite <group>").action(async (name: string) => {
    const c = ctx();
    const d = await call(c, "GET", `/admin/groups/${enc(name)}/lite`);
    show(c, d, () =>
      table(
        (d["clients"] as { clientId: string; parentTopic: string; liteTopics: string[] }[]).map((x) => ({
          clientId: x.clientId,
          parentTopic: x.parentTopic,
          count: x.liteTopics.length,
          liteTopics: x.liteTopics.slice(0, 20).join(",") + (x.liteTopics.length > 20 ? ",..." : ""),
        })),
        ["clientId", "parentTopic", "count", "liteTopics"],
      ),
    );
  });
  group
    .command("reset-offset <group>")
    .requiredOption("--topic <topic>")
    .requiredOption("--time <time>", "ms since the epoch, an ISO date, or now")
    .action(async (name: string, o: { topic: string; time: string }) => {
      const c = ctx();
      const d = await call(c, "POST", `/admin/groups/${enc(name)}/reset-offset`, {
        topic: o.topic,
        timestamp: parseTime(o.time),
      });
      show(c, d, () =>
        table(
          Object.entries(d["offsets"] as Record<string, number>).map(([queueId, offset]) => ({
            queueId,
            offset,
          })),
        ),
      );
    });
  group
    .command("update <group>")
    .option("--retry-max <n>", "retries before the dead-letter queue")
    .option("--fifo <bool>", "deliver message groups in order (true/false)")
    .action(async (name: string, o: { retryMax?: string; fifo?: string }) => {
      const c = ctx();
      const body: Record<string, unknown> = {};
      if (o.retryMax !== undefined) body["retryMaxTimes"] = numberOption(o.retryMax, "--retry-max");
      if (o.fifo !== undefined) {
        if (o.fifo !== "true" && o.fifo !== "false") throw new AdminError(2, "--fifo takes true or false");
        body["fifo"] = o.fifo === "true";
      }
      const d = await call(c, "PUT", `/admin/groups/${enc(name)}`, body);
      show(c, d, () => `updated ${name}: ${JSON.stringify(d["group"])}`);
    });

  const message = admin.command("message").description("find messages");
  const printMessages = (c: Ctx, d: Record<string, unknown>) =>
    show(c, d, () =>
      table(
        (d["messages"] as Record<string, unknown>[]).map((m) => ({
          ...m,
          stored: when(m["storeTimestamp"]),
          body: String(m["body"]).slice(0, 40),
        })),
        ["msgId", "topic", "queueId", "queueOffset", "tags", "keys", "stored", "body"],
      ),
    );
  message
    .command("id <id>")
    .option("--topic <topic>", "needed for a producer's unique id; not for an offset message id")
    .action(async (id: string, o: { topic?: string }) => {
      const c = ctx();
      const d = await call(
        c,
        "GET",
        `/admin/messages?id=${enc(id)}${o.topic ? `&topic=${enc(o.topic)}` : ""}`,
      );
      // A lookup by id names one message: none is an error (exit 1), as `message trace` and mqadmin's
      // queryMsgById report it; searches by key or time may rightly find nothing.
      if ((d["messages"] as unknown[] | undefined)?.length === 0)
        throw new AdminError(1, `MESSAGE_NOT_FOUND: no message ${id}${o.topic ? ` in ${o.topic}` : ""}`);
      printMessages(c, d);
    });
  message.command("key <topic> <key>").action(async (t: string, key: string) => {
    const c = ctx();
    printMessages(c, await call(c, "GET", `/admin/messages?topic=${enc(t)}&key=${enc(key)}`));
  });
  message
    .command("time <topic>")
    .requiredOption("--begin <time>")
    .option("--end <time>", "", "now")
    .option("--max <n>", "", "64")
    .action(async (t: string, o: { begin: string; end: string; max: string }) => {
      const c = ctx();
      printMessages(
        c,
        await call(
          c,
          "GET",
          `/admin/messages?topic=${enc(t)}&begin=${parseTime(o.begin)}&end=${parseTime(o.end)}&max=${enc(o.max)}`,
        ),
      );
    });
  message
    .command("trace <id>")
    .option("--topic <topic>")
    .action(async (id: string, o: { topic?: string }) => {
      const c = ctx();
      const d = await call(
        c,
        "GET",
        `/admin/messages/trace?id=${enc(id)}${o.topic ? `&topic=${enc(o.topic)}` : ""}`,
      );
      show(c, d, () =>
        table(
          (d["events"] as Record<string, unknown>[]).map((e) => ({ ...e, time: when(e["time"]) })),
          ["time", "type", "group", "detail"],
        ),
      );
    });
  message
    .command("send <topic> <body>")
    .option("--tag <tag>")
    .option("--keys <keys>", "comma-separated")
    .action(async (t: string, body: string, o: { tag?: string; keys?: string }) => {
      const c = ctx();
      const d = await call(c, "POST", "/admin/messages", {
        topic: t,
        body,
        ...(o.tag ? { tag: o.tag } : {}),
        ...(o.keys ? { keys: o.keys.split(",") } : {}),
      });
      show(c, d, () => `sent ${JSON.stringify(d["sent"])}`);
    });

  const dlq = admin.command("dlq").description("dead letters");
  dlq.command("list <group>").action(async (g: string) => {
    const c = ctx();
    const d = await call(c, "GET", `/admin/dlq/${enc(g)}`);
    show(c, d, () =>
      table(
        (d["messages"] as Record<string, unknown>[]).map((m) => ({
          ...m,
          from: (m["properties"] as Record<string, string>)["RETRY_TOPIC"] ?? "",
          stored: when(m["storeTimestamp"]),
        })),
        ["dlqOffset", "msgId", "from", "reconsumeTimes", "stored"],
      ),
    );
  });
  dlq.command("resend <group> <dlqOffset>").action(async (g: string, off: string) => {
    const c = ctx();
    const d = await call(c, "POST", `/admin/dlq/${enc(g)}/${enc(off)}/resend`);
    show(c, d, () => `resent: ${JSON.stringify(d["resent"])}`);
  });

  const alarm = admin.command("alarm").description("backlog alarms");
  alarm.command("list").action(async () => {
    const c = ctx();
    const d = await call(c, "GET", "/admin/alarms");
    show(c, d, () =>
      table(
        (
          d["alarms"] as { rule: Record<string, unknown>; firing: boolean; reason: string; value: unknown }[]
        ).map((a) => ({
          ...a.rule,
          firing: a.firing ? "FIRING" : "ok",
          reason: a.reason,
        })),
        ["id", "group", "topic", "maxBacklog", "maxLagMs", "firing", "reason"],
      ),
    );
  });
  alarm
    .command("add")
    .requiredOption("--group <group>")
    .option("--topic <topic>")
    .option("--max-backlog <n>")
    .option("--max-lag-seconds <s>")
    .action(async (o: { group: string; topic?: string; maxBacklog?: string; maxLagSeconds?: string }) => {
      const c = ctx();
      const d = await call(c, "POST", "/admin/alarms", {
        group: o.group,
        ...(o.topic ? { topic: o.topic } : {}),
        ...(o.maxBacklog !== undefined ? { maxBacklog: numberOption(o.maxBacklog, "--max-backlog") } : {}),
        ...(o.maxLagSeconds !== undefined
          ? { maxLagMs: numberOption(o.maxLagSeconds, "--max-lag-seconds") * 1000 }
          : {}),
      });
      show(c, d, () => `added alarm ${(d["rule"] as { id: string }).id}`);
    });
  alarm.command("remove <id>").action(async (id: string) => {
    const c = ctx();
    const d = await call(c, "DELETE", `/admin/alarms/${enc(id)}`);
    show(c, d, () => `removed alarm ${id}`);
  });
  return admin;
}

/** "SYNC_MASTER, 1 slave, 0 bytes behind" or "SLAVE of 10.0.0.1:10912, connected". */
function aclLine(a: Record<string, unknown> | undefined): string {
  if (!a?.["enabled"]) return "off (no accounts)";
  return `on, ${String(a["accounts"])} account${a["accounts"] === 1 ? "" : "s"}`;
}

function replicationLine(r: Record<string, unknown> | undefined): string {
  if (!r) return "–";
  if (r["role"] === "SLAVE") {
    return `SLAVE of ${String(r["masterHaAddress"] ?? "(master not known yet)")}, ${r["connected"] ? "connected" : "not connected"}`;
  }
  const n = Number(r["slaves"]);
  const lag = r["slaveLagBytes"] === null ? "" : `, ${String(r["slaveLagBytes"])} bytes behind`;
  return `${String(r["role"])}, ${n} slave${n === 1 ? "" : "s"}${lag}`;
}
