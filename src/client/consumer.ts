// Push consumer (RocketMQ DefaultMQPushConsumer, concurrent mode; Aliyun ONS API shape).
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
import { homedir } from "node:os";
import { join } from "node:path";
import type { RemotingLogger } from "../protocol/remoting/logger.js";
import { silentLogger } from "../protocol/remoting/logger.js";
import { RETRY_PREFIX, retryTopic, topicNameProblem } from "../common/topic.js";
import { getConsumerIdList, getMaxOffset, searchOffsetByTimestamp, unregisterClient } from "./broker-api.js";
import type { ClientOptions } from "./client-config.js";
import { checkGroup, nonNegative, positive } from "./client-config.js";
import { ConsumePool } from "./consume-pool.js";
import { MQClientError, errorMessage } from "./errors.js";
import type { ReceivedMessage } from "./message.js";
import { MQClient } from "./mq-client.js";
import type { ConsumerData, ConsumerMember, SubscriptionData } from "./mq-client.js";
import { LocalFileOffsetStore, RemoteOffsetStore } from "./offset-store.js";
import type { OffsetStore } from "./offset-store.js";
import { ProcessQueue, pause, runPullLoop } from "./pull-loop.js";
import type { PullContext } from "./pull-loop.js";
import { allocateAveragely } from "./rebalance.js";
import type { MessageQueue } from "./route-cache.js";
import { mqKey } from "./route-cache.js";
import { sendBack } from "./send-back.js";
import { buildSubscriptionData } from "./subscription.js";

export const MessageModel = { CLUSTERING: "CLUSTERING", BROADCASTING: "BROADCASTING" } as const;
export type MessageModel = (typeof MessageModel)[keyof typeof MessageModel];

export const Action = { CommitMessage: "CommitMessage", ReconsumeLater: "ReconsumeLater" } as const;
export type Action = (typeof Action)[keyof typeof Action];

export type MessageListener = (message: ReceivedMessage) => Action | void | Promise<Action | void>;

/** Where a queue with no stored offset starts: its end, its beginning, or the first message stored at/after. */
export type ConsumeFromWhere = "LAST" | "FIRST" | { timestamp: number };

export interface ConsumerOptions extends ClientOptions {
  messageModel?: MessageModel;
  /** Retries before the broker moves a message to %DLQ%<group>. Default 16. */
  maxReconsumeTimes?: number;
  /** Listener calls running at once. Default 20. */
  consumeThreadNums?: number;
  /** Default "LAST". (A new clustering group still reads a young queue from 0: the broker's rule.) */
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

const CONSUME_FROM: Record<string, string> = {
  LAST: "CONSUME_FROM_LAST_OFFSET",
  FIRST: "CONSUME_FROM_FIRST_OFFSET",
};

export class Consumer {
  readonly groupId: string;
  readonly messageModel: MessageModel;
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
    this.maxReconsumeTimes = nonNegative(options.maxReconsumeTimes, "maxReconsumeTimes", 16);
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
    this.pool = new ConsumePool(positive(options.consumeThreadNums, "consumeThreadNums", 20), (t) =>
      this.consumeOne(t),
    );
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

  /**
   * Subscribes `topic` with a tag expression ("*", "TagA", "TagA||TagB"). A later subscribe to the same topic
   * replaces the earlier one. When already started, the brokers hear of it at once and queues are rebalanced.
   */
  subscribe(topic: string, expression: string, listener: MessageListener): this {
    const problem = topicNameProblem(topic);
    if (problem) throw new MQClientError("ILLEGAL_ARGUMENT", problem);
    if (topic.startsWith(RETRY_PREFIX))
      throw new MQClientError("ILLEGAL_ARGUMENT", "retry topics are subscribed automatically");
    if (typeof listener !== "function")
      throw new MQClientError("ILLEGAL_ARGUMENT", "listener must be a function");
    this.subs.set(topic, { data: buildSubscriptionData(topic, expression), listener });
    if (this.state === "running") void this.subscriptionsChanged(topic);
    return this;
  }

