// What admins do to consumer offsets: reset a group by time (or one queue to an offset), copy one group's
// offsets to another, and see how far behind in time a group is on each queue of a topic.
import { BrokerError } from "../../common/errors.js";
import type { Broker } from "../broker.js";

export interface ResetRequest {
  group: string;
  topic: string;
  /** Store time to go back (or forward) to; negative: the end of each queue. */
  timestamp: number;
  /**
   * false: a queue only moves back, as RocketMQ's Broker2Client does without isForce; a group already behind the
   * time keeps its offset.
   */
  force: boolean;
  /** One queue only; with `offset`, that queue goes exactly there. */
  queueId?: number;
  offset?: number;
}

/**
 * Commits the group's new offsets, drops its receive (pop) state on the topic, and tells its online consumers,
 * which otherwise would write back the offsets they hold in memory. Clients that ignore that notice (ali-ons)
 * are moved by their next pull instead (OffsetManager.assignReset). Returns queue id → new offset.
 */
export function resetGroupOffsets(b: Broker, r: ResetRequest): Map<number, number> {
  if (b.isSlave)
    throw new BrokerError("BAD_REQUEST", "offsets can be reset on the master only, not on a slave");
  const tc = b.topics.get(r.topic);
  if (!tc) throw new BrokerError("TOPIC_NOT_EXIST", r.topic);
  const online = b.clients.consumers.get(r.group);
  // A typo must not create a group (and report a reset): the group is configured, online, or has offsets.
  if (
    b.groups.get(r.group) === undefined &&
    online === undefined &&
    b.offsets.topicsOfGroup(r.group).length === 0
  )
    throw new BrokerError("SUBSCRIPTION_GROUP_NOT_EXIST", `group ${r.group} does not exist`);
  if (online?.messageModel === "BROADCASTING") {
    throw new BrokerError(
      "BAD_REQUEST",
      `group ${r.group} consumes in BROADCASTING mode: each client keeps its own offsets, so the broker cannot reset them`,
    );
  }
  const queues = Math.max(tc.readQueueNums, tc.writeQueueNums);
  const target = new Map<number, number>();
  if (r.queueId !== undefined && r.queueId >= 0) {
    if (r.queueId >= queues) throw new BrokerError("BAD_REQUEST", `${r.topic} has no queue ${r.queueId}`);
    target.set(r.queueId, r.offset === undefined ? offsetAt(b, r.topic, r.queueId, r.timestamp) : r.offset);
    if (r.offset !== undefined) checkInQueue(b, r.topic, r.queueId, r.offset);
  } else {
    for (let q = 0; q < tc.readQueueNums; q++) target.set(q, offsetAt(b, r.topic, q, r.timestamp));
  }
  // An explicit offset is where the admin wants the queue, whichever way that moves it.
  const force = r.force || r.offset !== undefined;
  const out = new Map<number, number>();
  for (const [q, off] of target) {
    const cur = b.offsets.query(r.group, r.topic, q);
    const next = force || cur < 0 || off < cur ? off : cur;
    b.offsets.commit(r.group, r.topic, q, next);
    b.offsets.assignReset(r.group, r.topic, q, next);
    // A consumer's pull held on the queue would otherwise take the reset only when its long poll ends (15-30 s).
    b.wakeHeldPulls(r.topic, q);
    out.set(q, next);
  }
  b.pop.forget(r.group, r.topic);
  b.offsets.flush().catch(() => undefined);
  const reset = {
    group: r.group,
    topic: r.topic,
    brokerName: b.config.brokerName,
    timestamp: r.timestamp,
    force: r.force,
    offsets: out,
  };
  for (const c of online?.clients.values() ?? []) c.channel.resetConsumerOffset?.(reset);
  return out;
}

function offsetAt(b: Broker, topic: string, queueId: number, timestamp: number): number {
  if (timestamp < 0) return b.store.getMaxOffset(topic, queueId);
  return Math.max(0, b.store.getOffsetByTime(topic, queueId, timestamp));
}

function checkInQueue(b: Broker, topic: string, queueId: number, offset: number): void {
  const min = b.store.getMinOffset(topic, queueId);
  const max = b.store.getMaxOffset(topic, queueId);
  if (offset < min || offset > max)
    throw new BrokerError(
      "BAD_REQUEST",
      `offset ${offset} is outside queue ${queueId}'s range [${min}, ${max}]`,
    );
}

/**
 * Gives `dest` the offsets `src` has on `topic`, or on every topic `src` has offsets on. Unless `offline`, a
 * topic the online `src` group does not subscribe to is skipped (RocketMQ's rule: its offsets there are stale).
 * Returns the topics copied.
 */
export function cloneGroupOffsets(
  b: Broker,
  src: string,
  dest: string,
  topic: string | undefined,
  offline: boolean,
): string[] {
  const topics = topic ? [topic] : b.offsets.topicsOfGroup(src);
  const subs = b.clients.consumers.get(src)?.subscriptions;
  const copied: string[] = [];
  for (const t of topics) {
    if (!b.topics.get(t)) continue;
    if (!offline && subs && subs.size > 0 && !subs.has(t)) continue;
    if (b.offsets.cloneOffsets(src, dest, t)) copied.push(t);
  }
  if (copied.length > 0) b.offsets.flush().catch(() => undefined);
  return copied.sort();
}

export interface QueueTimeSpan {
  queueId: number;
  /** Store time of the queue's first and last message; -1 for an empty queue (as RocketMQ). */
  minTimeStamp: number;
  maxTimeStamp: number;
  /** Store time of the last message the group consumed (the first message's when it consumed none). */
  consumeTimeStamp: number;
  /** How long the group's next message has waited, ms; 0 when it is caught up. */
  delayTime: number;
}

/** Per write queue of `topic` (RocketMQ's QUERY_CONSUME_TIME_SPAN walks write queues). */
export function consumeTimeSpans(b: Broker, group: string, topic: string, now = Date.now()): QueueTimeSpan[] {
  const tc = b.topics.get(topic);
  if (!tc) throw new BrokerError("TOPIC_NOT_EXIST", topic);
  const timeAt = (q: number, off: number) => (off < 0 ? -1 : (b.store.getStoreTime(topic, q, off) ?? -1));
  const out: QueueTimeSpan[] = [];
  for (let q = 0; q < tc.writeQueueNums; q++) {
    const min = b.store.getMinOffset(topic, q);
    const max = b.store.getMaxOffset(topic, q);
    const minTimeStamp = max > min ? timeAt(q, min) : -1;
    const consumed = b.offsets.query(group, topic, q);
    // A group without an offset is behind from the queue's first message (RocketMQ reads offset -1 here, and
    // reports a delay of the whole epoch).
    const next = Math.max(consumed, min);
    const nextTime = next < max ? timeAt(q, next) : -1;
    out.push({
      queueId: q,
      minTimeStamp,
      maxTimeStamp: max > min ? timeAt(q, max - 1) : -1,
      consumeTimeStamp: consumed > 0 ? timeAt(q, consumed - 1) : minTimeStamp,
      delayTime: nextTime >= 0 ? Math.max(0, now - nextTime) : 0,
    });
  }
  return out;
}
