// Admin work on consumer offsets. INVOKE_BROKER_TO_RESET_OFFSET (222): header topic, group, timestamp, isForce,
// and from RocketMQ 5 queueId (-1: all) and offset (-1: by time) → ResetOffsetBody; the group's online consumers
// get RESET_CONSUMER_CLIENT_OFFSET (client-channel.ts). CLONE_GROUP_OFFSET (314): header srcGroup, destGroup,
// topic?, offline. QUERY_CONSUME_TIME_SPAN (303): header topic, group → QueryConsumeTimeSpanBody
// {"consumeTimeSpanSet":[{messageQueue, minTimeStamp, maxTimeStamp, consumeTimeStamp, delayTime}]}.
import type { Broker } from "../../../broker/broker.js";
import { cloneGroupOffsets, consumeTimeSpans, resetGroupOffsets } from "../../../broker/ops/offset-admin.js";
import { BrokerError } from "../../../common/errors.js";
import type { RemotingCommand } from "../command.js";
import { createResponse } from "../command.js";
import { ResponseCode } from "../response-code.js";
import { badRequestAs, jsonResponse } from "./admin-codec.js";
import { optBool, optInt, optStr, reqInt, reqStr } from "./ext-fields.js";
import { resetOffsetBody } from "./fastjson.js";

function groupKnown(broker: Broker, group: string): boolean {
  return (
    broker.groups.get(group) !== undefined ||
    broker.clients.consumers.has(group) ||
    broker.offsets.topicsOfGroup(group).length > 0
  );
}

export function handleResetOffset(broker: Broker, req: RemotingCommand): RemotingCommand {
  const h = req.extFields;
  const topic = reqStr(h, "topic");
  const group = reqStr(h, "group");
  const timestamp = reqInt(h, "timestamp");
  const queueId = optInt(h, "queueId") ?? -1;
  const offset = optInt(h, "offset") ?? -1;
  if (!groupKnown(broker, group))
    throw new BrokerError("SUBSCRIPTION_GROUP_NOT_EXIST", `Group ${group} does not exist`);
  // RocketMQ refuses a reset on a slave, of a queue out of range, or of a group with no offsets on the broker (a
  // BROADCASTING one) with SYSTEM_ERROR and a remark.
  const offsets = badRequestAs(ResponseCode.SYSTEM_ERROR, () =>
    resetGroupOffsets(broker, {
      group,
      topic,
      timestamp,
      force: optBool(h, "isForce"),
      ...(queueId >= 0 ? { queueId } : {}),
      ...(queueId >= 0 && offset !== -1 ? { offset } : {}),
    }),
  );
  const body = resetOffsetBody(broker.config.brokerName, topic, offsets);
  return createResponse(req, ResponseCode.SUCCESS, undefined, {}, body);
}

export function handleCloneGroupOffset(broker: Broker, req: RemotingCommand): RemotingCommand {
  const h = req.extFields;
  cloneGroupOffsets(
    broker,
    reqStr(h, "srcGroup"),
    reqStr(h, "destGroup"),
    optStr(h, "topic") || undefined,
    optBool(h, "offline"),
  );
  return createResponse(req, ResponseCode.SUCCESS);
}

export function handleConsumeTimeSpan(broker: Broker, req: RemotingCommand): RemotingCommand {
  const topic = reqStr(req.extFields, "topic");
  const group = reqStr(req.extFields, "group");
  const brokerName = broker.config.brokerName;
  const consumeTimeSpanSet = consumeTimeSpans(broker, group, topic).map(({ queueId, ...span }) => ({
    messageQueue: { topic, brokerName, queueId },
    ...span,
  }));
  return jsonResponse(req, { consumeTimeSpanSet });
}
