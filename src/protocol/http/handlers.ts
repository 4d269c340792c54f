// The operations of the HTTP protocol on the one resource /topics/{topic}/messages, as calls to the broker:
// POST publishes, GET consumes (trans=order: ordered, trans=pop: due transaction checks), DELETE acks
// (trans=commit / trans=rollback: ends transactions). Replies are XML documents or 204.
import type { Broker } from "../../broker/broker.js";
import { parseReceiptHandle } from "../../broker/pop/receipt-handle.js";
import { PULL_CHECK_GROUP } from "../../broker/transaction-service.js";
import { formatHalfMessageLocation, parseHalfMessageLocation } from "../../broker/transaction-handle.js";
import { isBrokerError } from "../../common/errors.js";
import type { UniqueIdGenerator } from "../../common/message-id.js";
import { Prop, encodeProperties } from "../../common/properties.js";
import type { HostAddress } from "../../common/socket-address.js";
import type { HttpEndpointConfig } from "./http-config.js";
import { HttpError, toHttpError } from "./http-error.js";
import { bodyMd5, messageElement, readPublish } from "./message-codec.js";
import type { Delivery } from "./message-codec.js";
import { document, elements, parseRequest, textOf } from "./xml.js";

export interface HttpContext {
  broker: Broker;
  config: HttpEndpointConfig;
  ids: UniqueIdGenerator;
}

export interface Reply {
  status: number;
  /** XML document; none for 204. */
  body?: string;
}

type Query = Record<string, string | undefined>;

const MAX_MESSAGES = 16;
const MAX_WAIT_SECONDS = 30;

// ---- transaction handles --------------------------------------------------------------------------------------

function transactionHandle(halfQueueOffset: number, commitLogOffset: number): string {
  return formatHalfMessageLocation({ halfQueueOffset, commitLogOffset });
}

function parseTransactionHandle(h: string): { halfQueueOffset: number; commitLogOffset: number } {
  const at = parseHalfMessageLocation(h);
  if (!at) throw new HttpError(400, "ReceiptHandleError", `${h} is not a transaction receipt handle`);
  return at;
}

// ---- publish ----------------------------------------------------------------------------------------------------

export async function publish(ctx: HttpContext, topic: string, raw: Buffer | undefined, from: HostAddress) {
  const node = parseRequest(raw, "Message");
  const msg = readPublish(
    textOf(node, "MessageBody"),
    textOf(node, "MessageTag"),
    textOf(node, "Properties"),
    ctx.config.maxBodyBytes,
  );
  const id = ctx.ids.next();
  msg.properties.set(Prop.UNIQ_KEY, id);
  const transactional = msg.transCheckSeconds !== undefined;
  if (transactional) msg.properties.set(Prop.TRAN_MSG, "true");
  const r = await ctx.broker.sendMessage({
    producerGroup: transactional ? PULL_CHECK_GROUP : "",
    topic,
    queueId: -1,
    body: msg.body,
    properties: encodeProperties(msg.properties),
    bornTimestamp: Date.now(),
    bornHost: from,
  });
  const reply: Reply = {
    status: 201,
    body: document(
      "Message",
      elements([
        ["MessageId", id],
        ["MessageBodyMD5", bodyMd5(msg.body)],
        ["ReceiptHandle", transactional ? transactionHandle(r.queueOffset, r.phyOffset) : undefined],
      ]),
    ),
  };
  return reply;
}

// ---- consume ----------------------------------------------------------------------------------------------------

function consumerOf(q: Query): string {
  const g = q["consumer"];
  if (!g) throw new HttpError(400, "InvalidArgument", "the consumer parameter (group id) is required");
  return g;
}

function intParam(q: Query, name: string, min: number, max: number, def?: number): number {
  const raw = q[name];
  if (raw === undefined || raw === "") {
    if (def !== undefined) return def;
    throw new HttpError(400, "InvalidArgument", `the ${name} parameter is required`);
  }
  // Decimal digits only: Number() would also take "1e1", "0x10", " 2" and "16.0".
  const n = /^\d{1,9}$/.test(raw) ? Number(raw) : NaN;
  if (!(n >= min && n <= max)) {
    throw new HttpError(
      400,
      "InvalidArgument",
      `${name} must be an integer from ${min} to ${max}, got "${raw}"`,
    );
  }
  return n;
}

