// REGISTER_BROKER (103), broker → NameServer, at broker start, every 30 s, and after it changes topics.
//   request extFields  brokerName, brokerAddr, clusterName, haServerAddr, brokerId (long; 0 = master),
//                      compressed (bool, default false), bodyCrc32 (int; 0 = not checked, else
//                      crc32(body) & 0x7fffffff), heartbeatTimeoutMillis? (long), enableActingMaster? (bool),
//                      __ZONE_NAME? (string)
//   request body       RegisterBrokerBody JSON, or its deflated binary form when compressed=true; may be empty
//   response           SUCCESS; extFields haServerAddr and masterAddr (a slave's master, when alive);
//                      body KVTable of namespace ORDER_TOPIC_CONFIG when that namespace exists
//   errors             SYSTEM_ERROR "crc32 not match", or naming a bad header field or body

import { crc32 } from "node:zlib";
import type { RemotingCommand } from "../command.js";
import { createResponse } from "../command.js";
import type { RemotingConnection } from "../connection.js";
import { ResponseCode } from "../response-code.js";
import { NAMESPACE_ORDER_TOPIC_CONFIG } from "../../../namesrv/route-data.js";
import { decodeRegisterBrokerBody, encodeKVTable } from "./body-codec.js";
import type { NamesrvHandlerContext } from "./header.js";
import {
  optionalBool,
  optionalLong,
  optionalString,
  requiredLong,
  requiredString,
  success,
} from "./header.js";

/** MixAll.ZONE_NAME: the ext field carrying the broker's zone. */
const ZONE_NAME_FIELD = "__ZONE_NAME";

export function registerBroker(
  ctx: NamesrvHandlerContext,
  req: RemotingCommand,
  conn: RemotingConnection,
): RemotingCommand {
  const clusterName = requiredString(req, "clusterName");
  const brokerName = requiredString(req, "brokerName");
  const brokerAddr = requiredString(req, "brokerAddr");
  const brokerId = requiredLong(req, "brokerId");
  // @CFNotNull in Java, but a broker without HA may well send "": accept absent as "".
  const haServerAddr = optionalString(req, "haServerAddr") ?? "";
  const compressed = optionalBool(req, "compressed") ?? false;
  const bodyCrc32 = optionalLong(req, "bodyCrc32") ?? 0;

  if (bodyCrc32 !== 0) {
    const actual = req.body === undefined ? 0 : crc32(req.body) & 0x7fffffff;
    if (actual !== bodyCrc32) {
      ctx.logger.warn(
        { brokerAddr, remote: conn.remoteAddress },
        "register broker: body crc32 does not match",
      );
      return createResponse(req, ResponseCode.SYSTEM_ERROR, "crc32 not match");
    }
  }

  const hasBody = req.body !== undefined && req.body.length > 0;
  const body = hasBody ? decodeRegisterBrokerBody(req.body, compressed) : undefined;
  const heartbeatTimeoutMs = optionalLong(req, "heartbeatTimeoutMillis");
  const enableActingMaster = optionalBool(req, "enableActingMaster");
  const zoneName = optionalString(req, ZONE_NAME_FIELD);

  const outcome = ctx.registry.registerBroker({
    clusterName,
    brokerName,
    brokerAddr,
    brokerId,
    haServerAddr,
    ...(body === undefined
      ? {}
      : {
          topicConfigs: body.topicConfigs,
          dataVersion: body.dataVersion,
          filterServerList: body.filterServerList,
        }),
    ...(heartbeatTimeoutMs === undefined || heartbeatTimeoutMs <= 0 ? {} : { heartbeatTimeoutMs }),
    ...(enableActingMaster === undefined ? {} : { enableActingMaster }),
    ...(zoneName === undefined ? {} : { zoneName }),
    channel: conn.remoteAddress,
  });
  if (outcome.newBroker) {
    ctx.logger.info(
      { clusterName, brokerName, brokerAddr, brokerId, topics: body?.topicConfigs.length ?? 0 },
      "new broker registered",
    );
  }
  if (outcome.conflict === true) {
    ctx.logger.warn(
      { brokerName, brokerAddr, brokerId },
      "register broker ignored: its id is held with a newer state version",
    );
  }

  const ext: Record<string, string> = {};
  if (outcome.haServerAddr !== undefined) ext["haServerAddr"] = outcome.haServerAddr;
  if (outcome.masterAddr !== undefined) ext["masterAddr"] = outcome.masterAddr;
  const orderConf = ctx.returnOrderTopicConfigToBroker
    ? ctx.kvConfig.list(NAMESPACE_ORDER_TOPIC_CONFIG)
    : undefined;
  return success(req, ext, orderConf === undefined ? undefined : encodeKVTable(orderConf));
}
