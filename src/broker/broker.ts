// The broker's semantics on the store, for every protocol: sending (validation, auto-creation, delay, retry and
// dead-letter routing), pulling (filters, long polling, offset commits), consumer offsets, heartbeats and
// administration. Protocols translate their requests into these calls and map BrokerError codes at their edge.
import { AccessControl } from "./acl/access-control.js";
import { totalmem } from "node:os";
import { join } from "node:path";
import { BrokerError } from "../common/errors.js";
import { javaStringHashCode } from "../common/java-hash.js";
import { createOffsetMsgId } from "../common/message-id.js";
import { Pos, SysFlag, decodeRecord, storeTimestampPos } from "../common/message-record.js";
import { readInt64BE } from "../common/int64.js";
import type { MessageRecord } from "../common/message-record.js";
import { Prop, decodeProperties, encodeProperties, getProperty, priorityOf } from "../common/properties.js";
import type { HostAddress } from "../common/socket-address.js";
import { hostAddress } from "../common/socket-address.js";
import {
  DLQ_PREFIX,
  Perm,
  RETRY_PREFIX,
  SystemTopic,
  dlqTopic,
  isSystemTopic,
  retryTopic,
  topicNameProblem,
} from "../common/topic.js";
import type { TopicConfig } from "../common/topic.js";
import type { FileIO } from "../store/file-io.js";
import { nodeFileIO } from "../store/file-io.js";
import { MessageStore } from "../store/message-store.js";
import type { MessageFilter, PutMessageInput } from "../store/message-store.js";
import { FIRST_RETRY_LEVEL, parseDelayLevels, resolveBrokerConfig } from "./broker-config.js";
import type { BrokerConfig } from "./broker-config.js";
import { ClientManager } from "./client-manager.js";
import type { ClientChannel, ConsumerHeartbeat } from "./client-manager.js";
import { DelayService } from "./delay-service.js";
import { GroupManager } from "./group-manager.js";
import type { GroupConfig } from "./group-manager.js";
import { JsonFile } from "./json-file.js";
import { OffsetManager } from "./offset-manager.js";
import { AlarmService } from "./ops/alarms.js";
import { BrokerStats } from "./ops/broker-stats.js";
import { ThroughputHistory } from "./ops/throughput-history.js";
import { resetGroupOffsets } from "./ops/offset-admin.js";
import { RuntimeSettings } from "./runtime-settings.js";
import { groupLag } from "./ops/group-info.js";
import { isLmq } from "../common/lite-topic.js";
import { LiteService } from "./lite/lite-service.js";
import type { LiteReceive } from "./lite/lite-service.js";
import { PopService } from "./pop/pop-service.js";
import type { ReceiveRequest, ReceivedMessage } from "./pop/pop-types.js";
import { PullHold } from "./pull-hold.js";
import { QueueLockManager } from "./queue-lock-manager.js";
import { FilterCache, subscriptionFilter } from "./subscription.js";
import { TimerService } from "./timer-service.js";
import { decodeRecallHandle, encodeRecallHandle } from "../common/recall-handle.js";
import { TopicManager } from "./topic-manager.js";
import type { DataVersion } from "./topic-manager.js";
import { SlaveAcks } from "./slave-acks.js";
import { TransactionService } from "./transaction-service.js";
import type { DueTransaction, TransactionResolution } from "./transaction-service.js";

export interface SendRequest {
  producerGroup: string;
  topic: string;
  /** The queue the client chose; negative lets the broker choose. */
  queueId: number;
  body: Buffer;
  properties: string;
  sysFlag?: number;
  flag?: number;
  bornTimestamp?: number;
  bornHost?: HostAddress;
  reconsumeTimes?: number;
  /** For sends to a retry topic: the client's limit before the dead-letter queue. */
  maxReconsumeTimes?: number;
  /**
   * The client's queue count for a topic this send creates (the Java client's and ali-ons' 4), capped by TBW102's
   * write queues as in RocketMQ. Without it, the broker's defaultTopicQueueNums.
   */
  defaultTopicQueueNums?: number;
}

export interface SendResult {
  /** Offset message id of the stored record. */
  msgId: string;
  topic: string;
  queueId: number;
  queueOffset: number;
  phyOffset: number;
  /** The unique id the client gave (UNIQ_KEY), if any. */
  uniqKey: string | undefined;
  /** For a half message: the id END_TRANSACTION and checks refer to. */
  transactionId?: string;
  /** For a timed message: the handle RECALL_MESSAGE takes to cancel it before it is due. */
  recallHandle?: string;
  /** SYNC_MASTER: stored here, but no slave confirmed it in time, or none was in reach (still stored). */
  slaveStatus?: "FLUSH_SLAVE_TIMEOUT" | "SLAVE_NOT_AVAILABLE";
}

export type PullStatus = "FOUND" | "NO_NEW_MSG" | "NO_MATCHED_MSG" | "OFFSET_ILLEGAL";

export interface PullRequest {
  group: string;
  topic: string;
  queueId: number;
  offset: number;
  maxMsgNums: number;
  /** Store `commitOffset` as the group's offset first (PULL sysFlag bit 0). */
  commitOffset?: number;
  /** Wait up to this long for messages when there are none (0 = answer at once). */
  suspendTimeoutMs: number;
  /** The subscription sent with the pull; otherwise the one from the group's heartbeat is used. */
  subscription?: { expression: string; type?: string };
}

export interface PullResult {
  status: PullStatus;
  /** The stored records back to back, byte for byte (the response body); undefined when none were found. */
  body: Buffer | undefined;
  /** How many records `body` holds. */
  count: number;
  nextBeginOffset: number;
  minOffset: number;
  maxOffset: number;
  suggestWhichBrokerId: number;
}

export interface SendBackRequest {
  group: string;
  /** Commit log offset of the message that failed. */
  offset: number;
  /** 0 = next level in the retry schedule; negative = straight to the dead-letter queue. */
  delayLevel: number;
  originMsgId?: string;
  originTopic?: string;
  maxReconsumeTimes?: number;
}

export interface HeartbeatData {
  clientId: string;
  language?: string;
  version?: number;
  producerGroups: string[];
  consumers: ConsumerHeartbeat[];
}

export interface QueueStat {
  queueId: number;
  minOffset: number;
  maxOffset: number;
  lastUpdateTimestamp: number;
}

export interface ConsumeQueueStat {
  topic: string;
  queueId: number;
  brokerOffset: number;
  consumerOffset: number;
  /** How far the group has pulled (at least its consumer offset); the difference is in flight at its clients. */
  pullOffset: number;
  lastTimestamp: number;
}

