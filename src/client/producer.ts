// Producer (RocketMQ DefaultMQProducer, Aliyun ONS API shape). A send picks a writable queue of the topic's
// route and sends SEND_MESSAGE_V2 to that broker's master:
// - without a sharding key: round robin from a random start, skipping the broker of a failed attempt;
// - with one: queue index = |Java String.hashCode(key)| mod (number of writable queues), over the queues
//   sorted by broker name then queue id (as Java's SelectMessageQueueByHash with a String argument). The same
//   key keeps its queue while the route does not change.
// A sync or async send is tried up to 1 + retryTimesWhenSendFailed times within sendTimeoutMs, after transport
// errors and the response codes Java retries on; a oneway send is tried once and not confirmed.
// Every message gets a unique id (UNIQ_KEY) here: SendResult.messageId, and ReceivedMessage.messageId later.
import { deflateSync } from "node:zlib";
import { javaStringHashCode } from "../common/java-hash.js";
import { SysFlag } from "../common/message-record.js";
import { Prop } from "../common/properties.js";
import { topicNameProblem } from "../common/topic.js";
import type { RemotingLogger } from "../protocol/remoting/logger.js";
import { silentLogger } from "../protocol/remoting/logger.js";
import type { SendHeader } from "./broker-api.js";
import { sendMessage, sendMessageOneway, unregisterClient } from "./broker-api.js";
import type { ClientOptions } from "./client-config.js";
import { checkGroup, nonNegative, positive } from "./client-config.js";
import { MQClientError, errorMessage, isTransportError } from "./errors.js";
import type { Message } from "./message.js";
import { encodeMessageProperties } from "./message.js";
import { MQClient } from "./mq-client.js";
import type { ProducerMember } from "./mq-client.js";
import type { MessageQueue } from "./route-cache.js";

export interface ProducerOptions extends ClientOptions {
  /** Time budget of one send, retries included. Default 3000. */
  sendTimeoutMs?: number;
  /** Extra attempts after a failed sync or async send. Default 2. */
  retryTimesWhenSendFailed?: number;
  /** Bodies at least this long are sent zlib-deflated (sysFlag bit 0). Default 4096; 0 turns it off. */
  compressOverBytes?: number;
  /** Largest body accepted. Default 4 MiB (RocketMQ maxMessageSize). */
  maxMessageSize?: number;
}

export interface SendOptions {
  /** Overrides message.shardingKey. */
  shardingKey?: string;
}

export interface SendResult {
  sendStatus: "SEND_OK" | "FLUSH_DISK_TIMEOUT" | "FLUSH_SLAVE_TIMEOUT" | "SLAVE_NOT_AVAILABLE";
  /** The unique id given to the message (UNIQ_KEY). */
  messageId: string;
  /** Where the broker stored it (store host + commit log offset). */
  offsetMsgId: string;
  topic: string;
  brokerName: string;
  queueId: number;
  queueOffset: number;
}

export type SendCallback = (err: Error | null, result?: SendResult) => void;

const MAX_PROPERTIES_BYTES = 32767;

interface Prepared {
  uniqKey: string;
  header: Omit<SendHeader, "queueId">;
  body: Buffer;
  shardingKey: string | undefined;
}

/** The queue for a sharding key: |hashCode| mod the number of queues (see the file comment). */
export function shardingQueueIndex(key: string, queueCount: number): number {
  return Math.abs(javaStringHashCode(key)) % queueCount;
}

export class Producer {
  readonly groupId: string;
  protected readonly options: ProducerOptions;
  private readonly sendTimeoutMs: number;
  private readonly retryTimes: number;
  private readonly compressOver: number;
  private readonly maxMessageSize: number;
  private client: MQClient | undefined;
  private readonly topics = new Set<string>();
  private readonly roundRobin = new Map<string, number>();
  private state: "new" | "running" | "stopped" = "new";
  private readonly member: ProducerMember;
  private readonly logger: RemotingLogger;

  constructor(options: ProducerOptions) {
    this.logger = options.logger ?? silentLogger;
    checkGroup(options.groupId);
    this.options = { ...options };
    this.groupId = options.groupId;
    this.sendTimeoutMs = positive(options.sendTimeoutMs, "sendTimeoutMs", 3000);
    this.retryTimes = nonNegative(options.retryTimesWhenSendFailed, "retryTimesWhenSendFailed", 2);
    this.compressOver = nonNegative(options.compressOverBytes, "compressOverBytes", 4096);
    this.maxMessageSize = positive(options.maxMessageSize, "maxMessageSize", 4 * 1024 * 1024);
    this.member = { group: this.groupId, publishedTopics: () => this.topics };
  }

