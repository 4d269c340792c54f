// Reading NameServer request headers (extFields) and the shared handler plumbing. The JSON header decoder
// already turns numbers and booleans into strings (ali-ons sends "brokerId":0, "compressed":false), so here a
// value is a string or absent; these readers check presence and type and name the field when it is wrong.

import type { RemotingCommand } from "../command.js";
import { createResponse } from "../command.js";
import type { RemotingLogger } from "../logger.js";
import type { RequestHandler } from "../request-dispatcher.js";
import { ResponseCode } from "../response-code.js";
import type { KvConfigStore } from "../../../namesrv/kv-config.js";
import type { RouteRegistry } from "../../../namesrv/route-registry.js";
import { NamesrvBodyError } from "./body-codec.js";

/** A request header that is missing a field or has one of the wrong type. Java answers these (its
 * RemotingCommandException from decodeCommandCustomHeader) with SYSTEM_ERROR and the message as remark. */
export class NamesrvHeaderError extends Error {
  readonly remotingCode: number = ResponseCode.SYSTEM_ERROR;
  constructor(message: string) {
    super(message);
    this.name = "NamesrvHeaderError";
  }
}

/** What the NameServer handlers need. */
export interface NamesrvHandlerContext {
  registry: RouteRegistry;
  kvConfig: KvConfigStore;
  logger: RemotingLogger;
  /** Fill TopicRouteData.orderTopicConf from KV namespace ORDER_TOPIC_CONFIG (Java orderMessageEnable, default false). */
  orderMessageEnable: boolean;
  /** Answer REGISTER_BROKER with the ORDER_TOPIC_CONFIG KV table (Java returnOrderTopicConfigToBroker, default true). */
  returnOrderTopicConfigToBroker: boolean;
  /** Serve GET_ALL_TOPIC_LIST_FROM_NAMESERVER (Java enableAllTopicList, default true). */
  enableAllTopicList: boolean;
  /** Serve GET_TOPICS_BY_CLUSTER and the unit topic lists (Java enableTopicList, default true). */
  enableTopicList: boolean;
  /** Settings GET_NAMESRV_CONFIG shows that cannot change while it runs (port, expiry, KV file). */
  fixedSettings(): [string, string | number | boolean][];
}

export function requiredString(req: RemotingCommand, name: string): string {
  const v = req.extFields[name];
  if (v === undefined || v === "") throw new NamesrvHeaderError(`the custom field <${name}> is null`);
  return v;
}

export function optionalString(req: RemotingCommand, name: string): string | undefined {
  return req.extFields[name];
}

function parseLong(v: string, name: string): number {
  const n = v.trim() === "" ? NaN : Number(v);
  if (!Number.isSafeInteger(n))
    throw new NamesrvHeaderError(`the custom field <${name}> is not an integer: ${v.slice(0, 32)}`);
  return n;
}

export function requiredLong(req: RemotingCommand, name: string): number {
  return parseLong(requiredString(req, name), name);
}

export function optionalLong(req: RemotingCommand, name: string): number | undefined {
  const v = req.extFields[name];
  return v === undefined || v === "" ? undefined : parseLong(v, name);
}

/** Java's Boolean.parseBoolean: "true" in any case is true, anything else false; absent is undefined. */
export function optionalBool(req: RemotingCommand, name: string): boolean | undefined {
  const v = req.extFields[name];
  return v === undefined || v === "" ? undefined : v.toLowerCase() === "true";
}

export function success(
  req: RemotingCommand,
  extFields: Record<string, string> = {},
  body?: Buffer,
): RemotingCommand {
  return createResponse(req, ResponseCode.SUCCESS, undefined, extFields, body);
}

/**
 * Wraps a handler so a malformed request (bad header or body) gets an error response naming the problem,
 * logged at debug level only; other failures go on to the dispatcher (SYSTEM_ERROR, logged as a fault).
 */
export function guarded(logger: RemotingLogger, handler: RequestHandler): RequestHandler {
  const answer = (req: RemotingCommand, e: unknown): RemotingCommand => {
    if (e instanceof NamesrvHeaderError || e instanceof NamesrvBodyError) {
      logger.debug({ code: req.code, err: e.message }, "bad namesrv request");
      return createResponse(req, e.remotingCode, e.message);
    }
    throw e;
  };
  return (req, conn) => {
    try {
      const res = handler(req, conn);
      return res instanceof Promise ? res.catch((e: unknown) => answer(req, e)) : res;
    } catch (e) {
      return answer(req, e);
    }
  };
}
