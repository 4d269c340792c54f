// Tells the world when a backlog alarm fires or clears: a log line, and a JSON POST to the configured webhook
// ({"event": "fired" | "cleared", "alarm": {...}}), with a timeout so a slow receiver cannot pile requests up.
import type { AlarmService, AlarmStatus } from "../broker/ops/alarms.js";
import type { RemotingLogger } from "../protocol/remoting/logger.js";

export function notifyAlarms(
  alarms: AlarmService,
  logger: RemotingLogger,
  webhook: string | undefined,
): void {
  alarms.onTransition((event: "fired" | "cleared", status: AlarmStatus) => {
    const line = { event, rule: status.rule, value: status.value };
    if (event === "fired") logger.warn(line, `alarm fired: ${status.reason}`);
    else logger.info(line, `alarm cleared: ${status.rule.group}`);
    if (!webhook) return;
    fetch(webhook, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ event, alarm: status }),
      signal: AbortSignal.timeout(5000),
    }).catch((e: unknown) => logger.warn({ webhook, err: (e as Error).message }, "alarm webhook failed"));
  });
}
