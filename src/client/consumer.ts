// Push consumer (RocketMQ DefaultMQPushConsumer, concurrent or orderly; Aliyun ONS API shape).
//
// Clustering: the group's members split the queues of each subscribed topic by AllocateMessageQueueAveragely
// over the sorted queue list and the sorted member ids from GET_CONSUMER_LIST_BY_GROUP; they rebalance every
// rebalanceIntervalMs and at once when a broker sends NOTIFY_CONSUMER_IDS_CHANGED. Each member also consumes
// `%RETRY%<group>`, where failed messages come back (after CONSUMER_SEND_MSG_BACK) with their original topic
// in RETRY_TOPIC. Offsets live on the broker.
// Broadcasting: every member takes every queue; offsets live in a local file; failed messages are dropped.
//
// A listener returning Action.CommitMessage consumes the message; anything else (ReconsumeLater, nothing, a
// throw, a rejected promise) asks for a retry. The offset committed for a queue is its lowest unfinished one.
//
// Orderly (ConsumerOptions.orderly = true, clustering only; RocketMQ MessageListenerOrderly, Aliyun ONS
// OrderConsumer): every subscription of the consumer is consumed one message of a queue at a time, in offset
// order (see orderly.ts). The consumer takes the broker's lease on a queue (LOCK_BATCH_MQ) before it pulls or
// consumes it, renews its leases every 20 s, and when rebalance takes a queue away it waits for the running
// listener call, commits the queue's offset and only then gives the lease back (UNLOCK_BATCH_MQ); the new
// owner retries LOCK_BATCH_MQ (every 500 ms) until it gets the queue, then reads the committed offset. So two
// members never consume one queue at once and order holds across rebalances. Failures are retried in place
// (the queue waits) every suspendTimeMillis, up to maxReconsumeTimes (default unbounded), then the message
// goes to the dead-letter queue. At shutdown the leases are given back after the offsets are committed.
//
// Subscriptions are tag expressions or SQL92 (see subscription.ts); the broker refuses a malformed SQL92
// expression and start() (or subscribeAsync() on a running consumer) rejects with that error.
import { homedir } from "node:os";
import { join } from "node:path";
import type { RemotingLogger } from "../protocol/remoting/logger.js";
import { silentLogger } from "../protocol/remoting/logger.js";
import { RETRY_PREFIX, retryTopic, topicNameProblem } from "../common/topic.js";
import {
  getConsumerIdList,
  getMaxOffset,
  lockBatchMQ,
  searchOffsetByTimestamp,
  unlockBatchMQ,
  unregisterClient,
} from "./broker-api.js";
import type { ClientOptions } from "./client-config.js";
import { checkGroup, nonNegative, positive } from "./client-config.js";
import { ConsumePool } from "./consume-pool.js";
import { MQClientError, errorMessage } from "./errors.js";
import type { ReceivedMessage } from "./message.js";
import { MQClient } from "./mq-client.js";
import type { ConsumerData, ConsumerMember, SubscriptionData } from "./mq-client.js";
import { LocalFileOffsetStore, RemoteOffsetStore } from "./offset-store.js";
import type { OffsetStore } from "./offset-store.js";
import { LOCK_RENEW_INTERVAL_MS, OrderlyConsumeService, leaseValid } from "./orderly.js";
import { ProcessQueue, pause, runPullLoop } from "./pull-loop.js";
import type { PullContext } from "./pull-loop.js";
import { allocateAveragely } from "./rebalance.js";
import type { MessageQueue } from "./route-cache.js";
import { mqKey } from "./route-cache.js";
import { sendBack } from "./send-back.js";
import { buildSubscriptionData, readExpression } from "./subscription.js";
import type { SubscriptionExpression } from "./subscription.js";

export const MessageModel = { CLUSTERING: "CLUSTERING", BROADCASTING: "BROADCASTING" } as const;
export type MessageModel = (typeof MessageModel)[keyof typeof MessageModel];

export const Action = { CommitMessage: "CommitMessage", ReconsumeLater: "ReconsumeLater" } as const;
export type Action = (typeof Action)[keyof typeof Action];

function isPromiseLike<T>(v: T | PromiseLike<T>): v is PromiseLike<T> {
  return typeof (v as { then?: unknown } | undefined)?.then === "function";
}

export type MessageListener = (message: ReceivedMessage) => Action | void | Promise<Action | void>;

