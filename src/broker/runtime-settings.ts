// The broker's settings under RocketMQ's names (what `mqadmin getBrokerConfig` lists and `updateBrokerConfig`
// sets), and the few that can change while the broker runs. Changes live until restart: the broker does not own
// its configuration file (the CLI reads it), so there is nothing here to persist them to. Secrets (ACL accounts,
// TLS keys) are never listed.
import type { BrokerConfig } from "./broker-config.js";
import type { GroupManager } from "./group-manager.js";
import type { TopicManager } from "./topic-manager.js";
import type { DataVersion } from "./topic-manager.js";
import type { StoreConfig } from "../store/store-config.js";
import {
  SettingsTable,
  booleanSetting,
  fixedSetting as fixed,
  integerSetting,
} from "../common/settings-table.js";

export class RuntimeSettings {
  /** Bumped by every change; GET_BROKER_CONFIG answers it as its `version`. */
  dataVersion: DataVersion = { timestamp: Date.now(), counter: 0 };
  private readonly table: SettingsTable;

  constructor(
    private readonly config: BrokerConfig,
    store: StoreConfig,
    topics: TopicManager,
    groups: GroupManager,
    aclEnabled: () => boolean,
  ) {
    const c = config;
    this.table = new SettingsTable("broker", [
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
        booleanSetting(
          () => c.autoCreateTopicEnable,
          (v) => {
            c.autoCreateTopicEnable = v;
            topics.setAutoCreate(v);
          },
        ),
      ],
      [
        "autoCreateSubscriptionGroup",
        booleanSetting(
          () => c.autoCreateSubscriptionGroup,
          (v) => {
            c.autoCreateSubscriptionGroup = v;
            groups.setAutoCreate(v);
          },
        ),
      ],
      [
        "defaultTopicQueueNums",
        integerSetting(
          () => c.defaultTopicQueueNums,
          (v) => {
            c.defaultTopicQueueNums = v;
            topics.setDefaultQueueNums(v);
          },
          1,
          1024,
        ),
      ],
      [
        "slaveReadEnable",
        booleanSetting(
          () => c.slaveReadEnable,
          (v) => (c.slaveReadEnable = v),
        ),
      ],
      [
        "accessMessageInMemoryMaxRatio",
        integerSetting(
          () => c.accessMessageInMemoryMaxRatio,
          (v) => (c.accessMessageInMemoryMaxRatio = v),
          0,
          100,
        ),
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
    return this.table.list().map(([k, v]) => [k, String(v)]);
  }

  /**
   * Applies all of `changes` or none: an unknown key, one fixed at start-up, or a value out of range refuses the
   * whole update (BAD_REQUEST naming the key).
   */
  update(changes: ReadonlyMap<string, string>): void {
    if (this.table.update(changes))
      this.dataVersion = { timestamp: Date.now(), counter: this.dataVersion.counter + 1 };
  }
}
