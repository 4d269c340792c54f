// Offsets. QUERY_CONSUMER_OFFSET (14): header consumerGroup, topic, queueId, optional setZeroIfNotFound → header
// offset, or QUERY_NOT_FOUND (22) (see Broker.queryConsumerOffset).
// UPDATE_CONSUMER_OFFSET (15): header consumerGroup, topic, queueId, commitOffset (negative = none; ignored).
// GET_MAX_OFFSET (30) / GET_MIN_OFFSET (31): header topic, queueId → offset. SEARCH_OFFSET_BY_TIMESTAMP (29):
// header topic, queueId, timestamp → offset. GET_EARLIEST_MSG_STORETIME (32): topic, queueId → timestamp.
import type { Broker } from "../../../broker/broker.js";
import type { RemotingCommand } from "../command.js";
import { createResponse } from "../command.js";
import { ResponseCode } from "../response-code.js";
import { fields, optInt, optStr, reqInt, reqStr } from "./ext-fields.js";

export function handleQueryConsumerOffset(broker: Broker, req: RemotingCommand): RemotingCommand {
  const h = req.extFields;
  const off = broker.queryConsumerOffset(
    reqStr(h, "consumerGroup"),
    reqStr(h, "topic"),
    reqInt(h, "queueId"),
    optStr(h, "setZeroIfNotFound") !== "false",
  );
  return createResponse(req, ResponseCode.SUCCESS, undefined, fields({ offset: off }));
}

export function handleUpdateConsumerOffset(broker: Broker, req: RemotingCommand): RemotingCommand {
  const h = req.extFields;
  const off = optInt(h, "commitOffset") ?? -1;
  broker.updateConsumerOffset(reqStr(h, "consumerGroup"), reqStr(h, "topic"), reqInt(h, "queueId"), off);
  return createResponse(req, ResponseCode.SUCCESS);
}

export function handleGetMaxOffset(broker: Broker, req: RemotingCommand): RemotingCommand {
  const h = req.extFields;
  return createResponse(
    req,
    ResponseCode.SUCCESS,
    undefined,
    fields({ offset: broker.getMaxOffset(reqStr(h, "topic"), reqInt(h, "queueId")) }),
  );
}

export function handleGetMinOffset(broker: Broker, req: RemotingCommand): RemotingCommand {
  const h = req.extFields;
  return createResponse(
    req,
    ResponseCode.SUCCESS,
    undefined,
    fields({ offset: broker.getMinOffset(reqStr(h, "topic"), reqInt(h, "queueId")) }),
  );
}

export function handleSearchOffsetByTimestamp(broker: Broker, req: RemotingCommand): RemotingCommand {
  const h = req.extFields;
  const off = broker.searchOffsetByTimestamp(
    reqStr(h, "topic"),
    reqInt(h, "queueId"),
    reqInt(h, "timestamp"),
  );
  return createResponse(req, ResponseCode.SUCCESS, undefined, fields({ offset: off }));
}

export function handleEarliestMsgStoreTime(broker: Broker, req: RemotingCommand): RemotingCommand {
  const h = req.extFields;
  const t = broker.earliestMsgStoreTime(reqStr(h, "topic"), reqInt(h, "queueId"));
  return createResponse(req, ResponseCode.SUCCESS, undefined, fields({ timestamp: t }));
}