/** Where a queue with no stored offset starts: its end, its beginning, or the first message stored at/after. */
export type ConsumeFromWhere = "LAST" | "FIRST" | { timestamp: number };

export interface ConsumerOptions extends ClientOptions {
  messageModel?: MessageModel;
  /**
   * Consume every subscription of this consumer orderly: one message of a queue at a time, in queue order,
   * under the broker's lease on the queue (see the file comment). Clustering only. Default false.
   */
  orderly?: boolean;
  /**
   * Retries before a message goes to %DLQ%<group>. Default 16; for an orderly consumer unbounded
   * (2147483647, as Java), so a failing message blocks its queue until it succeeds.
   */
  maxReconsumeTimes?: number;
  /** Orderly: how long a queue waits before its failed message is given again. Default 1000. */
  suspendTimeMillis?: number;
  /** Listener calls running at once. Default 20. */
  consumeThreadNums?: number;
  /**
   * Default "LAST". A new clustering group still reads a young queue (one whose first message is still in the
   * broker's memory) from 0, whichever is given, "LAST" or a timestamp: the broker's rule, as RocketMQ 4.x's.
   */
  consumeFromWhere?: ConsumeFromWhere;
  /** Messages asked for per pull. Default 32. */
  pullBatchSize?: number;
  /** Broadcasting offset files live under this directory. Default ~/.rocketmq-ts/offsets. */
  offsetStoreDir?: string;
  /** Default 20000. */
  rebalanceIntervalMs?: number;
  /** How often offsets are committed. Default 5000. */
  persistOffsetIntervalMs?: number;
  /** How long the broker may hold an empty pull. Default 15000. */
  suspendTimeoutMs?: number;
  /** Client-side timeout of a pull; must exceed suspendTimeoutMs. Default 30000. */
  pullTimeoutMs?: number;
  /** Stop pulling a queue while this many of its messages wait or run. Default 1000. */
  pullThresholdForQueue?: number;
  /** When a failed message cannot be sent back to the broker, it is retried here after this long. Default 5000. */
  localRetryDelayMs?: number;
  /** How long shutdown waits for running listeners. Default 5000. */
  shutdownTimeoutMs?: number;
}

interface Subscription {
  data: SubscriptionData;
  listener: MessageListener | undefined;
}

interface Task {
  pq: ProcessQueue;
  msg: ReceivedMessage;
  generation: number;
}

/** Java Integer.MAX_VALUE: an orderly consumer's default maxReconsumeTimes. */
const ORDERLY_MAX_RECONSUME_TIMES = 2147483647;
/** A queue whose lease another member still holds is asked for again this soon (Java rebalanceLater(500)). */
const LOCK_RETRY_MS = 500;

const CONSUME_FROM: Record<string, string> = {
  LAST: "CONSUME_FROM_LAST_OFFSET",
  FIRST: "CONSUME_FROM_FIRST_OFFSET",
};

export class Consumer {
  readonly groupId: string;
  readonly messageModel: MessageModel;
  readonly orderly: boolean;
  private readonly suspendTimeMillis: number;
  private orderlyService: OrderlyConsumeService | undefined;
  /** Orderly queues being handed back (waiting for their listener, committing, unlocking). */
  private readonly releasing = new Map<string, Promise<void>>();
  /** The last rebalance left a queue unlocked because another member still holds it. */
  private lockPending = false;
  private readonly options: ConsumerOptions;
  private readonly maxReconsumeTimes: number;
  private readonly consumeFromWhere: ConsumeFromWhere;
  private readonly rebalanceIntervalMs: number;
  private readonly persistIntervalMs: number;
  private readonly localRetryDelayMs: number;
  private readonly shutdownTimeoutMs: number;
  private readonly pullSettings: Pick<
    PullContext,
    "pullBatchSize" | "suspendTimeoutMs" | "pullTimeoutMs" | "pullThresholdForQueue"
  >;
  private readonly subs = new Map<string, Subscription>();
  private readonly pqs = new Map<string, ProcessQueue>();
  private readonly pool: ConsumePool<Task>;
  private readonly consumeThreads: number;
  private readonly abort = new AbortController();
  private readonly timers = new Set<NodeJS.Timeout>();
  private client: MQClient | undefined;
  private offsetStore: OffsetStore | undefined;
  private state: "new" | "starting" | "running" | "stopping" | "stopped" = "new";
  private rebalancing: Promise<void> | undefined;
  private rebalanceAgain = false;
  private rebalanceRetryMs = 0;
  private rebalanceRetryPending = false;
  private readonly member: ConsumerMember;
  /** Its own logger: the shared client instance may have been created by another producer or consumer. */
  private readonly logger: RemotingLogger;

