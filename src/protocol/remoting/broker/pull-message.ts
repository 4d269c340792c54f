// PULL_MESSAGE (11). Request header: consumerGroup, topic, queueId, queueOffset, maxMsgNums, sysFlag (bit 0
// commit offset, bit 1 suspend, bit 2 subscription in the request, bit 3 class filter), commitOffset,
// suspendTimeoutMillis, subscription, subVersion, expressionType. Response codes: SUCCESS (0) with the stored
// records concatenated as the body, PULL_NOT_FOUND (19), PULL_RETRY_IMMEDIATELY (20), PULL_OFFSET_MOVED (21);
// every answer carries nextBeginOffset, minOffset, maxOffset and suggestWhichBrokerId.
import type { Broker, PullRequest, PullStatus } from "../../../broker/broker.js";
import type { RemotingCommand } from "../command.js";
import { createResponse } from "../command.js";
import { ResponseCode } from "../response-code.js";
import { fields, optInt, optStr, reqInt, reqStr } from "./ext-fields.js";

const FLAG_COMMIT_OFFSET = 0x1;
const FLAG_SUSPEND = 0x2;
const FLAG_SUBSCRIPTION = 0x4;

const CODE: Record<PullStatus, number> = {
  FOUND: ResponseCode.SUCCESS,
  NO_NEW_MSG: ResponseCode.PULL_NOT_FOUND,
  NO_MATCHED_MSG: ResponseCode.PULL_RETRY_IMMEDIATELY,
  OFFSET_ILLEGAL: ResponseCode.PULL_OFFSET_MOVED,
};

export async function handlePullMessage(broker: Broker, req: RemotingCommand): Promise<RemotingCommand> {
  const h = req.extFields;
  const sysFlag = optInt(h, "sysFlag") ?? 0;
  const subscription = optStr(h, "subscription");
  // Built field by field (no conditional spreads): one of these per message when consumers keep up.
  const pull: PullRequest = {
    group: reqStr(h, "consumerGroup"),
    topic: reqStr(h, "topic"),
    queueId: reqInt(h, "queueId"),
    offset: reqInt(h, "queueOffset"),
    maxMsgNums: optInt(h, "maxMsgNums") ?? 32,
    suspendTimeoutMs: sysFlag & FLAG_SUSPEND ? (optInt(h, "suspendTimeoutMillis") ?? 15_000) : 0,
  };
  if (sysFlag & FLAG_COMMIT_OFFSET) pull.commitOffset = optInt(h, "commitOffset") ?? -1;
  if (sysFlag & FLAG_SUBSCRIPTION || subscription !== undefined) {
    pull.subscription = { expression: subscription ?? "*", type: optStr(h, "expressionType") ?? "TAG" };
  }
  const r = await broker.pullMessage(pull);
  const header = fields({
    suggestWhichBrokerId: r.suggestWhichBrokerId,
    nextBeginOffset: r.nextBeginOffset,
    minOffset: r.minOffset,
    maxOffset: r.maxOffset,
  });
  const body = r.status === "FOUND" ? r.body : undefined;
  const res = createResponse(req, CODE[r.status], undefined, header, body);
  // The body's memory goes back to the store's pool once the connection is done with it.
  if (body !== undefined) res.onWritten = () => broker.releasePullBody(body);
  return res;
}
