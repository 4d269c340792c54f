// Messages of the HTTP protocol and the broker's records. Publish: MessageBody, MessageTag and a Properties
// string "k1:v1|k2:v2" in which KEYS, __STARTDELIVERTIME (timed), __SHARDINGKEY (ordered) and __TransCheckT
// (transactional: seconds until the first check) are system properties. Consume: the same, with the receipt
// handle and the delivery bookkeeping (NextConsumeTime, FirstConsumeTime, ConsumedTimes).
import { createHash } from "node:crypto";
import { deliveredBody } from "../../common/compressed-body.js";
import { createOffsetMsgId } from "../../common/message-id.js";
import type { MessageRecord } from "../../common/message-record.js";
import { Prop, decodeProperties, hasPropertySeparator } from "../../common/properties.js";
import { HttpError } from "./http-error.js";
import { cdata, elements } from "./xml.js";

export const TRANS_CHECK_T = "__TransCheckT";

/** Broker bookkeeping that HTTP consumers do not see among the properties. */
const HIDDEN = new Set<string>([
  ...Object.values(Prop).filter(
    (p) => p !== Prop.KEYS && p !== Prop.SHARDING_KEY && p !== Prop.START_DELIVER_TIME,
  ),
  "TIMER_OUT_MS",
  "TIMER_ROLL_TIMES",
  "__transactionId__",
]);

/** Reads "k1:v1|k2:v2|" (a trailing "|" is allowed); pairs that are not "key:value" are skipped. */
export function parsePropertyString(s: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const pair of (s ?? "").split("|")) {
    const i = pair.indexOf(":");
    if (i <= 0 || i === pair.length - 1) continue;
    out.set(pair.slice(0, i), pair.slice(i + 1));
  }
  return out;
}

/** Properties as HTTP consumers see them; pairs the format cannot carry (":" or "|" inside) are left out. */
export function visibleProperties(properties: string): string {
  const parts: string[] = [];
  for (const [k, v] of decodeProperties(properties)) {
    if (k === Prop.CHECK_IMMUNITY_TIME_IN_SECONDS) parts.push(`${TRANS_CHECK_T}:${v}`);
    if (HIDDEN.has(k) || /[:|]/.test(k) || /[|]/.test(v) || v === "") continue;
    parts.push(`${k}:${v}`);
  }
  return parts.join("|");
}

export function bodyMd5(body: Buffer): string {
  return createHash("md5").update(body).digest("hex").toUpperCase();
}

export interface PublishedMessage {
  body: Buffer;
  properties: Map<string, string>;
  /** Seconds until the first transaction check, for a transactional message. */
  transCheckSeconds: number | undefined;
}

function refuseSeparators(s: string, what: string): void {
  if (hasPropertySeparator(s))
    throw new HttpError(
      400,
      "InvalidArgument",
      `${what} contains the reserved characters \\u0001 or \\u0002`,
    );
}

/** The broker-side form of a published message; bad property values are InvalidArgument. */
export function readPublish(
  bodyText: string | undefined,
  tag: string | undefined,
  propertyString: string | undefined,
  maxBodyBytes: number,
): PublishedMessage {
  if (bodyText === undefined || bodyText === "") {
    throw new HttpError(400, "InvalidArgument", "MessageBody must not be empty");
  }
  const body = Buffer.from(bodyText, "utf8");
  if (body.length > maxBodyBytes) {
    throw new HttpError(
      413,
      "InvalidArgument",
      `MessageBody is ${body.length} bytes; the limit is ${maxBodyBytes}`,
    );
  }
  const props = parsePropertyString(propertyString);
  for (const [k, v] of props) {
    if (HIDDEN.has(k)) throw new HttpError(400, "InvalidArgument", `property ${k} is reserved`);
    refuseSeparators(k + v, `property ${k}`);
  }
  if (tag) {
    refuseSeparators(tag, "MessageTag");
    props.set(Prop.TAGS, tag);
  }
  const start = props.get(Prop.START_DELIVER_TIME);
  if (start !== undefined && !/^\d{1,15}$/.test(start)) {
    throw new HttpError(
      400,
      "InvalidArgument",
      `${Prop.START_DELIVER_TIME} must be a time in ms, got "${start}"`,
    );
  }
  let transCheckSeconds: number | undefined;
  const check = props.get(TRANS_CHECK_T);
  if (check !== undefined) {
    transCheckSeconds = Number(check);
    if (!Number.isInteger(transCheckSeconds) || transCheckSeconds < 0 || transCheckSeconds > 86_400) {
      throw new HttpError(
        400,
        "InvalidArgument",
        `${TRANS_CHECK_T} must be seconds (0..86400), got "${check}"`,
      );
    }
    props.delete(TRANS_CHECK_T);
    props.set(Prop.CHECK_IMMUNITY_TIME_IN_SECONDS, String(transCheckSeconds));
  }
  return { body, properties: props, transCheckSeconds };
}

export interface Delivery {
  record: MessageRecord;
  receiptHandle: string;
  consumedTimes: number;
  nextConsumeTime: number;
  firstConsumeTime: number;
}

export function messageId(record: MessageRecord): string {
  const props = decodeProperties(record.properties);
  return props.get(Prop.UNIQ_KEY) ?? createOffsetMsgId(record.storeHost, record.physicalOffset);
}

/** One <Message> of a consume response. */
export function messageElement(d: Delivery): string {
  const props = decodeProperties(d.record.properties);
  const visible = visibleProperties(d.record.properties);
  const body = deliveredBody(d.record.body, d.record.sysFlag);
  return `<Message>${elements([
    ["MessageId", messageId(d.record)],
    ["ReceiptHandle", d.receiptHandle],
    ["MessageBodyMD5", bodyMd5(body)],
    ["MessageBody", cdata(body.toString("utf8"))],
    ["PublishTime", d.record.bornTimestamp],
    ["NextConsumeTime", d.nextConsumeTime],
    ["FirstConsumeTime", d.firstConsumeTime],
    ["ConsumedTimes", d.consumedTimes],
    ["MessageTag", props.get(Prop.TAGS) || undefined],
    ["Properties", visible ? cdata(visible) : undefined],
  ])}</Message>`;
}
