// The per-process client instance (RocketMQ MQClientInstance): one per client id, shared by the producers and
// consumers that use it. It owns the remoting connections, the route cache, and the timers that refresh
// routes (every pollNameServerIntervalMs) and heartbeat every broker (every heartbeatIntervalMs); it routes
// NOTIFY_CONSUMER_IDS_CHANGED (40) from brokers to the consumer of that group, and CHECK_TRANSACTION_STATE (39)
// to the transaction producer of the half message's group (its PGROUP property, as Java's MQClientInstance
// does). It closes when its last user releases it.
import { isIPv4 } from "node:net";
import { UniqueIdGenerator } from "../common/message-id.js";
import { RemotingClient } from "../protocol/remoting/client.js";
import type { RemotingLogger } from "../protocol/remoting/logger.js";
import { silentLogger } from "../protocol/remoting/logger.js";
import { decodeRecord } from "../common/message-record.js";
import { Prop } from "../common/properties.js";
import type { RemotingCommand } from "../protocol/remoting/command.js";
import type { RemotingConnection } from "../protocol/remoting/connection.js";
import { RequestCode } from "../protocol/remoting/request-code.js";
import { ResponseCode } from "../protocol/remoting/response-code.js";
import { sendHeartbeat } from "./broker-api.js";
import type { ClientOptions } from "./client-config.js";
import { localIPv4, parseNameServers, positive, sharingKey } from "./client-config.js";
import { MQClientError, errorMessage, isTransportError } from "./errors.js";
import type { ReceivedMessage } from "./message.js";
import { toReceivedMessage } from "./message.js";
import { RouteCache } from "./route-cache.js";

/** One subscription as heartbeats carry it (RocketMQ SubscriptionData). */
export interface SubscriptionData {
  topic: string;
  subString: string;
  expressionType: "TAG" | "SQL92";
  tagsSet: string[];
  codeSet: number[];
  subVersion: number;
  classFilterMode: false;
}

export interface ConsumerData {
  groupName: string;
  consumeType: "CONSUME_PASSIVELY";
  messageModel: "CLUSTERING" | "BROADCASTING";
  consumeFromWhere: string;
  subscriptionDataSet: SubscriptionData[];
  unitMode: false;
}

/** CHECK_TRANSACTION_STATE's header, as the broker sends it. */
export interface TransactionCheckHeader {
  tranStateTableOffset: number;
  commitLogOffset: number;
  msgId: string;
  transactionId: string;
  offsetMsgId: string;
}

export interface ProducerMember {
  readonly group: string;
  publishedTopics(): Iterable<string>;
  /**
   * Transaction producers only: the broker asks for the outcome of a half message of this group. `reply` sends
   * the END_TRANSACTION answer back to the broker that asked.
   */
  checkTransactionState?(
    msg: ReceivedMessage,
    header: TransactionCheckHeader,
    reply: (cmd: RemotingCommand) => Promise<void>,
  ): void;
}

export interface ConsumerMember {
  readonly group: string;
  heartbeatData(): ConsumerData;
  /** The group's membership changed (broker notification): rebalance soon. */
  onConsumerIdsChanged(): void;
  /** A subscribed topic's route changed. */
  onRouteChanged(topic: string): void;
}

const instances = new Map<string, MQClient>();

function ipBytes(ip: string): Buffer {
  return isIPv4(ip) ? Buffer.from(ip.split(".").map(Number)) : Buffer.from([127, 0, 0, 1]);
}

export class MQClient {
  readonly clientId: string;
  readonly remoting: RemotingClient;
  readonly routes: RouteCache;
  readonly uniqIds: UniqueIdGenerator;
  readonly logger: RemotingLogger;
  readonly requestTimeoutMs: number;
  readonly clientIP: string;
  private readonly nsKey: string;
  private readonly producers = new Map<string, ProducerMember>();
  private readonly consumers = new Map<string, ConsumerMember>();
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly reconnecting = new Set<string>();
  private users = 0;
  private closed = false;

