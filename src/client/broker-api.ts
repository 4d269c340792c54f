// The broker requests the SDK makes, one function each, with the header fields RocketMQ's Java client sends
// (all values as strings). Each resolves with the typed answer or rejects with MQClientError (a refusal) or the
// transport's RemotingError (no answer).
//
// SEND_MESSAGE_V2 (310): a producerGroup, b topic, c defaultTopic, d defaultTopicQueueNums, e queueId, f sysFlag,
//   g bornTimestamp, h flag, i properties, j reconsumeTimes, k unitMode, l maxReconsumeTimes → msgId, queueId,
//   queueOffset. SEND_BATCH_MESSAGE (320): the same header plus m batch=true, the messages in the body; msgId is
//   then the stored messages' ids joined by commas, queueOffset the first one's. PULL_MESSAGE (11): see
//   pullMessage. QUERY_CONSUMER_OFFSET (14) → offset or QUERY_NOT_FOUND (22).
//   UPDATE_CONSUMER_OFFSET (15). GET_MAX_OFFSET (30), SEARCH_OFFSET_BY_TIMESTAMP (29) → offset.
//   GET_CONSUMER_LIST_BY_GROUP (38) → {"consumerIdList":[...]}. CONSUMER_SEND_MSG_BACK (36). HEART_BEAT (34),
//   UNREGISTER_CLIENT (35). LOCK_BATCH_MQ (41) / UNLOCK_BATCH_MQ (42): orderly consumers' queue leases.
//   END_TRANSACTION (37), oneway: a transaction's outcome.
import { put16, put32 } from "../common/big-endian.js";
import type { RemotingClient } from "../protocol/remoting/client.js";
import { createRequest } from "../protocol/remoting/command.js";
import type { RemotingCommand } from "../protocol/remoting/command.js";
import { RequestCode, requestCodeName } from "../protocol/remoting/request-code.js";
import { ResponseCode } from "../protocol/remoting/response-code.js";
import { MQClientError } from "./errors.js";
import { DEFAULT_TOPIC_QUEUE_NUMS } from "./route-cache.js";
import type { MessageQueue } from "./route-cache.js";

/** PullSysFlag bits. */
export const PullSysFlag = {
  COMMIT_OFFSET: 0x1,
  SUSPEND: 0x2,
  SUBSCRIPTION: 0x4,
  CLASS_FILTER: 0x8,
} as const;

function check(addr: string, req: RemotingCommand, res: RemotingCommand, ...ok: number[]): void {
  if (!(ok.length === 0 ? res.code === ResponseCode.SUCCESS : ok.includes(res.code))) {
    throw MQClientError.fromResponse(requestCodeName(req.code), addr, res.code, res.remark);
  }
}

function num(res: RemotingCommand, field: string): number {
  const v = Number(res.extFields[field]);
  return Number.isFinite(v) ? v : NaN;
}

/** A SEND_MESSAGE_V2 header without its queue, which is chosen per attempt. */
export interface SendHeader {
  producerGroup: string;
  topic: string;
  sysFlag: number;
  bornTimestamp: number;
  flag: number;
  properties: string;
  reconsumeTimes?: number;
  maxReconsumeTimes?: number;
}

const DEFAULT_TOPIC_QUEUE_NUMS_TEXT = String(DEFAULT_TOPIC_QUEUE_NUMS);

/** One message of a SEND_BATCH_MESSAGE body. */
export interface BatchItem {
  flag: number;
  body: Buffer;
  properties: string;
}

/**
 * A SEND_BATCH_MESSAGE body as Java's MessageDecoder.encodeMessages lays it out, per message: total size (int32),
 * magic and body CRC (int32 each, 0: the broker computes the CRC), flag, body length (int32), body, properties
 * length (int16), properties (UTF-8).
 */
