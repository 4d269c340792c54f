// The JSON admin API on the broker's HTTP port (/admin/...), used by the CLI's admin commands and the console:
// cluster and broker status, topics, groups and their progress and clients, message lookup and trace, offset
// reset, dead letters, backlog alarms, live rates, and /metrics for Prometheus.
import { createHash, timingSafeEqual } from "node:crypto";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { Broker } from "../../../broker/broker.js";
import { groupClients, groupProgress, listGroups } from "../../../broker/ops/group-info.js";
import { findById, findByTime, traceOf, viewOf } from "../../../broker/ops/message-lookup.js";
import { BrokerError, isBrokerError } from "../../../common/errors.js";
import { encodeProperties } from "../../../common/properties.js";
import { Perm, isSystemTopic, topicConfig } from "../../../common/topic.js";
import { applyTopicAttributes } from "../../../common/topic-attributes.js";

export interface ClusterBroker {
  cluster: string;
  name: string;
  id: number;
  addr: string;
}

export interface AdminContext {
  broker: Broker;
  /** Brokers known to the NameServers (or this broker alone when it has none). */
  cluster(): Promise<ClusterBroker[]>;
  /** The topic's route as the NameServers publish it (undefined when they do not know it). */
  route(topic: string): Promise<unknown>;
  /** Prometheus text and live rates. */
  metricsText(): Promise<{ contentType: string; text: string }>;
  rates(): unknown;
  connections(): Record<string, number>;
  /** A slave's replication: its master's HA address and whether it is connected (undefined on a master). */
  replica?(): { masterAddress: string | undefined; connected: boolean } | undefined;
  /** When not empty, every /admin request must carry `Authorization: Bearer <adminToken>`. */
  adminToken?: string;
}

type Params = Record<string, string>;
type Query = Record<string, string | undefined>;

