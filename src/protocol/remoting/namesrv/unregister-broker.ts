// UNREGISTER_BROKER (104), broker → NameServer, when a broker shuts down.
//   request extFields  clusterName, brokerAddr, brokerName, brokerId (long); no body
//   response           SUCCESS, no body (also when the broker was not registered, as in Java)

import type { RemotingCommand } from "../command.js";
import type { NamesrvHandlerContext } from "./header.js";
import { requiredLong, requiredString, success } from "./header.js";

export function unregisterBroker(ctx: NamesrvHandlerContext, req: RemotingCommand): RemotingCommand {
  const who = {
    clusterName: requiredString(req, "clusterName"),
    brokerName: requiredString(req, "brokerName"),
    brokerAddr: requiredString(req, "brokerAddr"),
    brokerId: requiredLong(req, "brokerId"),
  };
  const known = ctx.registry.unregisterBroker(who);
  ctx.logger.info({ ...who, known }, "broker unregistered");
  return success(req);
}
