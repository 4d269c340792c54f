// Backlog alarms: rules per consumer group (backlog over N messages, or the oldest un-consumed message older than
// T), persisted to config/alarms.json and evaluated on a timer. A rule fires when its condition holds and clears
// when it stops holding; each transition is reported to the listeners (log, webhook, metrics).
import { randomUUID } from "node:crypto";
import { BrokerError } from "../../common/errors.js";
import type { FileIO } from "../../store/file-io.js";
import { JsonFile } from "../json-file.js";
import type { AlarmRule, AlarmStatus, GroupLag } from "./views.js";

export type { AlarmRule, AlarmStatus, GroupLag } from "./views.js";

export type AlarmListener = (event: "fired" | "cleared", status: AlarmStatus) => void;

export class AlarmService {
  private readonly rules = new Map<string, AlarmRule>();
  private readonly state = new Map<string, AlarmStatus>();
  private readonly listeners: AlarmListener[] = [];
  private readonly file: JsonFile<{ rules: AlarmRule[] }>;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    io: FileIO,
    configDir: string,
    private readonly lagOf: (group: string, topic: string | undefined, now: number) => GroupLag,
  ) {
    this.file = new JsonFile(io, configDir, "alarms.json");
    for (const r of this.file.read()?.rules ?? []) this.rules.set(r.id, r);
  }

  onTransition(l: AlarmListener): void {
    this.listeners.push(l);
  }

  list(): AlarmRule[] {
    return [...this.rules.values()];
  }

  /** Adds or replaces a rule; it needs a group and at least one threshold. */
  put(rule: Omit<AlarmRule, "id"> & { id?: string }): AlarmRule {
    if (!rule.group || typeof rule.group !== "string")
      throw new BrokerError("BAD_REQUEST", "an alarm needs a group");
    const positive = (v: unknown) =>
      v === undefined || (typeof v === "number" && Number.isFinite(v) && v >= 0);
    if (!positive(rule.maxBacklog) || !positive(rule.maxLagMs)) {
      throw new BrokerError("BAD_REQUEST", "maxBacklog and maxLagMs must be non-negative numbers");
    }
    if (rule.maxBacklog === undefined && rule.maxLagMs === undefined) {
      throw new BrokerError("BAD_REQUEST", "an alarm needs maxBacklog or maxLagMs");
    }
    const r: AlarmRule = {
      id: rule.id || randomUUID(),
      group: rule.group,
      ...(rule.topic ? { topic: rule.topic } : {}),
      ...(rule.maxBacklog !== undefined ? { maxBacklog: rule.maxBacklog } : {}),
      ...(rule.maxLagMs !== undefined ? { maxLagMs: rule.maxLagMs } : {}),
    };
    this.rules.set(r.id, r);
    this.forget(r.id, "the rule was replaced");
    this.persist();
    return r;
  }

  remove(id: string): boolean {
    const had = this.rules.delete(id);
    this.forget(id, "the rule was removed");
    if (had) this.persist();
    return had;
  }

  /** Drops a rule's state; a firing one is cleared first, so that a receiver never keeps an alarm open for good. */
  private forget(id: string, why: string): void {
    const prev = this.state.get(id);
    this.state.delete(id);
    if (!prev?.firing) return;
    const status: AlarmStatus = { ...prev, firing: false, since: Date.now(), reason: why };
    for (const l of this.listeners) l("cleared", status);
  }

  /** The current state of every rule (evaluated at the last tick). */
  statuses(): AlarmStatus[] {
    return this.list().map(
      (rule) =>
        this.state.get(rule.id) ?? {
          rule,
          firing: false,
          since: 0,
          value: { backlog: 0, lagMs: 0 },
          reason: "",
        },
    );
  }

  /** Evaluates every rule once and reports transitions. */
  evaluate(now = Date.now()): void {
    for (const rule of this.rules.values()) {
      let value: GroupLag;
      try {
        value = this.lagOf(rule.group, rule.topic, now);
      } catch {
        continue;
      }
      const reasons: string[] = [];
      if (rule.maxBacklog !== undefined && value.backlog > rule.maxBacklog) {
        reasons.push(`backlog ${value.backlog} > ${rule.maxBacklog}`);
      }
      if (rule.maxLagMs !== undefined && value.lagMs > rule.maxLagMs) {
        reasons.push(
          `oldest un-consumed message ${Math.round(value.lagMs / 1000)} s old > ${rule.maxLagMs / 1000} s`,
        );
      }
      const firing = reasons.length > 0;
      const prev = this.state.get(rule.id);
      const changed = (prev?.firing ?? false) !== firing;
      const status: AlarmStatus = {
        rule,
        firing,
        since: changed || !prev ? now : prev.since,
        value,
        reason: firing ? `${rule.group}${rule.topic ? `/${rule.topic}` : ""}: ${reasons.join("; ")}` : "",
      };
      this.state.set(rule.id, status);
      if (changed) for (const l of this.listeners) l(firing ? "fired" : "cleared", status);
    }
  }

  start(intervalMs: number): void {
    this.timer = setInterval(() => this.evaluate(), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  private persist(): void {
    this.file.write({ rules: this.list() });
  }
}
