// Telemetry (bidi stream): the client opens it first and sends its Settings; the broker answers every Settings
// frame with the complete settings (settings-reply.ts), and sends the same answer once more about a second later,
// because the Node.js client can miss an answer that arrives while it is still fetching routes and would then
// wait for its next sync, 5 minutes on. A settings problem (unknown group, bad filter, a topic or group the
// account has no right to) is answered with a bare non-OK status, which fails the client's startup with that
// error. The call is finished as soon as the client half-closes: the client process cannot exit before.
import type * as grpc from "@grpc/grpc-js";
import { checkSettingsAccess } from "./access-check.js";
import type { GrpcContext } from "./context.js";
import { callerOf } from "./context.js";
import { settingsReply } from "./settings-reply.js";
import { Code, OK, statusOf } from "./status.js";
import { TelemetrySession } from "./telemetry-session.js";
import type { TelemetryCommand } from "./wire-types.js";

const RESEND_SETTINGS_MS = 1000;

export function handleTelemetry(
  ctx: GrpcContext,
  call: grpc.ServerDuplexStream<TelemetryCommand, TelemetryCommand>,
): void {
  const caller = callerOf(call);
  let ended = false;
  const end = () => {
    if (ended) return;
    ended = true;
    call.end();
  };
  if (!caller.clientId) {
    call.write({ status: { code: Code.CLIENT_ID_REQUIRED, message: "x-mq-client-id header is required" } });
    end();
    return;
  }
  const session = new TelemetrySession(caller.clientId, caller.peer, ctx.broker, {
    write: (cmd) => {
      if (!ended) call.write(cmd);
    },
    end,
  });
  ctx.sessions.add(session);
  let resend: NodeJS.Timeout | undefined;
  const finish = () => {
    clearTimeout(resend);
    ctx.sessions.remove(session);
  };
  call.on("data", (cmd: TelemetryCommand) => {
    if (!cmd.settings) return; // replies to commands we never send (thread stacks, verify results)
    let reply: TelemetryCommand;
    try {
      checkSettingsAccess(ctx.broker.acl, call, cmd.settings);
      session.applySettings(cmd.settings);
      reply = { status: OK, settings: settingsReply(ctx.broker, cmd.settings) };
    } catch (e) {
      ctx.logger.debug({ clientId: caller.clientId, err: String(e) }, "telemetry settings refused");
      session.write({ status: statusOf(e) });
      return;
    }
    session.write(reply);
    clearTimeout(resend);
    resend = setTimeout(() => session.write(reply), RESEND_SETTINGS_MS);
    resend.unref();
  });
  call.on("end", () => {
    finish();
    end();
  });
  call.on("error", finish);
  call.on("cancelled", finish);
  call.on("close", finish);
}
