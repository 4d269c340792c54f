// The broker's configuration: one typed object with documented defaults. Only the CLI reads files, environment
// and flags; it builds this and passes it in.
import type { StoreConfig } from "../store/store-config.js";
import { emptyAclConfig } from "./acl/acl-config.js";
import type { AclConfig } from "./acl/acl-config.js";

export type BrokerRole = "ASYNC_MASTER" | "SYNC_MASTER" | "SLAVE";

export interface BrokerConfig {
  brokerName: string;
  clusterName: string;
  /** 0 = master; slaves have ids > 0. */
  brokerId: number;
  /**
   * ASYNC_MASTER (default) acknowledges a send once stored here; SYNC_MASTER also waits until a slave stored it
   * (FLUSH_SLAVE_TIMEOUT after haSlaveTimeoutMs, SLAVE_NOT_AVAILABLE with no slave in reach); SLAVE copies its
   * master (same brokerName, brokerId > 0), serves reads and refuses sends. Default: SLAVE when brokerId > 0.
   */
  brokerRole: BrokerRole;
  /**
   * A master's port for its slaves (RocketMQ haListenPort, there 10912). Default 0: a free one, which slaves learn
   * from the NameServer with the master's registration, so brokers on neighbouring ports never collide. Set it
   * when slaves are pointed at the master by haMasterAddress instead.
   */
  haListenPort: number;
  /** A slave's master HA address ("host:port"); empty: the one the NameServer names when the slave registers. */
  haMasterAddress: string;
  /** A master suggests that consumers far behind (past the memory ratio) read from its slave (brokerId 1). */
  slaveReadEnable: boolean;
  /** SYNC_MASTER: longest a send waits for a slave (RocketMQ syncFlushTimeout for slaves, 3 s). */
  haSlaveTimeoutMs: number;
  /** SYNC_MASTER: a slave this far behind counts as unavailable (RocketMQ haMaxGapNotInSync, 256 MiB). */
  haMaxGapBytes: number;
  /** Replication heartbeats (5 s), the silence after which a peer is dropped (20 s), a slave's reconnect (5 s). */
  haHeartbeatIntervalMs: number;
  haHousekeepingMs: number;
  haReconnectMs: number;
  /** How often a slave copies its master's topics, groups and consumer offsets (RocketMQ: 10 s). */
  slaveSyncIntervalMs: number;
  /** Address the remoting server binds to. */
  listenHost: string;
  /** Remoting port (10911); 0 picks a free one. */
  port: number;
  /** gRPC port of the RocketMQ 5 MessagingService (8081); 0 picks a free one. */
  grpcPort: number;
  /**
   * TLS on the gRPC port, RocketMQ's tls.server.mode: "permissive" (default) serves plaintext and TLS on the same
   * port, "enforcing" TLS only, "disabled" plaintext only. The RocketMQ 5 Java client uses TLS by default.
   */
  tlsMode: "disabled" | "permissive" | "enforcing";
  /** PEM certificate (chain) and key for TLS; both empty: a self-signed pair made once under dataDir/tls. */
  tlsCertPath: string;
  tlsKeyPath: string;
  /** Host written into routes, store hosts and message ids; clients connect to it. */
  advertisedHost: string;
  /** NameServers to register with ("host:port"). */
  namesrvAddrs: string[];
  /** Create a topic on its first send or route lookup (RocketMQ autoCreateTopicEnable). */
  autoCreateTopicEnable: boolean;
  /** Queues of an auto-created topic. */
  defaultTopicQueueNums: number;
  /** Create a subscription group on its first use (RocketMQ autoCreateSubscriptionGroup). */
  autoCreateSubscriptionGroup: boolean;
  /** Longest a pull may be held waiting for messages (RocketMQ: 15 s, the client's suspend time wins if shorter). */
  longPollingMaxMs: number;
  /** How often the broker registers with every NameServer. */
  registerIntervalMs: number;
  /** How often consumer offsets are written to disk. */
  offsetFlushIntervalMs: number;
  /** Clients silent this long are dropped (RocketMQ: 120 s). */
  clientExpireMs: number;
  /** Delay levels, RocketMQ's messageDelayLevel; retry n waits level 3 + n. */
  messageDelayLevel: string;
  /** Retries before a message goes to the dead-letter queue, unless the group or the client says otherwise. */
  maxReconsumeTimes: number;
  /**
   * How much of the commit log's end, in % of physical memory, counts as "in memory" (RocketMQ's
   * accessMessageInMemoryMaxRatio, 40): a group without an offset is started at 0 only while its queue's first
   * message lies within it (see Broker.queryConsumerOffset).
   */
  accessMessageInMemoryMaxRatio: number;
  /** Lite topics the broker keeps at most (RocketMQ: maxLmqConsumeQueueNum, 20,000); a new one past it is refused. */
  maxLiteTopics: number;
  /** Latest delivery time a timed message may ask for, from now (40 days). */
  timerMaxDelayMs: number;
  /** Lease of an orderly consumer's queue lock; renewed by the owner, taken over only after it lapses (60 s). */
  orderLockLeaseMs: number;
  /** A half message is first checked this long after it was stored, unless it asks for more (6 s). */
  transactionTimeoutMs: number;
  /** Then it is checked again every this long (5 s). */
  transactionCheckIntervalMs: number;
  /** Checks before an unresolved half message is discarded (15). */
  transactionCheckMax: number;
  /** How often backlog alarm rules are evaluated (10 s). */
  alarmCheckIntervalMs: number;
  /** Where the store and the config files live. */
  dataDir: string;
  /** Store settings (dir is dataDir/store unless given). */
  store: Partial<StoreConfig>;
  /**
   * Access control for the three protocols (RocketMQ's plain ACL: accounts, rights, white lists). No accounts
   * (the default): every request is served.
   */
  acl: AclConfig;
}

