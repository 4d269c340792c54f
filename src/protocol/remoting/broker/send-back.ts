// CONSUMER_SEND_MSG_BACK (36): header offset (commit log offset of the failed message), group, delayLevel,
// originMsgId, originTopic, unitMode, maxReconsumeTimes. The broker re-sends the message to %RETRY%group after
// the next retry delay, or to %DLQ%group once it has been retried maxReconsumeTimes times.
import type { Broker } from "../../../broker/broker.js";
import type { RemotingCommand } from "../command.js";
import { createResponse } from "../command.js";
import { ResponseCode } from "../response-code.js";
import { optInt, optStr, reqInt, reqStr } from "./ext-fields.js";

export async function handleSendBack(broker: Broker, req: RemotingCommand): Promise<RemotingCommand> {
  const h = req.extFields;
  const max = optInt(h, "maxReconsumeTimes");
  const originMsgId = optStr(h, "originMsgId");
  const originTopic = optStr(h, "originTopic");
  await broker.consumerSendMsgBack({
    group: reqStr(h, "group"),
    offset: reqInt(h, "offset"),
    delayLevel: optInt(h, "delayLevel") ?? 0,
    ...(originMsgId ? { originMsgId } : {}),
    ...(originTopic ? { originTopic } : {}),
    ...(max !== undefined ? { maxReconsumeTimes: max } : {}),
  });
  return createResponse(req, ResponseCode.SUCCESS);
}
