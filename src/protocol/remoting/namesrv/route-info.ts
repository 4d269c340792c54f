// GET_ROUTEINFO_BY_TOPIC (105), client → NameServer: where a topic's queues are.
//   request extFields  topic; acceptStandardJsonOnly? (ignored: we always write standard JSON, which is also
//                      what ali-ons's eval-based JSON2 and every fastjson reader accept)
//   response           SUCCESS with a TopicRouteData JSON body, or TOPIC_NOT_EXIST (17) with a remark.
//
// Unknown topics get an auto route when some broker offers TBW102 with the INHERIT perm (see
// RouteRegistry.autoTopicRoute: ali-ons cannot fall back to TBW102 the way the Java client does).

import type { RemotingCommand } from "../command.js";
import { createResponse } from "../command.js";
import { ResponseCode } from "../response-code.js";
import { NAMESPACE_ORDER_TOPIC_CONFIG } from "../../../namesrv/route-data.js";
import { encodeTopicRouteData } from "./body-codec.js";
import type { NamesrvHandlerContext } from "./header.js";
import { requiredString, success } from "./header.js";

export function getRouteInfoByTopic(ctx: NamesrvHandlerContext, req: RemotingCommand): RemotingCommand {
  const topic = requiredString(req, "topic");
  const route = ctx.registry.getTopicRoute(topic);
  if (route === undefined) {
    return createResponse(
      req,
      ResponseCode.TOPIC_NOT_EXIST,
      `No topic route info in name server for the topic: ${topic}`,
    );
  }
  if (ctx.orderMessageEnable)
    route.orderTopicConf = ctx.kvConfig.get(NAMESPACE_ORDER_TOPIC_CONFIG, topic) ?? null;
  return success(req, {}, encodeTopicRouteData(route));
}