export function encodeBatchBody(items: readonly BatchItem[]): Buffer {
  const propBytes = new Array<number>(items.length);
  let size = 0;
  for (let i = 0; i < items.length; i++) {
    const it = items[i]!;
    propBytes[i] = Buffer.byteLength(it.properties);
    size += 22 + it.body.length + propBytes[i]!;
  }
  const out = Buffer.allocUnsafe(size);
  let p = 0;
  for (let i = 0; i < items.length; i++) {
    const it = items[i]!;
    const bodyLen = it.body.length;
    const total = 22 + bodyLen + propBytes[i]!;
    put32(out, p, total);
    put32(out, p + 4, 0);
    put32(out, p + 8, 0);
    put32(out, p + 12, it.flag);
    put32(out, p + 16, bodyLen);
    it.body.copy(out, p + 20);
    put16(out, p + 20 + bodyLen, propBytes[i]!);
    out.write(it.properties, p + 22 + bodyLen, "utf8");
    p += total;
  }
  return out;
}

/** The SEND_MESSAGE_V2 request for `h` to queue `queueId`; SEND_BATCH_MESSAGE with `batch` (body: encodeBatchBody). */
export function sendCommand(h: SendHeader, queueId: number, body: Buffer, batch = false): RemotingCommand {
  const ext: Record<string, string> = {
    a: h.producerGroup,
    b: h.topic,
    c: "TBW102",
    d: DEFAULT_TOPIC_QUEUE_NUMS_TEXT,
    e: String(queueId),
    f: String(h.sysFlag),
    g: String(h.bornTimestamp),
    h: String(h.flag),
    i: h.properties,
    j: String(h.reconsumeTimes ?? 0),
    k: "false",
  };
  if (h.maxReconsumeTimes !== undefined) ext["l"] = String(h.maxReconsumeTimes);
  if (batch) ext["m"] = "true";
  return createRequest(batch ? RequestCode.SEND_BATCH_MESSAGE : RequestCode.SEND_MESSAGE_V2, ext, body);
}

export interface SendReply {
  /** SUCCESS, or a flush/slave code: the message was stored but not as durably as asked. */
  status: "SEND_OK" | "FLUSH_DISK_TIMEOUT" | "FLUSH_SLAVE_TIMEOUT" | "SLAVE_NOT_AVAILABLE";
  offsetMsgId: string;
  queueId: number;
  queueOffset: number;
}

const SEND_STATUS: Record<number, SendReply["status"]> = {
  [ResponseCode.SUCCESS]: "SEND_OK",
  [ResponseCode.FLUSH_DISK_TIMEOUT]: "FLUSH_DISK_TIMEOUT",
  [ResponseCode.FLUSH_SLAVE_TIMEOUT]: "FLUSH_SLAVE_TIMEOUT",
  [ResponseCode.SLAVE_NOT_AVAILABLE]: "SLAVE_NOT_AVAILABLE",
};

/** Reads the broker's answer to sendCommand(); rejects refusals with MQClientError. */
export function readSendReply(addr: string, res: RemotingCommand, queueId: number): SendReply {
  const status = SEND_STATUS[res.code];
  if (status === undefined) throw MQClientError.fromResponse("SEND_MESSAGE_V2", addr, res.code, res.remark);
  return {
    status,
    offsetMsgId: res.extFields["msgId"] ?? "",
    queueId: Number(res.extFields["queueId"] ?? queueId),
    queueOffset: Number(res.extFields["queueOffset"] ?? -1),
  };
}

/**
 * A batch's answer, one SendReply per message: the broker stores a batch back to back in one queue, so message i
 * sits at the first one's queue offset + i.
 */