/**
 * System topics (the delay schedule's, TBW102 the template of new topics, the transaction and trace topics) are the
 * broker's own: an admin may not change or delete them, as RocketMQ refuses by default.
 */
function refuseSystemTopic(topic: string, what: "changed" | "deleted"): void {
  if (isSystemTopic(topic))
    throw new BrokerError(
      "NO_PERMISSION",
      `${topic} is a system topic the broker needs; it cannot be ${what}`,
    );
}

export class Broker {
  readonly config: BrokerConfig;
  readonly store: MessageStore;
  readonly topics: TopicManager;
  readonly groups: GroupManager;
  readonly offsets: OffsetManager;
  readonly clients: ClientManager;
  readonly delay: DelayService;
  readonly timer: TimerService;
  readonly locks: QueueLockManager;
  readonly transactions: TransactionService;
  readonly storeHost: HostAddress;
  readonly pop: PopService;
  readonly lite: LiteService;
  readonly stats = new BrokerStats();
  /** Put and get totals over time, for the rates and daily totals admin tools show. */
  readonly throughput = new ThroughputHistory();
  /** Settings under RocketMQ's names, some changeable at runtime (admin UPDATE_BROKER_CONFIG). */
  readonly settings: RuntimeSettings;
  readonly alarms: AlarmService;
  /** Who may do what, checked by each protocol before it serves a request. */
  readonly acl: AccessControl;
  /** A master's slaves, as far as they have stored its log. */
  readonly slaveAcks = new SlaveAcks();
  private readonly hold = new PullHold();
  private readonly retryDelays: number[];
  private readonly filters = new FilterCache();
  private timers: NodeJS.Timeout[] = [];
  private stopped = false;

  constructor(config: Partial<BrokerConfig> & { dataDir: string }, io: FileIO = nodeFileIO) {
    this.config = resolveBrokerConfig(config);
    const c = this.config;
    this.storeHost = hostAddress(c.advertisedHost, c.port);
    this.acl = new AccessControl(c.acl);
    this.store = MessageStore.open(
      { dir: join(c.dataDir, "store"), ...c.store, storeHost: this.storeHost },
      io,
    );
    if (c.brokerRole === "SLAVE") this.store.setReplica(true);
    const configDir = join(c.dataDir, "config");
    this.topics = new TopicManager(io, configDir, c.autoCreateTopicEnable, c.defaultTopicQueueNums);
    this.groups = new GroupManager(io, configDir, c.autoCreateSubscriptionGroup, c.maxReconsumeTimes);
    this.offsets = new OffsetManager(io, configDir);
    this.clients = new ClientManager(c.clientExpireMs);
    const levels = parseDelayLevels(c.messageDelayLevel);
    this.delay = new DelayService(this.store, io, configDir, levels);
    this.retryDelays = levels.slice(Math.min(FIRST_RETRY_LEVEL, levels.length) - 1);
    this.timer = new TimerService(this.store, io, configDir, { maxDelayMs: c.timerMaxDelayMs });
    this.locks = new QueueLockManager(c.orderLockLeaseMs);
    this.transactions = new TransactionService(this.store, this.clients, {
      firstCheckMs: c.transactionTimeoutMs,
      checkIntervalMs: c.transactionCheckIntervalMs,
      maxChecks: c.transactionCheckMax,
      tickMs: Math.min(500, c.transactionCheckIntervalMs),
    });
    this.alarms = new AlarmService(io, configDir, (group, topic, now) => groupLag(this, group, topic, now));
    this.settings = new RuntimeSettings(
      c,
      this.store.config,
      this.topics,
      this.groups,
      () => this.acl.enabled,
    );
    this.pop = new PopService(
      {
        store: this.store,
        topics: this.topics,
        groups: this.groups,
        offsets: this.offsets,
        newGroupStart: (topic, queueId) => this.newGroupStartOffset(topic, queueId),
        deadLetter: (group, record, attempts) => this.popDeadLetter(group, record, attempts),
      },
      io,
      c.dataDir,
    );
    this.lite = new LiteService({
      store: this.store,
      topics: this.topics,
      offsets: this.offsets,
      pop: this.pop,
      file: new JsonFile(io, configDir, "liteSubscriptions.json"),
      maxTopics: c.maxLiteTopics,
    });
    this.store.onMessageArrived((topic, queueId, max) => {
      this.hold.arrived(topic, queueId, max);
      this.pop.arrived(topic);
      if (isLmq(topic)) this.lite.arrived(topic);
    });
  }

  /**
   * The port clients reach this broker on can be known only after the server listens (port 0 in tests); the
   * store host written into new records and message ids follows it.
   */
  setAdvertisedPort(port: number): void {
    const h = hostAddress(this.config.advertisedHost, port);
    this.storeHost.ip = h.ip;
    this.storeHost.port = h.port;
    this.config.port = port;
  }

  get address(): string {
    return `${this.config.advertisedHost}:${this.config.port}`;
  }

  get isSlave(): boolean {
    return this.config.brokerRole === "SLAVE";
  }

  start(): void {
    const every = (ms: number, f: () => void) => {
      const t = setInterval(f, ms);
      t.unref();
      this.timers.push(t);
    };
    // A slave writes nothing to its log: delays, timers, transaction checks, pop and lite upkeep are its
    // master's. It serves reads and keeps the offsets consumers commit to it while the master is away.
    const master = !this.isSlave;
    every(this.config.offsetFlushIntervalMs, () => {
      this.offsets.flush().catch(() => undefined);
      if (!master) return;
      this.delay.flush().catch(() => undefined);
      this.lite.flush().catch(() => undefined);
    });
    every(1000, () => {
      this.throughput.sample(Date.now(), this.stats.producedTotal, this.stats.consumedTotal);
      this.stats.sampleGroupRates(Date.now());
    });
    every(10_000, () => {
      this.clients.expire();
      if (master) this.lite.expire();
    });
    if (!master) return;
    this.delay.start();
    this.timer.start();
    this.transactions.start();
    this.pop.start();
    this.alarms.start(this.config.alarmCheckIntervalMs);
    // RocketMQ looks for expired lite topics every 2 minutes too.
    every(120_000, () => this.lite.expireIdle());
  }

  // ---- send -----------------------------------------------------------------------------------------------

  sendMessage(req: SendRequest): Promise<SendResult> {
    const observe = this.stats.sendLatency;
    if (!observe) return this.send(req);
    // No extra async frame on the send path when metrics are on (the HTTP endpoint turns them on).
    const t0 = performance.now();
    return this.send(req).finally(() => observe(performance.now() - t0));
  }

