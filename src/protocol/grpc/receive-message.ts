// ReceiveMessage (server stream): Broker.receiveMessages with the request's filter, batch size and invisible
// time, long polling up to the client's long_polling_timeout but always ending well inside the call's deadline
// (a call that runs into its deadline fails the whole receive on the client). The poll is aborted when the client
// cancels. Frames: a status (OK, or MESSAGE_NOT_FOUND for an empty poll, or the error), then one frame per
// message; the clients read the whole stream before looking at it. A lite push consumer receives from the lite
// topics it follows (lite-subscription.ts) instead of the parent topic's queues.
import type * as grpc from "@grpc/grpc-js";
import type { ReceiveRequest } from "../../broker/pop/pop-types.js";
import { callerOf, isLiteClient } from "./context.js";
import type { GrpcContext } from "./context.js";
import { encodeDeliveredMessage } from "./message-codec.js";
import { groupOf, millisOf, topicOf } from "./request-fields.js";
import { LONG_POLLING_TIMEOUT_MS } from "./settings-reply.js";
import { Code, OK, badRequest, statusOf } from "./status.js";
import type { ReceiveMessageRequest, ReceiveMessageResponse } from "./wire-types.js";

const MAX_BATCH = 32;
/** Push consumers send no invisible time. */
const DEFAULT_INVISIBLE_MS = 30_000;
const MIN_INVISIBLE_MS = 100;
const MAX_INVISIBLE_MS = 12 * 3_600_000;
/** Time kept back from the call's deadline for the answer to reach the client. */
const DEADLINE_MARGIN_MS = 1500;

/**
 * The request as the broker takes it. A receive with auto_renew and no invisible_duration (push consumers) gets
 * `renewSliceMs` of invisible time, which the endpoint then renews (receipt-renewals.ts).
 */
export function receiveRequest(
  req: ReceiveMessageRequest,
  deadlineMs: number,
  now = Date.now(),
  renewSliceMs = DEFAULT_INVISIBLE_MS,
): ReceiveRequest {
  const group = groupOf(req.group);
  const topic = topicOf(req.messageQueue?.topic);
  const batch = req.batchSize ?? 0;
  if (!Number.isInteger(batch) || batch < 1) throw badRequest(`batch_size must be at least 1, got ${batch}`);
  const invisibleMs =
    millisOf(req.invisibleDuration) ?? (req.autoRenew === true ? renewSliceMs : DEFAULT_INVISIBLE_MS);
  if (invisibleMs < MIN_INVISIBLE_MS || invisibleMs > MAX_INVISIBLE_MS) {
    throw badRequest(
      `invisible_duration must be between ${MIN_INVISIBLE_MS} ms and ${MAX_INVISIBLE_MS} ms, got ${invisibleMs} ms`,
      Code.ILLEGAL_INVISIBLE_TIME,
    );
  }
  const lpt = millisOf(req.longPollingTimeout) ?? LONG_POLLING_TIMEOUT_MS;
  if (lpt < 0) throw badRequest(`long_polling_timeout is negative`, Code.ILLEGAL_POLLING_TIME);
  const f = req.filterExpression;
  const type = f?.type === "SQL" ? "SQL92" : "TAG";
  return {
    group,
    topic,
    subscription: { expression: f?.expression || "*", type },
    batchSize: Math.min(batch, MAX_BATCH),
    invisibleMs,
    pollTimeoutMs: Math.max(0, Math.min(lpt, deadlineMs - now - DEADLINE_MARGIN_MS)),
  };
}

function deadlineOf(call: grpc.ServerWritableStream<ReceiveMessageRequest, ReceiveMessageResponse>): number {
  const d = call.getDeadline();
  const ms = d instanceof Date ? d.getTime() : d;
  return Number.isFinite(ms) ? ms : Date.now() + LONG_POLLING_TIMEOUT_MS + DEADLINE_MARGIN_MS;
}

export async function receiveMessage(
  ctx: GrpcContext,
  call: grpc.ServerWritableStream<ReceiveMessageRequest, ReceiveMessageResponse>,
  signal: AbortSignal,
): Promise<void> {
  const frames: ReceiveMessageResponse[] = [];
  let track: (() => void) | undefined;
  try {
    const req = receiveRequest(call.request, deadlineOf(call), Date.now(), ctx.renewals.options.sliceMs);
    const caller = callerOf(call);
    // Queue -1 is only ever assigned to lite consumers; it also tells a lite receive that arrives after a
    // reconnect before the client's Settings (which name its type) from a push consumer's.
    const lite = call.request.messageQueue?.id === -1 || isLiteClient(ctx, caller);
    const got = lite
      ? await ctx.broker.receiveLiteMessages({
          clientId: caller.clientId ?? "",
          group: req.group,
          parentTopic: req.topic,
          batchSize: req.batchSize,
          invisibleMs: req.invisibleMs,
          pollTimeoutMs: req.pollTimeoutMs,
          signal,
        })
      : await ctx.broker.receiveMessages({ ...req, signal });
    const renew = call.request.autoRenew === true && !call.request.invisibleDuration && caller.clientId;
    if (renew) {
      // Tracked once the messages are on their way (a cancelled call delivers nothing). A lite message's handle
      // belongs to its lite topic's queue, the topic it is stored under.
      track = () => {
        for (const m of got) {
          const topic = lite ? m.record.topic : req.topic;
          ctx.renewals.track(renew, req.group, topic, m.receiptHandle, m.invisibleUntil);
        }
      };
    }
    if (got.length === 0) {
      frames.push({ status: { code: Code.MESSAGE_NOT_FOUND, message: "no new message" } });
    } else {
      frames.push({ status: OK });
      for (const m of got) {
        frames.push({
          message: encodeDeliveredMessage(m.record, {
            topic: req.topic,
            queueId: m.queueId,
            queueOffset: m.queueOffset,
            delivery: {
              receiptHandle: m.receiptHandle,
              deliveryAttempt: m.deliveryAttempt,
              invisibleMs: m.invisibleUntil - Date.now(),
            },
          }),
        });
      }
    }
  } catch (e) {
    frames.push({ status: statusOf(e) });
  }
  if (call.cancelled) return;
  track?.();
  for (const f of frames) call.write(f);
  call.end();
}
