// Topic administration on the NameServer (mqadmin, dashboard, brokers deleting a topic).
//
// GET_ALL_TOPIC_LIST_FROM_NAMESERVER (206): no header → SUCCESS, body TopicList {"topicList":[...]};
//   SYSTEM_ERROR "disable" when topic listing is turned off.
// GET_TOPICS_BY_CLUSTER (224): extFields cluster → SUCCESS, body TopicList of that cluster's topics.
// DELETE_TOPIC_IN_NAMESRV (216): extFields topic, clusterName? (only that cluster's queues) → SUCCESS.
// REGISTER_TOPIC_IN_NAMESRV (217): extFields topic; body TopicRouteData whose queueDatas are set for the
//   topic on already registered broker groups → SUCCESS (Java ignores a route naming unknown groups, too).
// GET_SYSTEM_TOPIC_LIST_FROM_NS (304): no header → TopicList of cluster and broker names, brokerAddr of one broker.
// GET_UNIT_TOPIC_LIST (311), GET_HAS_UNIT_SUB_TOPIC_LIST (312), GET_HAS_UNIT_SUB_UNUNIT_TOPIC_LIST (313): no
//   header → TopicList of the topics with those TopicSysFlag bits; SYSTEM_ERROR "disable" as 224.

import type { RemotingCommand } from "../command.js";
import { createResponse } from "../command.js";
import { ResponseCode } from "../response-code.js";
import { decodeTopicRouteData, encodeTopicList } from "./body-codec.js";
import type { NamesrvHandlerContext } from "./header.js";
import { optionalString, requiredString, success } from "./header.js";

/** TopicSysFlag bits. */
const FLAG_UNIT = 1;
const FLAG_UNIT_SUB = 2;

function disabled(req: RemotingCommand): RemotingCommand {
  return createResponse(req, ResponseCode.SYSTEM_ERROR, "disable");
}

export function getAllTopicList(ctx: NamesrvHandlerContext, req: RemotingCommand): RemotingCommand {
  if (!ctx.enableAllTopicList) return disabled(req);
  return success(req, {}, encodeTopicList({ topicList: ctx.registry.getAllTopicList() }));
}

export function getTopicsByCluster(ctx: NamesrvHandlerContext, req: RemotingCommand): RemotingCommand {
  if (!ctx.enableTopicList) return disabled(req);
  const cluster = requiredString(req, "cluster");
  return success(req, {}, encodeTopicList({ topicList: ctx.registry.getTopicsByCluster(cluster) }));
}

export function deleteTopicInNamesrv(ctx: NamesrvHandlerContext, req: RemotingCommand): RemotingCommand {
  const topic = requiredString(req, "topic");
  const clusterName = optionalString(req, "clusterName");
  const removed = ctx.registry.deleteTopic(topic, clusterName);
  ctx.logger.info({ topic, clusterName, removed }, "topic deleted from namesrv");
  return success(req);
}

export function registerTopicInNamesrv(ctx: NamesrvHandlerContext, req: RemotingCommand): RemotingCommand {
  const topic = requiredString(req, "topic");
  if (req.body !== undefined && req.body.length > 0) {
    const route = decodeTopicRouteData(req.body);
    if (!ctx.registry.registerTopic(topic, route.queueDatas) && route.queueDatas.length > 0) {
      ctx.logger.warn({ topic }, "register topic names an unknown broker group; ignored");
    }
  }
  return success(req);
}

export function getSystemTopicList(ctx: NamesrvHandlerContext, req: RemotingCommand): RemotingCommand {
  return success(req, {}, encodeTopicList(ctx.registry.getSystemTopicList()));
}

function sysFlagTopicList(test: (flag: number) => boolean) {
  return (ctx: NamesrvHandlerContext, req: RemotingCommand): RemotingCommand => {
    if (!ctx.enableTopicList) return disabled(req);
    return success(req, {}, encodeTopicList({ topicList: ctx.registry.getTopicsBySysFlag(test) }));
  };
}

export const getUnitTopicList = sysFlagTopicList((f) => (f & FLAG_UNIT) !== 0);
export const getHasUnitSubTopicList = sysFlagTopicList((f) => (f & FLAG_UNIT_SUB) !== 0);
export const getHasUnitSubUnUnitTopicList = sysFlagTopicList(
  (f) => (f & FLAG_UNIT) === 0 && (f & FLAG_UNIT_SUB) !== 0,
);
