// Administration over remoting, in the JSON shapes RocketMQ's admin tools read (maps keyed by MessageQueue in
// fastjson's form, see fastjson.ts). More admin codes: admin-runtime.ts, admin-groups.ts, admin-offsets.ts.
// UPDATE_AND_CREATE_TOPIC (17): header topic, readQueueNums, writeQueueNums, perm, topicFilterType, topicSysFlag,
// order, attributes ("+message.type=FIFO,-key"). DELETE_TOPIC_IN_BROKER (215): header topic. GET_ALL_TOPIC_CONFIG (21): body {topicConfigTable,
// dataVersion}. GET_TOPIC_STATS_INFO (202): header topic → {offsetTable}. GET_CONSUME_STATS (208): header
// consumerGroup, topic? → {offsetTable, consumeTps}. GET_CONSUMER_CONNECTION_LIST (203): header consumerGroup.
import type { Broker } from "../../../broker/broker.js";
import { BrokerError } from "../../../common/errors.js";
import { Perm, topicConfig } from "../../../common/topic.js";
import { applyTopicAttributes } from "../../../common/topic-attributes.js";
import type { RemotingCommand } from "../command.js";
import { createResponse } from "../command.js";
import { ResponseCode } from "../response-code.js";
import { optBool, optInt, optStr, reqStr } from "./ext-fields.js";
import { fastjsonMap, mqKey } from "./fastjson.js";
import { connectionJson } from "./admin-codec.js";
import { jsonResponse } from "./admin-codec.js";

export function handleCreateTopic(broker: Broker, req: RemotingCommand): RemotingCommand {
  const h = req.extFields;
  const name = reqStr(h, "topic");
  const queues = broker.config.defaultTopicQueueNums;
  const tc = topicConfig(name, optInt(h, "writeQueueNums") ?? queues, optInt(h, "perm") ?? Perm.READ_WRITE);
  tc.readQueueNums = optInt(h, "readQueueNums") ?? tc.writeQueueNums;
  tc.topicSysFlag = optInt(h, "topicSysFlag") ?? 0;
  tc.order = optBool(h, "order");
  tc.topicFilterType = optStr(h, "topicFilterType") === "MULTI_TAG" ? "MULTI_TAG" : "SINGLE_TAG";
  // An update keeps the attributes it does not change (`-a +message.type=FIFO` in mqadmin).
  const existing = broker.topics.get(name)?.attributes ?? {};
  const attributes = optStr(h, "attributes");
  tc.attributes = attributes ? applyTopicAttributes(existing, attributes) : { ...existing };
  broker.createTopic(tc);
  return createResponse(req, ResponseCode.SUCCESS);
}

export function handleDeleteTopic(broker: Broker, req: RemotingCommand): RemotingCommand {
  broker.deleteTopic(reqStr(req.extFields, "topic"));
  return createResponse(req, ResponseCode.SUCCESS);
}

export function handleGetAllTopicConfig(broker: Broker, req: RemotingCommand): RemotingCommand {
  const body = {
    topicConfigTable: Object.fromEntries(broker.topics.all().map((t) => [t.topicName, t])),
    dataVersion: broker.topics.dataVersion,
  };
  return jsonResponse(req, body);
}

/** GET_ALL_CONSUMER_OFFSET (43): {offsetTable: {"topic@group": {queueId: offset}}}, what a slave copies. */
export function handleGetAllConsumerOffset(broker: Broker, req: RemotingCommand): RemotingCommand {
  return jsonResponse(req, { offsetTable: broker.offsets.snapshot() });
}

/** GET_ALL_SUBSCRIPTIONGROUP_CONFIG (201): {subscriptionGroupTable: {group: config}, dataVersion}. */
export function handleGetAllSubscriptionGroups(broker: Broker, req: RemotingCommand): RemotingCommand {
  const body = {
    subscriptionGroupTable: Object.fromEntries(broker.groups.all().map((g) => [g.groupName, g])),
    dataVersion: broker.topics.dataVersion,
  };
  return jsonResponse(req, body);
}

export function handleTopicStats(broker: Broker, req: RemotingCommand): RemotingCommand {
  const topic = reqStr(req.extFields, "topic");
  const stats = broker.topicStats(topic);
  const entries: [string, unknown][] = stats.map((s) => [
    mqKey(broker.config.brokerName, topic, s.queueId),
    { minOffset: s.minOffset, maxOffset: s.maxOffset, lastUpdateTimestamp: s.lastUpdateTimestamp },
  ]);
  const body = `{"offsetTable":${fastjsonMap(entries)}}`;
  return createResponse(req, ResponseCode.SUCCESS, undefined, {}, Buffer.from(body));
}

export function handleConsumeStats(broker: Broker, req: RemotingCommand): RemotingCommand {
  const h = req.extFields;
  const stats = broker.consumeStats(reqStr(h, "consumerGroup"), optStr(h, "topic") || undefined);
  const entries: [string, unknown][] = stats.map((s) => [
    mqKey(broker.config.brokerName, s.topic, s.queueId),
    {
      brokerOffset: s.brokerOffset,
      consumerOffset: s.consumerOffset,
      pullOffset: s.pullOffset,
      lastTimestamp: s.lastTimestamp,
    },
  ]);
  const tps = broker.stats.consumeTps.get(reqStr(h, "consumerGroup")) ?? 0;
  const body = `{"consumeTps":${tps},"offsetTable":${fastjsonMap(entries)}}`;
  return createResponse(req, ResponseCode.SUCCESS, undefined, {}, Buffer.from(body));
}

export function handleConsumerConnectionList(broker: Broker, req: RemotingCommand): RemotingCommand {
  const group = reqStr(req.extFields, "consumerGroup");
  const g = broker.clients.consumers.get(group);
  if (!g)
    throw Object.assign(
      new BrokerError("SUBSCRIPTION_GROUP_NOT_EXIST", `the consumer group ${group} is not online`),
      { remotingCode: ResponseCode.CONSUMER_NOT_ONLINE },
    );
  const body = {
    connectionSet: [...g.clients.values()].map(connectionJson),
    subscriptionTable: Object.fromEntries(g.subscriptions),
    consumeType: g.consumeType,
    messageModel: g.messageModel,
    consumeFromWhere: g.consumeFromWhere,
  };
  return jsonResponse(req, body);
}
