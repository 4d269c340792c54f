// Messages as the SDK user sees them: `Message` to send, `ReceivedMessage` handed to a listener. Encoding to the
// SEND_MESSAGE_V2 properties string and decoding pulled records (RocketMQ MessageDecoder v1/v2 layout, via
// src/common/message-record.ts) live here so producer and consumer agree on which properties are the user's.
import { deliveredBody } from "../common/compressed-body.js";
import { createOffsetMsgId } from "../common/message-id.js";
import type { MessageRecord } from "../common/message-record.js";
import {
  NAME_VALUE_SEPARATOR,
  PROPERTY_SEPARATOR,
  Prop,
  decodeProperties,
  hasPropertySeparator,
} from "../common/properties.js";
import type { Properties } from "../common/properties.js";
import { formatHost } from "../common/socket-address.js";
import type { HostAddress } from "../common/socket-address.js";
import { RETRY_PREFIX } from "../common/topic.js";
import { MQClientError } from "./errors.js";

/** Java MessageConst.PROPERTY_TRANSACTION_ID: the half message's transaction id. */
export const TRANSACTION_ID_PROPERTY = "__transactionId__";

/** Java MessageConst.KEY_SEPARATOR: KEYS holds the keys joined by a space. */
export const KEY_SEPARATOR = " ";

/** Property keys the client or broker own; a user property may not use them (Java MessageConst.STRING_HASH_SET). */
export const SYSTEM_PROPERTY_KEYS: ReadonlySet<string> = new Set<string>([
  ...Object.values(Prop),
  "RECONSUME_TIME",
  "BUYER_ID",
  "CORRECTION_FLAG",
  "MQ2_FLAG",
  "TRANSFER_FLAG",
  "INSTANCE_ID",
  "CLUSTER",
  "__transactionId__",
  "UNIQ_KEY",
  "__SHARDING_KEY",
]);

export type UserProperties = Map<string, string> | Record<string, string>;

/** A message to send. `tag` and `keys` become the TAGS and KEYS properties; `properties` are the user's own. */
export class Message {
  topic: string;
  tag: string | undefined;
  body: Buffer;
  keys: string[] = [];
  properties: UserProperties = new Map();
  /** Messages with the same sharding key go to the same queue (see Producer.send). */
  shardingKey: string | undefined;
  /**
   * RocketMQ delay level (1 = first entry of the broker's messageDelayLevel); 0 or unset = none. Sent as the
   * DELAY property; the broker clamps it to its last level.
   */
  delayTimeLevel = 0;
  /** Deliver at this epoch-ms time (Aliyun ONS __STARTDELIVERTIME property); unset = now. */
  startDeliverTime: number | undefined;
  /**
   * Set by TransactionProducer.sendMessageInTransaction before the executor runs: the id the broker's checks
   * carry (the checker sees it as message.transactionId and message.messageId).
   */
  transactionId: string | undefined;
  /** The user int flag stored with the message (SEND_MESSAGE_V2 header `h`). */
  flag = 0;

  constructor(topic: string, tag?: string, body: Buffer | string = Buffer.alloc(0)) {
    this.topic = topic;
    this.tag = tag === undefined || tag === "" ? undefined : tag;
    this.body = typeof body === "string" ? Buffer.from(body, "utf8") : body;
  }

  putUserProperty(key: string, value: string): this {
    if (this.properties instanceof Map) this.properties.set(key, value);
    else this.properties[key] = value;
    return this;
  }

  getUserProperty(key: string): string | undefined {
    return this.properties instanceof Map ? this.properties.get(key) : this.properties[key];
  }
}

function checkPropertyText(s: string, what: string): void {
  if (hasPropertySeparator(s)) {
    throw new MQClientError("MESSAGE_ILLEGAL", `${what} contains the reserved characters \\u0001 or \\u0002`);
  }
}

/**
 * The properties string for the send header: TAGS, KEYS, the unique id, sharding key, delay, then the user's.
 * Throws MQClientError(MESSAGE_ILLEGAL) when a user property uses a system key or a separator character.
 */
