// GET_BROKER_CLUSTER_INFO (106), admin/client → NameServer: every broker group and cluster.
//   request            no ext fields, no body
//   response           SUCCESS with a ClusterInfo JSON body
//                      {"brokerAddrTable":{name:BrokerData},"clusterAddrTable":{cluster:[name]}}
//                      (Java writes brokerAddrs keys unquoted here; we write standard JSON)

import type { RemotingCommand } from "../command.js";
import { encodeClusterInfo } from "./body-codec.js";
import type { NamesrvHandlerContext } from "./header.js";
import { success } from "./header.js";

export function getBrokerClusterInfo(ctx: NamesrvHandlerContext, req: RemotingCommand): RemotingCommand {
  return success(req, {}, encodeClusterInfo(ctx.registry.getClusterInfo()));
}
