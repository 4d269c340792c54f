// v2 Message <-> the broker's message model. A sent Message becomes a SendRequest whose properties carry what
// RocketMQ clients of every protocol understand: tag → TAGS, keys → KEYS (space-separated), message_group →
// __SHARDINGKEY, delivery_timestamp → TIMER_DELIVER_MS (the broker's timer path), the client's message_id →
// UNIQ_CLIENT_MESSAGE_ID_KEYIDX (so that id is what every consumer sees), TRANSACTION → TRAN_MSG with the
// topic's gRPC producer group, lite_topic → __LITE_TOPIC (the broker stores the message in that lite topic's
// queue), priority → _SYS_MSG_PRIORITY_ (the broker stores it in the queue of that level); user_properties are
// plain properties. A stored record becomes a delivered Message
// with all system properties the clients read, including the body digest they require (MD5, upper-case hex).
import { createHash } from "node:crypto";
import { crc32, gunzipSync } from "node:zlib";
import { deliveredBody } from "../../common/compressed-body.js";
import type { SendRequest } from "../../broker/broker.js";
import { TimerProp } from "../../broker/timer-service.js";
import { TRANSACTION_ID } from "../../broker/transaction-service.js";
import { liteTopicProblem, parseLmqName } from "../../common/lite-topic.js";
import { createOffsetMsgId } from "../../common/message-id.js";
import type { MessageRecord } from "../../common/message-record.js";
import { hasPropertySeparator, Prop, decodeProperties, encodeProperties } from "../../common/properties.js";
import type { HostAddress } from "../../common/socket-address.js";
import { formatHost, ipOfAddress } from "../../common/socket-address.js";
import { durationOf, millisOf, timestampOf, topicOf } from "./request-fields.js";
import { Code, badRequest } from "./status.js";
import { producerGroupOfTopic } from "./transaction-ids.js";
import type { SystemProperties, WireMessage } from "./wire-types.js";

/**
 * Largest body a gRPC client may send (advertised as publishing.max_body_size). Not a full 4 MiB: the official
 * clients keep grpc's default 4 MiB limit on what they receive, and a delivered message is its body plus its
 * properties and system properties, so a 4 MiB body could be sent but never received. 64 KiB of room covers the
 * largest property string a record can hold (32 KiB) and the rest of the frame.
 */
export const MAX_BODY_BYTES = 4 * 1024 * 1024 - 64 * 1024;

/** Properties the broker and the codec own; a user property may not use these names. */
const SYSTEM_PROPERTIES = new Set<string>([
  ...Object.values(Prop),
  ...Object.values(TimerProp),
  TRANSACTION_ID,
]);

export type MessageType = "NORMAL" | "FIFO" | "DELAY" | "TRANSACTION" | "LITE" | "PRIORITY";

export interface DecodedSend {
  messageId: string;
  type: MessageType;
  request: SendRequest;
}

function clean(s: string, what: string, code: number): string {
  if (hasPropertySeparator(s))
    throw badRequest(`${what} contains a control character (\\u0001 or \\u0002)`, code);
  return s;
}

const TYPES = new Set<string>(["NORMAL", "FIFO", "DELAY", "TRANSACTION", "LITE", "PRIORITY"]);

function typeOf(sp: SystemProperties): MessageType {
  const declared = sp.messageType;
  const lite = sp.liteTopic !== undefined && sp.liteTopic !== "";
  // As RocketMQ does, a transactional message's priority is dropped (the Node.js client sends priority 0 with one).
  const priority = sp.priority !== undefined && sp.priority !== null && declared !== "TRANSACTION";
  const others = [
    lite && "lite_topic",
    sp.messageGroup && "message_group",
    sp.deliveryTimestamp && "delivery_timestamp",
    declared === "TRANSACTION" && "a transaction",
    priority && "priority",
  ].filter(Boolean);
  if (others.length > 1)
    throw badRequest(
      `a message cannot have both ${others.join(" and ")}`,
      Code.MESSAGE_PROPERTY_CONFLICT_WITH_TYPE,
    );
  if (priority && !(Number.isInteger(sp.priority) && sp.priority! >= 0))
    throw badRequest(`priority must be a non-negative integer, got ${sp.priority}`);
  const inferred: MessageType = lite
    ? "LITE"
    : sp.messageGroup
      ? "FIFO"
      : sp.deliveryTimestamp
        ? "DELAY"
        : declared === "TRANSACTION"
          ? "TRANSACTION"
          : priority
            ? "PRIORITY"
            : "NORMAL";
  if (declared === undefined || declared === "MESSAGE_TYPE_UNSPECIFIED") return inferred;
  if (!TYPES.has(declared))
    throw badRequest(`message type ${declared} is not supported`, Code.MESSAGE_PROPERTY_CONFLICT_WITH_TYPE);
  // The Node.js client declares a priority-0 message NORMAL (0 is falsy to it) but sends the priority.
  if (declared === "NORMAL" && inferred === "PRIORITY") return inferred;
  if (declared !== inferred && !(declared === "TRANSACTION" && inferred === "NORMAL")) {
    throw badRequest(
      `message type ${declared} does not match its properties (message_group, delivery_timestamp, lite_topic or priority)`,
      Code.MESSAGE_PROPERTY_CONFLICT_WITH_TYPE,
    );
  }
  return declared;
}