  constructor(options: ConsumerOptions) {
    this.logger = options.logger ?? silentLogger;
    checkGroup(options.groupId);
    this.options = { ...options };
    this.groupId = options.groupId;
    this.messageModel = options.messageModel ?? MessageModel.CLUSTERING;
    if (this.messageModel !== "CLUSTERING" && this.messageModel !== "BROADCASTING") {
      throw new MQClientError("ILLEGAL_ARGUMENT", `messageModel must be CLUSTERING or BROADCASTING`);
    }
    this.orderly = options.orderly === true;
    this.maxReconsumeTimes = nonNegative(
      options.maxReconsumeTimes,
      "maxReconsumeTimes",
      this.orderly ? ORDERLY_MAX_RECONSUME_TIMES : 16,
    );
    this.suspendTimeMillis = positive(options.suspendTimeMillis, "suspendTimeMillis", 1000);
    this.consumeFromWhere = options.consumeFromWhere ?? "LAST";
    const cfw = this.consumeFromWhere;
    if (typeof cfw === "object" ? !Number.isFinite(cfw.timestamp) : cfw !== "LAST" && cfw !== "FIRST") {
      throw new MQClientError(
        "ILLEGAL_ARGUMENT",
        `consumeFromWhere must be "LAST", "FIRST" or { timestamp }`,
      );
    }
    this.rebalanceIntervalMs = positive(options.rebalanceIntervalMs, "rebalanceIntervalMs", 20_000);
    this.persistIntervalMs = positive(options.persistOffsetIntervalMs, "persistOffsetIntervalMs", 5000);
    this.localRetryDelayMs = positive(options.localRetryDelayMs, "localRetryDelayMs", 5000);
    this.shutdownTimeoutMs = nonNegative(options.shutdownTimeoutMs, "shutdownTimeoutMs", 5000);
    const suspend = positive(options.suspendTimeoutMs, "suspendTimeoutMs", 15_000);
    const pullTimeout = positive(options.pullTimeoutMs, "pullTimeoutMs", 30_000);
    if (pullTimeout <= suspend) {
      throw new MQClientError("ILLEGAL_ARGUMENT", "pullTimeoutMs must be longer than suspendTimeoutMs");
    }
    this.pullSettings = {
      pullBatchSize: positive(options.pullBatchSize, "pullBatchSize", 32),
      suspendTimeoutMs: suspend,
      pullTimeoutMs: pullTimeout,
      pullThresholdForQueue: positive(options.pullThresholdForQueue, "pullThresholdForQueue", 1000),
    };
    this.consumeThreads = positive(options.consumeThreadNums, "consumeThreadNums", 20);
    this.pool = new ConsumePool(this.consumeThreads, (t) => this.consumeOne(t));
    this.member = {
      group: this.groupId,
      heartbeatData: () => this.heartbeatData(),
      onConsumerIdsChanged: () => this.requestRebalance(),
      onRouteChanged: (topic) => {
        if (this.subs.has(topic)) this.requestRebalance();
      },
    };
  }

  private get clustering(): boolean {
    return this.messageModel === "CLUSTERING";
  }

  get clientId(): string | undefined {
    return this.client?.clientId;
  }

  /** The queues this consumer pulls now. */
  assignedQueues(): MessageQueue[] {
    return [...this.pqs.values()].map((pq) => ({ ...pq.mq }));
  }

  private refuseOrderlyBroadcasting(): void {
    if (this.orderly && !this.clustering) {
      throw new MQClientError(
        "ILLEGAL_ARGUMENT",
        "orderly consumption needs CLUSTERING: a BROADCASTING consumer cannot be orderly",
      );
    }
  }

  /**
   * Subscribes `topic` with a tag expression ("*", "TagA", "TagA||TagB"), an SQL92 expression over the message
   * properties (`{ sql: "a > 5" }` or MessageSelector.bySql("a > 5")), or a MessageSelector. A later subscribe
   * to the same topic replaces the earlier one. When already started, the brokers hear of it at once and queues
   * are rebalanced; a subscription the broker refuses is then dropped again and logged (subscribeAsync reports
   * it instead).
   */
  subscribe(topic: string, expression: SubscriptionExpression, listener: MessageListener): this {
    const prev = this.addSubscription(topic, expression, listener);
    if (this.state === "running") {
      this.applySubscription(topic, prev).catch((e: unknown) => {
        this.logger.error({ topic, group: this.groupId, err: errorMessage(e) }, "subscription refused");
      });
    }
    return this;
  }