  unsubscribe(topic: string): this {
    if (this.subs.delete(topic) && this.state === "running") void this.subscriptionsChanged(undefined);
    return this;
  }

  private async subscriptionsChanged(topic: string | undefined): Promise<void> {
    const client = this.client;
    if (!client) return;
    if (topic !== undefined) await client.routes.update(topic).catch(() => {});
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
    client.registerConsumer(this.member);
    await Promise.all(
      [...this.subs.keys()].map((t) =>
        client.routes.update(t).catch((e: unknown) => {
          this.logger.warn({ topic: t, err: errorMessage(e) }, "no route yet");
        }),
      ),
    );
    await client.heartbeatAll();
    this.state = "running";
    this.every(this.rebalanceIntervalMs, () => this.requestRebalance());
    this.every(this.persistIntervalMs, () => void this.persistOffsets());
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
            // A topic had no route or the broker did not answer: try again soon, backing off.
            this.rebalanceRetryMs = Math.min(
              Math.max(this.rebalanceRetryMs * 2, 500),
              this.rebalanceIntervalMs,
            );
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
    const wanted = new Set(mine.map(mqKey));
    for (const pq of [...this.pqs.values()]) {
      if (pq.mq.topic === topic && !wanted.has(pq.key)) this.dropQueue(pq);
    }
    let complete = true;
    await Promise.all(
      mine
        .filter((mq) => !this.pqs.has(mqKey(mq)))
        .map(async (mq) => {
          try {
            this.offsetStore!.remove(mq);
            const start = await this.startOffset(mq);
            if (this.state !== "running" || this.pqs.has(mqKey(mq))) return;
            const pq = new ProcessQueue(mq, start);
            this.pqs.set(pq.key, pq);
            this.logger.info({ mq: pq.key, offset: start, group: this.groupId }, "queue assigned");
            void runPullLoop(pq, this.pullContext());
          } catch (e) {
            complete = false;
            this.logger.warn({ mq: mqKey(mq), err: errorMessage(e) }, "cannot start queue");
          }
        }),
    );
    return complete;
  }

  private dropQueue(pq: ProcessQueue): void {
    pq.dropped = true;
    this.pqs.delete(pq.key);
    this.logger.info({ mq: pq.key, group: this.groupId }, "queue released");
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
        for (const msg of msgs) this.pool.submit({ pq, msg, generation: pq.generation });
      },
    };
  }

  // ---- consuming ------------------------------------------------------------------------------------------

  private async consumeOne(task: Task): Promise<void> {
    const { pq, msg } = task;
    if (pq.dropped || this.state === "stopped") return;
    const sub = this.subs.get(msg.topic);
    let ok: boolean;
    if (!sub?.listener) {
      ok = true; // nobody listens to that topic any more (e.g. a retry of an unsubscribed topic)
    } else {
      try {
        ok = (await sub.listener(msg)) === Action.CommitMessage;
      } catch (e) {
        ok = false;
        this.logger.warn({ topic: msg.topic, msgId: msg.messageId, err: errorMessage(e) }, "listener threw");
      }
    }
    // As Java: a queue taken away meanwhile is the new owner's; do not move its offset or send anything back.
    if (pq.dropped) return;
    if (!ok) {
      if (!this.clustering) {
        this.logger.warn({ topic: msg.topic, msgId: msg.messageId }, "broadcasting: failed message dropped");
      } else if (!(await sendBack(this.client!, this.groupId, this.maxReconsumeTimes, msg, this.logger))) {
        const again: ReceivedMessage = { ...msg, reconsumeTimes: msg.reconsumeTimes + 1 };
        this.later(this.localRetryDelayMs, () => {
          if (!pq.dropped && this.state === "running") this.pool.submit({ ...task, msg: again });
        });
        return;
      }
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
    await this.pool.idle(this.shutdownTimeoutMs);
    await this.rebalancing;
    await this.persistOffsets();
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
