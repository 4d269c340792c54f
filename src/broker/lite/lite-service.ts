// Lite topics on the broker. A message sent to parent topic P with lite topic L is stored once, in queue 0 of
// the LMQ `%LMQ%$P$L`, with offsets of its own; the parent's queues never see it. A lite consumer receives
// from the LMQs of the lite topics it follows, each in order a batch at a time (see PopService), and its group's
// progress on each is an ordinary consumer offset on the LMQ. Subscriptions are saved across restarts.
import { BrokerError } from "../../common/errors.js";
import { isLmq, liteTopicProblem, lmqName, parseLmqName } from "../../common/lite-topic.js";
import type { TopicConfig } from "../../common/topic.js";
import { Perm } from "../../common/topic.js";
import type { MessageStore } from "../../store/message-store.js";
import type { OffsetManager } from "../offset-manager.js";
import type { PopService } from "../pop/pop-service.js";
import type { ReceivedMessage } from "../pop/pop-types.js";
import type { TopicManager } from "../topic-manager.js";
import { LiteSubscriptions } from "./lite-subscriptions.js";
import type { LiteSubscriber, LiteSubscriptionLimits, LiteSync } from "./lite-subscriptions.js";
import type { JsonFile } from "../json-file.js";

/** Where a newly followed lite topic starts (OffsetOption): as it was, its first or next message, an offset, the
 * last `tailN` messages, or the first message stored at or after a time. */
export type LiteStart =
  { policy: "LAST" | "MIN" | "MAX" } | { offset: number } | { tailN: number } | { timestamp: number };

export interface LiteReceive {
  clientId: string;
  group: string;
  parentTopic: string;
  batchSize: number;
  invisibleMs: number;
  pollTimeoutMs: number;
  signal?: AbortSignal;
}

interface LiteDeps {
  /** Lite topics kept at most; a message for a new one past it is refused. */
  maxTopics: number;
  store: MessageStore;
  topics: TopicManager;
  offsets: OffsetManager;
  pop: PopService;
  /** Where subscriptions are kept across restarts. */
  file: JsonFile<{ subscriptions: LiteSubscriber[] }>;
}

export const DEFAULT_LITE_LIMITS: LiteSubscriptionLimits = { perClient: 2000, idleMs: 180_000 };

function wakeKey(clientId: string): string {
  return `\u0000lite\u0000${clientId}`;
}

export class LiteService {
  readonly subscriptions: LiteSubscriptions;
  /** Every lite topic's LMQ the store holds (for the quota). */
  private readonly known = new Set<string>();

  constructor(
    private readonly deps: LiteDeps,
    private readonly limits: LiteSubscriptionLimits = DEFAULT_LITE_LIMITS,
  ) {
    this.subscriptions = new LiteSubscriptions(limits);
    this.subscriptions.restore(deps.file.read()?.subscriptions ?? []);
    for (const t of deps.store.topics()) if (isLmq(t)) this.known.add(t);
  }

  /** Lite topics the store holds. */
  get topicCount(): number {
    return this.known.size;
  }

  /** Saves the subscriptions when they changed (with the offsets, and at stop). */
  async flush(): Promise<void> {
    if (!this.subscriptions.dirty) return;
    this.subscriptions.dirty = false;
    try {
      await this.deps.file.writeAsync({ subscriptions: this.subscriptions.list() });
    } catch (e) {
      this.subscriptions.dirty = true;
      throw e;
    }
  }

  /** Lite topics one client may follow (told to clients in their Settings). */
  get quotaPerClient(): number {
    return this.limits.perClient;
  }

  /** The LMQ a lite message sent to `parent` is stored in. A parent typed for other messages refuses it. */
  queueFor(parent: TopicConfig, liteTopic: string): string {
    const problem = liteTopicProblem(liteTopic);
    if (problem) throw new BrokerError("ILLEGAL_LITE_TOPIC", problem);
    const type = parent.attributes["message.type"]?.toUpperCase();
    if (type && type !== "LITE") {
      throw new BrokerError(
        "BAD_REQUEST",
        `topic ${parent.topicName} holds ${type} messages; lite messages need a LITE (or untyped) topic`,
      );
    }
    const lmq = lmqName(parent.topicName, liteTopic);
    if (!this.known.has(lmq)) {
      if (this.known.size >= this.deps.maxTopics)
        throw new BrokerError(
          "LITE_TOPIC_QUOTA_EXCEEDED",
          `the broker keeps ${this.known.size} lite topics, its limit (maxLiteTopics); ${liteTopic} would be a new one`,
        );
      this.known.add(lmq);
    }
    return lmq;
  }

