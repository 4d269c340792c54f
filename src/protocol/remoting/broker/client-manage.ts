// HEART_BEAT (34): body JSON {clientID, producerDataSet:[{groupName}], consumerDataSet:[{groupName, consumeType,
// messageModel, consumeFromWhere, subscriptionDataSet:[{topic, subString, expressionType, tagsSet, codeSet,
// subVersion}], unitMode}]}. UNREGISTER_CLIENT (35): header clientID, producerGroup?, consumerGroup?.
// GET_CONSUMER_LIST_BY_GROUP (38): header consumerGroup; body {"consumerIdList":[...]}.
import type { Broker, HeartbeatData } from "../../../broker/broker.js";
import type { MessageModel } from "../../../broker/client-manager.js";
import { buildSubscription } from "../../../broker/subscription.js";
import { BrokerError } from "../../../common/errors.js";
import type { RemotingCommand } from "../command.js";
import { createResponse } from "../command.js";
import type { RemotingConnection } from "../connection.js";
import { ResponseCode } from "../response-code.js";
import { channelOf } from "./client-channel.js";
import { optStr, reqStr } from "./ext-fields.js";
import { jsonResponse } from "./admin-codec.js";

interface WireSubscription {
  topic?: string;
  subString?: string;
  expressionType?: string;
}

interface WireHeartbeat {
  clientID?: string;
  producerDataSet?: { groupName?: string }[];
  consumerDataSet?: {
    groupName?: string;
    consumeType?: string;
    messageModel?: string;
    consumeFromWhere?: string;
    subscriptionDataSet?: WireSubscription[];
  }[];
}

export function parseHeartbeat(body: Buffer | undefined, language: string, version: number): HeartbeatData {
  let hb: WireHeartbeat;
  try {
    hb = JSON.parse((body ?? Buffer.alloc(0)).toString("utf8")) as WireHeartbeat;
  } catch (e) {
    throw new BrokerError("BAD_REQUEST", `heartbeat body is not JSON: ${(e as Error).message}`);
  }
  if (typeof hb !== "object" || hb === null || typeof hb.clientID !== "string" || hb.clientID === "") {
    throw new BrokerError("BAD_REQUEST", "heartbeat has no clientID");
  }
  return {
    clientId: hb.clientID,
    language,
    version,
    producerGroups: (hb.producerDataSet ?? []).map((p) => p.groupName).filter((g): g is string => !!g),
    consumers: (hb.consumerDataSet ?? [])
      .filter((c) => !!c.groupName)
      .map((c) => ({
        groupName: c.groupName!,
        consumeType: c.consumeType ?? "CONSUME_PASSIVELY",
        messageModel: (c.messageModel === "BROADCASTING" ? "BROADCASTING" : "CLUSTERING") as MessageModel,
        consumeFromWhere: c.consumeFromWhere ?? "CONSUME_FROM_LAST_OFFSET",
        subscriptions: (c.subscriptionDataSet ?? [])
          .filter((s) => !!s.topic)
          .map((s) => buildSubscription(s.topic!, s.subString, s.expressionType)),
      })),
  };
}

export function handleHeartbeat(
  broker: Broker,
  req: RemotingCommand,
  conn: RemotingConnection,
): RemotingCommand {
  broker.heartbeat(channelOf(conn), parseHeartbeat(req.body, req.language, req.version));
  return createResponse(req, ResponseCode.SUCCESS);
}

export function handleUnregisterClient(broker: Broker, req: RemotingCommand): RemotingCommand {
  const h = req.extFields;
  broker.unregisterClient(reqStr(h, "clientID"), optStr(h, "producerGroup"), optStr(h, "consumerGroup"));
  return createResponse(req, ResponseCode.SUCCESS);
}

export function handleGetConsumerList(broker: Broker, req: RemotingCommand): RemotingCommand {
  const ids = broker.consumerIds(reqStr(req.extFields, "consumerGroup"));
  return jsonResponse(req, { consumerIdList: ids });
}