  /**
   * The topic a send goes to, created on first use with as many queues as RocketMQ gives it: the client's
   * defaultTopicQueueNums capped by TBW102's write queues. The producer guessed the topic's route the same way, so
   * the route it refreshes to later is the one it sent on (ali-ons guesses 4; with 8 its messages spread to queues
   * its first route lacked).
   */
  private topicForSend(req: SendRequest): TopicConfig {
    const tc = this.topics.get(req.topic);
    if (tc) return tc;
    const tbw = this.topics.get(SystemTopic.DEFAULT)?.writeQueueNums ?? this.config.defaultTopicQueueNums;
    const asked = req.defaultTopicQueueNums;
    return this.topics.getOrCreate(req.topic, asked !== undefined && asked >= 1 ? Math.min(asked, tbw) : tbw);
  }

  /** Topics already in the table were validated when they were created. */
  private checkTopicName(topic: string): void {
    const problem = this.topics.get(topic) ? undefined : topicNameProblem(topic);
    if (problem) throw new BrokerError("ILLEGAL_TOPIC", problem);
  }

  private checkWritable(tc: TopicConfig, topic: string): void {
    if (!(tc.perm & Perm.WRITE)) throw new BrokerError("NO_PERMISSION", `topic ${topic} is not writable`);
  }

  /**
   * A priority message's queue is its level (capped at the last queue), whatever queue the client named; others
   * go to the client's queue (modulo the topic's queues), or, when it named none, by sharding key or at random.
   */
  private chooseQueue(req: SendRequest, tc: TopicConfig): number {
    if (req.properties.indexOf(Prop.PRIORITY) >= 0) {
      const level = priorityOf(req.properties);
      if (level !== undefined) return Math.min(level, tc.writeQueueNums - 1);
    }
    const queueId = req.queueId;
    if (Number.isInteger(queueId) && queueId >= 0) return queueId % tc.writeQueueNums;
    // Ordered messages of the HTTP and gRPC protocols name a sharding key, not a queue: one key, one queue.
    const key = getProperty(req.properties, Prop.SHARDING_KEY);
    return key
      ? Math.abs(javaStringHashCode(key) % tc.writeQueueNums)
      : Math.floor(Math.random() * tc.writeQueueNums);
  }

  // Not async: an async function that returns put()'s promise wraps it in one more promise and two more
  // microtask hops per message. Errors still reach the caller as a rejection.
  private send(req: SendRequest): Promise<SendResult> {
    try {
      return this.sendChecked(req);
    } catch (e) {
      return Promise.reject(e as Error);
    }
  }

  private sendChecked(req: SendRequest): Promise<SendResult> {
    if (this.isSlave) throw slaveRefusal();
    this.checkTopicName(req.topic);
    if (isSystemTopic(req.topic))
      throw new BrokerError("NO_PERMISSION", `sending to system topic ${req.topic} is forbidden`);
    let tc: TopicConfig;
    let input: PutMessageInput;
    if (req.topic.startsWith(RETRY_PREFIX)) {
      // A client's own retry send (ali-ons falls back to this when CONSUMER_SEND_MSG_BACK fails).
      const group = req.topic.slice(RETRY_PREFIX.length);
      const g = this.groups.getOrCreate(group);
      tc = this.topics.getOrCreateSystem(req.topic, g.retryQueueNums);
      const max = req.maxReconsumeTimes ?? g.retryMaxTimes;
      if ((req.reconsumeTimes ?? 0) >= max) {
        tc = this.topics.getOrCreateSystem(dlqTopic(group), 1);
        input = this.toInput({ ...req, topic: tc.topicName, queueId: 0 });
        return this.put(input);
      }
    } else if (req.topic.startsWith(DLQ_PREFIX)) {
      tc = this.topics.getOrCreateSystem(req.topic, 1);
    } else {
      tc = this.topicForSend(req);
    }
    this.checkWritable(tc, req.topic);
    const txType = (req.sysFlag ?? 0) & SysFlag.TRANSACTION_MASK;
    // The indexOf pre-checks spare getProperty's lookup string on the usual message, which has none of these.
    const props = req.properties;
    if (props.indexOf(Prop.LITE_TOPIC) >= 0) {
      const liteTopic = getProperty(props, Prop.LITE_TOPIC);
      if (liteTopic !== undefined) return this.sendLite(req, tc, liteTopic, txType);
    }
    const queueId = this.chooseQueue(req, tc);
    input = this.toInput(req, queueId);
    if (
      txType === SysFlag.TRANSACTION_PREPARED ||
      (props.indexOf(Prop.TRAN_MSG) >= 0 && getProperty(props, Prop.TRAN_MSG) === "true")
    ) {
      return this.put(this.transactions.prepare(input, req.producerGroup), req.topic, queueId).then((res) =>
        Object.assign({}, res, { transactionId: res.uniqKey ?? res.msgId }),
      );
    }
    // Timed messages (__STARTDELIVERTIME, TIMER_DELIVER_MS, TIMER_DELAY_SEC/MS) wait in the timer store; the send
    // is acknowledged once the message is in the commit log.
    const deliverMs = this.timer.deliverTime(req.properties);
    if (deliverMs !== undefined && txType !== SysFlag.TRANSACTION_ROLLBACK) {
      return this.put(this.timer.toTimerMessage(input, deliverMs), req.topic, queueId).then((res) =>
        res.uniqKey === undefined || req.topic.startsWith(RETRY_PREFIX)
          ? res
          : Object.assign(res, {
              recallHandle: encodeRecallHandle({
                topic: req.topic,
                brokerName: this.config.brokerName,
                deliverMs,
                messageId: res.uniqKey,
              }),
            }),
      );
    }
    const level = props.indexOf(Prop.DELAY) < 0 ? 0 : Number(getProperty(props, Prop.DELAY) ?? 0);
    if (level > 0 && txType !== SysFlag.TRANSACTION_PREPARED && txType !== SysFlag.TRANSACTION_ROLLBACK) {
      return this.put(this.delay.schedule(input, level), req.topic, queueId);
    }
    return this.put(input);
  }

  /** A lite message goes to its lite topic's own queue, as it is: lite topics take no delay or transaction. */
  private sendLite(
    req: SendRequest,
    parent: TopicConfig,
    liteTopic: string,
    txType: number,
  ): Promise<SendResult> {
    if (
      txType !== 0 ||
      this.timer.deliverTime(req.properties) !== undefined ||
      Number(getProperty(req.properties, Prop.DELAY) ?? 0) > 0
    ) {
      throw new BrokerError("BAD_REQUEST", "a lite message cannot also be transactional, delayed or timed");
    }
    // After the checks above: a refused message must not take one of the broker's lite topic places.
    const lmq = this.lite.queueFor(parent, liteTopic);
    return this.put(this.toInput({ ...req, topic: lmq }, 0), req.topic, 0);
  }

