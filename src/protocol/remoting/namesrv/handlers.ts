// Wires the NameServer request handlers onto a RemotingServer. Each handler module documents its own wire
// layout; codes not listed here get REQUEST_CODE_NOT_SUPPORTED from the dispatcher, as in Java.

import type { RemotingCommand } from "../command.js";
import type { RemotingConnection } from "../connection.js";
import { RequestCode } from "../request-code.js";
import type { RemotingServer } from "../server.js";
import { brokerHeartbeat, queryDataVersion } from "./broker-keepalive.js";
import { addWritePermOfBroker, wipeWritePermOfBroker } from "./broker-perm.js";
import { getBrokerClusterInfo } from "./cluster-info.js";
import type { NamesrvHandlerContext } from "./header.js";
import { guarded } from "./header.js";
import { deleteKvConfig, getKvConfig, getKvListByNamespace, putKvConfig } from "./kv-config.js";
import { getNamesrvConfig, updateNamesrvConfig } from "./namesrv-settings.js";
import { registerBroker } from "./register-broker.js";
import { getRouteInfoByTopic } from "./route-info.js";
import {
  deleteTopicInNamesrv,
  getAllTopicList,
  getHasUnitSubTopicList,
  getHasUnitSubUnUnitTopicList,
  getSystemTopicList,
  getTopicsByCluster,
  getUnitTopicList,
  registerTopicInNamesrv,
} from "./topic-admin.js";
import { unregisterBroker } from "./unregister-broker.js";

type Handler = (
  ctx: NamesrvHandlerContext,
  req: RemotingCommand,
  conn: RemotingConnection,
) => RemotingCommand;

const HANDLERS: ReadonlyArray<readonly [number, Handler]> = [
  [RequestCode.PUT_KV_CONFIG, putKvConfig],
  [RequestCode.GET_KV_CONFIG, getKvConfig],
  [RequestCode.DELETE_KV_CONFIG, deleteKvConfig],
  [RequestCode.GET_KVLIST_BY_NAMESPACE, getKvListByNamespace],
  [RequestCode.REGISTER_BROKER, registerBroker],
  [RequestCode.UNREGISTER_BROKER, unregisterBroker],
  [RequestCode.BROKER_HEARTBEAT, brokerHeartbeat],
  [RequestCode.QUERY_DATA_VERSION, queryDataVersion],
  [RequestCode.GET_ROUTEINFO_BY_TOPIC, getRouteInfoByTopic],
  [RequestCode.GET_BROKER_CLUSTER_INFO, getBrokerClusterInfo],
  [RequestCode.GET_ALL_TOPIC_LIST_FROM_NAMESERVER, getAllTopicList],
  [RequestCode.GET_TOPICS_BY_CLUSTER, getTopicsByCluster],
  [RequestCode.DELETE_TOPIC_IN_NAMESRV, deleteTopicInNamesrv],
  [RequestCode.REGISTER_TOPIC_IN_NAMESRV, registerTopicInNamesrv],
  [RequestCode.GET_SYSTEM_TOPIC_LIST_FROM_NS, getSystemTopicList],
  [RequestCode.GET_UNIT_TOPIC_LIST, getUnitTopicList],
  [RequestCode.GET_HAS_UNIT_SUB_TOPIC_LIST, getHasUnitSubTopicList],
  [RequestCode.GET_HAS_UNIT_SUB_UNUNIT_TOPIC_LIST, getHasUnitSubUnUnitTopicList],
  [RequestCode.WIPE_WRITE_PERM_OF_BROKER, wipeWritePermOfBroker],
  [RequestCode.ADD_WRITE_PERM_OF_BROKER, addWritePermOfBroker],
  [RequestCode.GET_NAMESRV_CONFIG, getNamesrvConfig],
  [RequestCode.UPDATE_NAMESRV_CONFIG, updateNamesrvConfig],
];

/** The request codes registerNamesrvHandlers serves. */
export const NAMESRV_REQUEST_CODES: readonly number[] = HANDLERS.map(([code]) => code);

export function registerNamesrvHandlers(server: RemotingServer, ctx: NamesrvHandlerContext): void {
  for (const [code, handler] of HANDLERS) {
    server.registerHandler(
      code,
      guarded(ctx.logger, (req, conn) => handler(ctx, req, conn)),
    );
  }
}
