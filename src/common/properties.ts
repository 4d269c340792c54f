// RocketMQ's message properties wire form: `key \u0001 value \u0002`, repeated (MessageDecoder's
// NAME_VALUE_SEPARATOR and PROPERTY_SEPARATOR). The same string is stored in the commit log and sent on the wire.
export const NAME_VALUE_SEPARATOR = "\u0001";
export const PROPERTY_SEPARATOR = "\u0002";

/**
 * True when `s` holds one of the two separators. A tag, key, property name or value that did would be read back
 * as other properties (a "TAGS" or "DELAY" of the sender's choosing), so every edge refuses such text.
 */
export function hasPropertySeparator(s: string): boolean {
  return s.includes(NAME_VALUE_SEPARATOR) || s.includes(PROPERTY_SEPARATOR);
}

/** Well-known property keys (MessageConst). */
export const Prop = {
  TAGS: "TAGS",
  KEYS: "KEYS",
  UNIQ_KEY: "UNIQ_CLIENT_MESSAGE_ID_KEYIDX",
  DELAY: "DELAY",
  WAIT: "WAIT",
  REAL_TOPIC: "REAL_TOPIC",
  REAL_QID: "REAL_QID",
  TRAN_MSG: "TRAN_MSG",
  RETRY_TOPIC: "RETRY_TOPIC",
  ORIGIN_MESSAGE_ID: "ORIGIN_MESSAGE_ID",
  MAX_RECONSUME_TIMES: "MAX_RECONSUME_TIMES",
  CHECK_IMMUNITY_TIME_IN_SECONDS: "CHECK_IMMUNITY_TIME_IN_SECONDS",
  TRANSACTION_CHECK_TIMES: "TRANSACTION_CHECK_TIMES",
  SHARDING_KEY: "__SHARDINGKEY",
  /** The lite topic of a message sent to a lite parent topic (RIP-83). */
  LITE_TOPIC: "__LITE_TOPIC",
  /** A priority message's level (RocketMQ RIP-80): 0 and up, higher first. */
  PRIORITY: "_SYS_MSG_PRIORITY_",
  START_DELIVER_TIME: "__STARTDELIVERTIME",
  TIMER_DELIVER_MS: "TIMER_DELIVER_MS",
  TIMER_DELAY_SEC: "TIMER_DELAY_SEC",
  TIMER_DELAY_MS: "TIMER_DELAY_MS",
  PRODUCER_GROUP: "PGROUP",
  MSG_REGION: "MSG_REGION",
  TRACE_SWITCH: "TRACE_ON",
  CONSUME_START_TIME: "CONSUME_START_TIME",
  MIN_OFFSET: "MIN_OFFSET",
  MAX_OFFSET: "MAX_OFFSET",
} as const;

export type Properties = Map<string, string>;

export function encodeProperties(props: Properties | Record<string, string> | undefined): string {
  if (!props) return "";
  let out = "";
  const entries = props instanceof Map ? props.entries() : Object.entries(props);
  for (const [k, v] of entries) {
    out += k + NAME_VALUE_SEPARATOR + v + PROPERTY_SEPARATOR;
  }
  return out;
}

export function decodeProperties(s: string): Properties {
  const m: Properties = new Map();
  if (s.length === 0) return m;
  let start = 0;
  while (start < s.length) {
    let end = s.indexOf(PROPERTY_SEPARATOR, start);
    if (end < 0) end = s.length;
    const sep = s.indexOf(NAME_VALUE_SEPARATOR, start);
    if (sep >= start && sep < end) {
      m.set(s.slice(start, sep), s.slice(sep + 1, end));
    }
    start = end + 1;
  }
  return m;
}

/** Reads one property without building a map. */
export function getProperty(s: string, key: string): string | undefined {
  const needle = key + NAME_VALUE_SEPARATOR;
  let from = 0;
  while (from < s.length) {
    const i = s.indexOf(needle, from);
    if (i < 0) return undefined;
    if (i === 0 || s.charCodeAt(i - 1) === 2) {
      const vStart = i + needle.length;
      let vEnd = s.indexOf(PROPERTY_SEPARATOR, vStart);
      if (vEnd < 0) vEnd = s.length;
      return s.slice(vStart, vEnd);
    }
    from = i + 1;
  }
  return undefined;
}

/** A priority message's level, or undefined when it has none (or not a non-negative integer). */
export function priorityOf(properties: string): number | undefined {
  const v = getProperty(properties, Prop.PRIORITY);
  if (v === undefined || !/^\d{1,9}$/.test(v)) return undefined;
  return Number(v);
}