  /**
   * RECALL_MESSAGE: cancels a timed message that is not due yet, by the handle its send returned. The recall is
   * stored (a marker on the timer topic, see timer-service.ts) before this resolves, and survives a restart.
   * Returns the recalled message's unique id. As in RocketMQ, a handle whose message was never stored is not an
   * error: nothing is delivered for it either way.
   */
  async recallMessage(topic: string, handle: string, bornHost?: HostAddress): Promise<string> {
    const h = decodeRecallHandle(handle);
    if (!h) throw new BrokerError("ILLEGAL_RECALL", "recall failed, the recall handle is invalid");
    if (!this.topics.get(topic)) throw new BrokerError("TOPIC_NOT_EXIST", `topic ${topic} does not exist`);
    if (h.topic !== topic) throw new BrokerError("ILLEGAL_RECALL", "recall failed, topic not match");
    if (h.brokerName !== this.config.brokerName) {
      throw new BrokerError("ILLEGAL_RECALL", `recall failed, the handle is for broker ${h.brokerName}`);
    }
    const left = h.deliverMs - Date.now();
    if (left <= 0 || left > this.timer.maxDelayMs) {
      throw new BrokerError(
        "ILLEGAL_RECALL",
        "recall failed, the message is already due (or the time is invalid)",
      );
    }
    await this.store.putMessage(this.timer.recallMarker(h.messageId, h.deliverMs, bornHost));
    this.timer.recalled(h.messageId, h.deliverMs);
    return h.messageId;
  }

  /**
   * A batch send (SEND_BATCH_MESSAGE): every message to one queue of `base.topic`, appended together in one store
   * call, so they land back to back and succeed or fail as one. Batches of timed, delayed or transactional
   * messages (which RocketMQ refuses in a batch) and sends to retry or dead-letter topics go one by one.
   */
  async sendBatch(
    base: SendRequest,
    messages: { flag: number; body: Buffer; properties: string }[],
  ): Promise<SendResult[]> {
    if (
      messages.some((m) => ROUTED_ELSEWHERE.test(m.properties)) ||
      isSystemTopic(base.topic) ||
      base.topic.startsWith(RETRY_PREFIX) ||
      base.topic.startsWith(DLQ_PREFIX) ||
      (base.sysFlag ?? 0) & SysFlag.TRANSACTION_MASK
    ) {
      // Still one queue for the whole batch (a queue id past the topic's queues is taken modulo their count).
      const queueId = base.queueId >= 0 ? base.queueId : Math.floor(Math.random() * 1024);
      // Object.assign, not `{ ...base, ...m }`: see bodyResult in the store for why.
      return Promise.all(messages.map((m) => this.sendMessage(Object.assign({}, base, m, { queueId }))));
    }
    if (this.isSlave) throw slaveRefusal();
    this.checkTopicName(base.topic);
    const tc = this.topicForSend(base);
    this.checkWritable(tc, base.topic);
    const queueId = this.chooseQueue(base, tc);
    // toInput's fields, built straight from the batch's header and each message: copying the whole request per
    // message (Object.assign) was 6 % of a broker taking batches.
    const template = this.toInput(base, queueId);
    const inputs = new Array<PutMessageInput>(messages.length);
    for (let i = 0; i < messages.length; i++) {
      const m = messages[i]!;
      const input: PutMessageInput = {
        topic: template.topic,
        queueId,
        body: m.body,
        properties: m.properties,
        flag: m.flag,
        sysFlag: template.sysFlag!,
        bornTimestamp: template.bornTimestamp!,
      };
      if (template.bornHost) input.bornHost = template.bornHost;
      input.reconsumeTimes = template.reconsumeTimes!;
      inputs[i] = input;
    }
    const t0 = this.stats.sendLatency ? performance.now() : 0;
    const stored = await this.store.putMessages(inputs);
    this.stats.sendLatency?.(performance.now() - t0);
    this.stats.produce(base.topic, stored.length);
    const last = stored[stored.length - 1]!;
    const wait = this.slaveWait(last.phyOffset + last.size, inputs[0]!.properties ?? "");
    const slaveStatus = wait && (await wait);
    return stored.map((r, i) => ({
      msgId: r.offsetMsgId,
      topic: base.topic,
      queueId,
      queueOffset: r.queueOffset,
      phyOffset: r.phyOffset,
      uniqKey: getProperty(inputs[i]!.properties ?? "", Prop.UNIQ_KEY),
      ...(slaveStatus ? { slaveStatus } : {}),
    }));
  }

  /**
   * SYNC_MASTER: the wait until a slave stored the log up to `end`, resolving with what the send reports instead
   * of SEND_OK, or undefined once a slave has it. No wait (undefined, so the usual send takes no extra step) on
   * other masters and for a message that says WAIT=false (as in RocketMQ).
   */
  private slaveWait(end: number, properties: string): Promise<SendResult["slaveStatus"]> | undefined {
    if (this.config.brokerRole !== "SYNC_MASTER") return undefined;
    if (properties.indexOf(Prop.WAIT) >= 0 && getProperty(properties, Prop.WAIT) === "false")
      return undefined;
    const c = this.config;
    return this.slaveAcks
      .wait(end, this.store.stats().maxPhyOffset, c.haSlaveTimeoutMs, c.haMaxGapBytes)
      .then((w) => (w === "OK" ? undefined : w));
  }

  private toInput(req: SendRequest, queueId = req.queueId): PutMessageInput {
    const input: PutMessageInput = {
      topic: req.topic,
      queueId,
      body: req.body,
      properties: req.properties,
      flag: req.flag ?? 0,
      sysFlag: req.sysFlag ?? 0,
      bornTimestamp: req.bornTimestamp ?? Date.now(),
    };
    if (req.bornHost) input.bornHost = req.bornHost;
    input.reconsumeTimes = req.reconsumeTimes ?? 0;
    return input;
  }

  /** Stores a message (maybe rewritten onto a system topic) and reports it as sent to `topic`/`queueId`. */
  private async put(
    stored: PutMessageInput,
    topic = stored.topic,
    queueId = stored.queueId,
  ): Promise<SendResult> {
    const r = await this.store.putMessage(stored);
    this.stats.produce(topic);
    const result: SendResult = {
      msgId: r.offsetMsgId,
      topic,
      queueId,
      queueOffset: r.queueOffset,
      phyOffset: r.phyOffset,
      uniqKey: getProperty(stored.properties ?? "", Prop.UNIQ_KEY),
    };
    const wait = this.slaveWait(r.phyOffset + r.size, stored.properties ?? "");
    const slaveStatus = wait && (await wait);
    if (slaveStatus) result.slaveStatus = slaveStatus;
    return result;
  }

