// Finding messages for operators: by id (offset message id, or the producer's unique id within a topic), by key,
// by store-time range, and a message's trace: where it was stored, which groups consumed it or still have it
// pending or in flight, and its copies in retry and dead-letter queues.
import { deliveredBody } from "../../common/compressed-body.js";
import { decodeRecord } from "../../common/message-record.js";
import type { MessageRecord } from "../../common/message-record.js";
import { createOffsetMsgId, decodeOffsetMsgId } from "../../common/message-id.js";
import { Prop, decodeProperties } from "../../common/properties.js";
import { formatHost } from "../../common/socket-address.js";
import { dlqTopic, retryTopic } from "../../common/topic.js";
import type { Broker } from "../broker.js";
import { groupProgress } from "./group-info.js";
import type { MessageView, TraceEvent } from "./views.js";

export type { MessageView, TraceEvent } from "./views.js";

export function viewOf(rec: MessageRecord): MessageView {
  const props = Object.fromEntries(decodeProperties(rec.properties));
  const offsetMsgId = createOffsetMsgId(rec.storeHost, rec.physicalOffset);
  const body = deliveredBody(rec.body, rec.sysFlag);
  const text = body.toString("utf8");
  const isText = Buffer.from(text, "utf8").equals(body);
  return {
    msgId: props[Prop.UNIQ_KEY] ?? offsetMsgId,
    offsetMsgId,
    topic: rec.topic,
    queueId: rec.queueId,
    queueOffset: rec.queueOffset,
    tags: props[Prop.TAGS] ?? "",
    keys: (props[Prop.KEYS] ?? "").split(" ").filter(Boolean),
    properties: props,
    bornTimestamp: rec.bornTimestamp,
    bornHost: formatHost(rec.bornHost),
    storeTimestamp: rec.storeTimestamp,
    storeHost: formatHost(rec.storeHost),
    reconsumeTimes: rec.reconsumeTimes,
    bodySize: body.length,
    body: isText ? text : body.toString("base64"),
    bodyEncoding: isText ? "utf8" : "base64",
  };
}

function decodeOrUndefined(raw: Buffer): MessageRecord | undefined {
  try {
    return decodeRecord(raw);
  } catch {
    return undefined;
  }
}

/** By offset message id (this broker's), else by unique id in `topic` (or every topic when none is given). */
export function findById(b: Broker, id: string, topic?: string): MessageRecord[] {
  const decoded = decodeOffsetMsgId(id);
  if (decoded) {
    const raw = b.store.readAt(decoded.phyOffset);
    const rec = raw && decodeOrUndefined(raw);
    if (rec && createOffsetMsgId(rec.storeHost, rec.physicalOffset) === id.toUpperCase()) return [rec];
  }
  const topics = topic ? [topic] : b.topics.all().map((t) => t.topicName);
  const out: MessageRecord[] = [];
  for (const t of topics) out.push(...b.store.queryByKey(t, id, 16));
  return out.filter((r) => decodeProperties(r.properties).get(Prop.UNIQ_KEY) === id);
}

/** Messages of a topic stored between `begin` and `end` (ms), oldest first per queue, at most `max`. */
export function findByTime(b: Broker, topic: string, begin: number, end: number, max = 64): MessageRecord[] {
  const tc = b.topics.get(topic);
  if (!tc) return [];
  const out: MessageRecord[] = [];
  for (let q = 0; q < tc.readQueueNums && out.length < max; q++) {
    let off = b.searchOffsetByTimestamp(topic, q, begin);
    for (;;) {
      const r = b.store.getMessages(topic, q, off, Math.min(32, max - out.length));
      if (r.status !== "FOUND" || out.length >= max) break;
      let past = false;
      for (const m of r.messages) {
        const rec = decodeRecord(m);
        if (rec.storeTimestamp > end) {
          past = true;
          break;
        }
        if (rec.storeTimestamp >= begin) out.push(rec);
      }
      if (past) break;
      off = r.nextBeginOffset;
    }
  }
  return out.sort((a, c) => a.storeTimestamp - c.storeTimestamp);
}

/** A message's life on this broker, oldest event first. */
export function traceOf(b: Broker, rec: MessageRecord): TraceEvent[] {
  const uniq = decodeProperties(rec.properties).get(Prop.UNIQ_KEY);
  const events: TraceEvent[] = [
    {
      time: rec.storeTimestamp,
      type: "stored",
      detail: `${rec.topic} queue ${rec.queueId} offset ${rec.queueOffset}, from ${formatHost(rec.bornHost)}`,
    },
  ];
  const groups = new Set<string>(b.offsets.groupsOfTopic(rec.topic));
  for (const g of b.clients.groupsSubscribing(rec.topic)) groups.add(g);
  for (const group of [...groups].sort()) {
    const p = groupProgress(b, group, rec.topic).find((x) => x.queueId === rec.queueId);
    if (!p) continue;
    const inFlight = b.pop.inFlightAt(group, rec.topic, rec.queueId, rec.queueOffset);
    if (inFlight) {
      events.push({
        time: inFlight.firstDeliveredAt,
        type: "in-flight",
        group,
        detail: `delivery ${inFlight.attempt}, invisible until ${new Date(inFlight.invisibleUntil).toISOString()}`,
      });
    } else if (p.consumerOffset > rec.queueOffset) {
      events.push({
        time: p.lastConsumeTime,
        type: "consumed",
        group,
        detail: `group offset ${p.consumerOffset}`,
      });
    } else {
      events.push({ time: 0, type: "pending", group, detail: `group offset ${p.consumerOffset}` });
    }
    if (!uniq) continue;
    for (const [topic, type] of [
      [retryTopic(group), "retry"],
      [dlqTopic(group), "dead-letter"],
    ] as const) {
      for (const copy of b.store.queryByKey(topic, uniq, 32)) {
        events.push({
          time: copy.storeTimestamp,
          type,
          group,
          detail: `${topic} offset ${copy.queueOffset}, reconsume ${copy.reconsumeTimes}`,
        });
      }
    }
  }
  return events.sort((a, c) => (a.time || Infinity) - (c.time || Infinity));
}