  /** A SyncLiteSubscription from a client; `start` places the group on the lite topics it newly follows. */
  sync(req: LiteSync, start?: LiteStart): void {
    if (!this.deps.topics.get(req.parentTopic))
      throw new BrokerError("TOPIC_NOT_EXIST", `topic ${req.parentTopic} does not exist`);
    const added = this.subscriptions.sync(req);
    if (start && req.action === "PARTIAL_ADD") {
      for (const t of added) this.place(req.group, lmqName(req.parentTopic, t), start);
    }
    // A long poll in progress looks at the new set at once.
    this.deps.pop.arrived(wakeKey(req.clientId));
  }

  private place(group: string, lmq: string, start: LiteStart): void {
    const { store, offsets, pop } = this.deps;
    const min = Math.max(0, store.getMinOffset(lmq, 0));
    const max = Math.max(min, store.getMaxOffset(lmq, 0));
    let at: number;
    if ("policy" in start) {
      if (start.policy === "LAST") return;
      at = start.policy === "MIN" ? min : max;
    } else if ("offset" in start) {
      at = start.offset;
    } else if ("tailN" in start) {
      at = max - start.tailN;
    } else {
      at = store.getOffsetByTime(lmq, 0, start.timestamp);
    }
    at = Math.min(max, Math.max(min, Math.floor(at)));
    pop.forget(group, lmq);
    offsets.commit(group, lmq, 0, at);
  }

  /** Receives for a LitePushConsumer: only the lite topics it follows, each in order. */
  receive(req: LiteReceive): Promise<ReceivedMessage[]> {
    const tc = this.deps.topics.get(req.parentTopic);
    if (!tc) throw new BrokerError("TOPIC_NOT_EXIST", `topic ${req.parentTopic} does not exist`);
    if (!(tc.perm & Perm.READ))
      throw new BrokerError("NO_PERMISSION", `topic ${req.parentTopic} is not readable`);
    return this.deps.pop.receiveOrderedQueues({
      group: req.group,
      topics: () => this.subscriptions.readyOf(req.clientId, req.parentTopic),
      idle: (lmq) => this.subscriptions.idle(req.clientId, lmq),
      wakeKey: wakeKey(req.clientId),
      batchSize: req.batchSize,
      invisibleMs: req.invisibleMs,
      pollTimeoutMs: req.pollTimeoutMs,
      ...(req.signal ? { signal: req.signal } : {}),
    });
  }

  /** A message was stored in `lmq`: the clients following it look at it again. */
  arrived(lmq: string): void {
    const clients = this.subscriptions.touched(lmq);
    if (clients) for (const id of clients) this.deps.pop.arrived(wakeKey(id));
  }

  /**
   * Deletes lite topics nobody wrote to for their parent's `lite.topic.expiration` minutes (RocketMQ's attribute;
   * absent or -1, the default, means never), and those whose parent is gone: their queue, every group's offset
   * and receive state. A message sent later starts the lite topic afresh. Returns how many were deleted.
   */
  expireIdle(now = Date.now()): number {
    const { store, topics } = this.deps;
    const gone: string[] = [];
    for (const lmq of this.known) {
      const parent = topics.get(parseLmqName(lmq)!.parentTopic);
      if (parent) {
        const minutes = Number(parent.attributes["lite.topic.expiration"] ?? -1);
        if (!(minutes > 0)) continue;
        const max = store.getMaxOffset(lmq, 0);
        // No store time: the message is gone with its commit log segment.
        const last = max > 0 ? store.getStoreTime(lmq, 0, max - 1) : undefined;
        if (last !== undefined && now - last < minutes * 60_000) continue;
      }
      gone.push(lmq);
    }
    this.deleteQueues(gone);
    return gone.length;
  }

  /** The parent topic was deleted: its lite topics go with it. */
  deleteAllOf(parentTopic: string): void {
    this.deleteQueues([...this.known].filter((lmq) => parseLmqName(lmq)?.parentTopic === parentTopic));
  }

  private deleteQueues(lmqs: string[]): void {
    if (lmqs.length === 0) return;
    this.deps.pop.forgetTopics(new Set(lmqs));
    for (const lmq of lmqs) {
      this.known.delete(lmq);
      this.deps.offsets.removeTopic(lmq);
      this.deps.store.deleteTopic(lmq);
    }
  }

  /** The client is gone (its connection ended or it said goodbye): it follows nothing any more. */
  dropClient(clientId: string): void {
    if (this.subscriptions.drop(clientId)) this.deps.pop.arrived(wakeKey(clientId));
  }

  expire(): void {
    for (const id of this.subscriptions.expire()) this.deps.pop.arrived(wakeKey(id));
  }
}