function bodyOf(m: WireMessage, sp: SystemProperties): Buffer {
  let body = m.body ?? Buffer.alloc(0);
  if (sp.bodyEncoding === "GZIP") {
    try {
      body = gunzipSync(body);
    } catch {
      throw badRequest("body_encoding is GZIP but the body is not gzip data", Code.MESSAGE_CORRUPTED);
    }
  }
  if (body.length > MAX_BODY_BYTES)
    throw badRequest(`body of ${body.length} bytes exceeds ${MAX_BODY_BYTES}`, Code.MESSAGE_BODY_TOO_LARGE);
  const d = sp.bodyDigest;
  if (
    d?.checksum &&
    d.type &&
    d.type !== "DIGEST_TYPE_UNSPECIFIED" &&
    digest(d.type, body) !== d.checksum.toUpperCase()
  )
    throw badRequest(`body does not match its ${d.type} digest`, Code.MESSAGE_CORRUPTED);
  return body;
}

function digest(type: string, body: Buffer): string | undefined {
  if (type === "MD5") return createHash("md5").update(body).digest("hex").toUpperCase();
  if (type === "SHA1") return createHash("sha1").update(body).digest("hex").toUpperCase();
  if (type === "CRC32") return String(crc32(body) >>> 0);
  return undefined;
}

/** A sent Message as the broker's SendRequest; BAD_REQUEST-family errors for what cannot be stored. */
export function decodeSendMessage(
  m: WireMessage,
  bornHost: HostAddress | undefined,
  now = Date.now(),
): DecodedSend {
  const topic = topicOf(m.topic);
  const sp = m.systemProperties;
  if (!sp) throw badRequest("system_properties is required");
  const messageId = sp.messageId;
  if (!messageId) throw badRequest("system_properties.message_id is required", Code.ILLEGAL_MESSAGE_ID);
  clean(messageId, "message_id", Code.ILLEGAL_MESSAGE_ID);
  const type = typeOf(sp);
  const body = bodyOf(m, sp);
  // As RocketMQ's proxy (enableMessageBodyEmptyCheck); remoting keeps RocketMQ 4's broker, which stores them.
  if (body.length === 0) throw badRequest("message body cannot be empty", Code.MESSAGE_BODY_EMPTY);
  const props = new Map<string, string>();
  for (const [k, v] of Object.entries(m.userProperties ?? {})) {
    if (!k || SYSTEM_PROPERTIES.has(k))
      throw badRequest(`user property "${k.slice(0, 64)}" is reserved`, Code.ILLEGAL_MESSAGE_PROPERTY_KEY);
    props.set(
      clean(k, "a user property key", Code.ILLEGAL_MESSAGE_PROPERTY_KEY),
      clean(v, `user property ${k}`, Code.ILLEGAL_MESSAGE_PROPERTY_KEY),
    );
  }
  if (sp.tag !== undefined && sp.tag !== "") {
    if (sp.tag.includes("||"))
      throw badRequest(`tag "${sp.tag.slice(0, 64)}" contains "||"`, Code.ILLEGAL_MESSAGE_TAG);
    props.set(Prop.TAGS, clean(sp.tag, "tag", Code.ILLEGAL_MESSAGE_TAG));
  }
  const keys = (sp.keys ?? []).filter((k) => k.length > 0);
  for (const k of keys)
    if (/\s/.test(k))
      throw badRequest(`key "${k.slice(0, 64)}" contains whitespace`, Code.ILLEGAL_MESSAGE_KEY);
  if (keys.length > 0) props.set(Prop.KEYS, clean(keys.join(" "), "keys", Code.ILLEGAL_MESSAGE_KEY));
  props.set(Prop.UNIQ_KEY, messageId);
  if (type === "FIFO") {
    // The broker puts every message of a sharding key in one queue.
    props.set(Prop.SHARDING_KEY, clean(sp.messageGroup!, "message_group", Code.ILLEGAL_MESSAGE_GROUP));
  }
  if (type === "DELAY") {
    const at = millisOf(sp.deliveryTimestamp)!;
    if (!(at > 0)) throw badRequest("delivery_timestamp is not a valid time", Code.ILLEGAL_DELIVERY_TIME);
    if (at > now) props.set(Prop.TIMER_DELIVER_MS, String(at));
  }
  if (type === "PRIORITY") props.set(Prop.PRIORITY, String(sp.priority));
  if (type === "LITE") {
    const problem = liteTopicProblem(sp.liteTopic!);
    if (problem) throw badRequest(problem, Code.ILLEGAL_LITE_TOPIC);
    props.set(Prop.LITE_TOPIC, sp.liteTopic!);
  }
  const producerGroup = type === "TRANSACTION" ? producerGroupOfTopic(topic) : "";
  if (type === "TRANSACTION") {
    props.set(Prop.TRAN_MSG, "true");
    props.set(Prop.PRODUCER_GROUP, producerGroup);
  }
  const born = millisOf(sp.bornTimestamp);
  return {
    messageId,
    type,
    request: {
      producerGroup,
      topic,
      queueId: -1,
      body,
      properties: encodeProperties(props),
      bornTimestamp: born !== undefined && born > 0 ? born : now,
      ...(bornHost ? { bornHost } : {}),
    },
  };
}