export function encodeMessageProperties(msg: Message, uniqKey: string, extra?: Properties): string {
  // Written straight into the string: no key can repeat (user keys may not be system keys, and `extra` only
  // carries transaction keys), so the order is that of a map filled in this order.
  let s = "";
  const put = (k: string, v: string): void => {
    s += k + NAME_VALUE_SEPARATOR + v + PROPERTY_SEPARATOR;
  };
  if (msg.tag !== undefined) {
    checkPropertyText(msg.tag, "tag");
    put(Prop.TAGS, msg.tag);
  }
  let keys = "";
  for (const k of msg.keys) {
    if (k.length === 0) continue;
    checkPropertyText(k, "key");
    keys = keys === "" ? k : keys + KEY_SEPARATOR + k;
  }
  if (keys !== "") put(Prop.KEYS, keys);
  put(Prop.UNIQ_KEY, uniqKey);
  if (msg.shardingKey !== undefined && msg.shardingKey !== "") {
    checkPropertyText(msg.shardingKey, "sharding key");
    put(Prop.SHARDING_KEY, msg.shardingKey);
  }
  if (!Number.isFinite(msg.delayTimeLevel) || msg.delayTimeLevel < 0) {
    throw new MQClientError("MESSAGE_ILLEGAL", `delayTimeLevel must be >= 0, got ${msg.delayTimeLevel}`);
  }
  if (msg.delayTimeLevel >= 1) put(Prop.DELAY, String(Math.floor(msg.delayTimeLevel)));
  if (msg.startDeliverTime !== undefined) {
    if (!Number.isFinite(msg.startDeliverTime) || msg.startDeliverTime < 0) {
      throw new MQClientError(
        "MESSAGE_ILLEGAL",
        `startDeliverTime must be an epoch-ms time, got ${msg.startDeliverTime}`,
      );
    }
    put(Prop.START_DELIVER_TIME, String(Math.floor(msg.startDeliverTime)));
  }
  const props = msg.properties;
  if (props instanceof Map) {
    if (props.size > 0) for (const [k, v] of props) putUserProperty(put, k, v);
  } else {
    for (const k in props) if (Object.hasOwn(props, k)) putUserProperty(put, k, props[k]!);
  }
  if (extra) for (const [k, v] of extra) put(k, v);
  return s;
}

function putUserProperty(put: (k: string, v: string) => void, k: string, value: string): void {
  if (SYSTEM_PROPERTY_KEYS.has(k)) {
    throw new MQClientError("MESSAGE_ILLEGAL", `user property "${k}" is a reserved system property`);
  }
  if (k === "") throw new MQClientError("MESSAGE_ILLEGAL", "user property key is empty");
  checkPropertyText(k, `property key "${k}"`);
  const v = String(value);
  checkPropertyText(v, `property "${k}"`);
  put(k, v);
}

/** A message handed to a listener. */
export interface ReceivedMessage {
  /** The topic the message was sent to (for a retried message: its original topic, not %RETRY%group). */
  topic: string;
  tag: string | undefined;
  keys: string[];
  /** Inflated when it was sent compressed. */
  body: Buffer;
  /** The user's properties only. */
  properties: Map<string, string>;
  /** Every property as stored, system ones included. */
  systemProperties: Map<string, string>;
  /** The producer's unique id (UNIQ_KEY) when it set one, else offsetMsgId. */
  messageId: string;
  /** Store host + commit log offset: where this copy of the message is stored. */
  offsetMsgId: string;
  /** The queue it was pulled from (for a retried message: a %RETRY% queue). */
  pulledTopic: string;
  brokerName: string;
  queueId: number;
  queueOffset: number;
  /** Commit log offset (CONSUMER_SEND_MSG_BACK looks the message up by it). */
  commitLogOffset: number;
  reconsumeTimes: number;
  bornTimestamp: number;
  storeTimestamp: number;
  bornHost: string;
  storeHost: string;
  shardingKey: string | undefined;
  /** For a retried message, the id of the message that first failed. */
  originMessageId: string | undefined;
  /** For a transaction check (TransactionProducer's checker): the transaction's id (__transactionId__). */
  transactionId?: string | undefined;
  sysFlag: number;
  flag: number;
}

/**
 * Remembers the last host formatted and the last store host's id prefix: the messages of one pull share their
 * store host and mostly their born host, so the strings are built once per run of equal addresses.
 */
class HostStrings {
  private ip: Buffer | undefined;
  private port = -1;
  private text = "";
  private idPrefix = "";

