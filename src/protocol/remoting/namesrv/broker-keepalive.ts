// Two light broker → NameServer calls that refresh a registration without sending the topic table.
//
// BROKER_HEARTBEAT (904): 5.x brokers in acting-master mode send it every second.
//   request extFields  clusterName, brokerAddr, brokerName (+ brokerId, epoch... which we ignore); no body
//   response           SUCCESS (also for an unknown broker, as in Java)
//
// QUERY_DATA_VERSION (322): a broker with forceRegister=false asks whether its topic table changed since
// its last registration, and registers in full only then.
//   request extFields  clusterName, brokerAddr, brokerName, brokerId; body DataVersion JSON
//   response           SUCCESS; extFields changed ("true"/"false"); body: the DataVersion we hold, if any

import type { RemotingCommand } from "../command.js";
import { decodeDataVersion, encodeDataVersion } from "./body-codec.js";
import type { NamesrvHandlerContext } from "./header.js";
import { requiredString, success } from "./header.js";

export function brokerHeartbeat(ctx: NamesrvHandlerContext, req: RemotingCommand): RemotingCommand {
  ctx.registry.touchBroker(requiredString(req, "clusterName"), requiredString(req, "brokerAddr"));
  return success(req);
}

export function queryDataVersion(ctx: NamesrvHandlerContext, req: RemotingCommand): RemotingCommand {
  const clusterName = requiredString(req, "clusterName");
  const brokerAddr = requiredString(req, "brokerAddr");
  const dataVersion = decodeDataVersion(req.body);
  const changed = ctx.registry.isBrokerTopicConfigChanged(clusterName, brokerAddr, dataVersion);
  ctx.registry.touchBroker(clusterName, brokerAddr);
  const held = ctx.registry.brokerDataVersion(clusterName, brokerAddr);
  return success(req, { changed: String(changed) }, held === undefined ? undefined : encodeDataVersion(held));
}