function jsonBody(req: FastifyRequest): Record<string, unknown> {
  const raw = Buffer.isBuffer(req.body) ? req.body.toString("utf8") : "";
  if (!raw.trim()) return {};
  try {
    const v = JSON.parse(raw) as unknown;
    if (v && typeof v === "object" && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    // reported below
  }
  throw new BrokerError("BAD_REQUEST", "the request body must be a JSON object");
}

/**
 * A number from a JSON body: a JSON number or a decimal string; anything else (null, which is what a client's NaN
 * becomes in JSON, booleans, "abc") is refused rather than read as 0. `range` also asks for an integer in it.
 */
function num(v: unknown, name: string, def?: number, range?: [number, number]): number {
  if (v === undefined || v === "") {
    if (def !== undefined) return def;
    throw new BrokerError("BAD_REQUEST", `${name} is required`);
  }
  const n =
    typeof v === "number" ? v : typeof v === "string" && /^\s*-?\d+(\.\d+)?\s*$/.test(v) ? Number(v) : NaN;
  if (!Number.isFinite(n))
    throw new BrokerError("BAD_REQUEST", `${name} must be a number, got ${JSON.stringify(v)}`);
  if (range && !(Number.isInteger(n) && n >= range[0] && n <= range[1]))
    throw new BrokerError(
      "BAD_REQUEST",
      `${name} must be an integer from ${range[0]} to ${range[1]}, got ${n}`,
    );
  return n;
}

function bool(v: unknown, name: string): boolean {
  if (typeof v !== "boolean") throw new BrokerError("BAD_REQUEST", `${name} must be true or false`);
  return v;
}

function str(v: unknown, name: string): string {
  if (typeof v !== "string" || v === "") throw new BrokerError("BAD_REQUEST", `${name} is required`);
  return v;
}

function fail(reply: FastifyReply, e: unknown) {
  if (isBrokerError(e)) {
    return reply.code(e.spec.http).send({ error: { code: e.code, message: e.message } });
  }
  return reply
    .code(500)
    .send({ error: { code: "SYSTEM_ERROR", message: (e as Error)?.message ?? String(e) } });
}

const sha256 = (s: string): Buffer => createHash("sha256").update(s).digest();

/** Whether the request's bearer token is the one whose digest is `want`, compared in constant time. */
function authorized(req: FastifyRequest, want: Buffer): boolean {
  const h = req.headers.authorization;
  if (typeof h !== "string" || !h.startsWith("Bearer ")) return false;
  return timingSafeEqual(sha256(h.slice(7).trim()), want);
}

export function registerAdminRoutes(app: FastifyInstance, ctx: AdminContext): void {
  const b = ctx.broker;
  const tokenDigest = ctx.adminToken ? sha256(ctx.adminToken) : undefined;
  const route = (
    method: "GET" | "POST" | "PUT" | "DELETE",
    url: string,
    handler: (p: Params, q: Query, req: FastifyRequest) => unknown,
  ) => {
    app.route({
      method,
      url,
      handler: async (req, reply) => {
        if (tokenDigest !== undefined && !authorized(req, tokenDigest)) {
          return reply
            .code(401)
            .header("www-authenticate", 'Bearer realm="rocketmq-ts admin"')
            .send({
              error: { code: "UNAUTHORIZED", message: "the admin API needs Authorization: Bearer <token>" },
            });
        }
        try {
          const out = await handler(req.params as Params, req.query as Query, req);
          return reply.header("cache-control", "no-store").send(out ?? { ok: true });
        } catch (e) {
          return fail(reply, e);
        }
      },
    });
  };

  app.get("/metrics", async (_req, reply) => {
    const m = await ctx.metricsText();
    return reply.header("content-type", m.contentType).send(m.text);
  });

  route("GET", "/admin/cluster", async () => ({ brokers: await ctx.cluster() }));
  route("GET", "/admin/broker", () => {
    const s = b.store.stats();
    return {
      name: b.config.brokerName,
      cluster: b.config.clusterName,
      id: b.config.brokerId,
      addr: b.address,
      startedAt: b.stats.startedAt,
      uptimeMs: Date.now() - b.stats.startedAt,
      produced: b.stats.producedTotal,
      consumed: b.stats.consumedTotal,
      store: { ...s, commitLogBytes: s.maxPhyOffset - s.minPhyOffset },
      timersPending: b.timer.pending().pending,
      halfMessagesPending: b.transactions.unresolved,
      connections: ctx.connections(),
      topics: b.topics.all().filter((t) => !isSystemTopic(t.topicName)).length,
      groups: listGroups(b).length,
      replication: replicationStatus(b, ctx),
      accessControl: { enabled: b.acl.enabled, accounts: b.acl.accountCount },
      tlsMode: b.config.tlsMode,
    };
  });
  route("GET", "/admin/rates", () => ctx.rates());
  route("GET", "/admin/acl", () => b.acl.describe());

  // ---- topics ---------------------------------------------------------------------------------------------------
  route("GET", "/admin/topics", (_p, q) => ({
    topics: b.topics
      .all()
      .filter((t) => q["system"] === "true" || !isSystemTopic(t.topicName))
      .map((t) => ({
        ...t,
        messages: b.topicStats(t.topicName).reduce((n, s) => n + s.maxOffset - s.minOffset, 0),
      }))
      .sort((x, y) => x.topicName.localeCompare(y.topicName)),
  }));
  route("POST", "/admin/topics", (_p, _q, req) => {
    const body = jsonBody(req);
    const name = str(body["topic"], "topic");
    // An update (the topic exists) changes only what the body names; a new topic takes the defaults.
    const old = b.topics.get(name);
    const queues = num(body["queues"], "queues", b.config.defaultTopicQueueNums);
    const tc = old ? { ...old } : topicConfig(name, queues);
    if (old && body["queues"] !== undefined) tc.readQueueNums = tc.writeQueueNums = queues;
    tc.perm = num(body["perm"], "perm", old?.perm ?? Perm.READ_WRITE, [0, 7]);
    tc.readQueueNums = num(body["readQueues"], "readQueues", tc.readQueueNums);
    tc.writeQueueNums = num(body["writeQueues"], "writeQueues", tc.writeQueueNums);
    if (![tc.readQueueNums, tc.writeQueueNums].every((n) => Number.isInteger(n) && n >= 1 && n <= 1024)) {
      throw new BrokerError("BAD_REQUEST", "queue counts must be integers from 1 to 1024");
    }
    // "+message.type=LITE,-key" (mqadmin's form) or {"message.type": "LITE"}; an update keeps the rest.
    const attrs = body["attributes"];
    const existing = old?.attributes ?? {};
    if (attrs !== undefined && typeof attrs !== "string" && (typeof attrs !== "object" || attrs === null))
      throw new BrokerError("BAD_REQUEST", "attributes is a string (+key=value,-key) or an object");
    tc.attributes =
      attrs === undefined
        ? { ...existing }
        : applyTopicAttributes(existing, attrs as string | Record<string, string>);
    return { topic: b.createTopic(tc) };
  });
  route("DELETE", "/admin/topics/:topic", (p) => {
    if (!b.topics.get(p["topic"]!)) throw new BrokerError("TOPIC_NOT_EXIST", p["topic"]);
    b.deleteTopic(p["topic"]!);
    return { deleted: p["topic"] };
  });
  route("GET", "/admin/topics/:topic/route", async (p) => {
    const topic = p["topic"]!;
    const tc = b.topics.get(topic);
    if (!tc) throw new BrokerError("TOPIC_NOT_EXIST", topic);
    return {
      topic,
      local: { broker: b.config.brokerName, addr: b.address, ...tc },
      namesrv: await ctx.route(topic),
    };
  });
  route("GET", "/admin/topics/:topic/status", (p) => ({
    topic: p["topic"],
    queues: b.topicStats(p["topic"]!),
  }));
  route("POST", "/admin/messages", async (_p, _q, req) => {
    const body = jsonBody(req);
    const props: Record<string, string> = {};
    for (const [k, v] of Object.entries((body["properties"] as Record<string, unknown>) ?? {}))
      props[k] = String(v);
    if (typeof body["tag"] === "string" && body["tag"]) props["TAGS"] = body["tag"];
    if (Array.isArray(body["keys"])) props["KEYS"] = body["keys"].map(String).join(" ");
    const r = await b.sendMessage({
      producerGroup: "CONSOLE",
      topic: str(body["topic"], "topic"),
      queueId: -1,
      body: Buffer.from(typeof body["body"] === "string" ? body["body"] : ""),
      properties: encodeProperties(props),
    });
    return { sent: r };
  });

  // ---- groups ---------------------------------------------------------------------------------------------------
  route("GET", "/admin/groups", () => ({ groups: listGroups(b) }));
  route("GET", "/admin/groups/:group/progress", (p, q) => {
    const queues = groupProgress(b, p["group"]!, q["topic"] || undefined);
    return { group: p["group"], backlog: queues.reduce((n, x) => n + x.backlog, 0), queues };
  });
  route("GET", "/admin/groups/:group/clients", (p) => groupClients(b, p["group"]!));
  // Lite topics each client of the group follows (LitePushConsumer / LiteSimpleConsumer subscriptions).
  route("GET", "/admin/groups/:group/lite", (p) => ({
    group: p["group"],
    clients: b.lite.subscriptions.list().filter((s) => s.group === p["group"]),
  }));
  route("POST", "/admin/groups/:group/reset-offset", (p, _q, req) => {
    const body = jsonBody(req);
    const offsets = b.resetOffsetByTime(
      p["group"]!,
      str(body["topic"], "topic"),
      num(body["timestamp"], "timestamp"),
    );
    return { group: p["group"], topic: body["topic"], offsets: Object.fromEntries(offsets) };
  });
  route("PUT", "/admin/groups/:group", (p, _q, req) => {
    const body = jsonBody(req);
    const cur = b.groups.getOrCreate(p["group"]!);
    const next = { ...cur };
    if (body["retryMaxTimes"] !== undefined)
      next.retryMaxTimes = num(body["retryMaxTimes"], "retryMaxTimes", undefined, [0, 100_000]);
    if (body["fifo"] !== undefined) next.consumeMessageOrderly = bool(body["fifo"], "fifo");
    if (body["consumeEnable"] !== undefined)
      next.consumeEnable = bool(body["consumeEnable"], "consumeEnable");
    return { group: b.groups.createOrUpdate(next) };
  });

  // ---- messages -------------------------------------------------------------------------------------------------
  route("GET", "/admin/messages", (_p, q) => {
    const topic = q["topic"] || undefined;
    let recs;
    if (q["id"]) recs = findById(b, q["id"], topic);
    else if (q["key"])
      recs = b.queryMessageByKey(str(topic, "topic"), q["key"], num(q["max"], "max", 32), 0, Date.now() + 1);
    else if (q["begin"] !== undefined || q["end"] !== undefined) {
      recs = findByTime(
        b,
        str(topic, "topic"),
        num(q["begin"], "begin", 0),
        num(q["end"], "end", Date.now()),
        num(q["max"], "max", 64),
      );
    } else throw new BrokerError("BAD_REQUEST", "give id, key (with topic) or begin/end (with topic)");
    return { messages: recs.map(viewOf) };
  });
  route("GET", "/admin/messages/trace", (_p, q) => {
    const [rec] = findById(b, str(q["id"], "id"), q["topic"] || undefined);
    if (!rec) throw new BrokerError("MESSAGE_NOT_FOUND", `no message ${q["id"]}`);
    return { message: viewOf(rec), events: traceOf(b, rec) };
  });

  // ---- dead letters ---------------------------------------------------------------------------------------------
  route("GET", "/admin/dlq/:group", (p, q) => ({
    group: p["group"],
    messages: b
      .listDeadLetters(p["group"]!, num(q["offset"], "offset", 0), num(q["max"], "max", 32))
      .map((d) => ({ dlqOffset: d.offset, ...viewOf(d.record) })),
  }));
  route("POST", "/admin/dlq/:group/:offset/resend", async (p) => ({
    resent: await b.resendDeadLetter(p["group"]!, num(p["offset"], "offset")),
  }));

  // ---- alarms ---------------------------------------------------------------------------------------------------
  route("GET", "/admin/alarms", () => ({ alarms: b.alarms.statuses() }));
  route("POST", "/admin/alarms", (_p, _q, req) => {
    const body = jsonBody(req);
    const rule = b.alarms.put({
      ...(typeof body["id"] === "string" ? { id: body["id"] } : {}),
      group: str(body["group"], "group"),
      ...(typeof body["topic"] === "string" && body["topic"] ? { topic: body["topic"] } : {}),
      ...(body["maxBacklog"] !== undefined
        ? { maxBacklog: num(body["maxBacklog"], "maxBacklog", undefined, [0, Number.MAX_SAFE_INTEGER]) }
        : {}),
      ...(body["maxLagMs"] !== undefined
        ? { maxLagMs: num(body["maxLagMs"], "maxLagMs", undefined, [0, Number.MAX_SAFE_INTEGER]) }
        : {}),
    });
    b.alarms.evaluate();
    return { rule };
  });
  route("DELETE", "/admin/alarms/:id", (p) => {
    if (!b.alarms.remove(p["id"]!)) throw new BrokerError("BAD_REQUEST", `no alarm ${p["id"]}`);
    return { deleted: p["id"] };
  });
}

/** A master's slaves and how far behind the furthest is; a slave's master and link. */
function replicationStatus(b: Broker, ctx: AdminContext): Record<string, unknown> {
  const role = b.config.brokerRole;
  if (role === "SLAVE") {
    const r = ctx.replica?.();
    return { role, masterHaAddress: r?.masterAddress ?? null, connected: r?.connected ?? false };
  }
  const acked = b.slaveAcks.bestAck;
  const end = b.store.stats().maxPhyOffset;
  return { role, slaves: b.slaveAcks.slaveCount, slaveLagBytes: acked < 0 ? null : Math.max(0, end - acked) };
}
