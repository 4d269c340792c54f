// SendMessage: each Message is stored through Broker.sendMessage (one entry per message, in order). The entry
// echoes the client's message_id (its SendReceipt shows what the server returns); a transactional message's
// entry carries the transaction id EndTransaction and check-backs use. The sender's telemetry session is
// registered as a producer of the topic, so transaction checks can reach it.
import type { GrpcContext, Caller } from "./context.js";
import { peerHost } from "./context.js";
import { decodeSendMessage } from "./message-codec.js";
import { acceptedTypes } from "./route.js";
import type { SendResult } from "../../broker/broker.js";
import { Code, OK, badRequest, combinedStatus, statusOf } from "./status.js";
import { encodeTransactionId } from "./transaction-ids.js";
import type { SendMessageRequest, SendResultEntry, Status } from "./wire-types.js";

const MAX_MESSAGES_PER_REQUEST = 1024;

export async function sendMessage(
  ctx: GrpcContext,
  req: SendMessageRequest,
  caller: Caller,
): Promise<{ status: Status; entries: SendResultEntry[] }> {
  const messages = req.messages ?? [];
  if (messages.length === 0) throw badRequest("messages is empty");
  if (messages.length > MAX_MESSAGES_PER_REQUEST)
    throw badRequest(`at most ${MAX_MESSAGES_PER_REQUEST} messages per request`);
  const born = peerHost(caller.peer);
  const session = ctx.sessions.get(caller.clientId);
  // Decoding is synchronous and sendMessage appends before its first await: the messages keep their order.
  const entries = await Promise.all(
    messages.map(async (m): Promise<SendResultEntry> => {
      let messageId = m.systemProperties?.messageId;
      try {
        const d = decodeSendMessage(m, born);
        messageId = d.messageId;
        // The client checks the type against its route, which may be older than the topic's last update.
        const tc = ctx.broker.topics.get(d.request.topic);
        if (tc !== undefined && !acceptedTypes(tc).includes(d.type))
          throw badRequest(
            `topic ${tc.topicName} takes ${acceptedTypes(tc).join(", ")} messages, not ${d.type}`,
            Code.MESSAGE_PROPERTY_CONFLICT_WITH_TYPE,
          );
        session?.addProducerTopic(d.request.topic);
        const r = await ctx.broker.sendMessage(d.request);
        const entry: SendResultEntry = {
          status: slaveStatus(r.slaveStatus),
          messageId,
          offset: r.queueOffset,
        };
        if (r.transactionId !== undefined)
          entry.transactionId = encodeTransactionId({
            halfQueueOffset: r.queueOffset,
            commitLogOffset: r.phyOffset,
          });
        if (r.recallHandle !== undefined) entry.recallHandle = r.recallHandle;
        return entry;
      } catch (e) {
        return { status: statusOf(e), ...(messageId ? { messageId } : {}) };
      }
    }),
  );
  const status = combinedStatus(
    entries.map((e) => e.status),
    "messages",
  );
  return { status, entries };
}

/**
 * A SYNC_MASTER's send that no slave confirmed: stored, but reported as the RocketMQ 5 proxy does, with the codes
 * the clients know for it (their retry may then store it twice, as with the proxy).
 */
function slaveStatus(s: SendResult["slaveStatus"]): Status {
  if (s === "FLUSH_SLAVE_TIMEOUT") {
    return {
      code: Code.SLAVE_PERSISTENCE_TIMEOUT,
      message: "stored on the master; its slave did not confirm in time",
    };
  }
  if (s === "SLAVE_NOT_AVAILABLE") {
    return { code: Code.HA_NOT_AVAILABLE, message: "stored on the master; no slave in reach" };
  }
  return OK;
}