  // ---- pull -----------------------------------------------------------------------------------------------

  async pullMessage(req: PullRequest): Promise<PullResult> {
    const g = this.groups.getOrCreate(req.group);
    if (!g.consumeEnable) throw new BrokerError("NO_PERMISSION", `group ${req.group} may not consume`);
    const tc = this.topics.get(req.topic);
    if (!tc) throw new BrokerError("TOPIC_NOT_EXIST", `topic ${req.topic} does not exist`);
    if (!(tc.perm & Perm.READ)) throw new BrokerError("NO_PERMISSION", `topic ${req.topic} is not readable`);
    if (
      !Number.isInteger(req.queueId) ||
      req.queueId < 0 ||
      req.queueId >= Math.max(tc.readQueueNums, tc.writeQueueNums)
    ) {
      throw new BrokerError("BAD_REQUEST", `queue ${req.queueId} is out of range for ${req.topic}`);
    }
    let filter: MessageFilter | undefined;
    if (req.subscription) {
      filter = this.filters.get(req.topic, req.subscription.expression, req.subscription.type).filter;
    } else {
      const sub = this.clients.subscription(req.group, req.topic);
      if (!sub)
        throw new BrokerError(
          "SUBSCRIPTION_NOT_EXIST",
          `group ${req.group} has no subscription to ${req.topic}`,
        );
      filter = this.filters.get(req.topic, sub.subString, sub.expressionType).filter;
    }
    // An admin's reset this consumer has not taken: it moves there first, and the offset it commits with this
    // pull is from before the reset (see OffsetManager.assignReset).
    const reset = this.offsets.takeReset(req.group, req.topic, req.queueId);
    if (reset !== undefined && reset !== req.offset) return this.offsetMoved(req, reset);
    // A slave takes offsets only from UPDATE_CONSUMER_OFFSET (while its master is away), as in RocketMQ.
    if (reset === undefined && req.commitOffset !== undefined && req.commitOffset >= 0 && !this.isSlave) {
      this.offsets.commit(req.group, req.topic, req.queueId, req.commitOffset);
    }
    const max = Math.max(1, Math.min(req.maxMsgNums || 32, 1024));
    let r = this.pullOnce(req, max, filter);
    if (r.status === "NO_NEW_MSG" && req.suspendTimeoutMs > 0 && !this.stopped) {
      await this.hold.wait(
        req.topic,
        req.queueId,
        req.offset,
        Math.min(req.suspendTimeoutMs, this.config.longPollingMaxMs),
      );
      // A reset made while this pull was held (which wakes it) is handed over now.
      const during = this.offsets.takeReset(req.group, req.topic, req.queueId);
      if (during !== undefined && during !== req.offset) return this.offsetMoved(req, during);
      r = this.pullOnce(req, max, filter);
    }
    this.countDelivered(req.group, req.topic, r.body, r.count);
    if (r.count > 0) this.offsets.notePull(req.group, req.topic, req.queueId, r.nextBeginOffset);
    return r;
  }

  /** Ends the pulls held on a queue now (they answer as if their time were up); see resetGroupOffsets. */
  wakeHeldPulls(topic: string, queueId: number): void {
    this.hold.wakeQueue(topic, queueId);
  }

  private offsetMoved(req: PullRequest, offset: number): PullResult {
    return {
      status: "OFFSET_ILLEGAL",
      body: undefined,
      count: 0,
      nextBeginOffset: offset,
      minOffset: this.store.getMinOffset(req.topic, req.queueId),
      maxOffset: this.store.getMaxOffset(req.topic, req.queueId),
      suggestWhichBrokerId: 0,
    };
  }

  /** Hands a body from pullMessage back to the store once it has been written out and nothing reads it. */
  releasePullBody(body: Buffer): void {
    this.store.releaseBody(body);
  }

  private countDelivered(group: string, topic: string, first: Buffer | undefined, count: number): void {
    if (!first || count === 0) return;
    this.stats.consume(group, topic, count);
    const observe = this.stats.endToEndLatency;
    if (observe) {
      const stored = readInt64BE(first, storeTimestampPos(first.readInt32BE(Pos.SYS_FLAG)));
      observe(Date.now() - stored);
    }
  }

  private pullOnce(req: PullRequest, max: number, filter: MessageFilter | undefined): PullResult {
    const r = this.store.getMessagesBody(req.topic, req.queueId, req.offset, max, filter);
    let status: PullStatus;
    let next = r.nextBeginOffset;
    switch (r.status) {
      case "FOUND":
        status = "FOUND";
        break;
      case "NO_MATCHED_MESSAGE":
        status = "NO_MATCHED_MSG";
        break;
      case "OFFSET_TOO_SMALL":
      case "OFFSET_OVERFLOW_BADLY":
        status = "OFFSET_ILLEGAL";
        break;
      case "NO_MATCHED_LOGIC_QUEUE":
      case "NO_MESSAGE_IN_QUEUE":
      case "OFFSET_OVERFLOW_ONE":
      case "OFFSET_FOUND_NULL":
        status = "NO_NEW_MSG";
        if (r.status === "NO_MATCHED_LOGIC_QUEUE") next = 0;
        break;
    }
    // A literal, not `{ ...base, status, nextBeginOffset }`: see bodyResult in the store for why.
    return {
      status,
      body: r.body,
      count: r.count,
      nextBeginOffset: next,
      minOffset: r.minOffset,
      maxOffset: r.maxOffset,
      suggestWhichBrokerId: this.suggestBroker(req, next),
    };
  }

  /**
   * Which broker of the pair the consumer should pull this queue from next: the master (0), unless reading from
   * slaves is on and the consumer is so far behind that its next message is no longer "in memory" (the same
   * ratio as startsInMemory), then the slave (1), sparing the master's page cache (RocketMQ's
   * whichBrokerWhenConsumeSlowly). A slave always suggests its master: consumers come to it only while the
   * master is away from their routes.
   */
  private suggestBroker(req: PullRequest, next: number): number {
    if (!this.config.slaveReadEnable || this.isSlave || this.slaveAcks.slaveCount === 0) return 0;
    const phy = this.store.getCommitLogOffsetInQueue(req.topic, req.queueId, next);
    if (phy === undefined) return 0;
    const memory = (totalmem() * this.config.accessMessageInMemoryMaxRatio) / 100;
    return this.store.stats().maxPhyOffset - phy > memory ? 1 : 0;
  }

