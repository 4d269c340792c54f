// Subscription groups (RocketMQ SubscriptionGroupConfig): per-group switches and retry limits, persisted to
// config/subscriptionGroup.json, auto-created on first use when allowed.
import { BrokerError } from "../common/errors.js";
import { groupNameProblem } from "../common/topic.js";
import type { FileIO } from "../store/file-io.js";
import { JsonFile } from "./json-file.js";

export interface GroupConfig {
  groupName: string;
  consumeEnable: boolean;
  consumeBroadcastEnable: boolean;
  consumeMessageOrderly: boolean;
  retryQueueNums: number;
  retryMaxTimes: number;
  brokerId: number;
  whichBrokerWhenConsumeSlowly: number;
}

export function groupConfig(name: string, retryMaxTimes: number): GroupConfig {
  return {
    groupName: name,
    consumeEnable: true,
    consumeBroadcastEnable: true,
    consumeMessageOrderly: false,
    retryQueueNums: 1,
    retryMaxTimes,
    brokerId: 0,
    whichBrokerWhenConsumeSlowly: 1,
  };
}

export class GroupManager {
  private readonly groups = new Map<string, GroupConfig>();
  private readonly file: JsonFile<{ subscriptionGroupTable: Record<string, GroupConfig> }>;

  constructor(
    io: FileIO,
    configDir: string,
    private autoCreate: boolean,
    private readonly defaultRetryMaxTimes: number,
  ) {
    this.file = new JsonFile(io, configDir, "subscriptionGroup.json");
    const saved = this.file.read();
    if (saved) {
      for (const [name, g] of Object.entries(saved.subscriptionGroupTable)) {
        this.groups.set(name, { ...groupConfig(name, defaultRetryMaxTimes), ...g });
      }
    }
  }

  /** Turns creation on first use on or off at runtime (admin UPDATE_BROKER_CONFIG). */
  setAutoCreate(on: boolean): void {
    this.autoCreate = on;
  }

  get(group: string): GroupConfig | undefined {
    return this.groups.get(group);
  }

  all(): GroupConfig[] {
    return [...this.groups.values()];
  }

  getOrCreate(group: string): GroupConfig {
    const cur = this.groups.get(group);
    if (cur) return cur;
    const problem = groupNameProblem(group);
    if (problem) throw new BrokerError("ILLEGAL_GROUP", problem);
    if (!this.autoCreate)
      throw new BrokerError("SUBSCRIPTION_GROUP_NOT_EXIST", `group ${group} does not exist`);
    return this.createOrUpdate(groupConfig(group, this.defaultRetryMaxTimes));
  }

  createOrUpdate(g: GroupConfig): GroupConfig {
    const problem = groupNameProblem(g.groupName);
    if (problem) throw new BrokerError("ILLEGAL_GROUP", problem);
    this.groups.set(g.groupName, g);
    this.persist();
    return g;
  }

  /** A slave takes its master's groups whole (RocketMQ's SlaveSynchronize). */
  replaceAll(table: Record<string, GroupConfig>): void {
    this.groups.clear();
    for (const [name, g] of Object.entries(table)) {
      this.groups.set(name, { ...groupConfig(name, this.defaultRetryMaxTimes), ...g });
    }
    this.persist();
  }

  delete(group: string): boolean {
    const had = this.groups.delete(group);
    if (had) this.persist();
    return had;
  }

  persist(): void {
    this.file.write({ subscriptionGroupTable: Object.fromEntries(this.groups) });
  }
}