  /**
   * As subscribe; on a running consumer, resolves once the brokers accepted the subscription and rejects (after
   * dropping it again) when a broker refused it, e.g. a malformed SQL92 expression (SUBSCRIPTION_PARSE_FAILED).
   */
  async subscribeAsync(
    topic: string,
    expression: SubscriptionExpression,
    listener: MessageListener,
  ): Promise<void> {
    const prev = this.addSubscription(topic, expression, listener);
    if (this.state === "running") await this.applySubscription(topic, prev);
  }

  private addSubscription(
    topic: string,
    expression: SubscriptionExpression,
    listener: MessageListener,
  ): Subscription | undefined {
    this.refuseOrderlyBroadcasting();
    const problem = topicNameProblem(topic);
    if (problem) throw new MQClientError("ILLEGAL_ARGUMENT", problem);
    if (topic.startsWith(RETRY_PREFIX))
      throw new MQClientError("ILLEGAL_ARGUMENT", "retry topics are subscribed automatically");
    if (typeof listener !== "function")
      throw new MQClientError("ILLEGAL_ARGUMENT", "listener must be a function");
    const { type, expr } = readExpression(expression);
    const prev = this.subs.get(topic);
    this.subs.set(topic, { data: buildSubscriptionData(topic, expr, type), listener });
    return prev;
  }

  /** A running consumer's new subscription: checked with the brokers, undone when refused. */
  private async applySubscription(topic: string, prev: Subscription | undefined): Promise<void> {
    const client = this.client;
    if (!client) return;
    const mine = this.subs.get(topic);
    await client.routes.update(topic).catch(() => {});
    try {
      await client.probeConsumer(this.heartbeatData());
    } catch (e) {
      if (this.subs.get(topic) === mine) {
        if (prev) this.subs.set(topic, prev);
        else this.subs.delete(topic);
      }
      throw e;
    }
    await client.heartbeatAll();
    this.requestRebalance();
  }

  unsubscribe(topic: string): this {
    if (this.subs.delete(topic) && this.state === "running") void this.subscriptionsChanged();
    return this;
  }

  private async subscriptionsChanged(): Promise<void> {
    const client = this.client;
    if (!client) return;
    await client.heartbeatAll();
    this.requestRebalance();
  }

  private heartbeatData(): ConsumerData {
    const cfw = this.consumeFromWhere;
    return {
      groupName: this.groupId,
      consumeType: "CONSUME_PASSIVELY",
      messageModel: this.messageModel,
      consumeFromWhere: typeof cfw === "object" ? "CONSUME_FROM_TIMESTAMP" : CONSUME_FROM[cfw]!,
      subscriptionDataSet: [...this.subs.values()].map((s) => s.data),
      unitMode: false,
    };
  }

  async start(): Promise<void> {
    if (this.state !== "new")
      throw new MQClientError("ILLEGAL_ARGUMENT", `consumer is ${this.state}; create a new one`);
    this.refuseOrderlyBroadcasting();
    this.state = "starting";
    const client = MQClient.acquire(
      this.options,
      "consumer",
      this.groupId,
      this.clustering ? String(process.pid) : "DEFAULT",
    );
    this.client = client;
    try {
      this.offsetStore = this.clustering
        ? new RemoteOffsetStore(client, this.groupId, this.logger)
        : new LocalFileOffsetStore(
            this.options.offsetStoreDir ?? join(homedir(), ".rocketmq-ts", "offsets"),
            client.clientId,
            this.groupId,
            this.logger,
          );
      await this.offsetStore.load();
    } catch (e) {
      this.state = "stopped";
      await client.release();
      throw e;
    }
    if (this.clustering) {
      const rt = retryTopic(this.groupId);
      this.subs.set(rt, { data: buildSubscriptionData(rt, "*"), listener: undefined });
    }
    await Promise.all(
      [...this.subs.keys()].map((t) =>
        client.routes.update(t).catch((e: unknown) => {
          this.logger.warn({ topic: t, err: errorMessage(e) }, "no route yet");
        }),
      ),
    );
    try {
      // The brokers check the subscriptions (a malformed SQL92 expression is refused) before the consumer
      // joins the heartbeat it shares with the other members of its client.
      await client.probeConsumer(this.heartbeatData());
    } catch (e) {
      this.state = "stopped";
      await client.release();
      throw e;
    }
    if (this.orderly) {
      this.orderlyService = new OrderlyConsumeService(
        {
          group: this.groupId,
          client,
          offsetStore: this.offsetStore!,
          logger: this.logger,
          maxReconsumeTimes: this.maxReconsumeTimes,
          suspendTimeMillis: this.suspendTimeMillis,
          listener: (topic) => this.subs.get(topic)?.listener,
          relock: (pq) => this.relock(pq),
        },
        this.consumeThreads,
      );
    }
    client.registerConsumer(this.member);
    await client.heartbeatAll();
    this.state = "running";
    this.every(this.rebalanceIntervalMs, () => this.requestRebalance());
    this.every(this.persistIntervalMs, () => void this.persistOffsets());
    if (this.orderly) this.every(LOCK_RENEW_INTERVAL_MS, () => void this.lockAll());
    this.requestRebalance();
    await this.rebalancing;
  }

