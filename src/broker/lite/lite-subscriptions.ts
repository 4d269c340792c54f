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

/** One SyncLiteSubscription: what `action` does to the client's set with `liteTopics`. */
export interface LiteSync extends LiteSubscriber {
  action: LiteAction;
}

interface Entry {
  group: string;
  parentTopic: string;
  /** Followed lite topic → its LMQ. */
  topics: Map<string, string>;
  /**
   * LMQs that may have something for this client: newly followed, written to since, or not yet seen idle. A
   * receive reads only these, so a client following thousands of quiet lite topics costs nothing per message.
   */
  ready: Set<string>;
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
  /** LMQ → the clients following it. */
  private readonly followers = new Map<string, Set<string>>();
  /** Changed since the last snapshot was taken. */
  dirty = false;

  constructor(private readonly limits: LiteSubscriptionLimits) {}

  /**
   * Applies one SyncLiteSubscription. Returns the lite topics newly followed (an offset option applies to them).
   * A client that moves to another group or parent topic starts over with the set it sends.
   */
  sync(req: LiteSync, now = Date.now()): string[] {
    const { clientId, group, parentTopic, action, liteTopics } = req;
    for (const t of liteTopics) {
      const problem = liteTopicProblem(t);
      if (problem) throw new BrokerError("ILLEGAL_LITE_TOPIC", problem);
    }
    let e = this.clients.get(clientId);
    if (!e || e.group !== group || e.parentTopic !== parentTopic) {
      if (e) this.drop(clientId);
      e = { group, parentTopic, topics: new Map(), ready: new Set(), seenAt: now };
      this.clients.set(clientId, e);
    }
    e.seenAt = now;
    const before = e.topics;
    let next: Set<string>;
    switch (action) {
      case "PARTIAL_ADD":
        next = new Set([...before.keys(), ...liteTopics]);
        break;
      case "PARTIAL_REMOVE":
        next = new Set([...before.keys()].filter((t) => !liteTopics.includes(t)));
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
    const topics = new Map<string, string>();
    const added: string[] = [];
    for (const t of next) {
      let lmq = before.get(t);
      if (lmq === undefined) {
        lmq = lmqName(parentTopic, t);
        added.push(t);
        e.ready.add(lmq);
        let set = this.followers.get(lmq);
        if (!set) {
          set = new Set();
          this.followers.set(lmq, set);
        }
        set.add(clientId);
      }
      topics.set(t, lmq);
    }
    for (const [t, lmq] of before) {
      if (next.has(t)) continue;
      e.ready.delete(lmq);
      this.unfollow(lmq, clientId);
    }
    if (added.length > 0 || next.size !== before.size) this.dirty = true;
    e.topics = topics;
    return added;
  }

  /**
   * Takes back subscriptions saved before a restart: each client follows what it did, and is forgotten unless it
   * shows up within `idleMs`, as if it had just synced. Without this a consumer got nothing after a restart until
   * its next full sync, up to 30 s later.
   */
  restore(saved: LiteSubscriber[], now = Date.now()): void {
    for (const s of saved) {
      try {
        this.sync({ ...s, action: "COMPLETE_ADD" }, now);
      } catch {
        // A saved entry that no longer passes the checks (a lowered quota) is dropped; the client re-syncs.
      }
    }
    this.dirty = false;
  }

  private unfollow(lmq: string, clientId: string): void {
    const set = this.followers.get(lmq);
    if (set?.delete(clientId) && set.size === 0) this.followers.delete(lmq);
  }

  /** Something was written to `lmq` (or finished there): its followers look at it again. Returns them. */
  touched(lmq: string): ReadonlySet<string> | undefined {
    const set = this.followers.get(lmq);
    if (set) for (const id of set) this.clients.get(id)?.ready.add(lmq);
    return set;
  }

  /** A receive found `lmq` idle for this client (nothing new, nothing in flight). */
  idle(clientId: string, lmq: string): void {
    this.clients.get(clientId)?.ready.delete(lmq);
  }

  /** The LMQs a client's receive reads: those of the lite topics it follows under `parentTopic` that may have
   * something for it (none when it follows another parent or nothing). */
  readyOf(clientId: string, parentTopic: string): string[] {
    const e = this.clients.get(clientId);
    return e && e.parentTopic === parentTopic ? [...e.ready] : [];
  }

  has(clientId: string): boolean {
    return this.clients.has(clientId);
  }

  drop(clientId: string): boolean {
    const e = this.clients.get(clientId);
    if (!e) return false;
    for (const lmq of e.topics.values()) this.unfollow(lmq, clientId);
    this.dirty = true;
    return this.clients.delete(clientId);
  }

  /** Forgets clients not heard from for `idleMs`; returns their ids. */
  expire(now = Date.now()): string[] {
    const gone: string[] = [];
    for (const [id, e] of this.clients) {
      if (now - e.seenAt > this.limits.idleMs) {
        this.drop(id);
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
      liteTopics: [...e.topics.keys()].sort(),
    }));
  }
}