  private same(a: HostAddress): boolean {
    const ip = this.ip;
    if (a.port !== this.port || ip === undefined || ip.length !== a.ip.length) return false;
    // A byte loop: Buffer.equals is a native call, which costs more than comparing 4 or 16 bytes here.
    for (let i = 0; i < ip.length; i++) if (ip[i] !== a.ip[i]) return false;
    return true;
  }

  private remember(a: HostAddress): void {
    this.ip = a.ip;
    this.port = a.port;
    this.text = formatHost(a);
    this.idPrefix = "";
  }

  format(a: HostAddress): string {
    if (!this.same(a)) this.remember(a);
    return this.text;
  }

  /** createOffsetMsgId(a, phyOffset), with the host part reused. */
  offsetMsgId(a: HostAddress, phyOffset: number): string {
    if (!this.same(a)) this.remember(a);
    if (this.idPrefix === "") {
      const id = createOffsetMsgId(a, 0);
      this.idPrefix = id.slice(0, id.length - 16);
    }
    if (!Number.isSafeInteger(phyOffset) || phyOffset < 0) return createOffsetMsgId(a, phyOffset);
    return this.idPrefix + phyOffset.toString(16).toUpperCase().padStart(16, "0");
  }
}

const bornHosts = new HostStrings();
const storeHosts = new HostStrings();

/** The properties a producer set itself: every one whose key is not a system property. */
export function userProperties(props: ReadonlyMap<string, string>): Map<string, string> {
  const user = new Map<string, string>();
  for (const [k, v] of props) if (!SYSTEM_PROPERTY_KEYS.has(k)) user.set(k, v);
  return user;
}

/** Builds the listener's view of a decoded record (pulled bodies go through pull-body.ts, which must agree). */
export function toReceivedMessage(rec: MessageRecord, brokerName: string): ReceivedMessage {
  const props = decodeProperties(rec.properties);
  const body = deliveredBody(rec.body, rec.sysFlag);
  const user = userProperties(props);
  return receivedMessage(
    props,
    user,
    body,
    rec.topic,
    brokerName,
    storeHosts.offsetMsgId(rec.storeHost, rec.physicalOffset),
    rec.queueId,
    rec.queueOffset,
    rec.physicalOffset,
    rec.reconsumeTimes,
    rec.bornTimestamp,
    rec.storeTimestamp,
    bornHosts.format(rec.bornHost),
    storeHosts.format(rec.storeHost),
    rec.sysFlag,
    rec.flag,
  );
}

/**
 * The listener's message, built in one place for both decoders (this file's and pull-body.ts) so that spreads
 * and JSON.stringify see the same own properties in the same order. Positional on purpose: the pull path
 * builds one per message and an options object would be one more allocation each.
 */
export function receivedMessage(
  props: Map<string, string>,
  user: Map<string, string>,
  body: Buffer,
  pulledTopic: string,
  brokerName: string,
  offsetMsgId: string,
  queueId: number,
  queueOffset: number,
  commitLogOffset: number,
  reconsumeTimes: number,
  bornTimestamp: number,
  storeTimestamp: number,
  bornHost: string,
  storeHost: string,
  sysFlag: number,
  flag: number,
): ReceivedMessage {
  const retryTopic = props.get(Prop.RETRY_TOPIC);
  const topic =
    retryTopic !== undefined && retryTopic !== "" && pulledTopic.startsWith(RETRY_PREFIX)
      ? retryTopic
      : pulledTopic;
  const keys = props.get(Prop.KEYS);
  return {
    topic,
    tag: props.get(Prop.TAGS),
    keys: keys ? keys.split(KEY_SEPARATOR).filter((k) => k.length > 0) : [],
    body,
    properties: user,
    systemProperties: props,
    messageId: props.get(Prop.UNIQ_KEY) ?? offsetMsgId,
    offsetMsgId,
    pulledTopic,
    brokerName,
    queueId,
    queueOffset,
    commitLogOffset,
    reconsumeTimes,
    bornTimestamp,
    storeTimestamp,
    bornHost,
    storeHost,
    shardingKey: props.get(Prop.SHARDING_KEY),
    originMessageId: props.get(Prop.ORIGIN_MESSAGE_ID),
    transactionId: props.get(TRANSACTION_ID_PROPERTY),
    sysFlag,
    flag,
  };
}
