// Bodies of the admin codes (JSON objects in, JSON out; properties text is common/java-properties.ts), and
// RocketMQ's own codes for refusals our error catalogue files under BAD_REQUEST.
import type { ClientInfo } from "../../../broker/client-manager.js";
import { BrokerError, isBrokerError } from "../../../common/errors.js";
import type { RemotingCommand } from "../command.js";
import { createResponse } from "../command.js";
import { ResponseCode } from "../response-code.js";

export function jsonResponse(req: RemotingCommand, body: unknown): RemotingCommand {
  return createResponse(req, ResponseCode.SUCCESS, undefined, {}, Buffer.from(JSON.stringify(body)));
}

/** The request body as a JSON object; anything else is the client's error, naming what was expected. */
export function jsonObjectBody(req: RemotingCommand, what: string): Record<string, unknown> {
  const text = req.body?.toString("utf8") ?? "";
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new BrokerError("BAD_REQUEST", `the body must be a ${what} JSON object`);
  }
  if (typeof v !== "object" || v === null || Array.isArray(v))
    throw new BrokerError("BAD_REQUEST", `the body must be a ${what} JSON object`);
  return v as Record<string, unknown>;
}

/** A client as Java's Connection body (consumer and producer connection lists). */
export function connectionJson(c: ClientInfo) {
  return {
    clientId: c.clientId,
    clientAddr: c.channel.remoteAddress,
    language: c.language,
    version: c.version,
  };
}

/** Runs `f`; a BAD_REQUEST it throws is answered with `code` instead (the same remark). */
export function badRequestAs<T>(code: number, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (isBrokerError(e, "BAD_REQUEST")) throw Object.assign(e, { remotingCode: code });
    throw e;
  }
}
