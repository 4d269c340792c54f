// Producer and consumer tables built from heartbeats (RocketMQ ProducerManager / ConsumerManager). A group's
// latest subscription to a topic wins. Clients whose channel closes, or that stay silent for clientExpireMs, are
// dropped; consumer-group membership changes are announced so protocols can tell the members to rebalance.
import type { SubscriptionData } from "./subscription.js";
import type { TransactionCheck } from "./transaction-service.js";

/** What the broker needs of a client connection; each protocol implements it. */
export interface ClientChannel {
  readonly id: string;
  readonly remoteAddress: string;
  /** Tells a consumer its group changed (NOTIFY_CONSUMER_IDS_CHANGED); optional per protocol. */
  notifyConsumerIdsChanged?(group: string): void;
  /** Asks a producer how a transaction ended (CHECK_TRANSACTION_STATE); it answers with END_TRANSACTION. */
  checkTransactionState?(check: TransactionCheck): void;
  /** Tells a consumer its group's offsets were reset (RESET_CONSUMER_CLIENT_OFFSET), so it drops what it holds. */
  resetConsumerOffset?(reset: OffsetReset): void;
}

/** Offsets an admin reset a group to on one topic of this broker. */
export interface OffsetReset {
  group: string;
  topic: string;
  brokerName: string;
  timestamp: number;
  force: boolean;
  /** queue id → the offset the group goes on from. */
  offsets: ReadonlyMap<number, number>;
}

export type MessageModel = "CLUSTERING" | "BROADCASTING";

export interface ClientInfo {
  clientId: string;
  channel: ClientChannel;
  language: string;
  version: number;
  lastUpdate: number;
  /** A consumer's own subscriptions ("topic type expression"), to tell whether a group's clients agree. */
  subscriptions?: string[];
}

export interface ConsumerGroupInfo {
  group: string;
  consumeType: string;
  messageModel: MessageModel;
  consumeFromWhere: string;
  subscriptions: Map<string, SubscriptionData>;
  /** clientId → client. */
  clients: Map<string, ClientInfo>;
  lastUpdate: number;
}

export interface ConsumerHeartbeat {
  groupName: string;
  consumeType?: string;
  messageModel?: MessageModel;
  consumeFromWhere?: string;
  subscriptions: SubscriptionData[];
}

export class ClientManager {
  readonly consumers = new Map<string, ConsumerGroupInfo>();
  /** producer group → clientId → client. */
  readonly producers = new Map<string, Map<string, ClientInfo>>();
  private readonly groupChangeListeners: ((group: string) => void)[] = [];

  constructor(private readonly expireMs: number) {}

  onConsumerGroupChanged(l: (group: string) => void): void {
    this.groupChangeListeners.push(l);
  }

  registerProducer(group: string, client: Omit<ClientInfo, "lastUpdate">, now = Date.now()): void {
    let m = this.producers.get(group);
    if (!m) {
      m = new Map();
      this.producers.set(group, m);
    }
    m.set(client.clientId, { ...client, lastUpdate: now });
  }

  /** Returns true when the group's membership changed. */
  registerConsumer(hb: ConsumerHeartbeat, client: Omit<ClientInfo, "lastUpdate">, now = Date.now()): boolean {
    let g = this.consumers.get(hb.groupName);
    if (!g) {
      g = {
        group: hb.groupName,
        consumeType: hb.consumeType ?? "CONSUME_PASSIVELY",
        messageModel: hb.messageModel ?? "CLUSTERING",
        consumeFromWhere: hb.consumeFromWhere ?? "CONSUME_FROM_LAST_OFFSET",
        subscriptions: new Map(),
        clients: new Map(),
        lastUpdate: now,
      };
      this.consumers.set(hb.groupName, g);
    }
    g.consumeType = hb.consumeType ?? g.consumeType;
    g.messageModel = hb.messageModel ?? g.messageModel;
    g.consumeFromWhere = hb.consumeFromWhere ?? g.consumeFromWhere;
    g.lastUpdate = now;
    // The latest heartbeat's subscriptions replace the group's: the last subscription wins.
    const next = new Map<string, SubscriptionData>();
    for (const s of hb.subscriptions) {
      const old = g.subscriptions.get(s.topic);
      next.set(
        s.topic,
        old && old.subString === s.subString && old.expressionType === s.expressionType ? old : s,
      );
    }
    g.subscriptions = next;
    const existing = g.clients.get(client.clientId);
    const changed = !existing || existing.channel.id !== client.channel.id;
    g.clients.set(client.clientId, { ...client, lastUpdate: now });
    if (changed) this.announce(g.group);
    return changed;
  }

  unregisterProducer(group: string, clientId: string): void {
    const m = this.producers.get(group);
    m?.delete(clientId);
    if (m && m.size === 0) this.producers.delete(group);
  }

  unregisterConsumer(group: string, clientId: string): void {
    const g = this.consumers.get(group);
    if (g?.clients.delete(clientId)) {
      if (g.clients.size === 0) this.consumers.delete(group);
      this.announce(group);
    }
  }

  /** Drops every registration made over a channel that closed. */
  channelClosed(channelId: string): void {
    for (const [group, m] of this.producers) {
      for (const [id, c] of m) if (c.channel.id === channelId) m.delete(id);
      if (m.size === 0) this.producers.delete(group);
    }
    for (const [group, g] of this.consumers) {
      let changed = false;
      for (const [id, c] of g.clients) {
        if (c.channel.id === channelId) {
          g.clients.delete(id);
          changed = true;
        }
      }
      if (g.clients.size === 0) this.consumers.delete(group);
      if (changed) this.announce(group);
    }
  }

  expire(now = Date.now()): void {
    for (const [group, m] of this.producers) {
      for (const [id, c] of m) if (now - c.lastUpdate > this.expireMs) m.delete(id);
      if (m.size === 0) this.producers.delete(group);
    }
    for (const [group, g] of this.consumers) {
      let changed = false;
      for (const [id, c] of g.clients) {
        if (now - c.lastUpdate > this.expireMs) {
          g.clients.delete(id);
          changed = true;
        }
      }
      if (g.clients.size === 0) this.consumers.delete(group);
      if (changed) this.announce(group);
    }
  }

  consumerIds(group: string): string[] {
    return [...(this.consumers.get(group)?.clients.keys() ?? [])];
  }

  subscription(group: string, topic: string): SubscriptionData | undefined {
    return this.consumers.get(group)?.subscriptions.get(topic);
  }

  /** Groups whose consumers subscribe to `topic`. */
  groupsSubscribing(topic: string): string[] {
    return [...this.consumers.values()].filter((g) => g.subscriptions.has(topic)).map((g) => g.group);
  }

  private announce(group: string): void {
    for (const l of this.groupChangeListeners) l(group);
  }
}
