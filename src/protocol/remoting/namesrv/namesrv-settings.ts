// A NameServer's settings over remoting (mqadmin getNamesrvConfig / updateNamesrvConfig):
// GET_NAMESRV_CONFIG (319): no header → SUCCESS, body Java properties text of every setting.
// UPDATE_NAMESRV_CONFIG (318): body properties text → SUCCESS once every key is applied. Keys on RocketMQ's black
//   list (configBlackList, configStorePath, kvConfigPath) get NO_PERMISSION "Can not update config in black
//   list." as in Java. Unlike Java, which skips keys it does not know, an unknown or fixed key, or a value
//   that does not parse, gets SYSTEM_ERROR naming it, and nothing of that request is applied.

import { isBrokerError } from "../../../common/errors.js";
import { formatJavaProperties, parseJavaProperties } from "../../../common/java-properties.js";
import {
  SettingsTable,
  booleanSetting,
  fixedSetting,
  integerSetting,
} from "../../../common/settings-table.js";
import type { RemotingCommand } from "../command.js";
import { createResponse } from "../command.js";
import { ResponseCode } from "../response-code.js";
import type { NamesrvHandlerContext } from "./header.js";
import { success } from "./header.js";

const BLACK_LIST: ReadonlySet<string> = new Set(["configBlackList", "configStorePath", "kvConfigPath"]);

/** The NameServer's settings: the fixed ones, and those its handlers read from `ctx` at each request. */
function settingsOf(ctx: NamesrvHandlerContext): SettingsTable {
  const r = ctx.registry;
  return new SettingsTable("NameServer", [
    ...ctx
      .fixedSettings()
      .map(([k, v]): [string, ReturnType<typeof fixedSetting>] => [k, fixedSetting(() => v)]),
    [
      "orderMessageEnable",
      booleanSetting(
        () => ctx.orderMessageEnable,
        (v) => (ctx.orderMessageEnable = v),
      ),
    ],
    [
      "returnOrderTopicConfigToBroker",
      booleanSetting(
        () => ctx.returnOrderTopicConfigToBroker,
        (v) => (ctx.returnOrderTopicConfigToBroker = v),
      ),
    ],
    [
      "enableAllTopicList",
      booleanSetting(
        () => ctx.enableAllTopicList,
        (v) => (ctx.enableAllTopicList = v),
      ),
    ],
    [
      "enableTopicList",
      booleanSetting(
        () => ctx.enableTopicList,
        (v) => (ctx.enableTopicList = v),
      ),
    ],
    [
      "deleteTopicWithBrokerRegistration",
      booleanSetting(
        () => r.deleteTopicWithBrokerRegistration,
        (v) => (r.deleteTopicWithBrokerRegistration = v),
      ),
    ],
    // Ours: routes for topics no broker has yet (see RouteRegistry.autoTopicRoute) and their queue count.
    [
      "autoCreateTopicRoutes",
      booleanSetting(
        () => r.autoCreateTopicRoutes,
        (v) => (r.autoCreateTopicRoutes = v),
      ),
    ],
    [
      "autoCreateQueueNums",
      integerSetting(
        () => r.autoCreateQueueNums,
        (v) => (r.autoCreateQueueNums = v),
        1,
        1024,
      ),
    ],
  ]);
}

export function getNamesrvConfig(ctx: NamesrvHandlerContext, req: RemotingCommand): RemotingCommand {
  const entries = settingsOf(ctx).list();
  entries.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return success(req, {}, Buffer.from(formatJavaProperties(entries)));
}

export function updateNamesrvConfig(ctx: NamesrvHandlerContext, req: RemotingCommand): RemotingCommand {
  if (req.body === undefined || req.body.length === 0) return success(req);
  const props = parseJavaProperties(req.body.toString("utf8"));
  for (const k of props.keys()) {
    if (BLACK_LIST.has(k)) {
      return createResponse(req, ResponseCode.NO_PERMISSION, "Can not update config in black list.");
    }
  }
  try {
    settingsOf(ctx).update(props);
  } catch (e) {
    if (isBrokerError(e, "BAD_REQUEST")) return createResponse(req, ResponseCode.SYSTEM_ERROR, e.message);
    throw e;
  }
  ctx.logger.info({ keys: [...props.keys()] }, "namesrv config updated");
  return success(req);
}