export function readBatchSendReply(
  addr: string,
  res: RemotingCommand,
  queueId: number,
  count: number,
): SendReply[] {
  const first = readSendReply(addr, res, queueId);
  const ids = first.offsetMsgId.split(",");
  if (ids.length !== count || !(first.queueOffset >= 0)) {
    throw new MQClientError(
      "BROKER_ERROR",
      `SEND_BATCH_MESSAGE to ${addr}: ${ids.length} message ids and queue offset ${first.queueOffset} for a batch of ${count}`,
    );
  }
  return ids.map((offsetMsgId, i) => ({
    status: first.status,
    offsetMsgId,
    queueId: first.queueId,
    queueOffset: first.queueOffset + i,
  }));
}

export async function sendMessage(
  rc: RemotingClient,
  addr: string,
  h: SendHeader,
  queueId: number,
  body: Buffer,
  timeoutMs: number,
): Promise<SendReply> {
  const res = await rc.invoke(addr, sendCommand(h, queueId, body), timeoutMs);
  return readSendReply(addr, res, queueId);
}

export interface PullHeader {
  consumerGroup: string;
  topic: string;
  queueId: number;
  queueOffset: number;
  maxMsgNums: number;
  sysFlag: number;
  commitOffset: number;
  suspendTimeoutMillis: number;
  subscription: string;
  subVersion: number;
  expressionType: string;
}

export type PullStatus = "FOUND" | "NO_NEW_MSG" | "NO_MATCHED_MSG" | "OFFSET_ILLEGAL";

export interface PullReply {
  status: PullStatus;
  nextBeginOffset: number;
  minOffset: number;
  maxOffset: number;
  suggestWhichBrokerId: number;
  body: Buffer | undefined;
}

const PULL_STATUS: Record<number, PullStatus> = {
  [ResponseCode.SUCCESS]: "FOUND",
  [ResponseCode.PULL_NOT_FOUND]: "NO_NEW_MSG",
  [ResponseCode.PULL_RETRY_IMMEDIATELY]: "NO_MATCHED_MSG",
  [ResponseCode.PULL_OFFSET_MOVED]: "OFFSET_ILLEGAL",
};

export async function pullMessage(
  rc: RemotingClient,
  addr: string,
  h: PullHeader,
  timeoutMs: number,
): Promise<PullReply> {
  const req = createRequest(RequestCode.PULL_MESSAGE, {
    consumerGroup: h.consumerGroup,
    topic: h.topic,
    queueId: String(h.queueId),
    queueOffset: String(h.queueOffset),
    maxMsgNums: String(h.maxMsgNums),
    sysFlag: String(h.sysFlag),
    commitOffset: String(h.commitOffset),
    suspendTimeoutMillis: String(h.suspendTimeoutMillis),
    subscription: h.subscription,
    subVersion: String(h.subVersion),
    expressionType: h.expressionType,
  });
  const res = await rc.invoke(addr, req, timeoutMs);
  const status = PULL_STATUS[res.code];
  if (status === undefined) throw MQClientError.fromResponse("PULL_MESSAGE", addr, res.code, res.remark);
  const next = num(res, "nextBeginOffset");
  if (Number.isNaN(next)) {
    throw new MQClientError("BROKER_ERROR", `PULL_MESSAGE reply from ${addr} has no nextBeginOffset`);
  }
  return {
    status,
    nextBeginOffset: next,
    minOffset: num(res, "minOffset"),
    maxOffset: num(res, "maxOffset"),
    suggestWhichBrokerId: num(res, "suggestWhichBrokerId") || 0,
    body: res.body,
  };
}

/** The group's committed offset, or undefined when the broker has none (QUERY_NOT_FOUND). */
export async function queryConsumerOffset(
  rc: RemotingClient,
  addr: string,
  group: string,
  topic: string,
  queueId: number,
  timeoutMs: number,
): Promise<number | undefined> {
  const req = createRequest(RequestCode.QUERY_CONSUMER_OFFSET, {
    consumerGroup: group,
    topic,
    queueId: String(queueId),
  });
  const res = await rc.invoke(addr, req, timeoutMs);
  if (res.code === ResponseCode.QUERY_NOT_FOUND) return undefined;
  check(addr, req, res);
  const off = num(res, "offset");
  return Number.isNaN(off) || off < 0 ? undefined : off;
}

