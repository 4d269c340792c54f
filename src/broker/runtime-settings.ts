// The broker's settings under RocketMQ's names (what `mqadmin getBrokerConfig` lists and `updateBrokerConfig`
// sets), and the few that can change while the broker runs. Changes live until restart: the broker does not own
// its configuration file (the CLI reads it), so there is nothing here to persist them to. Secrets (ACL accounts,
// TLS keys) are never listed.
import { BrokerError } from "../common/errors.js";
import type { BrokerConfig } from "./broker-config.js";
import type { GroupManager } from "./group-manager.js";
import type { TopicManager } from "./topic-manager.js";
import type { DataVersion } from "./topic-manager.js";
import type { StoreConfig } from "../store/store-config.js";

interface Setting {
  read(): string;
  /** Absent: the setting is fixed at start-up. Throws BAD_REQUEST on a value it cannot take. */
  write?(value: string): void;
}

function bool(key: string, v: string): boolean {
  if (v === "true") return true;
  if (v === "false") return false;
  throw new BrokerError("BAD_REQUEST", `${key} must be true or false, got "${v.slice(0, 32)}"`);
}

function int(key: string, v: string, min: number, max: number): number {
  const n = Number(v);
  if (v.trim() === "" || !Number.isInteger(n) || n < min || n > max)
    throw new BrokerError(
      "BAD_REQUEST",
      `${key} must be an integer from ${min} to ${max}, got "${v.slice(0, 32)}"`,
    );
  return n;
}

const fixed = (value: () => string | number | boolean): Setting => ({ read: () => String(value()) });

export class RuntimeSettings {
  /** Bumped by every change; GET_BROKER_CONFIG answers it as its `version`. */
  dataVersion: DataVersion = { timestamp: Date.now(), counter: 0 };
  private readonly table: Map<string, Setting>;

  constructor(
    private readonly config: BrokerConfig,
    store: StoreConfig,
    topics: TopicManager,
    groups: GroupManager,
    aclEnabled: () => boolean,
  ) {
    const c = config;
    this.table = new Map<string, Setting>([
      ["brokerClusterName", fixed(() => c.clusterName)],
      ["brokerName", fixed(() => c.brokerName)],
      ["brokerId", fixed(() => c.brokerId)],
      ["brokerRole", fixed(() => c.brokerRole)],
      ["brokerIP1", fixed(() => c.advertisedHost)],
      ["listenPort", fixed(() => c.port)],
      ["haListenPort", fixed(() => c.haListenPort)],
      ["haMasterAddress", fixed(() => c.haMasterAddress)],
      ["namesrvAddr", fixed(() => c.namesrvAddrs.join(";"))],
      [
        "autoCreateTopicEnable",
        {
          read: () => String(c.autoCreateTopicEnable),
          write: (v) => {
            c.autoCreateTopicEnable = bool("autoCreateTopicEnable", v);
            topics.setAutoCreate(c.autoCreateTopicEnable);
          },
        },
      ],
      [
        "autoCreateSubscriptionGroup",
        {
          read: () => String(c.autoCreateSubscriptionGroup),
          write: (v) => {
            c.autoCreateSubscriptionGroup = bool("autoCreateSubscriptionGroup", v);
            groups.setAutoCreate(c.autoCreateSubscriptionGroup);
          },
        },
      ],
      [
        "defaultTopicQueueNums",
        {
          read: () => String(c.defaultTopicQueueNums),
          write: (v) => {
            c.defaultTopicQueueNums = int("defaultTopicQueueNums", v, 1, 1024);
            topics.setDefaultQueueNums(c.defaultTopicQueueNums);
          },
        },
      ],
      [
        "slaveReadEnable",
        {
          read: () => String(c.slaveReadEnable),
          write: (v) => (c.slaveReadEnable = bool("slaveReadEnable", v)),
        },
      ],
      [
        "accessMessageInMemoryMaxRatio",
        {
          read: () => String(c.accessMessageInMemoryMaxRatio),
          write: (v) => (c.accessMessageInMemoryMaxRatio = int("accessMessageInMemoryMaxRatio", v, 0, 100)),
        },
      ],
      ["messageDelayLevel", fixed(() => c.messageDelayLevel)],
      ["transactionTimeOut", fixed(() => c.transactionTimeoutMs)],
      ["transactionCheckInterval", fixed(() => c.transactionCheckIntervalMs)],
      ["transactionCheckMax", fixed(() => c.transactionCheckMax)],
      ["timerMaxDelaySec", fixed(() => Math.floor(c.timerMaxDelayMs / 1000))],
      ["aclEnable", fixed(aclEnabled)],
      ["storePathRootDir", fixed(() => store.dir)],
      ["flushDiskType", fixed(() => (store.flushMode === "sync" ? "SYNC_FLUSH" : "ASYNC_FLUSH"))],
      ["flushIntervalCommitLog", fixed(() => store.flushIntervalMs)],
      ["syncFlushTimeout", fixed(() => store.syncFlushTimeoutMs)],
      ["mappedFileSizeCommitLog", fixed(() => store.segmentBytes)],
      ["maxMessageSize", fixed(() => store.maxMessageBytes)],
      ["fileReservedTime", fixed(() => Math.round(store.fileReservedTimeMs / 3_600_000))],
      // RocketMQ's deleteWhen is hours joined by ";" ("04").
      ["deleteWhen", fixed(() => store.deleteWhenHours.map((h) => String(h).padStart(2, "0")).join(";"))],
      ["diskMaxUsedSpaceRatio", fixed(() => Math.round(store.diskMaxUsedRatio * 100))],
    ]);
  }

  /** Every setting as [RocketMQ key, value], in a stable order. */
  list(): [string, string][] {
    return [...this.table].map(([k, s]) => [k, s.read()]);
  }

  /**
   * Applies all of `changes` or none: an unknown key, one fixed at start-up, or a value out of range refuses the
   * whole update (BAD_REQUEST naming the key).
   */
  update(changes: ReadonlyMap<string, string>): void {
    const writes: [NonNullable<Setting["write"]>, string][] = [];
    for (const [key, value] of changes) {
      const s = this.table.get(key);
      if (!s) throw new BrokerError("BAD_REQUEST", `unknown broker setting ${key}`);
      if (!s.write) throw new BrokerError("BAD_REQUEST", `${key} cannot change while the broker runs`);
      writes.push([s.write, value]);
    }
    // A value refused halfway puts back what the earlier writes changed.
    const before = this.list();
    try {
      for (const [write, value] of writes) write(value);
    } catch (e) {
      for (const [key, value] of before) this.table.get(key)?.write?.(value);
      throw e;
    }
    if (writes.length > 0)
      this.dataVersion = { timestamp: Date.now(), counter: this.dataVersion.counter + 1 };
  }
}
