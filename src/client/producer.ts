// Producer (RocketMQ DefaultMQProducer, Aliyun ONS API shape). A send picks a writable queue of the topic's
// route and sends SEND_MESSAGE_V2 to that broker's master:
// - without a sharding key: round robin from a random start, skipping the broker of a failed attempt;
// - with one: queue index = |Java String.hashCode(key)| mod (number of writable queues), over the queues
//   sorted by broker name then queue id (as Java's SelectMessageQueueByHash with a String argument). The same
//   key keeps its queue while the route does not change.
// A sync or async send is tried up to 1 + retryTimesWhenSendFailed times within sendTimeoutMs, after transport
// errors and the response codes Java retries on; a oneway send is tried once and not confirmed.
// Every message gets a unique id (UNIQ_KEY) here: SendResult.messageId, and ReceivedMessage.messageId later.
// sendBatch sends several messages of one topic as one SEND_BATCH_MESSAGE (Java's send(Collection<Message>)):
// one queue, stored back to back, all or none. With autoBatch, plain sends made in the same turn of the event
// loop are batched that way on their own (see send-accumulator.ts); each still gets its own SendResult.
//
// TransactionProducer (RocketMQ TransactionMQProducer): sendMessageInTransaction sends a half message
// (TRAN_MSG=true, PGROUP, sysFlag TRANSACTION_PREPARED) that consumers cannot see, runs the local transaction
// executor, then tells the same broker the outcome with a oneway END_TRANSACTION (commit 8, rollback 12,
// unknown 0) naming the half message by its queue offset (tranStateTableOffset) and commit log offset (from its
// offset message id). The broker asks about unresolved ones later with CHECK_TRANSACTION_STATE; the checker
// answers and the reply is another END_TRANSACTION with fromTransactionCheck=true. A producer group used by a
// transaction producer in this process cannot also be used by a Producer or OrderProducer, and back.
import { deflateSync } from "node:zlib";
import { javaStringHashCode } from "../common/java-hash.js";
import { decodeOffsetMsgId } from "../common/message-id.js";
import { SysFlag } from "../common/message-record.js";
import { Prop, encodeProperties } from "../common/properties.js";
import type { Properties } from "../common/properties.js";
import type { RemotingCommand } from "../protocol/remoting/command.js";
import { SerializeType } from "../protocol/remoting/command.js";
import { RETRY_PREFIX, topicNameProblem } from "../common/topic.js";
import type { RemotingLogger } from "../protocol/remoting/logger.js";
import { silentLogger } from "../protocol/remoting/logger.js";
import type { SendHeader } from "./broker-api.js";
import {
  encodeBatchBody,
  endTransactionCommand,
  readBatchSendReply,
  readSendReply,
  sendCommand,
  unregisterClient,
} from "./broker-api.js";
import type { ClientOptions } from "./client-config.js";
import { checkGroup, nonNegative, positive } from "./client-config.js";
import { MQClientError, errorMessage, isTransportError } from "./errors.js";
import type { Message, ReceivedMessage } from "./message.js";
import { encodeMessageProperties } from "./message.js";
import { MQClient } from "./mq-client.js";
import type { ProducerMember, TransactionCheckHeader } from "./mq-client.js";
import type { MessageQueue } from "./route-cache.js";
import { DEFAULT_TOPIC } from "./route-cache.js";
import type { Pending } from "./send-accumulator.js";
import { SendAccumulator } from "./send-accumulator.js";

