// AckMessage, ChangeInvisibleDuration and ForwardMessageToDeadLetterQueue: receipt-handle operations on the
// broker. An ack answers per entry, and at the top with OK, the one error when all failed, or MULTIPLE_RESULTS
// (clients look only at the top). ChangeInvisibleDuration always returns a handle: the client adopts it blindly.
// A lite consumer names the message's lite topic too: the handle belongs to that lite topic's queue.
import type { GrpcContext } from "./context.js";
import { receiptTopic } from "./lite-subscription.js";
import { groupOf, millisOf, topicOf } from "./request-fields.js";
import { Code, OK, badRequest, combinedStatus, statusOf } from "./status.js";
import type {
  AckMessageRequest,
  ChangeInvisibleDurationRequest,
  ForwardMessageToDeadLetterQueueRequest,
  Status,
} from "./wire-types.js";

interface AckResultEntry {
  messageId: string;
  receiptHandle: string;
  status: Status;
}

function handleOf(h: string | undefined): string {
  if (!h) throw badRequest("receipt_handle is required", Code.INVALID_RECEIPT_HANDLE);
  return h;
}

export async function ackMessage(
  ctx: GrpcContext,
  req: AckMessageRequest,
): Promise<{ status: Status; entries: AckResultEntry[] }> {
  const group = groupOf(req.group);
  const topic = topicOf(req.topic);
  const list = req.entries ?? [];
  if (list.length === 0) throw badRequest("entries is empty");
  const entries = await Promise.all(
    list.map(async (e): Promise<AckResultEntry> => {
      const out = { messageId: e.messageId ?? "", receiptHandle: e.receiptHandle ?? "" };
      try {
        const handle = handleOf(e.receiptHandle);
        ctx.renewals.settled(handle);
        await ctx.broker.ackMessage(group, receiptTopic(topic, e.liteTopic), handle);
        return { ...out, status: OK };
      } catch (err) {
        return { ...out, status: statusOf(err) };
      }
    }),
  );
  const status = combinedStatus(
    entries.map((e) => e.status),
    "acks",
  );
  return { status, entries };
}

export async function changeInvisibleDuration(
  ctx: GrpcContext,
  req: ChangeInvisibleDurationRequest,
): Promise<{ status: Status; receiptHandle: string }> {
  const group = groupOf(req.group);
  const topic = topicOf(req.topic);
  const handle = handleOf(req.receiptHandle);
  const ms = millisOf(req.invisibleDuration);
  if (ms === undefined || ms < 0)
    throw badRequest("invisible_duration is required", Code.ILLEGAL_INVISIBLE_TIME);
  ctx.renewals.settled(handle);
  const receiptHandle = await ctx.broker.changeInvisibleDuration(
    group,
    receiptTopic(topic, req.liteTopic),
    handle,
    ms,
    req.suspend === true,
  );
  return { status: OK, receiptHandle };
}

export async function forwardToDeadLetter(
  ctx: GrpcContext,
  req: ForwardMessageToDeadLetterQueueRequest,
): Promise<{ status: Status }> {
  const handle = handleOf(req.receiptHandle);
  ctx.renewals.settled(handle);
  await ctx.broker.forwardToDeadLetter(
    groupOf(req.group),
    receiptTopic(topicOf(req.topic), req.liteTopic),
    handle,
  );
  return { status: OK };
}
