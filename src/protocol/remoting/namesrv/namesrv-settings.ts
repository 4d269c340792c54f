// A NameServer's settings over remoting (mqadmin getNamesrvConfig / updateNamesrvConfig):
// GET_NAMESRV_CONFIG (319): no header → SUCCESS, body Java properties text of every setting.
// UPDATE_NAMESRV_CONFIG (318): body properties text → SUCCESS once every key is applied. Keys on RocketMQ's black
//   list (configBlackList, configStorePath, kvConfigPath) get NO_PERMISSION "Can not update config in black
//   list." as in Java. Unlike Java, which skips keys it does not know, an unknown or fixed key, or a value
//   that does not parse, gets SYSTEM_ERROR naming it, and nothing of that request is applied.

import { formatJavaProperties, parseJavaProperties } from "../../../common/java-properties.js";
import type { RemotingCommand } from "../command.js";
import { createResponse } from "../command.js";
import { ResponseCode } from "../response-code.js";
import type { NamesrvHandlerContext } from "./header.js";
import { success } from "./header.js";

const BLACK_LIST: ReadonlySet<string> = new Set(["configBlackList", "configStorePath", "kvConfigPath"]);

interface Setting {
  get(ctx: NamesrvHandlerContext): string | number | boolean;
  /** Returns the apply step, or a reason the value is refused. */
  parse(value: string): ((ctx: NamesrvHandlerContext) => void) | string;
}

function flag(
  get: (ctx: NamesrvHandlerContext) => boolean,
  set: (ctx: NamesrvHandlerContext, v: boolean) => void,
): Setting {
  return {
    get,
    parse: (value) => {
      const v = value.trim().toLowerCase();
      if (v !== "true" && v !== "false") return `must be true or false, got ${JSON.stringify(value)}`;
      return (ctx) => set(ctx, v === "true");
    },
  };
}

const SETTINGS: Readonly<Record<string, Setting>> = {
  orderMessageEnable: flag(
    (c) => c.orderMessageEnable,
    (c, v) => (c.orderMessageEnable = v),
  ),
  returnOrderTopicConfigToBroker: flag(
    (c) => c.returnOrderTopicConfigToBroker,
    (c, v) => (c.returnOrderTopicConfigToBroker = v),
  ),
  enableAllTopicList: flag(
    (c) => c.enableAllTopicList,
    (c, v) => (c.enableAllTopicList = v),
  ),
  enableTopicList: flag(
    (c) => c.enableTopicList,
    (c, v) => (c.enableTopicList = v),
  ),
  deleteTopicWithBrokerRegistration: flag(
    (c) => c.registry.deleteTopicWithBrokerRegistration,
    (c, v) => (c.registry.deleteTopicWithBrokerRegistration = v),
  ),
  // Ours: routes for topics no broker has yet (see RouteRegistry.autoTopicRoute) and their queue count.
  autoCreateTopicRoutes: flag(
    (c) => c.registry.autoCreateTopicRoutes,
    (c, v) => (c.registry.autoCreateTopicRoutes = v),
  ),
  autoCreateQueueNums: {
    get: (c) => c.registry.autoCreateQueueNums,
    parse: (value) => {
      const n = Number(value.trim());
      if (!Number.isSafeInteger(n) || n < 1 || n > 1024) return `must be an integer in 1..1024, got ${value}`;
      return (c) => (c.registry.autoCreateQueueNums = n);
    },
  },
};

export function getNamesrvConfig(ctx: NamesrvHandlerContext, req: RemotingCommand): RemotingCommand {
  const entries: [string, string | number | boolean][] = [
    ...ctx.fixedSettings(),
    ...Object.entries(SETTINGS).map(([k, s]): [string, string | number | boolean] => [k, s.get(ctx)]),
  ];
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
  const fixed = new Set(ctx.fixedSettings().map(([k]) => k));
  const steps: ((c: NamesrvHandlerContext) => void)[] = [];
  for (const [k, v] of props) {
    const s = SETTINGS[k];
    if (s === undefined) {
      const why = fixed.has(k) ? "cannot change while the NameServer runs" : "is not a NameServer setting";
      return createResponse(req, ResponseCode.SYSTEM_ERROR, `${k} ${why}`);
    }
    const step = s.parse(v);
    if (typeof step === "string") return createResponse(req, ResponseCode.SYSTEM_ERROR, `${k} ${step}`);
    steps.push(step);
  }
  for (const step of steps) step(ctx);
  ctx.logger.info({ keys: [...props.keys()] }, "namesrv config updated");
  return success(req);
}
