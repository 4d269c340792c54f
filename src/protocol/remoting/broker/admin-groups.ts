// Subscription groups, producers and who consumes what, for admin tools.
// UPDATE_AND_CREATE_SUBSCRIPTIONGROUP (200): body SubscriptionGroupConfig JSON. DELETE_SUBSCRIPTIONGROUP (207):
// header groupName, cleanOffset. GET_SUBSCRIPTIONGROUP_CONFIG (352): header group → SubscriptionGroupConfig.
// QUERY_TOPIC_CONSUME_BY_WHO (300): header topic → GroupList {"groupList":[...]}. QUERY_TOPICS_BY_CONSUMER (343):
// header group → TopicList {"topicList":[...],"brokerAddr":...}. GET_PRODUCER_CONNECTION_LIST (204): header
// producerGroup → ProducerConnection {"connectionSet":[...]}. GET_TOPIC_CONFIG (351): header topic → TopicConfig
// (what TopicConfigAndQueueMapping decodes to when the topic has no static mapping).
import type { Broker } from "../../../broker/broker.js";
import { groupConfig } from "../../../broker/group-manager.js";
import type { GroupConfig } from "../../../broker/group-manager.js";
import { deleteGroup } from "../../../broker/ops/group-admin.js";
import { consumersOfTopic } from "../../../broker/ops/group-info.js";
import { BrokerError, isBrokerError } from "../../../common/errors.js";
import type { RemotingCommand } from "../command.js";
import { createResponse } from "../command.js";
import { ResponseCode } from "../response-code.js";
import { connectionJson, jsonObjectBody, jsonResponse } from "./admin-codec.js";
import { optBool, reqStr } from "./ext-fields.js";

const refuse = (code: number, remark: string): Error =>
  Object.assign(new BrokerError("BAD_REQUEST", remark), { remotingCode: code });

const BOOLEAN_FIELDS = ["consumeEnable", "consumeBroadcastEnable", "consumeMessageOrderly"] as const;
const INT_FIELDS = ["retryQueueNums", "retryMaxTimes", "brokerId", "whichBrokerWhenConsumeSlowly"] as const;

/** The settings of a SubscriptionGroupConfig we keep; the rest (retry policy, attributes...) are not ours. */
function groupFromJson(j: Record<string, unknown>, defaultRetryMaxTimes: number): GroupConfig {
  const name = j["groupName"];
  if (typeof name !== "string" || name === "")
    throw new BrokerError("BAD_REQUEST", "the SubscriptionGroupConfig has no groupName");
  const g = groupConfig(name, defaultRetryMaxTimes);
  for (const k of BOOLEAN_FIELDS) {
    const v = j[k];
    if (v === undefined || v === null) continue;
    if (typeof v !== "boolean") throw new BrokerError("BAD_REQUEST", `${k} must be true or false`);
    g[k] = v;
  }
  for (const k of INT_FIELDS) {
    const v = j[k];
    if (v === undefined || v === null) continue;
    if (typeof v !== "number" || !Number.isInteger(v) || v < 0)
      throw new BrokerError("BAD_REQUEST", `${k} must be a non-negative integer`);
    g[k] = v;
  }
  return g;
}

export function handleUpdateGroup(broker: Broker, req: RemotingCommand): RemotingCommand {
  const g = groupFromJson(jsonObjectBody(req, "SubscriptionGroupConfig"), broker.config.maxReconsumeTimes);
  try {
    broker.groups.createOrUpdate(g);
  } catch (e) {
    // RocketMQ answers a name its validator refuses with INVALID_PARAMETER.
    if (isBrokerError(e, "ILLEGAL_GROUP")) throw refuse(ResponseCode.INVALID_PARAMETER, e.message);
    throw e;
  }
  return createResponse(req, ResponseCode.SUCCESS);
}

export function handleDeleteGroup(broker: Broker, req: RemotingCommand): RemotingCommand {
  deleteGroup(broker, reqStr(req.extFields, "groupName"), optBool(req.extFields, "cleanOffset"));
  return createResponse(req, ResponseCode.SUCCESS);
}

export function handleGetGroupConfig(broker: Broker, req: RemotingCommand): RemotingCommand {
  const g = broker.groups.get(reqStr(req.extFields, "group"));
  if (!g) throw refuse(ResponseCode.SUBSCRIPTION_GROUP_NOT_EXIST, "No group in this broker");
  return jsonResponse(req, g);
}

export function handleTopicConsumeByWho(broker: Broker, req: RemotingCommand): RemotingCommand {
  return jsonResponse(req, { groupList: consumersOfTopic(broker, reqStr(req.extFields, "topic")) });
}

export function handleTopicsByConsumer(broker: Broker, req: RemotingCommand): RemotingCommand {
  const group = reqStr(req.extFields, "group");
  // RocketMQ answers from the offset table alone: topics the group has committed offsets on.
  return jsonResponse(req, {
    topicList: broker.offsets.topicsOfGroup(group).sort(),
    brokerAddr: broker.address,
  });
}

export function handleProducerConnectionList(broker: Broker, req: RemotingCommand): RemotingCommand {
  const group = reqStr(req.extFields, "producerGroup");
  const producers = broker.clients.producers.get(group);
  if (!producers) throw refuse(ResponseCode.SYSTEM_ERROR, `the producer group[${group}] not exist`);
  return jsonResponse(req, { connectionSet: [...producers.values()].map(connectionJson) });
}

export function handleGetTopicConfig(broker: Broker, req: RemotingCommand): RemotingCommand {
  const topic = reqStr(req.extFields, "topic");
  const tc = broker.topics.get(topic);
  if (!tc) throw refuse(ResponseCode.TOPIC_NOT_EXIST, `No topic in this broker. topic: ${topic}`);
  return jsonResponse(req, tc);
}