  /** The client id brokers know this producer by, once started. */
  get clientId(): string | undefined {
    return this.client?.clientId;
  }

  async start(): Promise<void> {
    if (this.state !== "new")
      throw new MQClientError("ILLEGAL_ARGUMENT", `producer is ${this.state}; create a new one`);
    this.client = MQClient.acquire(this.options, "producer", this.groupId, String(process.pid));
    this.client.registerProducer(this.member);
    this.state = "running";
  }

  private running(): MQClient {
    if (this.state !== "running" || !this.client || this.client.isClosed) {
      throw new MQClientError(
        this.state === "stopped" ? "SHUTDOWN" : "NOT_STARTED",
        `producer is ${this.state}`,
      );
    }
    return this.client;
  }

  private prepare(client: MQClient, msg: Message, opts: SendOptions | undefined): Prepared {
    const problem = topicNameProblem(msg.topic);
    if (problem) throw new MQClientError("MESSAGE_ILLEGAL", problem);
    if (msg.body.length === 0) throw new MQClientError("MESSAGE_ILLEGAL", "message body is empty");
    if (msg.body.length > this.maxMessageSize) {
      throw new MQClientError(
        "MESSAGE_ILLEGAL",
        `message body is ${msg.body.length} bytes, over ${this.maxMessageSize}`,
      );
    }
    const shardingKey = opts?.shardingKey ?? msg.shardingKey;
    const uniqKey = client.uniqIds.next();
    const saved = msg.shardingKey;
    msg.shardingKey = shardingKey;
    let properties: string;
    try {
      properties = encodeMessageProperties(msg, uniqKey);
    } finally {
      msg.shardingKey = saved;
    }
    if (Buffer.byteLength(properties) > MAX_PROPERTIES_BYTES) {
      throw new MQClientError("MESSAGE_ILLEGAL", `message properties exceed ${MAX_PROPERTIES_BYTES} bytes`);
    }
    let body = msg.body;
    let sysFlag = 0;
    if (this.compressOver > 0 && body.length >= this.compressOver) {
      const z = deflateSync(body);
      if (z.length < body.length) {
        body = z;
        sysFlag |= SysFlag.COMPRESSED;
      }
    }
    if (msg.getUserProperty(Prop.TRAN_MSG) === "true") sysFlag |= SysFlag.TRANSACTION_PREPARED;
    return {
      uniqKey,
      body,
      shardingKey: shardingKey === "" ? undefined : shardingKey,
      header: {
        producerGroup: this.groupId,
        topic: msg.topic,
        sysFlag,
        bornTimestamp: Date.now(),
        flag: msg.flag,
        properties,
      },
    };
  }

  private selectQueue(
    topic: string,
    queues: MessageQueue[],
    p: Prepared,
    avoidBroker?: string,
  ): MessageQueue {
    if (p.shardingKey !== undefined) return queues[shardingQueueIndex(p.shardingKey, queues.length)]!;
    let n = this.roundRobin.get(topic) ?? Math.floor(Math.random() * queues.length);
    for (let i = 0; i < queues.length; i++) {
      const q = queues[n++ % queues.length]!;
      if (q.brokerName !== avoidBroker || i === queues.length - 1) {
        this.roundRobin.set(topic, n % 0x7fffffff);
        return q;
      }
    }
    return queues[0]!;
  }

  private async target(
    client: MQClient,
    p: Prepared,
    avoidBroker?: string,
  ): Promise<{ mq: MessageQueue; addr: string }> {
    const topic = p.header.topic;
    const isNew = !this.topics.has(topic);
    this.topics.add(topic);
    const brokersBefore = client.routes.allBrokers().length;
    const queues = await client.routes.publishQueues(topic);
    // A broker seen for the first time hears of this producer now rather than at the next heartbeat round.
    if (isNew && client.routes.allBrokers().length !== brokersBefore) void client.heartbeatAll();
    const mq = this.selectQueue(topic, queues, p, avoidBroker);
    let addr = client.routes.masterAddress(mq.brokerName);
    if (!addr) {
      await client.routes.update(topic);
      addr = client.routes.masterAddress(mq.brokerName);
    }
    if (!addr) throw new MQClientError("NO_ROUTE", `broker ${mq.brokerName} has no master address`);
    return { mq, addr };
  }

