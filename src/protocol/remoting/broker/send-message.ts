// SEND_MESSAGE (10), SEND_MESSAGE_V2 (310) and SEND_BATCH_MESSAGE (320).
// Request header (V2 uses one-letter names): a producerGroup, b topic, c defaultTopic, d defaultTopicQueueNums,
// e queueId, f sysFlag, g bornTimestamp, h flag, i properties, j reconsumeTimes, k unitMode, l maxReconsumeTimes,
// m batch. Body: the message body; for a batch, messages as MessageDecoder.encodeMessages writes them:
//   [TOTALSIZE i32][MAGIC i32][BODYCRC i32][FLAG i32][BODYLEN i32 + body][PROPLEN i16 + properties] ...
// Response header: msgId (offset message id; comma-separated for a batch), queueId, queueOffset, recallHandle
// (timed messages), MSG_REGION, TRACE_ON.
import type { Broker, SendRequest, SendResult } from "../../../broker/broker.js";
import { i16, i32 } from "../../../common/big-endian.js";
import { BrokerError } from "../../../common/errors.js";
import { parseHostPort } from "../../../common/socket-address.js";
import type { HostAddress } from "../../../common/socket-address.js";
import type { RemotingCommand } from "../command.js";
import { createResponse } from "../command.js";
import type { RemotingConnection } from "../connection.js";
import { RequestCode } from "../request-code.js";
import { ResponseCode } from "../response-code.js";
import { fields, optInt, optStr, reqStr } from "./ext-fields.js";
import type { Ext } from "./ext-fields.js";

/** Header field names: SEND_MESSAGE and SEND_BATCH_MESSAGE from ali-ons use the long ones, V2 the letters. */
interface SendFieldNames {
  producerGroup: string;
  topic: string;
  queueId: string;
  sysFlag: string;
  bornTimestamp: string;
  flag: string;
  properties: string;
  reconsumeTimes: string;
  maxReconsumeTimes: string;
  batch: string;
  defaultTopicQueueNums: string;
}

const LONG_NAMES: SendFieldNames = {
  producerGroup: "producerGroup",
  topic: "topic",
  queueId: "queueId",
  sysFlag: "sysFlag",
  bornTimestamp: "bornTimestamp",
  flag: "flag",
  properties: "properties",
  reconsumeTimes: "reconsumeTimes",
  maxReconsumeTimes: "maxReconsumeTimes",
  batch: "batch",
  defaultTopicQueueNums: "defaultTopicQueueNums",
};

const V2_NAMES: SendFieldNames = {
  producerGroup: "a",
  topic: "b",
  queueId: "e",
  sysFlag: "f",
  bornTimestamp: "g",
  flag: "h",
  properties: "i",
  reconsumeTimes: "j",
  maxReconsumeTimes: "l",
  batch: "m",
  defaultTopicQueueNums: "d",
};

const EMPTY = Buffer.alloc(0);

function fieldNames(req: RemotingCommand): SendFieldNames {
  return req.code === RequestCode.SEND_MESSAGE_V2 ||
    (req.code === RequestCode.SEND_BATCH_MESSAGE && "b" in req.extFields)
    ? V2_NAMES
    : LONG_NAMES;
}

/** The producer's address as records store it, parsed once per connection. */
function bornHostOf(conn: RemotingConnection): HostAddress | undefined {
  const cached = conn.attributes.get("bornHost") as HostAddress | null | undefined;
  if (cached !== undefined) return cached ?? undefined;
  let h: HostAddress | null = null;
  try {
    h = parseHostPort(conn.remoteAddress);
  } catch {
    // Not an IP address (should not happen on TCP): records get the broker's placeholder.
  }
  conn.attributes.set("bornHost", h);
  return h ?? undefined;
}