export async function updateConsumerOffset(
  rc: RemotingClient,
  addr: string,
  group: string,
  topic: string,
  queueId: number,
  offset: number,
  timeoutMs: number,
): Promise<void> {
  const req = createRequest(RequestCode.UPDATE_CONSUMER_OFFSET, {
    consumerGroup: group,
    topic,
    queueId: String(queueId),
    commitOffset: String(offset),
  });
  check(addr, req, await rc.invoke(addr, req, timeoutMs));
}

async function offsetCall(
  rc: RemotingClient,
  addr: string,
  code: number,
  ext: Record<string, string>,
  timeoutMs: number,
): Promise<number> {
  const req = createRequest(code, ext);
  const res = await rc.invoke(addr, req, timeoutMs);
  check(addr, req, res);
  const off = num(res, "offset");
  if (Number.isNaN(off))
    throw new MQClientError("BROKER_ERROR", `${requestCodeName(code)} reply has no offset`);
  return off;
}

export function getMaxOffset(
  rc: RemotingClient,
  addr: string,
  topic: string,
  queueId: number,
  timeoutMs: number,
): Promise<number> {
  return offsetCall(rc, addr, RequestCode.GET_MAX_OFFSET, { topic, queueId: String(queueId) }, timeoutMs);
}

export function searchOffsetByTimestamp(
  rc: RemotingClient,
  addr: string,
  topic: string,
  queueId: number,
  timestamp: number,
  timeoutMs: number,
): Promise<number> {
  return offsetCall(
    rc,
    addr,
    RequestCode.SEARCH_OFFSET_BY_TIMESTAMP,
    { topic, queueId: String(queueId), timestamp: String(timestamp) },
    timeoutMs,
  );
}

export async function getConsumerIdList(
  rc: RemotingClient,
  addr: string,
  group: string,
  timeoutMs: number,
): Promise<string[]> {
  const req = createRequest(RequestCode.GET_CONSUMER_LIST_BY_GROUP, { consumerGroup: group });
  const res = await rc.invoke(addr, req, timeoutMs);
  check(addr, req, res);
  if (!res.body || res.body.length === 0) return [];
  const parsed = JSON.parse(res.body.toString("utf8")) as { consumerIdList?: unknown };
  const list = Array.isArray(parsed.consumerIdList) ? parsed.consumerIdList : [];
  return list.filter((x): x is string => typeof x === "string");
}

export interface SendBackHeader {
  offset: number;
  group: string;
  delayLevel: number;
  originMsgId: string;
  originTopic: string;
  maxReconsumeTimes: number;
}

export async function consumerSendMsgBack(
  rc: RemotingClient,
  addr: string,
  h: SendBackHeader,
  timeoutMs: number,
): Promise<void> {
  const req = createRequest(RequestCode.CONSUMER_SEND_MSG_BACK, {
    offset: String(h.offset),
    group: h.group,
    delayLevel: String(h.delayLevel),
    originMsgId: h.originMsgId,
    originTopic: h.originTopic,
    unitMode: "false",
    maxReconsumeTimes: String(h.maxReconsumeTimes),
  });
  check(addr, req, await rc.invoke(addr, req, timeoutMs));
}

export async function sendHeartbeat(
  rc: RemotingClient,
  addr: string,
  body: Buffer,
  timeoutMs: number,
): Promise<void> {
  const req = createRequest(RequestCode.HEART_BEAT, {}, body);
  check(addr, req, await rc.invoke(addr, req, timeoutMs));
}