  private constructor(clientId: string, clientIP: string, namesrvs: string[], opts: ClientOptions) {
    this.clientId = clientId;
    this.clientIP = clientIP;
    this.nsKey = sharingKey(opts, namesrvs);
    this.logger = opts.logger ?? silentLogger;
    this.requestTimeoutMs = positive(opts.requestTimeoutMs, "requestTimeoutMs", 3000);
    this.remoting = new RemotingClient({
      logger: this.logger,
      ...(opts.credentials ? { credentials: opts.credentials } : {}),
      ...(opts.tls ? { tls: opts.tls === true ? {} : opts.tls } : {}),
    });
    this.routes = new RouteCache(this.remoting, namesrvs, this.requestTimeoutMs, this.logger, (topic) => {
      for (const c of this.consumers.values()) c.onRouteChanged(topic);
    });
    this.uniqIds = new UniqueIdGenerator(ipBytes(clientIP));
    // Oneway from the broker when a consumer joins or leaves the group; nothing to answer.
    this.remoting.registerHandler(RequestCode.NOTIFY_CONSUMER_IDS_CHANGED, (req) => {
      const group = req.extFields["consumerGroup"];
      if (group !== undefined) this.consumers.get(group)?.onConsumerIdsChanged();
      return undefined;
    });
    // Oneway from the broker: answered later with a oneway END_TRANSACTION on the same connection.
    this.remoting.registerHandler(RequestCode.CHECK_TRANSACTION_STATE, (req, conn) => {
      this.transactionCheck(req, conn);
      return undefined;
    });
    this.remoting.on("connectionClose", (addr) => this.brokerConnectionLost(addr));
    const every = (ms: number, f: () => void) => this.timers.push(setInterval(f, ms));
    every(positive(opts.pollNameServerIntervalMs, "pollNameServerIntervalMs", 30_000), () => {
      void this.refreshRoutes();
    });
    every(positive(opts.heartbeatIntervalMs, "heartbeatIntervalMs", 30_000), () => {
      void this.heartbeatAll();
    });
  }

  /**
   * The shared instance for these options, creating it if needed. When the natural client id already has a
   * member of the same role and group (two consumers of one group in one process), the instance name gets a
   * "#n" suffix so each has its own id, as brokers require; an explicit instanceName that collides is an error.
   */
  static acquire(
    opts: ClientOptions,
    role: "producer" | "consumer",
    group: string,
    defaultInstance: string,
  ): MQClient {
    const namesrvs = parseNameServers(opts.nameServer);
    const ip = opts.clientIP ?? localIPv4();
    const base = opts.instanceName ?? defaultInstance;
    for (let n = 0; ; n++) {
      const id = `${ip}@${n === 0 ? base : `${base}#${n}`}`;
      const cur = instances.get(id);
      if (!cur) {
        const c = new MQClient(id, ip, namesrvs, opts);
        instances.set(id, c);
        c.users++;
        return c;
      }
      if (cur.nsKey === sharingKey(opts, namesrvs) && !cur.hasMember(role, group)) {
        cur.users++;
        return cur;
      }
      if (opts.instanceName !== undefined && n === 0 && cur.hasMember(role, group)) {
        throw new MQClientError(
          "ILLEGAL_ARGUMENT",
          `a ${role} of group ${group} already runs as client ${id}; give another instanceName`,
        );
      }
    }
  }

  private hasMember(role: "producer" | "consumer", group: string): boolean {
    return role === "producer" ? this.producers.has(group) : this.consumers.has(group);
  }

  private transactionCheck(req: RemotingCommand, conn: RemotingConnection): void {
    const h = req.extFields;
    let msg: ReceivedMessage;
    try {
      if (!req.body) throw new Error("no message body");
      const brokerName = this.routes.allBrokers().find((b) => b.addr === conn.remoteAddress)?.brokerName;
      msg = toReceivedMessage(decodeRecord(req.body), brokerName ?? "");
    } catch (e) {
      this.logger.warn({ broker: conn.remoteAddress, err: errorMessage(e) }, "bad transaction check ignored");
      return;
    }
    const group = msg.systemProperties.get(Prop.PRODUCER_GROUP) ?? "";
    const producer = this.producers.get(group);
    if (!producer?.checkTransactionState) {
      this.logger.warn(
        { group, msgId: msg.messageId },
        "transaction check for a group with no transaction producer here",
      );
      return;
    }
    const header: TransactionCheckHeader = {
      tranStateTableOffset: Number(h["tranStateTableOffset"]),
      commitLogOffset: Number(h["commitLogOffset"]),
      msgId: h["msgId"] ?? "",
      transactionId: h["transactionId"] ?? "",
      offsetMsgId: h["offsetMsgId"] ?? "",
    };
    if (!Number.isInteger(header.tranStateTableOffset) || !Number.isInteger(header.commitLogOffset)) {
      this.logger.warn(
        { broker: conn.remoteAddress, header: h },
        "transaction check without offsets ignored",
      );
      return;
    }
    producer.checkTransactionState(msg, header, async (cmd) => {
      if (conn.oneway(cmd)) return;
      // The connection dropped meanwhile: the broker is the same address.
      await this.remoting.invokeOneway(conn.remoteAddress, cmd, this.requestTimeoutMs);
    });
  }

  registerProducer(p: ProducerMember): void {
    this.producers.set(p.group, p);
  }

  unregisterProducer(p: ProducerMember): void {
    if (this.producers.get(p.group) === p) this.producers.delete(p.group);
  }

  registerConsumer(c: ConsumerMember): void {
    this.consumers.set(c.group, c);
  }