/** The request as the broker takes it, built once (no copies or spreads on this path). */
function sendRequest(h: Ext, n: SendFieldNames, conn: RemotingConnection, body: Buffer): SendRequest {
  const born = bornHostOf(conn);
  const maxReconsume = optInt(h, n.maxReconsumeTimes, "maxReconsumeTimes");
  const r: SendRequest = {
    producerGroup: optStr(h, n.producerGroup) ?? "",
    topic: reqStr(h, n.topic, "topic"),
    queueId: optInt(h, n.queueId, "queueId") ?? -1,
    body,
    properties: optStr(h, n.properties) ?? "",
    sysFlag: optInt(h, n.sysFlag, "sysFlag") ?? 0,
    flag: optInt(h, n.flag, "flag") ?? 0,
    bornTimestamp: optInt(h, n.bornTimestamp, "bornTimestamp") ?? Date.now(),
  };
  if (born) r.bornHost = born;
  r.reconsumeTimes = optInt(h, n.reconsumeTimes, "reconsumeTimes") ?? 0;
  if (maxReconsume !== undefined) r.maxReconsumeTimes = maxReconsume;
  const autoQueues = optInt(h, n.defaultTopicQueueNums, "defaultTopicQueueNums");
  if (autoQueues !== undefined) r.defaultTopicQueueNums = autoQueues;
  return r;
}

/**
 * Not async: the dispatcher takes a synchronous throw (a bad header) the same way as a rejection, and the
 * usual send then costs one promise reaction rather than an async frame on top of the broker's promise.
 */
export function handleSendMessage(
  broker: Broker,
  req: RemotingCommand,
  conn: RemotingConnection,
): Promise<RemotingCommand> {
  const h = req.extFields;
  const n = fieldNames(req);
  const sr = sendRequest(h, n, conn, req.body ?? EMPTY);
  if (req.code === RequestCode.SEND_BATCH_MESSAGE || optStr(h, n.batch) === "true") {
    return sendBatch(broker, req, sr);
  }
  return broker.sendMessage(sr).then((r) => sendResponse(req, r));
}

function sendResponse(req: RemotingCommand, r: SendResult): RemotingCommand {
  // The fields in fields()'s order, without its copy.
  const ext: Record<string, string> = {
    msgId: r.msgId,
    queueId: String(r.queueId),
    queueOffset: String(r.queueOffset),
  };
  if (r.transactionId !== undefined) ext["transactionId"] = r.transactionId;
  if (r.recallHandle !== undefined) ext["recallHandle"] = r.recallHandle;
  ext["MSG_REGION"] = "DefaultRegion";
  ext["TRACE_ON"] = "true";
  return createResponse(req, sendCode(r), undefined, ext);
}

/** SEND_OK, or (SYNC_MASTER) stored but not confirmed by a slave: the client reports it as that send status. */
function sendCode(r: SendResult): number {
  if (r.slaveStatus === "FLUSH_SLAVE_TIMEOUT") return ResponseCode.FLUSH_SLAVE_TIMEOUT;
  if (r.slaveStatus === "SLAVE_NOT_AVAILABLE") return ResponseCode.SLAVE_NOT_AVAILABLE;
  return ResponseCode.SUCCESS;
}

/**
 * Splits a batch body into its messages; throws BAD_REQUEST on a malformed body. The bodies are views into
 * `body`, as a single send's body is a view into its frame: the store copies them as it encodes.
 */
export function decodeBatchBody(body: Buffer): { flag: number; body: Buffer; properties: string }[] {
  const out: { flag: number; body: Buffer; properties: string }[] = [];
  let p = 0;
  while (p < body.length) {
    if (p + 20 > body.length) throw new BrokerError("BAD_REQUEST", "batch body is truncated");
    const total = i32(body, p);
    if (total < 22 || p + total > body.length)
      throw new BrokerError("BAD_REQUEST", `batch message size ${total} is invalid`);
    const flag = i32(body, p + 12);
    const bodyLen = i32(body, p + 16);
    if (bodyLen < 0 || 20 + bodyLen + 2 > total)
      throw new BrokerError("BAD_REQUEST", "batch message body overruns it");
    const propLen = i16(body, p + 20 + bodyLen);
    if (propLen < 0 || 22 + bodyLen + propLen > total)
      throw new BrokerError("BAD_REQUEST", "batch message properties overrun it");
    const props = body.toString("utf8", p + 22 + bodyLen, p + 22 + bodyLen + propLen);
    out.push({ flag, body: body.subarray(p + 20, p + 20 + bodyLen), properties: props });
    p += total;
  }
  if (out.length === 0) throw new BrokerError("BAD_REQUEST", "batch is empty");
  return out;
}

async function sendBatch(broker: Broker, req: RemotingCommand, base: SendRequest): Promise<RemotingCommand> {
  const msgs = decodeBatchBody(req.body ?? Buffer.alloc(0));
  const results = await broker.sendBatch(base, msgs);
  const queueId = results[0]!.queueId;
  return createResponse(
    req,
    sendCode(results[results.length - 1]!),
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