export interface ProducerOptions extends ClientOptions {
  /** Time budget of one send, retries included. Default 3000. */
  sendTimeoutMs?: number;
  /** Extra attempts after a failed sync or async send. Default 2. */
  retryTimesWhenSendFailed?: number;
  /** Bodies at least this long are sent zlib-deflated (sysFlag bit 0). Default 4096; 0 turns it off. */
  compressOverBytes?: number;
  /** Largest body accepted, and largest batch body. Default 4 MiB (RocketMQ maxMessageSize). */
  maxMessageSize?: number;
  /**
   * Sends made in the same turn of the event loop to one topic leave as one batch request (RocketMQ 5's
   * autoBatch, without its hold time). Messages with a sharding key, a delay or a start time, and bodies big
   * enough to be compressed, still go one by one. The batch goes to one queue. Default false.
   */
  autoBatch?: boolean;
  /**
   * With autoBatch: the most body and property bytes in one batch. Default 128 KiB: pipelined sends of 1 KiB
   * messages ran 0-10 % faster than with Java's 32 KiB holdSize, and the broker takes a batch in one write.
   */
  batchMaxBytes?: number;
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
  header: SendHeader;
  body: Buffer;
  shardingKey: string | undefined;
}

interface Target {
  mq: MessageQueue;
  addr: string;
}

/**
 * Producer groups in use by running producers of this process, by kind: a transaction group may not be shared
 * with plain or order producers (a check-back would reach a producer that cannot answer it).
 */
const groupsInUse = new Map<string, { kind: ProducerKind; count: number }>();

type ProducerKind = "normal" | "transaction";

function claimGroup(group: string, kind: ProducerKind): void {
  const cur = groupsInUse.get(group);
  if (cur && cur.kind !== kind) {
    const other = cur.kind === "transaction" ? "a TransactionProducer" : "a Producer or OrderProducer";
    throw new MQClientError(
      "ILLEGAL_ARGUMENT",
      `producer group ${group} is already used by ${other} in this process; a transaction group cannot be shared with other producer types`,
    );
  }
  if (cur) cur.count++;
  else groupsInUse.set(group, { kind, count: 1 });
}

function releaseGroup(group: string): void {
  const cur = groupsInUse.get(group);
  if (cur && --cur.count <= 0) groupsInUse.delete(group);
}

/**
 * SEND_MESSAGE_V2 with the binary ("ROCKETMQ") header: brokers answer in the encoding of the request, and on
 * the send path it is cheaper than JSON on both sides (no escaping of the properties' separator characters,
 * one-letter keys, shorter frames). Every RocketMQ broker reads both encodings.
 */
function binarySendCommand(h: SendHeader, queueId: number, body: Buffer, batch = false): RemotingCommand {
  const cmd = sendCommand(h, queueId, body, batch);
  cmd.serializeType = SerializeType.ROCKETMQ;
  return cmd;
}

/** A batch's own properties (Java MessageBatch: the first message's waitStoreMsgOK); each message has its own. */
const BATCH_PROPERTIES = encodeProperties({ [Prop.WAIT]: "true" });

/**
 * A message's share of a batch body: its body, properties and 22 bytes of framing. The properties count in
 * UTF-16 units, the exact UTF-8 size of ASCII text; this sizes batches and checks sendBatch's limit.
 */