export function defaultBrokerConfig(dataDir: string): BrokerConfig {
  return {
    brokerName: "broker-a",
    clusterName: "DefaultCluster",
    brokerId: 0,
    brokerRole: "ASYNC_MASTER",
    haListenPort: 0,
    haMasterAddress: "",
    slaveReadEnable: false,
    haSlaveTimeoutMs: 3000,
    haMaxGapBytes: 256 * 1024 * 1024,
    haHeartbeatIntervalMs: 5000,
    haHousekeepingMs: 20_000,
    haReconnectMs: 5000,
    slaveSyncIntervalMs: 10_000,
    listenHost: "0.0.0.0",
    port: 10911,
    grpcPort: 8081,
    tlsMode: "permissive",
    tlsCertPath: "",
    tlsKeyPath: "",
    advertisedHost: "127.0.0.1",
    namesrvAddrs: [],
    autoCreateTopicEnable: true,
    defaultTopicQueueNums: 8,
    autoCreateSubscriptionGroup: true,
    longPollingMaxMs: 15_000,
    registerIntervalMs: 30_000,
    offsetFlushIntervalMs: 5_000,
    clientExpireMs: 120_000,
    messageDelayLevel: "1s 5s 10s 30s 1m 2m 3m 4m 5m 6m 7m 8m 9m 10m 20m 30m 1h 2h",
    maxReconsumeTimes: 16,
    accessMessageInMemoryMaxRatio: 40,
    maxLiteTopics: 20_000,
    orderLockLeaseMs: 60_000,
    timerMaxDelayMs: 40 * 86_400_000,
    transactionTimeoutMs: 6000,
    transactionCheckIntervalMs: 5000,
    transactionCheckMax: 15,
    alarmCheckIntervalMs: 10_000,
    dataDir,
    store: {},
    acl: emptyAclConfig(),
  };
}

/** The delay level of a message's first retry: a message consumed n times waits level 3 + n - 1, as in RocketMQ. */
export const FIRST_RETRY_LEVEL = 3;

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses "1s 5s 10s 1m 2h" into milliseconds per level (level 1 is index 0). */
export function parseDelayLevels(spec: string): number[] {
  return spec
    .trim()
    .split(/\s+/)
    .map((t) => {
      const m = /^(\d+)(ms|s|m|h|d)$/.exec(t);
      if (!m) throw new Error(`messageDelayLevel: cannot read "${t}"`);
      return m[2] === "ms" ? Number(m[1]) : Number(m[1]) * UNIT_MS[m[2]!]!;
    });
}

export function resolveBrokerConfig(partial: Partial<BrokerConfig> & { dataDir: string }): BrokerConfig {
  const c = { ...defaultBrokerConfig(partial.dataDir), ...partial };
  if (partial.brokerRole === undefined && c.brokerId > 0) c.brokerRole = "SLAVE";
  if (!["ASYNC_MASTER", "SYNC_MASTER", "SLAVE"].includes(c.brokerRole))
    throw new Error(`broker config: bad brokerRole ${String(c.brokerRole)}`);
  if ((c.brokerRole === "SLAVE") !== c.brokerId > 0)
    throw new Error(
      `broker config: a ${c.brokerRole} needs brokerId ${c.brokerRole === "SLAVE" ? "> 0" : "0"}`,
    );
  if (!Number.isInteger(c.haListenPort) || c.haListenPort < 0 || c.haListenPort > 65535)
    throw new Error(`broker config: bad haListenPort ${c.haListenPort}`);
  if (!Number.isInteger(c.port) || c.port < 0 || c.port > 65535)
    throw new Error(`broker config: bad port ${c.port}`);
  if (!Number.isInteger(c.grpcPort) || c.grpcPort < 0 || c.grpcPort > 65535)
    throw new Error(`broker config: bad grpcPort ${c.grpcPort}`);
  if (!["disabled", "permissive", "enforcing"].includes(c.tlsMode))
    throw new Error(`broker config: bad tlsMode ${String(c.tlsMode)} (disabled, permissive or enforcing)`);
  if (!c.tlsCertPath !== !c.tlsKeyPath)
    throw new Error("broker config: give both tlsCertPath and tlsKeyPath, or neither");
  if (!Number.isInteger(c.brokerId) || c.brokerId < 0)
    throw new Error(`broker config: bad brokerId ${c.brokerId}`);
  if (!(c.defaultTopicQueueNums >= 1)) throw new Error("broker config: defaultTopicQueueNums must be >= 1");
  if (!(Number.isInteger(c.maxLiteTopics) && c.maxLiteTopics >= 0))
    throw new Error(`broker config: bad maxLiteTopics ${c.maxLiteTopics}`);
  if (!(c.accessMessageInMemoryMaxRatio >= 0 && c.accessMessageInMemoryMaxRatio <= 100))
    throw new Error(`broker config: bad accessMessageInMemoryMaxRatio ${c.accessMessageInMemoryMaxRatio}`);
  parseDelayLevels(c.messageDelayLevel);
  return c;
}
