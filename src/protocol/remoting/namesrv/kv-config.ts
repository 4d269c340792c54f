// KV config on the NameServer (namespace → key → value), used mostly for ORDER_TOPIC_CONFIG.
//
// PUT_KV_CONFIG (100): extFields namespace, key, value → SUCCESS.
// GET_KV_CONFIG (101): extFields namespace, key → SUCCESS with extFields value, or QUERY_NOT_FOUND (22).
// DELETE_KV_CONFIG (102): extFields namespace, key → SUCCESS (also when absent).
// GET_KVLIST_BY_NAMESPACE (219): extFields namespace → SUCCESS with body KVTable {"table":{k:v}}, or
//   QUERY_NOT_FOUND when the namespace was never written.

import type { RemotingCommand } from "../command.js";
import { createResponse } from "../command.js";
import { ResponseCode } from "../response-code.js";
import { encodeKVTable } from "./body-codec.js";
import type { NamesrvHandlerContext } from "./header.js";
import { NamesrvHeaderError, requiredString, success } from "./header.js";

export function putKvConfig(ctx: NamesrvHandlerContext, req: RemotingCommand): RemotingCommand {
  const namespace = requiredString(req, "namespace");
  const key = requiredString(req, "key");
  // Java would store a null value, which then reads as "not found"; we refuse it instead.
  const value = req.extFields["value"];
  if (value === undefined) throw new NamesrvHeaderError("the custom field <value> is null");
  ctx.kvConfig.put(namespace, key, value);
  return success(req);
}

export function getKvConfig(ctx: NamesrvHandlerContext, req: RemotingCommand): RemotingCommand {
  const namespace = requiredString(req, "namespace");
  const key = requiredString(req, "key");
  const value = ctx.kvConfig.get(namespace, key);
  if (value === undefined) {
    return createResponse(
      req,
      ResponseCode.QUERY_NOT_FOUND,
      `No config item, Namespace: ${namespace} Key: ${key}`,
    );
  }
  return success(req, { value });
}

export function deleteKvConfig(ctx: NamesrvHandlerContext, req: RemotingCommand): RemotingCommand {
  ctx.kvConfig.delete(requiredString(req, "namespace"), requiredString(req, "key"));
  return success(req);
}

export function getKvListByNamespace(ctx: NamesrvHandlerContext, req: RemotingCommand): RemotingCommand {
  const namespace = requiredString(req, "namespace");
  const table = ctx.kvConfig.list(namespace);
  if (table === undefined) {
    return createResponse(req, ResponseCode.QUERY_NOT_FOUND, `No config item, Namespace: ${namespace}`);
  }
  return success(req, {}, encodeKVTable(table));
}