  /**
   * A slave takes its master's topics (when their data version changed), subscription groups and consumer
   * offsets (RocketMQ's SlaveSynchronize).
   */
  applyMasterMetadata(m: {
    topics?: { table: Record<string, TopicConfig>; dataVersion: DataVersion };
    groups?: Record<string, GroupConfig>;
    offsets?: Record<string, Record<string, number>>;
  }): void {
    if (m.topics) this.topics.replaceAll(m.topics.table, m.topics.dataVersion);
    if (m.groups) this.groups.replaceAll(m.groups);
    if (m.offsets) this.offsets.mergeAll(m.offsets);
  }

  // ---- offsets --------------------------------------------------------------------------------------------

  /**
   * The group's committed offset. A group with none gets 0, as from RocketMQ, while its queue is empty or still
   * starts at offset 0 with that first message in memory: a group started right after its producers misses
   * nothing. Otherwise (or when the request says setZeroIfNotFound=false) OFFSET_NOT_FOUND, and the client starts
   * where its consumeFromWhere says: a new group on a long history does not replay it all.
   */
  queryConsumerOffset(group: string, topic: string, queueId: number, zeroIfNotFound = true): number {
    const off = this.offsets.query(group, topic, queueId);
    if (off >= 0) return off;
    if (zeroIfNotFound && this.startsInMemory(topic, queueId)) return 0;
    throw new BrokerError("OFFSET_NOT_FOUND", `group ${group} has no offset for ${topic}/${queueId}`);
  }

  /**
   * Where a receiving (pop) group without a committed offset starts: 0 under the same rule as
   * queryConsumerOffset, otherwise the end of the queue. (RocketMQ 5 starts at the last message, max - 1; we hand
   * out only what arrives after.)
   */
  newGroupStartOffset(topic: string, queueId: number): number {
    return this.startsInMemory(topic, queueId) ? 0 : this.store.getMaxOffset(topic, queueId);
  }

  /**
   * Whether the queue still starts at offset 0 and that message is "in memory". RocketMQ asks the page cache
   * about the message; Node cannot, so this is RocketMQ 4's rule: the message lies within
   * accessMessageInMemoryMaxRatio % of physical memory of the commit log's end. An empty queue counts (any start
   * is its start, and 0 cannot skip a message that arrives meanwhile).
   */
  private startsInMemory(topic: string, queueId: number): boolean {
    if (this.store.getMinOffset(topic, queueId) > 0) return false;
    if (this.store.getMaxOffset(topic, queueId) === 0) return true;
    const phy = this.store.getCommitLogOffsetInQueue(topic, queueId, 0);
    if (phy === undefined) return false;
    const memory = (totalmem() * this.config.accessMessageInMemoryMaxRatio) / 100;
    return this.store.stats().maxPhyOffset - phy <= memory;
  }

  /** A commit of a queue whose reset the group's consumer has not taken yet is ignored, as in RocketMQ. */
  updateConsumerOffset(group: string, topic: string, queueId: number, offset: number): void {
    if (this.offsets.hasReset(group, topic, queueId)) return;
    this.offsets.commit(group, topic, queueId, offset);
  }

  /**
   * Moves a group's offsets on a topic to the first message stored at or after `timestamp` (a negative one: the
   * end of each queue), and tells the group's online consumers (see resetGroupOffsets).
   */
  resetOffsetByTime(group: string, topic: string, timestamp: number): Map<number, number> {
    return resetGroupOffsets(this, { group, topic, timestamp, force: true });
  }

  getMaxOffset(topic: string, queueId: number): number {
    return this.store.getMaxOffset(topic, queueId);
  }

  getMinOffset(topic: string, queueId: number): number {
    return this.store.getMinOffset(topic, queueId);
  }

  searchOffsetByTimestamp(topic: string, queueId: number, timestamp: number): number {
    return this.store.getOffsetByTime(topic, queueId, timestamp);
  }

  /** -1 for a queue with no message (RocketMQ's answer), else the store time of its first. */
  earliestMsgStoreTime(topic: string, queueId: number): number {
    return this.store.getStoreTime(topic, queueId, this.store.getMinOffset(topic, queueId)) ?? -1;
  }

  // ---- clients --------------------------------------------------------------------------------------------

  heartbeat(channel: ClientChannel, hb: HeartbeatData): void {
    const info = {
      clientId: hb.clientId,
      channel,
      language: hb.language ?? "JAVA",
      version: hb.version ?? 0,
    };
    for (const g of hb.producerGroups) this.clients.registerProducer(g, info);
    // A malformed filter expression is refused here, when the consumer subscribes, with the parse error.
    for (const c of hb.consumers) for (const s of c.subscriptions) subscriptionFilter(s);
    for (const c of hb.consumers) {
      const g = this.groups.getOrCreate(c.groupName);
      if ((c.messageModel ?? "CLUSTERING") === "CLUSTERING") {
        // The retry topic must be routable as soon as a clustering group appears (clients subscribe to it).
        this.topics.getOrCreateSystem(retryTopic(c.groupName), g.retryQueueNums);
      }
      this.clients.registerConsumer(c, {
        ...info,
        subscriptions: c.subscriptions.map((s) => `${s.topic} ${s.expressionType} ${s.subString}`),
      });
    }
  }

  unregisterClient(clientId: string, producerGroup?: string, consumerGroup?: string): void {
    if (producerGroup) this.clients.unregisterProducer(producerGroup, clientId);
    if (consumerGroup) this.clients.unregisterConsumer(consumerGroup, clientId);
  }

  channelClosed(channelId: string): void {
    this.clients.channelClosed(channelId);
  }

  consumerIds(group: string): string[] {
    return this.clients.consumerIds(group);
  }

  // ---- retry ----------------------------------------------------------------------------------------------

  /**
   * A consumer could not process a message: re-send it to the group's retry topic after the next delay of the
   * schedule (level 3 + reconsumeTimes), or to the dead-letter queue once reconsumeTimes reaches the limit.
   */
  async consumerSendMsgBack(req: SendBackRequest): Promise<SendResult> {
    const g = this.groups.getOrCreate(req.group);
    const raw = this.store.readAt(req.offset);
    if (!raw) throw new BrokerError("MESSAGE_NOT_FOUND", `no message at commit log offset ${req.offset}`);
    const rec = decodeRecord(raw);
    const { base, props } = this.redeliveryCopy(rec, rec.reconsumeTimes + 1, req.originMsgId);
    const max =
      req.maxReconsumeTimes !== undefined && req.maxReconsumeTimes >= 0
        ? req.maxReconsumeTimes
        : g.retryMaxTimes;
    if (rec.reconsumeTimes >= max || req.delayLevel < 0) return this.putDeadLetter(req.group, base, props);
    const tc = this.topics.getOrCreateSystem(retryTopic(req.group), g.retryQueueNums);
    const queueId = Math.floor(Math.random() * tc.writeQueueNums);
    const level = req.delayLevel > 0 ? req.delayLevel : FIRST_RETRY_LEVEL + rec.reconsumeTimes;
    const input = this.delay.schedule(
      { ...base, topic: tc.topicName, queueId, properties: encodeProperties(props) },
      level,
    );
    return this.put(input, tc.topicName, queueId);
  }

