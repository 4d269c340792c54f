// END_TRANSACTION (37), usually oneway from the producer: header producerGroup, tranStateTableOffset (the half
// message's queue offset), commitLogOffset (its commit log offset), commitOrRollback (8 commit, 12 rollback,
// 0 unknown), fromTransactionCheck, msgId, transactionId.
import type { Broker } from "../../../broker/broker.js";
import { SysFlag } from "../../../common/message-record.js";
import type { RemotingCommand } from "../command.js";
import { createResponse } from "../command.js";
import { ResponseCode } from "../response-code.js";
import { optStr, reqInt } from "./ext-fields.js";

export async function handleEndTransaction(broker: Broker, req: RemotingCommand): Promise<RemotingCommand> {
  const h = req.extFields;
  const type = reqInt(h, "commitOrRollback");
  const decision =
    type === SysFlag.TRANSACTION_COMMIT
      ? "commit"
      : type === SysFlag.TRANSACTION_ROLLBACK
        ? "rollback"
        : "unknown";
  await broker.endTransaction(
    optStr(h, "producerGroup") ?? "",
    reqInt(h, "tranStateTableOffset"),
    reqInt(h, "commitLogOffset"),
    decision,
  );
  return createResponse(req, ResponseCode.SUCCESS);
}