function batchItemBytes(p: Prepared): number {
  return 22 + p.body.length + p.header.properties.length;
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
  private readonly batchMaxBytes: number;
  private readonly batcher: SendAccumulator<Prepared, SendResult> | undefined;
  /** Sends and batches waiting for the broker's answer: with none, a send cannot share a batch (see send). */
  private sending = 0;
  protected client: MQClient | undefined;
  protected readonly topics = new Set<string>();
  private readonly roundRobin = new Map<string, number>();
  protected state: "new" | "running" | "stopped" = "new";
  protected readonly member: ProducerMember;
  protected readonly logger: RemotingLogger;

  constructor(options: ProducerOptions) {
    this.logger = options.logger ?? silentLogger;
    checkGroup(options.groupId);
    this.options = { ...options };
    this.groupId = options.groupId;
    this.sendTimeoutMs = positive(options.sendTimeoutMs, "sendTimeoutMs", 3000);
    this.retryTimes = nonNegative(options.retryTimesWhenSendFailed, "retryTimesWhenSendFailed", 2);
    this.compressOver = nonNegative(options.compressOverBytes, "compressOverBytes", 4096);
    this.maxMessageSize = positive(options.maxMessageSize, "maxMessageSize", 4 * 1024 * 1024);
    // A batch body is one message to a broker, held to its maxMessageSize.
    this.batchMaxBytes = Math.min(
      positive(options.batchMaxBytes, "batchMaxBytes", 128 * 1024),
      this.maxMessageSize,
    );
    if (options.autoBatch) this.batcher = new SendAccumulator((g) => this.flushBatch(g));
    this.member = { group: this.groupId, publishedTopics: () => this.topics };
  }

  /** The client id brokers know this producer by, once started. */
  get clientId(): string | undefined {
    return this.client?.clientId;
  }

  /** Which producers may share this one's group in this process. */
  protected get kind(): ProducerKind {
    return "normal";
  }

  async start(): Promise<void> {
    if (this.state !== "new")
      throw new MQClientError("ILLEGAL_ARGUMENT", `producer is ${this.state}; create a new one`);
    claimGroup(this.groupId, this.kind);
    try {
      this.client = MQClient.acquire(this.options, "producer", this.groupId, String(process.pid));
    } catch (e) {
      releaseGroup(this.groupId);
      throw e;
    }
    this.client.registerProducer(this.member);
    this.state = "running";
  }

  protected running(): MQClient {
    if (this.state !== "running" || !this.client || this.client.isClosed) {
      throw new MQClientError(
        this.state === "stopped" ? "SHUTDOWN" : "NOT_STARTED",
        `producer is ${this.state}`,
      );
    }
    return this.client;
  }

  /**
   * Validates and encodes `msg`. A transactional half message gets TRAN_MSG and PGROUP and the prepared
   * sysFlag, and no delay (as Java, which clears the delay level of a transactional message). A batch's
   * messages are never compressed: the batch has one sysFlag for all of them.
   */
  private prepare(
    client: MQClient,
    msg: Message,
    opts: SendOptions | undefined,
    transactional = false,
    compress = true,
  ): Prepared {
    // A topic in `topics` passed this check on an earlier send.
    if (!this.topics.has(msg.topic)) {
      const problem = topicNameProblem(msg.topic);
      if (problem) throw new MQClientError("MESSAGE_ILLEGAL", problem);
    }
    if (msg.body.length === 0) throw new MQClientError("MESSAGE_ILLEGAL", "message body is empty");
    if (msg.body.length > this.maxMessageSize) {
      throw new MQClientError(
        "MESSAGE_ILLEGAL",
        `message body is ${msg.body.length} bytes, over ${this.maxMessageSize}`,
      );
    }
    const shardingKey = opts?.shardingKey ?? msg.shardingKey;
    const uniqKey = client.uniqIds.next();
    const savedShardingKey = msg.shardingKey;
    const savedDelay = msg.delayTimeLevel;
    const savedStart = msg.startDeliverTime;
    msg.shardingKey = shardingKey;
    let extra: Properties | undefined;
    if (transactional) {
      msg.delayTimeLevel = 0;
      msg.startDeliverTime = undefined;
      extra = new Map([
        [Prop.TRAN_MSG, "true"],
        [Prop.PRODUCER_GROUP, this.groupId],
      ]);
    }
    let properties: string;
    try {
      properties = encodeMessageProperties(msg, uniqKey, extra);
    } finally {
      msg.shardingKey = savedShardingKey;
      msg.delayTimeLevel = savedDelay;
      msg.startDeliverTime = savedStart;
    }
    if (Buffer.byteLength(properties) > MAX_PROPERTIES_BYTES) {
      throw new MQClientError("MESSAGE_ILLEGAL", `message properties exceed ${MAX_PROPERTIES_BYTES} bytes`);
    }
    let body = msg.body;
    let sysFlag = 0;
    if (compress && this.compressOver > 0 && body.length >= this.compressOver) {
      const z = deflateSync(body);
      if (z.length < body.length) {
        body = z;
        sysFlag |= SysFlag.COMPRESSED;
      }
    }
    if (transactional) sysFlag |= SysFlag.TRANSACTION_PREPARED;
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

  /**
   * The queue and broker address for `p` when the topic's route is cached and usable, without waiting; otherwise
   * undefined and target() does the work.
   */
  private cachedTarget(client: MQClient, p: Prepared, avoidBroker?: string): Target | undefined {
    const topic = p.header.topic;
    const queues = this.cachedQueues(client, topic);
    if (queues === undefined) return undefined;
    const mq = this.selectQueue(topic, queues, p, avoidBroker);
    const addr = client.routes.masterAddress(mq.brokerName);
    return addr ? { mq, addr } : undefined;
  }

  /** The topic's writable queues when this producer has used it and its route is cached; else undefined. */
  private cachedQueues(client: MQClient, topic: string): MessageQueue[] | undefined {
    return this.topics.has(topic) ? client.routes.cachedPublishQueues(topic) : undefined;
  }

  private async target(client: MQClient, p: Prepared, avoidBroker?: string): Promise<Target> {
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
    // With nothing in flight the caller waits for each answer (one in flight): it goes at once, spared the
    // accumulator's extra promise and microtask (3 % of a send's client CPU).
    if (
      this.batcher &&
      this.sending > 0 &&
      p.shardingKey === undefined &&
      p.header.sysFlag === 0 &&
      msg.delayTimeLevel < 1 &&
      msg.startDeliverTime === undefined &&
      this.cachedQueues(client, p.header.topic) !== undefined
    ) {
      return this.batcher.add(p.header.topic, p);
    }
    return this.sendPrepared(client, p);
  }

  /**
   * Sends `msgs` as one SEND_BATCH_MESSAGE (Java's send(Collection<Message>)): all to one queue, stored back to
   * back, all stored or none. They must share a topic, which may not be a retry topic, and none may be delayed
   * or timed (as in Java). The queue is chosen as for a single send of the first message (its sharding key, if
   * any). Bodies are sent uncompressed; the whole batch body must fit in maxMessageSize.
   */
  async sendBatch(msgs: readonly Message[], opts?: SendOptions): Promise<SendResult[]> {
    const client = this.running();
    const topic = msgs[0]?.topic;
    if (topic === undefined)
      throw new MQClientError("ILLEGAL_ARGUMENT", "a batch needs at least one message");
    if (topic.startsWith(RETRY_PREFIX)) {
      throw new MQClientError("MESSAGE_ILLEGAL", `retry topic ${topic} cannot take a batch`);
    }
    for (const m of msgs) {
      if (m.topic !== topic) {
        throw new MQClientError("MESSAGE_ILLEGAL", `a batch has one topic: ${topic} and ${m.topic}`);
      }
      if (m.delayTimeLevel >= 1 || m.startDeliverTime !== undefined) {
        throw new MQClientError("MESSAGE_ILLEGAL", "delayed and timed messages cannot be sent in a batch");
      }
    }
    const ps = msgs.map((m) => this.prepare(client, m, opts, false, false));
    const bytes = ps.reduce((n, p) => n + batchItemBytes(p), 0);
    if (bytes > this.maxMessageSize) {
      throw new MQClientError("MESSAGE_ILLEGAL", `batch is ${bytes} bytes, over ${this.maxMessageSize}`);
    }
    return this.sendPreparedBatch(client, ps);
  }

  /** One turn's auto-batched sends of a topic: in batches of up to batchMaxBytes; a batch of one goes alone. */
  private flushBatch(g: Pending<Prepared, SendResult>[]): void {
    const client = this.running();
    let i = 0;
    while (i < g.length) {
      let bytes = batchItemBytes(g[i]!.item);
      let j = i + 1;
      while (j < g.length && bytes + batchItemBytes(g[j]!.item) <= this.batchMaxBytes) {
        bytes += batchItemBytes(g[j]!.item);
        j++;
      }
      const chunk = g.slice(i, j);
      i = j;
      if (chunk.length === 1) {
        const one = chunk[0]!;
        this.sendPrepared(client, one.item).then(one.resolve, one.reject);
        continue;
      }
      this.sendPreparedBatch(
        client,
        chunk.map((c) => c.item),
      ).then(
        (rs) => {
          for (let k = 0; k < chunk.length; k++) chunk[k]!.resolve(rs[k]!);
        },
        (e: unknown) => {
          for (const c of chunk) c.reject(e);
        },
      );
    }
  }

  /** A synchronous send of a half message (TransactionProducer). */
  protected sendHalf(client: MQClient, msg: Message): Promise<SendResult> {
    return this.sendPrepared(client, this.prepare(client, msg, undefined, true));
  }

  private sendPrepared(client: MQClient, p: Prepared): Promise<SendResult> {
    return this.attempts(
      client,
      p,
      (queueId) => binarySendCommand(p.header, queueId, p.body),
      (addr, res, mq) => {
        const r = readSendReply(addr, res, mq.queueId);
        return {
          sendStatus: r.status,
          messageId: p.uniqKey,
          offsetMsgId: r.offsetMsgId,
          topic: p.header.topic,
          brokerName: mq.brokerName,
          queueId: r.queueId,
          queueOffset: r.queueOffset,
        };
      },
    );
  }

  /** sendPrepared for a batch: one SEND_BATCH_MESSAGE, retried whole to one queue at a time. */
  private sendPreparedBatch(client: MQClient, ps: Prepared[]): Promise<SendResult[]> {
    const first = ps[0]!;
    const topic = first.header.topic;
    const header: SendHeader = { ...first.header, sysFlag: 0, flag: 0, properties: BATCH_PROPERTIES };
    const body = encodeBatchBody(
      ps.map((p) => ({ flag: p.header.flag, body: p.body, properties: p.header.properties })),
    );
    return this.attempts(
      client,
      first,
      (queueId) => binarySendCommand(header, queueId, body, true),
      (addr, res, mq) =>
        readBatchSendReply(addr, res, mq.queueId, ps.length).map((r, i) => ({
          sendStatus: r.status,
          messageId: ps[i]!.uniqKey,
          offsetMsgId: r.offsetMsgId,
          topic,
          brokerName: mq.brokerName,
          queueId: r.queueId,
          queueOffset: r.queueOffset,
        })),
    );
  }

  /**
   * A send's attempts: the request for the queue chosen for `p` (another broker after a failure), its answer read
   * by `read`, which throws on a refusal. Retried after transport errors and retriable refusals, up to
   * retryTimesWhenSendFailed times within sendTimeoutMs. The request and its reply are handled here rather than
   * through sendMessage(): one async frame less per send on the hottest path.
   */
  private async attempts<T>(
    client: MQClient,
    p: Prepared,
    request: (queueId: number) => RemotingCommand,
    read: (addr: string, res: RemotingCommand, mq: MessageQueue) => T,
  ): Promise<T> {
    const topic = p.header.topic;
    const started = Date.now();
    let lastErr: unknown;
    let avoid: string | undefined;
    this.sending++;
    try {
      for (let attempt = 0; attempt <= this.retryTimes; attempt++) {
        const left = this.sendTimeoutMs - (Date.now() - started);
        if (left <= 0) break;
        let mq: MessageQueue | undefined;
        try {
          const t = this.cachedTarget(client, p, avoid) ?? (await this.target(client, p, avoid));
          mq = t.mq;
          return read(t.addr, await client.remoting.invoke(t.addr, request(mq.queueId), left), mq);
        } catch (e) {
          lastErr = e;
          if (this.state !== "running") break;
          if (!(isTransportError(e) || (e instanceof MQClientError && e.retriable))) throw e;
          avoid = mq?.brokerName;
          this.logger.warn({ topic, broker: avoid, attempt, err: errorMessage(e) }, "send failed; retrying");
        }
      }
    } finally {
      this.sending--;
    }
    if (lastErr instanceof MQClientError && !isTransportError(lastErr)) throw lastErr;
    throw new MQClientError(
      "TIMEOUT",
      `send to ${topic} failed after ${Date.now() - started} ms: ${errorMessage(lastErr ?? "time budget spent")}`,
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
    const { mq, addr } = this.cachedTarget(client, p) ?? (await this.target(client, p));
    await client.remoting.invokeOneway(
      addr,
      binarySendCommand(p.header, mq.queueId, p.body),
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
    releaseGroup(this.groupId);
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

/** A local transaction's outcome (Aliyun ONS TransactionStatus). */
export const TransactionStatus = {
  CommitTransaction: "CommitTransaction",
  RollbackTransaction: "RollbackTransaction",
  Unknow: "Unknow",
} as const;
export type TransactionStatus = (typeof TransactionStatus)[keyof typeof TransactionStatus];

/**
 * Answers the broker's check of an unresolved transaction. It gets the half message as sent (its topic, body,
 * properties; messageId and transactionId are the id sendMessageInTransaction reported). Anything other than
 * CommitTransaction or RollbackTransaction, or a throw, leaves it unresolved: the broker asks again later.
 */
export type LocalTransactionChecker = (
  msg: ReceivedMessage,
) => TransactionStatus | undefined | Promise<TransactionStatus | undefined>;

/** Runs the local transaction after the half message was stored. A throw counts as Unknow. */
export type LocalTransactionExecutor<A = unknown> = (
  msg: Message,
  arg: A,
) => TransactionStatus | undefined | Promise<TransactionStatus | undefined>;

export interface TransactionProducerOptions extends ProducerOptions {
  checker: LocalTransactionChecker;
}

export interface TransactionSendResult extends SendResult {
  /** What the executor decided (RollbackTransaction, without running it, when the half was not stored SEND_OK). */
  transactionStatus: TransactionStatus;
  /** The id checks carry (the half message's unique id). */
  transactionId: string;
}

function commitOrRollback(s: TransactionStatus): number {
  return s === TransactionStatus.CommitTransaction
    ? SysFlag.TRANSACTION_COMMIT
    : s === TransactionStatus.RollbackTransaction
      ? SysFlag.TRANSACTION_ROLLBACK
      : 0;
}

function asStatus(v: unknown): TransactionStatus {
  return v === TransactionStatus.CommitTransaction || v === TransactionStatus.RollbackTransaction
    ? v
    : TransactionStatus.Unknow;
}

/**
 * A producer of transactional messages (RocketMQ TransactionMQProducer, Aliyun ONS TransactionProducer). Plain
 * send/sendAsync/sendOneway also work and are not transactional.
 */
export class TransactionProducer extends Producer {
  private readonly checker: LocalTransactionChecker;
  /** Brokers that have had a heartbeat naming this group since start (so they can check back). */
  private readonly introduced = new Set<string>();
  private readonly forgetBroker = (addr: string): void => {
    this.introduced.delete(addr);
  };

  constructor(options: TransactionProducerOptions) {
    super(options);
    if (typeof options?.checker !== "function") {
      throw new MQClientError("ILLEGAL_ARGUMENT", "a TransactionProducer needs a checker function");
    }
    this.checker = options.checker;
    this.member.checkTransactionState = (msg, header, reply) => this.onCheck(msg, header, reply);
  }

  protected override get kind(): ProducerKind {
    return "transaction";
  }

  override async start(): Promise<void> {
    await super.start();
    this.client!.remoting.on("connectionClose", this.forgetBroker);
    // Checks of half messages an earlier process of the group left unresolved come to the producers the broker
    // knows, so it must know this one before it sends anything: as Java, follow TBW102's route (its brokers are
    // every broker a topic could be created on), kept fresh with the others, and heartbeat them now.
    this.topics.add(DEFAULT_TOPIC);
    const client = this.client!;
    void client.routes
      .update(DEFAULT_TOPIC)
      .then(() => client.heartbeatAll())
      .catch((e: unknown) =>
        this.logger.warn({ err: errorMessage(e) }, "no route to the brokers yet; checks wait for a send"),
      );
  }

  /**
   * Sends `msg` as a half message, runs `executor(msg, arg)` and sends its outcome to the broker. Resolves with
   * the send result and the outcome; rejects only when the half message could not be sent (then the executor
   * did not run). When the outcome cannot be delivered, the broker's check-back settles it.
   */
  async sendMessageInTransaction<A = unknown>(
    msg: Message,
    executor: LocalTransactionExecutor<A>,
    arg?: A,
  ): Promise<TransactionSendResult> {
    if (typeof executor !== "function") {
      throw new MQClientError("ILLEGAL_ARGUMENT", "sendMessageInTransaction needs an executor function");
    }
    const client = this.running();
    const sent = await this.sendHalf(client, msg);
    const addr = client.routes.masterAddress(sent.brokerName);
    if (addr && !this.introduced.has(addr)) {
      // The broker checks back only with producers whose heartbeat named the group.
      await client.heartbeatTo(addr).then(
        () => this.introduced.add(addr),
        (e: unknown) => this.logger.warn({ broker: addr, err: errorMessage(e) }, "heartbeat failed"),
      );
    }
    let status: TransactionStatus;
    let remark: string | undefined;
    if (sent.sendStatus !== "SEND_OK") {
      status = TransactionStatus.RollbackTransaction;
    } else {
      msg.transactionId = sent.messageId;
      try {
        status = asStatus(await executor(msg, arg as A));
      } catch (e) {
        status = TransactionStatus.Unknow;
        remark = `executeLocalTransactionBranch exception: ${errorMessage(e)}`;
        this.logger.warn({ msgId: sent.messageId, err: errorMessage(e) }, "transaction executor threw");
      }
    }
    const phy = decodeOffsetMsgId(sent.offsetMsgId)?.phyOffset;
    if (!addr || phy === undefined) {
      this.logger.warn(
        { msgId: sent.messageId, broker: sent.brokerName },
        "cannot end transaction; the broker will check back",
      );
    } else {
      const cmd = endTransactionCommand(
        {
          producerGroup: this.groupId,
          tranStateTableOffset: sent.queueOffset,
          commitLogOffset: phy,
          commitOrRollback: commitOrRollback(status),
          fromTransactionCheck: false,
          msgId: sent.messageId,
          transactionId: sent.messageId,
        },
        remark,
      );
      await client.remoting.invokeOneway(addr, cmd, client.requestTimeoutMs).catch((e: unknown) => {
        this.logger.warn(
          { msgId: sent.messageId, err: errorMessage(e) },
          "END_TRANSACTION failed; the broker will check back",
        );
      });
    }
    return { ...sent, transactionStatus: status, transactionId: sent.messageId };
  }

  private onCheck(
    msg: ReceivedMessage,
    header: TransactionCheckHeader,
    reply: (cmd: RemotingCommand) => Promise<void>,
  ): void {
    if (this.state !== "running") return;
    void (async () => {
      let status: TransactionStatus;
      let remark: string | undefined;
      try {
        status = asStatus(await this.checker(msg));
      } catch (e) {
        status = TransactionStatus.Unknow;
        remark = `checkLocalTransactionState exception: ${errorMessage(e)}`;
        this.logger.warn({ msgId: msg.messageId, err: errorMessage(e) }, "transaction checker threw");
      }
      if (this.state !== "running") return;
      const cmd = endTransactionCommand(
        {
          producerGroup: this.groupId,
          tranStateTableOffset: header.tranStateTableOffset,
          commitLogOffset: header.commitLogOffset,
          commitOrRollback: commitOrRollback(status),
          fromTransactionCheck: true,
          msgId: msg.messageId || header.msgId,
          transactionId: header.transactionId || msg.transactionId || msg.messageId,
        },
        remark,
      );
      await reply(cmd);
    })().catch((e: unknown) => {
      this.logger.warn({ msgId: msg.messageId, err: errorMessage(e) }, "cannot answer transaction check");
    });
  }

  override async shutdown(): Promise<void> {
    this.client?.remoting.off("connectionClose", this.forgetBroker);
    await super.shutdown();
  }
}
