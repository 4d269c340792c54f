// QUERY_MESSAGE (12): header topic, key, maxNum, beginTimestamp, endTimestamp → body: matching stored records
// concatenated, header indexLastUpdateTimestamp, indexLastUpdatePhyoffset; QUERY_NOT_FOUND (22) when none.
// VIEW_MESSAGE_BY_ID (33): header offset (commit log offset) → body: the stored record.
import type { Broker } from "../../../broker/broker.js";
import { BrokerError } from "../../../common/errors.js";
import { encodeMessageRecord } from "../../../common/message-record.js";
import type { RemotingCommand } from "../command.js";
import { createResponse } from "../command.js";
import { ResponseCode } from "../response-code.js";
import { fields, optInt, reqInt, reqStr } from "./ext-fields.js";

export function handleQueryMessage(broker: Broker, req: RemotingCommand): RemotingCommand {
  const h = req.extFields;
  const found = broker.queryMessageByKey(
    reqStr(h, "topic"),
    reqStr(h, "key"),
    optInt(h, "maxNum") ?? 32,
    optInt(h, "beginTimestamp") ?? 0,
    optInt(h, "endTimestamp") ?? Number.MAX_SAFE_INTEGER,
  );
  if (found.length === 0) throw new BrokerError("OFFSET_NOT_FOUND", "no message found for that key");
  const last = found[0]!;
  return createResponse(
    req,
    ResponseCode.SUCCESS,
    undefined,
    fields({ indexLastUpdateTimestamp: last.storeTimestamp, indexLastUpdatePhyoffset: last.physicalOffset }),
    Buffer.concat(found.map(encodeMessageRecord)),
  );
}

export function handleViewMessageById(broker: Broker, req: RemotingCommand): RemotingCommand {
  const body = broker.viewMessage(reqInt(req.extFields, "offset"));
  return createResponse(req, ResponseCode.SUCCESS, undefined, {}, Buffer.from(body));
}
