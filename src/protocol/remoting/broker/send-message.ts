// SEND_MESSAGE (10), SEND_MESSAGE_V2 (310) and SEND_BATCH_MESSAGE (320).
// Request header (V2 uses one-letter names): a producerGroup, b topic, c defaultTopic, d defaultTopicQueueNums,
// e queueId, f sysFlag, g bornTimestamp, h flag, i properties, j reconsumeTimes, k unitMode, l maxReconsumeTimes,
// m batch. Body: the message body; for a batch, messages as MessageDecoder.encodeMessages writes them:
//   [TOTALSIZE i32][MAGIC i32][BODYCRC i32][FLAG i32][BODYLEN i32 + body][PROPLEN i16 + properties] ...
// Response header: msgId (offset message id; comma-separated for a batch), queueId, queueOffset, MSG_REGION,
// TRACE_ON.
import type { Broker, SendRequest } from "../../../broker/broker.js";
import { BrokerError } from "../../../common/errors.js";
import { hostAddress } from "../../../common/socket-address.js";
import type { HostAddress } from "../../../common/socket-address.js";
import type { RemotingCommand } from "../command.js";
import { createResponse } from "../command.js";
import type { RemotingConnection } from "../connection.js";
import { RequestCode } from "../request-code.js";
import { ResponseCode } from "../response-code.js";
import { fields, optInt, optStr, reqStr } from "./ext-fields.js";
import type { Ext } from "./ext-fields.js";

const V2_NAMES: Record<string, string> = {
  a: "producerGroup",
  b: "topic",
  c: "defaultTopic",
  d: "defaultTopicQueueNums",
  e: "queueId",
  f: "sysFlag",
  g: "bornTimestamp",
  h: "flag",
  i: "properties",
  j: "reconsumeTimes",
  k: "unitMode",
  l: "maxReconsumeTimes",
  m: "batch",
  n: "brokerName",
};

export function sendHeader(req: RemotingCommand): Ext {
  if (
    req.code !== RequestCode.SEND_MESSAGE_V2 &&
    !(req.code === RequestCode.SEND_BATCH_MESSAGE && "b" in req.extFields)
  ) {
    return req.extFields;
  }
  const out: Ext = {};
  for (const [k, v] of Object.entries(req.extFields)) out[V2_NAMES[k] ?? k] = v;
  return out;
}

/** The producer's address as records store it, parsed once per connection. */
function bornHostOf(conn: RemotingConnection): HostAddress | undefined {
  const cached = conn.attributes.get("bornHost") as HostAddress | null | undefined;
  if (cached !== undefined) return cached ?? undefined;
  const at = conn.remoteAddress.lastIndexOf(":");
  let h: HostAddress | null = null;
  try {
    h = hostAddress(
      conn.remoteAddress.slice(0, at).replace(/^\[|\]$/g, ""),
      Number(conn.remoteAddress.slice(at + 1)),
    );
  } catch {
    // Not an IP address (should not happen on TCP): records get the broker's placeholder.
  }
  conn.attributes.set("bornHost", h);
  return h ?? undefined;
}

function baseRequest(h: Ext, conn: RemotingConnection): Omit<SendRequest, "body" | "properties"> {
  const born = bornHostOf(conn);
  const maxReconsume = optInt(h, "maxReconsumeTimes");
  return {
    producerGroup: optStr(h, "producerGroup") ?? "",
    topic: reqStr(h, "topic"),
    queueId: optInt(h, "queueId") ?? -1,
    sysFlag: optInt(h, "sysFlag") ?? 0,
    flag: optInt(h, "flag") ?? 0,
    bornTimestamp: optInt(h, "bornTimestamp") ?? Date.now(),
    ...(born ? { bornHost: born } : {}),
    reconsumeTimes: optInt(h, "reconsumeTimes") ?? 0,
    ...(maxReconsume !== undefined ? { maxReconsumeTimes: maxReconsume } : {}),
  };
}

export async function handleSendMessage(
  broker: Broker,
  req: RemotingCommand,
  conn: RemotingConnection,
): Promise<RemotingCommand> {
  const h = sendHeader(req);
  const base = baseRequest(h, conn);
  if (req.code === RequestCode.SEND_BATCH_MESSAGE || optStr(h, "batch") === "true") {
    return sendBatch(broker, req, base);
  }
  const r = await broker.sendMessage({
    ...base,
    body: req.body ?? Buffer.alloc(0),
    properties: optStr(h, "properties") ?? "",
  });
  return createResponse(
    req,
    ResponseCode.SUCCESS,
    undefined,
    fields({
      msgId: r.msgId,
      queueId: r.queueId,
      queueOffset: r.queueOffset,
      transactionId: r.transactionId,
      MSG_REGION: "DefaultRegion",
      TRACE_ON: "true",
    }),
  );
}

/** Splits a batch body into its messages; throws BAD_REQUEST on a malformed body. */
export function decodeBatchBody(body: Buffer): { flag: number; body: Buffer; properties: string }[] {
  const out: { flag: number; body: Buffer; properties: string }[] = [];
  let p = 0;
  while (p < body.length) {
    if (p + 20 > body.length) throw new BrokerError("BAD_REQUEST", "batch body is truncated");
    const total = body.readInt32BE(p);
    if (total < 22 || p + total > body.length)
      throw new BrokerError("BAD_REQUEST", `batch message size ${total} is invalid`);
    const flag = body.readInt32BE(p + 12);
    const bodyLen = body.readInt32BE(p + 16);
    if (bodyLen < 0 || 20 + bodyLen + 2 > total)
      throw new BrokerError("BAD_REQUEST", "batch message body overruns it");
    const b = body.subarray(p + 20, p + 20 + bodyLen);
    const propLen = body.readInt16BE(p + 20 + bodyLen);
    if (propLen < 0 || 22 + bodyLen + propLen > total)
      throw new BrokerError("BAD_REQUEST", "batch message properties overrun it");
    const props = body.toString("utf8", p + 22 + bodyLen, p + 22 + bodyLen + propLen);
    out.push({ flag, body: Buffer.from(b), properties: props });
    p += total;
  }
  if (out.length === 0) throw new BrokerError("BAD_REQUEST", "batch is empty");
  return out;
}

async function sendBatch(
  broker: Broker,
  req: RemotingCommand,
  base: Omit<SendRequest, "body" | "properties">,
): Promise<RemotingCommand> {
  const msgs = decodeBatchBody(req.body ?? Buffer.alloc(0));
  // A batch goes to one queue: choose it once so every message lands together.
  const tc = broker.topics.getOrCreate(base.topic);
  const queueId =
    base.queueId >= 0 ? base.queueId % tc.writeQueueNums : Math.floor(Math.random() * tc.writeQueueNums);
  const results = await Promise.all(
    msgs.map((m) =>
      broker.sendMessage({ ...base, queueId, flag: m.flag, body: m.body, properties: m.properties }),
    ),
  );
  return createResponse(
    req,
    ResponseCode.SUCCESS,
    undefined,
    fields({
      msgId: results.map((r) => r.msgId).join(","),
      queueId,
      queueOffset: results[0]!.queueOffset,
      MSG_REGION: "DefaultRegion",
      TRACE_ON: "true",
    }),
  );
}
