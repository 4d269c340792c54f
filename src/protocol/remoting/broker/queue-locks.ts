// LOCK_BATCH_MQ (41) and UNLOCK_BATCH_MQ (42). Body JSON {consumerGroup, clientId, onlyThisBroker,
// mqSet:[{topic, brokerName, queueId}]}; LOCK answers {lockOKMQSet:[...]} with the queues the client now holds.
import type { Broker } from "../../../broker/broker.js";
import type { QueueRef } from "../../../broker/queue-lock-manager.js";
import { BrokerError } from "../../../common/errors.js";
import type { RemotingCommand } from "../command.js";
import { createResponse } from "../command.js";
import { ResponseCode } from "../response-code.js";
import { jsonResponse } from "./admin-codec.js";

interface LockBody {
  consumerGroup: string;
  clientId: string;
  mqSet: QueueRef[];
}

function parseLockBody(body: Buffer | undefined): LockBody {
  let v: unknown;
  try {
    v = JSON.parse((body ?? Buffer.alloc(0)).toString("utf8"));
  } catch (e) {
    throw new BrokerError("BAD_REQUEST", `lock body is not JSON: ${(e as Error).message}`);
  }
  const o = v as Partial<LockBody> | null;
  if (
    !o ||
    typeof o.consumerGroup !== "string" ||
    typeof o.clientId !== "string" ||
    !Array.isArray(o.mqSet)
  ) {
    throw new BrokerError("BAD_REQUEST", "lock body needs consumerGroup, clientId and mqSet");
  }
  const mqSet = o.mqSet.map((q) => {
    const r = q as Partial<QueueRef>;
    if (
      typeof r.topic !== "string" ||
      typeof r.brokerName !== "string" ||
      !Number.isInteger(Number(r.queueId))
    ) {
      throw new BrokerError("BAD_REQUEST", "each queue needs topic, brokerName and queueId");
    }
    return { topic: r.topic, brokerName: r.brokerName, queueId: Number(r.queueId) };
  });
  return { consumerGroup: o.consumerGroup, clientId: o.clientId, mqSet };
}

export function handleLockBatch(broker: Broker, req: RemotingCommand): RemotingCommand {
  const b = parseLockBody(req.body);
  const held = broker.locks.tryLock(b.consumerGroup, b.clientId, b.mqSet);
  return jsonResponse(req, { lockOKMQSet: held });
}

export function handleUnlockBatch(broker: Broker, req: RemotingCommand): RemotingCommand {
  const b = parseLockBody(req.body);
  broker.locks.unlock(b.consumerGroup, b.clientId, b.mqSet);
  return createResponse(req, ResponseCode.SUCCESS);
}
