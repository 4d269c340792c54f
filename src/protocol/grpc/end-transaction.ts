// EndTransaction, from the producer itself (SOURCE_CLIENT) or answering a check-back (SOURCE_SERVER_CHECK): the
// transaction id says where the half message lies, the topic names the gRPC producer group that owns it.
import type { GrpcContext } from "./context.js";
import { topicOf } from "./request-fields.js";
import { OK } from "./status.js";
import { decodeTransactionId, producerGroupOfTopic } from "./transaction-ids.js";
import type { EndTransactionRequest, Status } from "./wire-types.js";

export async function endTransaction(
  ctx: GrpcContext,
  req: EndTransactionRequest,
): Promise<{ status: Status }> {
  const topic = topicOf(req.topic);
  const at = decodeTransactionId(req.transactionId);
  const decision =
    req.resolution === "COMMIT" ? "commit" : req.resolution === "ROLLBACK" ? "rollback" : "unknown";
  await ctx.broker.endTransaction(
    producerGroupOfTopic(topic),
    at.halfQueueOffset,
    at.commitLogOffset,
    decision,
  );
  return { status: OK };
}