  /** Sends and waits for the broker's answer. Rejects with MQClientError or a transport error. */
  async send(msg: Message, opts?: SendOptions): Promise<SendResult> {
    const client = this.running();
    const p = this.prepare(client, msg, opts);
    const started = Date.now();
    let lastErr: unknown;
    let avoid: string | undefined;
    for (let attempt = 0; attempt <= this.retryTimes; attempt++) {
      const left = this.sendTimeoutMs - (Date.now() - started);
      if (left <= 0) break;
      let mq: MessageQueue | undefined;
      try {
        const t = await this.target(client, p, avoid);
        mq = t.mq;
        const r = await sendMessage(
          client.remoting,
          t.addr,
          { ...p.header, queueId: mq.queueId },
          p.body,
          left,
        );
        return {
          sendStatus: r.status,
          messageId: p.uniqKey,
          offsetMsgId: r.offsetMsgId,
          topic: p.header.topic,
          brokerName: mq.brokerName,
          queueId: r.queueId,
          queueOffset: r.queueOffset,
        };
      } catch (e) {
        lastErr = e;
        if (this.state !== "running") break;
        const retriable = isTransportError(e) || (e instanceof MQClientError && e.retriable);
        if (!retriable) throw e;
        avoid = mq?.brokerName;
        this.logger.warn(
          { topic: p.header.topic, broker: mq?.brokerName, attempt, err: errorMessage(e) },
          "send failed; retrying",
        );
      }
    }
    if (lastErr instanceof MQClientError && !isTransportError(lastErr)) throw lastErr;
    throw new MQClientError(
      "TIMEOUT",
      `send to ${p.header.topic} failed after ${Date.now() - started} ms: ${errorMessage(lastErr ?? "time budget spent")}`,
      { cause: lastErr },
    );
  }

  /**
   * Sends without blocking the caller: returns the send's promise and, when given, also calls `callback`
   * (Node style) with its outcome. `optsOrCallback` may be SendOptions or the callback.
   */
  sendAsync(
    msg: Message,
    optsOrCallback?: SendOptions | SendCallback,
    callback?: SendCallback,
  ): Promise<SendResult> {
    const cb = typeof optsOrCallback === "function" ? optsOrCallback : callback;
    const opts = typeof optsOrCallback === "function" ? undefined : optsOrCallback;
    const p = Promise.resolve().then(() => this.send(msg, opts));
    if (cb) {
      p.then(
        (r) => cb(null, r),
        (e: unknown) => cb(e instanceof Error ? e : new Error(String(e))),
      );
      // The callback owns the error; keep an unobserved returned promise from crashing the process.
      p.catch(() => {});
    }
    return p;
  }

  /** Sends with the oneway flag: resolves once written; the broker does not answer and nothing is retried. */
  async sendOneway(msg: Message, opts?: SendOptions): Promise<void> {
    const client = this.running();
    const p = this.prepare(client, msg, opts);
    const { mq, addr } = await this.target(client, p);
    await sendMessageOneway(
      client.remoting,
      addr,
      { ...p.header, queueId: mq.queueId },
      p.body,
      this.sendTimeoutMs,
    );
  }

  /** Unregisters from the brokers and releases the connections. Idempotent. */
  async shutdown(): Promise<void> {
    if (this.state !== "running" || !this.client) {
      this.state = "stopped";
      return;
    }
    this.state = "stopped";
    const client = this.client;
    client.unregisterProducer(this.member);
    await Promise.all(
      client.routes
        .allBrokers()
        .filter((b) => b.master)
        .map((b) =>
          unregisterClient(
            client.remoting,
            b.addr,
            client.clientId,
            { producerGroup: this.groupId },
            1000,
          ).catch(() => {}),
        ),
    );
    await client.release();
  }
}

/**
 * A producer for partitionally ordered messages (Aliyun ONS OrderProducer): every send needs a sharding key,
 * and messages with the same key go to the same queue in send order.
 */
export class OrderProducer extends Producer {
  override send(msg: Message, shardingKeyOrOpts?: string | SendOptions): Promise<SendResult> {
    const key =
      typeof shardingKeyOrOpts === "string"
        ? shardingKeyOrOpts
        : (shardingKeyOrOpts?.shardingKey ?? msg.shardingKey);
    if (key === undefined || key === "") {
      return Promise.reject(new MQClientError("ILLEGAL_ARGUMENT", "OrderProducer.send needs a sharding key"));
    }
    return super.send(msg, { shardingKey: key });
  }
}