  /**
   * A copy of a consumed message for its group's retry or dead-letter queue: same body, flags and born data,
   * remembering the topic it was first consumed from and its original message id.
   */
  private redeliveryCopy(
    rec: MessageRecord,
    reconsumeTimes: number,
    originMsgId?: string,
  ): { base: PutMessageInput; props: Map<string, string> } {
    const props = decodeProperties(rec.properties);
    if (!props.has(Prop.RETRY_TOPIC)) props.set(Prop.RETRY_TOPIC, rec.topic);
    // A retry copy keeps the id its first send-back recorded, as RocketMQ does, whatever this request says:
    // ali-ons names the copy it is sending back, not the original.
    const origin =
      props.get(Prop.ORIGIN_MESSAGE_ID) ||
      originMsgId ||
      props.get(Prop.UNIQ_KEY) ||
      createOffsetMsgId(rec.storeHost, rec.physicalOffset);
    props.set(Prop.ORIGIN_MESSAGE_ID, origin);
    props.delete(Prop.DELAY);
    const base: PutMessageInput = {
      topic: "",
      queueId: 0,
      body: Buffer.from(rec.body),
      properties: "",
      flag: rec.flag,
      sysFlag: rec.sysFlag & ~SysFlag.TRANSACTION_MASK,
      bornTimestamp: rec.bornTimestamp,
      bornHost: rec.bornHost,
      reconsumeTimes,
    };
    return { base, props };
  }

  private putDeadLetter(
    group: string,
    base: PutMessageInput,
    props: Map<string, string>,
  ): Promise<SendResult> {
    const tc = this.topics.getOrCreateSystem(dlqTopic(group), 1);
    return this.put({ ...base, topic: tc.topicName, queueId: 0, properties: encodeProperties(props) });
  }

  private async popDeadLetter(group: string, rec: MessageRecord, attempts: number): Promise<void> {
    const { base, props } = this.redeliveryCopy(rec, attempts);
    await this.putDeadLetter(group, base, props);
  }

  // ---- transactions ---------------------------------------------------------------------------------------

  /** END_TRANSACTION: `halfQueueOffset` and `commitLogOffset` locate the half message. Unknown is a no-op. */
  async endTransaction(
    producerGroup: string,
    halfQueueOffset: number,
    commitLogOffset: number,
    decision: TransactionResolution | "unknown",
  ): Promise<void> {
    if (decision === "unknown") return;
    await this.transactions.end(producerGroup, halfQueueOffset, commitLogOffset, decision);
  }

  // ---- receive / ack (pop consumption, for gRPC and HTTP) ------------------------------------------------

  /** Receives up to `batchSize` visible messages, long polling when there are none. */
  async receiveMessages(req: ReceiveRequest): Promise<ReceivedMessage[]> {
    return this.received(req.group, req.topic, await this.pop.receive(req));
  }

  /** Receives for a LitePushConsumer: messages of the lite topics it follows, each lite topic in order. */
  async receiveLiteMessages(req: LiteReceive): Promise<ReceivedMessage[]> {
    return this.received(req.group, req.parentTopic, await this.lite.receive(req));
  }

  private received(group: string, topic: string, got: ReceivedMessage[]): ReceivedMessage[] {
    if (got.length > 0) {
      this.stats.consume(group, topic, got.length);
      this.stats.endToEndLatency?.(Date.now() - got[0]!.record.storeTimestamp);
    }
    return got;
  }

  /** Acks a received message for good; a stale or unknown handle is INVALID_RECEIPT_HANDLE. */
  async ackMessage(group: string, topic: string, receiptHandle: string): Promise<void> {
    return this.pop.ack(group, topic, receiptHandle);
  }

  /** Makes a received message visible again after `invisibleMs`; returns the handle that replaces the old one. */
  async changeInvisibleDuration(
    group: string,
    topic: string,
    receiptHandle: string,
    invisibleMs: number,
    suspend = false,
  ): Promise<string> {
    return this.pop.changeInvisible(group, topic, receiptHandle, invisibleMs, suspend);
  }

  /** Keeps a received message invisible for `invisibleMs` more; its handle stays valid. */
  async renewInvisible(
    group: string,
    topic: string,
    receiptHandle: string,
    invisibleMs: number,
  ): Promise<void> {
    return this.pop.renew(group, topic, receiptHandle, invisibleMs);
  }

  /** Moves a received message to the group's dead-letter queue now (FIFO push consumers give up this way). */
  async forwardToDeadLetter(group: string, topic: string, receiptHandle: string): Promise<void> {
    return this.pop.forwardToDeadLetter(group, topic, receiptHandle);
  }

  /** The waits before unordered retries, in turn (delay levels 3 on: 10 s 30 s 1 m ... 2 h); later ones wait the last. */
  retryDelaysMs(): number[] {
    return this.retryDelays;
  }

  /** Deliveries a message gets before it goes to the dead-letter queue: the group's retries plus the first. */
  maxDeliveryAttempts(group: string): number {
    return this.groups.getOrCreate(group).retryMaxTimes + 1;
  }

  /** Messages of a group received on a topic and not yet acked. */
  inFlightCount(group: string, topic: string): number {
    return this.pop.inFlight(group, topic);
  }

  /** FIFO groups (consumeMessageOrderly) get a message group's messages one at a time, in order. */
  isFifoGroup(group: string): boolean {
    return this.groups.get(group)?.consumeMessageOrderly ?? false;
  }

  /**
   * For producers that pull their transaction checks (HTTP): due half messages of `topic`, waiting up to
   * `waitMs` for one to come due. Each is due again `intervalMs` later unless resolved.
   */
  async pullDueTransactions(
    topic: string,
    max: number,
    intervalMs: number,
    waitMs: number,
    signal?: AbortSignal,
  ): Promise<DueTransaction[]> {
    const until = Date.now() + waitMs;
    for (;;) {
      const due = await this.transactions.pullDue(topic, max, intervalMs);
      if (due.length > 0 || this.stopped || signal?.aborted || Date.now() >= until) return due;
      await new Promise((r) => setTimeout(r, Math.min(200, Math.max(1, until - Date.now()))));
    }
  }