export interface DeliveryInfo {
  receiptHandle: string;
  deliveryAttempt: number;
  invisibleMs: number;
}

function hostOnly(a: HostAddress): string {
  return ipOfAddress(formatHost(a));
}

function deliveredType(props: Map<string, string>): MessageType {
  if (props.has(Prop.LITE_TOPIC)) return "LITE";
  if (props.get(Prop.TRAN_MSG) === "true") return "TRANSACTION";
  if (props.has(Prop.SHARDING_KEY)) return "FIFO";
  if (deliveryTime(props) !== undefined || Number(props.get(Prop.DELAY) ?? 0) > 0) return "DELAY";
  if (props.has(Prop.PRIORITY)) return "PRIORITY";
  return "NORMAL";
}

function deliveryTime(props: Map<string, string>): number | undefined {
  const v =
    props.get(TimerProp.OUT_MS) ?? props.get(Prop.TIMER_DELIVER_MS) ?? props.get(Prop.START_DELIVER_TIME);
  const n = Number(v);
  return v !== undefined && Number.isFinite(n) && n > 0 ? n : undefined;
}

/**
 * A stored record as a delivered v2 Message. `queueId`/`queueOffset` name where the receiver got it (they differ
 * from the record's own for messages re-put by the broker); `delivery` is absent for transaction checks.
 */
export function encodeDeliveredMessage(
  rec: MessageRecord,
  at: { topic?: string; queueId: number; queueOffset: number; delivery?: DeliveryInfo },
): WireMessage {
  const props = decodeProperties(rec.properties);
  const body = deliveredBody(rec.body, rec.sysFlag);
  const userProperties: Record<string, string> = {};
  for (const [k, v] of props) if (!SYSTEM_PROPERTIES.has(k)) userProperties[k] = v;
  const sp: SystemProperties = {
    messageId: props.get(Prop.UNIQ_KEY) || createOffsetMsgId(rec.storeHost, rec.physicalOffset),
    keys: (props.get(Prop.KEYS) ?? "").split(" ").filter((k) => k.length > 0),
    bodyDigest: { type: "MD5", checksum: createHash("md5").update(body).digest("hex").toUpperCase() },
    bodyEncoding: "IDENTITY",
    messageType: deliveredType(props),
    bornTimestamp: timestampOf(rec.bornTimestamp),
    bornHost: hostOnly(rec.bornHost),
    storeTimestamp: timestampOf(rec.storeTimestamp),
    storeHost: formatHost(rec.storeHost),
    queueId: at.queueId,
    queueOffset: at.queueOffset,
  };
  const tag = props.get(Prop.TAGS);
  if (tag) sp.tag = tag;
  const group = props.get(Prop.SHARDING_KEY);
  if (group) sp.messageGroup = group;
  const liteTopic = props.get(Prop.LITE_TOPIC);
  if (liteTopic) sp.liteTopic = liteTopic;
  const priority = Number(props.get(Prop.PRIORITY));
  if (sp.messageType === "PRIORITY" && Number.isInteger(priority)) sp.priority = priority;
  const due = deliveryTime(props);
  if (due !== undefined) sp.deliveryTimestamp = timestampOf(due);
  if (at.delivery) {
    sp.receiptHandle = at.delivery.receiptHandle;
    sp.deliveryAttempt = at.delivery.deliveryAttempt;
    sp.invisibleDuration = durationOf(Math.max(0, at.delivery.invisibleMs));
  }
  // A lite message is stored in its lite topic's LMQ; clients know it by its parent topic.
  const topic = at.topic ?? parseLmqName(rec.topic)?.parentTopic ?? rec.topic;
  return { topic: { name: topic }, userProperties, systemProperties: sp, body };
}
