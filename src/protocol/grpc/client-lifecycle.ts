// Heartbeat (every 10 s from each client) keeps the client's registrations alive; NotifyClientTermination (at
// shutdown, before the telemetry half-close) drops them and ends the client's long polls. Both answer OK: the Node.js client's shutdown fails if
// NotifyClientTermination does not.
import type { Caller, GrpcContext } from "./context.js";
import { groupOf } from "./request-fields.js";
import { OK } from "./status.js";
import type { HeartbeatRequest, NotifyClientTerminationRequest, Status } from "./wire-types.js";

export function heartbeat(ctx: GrpcContext, req: HeartbeatRequest, caller: Caller): { status: Status } {
  if (req.group) groupOf(req.group);
  ctx.sessions.get(caller.clientId)?.refresh();
  return { status: OK };
}

export function notifyClientTermination(
  ctx: GrpcContext,
  _req: NotifyClientTerminationRequest,
  caller: Caller,
): { status: Status } {
  if (caller.clientId) ctx.sessions.gone(caller.clientId);
  ctx.polls.abortClient(caller.clientId);
  return { status: OK };
}