  // ---- dead letters ---------------------------------------------------------------------------------------

  /** Dead-letter messages of a group, oldest first, from `offset` (the admin CLI and console list them). */
  listDeadLetters(group: string, offset = 0, max = 32): { offset: number; record: MessageRecord }[] {
    const topic = dlqTopic(group);
    const out: { offset: number; record: MessageRecord }[] = [];
    let off = Math.max(offset, this.store.getMinOffset(topic, 0));
    while (out.length < max) {
      const r = this.store.getMessages(topic, 0, off, Math.min(32, max - out.length));
      if (r.status !== "FOUND") break;
      r.messages.forEach((m, i) => out.push({ offset: r.offsets[i]!, record: decodeRecord(m) }));
      off = r.nextBeginOffset;
    }
    return out;
  }

  /**
   * Sends a dead-letter message back to its group with a fresh reconsume count, so that the group consumes it
   * again: through the group's retry topic, or else the topic it first failed on (its RETRY_TOPIC).
   */
  async resendDeadLetter(group: string, dlqOffset: number): Promise<SendResult> {
    const topic = dlqTopic(group);
    const r = this.store.getMessages(topic, 0, dlqOffset, 1);
    const raw = r.status === "FOUND" && r.offsets[0] === dlqOffset ? r.messages[0] : undefined;
    if (!raw) throw new BrokerError("MESSAGE_NOT_FOUND", `no dead letter at offset ${dlqOffset} of ${topic}`);
    const rec = decodeRecord(raw);
    const props = decodeProperties(rec.properties);
    const original = props.get(Prop.RETRY_TOPIC);
    if (!original)
      throw new BrokerError("BAD_REQUEST", "the dead letter does not say which topic it came from");
    props.delete(Prop.DELAY);
    // To the group alone: a remoting (push) group follows its retry topic, and RETRY_TOPIC, kept, names the
    // original to its clients. A group with no retry topic consumes over gRPC or HTTP, which redeliver in place
    // and read only the topic itself: it can be reached only through the original topic, where the topic's other
    // groups get the message again too.
    const retry = retryTopic(group);
    return this.sendMessage({
      producerGroup: "",
      topic: this.topics.get(retry) !== undefined ? retry : original,
      queueId: -1,
      body: Buffer.from(rec.body),
      properties: encodeProperties(props),
      flag: rec.flag,
      sysFlag: rec.sysFlag & ~SysFlag.TRANSACTION_MASK,
      bornTimestamp: rec.bornTimestamp,
      bornHost: rec.bornHost,
      reconsumeTimes: 0,
    });
  }

  // ---- lookup ---------------------------------------------------------------------------------------------

  queryMessageByKey(topic: string, key: string, maxNum: number, begin: number, end: number): MessageRecord[] {
    return this.store.queryByKey(topic, key, Math.min(Math.max(1, maxNum), 64), begin, end);
  }

  viewMessage(phyOffset: number): Buffer {
    const b = this.store.readAt(phyOffset);
    if (!b) throw new BrokerError("MESSAGE_NOT_FOUND", `no message at commit log offset ${phyOffset}`);
    return b;
  }

  // ---- admin ----------------------------------------------------------------------------------------------

  /** Creates or updates a topic; system topics are refused (see refuseSystemTopic). */
  createTopic(tc: TopicConfig): TopicConfig {
    refuseSystemTopic(tc.topicName, "changed");
    return this.topics.createOrUpdate(tc);
  }

  deleteTopic(topic: string): void {
    refuseSystemTopic(topic, "deleted");
    this.topics.delete(topic);
    this.store.deleteTopic(topic);
    this.offsets.removeTopic(topic);
    this.pop.forget(undefined, topic);
    this.lite.deleteAllOf(topic);
  }

  topicStats(topic: string): QueueStat[] {
    const tc = this.topics.get(topic);
    if (!tc) throw new BrokerError("TOPIC_NOT_EXIST", topic);
    const out: QueueStat[] = [];
    for (let q = 0; q < Math.max(tc.readQueueNums, tc.writeQueueNums); q++) {
      const max = this.store.getMaxOffset(topic, q);
      out.push({
        queueId: q,
        minOffset: this.store.getMinOffset(topic, q),
        maxOffset: max,
        lastUpdateTimestamp: max > 0 ? (this.store.getStoreTime(topic, q, max - 1) ?? 0) : 0,
      });
    }
    return out;
  }

  /** Per-queue broker and consumer offsets of a group (its backlog is their difference). */
  consumeStats(group: string, topic?: string): ConsumeQueueStat[] {
    const topics = topic ? [topic] : this.offsets.topicsOfGroup(group);
    const out: ConsumeQueueStat[] = [];
    for (const t of new Set(topics)) {
      // A lite topic's queue (LMQ) is not in the topic table: it is queue 0 of its own.
      const queues = this.topics.get(t)?.readQueueNums ?? (isLmq(t) ? 1 : 0);
      const offs = this.offsets.offsetsOf(group, t);
      for (let q = 0; q < queues; q++) {
        const brokerOffset = this.store.getMaxOffset(t, q);
        const consumerOffset = offs.get(q) ?? 0;
        out.push({
          topic: t,
          queueId: q,
          brokerOffset,
          consumerOffset,
          pullOffset: Math.max(consumerOffset, this.offsets.pullOffset(group, t, q)),
          lastTimestamp: consumerOffset > 0 ? (this.store.getStoreTime(t, q, consumerOffset - 1) ?? 0) : 0,
        });
      }
    }
    return out;
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    this.hold.wakeAll();
    this.slaveAcks.releaseAll();
    await this.delay.stop();
    this.alarms.stop();
    await this.pop.stop();
    await this.transactions.stop();
    await this.timer.stop();
    await this.offsets.flush(true);
    await this.lite.flush().catch(() => undefined);
    this.topics.persist();
    await this.store.close();
  }
}

/**
 * Properties that route a batched message elsewhere (transactions, delays, timers, lite topics, priority levels):
 * such a batch is stored one message at a time, each on its own path. One regular expression, not six includes.
 */
const ROUTED_ELSEWHERE = new RegExp(
  [Prop.TRAN_MSG, Prop.DELAY, "TIMER_", Prop.START_DELIVER_TIME, Prop.LITE_TOPIC, Prop.PRIORITY].join("|"),
);

/** What a slave answers a send (RocketMQ's words for the same refusal). */
function slaveRefusal(): BrokerError {
  return new BrokerError(
    "SERVICE_NOT_AVAILABLE",
    "service not available now, messages are put to the slave: send to the master of this broker name",
  );
}
