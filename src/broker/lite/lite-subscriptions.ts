// Which lite topics each LitePushConsumer subscribes to. Subscriptions belong to one client (its client id), not
// to its group: clients of one group may each follow different lite topics, and a receive serves a client only
// the lite topics it follows. Clients re-send their whole set every 30 s (COMPLETE_ADD); one that stops doing so
// for `idleMs` is forgotten, as is one whose connection ends.
import { BrokerError } from "../../common/errors.js";
import { liteTopicProblem, lmqName } from "../../common/lite-topic.js";

export type LiteAction = "PARTIAL_ADD" | "PARTIAL_REMOVE" | "COMPLETE_ADD" | "COMPLETE_REMOVE";

export interface LiteSubscriber {
  clientId: string;
  group: string;
  parentTopic: string;
  liteTopics: string[];
}

interface Entry {
  group: string;
  parentTopic: string;
  topics: Set<string>;
  /** The LMQ names of `topics`, built once per change (receives ask for them on every poll). */
  lmqs: string[];
  seenAt: number;
}

export interface LiteSubscriptionLimits {
  /** Lite topics one client may follow. */
  perClient: number;
  /** A client silent for this long is forgotten. */
  idleMs: number;
}

export class LiteSubscriptions {
  private readonly clients = new Map<string, Entry>();

  constructor(private readonly limits: LiteSubscriptionLimits) {}

  /**
   * Applies one SyncLiteSubscription. Returns the lite topics newly followed (an offset option applies to them).
   * A client that moves to another group or parent topic starts over with the set it sends.
   */
  sync(
    clientId: string,
    group: string,
    parentTopic: string,
    action: LiteAction,
    liteTopics: string[],
    now = Date.now(),
  ): string[] {
    for (const t of liteTopics) {
      const problem = liteTopicProblem(t);
      if (problem) throw new BrokerError("ILLEGAL_LITE_TOPIC", problem);
    }
    let e = this.clients.get(clientId);
    if (!e || e.group !== group || e.parentTopic !== parentTopic) {
      e = { group, parentTopic, topics: new Set(), lmqs: [], seenAt: now };
      this.clients.set(clientId, e);
    }
    e.seenAt = now;
    const before = new Set(e.topics);
    let next: Set<string>;
    switch (action) {
      case "PARTIAL_ADD":
        next = new Set([...e.topics, ...liteTopics]);
        break;
      case "PARTIAL_REMOVE":
        next = new Set([...e.topics].filter((t) => !liteTopics.includes(t)));
        break;
      case "COMPLETE_ADD":
        next = new Set(liteTopics);
        break;
      case "COMPLETE_REMOVE":
        next = new Set();
        break;
    }
    if (next.size > this.limits.perClient) {
      throw new BrokerError(
        "LITE_SUBSCRIPTION_QUOTA_EXCEEDED",
        `a client may follow at most ${this.limits.perClient} lite topics, this one asked for ${next.size}`,
      );
    }
    e.topics = next;
    e.lmqs = [...next].map((t) => lmqName(parentTopic, t));
    return [...next].filter((t) => !before.has(t));
  }

  /** The LMQs a client's receives read: the lite topics it follows under `parentTopic` (none when it follows
   * another parent or nothing). */
  queuesOf(clientId: string, parentTopic: string): string[] {
    const e = this.clients.get(clientId);
    return e && e.parentTopic === parentTopic ? e.lmqs : [];
  }

  has(clientId: string): boolean {
    return this.clients.has(clientId);
  }

  drop(clientId: string): boolean {
    return this.clients.delete(clientId);
  }

  /** Forgets clients not heard from for `idleMs`; returns their ids. */
  expire(now = Date.now()): string[] {
    const gone: string[] = [];
    for (const [id, e] of this.clients) {
      if (now - e.seenAt > this.limits.idleMs) {
        this.clients.delete(id);
        gone.push(id);
      }
    }
    return gone;
  }

  /** Every client's subscriptions (admin views). */
  list(): LiteSubscriber[] {
    return [...this.clients].map(([clientId, e]) => ({
      clientId,
      group: e.group,
      parentTopic: e.parentTopic,
      liteTopics: [...e.topics].sort(),
    }));
  }
}