  private every(ms: number, f: () => void): void {
    this.timers.add(setInterval(f, ms));
  }

  private later(ms: number, f: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      f();
    }, ms);
    this.timers.add(t);
  }

  private persistOffsets(): Promise<void> {
    const mqs = [...this.pqs.values()].map((pq) => pq.mq);
    return this.offsetStore && mqs.length > 0 ? this.offsetStore.persist(mqs) : Promise.resolve();
  }

  // ---- rebalance ------------------------------------------------------------------------------------------

  private requestRebalance(): void {
    if (this.state !== "running") return;
    if (this.rebalancing) {
      this.rebalanceAgain = true;
      return;
    }
    this.rebalancing = (async () => {
      try {
        do {
          this.rebalanceAgain = false;
          const complete = await this.rebalanceAll();
          if (complete) this.rebalanceRetryMs = 0;
          else if (!this.rebalanceAgain && !this.rebalanceRetryPending && this.state === "running") {
            // A topic had no route or the broker did not answer: try again soon, backing off. A queue whose
            // lease another member still holds is asked for again at a steady pace until it is released.
            this.rebalanceRetryMs = this.lockPending
              ? LOCK_RETRY_MS
              : Math.min(Math.max(this.rebalanceRetryMs * 2, 500), this.rebalanceIntervalMs);
            this.rebalanceRetryPending = true;
            this.later(this.rebalanceRetryMs, () => {
              this.rebalanceRetryPending = false;
              this.requestRebalance();
            });
          }
        } while (this.rebalanceAgain && this.state === "running");
      } finally {
        this.rebalancing = undefined;
      }
    })();
  }

  private async rebalanceAll(): Promise<boolean> {
    let complete = true;
    this.lockPending = false;
    for (const topic of [...this.subs.keys()]) {
      try {
        if (!(await this.rebalanceTopic(topic))) complete = false;
      } catch (e) {
        complete = false;
        this.logger.warn({ topic, group: this.groupId, err: errorMessage(e) }, "rebalance failed");
      }
    }
    // Queues of topics no longer subscribed.
    for (const pq of [...this.pqs.values()]) if (!this.subs.has(pq.mq.topic)) this.dropQueue(pq);
    return complete;
  }

  /** Returns false when it could not decide (no route, broker silent): the current queues are kept. */
  private async rebalanceTopic(topic: string): Promise<boolean> {
    const client = this.client!;
    let all = client.routes.subscribeQueues(topic);
    if (!all) {
      await client.routes.update(topic).catch(() => {});
      all = client.routes.subscribeQueues(topic);
    }
    if (!all) return false;
    let mine: MessageQueue[];
    if (!this.clustering) {
      mine = all;
    } else {
      const addr = client.routes.anyBrokerFor(topic);
      if (!addr) return false;
      let ids = await getConsumerIdList(client.remoting, addr, this.groupId, client.requestTimeoutMs);
      if (!ids.includes(client.clientId)) {
        // The broker does not know us (it restarted, or our heartbeat is in flight): introduce ourselves.
        await client.heartbeatTo(addr);
        ids = await getConsumerIdList(client.remoting, addr, this.groupId, client.requestTimeoutMs);
      }
      ids.sort();
      mine = allocateAveragely(all, ids, client.clientId);
    }
    return this.updateQueues(topic, mine);
  }

  private async updateQueues(topic: string, mine: MessageQueue[]): Promise<boolean> {
    const keep = new Set(mine.map(mqKey));
    for (const pq of [...this.pqs.values()]) {
      if (pq.mq.topic === topic && !keep.has(pq.key)) this.dropQueue(pq);
    }
    let complete = true;
    const wanted = mine.filter((mq) => !this.pqs.has(mqKey(mq)));
    let fresh = wanted;
    let lockedAt = 0;
    if (this.orderly && wanted.length > 0) {
      // Only queues whose lease we get; a queue we are still handing back is taken again once that is done.
      const free = wanted.filter((mq) => !this.releasing.has(mqKey(mq)));
      lockedAt = Date.now();
      const held = await this.lockQueues(free);
      fresh = free.filter((mq) => held.has(mqKey(mq)));
      if (fresh.length < wanted.length) {
        complete = false;
        this.lockPending = true;
        this.logger.info(
          { topic, group: this.groupId, waiting: wanted.length - fresh.length },
          "orderly: queues still locked by another member; retrying",
        );
      }
      if (this.state !== "running") {
        await this.unlockQueues(fresh);
        return complete;
      }
    }
    await Promise.all(
      fresh.map(async (mq) => {
        try {
          this.offsetStore!.remove(mq);
          // For an orderly queue this reads the offset the previous owner committed before unlocking.
          const start = await this.startOffset(mq);
          if (this.state !== "running" || this.pqs.has(mqKey(mq))) {
            if (this.orderly && !this.pqs.has(mqKey(mq))) await this.unlockQueues([mq]);
            return;
          }
          const pq = new ProcessQueue(mq, start);
          if (this.orderly) {
            pq.locked = true;
            pq.lastLockTimestamp = lockedAt;
          }
          this.pqs.set(pq.key, pq);
          this.logger.info({ mq: pq.key, offset: start, group: this.groupId }, "queue assigned");
          void runPullLoop(pq, this.pullContext());
        } catch (e) {
          complete = false;
          this.logger.warn({ mq: mqKey(mq), err: errorMessage(e) }, "cannot start queue");
          // Do not sit on a lease we cannot use: another member may be given the queue.
          if (this.orderly) await this.unlockQueues([mq]);
        }
      }),
    );
    return complete;
  }

  // ---- orderly leases -------------------------------------------------------------------------------------

  /** LOCK_BATCH_MQ per broker; resolves with the keys of the queues held now. Failures count as not held. */
  private async lockQueues(mqs: readonly MessageQueue[]): Promise<Set<string>> {
    const held = new Set<string>();
    const client = this.client;
    if (!client || mqs.length === 0) return held;
    await Promise.all(
      [...groupByBroker(mqs)].map(async ([brokerName, list]) => {
        const addr = client.routes.masterAddress(brokerName);
        if (!addr) return;
        try {
          const got = await lockBatchMQ(
            client.remoting,
            addr,
            this.groupId,
            client.clientId,
            list,
            client.requestTimeoutMs,
          );
          for (const q of got) held.add(mqKey(q));
        } catch (e) {
          this.logger.warn({ broker: addr, group: this.groupId, err: errorMessage(e) }, "queue lock failed");
        }
      }),
    );
    return held;
  }

  /** UNLOCK_BATCH_MQ per broker, best effort (an unreleased lease expires on the broker after 60 s). */
  private async unlockQueues(mqs: readonly MessageQueue[]): Promise<void> {
    const client = this.client;
    if (!client || mqs.length === 0) return;
    await Promise.all(
      [...groupByBroker(mqs)].map(async ([brokerName, list]) => {
        const addr = client.routes.masterAddress(brokerName);
        if (!addr) return;
        await unlockBatchMQ(client.remoting, addr, this.groupId, client.clientId, list, 1000).catch(
          (e: unknown) => {
            this.logger.warn(
              { broker: addr, group: this.groupId, err: errorMessage(e) },
              "queue unlock failed",
            );
          },
        );
      }),
    );
  }

  /** Renews every lease (every 20 s): a queue the broker no longer gives us stops being consumed. */
  private async lockAll(): Promise<void> {
    if (this.state !== "running") return;
    const pqs = [...this.pqs.values()];
    const now = Date.now();
    const held = await this.lockQueues(pqs.map((pq) => pq.mq));
    for (const pq of pqs) {
      if (held.has(pq.key)) {
        pq.locked = true;
        pq.lastLockTimestamp = now;
      } else if (pq.locked) {
        pq.locked = false;
        this.logger.warn({ mq: pq.key, group: this.groupId }, "orderly: queue lease lost");
      }
    }
  }

  /** Takes one queue's lease again (the consume path, after it was lost). */
  private async relock(pq: ProcessQueue): Promise<boolean> {
    if (pq.dropped || this.state !== "running") return false;
    const now = Date.now();
    const held = await this.lockQueues([pq.mq]);
    if (!held.has(pq.key)) return false;
    pq.locked = true;
    pq.lastLockTimestamp = now;
    return true;
  }

  /**
   * Hands an orderly queue back: waits for its running listener call, commits its offset, then unlocks it so
   * the next owner starts where this one stopped. When the wait outlived the lease (another member may own
   * the queue by now), the offset is left alone.
   */
  private releaseOrderly(pq: ProcessQueue): void {
    const store = this.offsetStore!;
    const p = (async () => {
      await this.orderlyService?.release(pq);
      if (leaseValid(pq)) {
        await store.persist([pq.mq]);
        store.remove(pq.mq);
        await this.unlockQueues([pq.mq]);
      } else {
        store.remove(pq.mq);
        this.logger.warn(
          { mq: pq.key, group: this.groupId },
          "orderly: lease lost before release; offset not committed",
        );
      }
    })()
      .catch((e: unknown) => {
        this.logger.warn({ mq: pq.key, err: errorMessage(e) }, "orderly queue release failed");
      })
      .finally(() => {
        if (this.releasing.get(pq.key) === p) this.releasing.delete(pq.key);
      });
    this.releasing.set(pq.key, p);
  }

  private dropQueue(pq: ProcessQueue): void {
    pq.dropped = true;
    this.pqs.delete(pq.key);
    this.logger.info({ mq: pq.key, group: this.groupId }, "queue released");
    if (this.orderly) {
      this.releaseOrderly(pq);
      return;
    }
    const store = this.offsetStore!;
    void store.persist([pq.mq]).then(() => {
      if (this.clustering && !this.pqs.has(pq.key)) store.remove(pq.mq);
    });
  }

  /** RocketMQ computePullFromWhere: the stored offset, else by consumeFromWhere (retry topics: from 0). */
  private async startOffset(mq: MessageQueue): Promise<number> {
    const stored = await this.offsetStore!.readFromStore(mq);
    if (stored !== undefined && stored >= 0) return stored;
    const cfw = this.consumeFromWhere;
    const isRetry = mq.topic.startsWith(RETRY_PREFIX);
    if (cfw === "FIRST") return 0;
    if (cfw === "LAST" && isRetry) return 0;
    const client = this.client!;
    const addr = client.routes.masterAddress(mq.brokerName) ?? client.routes.pullAddress(mq.brokerName, 0);
    if (!addr) throw new MQClientError("NO_ROUTE", `no address for broker ${mq.brokerName}`);
    if (cfw === "LAST" || isRetry) {
      return getMaxOffset(client.remoting, addr, mq.topic, mq.queueId, client.requestTimeoutMs);
    }
    return searchOffsetByTimestamp(
      client.remoting,
      addr,
      mq.topic,
      mq.queueId,
      cfw.timestamp,
      client.requestTimeoutMs,
    );
  }

  private pullContext(): PullContext {
    return {
      group: this.groupId,
      client: this.client!,
      clustering: this.clustering,
      offsetStore: this.offsetStore!,
      ...this.pullSettings,
      logger: this.logger,
      signal: this.abort.signal,
      subscription: (topic) => this.subs.get(topic)?.data,
      deliver: (pq, msgs) => {
        if (this.orderlyService) this.orderlyService.deliver(pq, msgs);
        else for (const msg of msgs) this.pool.submit({ pq, msg, generation: pq.generation });
      },
      ...(this.orderly ? { canPull: (pq: ProcessQueue) => pq.locked } : {}),
    };
  }

  // ---- consuming ------------------------------------------------------------------------------------------

  /**
   * Runs the listener on one message. A synchronous listener's message is finished here and now (undefined is
   * returned): no promise or microtask per message; only an async answer or a failure goes the async way.
   */
  private consumeOne(task: Task): Promise<void> | undefined {
    const { pq, msg } = task;
    if (pq.dropped || this.state === "stopped") return undefined;
    const sub = this.subs.get(msg.topic);
    // Nobody listens to that topic any more (e.g. a retry of an unsubscribed topic): it counts as consumed.
    if (!sub?.listener) return this.consumed(task, true);
    let r: ReturnType<MessageListener>;
    try {
      r = sub.listener(msg);
    } catch (e) {
      this.listenerThrew(msg, e);
      return this.consumed(task, false);
    }
    if (isPromiseLike(r)) return this.consumeLater(task, r);
    return this.consumed(task, r === Action.CommitMessage);
  }

  private async consumeLater(task: Task, answer: PromiseLike<Action | void>): Promise<void> {
    let ok: boolean;
    try {
      ok = (await answer) === Action.CommitMessage;
    } catch (e) {
      ok = false;
      this.listenerThrew(task.msg, e);
    }
    await this.consumed(task, ok);
  }

  private listenerThrew(msg: ReceivedMessage, e: unknown): void {
    this.logger.warn({ topic: msg.topic, msgId: msg.messageId, err: errorMessage(e) }, "listener threw");
  }

  /** After the listener: commits the offset, or sends a failed message back (async). */
  private consumed(task: Task, ok: boolean): Promise<void> | undefined {
    const { pq, msg } = task;
    // As Java: a queue taken away meanwhile is the new owner's; do not move its offset or send anything back.
    if (pq.dropped) return undefined;
    if (!ok) return this.consumeFailed(task);
    const commit = pq.finish(msg.queueOffset, task.generation);
    if (commit !== undefined) this.offsetStore?.update(pq.mq, commit, true);
    return undefined;
  }

  private async consumeFailed(task: Task): Promise<void> {
    const { pq, msg } = task;
    if (!this.clustering) {
      this.logger.warn({ topic: msg.topic, msgId: msg.messageId }, "broadcasting: failed message dropped");
    } else if (!(await sendBack(this.client!, this.groupId, this.maxReconsumeTimes, msg, this.logger))) {
      const again: ReceivedMessage = { ...msg, reconsumeTimes: msg.reconsumeTimes + 1 };
      this.later(this.localRetryDelayMs, () => {
        if (!pq.dropped && this.state === "running") this.pool.submit({ ...task, msg: again });
      });
      return;
    }
    const commit = pq.finish(msg.queueOffset, task.generation);
    if (commit !== undefined) this.offsetStore?.update(pq.mq, commit, true);
  }

  /**
   * Stops pulling, waits up to shutdownTimeoutMs for running listeners, commits offsets, unregisters from the
   * brokers and releases the connections. Messages pulled but not yet consumed come again to whoever owns
   * their queue next. Idempotent.
   */
  async shutdown(): Promise<void> {
    if (this.state === "new" || this.state === "stopped") {
      this.state = "stopped";
      return;
    }
    if (this.state === "stopping") return;
    while (this.state === "starting") await pause(10, new AbortController().signal);
    this.state = "stopping";
    const client = this.client!;
    this.abort.abort();
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.pool.discard(() => false);
    this.orderlyService?.stop();
    await Promise.all([
      this.pool.idle(this.shutdownTimeoutMs),
      this.orderlyService?.idle(this.shutdownTimeoutMs),
    ]);
    await this.rebalancing;
    if (this.releasing.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.all(this.releasing.values()),
        new Promise<void>((resolve) => (timer = setTimeout(resolve, this.shutdownTimeoutMs))),
      ]);
      clearTimeout(timer);
    }
    await this.persistOffsets();
    if (this.orderlyService) {
      // Leases go back after the offsets are committed; a queue whose listener is still running keeps its
      // lease until it expires on the broker, so nobody else consumes it meanwhile.
      const svc = this.orderlyService;
      await this.unlockQueues(
        [...this.pqs.values()].filter((pq) => pq.locked && !svc.isConsuming(pq)).map((pq) => pq.mq),
      );
    }
    for (const pq of this.pqs.values()) pq.dropped = true;
    this.pqs.clear();
    this.state = "stopped";
    client.unregisterConsumer(this.member);
    await Promise.all(
      client.routes
        .allBrokers()
        .map((b) =>
          unregisterClient(
            client.remoting,
            b.addr,
            client.clientId,
            { consumerGroup: this.groupId },
            1000,
          ).catch(() => {}),
        ),
    );
    await client.release();
  }
}

function groupByBroker(mqs: readonly MessageQueue[]): Map<string, MessageQueue[]> {
  const out = new Map<string, MessageQueue[]>();
  for (const mq of mqs) {
    const list = out.get(mq.brokerName);
    if (list) list.push(mq);
    else out.set(mq.brokerName, [mq]);
  }
  return out;
}