function messages(deliveries: Delivery[]): Reply {
  if (deliveries.length === 0) throw new HttpError(404, "MessageNotExist", "Message not exist.");
  return { status: 200, body: document("Messages", deliveries.map(messageElement).join("")) };
}

export async function consume(
  ctx: HttpContext,
  topic: string,
  q: Query,
  signal: AbortSignal,
): Promise<Reply> {
  const group = consumerOf(q);
  const n = intParam(q, "numOfMessages", 1, MAX_MESSAGES);
  const waitMs = intParam(q, "waitseconds", 0, MAX_WAIT_SECONDS, 0) * 1000;
  const trans = q["trans"];
  if (trans === "pop") {
    const interval = ctx.config.transactionCheckIntervalMs;
    const due = await ctx.broker.pullDueTransactions(topic, n, interval, waitMs, signal);
    const now = Date.now();
    return messages(
      due.map((d) => ({
        record: d.record,
        receiptHandle: transactionHandle(d.halfQueueOffset, d.commitLogOffset),
        consumedTimes: d.checks,
        nextConsumeTime: now + interval,
        firstConsumeTime: d.record.storeTimestamp,
      })),
    );
  }
  if (trans !== undefined && trans !== "order") {
    throw new HttpError(400, "InvalidArgument", `trans=${trans} is not a consume mode (order or pop)`);
  }
  const ordered = trans === "order";
  const tag = q["tag"];
  const got = await ctx.broker.receiveMessages({
    group,
    topic,
    subscription: { expression: tag && tag !== "" ? tag : "*" },
    batchSize: n,
    invisibleMs: ordered ? ctx.config.orderInvisibleMs : ctx.config.invisibleMs,
    pollTimeoutMs: waitMs,
    queueOrder: ordered,
    maxAttempts: ctx.config.maxRetries + 1,
    signal,
  });
  return messages(
    got.map((m) => ({
      record: m.record,
      receiptHandle: m.receiptHandle,
      consumedTimes: m.deliveryAttempt,
      nextConsumeTime: m.invisibleUntil,
      firstConsumeTime: m.firstDeliveredAt,
    })),
  );
}

// ---- ack and transaction end ------------------------------------------------------------------------------------

interface HandleError {
  handle: string;
  code: string;
  message: string;
}

export async function ack(
  ctx: HttpContext,
  topic: string,
  q: Query,
  raw: Buffer | undefined,
): Promise<Reply> {
  const group = consumerOf(q);
  const node = parseRequest(raw, "ReceiptHandles");
  const handles = ((node["ReceiptHandle"] as unknown[] | undefined) ?? []).map((h) =>
    typeof h === "string" ? h : String((h as Record<string, unknown>)?.["#text"] ?? ""),
  );
  if (handles.length === 0) throw new HttpError(400, "InvalidArgument", "no ReceiptHandle given");
  if (handles.length > MAX_MESSAGES) {
    throw new HttpError(400, "InvalidArgument", `at most ${MAX_MESSAGES} receipt handles per request`);
  }
  const trans = q["trans"];
  if (trans !== undefined && trans !== "commit" && trans !== "rollback") {
    throw new HttpError(400, "InvalidArgument", `trans=${trans} is not an ack mode (commit or rollback)`);
  }
  const errors: HandleError[] = [];
  for (const handle of handles) {
    try {
      if (trans) {
        const h = parseTransactionHandle(handle);
        await ctx.broker.endTransaction("", h.halfQueueOffset, h.commitLogOffset, trans);
      } else {
        try {
          parseReceiptHandle(handle);
        } catch {
          throw new HttpError(400, "ReceiptHandleError", "The receipt handle you provide is not valid.");
        }
        await ctx.broker.ackMessage(group, topic, handle);
      }
    } catch (e) {
      if (!(e instanceof HttpError) && !isBrokerError(e)) throw e;
      const err = toHttpError(e);
      errors.push({ handle, code: err.code, message: err.message });
    }
  }
  if (errors.length === 0) return { status: 204 };
  return {
    status: 404,
    body: document(
      "Errors",
      errors
        .map(
          (e) =>
            `<Error>${elements([
              ["ErrorCode", e.code],
              ["ErrorMessage", e.message],
              ["ReceiptHandle", e.handle],
            ])}</Error>`,
        )
        .join(""),
    ),
  };
}
