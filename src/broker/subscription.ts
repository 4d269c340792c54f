// Tag subscriptions (RocketMQ SubscriptionData / FilterAPI.build): "*" or empty takes everything; otherwise
// tags separated by "||", each matched first by its Java hash code against the consume queue's tag hash, then
// exactly against the record's TAGS property (hash codes collide).
import { javaStringHashCode } from "../common/java-hash.js";
import { Prop, getProperty } from "../common/properties.js";
import { readRecordProperties } from "../common/message-record.js";
import type { MessageFilter } from "../store/message-store.js";
import { BrokerError } from "../common/errors.js";
import { compileSql92, sql92MessageFilter } from "./filter/sql-filter.js";

export interface SubscriptionData {
  topic: string;
  subString: string;
  expressionType: string;
  tagsSet: string[];
  codeSet: number[];
  subVersion: number;
}

export const SUB_ALL = "*";

export function buildSubscription(
  topic: string,
  expression: string | undefined,
  expressionType = "TAG",
): SubscriptionData {
  const sub = (expression ?? "").trim();
  const type = expressionType || "TAG";
  if (type === "TAG" && (sub === "" || sub === SUB_ALL)) {
    return {
      topic,
      subString: SUB_ALL,
      expressionType: type,
      tagsSet: [],
      codeSet: [],
      subVersion: Date.now(),
    };
  }
  if (type !== "TAG") {
    return { topic, subString: sub, expressionType: type, tagsSet: [], codeSet: [], subVersion: Date.now() };
  }
  const tags = sub
    .split("||")
    .map((t) => t.trim())
    .filter((t) => t.length > 0);
  return {
    topic,
    subString: sub,
    expressionType: type,
    tagsSet: tags,
    codeSet: tags.map(javaStringHashCode),
    subVersion: Date.now(),
  };
}

export function subscribesAll(s: SubscriptionData): boolean {
  return s.expressionType === "TAG" && (s.subString === SUB_ALL || s.tagsSet.length === 0);
}

/** A store filter for a tag subscription, or undefined when the subscription takes everything. */
export function tagFilter(s: SubscriptionData): MessageFilter | undefined {
  if (s.expressionType !== "TAG" || subscribesAll(s)) return undefined;
  const codes = new Set(s.codeSet);
  const tags = new Set(s.tagsSet);
  return {
    matchTagsCode: (code) => codes.has(code),
    matchRecord: (record) => {
      // Only the properties are needed: walk to them instead of decoding the whole record.
      const tag = getProperty(readRecordProperties(record) ?? "", Prop.TAGS);
      return tag !== undefined && tags.has(tag);
    },
  };
}

/**
 * The store filter for any subscription: tags by hash then exact tag, or an SQL92 property expression (compiled
 * once and cached). A malformed expression throws SUBSCRIPTION_PARSE_FAILED with the position of the error.
 */
export function subscriptionFilter(s: SubscriptionData): MessageFilter | undefined {
  const type = s.expressionType.toUpperCase();
  if (type === "TAG") return tagFilter(s);
  if (type === "SQL92") return sql92MessageFilter(compileSql92(s.subString));
  throw new BrokerError("SUBSCRIPTION_PARSE_FAILED", `expression type ${s.expressionType} is not supported`);
}

/** What a pull filters with; `filter` is undefined when the subscription takes everything. */
export interface PullFilter {
  filter: MessageFilter | undefined;
}

/**
 * subscriptionFilter(buildSubscription(topic, expression, type)), remembered per (topic, type, expression): a
 * consumer sends its subscription with every pull (one per message at a trickle), and rebuilding it allocated two
 * Sets and two closures each time. Bounded: cleared when it holds `max` entries. A malformed expression throws
 * (SUBSCRIPTION_PARSE_FAILED) and is not remembered.
 */
export class FilterCache {
  private readonly byTopic = new Map<string, Map<string, PullFilter>>();
  private size = 0;

  constructor(private readonly max = 10_000) {}

  get(topic: string, expression: string | undefined, type: string | undefined): PullFilter {
    const t = type || "TAG";
    const e = expression ?? "";
    let m = this.byTopic.get(topic);
    // Keyed by type then expression without building a key string: the common type is TAG.
    const k = t === "TAG" ? e : `${t}\u0000${e}`;
    const hit = m?.get(k);
    if (hit !== undefined) return hit;
    const entry: PullFilter = { filter: subscriptionFilter(buildSubscription(topic, e, t)) };
    if (this.size >= this.max) {
      this.byTopic.clear();
      this.size = 0;
      m = undefined;
    }
    if (m === undefined) {
      m = new Map();
      this.byTopic.set(topic, m);
    }
    m.set(k, entry);
    this.size++;
    return entry;
  }
}
