// RecallMessage: cancels a timed message before it is due, by the recall handle its SendMessage returned
// (SendResultEntry.recall_handle). The broker checks the handle and stores the recall durably; the reply names
// the recalled message.
import type { Caller } from "./context.js";
import type { GrpcContext } from "./context.js";
import { peerHost } from "./context.js";
import { topicOf } from "./request-fields.js";
import { OK, badRequest } from "./status.js";
import type { RecallMessageRequest, Status } from "./wire-types.js";

export async function recallMessage(
  ctx: GrpcContext,
  req: RecallMessageRequest,
  caller: Caller,
): Promise<{ status: Status; messageId: string }> {
  const topic = topicOf(req.topic);
  if (!req.recallHandle) throw badRequest("recall_handle is required");
  const messageId = await ctx.broker.recallMessage(topic, req.recallHandle, peerHost(caller.peer));
  return { status: OK, messageId };
}
