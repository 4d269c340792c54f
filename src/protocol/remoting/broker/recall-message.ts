// RECALL_MESSAGE (370, RocketMQ 5.3): header producerGroup, topic, recallHandle (from the SEND_MESSAGE response
// header of a timed message). Cancels the message before it is due; the response header's msgId names it.
// A bad, foreign or late handle gets ILLEGAL_OPERATION (604) with the reason in the remark.
import type { Broker } from "../../../broker/broker.js";
import type { RemotingCommand } from "../command.js";
import { createResponse } from "../command.js";
import { ResponseCode } from "../response-code.js";
import { reqStr } from "./ext-fields.js";

export async function handleRecallMessage(broker: Broker, req: RemotingCommand): Promise<RemotingCommand> {
  const h = req.extFields;
  const msgId = await broker.recallMessage(reqStr(h, "topic"), reqStr(h, "recallHandle"));
  return createResponse(req, ResponseCode.SUCCESS, undefined, { msgId });
}