export async function unregisterClient(
  rc: RemotingClient,
  addr: string,
  clientId: string,
  group: { producerGroup?: string; consumerGroup?: string },
  timeoutMs: number,
): Promise<void> {
  const ext: Record<string, string> = { clientID: clientId };
  if (group.producerGroup) ext["producerGroup"] = group.producerGroup;
  if (group.consumerGroup) ext["consumerGroup"] = group.consumerGroup;
  const req = createRequest(RequestCode.UNREGISTER_CLIENT, ext);
  check(addr, req, await rc.invoke(addr, req, timeoutMs));
}

/** LOCK_BATCH_MQ / UNLOCK_BATCH_MQ body (RocketMQ LockBatchRequestBody / UnlockBatchRequestBody). */
function lockBody(group: string, clientId: string, mqs: readonly MessageQueue[]): Buffer {
  return Buffer.from(
    JSON.stringify({
      consumerGroup: group,
      clientId,
      onlyThisBroker: false,
      mqSet: mqs.map((q) => ({ topic: q.topic, brokerName: q.brokerName, queueId: q.queueId })),
    }),
  );
}

/**
 * LOCK_BATCH_MQ (41): takes or renews the group's leases on `mqs` for `clientId`; resolves with the queues the
 * client holds now (RocketMQ LockBatchResponseBody.lockOKMQSet).
 */
export async function lockBatchMQ(
  rc: RemotingClient,
  addr: string,
  group: string,
  clientId: string,
  mqs: readonly MessageQueue[],
  timeoutMs: number,
): Promise<MessageQueue[]> {
  const req = createRequest(RequestCode.LOCK_BATCH_MQ, {}, lockBody(group, clientId, mqs));
  const res = await rc.invoke(addr, req, timeoutMs);
  check(addr, req, res);
  if (!res.body || res.body.length === 0) return [];
  const parsed = JSON.parse(res.body.toString("utf8")) as { lockOKMQSet?: unknown };
  const list = Array.isArray(parsed.lockOKMQSet) ? (parsed.lockOKMQSet as unknown[]) : [];
  const out: MessageQueue[] = [];
  for (const x of list) {
    const q = x as Partial<MessageQueue> | null;
    if (q && typeof q.topic === "string" && typeof q.brokerName === "string") {
      const queueId = Number(q.queueId);
      if (Number.isInteger(queueId)) out.push({ topic: q.topic, brokerName: q.brokerName, queueId });
    }
  }
  return out;
}

/** UNLOCK_BATCH_MQ (42): gives the leases back so another member may take the queues at once. */
export async function unlockBatchMQ(
  rc: RemotingClient,
  addr: string,
  group: string,
  clientId: string,
  mqs: readonly MessageQueue[],
  timeoutMs: number,
): Promise<void> {
  const req = createRequest(RequestCode.UNLOCK_BATCH_MQ, {}, lockBody(group, clientId, mqs));
  check(addr, req, await rc.invoke(addr, req, timeoutMs));
}

export interface EndTransactionHeader {
  producerGroup: string;
  /** The half message's queue offset (the send result's queueOffset). */
  tranStateTableOffset: number;
  /** The half message's commit log offset (from its offset message id). */
  commitLogOffset: number;
  /** SysFlag TRANSACTION_COMMIT (8), TRANSACTION_ROLLBACK (12) or 0 (unknown). */
  commitOrRollback: number;
  fromTransactionCheck: boolean;
  msgId: string;
  transactionId: string;
}

/** The END_TRANSACTION (37) request; the Java client sends it oneway. */
export function endTransactionCommand(h: EndTransactionHeader, remark?: string): RemotingCommand {
  const req = createRequest(RequestCode.END_TRANSACTION, {
    producerGroup: h.producerGroup,
    tranStateTableOffset: String(h.tranStateTableOffset),
    commitLogOffset: String(h.commitLogOffset),
    commitOrRollback: String(h.commitOrRollback),
    fromTransactionCheck: String(h.fromTransactionCheck),
    msgId: h.msgId,
    transactionId: h.transactionId,
  });
  if (remark !== undefined) req.remark = remark;
  return req;
}
