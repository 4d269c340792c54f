// What operators ask about consumer groups: which exist, their clients and subscriptions (and whether the clients
// agree on them), and their progress per queue (broker offset, consumer offset, backlog, last consume time).
import { isLmq, lmqName, parseLmqName } from "../../common/lite-topic.js";
import { DLQ_PREFIX, RETRY_PREFIX } from "../../common/topic.js";
import type { Broker } from "../broker.js";
import type { ClientView, GroupClients, GroupLag, GroupSummary, QueueProgress } from "./views.js";

export type { ClientView, GroupClients, GroupSummary, QueueProgress } from "./views.js";

/** Topics a group consumes: from its subscriptions and its offsets (retry topics included), and the LMQs of the
 * lite topics its clients follow. */
export function groupTopics(b: Broker, group: string): string[] {
  const topics = new Set<string>();
  for (const t of b.offsets.topicsOfGroup(group)) topics.add(t);
  for (const t of b.clients.consumers.get(group)?.subscriptions.keys() ?? []) topics.add(t);
  for (const s of b.lite.subscriptions.list())
    if (s.group === group) for (const lite of s.liteTopics) topics.add(lmqName(s.parentTopic, lite));
  return [...topics].filter((t) => b.topics.get(t) || isLmq(t)).sort();
}

export function groupProgress(b: Broker, group: string, topic?: string): QueueProgress[] {
  const out: QueueProgress[] = [];
  for (const t of topic ? [topic] : groupTopics(b, group)) {
    for (const s of b.consumeStats(group, t)) {
      out.push({
        topic: s.topic,
        queueId: s.queueId,
        brokerOffset: s.brokerOffset,
        consumerOffset: s.consumerOffset,
        backlog: Math.max(0, s.brokerOffset - s.consumerOffset),
        lastConsumeTime: s.lastTimestamp,
      });
    }
  }
  return out;
}

/** Backlog of a group (on one topic or all) and the age of its oldest un-consumed message. */
export function groupLag(b: Broker, group: string, topic: string | undefined, now = Date.now()): GroupLag {
  let backlog = 0;
  let oldest = Infinity;
  for (const p of groupProgress(b, group, topic)) {
    if (p.backlog <= 0) continue;
    backlog += p.backlog;
    const at = b.store.getStoreTime(
      p.topic,
      p.queueId,
      Math.max(p.consumerOffset, b.getMinOffset(p.topic, p.queueId)),
    );
    if (at !== undefined && at < oldest) oldest = at;
  }
  return { backlog, lagMs: Number.isFinite(oldest) ? Math.max(0, now - oldest) : 0 };
}

/** Groups that consume `topic`: online subscribers and groups with offsets on it. */
export function consumersOfTopic(b: Broker, topic: string): string[] {
  return [...new Set([...b.clients.groupsSubscribing(topic), ...b.offsets.groupsOfTopic(topic)])].sort();
}

/** Every group the broker knows: configured, online, or with offsets. */
export function groupNames(b: Broker): string[] {
  const names = new Set<string>();
  for (const g of b.groups.all()) names.add(g.groupName);
  for (const g of b.clients.consumers.keys()) names.add(g);
  for (const p of b.offsets.pairs()) names.add(p.group);
  return [...names].sort();
}

export function listGroups(b: Broker): GroupSummary[] {
  return groupNames(b).map((group) => {
    const online = b.clients.consumers.get(group);
    const cfg = b.groups.get(group);
    // A lite consumer's thousands of lite topics show as their parent topic.
    const topics = [
      ...new Set(
        groupTopics(b, group)
          .filter((t) => !t.startsWith(RETRY_PREFIX) && !t.startsWith(DLQ_PREFIX))
          .map((t) => parseLmqName(t)?.parentTopic ?? t),
      ),
    ].sort();
    return {
      group,
      messageModel: online?.messageModel ?? "CLUSTERING",
      consumeType: online?.consumeType ?? "",
      onlineClients: online?.clients.size ?? 0,
      topics,
      // The backlog alone: no store reads for the age of the oldest message, as groupLag does.
      backlog: groupProgress(b, group).reduce((n, p) => n + p.backlog, 0),
      fifo: cfg?.consumeMessageOrderly ?? false,
      retryMaxTimes: cfg?.retryMaxTimes ?? b.config.maxReconsumeTimes,
    };
  });
}

export function groupClients(b: Broker, group: string): GroupClients {
  const g = b.clients.consumers.get(group);
  const clients: ClientView[] = [...(g?.clients.values() ?? [])].map((c) => ({
    clientId: c.clientId,
    language: c.language,
    version: c.version,
    remoteAddress: c.channel.remoteAddress,
    lastHeartbeat: c.lastUpdate,
    subscriptions: [...(c.subscriptions ?? [])].sort(),
  }));
  const signatures = new Set(clients.map((c) => c.subscriptions.join("\n")));
  return {
    group,
    messageModel: g?.messageModel ?? "CLUSTERING",
    consumeType: g?.consumeType ?? "",
    subscriptions: [...(g?.subscriptions.values() ?? [])].map((s) => ({
      topic: s.topic,
      type: s.expressionType,
      expression: s.subString,
    })),
    clients,
    consistent: signatures.size <= 1,
  };
}
