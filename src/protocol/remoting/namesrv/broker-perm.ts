// Draining a broker group (mqadmin wipeWritePerm / addWritePerm):
// WIPE_WRITE_PERM_OF_BROKER (205): extFields brokerName → SUCCESS, extFields wipeTopicCount.
// ADD_WRITE_PERM_OF_BROKER (327): extFields brokerName → SUCCESS, extFields addTopicCount.
// Only this NameServer's routes change (mqadmin sends the request to each NameServer); they hold until the
// broker's topic table changes, as in RocketMQ (see RouteRegistry.registerBroker).

import type { RemotingCommand } from "../command.js";
import type { NamesrvHandlerContext } from "./header.js";
import { requiredString, success } from "./header.js";

export function wipeWritePermOfBroker(ctx: NamesrvHandlerContext, req: RemotingCommand): RemotingCommand {
  const brokerName = requiredString(req, "brokerName");
  const n = ctx.registry.setWritePermOfBroker(brokerName, true);
  ctx.logger.info({ brokerName, topics: n }, "write permission of broker wiped");
  return success(req, { wipeTopicCount: String(n) });
}

export function addWritePermOfBroker(ctx: NamesrvHandlerContext, req: RemotingCommand): RemotingCommand {
  const brokerName = requiredString(req, "brokerName");
  const n = ctx.registry.setWritePermOfBroker(brokerName, false);
  ctx.logger.info({ brokerName, topics: n }, "write permission of broker added");
  return success(req, { addTopicCount: String(n) });
}