  unregisterConsumer(c: ConsumerMember): void {
    if (this.consumers.get(c.group) === c) this.consumers.delete(c.group);
  }

  /** Drops one user; the last one closes the connections and timers. */
  async release(): Promise<void> {
    if (--this.users > 0) return;
    this.closed = true;
    if (instances.get(this.clientId) === this) instances.delete(this.clientId);
    for (const t of this.timers) clearInterval(t);
    await this.remoting.close();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Fetches the routes of every topic a member uses. */
  async refreshRoutes(): Promise<void> {
    const topics = new Set<string>();
    for (const p of this.producers.values()) for (const t of p.publishedTopics()) topics.add(t);
    for (const c of this.consumers.values())
      for (const s of c.heartbeatData().subscriptionDataSet) topics.add(s.topic);
    await Promise.all(
      [...topics].map((t) =>
        this.routes.update(t).catch((e: unknown) => {
          this.logger.warn({ topic: t, err: errorMessage(e) }, "route refresh failed");
        }),
      ),
    );
  }

  private heartbeatBody(): { body: Buffer; hasConsumers: boolean } | undefined {
    if (this.producers.size === 0 && this.consumers.size === 0) return undefined;
    const hb = {
      clientID: this.clientId,
      producerDataSet: [...this.producers.keys()].map((groupName) => ({ groupName })),
      consumerDataSet: [...this.consumers.values()].map((c) => c.heartbeatData()),
    };
    return { body: Buffer.from(JSON.stringify(hb)), hasConsumers: this.consumers.size > 0 };
  }

  /**
   * Heartbeats one consumer's data alone to every known broker, before it joins the shared heartbeat, so a
   * subscription the broker cannot parse (SUBSCRIPTION_PARSE_FAILED, e.g. a malformed SQL92 expression) is
   * reported to its owner instead of failing every heartbeat of this client. Rejects with the first such
   * refusal; brokers that do not answer are only logged (the regular heartbeat reaches them later).
   */
  async probeConsumer(data: ConsumerData): Promise<void> {
    const body = Buffer.from(
      JSON.stringify({ clientID: this.clientId, producerDataSet: [], consumerDataSet: [data] }),
    );
    let refused: unknown;
    await Promise.all(
      this.routes.allBrokers().map((b) =>
        sendHeartbeat(this.remoting, b.addr, body, this.requestTimeoutMs).catch((e: unknown) => {
          if (
            e instanceof MQClientError &&
            !isTransportError(e) &&
            e.responseCode === ResponseCode.SUBSCRIPTION_PARSE_FAILED
          ) {
            refused ??= e;
          } else {
            this.logger.warn({ broker: b.addr, err: errorMessage(e) }, "heartbeat failed");
          }
        }),
      ),
    );
    if (refused !== undefined) throw refused;
  }

  /** Heartbeats to `addr`; rejects when it fails. */
  async heartbeatTo(addr: string): Promise<void> {
    const hb = this.heartbeatBody();
    if (hb) await sendHeartbeat(this.remoting, addr, hb.body, this.requestTimeoutMs);
  }

  /**
   * Heartbeats to every known broker (masters only when this client has no consumer, as Java). Failures are
   * logged; resolves when every attempt has ended.
   */
  async heartbeatAll(): Promise<void> {
    if (this.closed) return;
    const hb = this.heartbeatBody();
    if (!hb) return;
    const targets = this.routes.allBrokers().filter((b) => hb.hasConsumers || b.master);
    await Promise.all(
      targets.map((b) =>
        sendHeartbeat(this.remoting, b.addr, hb.body, this.requestTimeoutMs).catch((e: unknown) => {
          this.logger.warn({ broker: b.addr, err: errorMessage(e) }, "heartbeat failed");
        }),
      ),
    );
  }

  /**
   * A broker connection dropped (often a broker restart, which forgets its clients): heartbeat it again as soon
   * as it answers, backing off from 1 s up to the heartbeat interval, so rebalancing sees us at once.
   */
  private brokerConnectionLost(addr: string): void {
    if (this.closed || this.reconnecting.has(addr)) return;
    if (!this.routes.allBrokers().some((b) => b.addr === addr)) return;
    // Consumers must be seen for rebalancing, transaction producers for check-backs.
    const txProducer = [...this.producers.values()].some((p) => p.checkTransactionState !== undefined);
    if (this.consumers.size === 0 && !txProducer) return;
    this.reconnecting.add(addr);
    let delay = 1000;
    const attempt = (): void => {
      if (this.closed) {
        this.reconnecting.delete(addr);
        return;
      }
      this.heartbeatTo(addr).then(
        () => this.reconnecting.delete(addr),
        () => {
          delay = Math.min(delay * 2, 30_000);
          setTimeout(attempt, delay).unref();
        },
      );
    };
    setTimeout(attempt, delay).unref();
  }
}
