// The NameServer's route tables (RocketMQ RouteInfoManager), as pure logic: no sockets, no timers, no logging.
// The owner (createNamesrv) feeds it registrations, runs scanNotActiveBrokers() on a timer and logs what the
// calls return. Time comes from an injectable clock so tests can expire brokers without sleeping.
//
// Tables, as in Java:
//   topicQueueTable   topic → brokerName → QueueData
//   brokerAddrTable   brokerName → { cluster, brokerAddrs: brokerId → addr, ... }
//   clusterAddrTable  cluster → { brokerName }
//   brokerLiveTable   (cluster, brokerAddr) → { last seen, timeout, dataVersion, channel, haServerAddr }
//   filterServerTable (cluster, brokerAddr) → filter server addresses
//
// Followed on purpose: only the master (broker id 0) writes queue data, a registration with topics never
// deletes the broker's other topics (brokers send one-topic "increment" registrations after creating a topic),
// removing a broker group's last address removes its queue data and any topic left without queues.
// Not followed: Java refuses a first registration whose topic table has exactly one topic (it takes it for
// an "increment" registration from a broker it does not know). A Java broker always has a dozen system
// topics, but ours may register with one, so we accept it; an increment from an unknown broker then
// registers it with that topic until its next full registration (at most 30 s later).
// Left out: static topics (topicQueueMappingInfo), the acting-master route rewrite and min-broker-id change
// notifications (namesrvConfig.supportActingMaster and notifyMinBrokerIdChanged are off by default in Java).

import type { TopicConfig } from "../common/topic.js";
import {
  DLQ_PREFIX,
  isSystemTopic,
  Perm,
  RETRY_PREFIX,
  SystemTopic,
  topicNameProblem,
} from "../common/topic.js";
import type { BrokerData, ClusterInfo, DataVersion, QueueData, TopicRouteData } from "./route-data.js";
import { dataVersionEquals, MASTER_ID, zeroDataVersion } from "./route-data.js";

export interface RouteRegistryOptions {
  /**
   * How long a broker may stay silent before scanNotActiveBrokers() drops it, unless its registration names
   * its own timeout (heartbeatTimeoutMillis). Default 120000, Java's DEFAULT_BROKER_CHANNEL_EXPIRED_TIME.
   */
  brokerExpireMs?: number;
  /** Clock in ms; default Date.now. */
  now?: () => number;
  /**
   * Answer GET_ROUTEINFO_BY_TOPIC for an unknown topic with a route on the brokers whose TBW102 carries the
   * INHERIT perm (see autoTopicRoute). Default true. Not in Java's NameServer: see autoTopicRoute for why.
   */
  autoCreateTopicRoutes?: boolean;
  /**
   * Queue count cap for auto routes: the client's defaultTopicQueueNums, which the Java client applies to the
   * TBW102 route and the broker applies when it creates the topic on first send. Default 4.
   */
  autoCreateQueueNums?: number;
  /**
   * Delete a broker's topics that its registration no longer lists (Java namesrvConfig
   * deleteTopicWithBrokerRegistration, default false). Leave off if brokers send increment registrations.
   */
  deleteTopicWithBrokerRegistration?: boolean;
}

/** One REGISTER_BROKER, decoded. */
export interface BrokerRegistration {
  clusterName: string;
  brokerName: string;
  brokerAddr: string;
  /** 0 = master, > 0 = slave. */
  brokerId: number;
  haServerAddr: string;
  /** The broker's topic table; undefined when the request had no body (then no queue data changes). */
  topicConfigs?: readonly TopicConfig[];
  /** Version of that table; zero when absent. */
  dataVersion?: DataVersion;
  /** Expiry for this broker instead of the registry default (RegisterBrokerRequestHeader.heartbeatTimeoutMillis). */
  heartbeatTimeoutMs?: number;
  /** undefined leaves the broker's filter servers as they are; [] clears them. */
  filterServerList?: readonly string[];
  zoneName?: string;
  /** undefined marks an old (pre-5.0) broker, which never acts as master while a slave. */
  enableActingMaster?: boolean;
  /** Identity of the connection it came on (its remote "ip:port"), so connectionClosed() can find it. */
  channel?: string;
}

export interface RegisterOutcome {
  /** For a slave: the master's address and HA address, when the master is registered and alive. */
  masterAddr?: string;
  haServerAddr?: string;
  /** First registration from this (cluster, address). */
  newBroker: boolean;
  /** Ignored: another address holds this broker id with a newer stateVersion (nothing was changed). */
  conflict?: boolean;
}

export interface BrokerIdentity {
  clusterName: string;
  brokerName: string;
  brokerAddr: string;
  brokerId: number;
}

export interface LiveBroker {
  clusterName: string;
  brokerAddr: string;
  /** Undefined when the address is in no broker group (should not happen). */
  brokerName: string | undefined;
  brokerId: number | undefined;
  lastUpdateTimestamp: number;
  heartbeatTimeoutMs: number;
  dataVersion: DataVersion;
  haServerAddr: string;
  channel: string | undefined;
}

interface BrokerGroup {
  cluster: string;
  brokerName: string;
  addrs: Map<number, string>;
  zoneName: string | undefined;
  enableActingMaster: boolean;
}

interface LiveInfo {
  clusterName: string;
  brokerAddr: string;
  lastUpdateTimestamp: number;
  heartbeatTimeoutMs: number;
  dataVersion: DataVersion;
  channel: string | undefined;
  haServerAddr: string;
}

function liveKey(clusterName: string, brokerAddr: string): string {
  return `${clusterName}\n${brokerAddr}`;
}

function minKey(m: Map<number, string>): number | undefined {
  let min: number | undefined;
  for (const k of m.keys()) if (min === undefined || k < min) min = k;
  return min;
}

function byBrokerName(a: { brokerName: string }, b: { brokerName: string }): number {
  return a.brokerName < b.brokerName ? -1 : a.brokerName > b.brokerName ? 1 : 0;
}

export class RouteRegistry {
  readonly brokerExpireMs: number;
  // These three can change at runtime (UPDATE_NAMESRV_CONFIG).
  autoCreateTopicRoutes: boolean;
  autoCreateQueueNums: number;
  deleteTopicWithBrokerRegistration: boolean;
  private readonly now: () => number;

  private readonly topicQueueTable = new Map<string, Map<string, QueueData>>();
  private readonly brokerAddrTable = new Map<string, BrokerGroup>();
  private readonly clusterAddrTable = new Map<string, Set<string>>();
  private readonly brokerLiveTable = new Map<string, LiveInfo>();
  private readonly filterServerTable = new Map<string, string[]>();

  constructor(opts: RouteRegistryOptions = {}) {
    this.brokerExpireMs = opts.brokerExpireMs ?? 120_000;
    this.autoCreateTopicRoutes = opts.autoCreateTopicRoutes ?? true;
    this.autoCreateQueueNums = opts.autoCreateQueueNums ?? 4;
    this.deleteTopicWithBrokerRegistration = opts.deleteTopicWithBrokerRegistration ?? false;
    this.now = opts.now ?? Date.now;
  }

  // ---- brokers ----

  registerBroker(reg: BrokerRegistration): RegisterOutcome {
    const { clusterName, brokerName, brokerAddr, brokerId } = reg;
    const dataVersion = reg.dataVersion ?? zeroDataVersion();
    const topicConfigs = reg.topicConfigs ?? [];

    let names = this.clusterAddrTable.get(clusterName);
    if (names === undefined) {
      names = new Set();
      this.clusterAddrTable.set(clusterName, names);
    }
    names.add(brokerName);

    let group = this.brokerAddrTable.get(brokerName);
    let registerFirst = false;
    if (group === undefined) {
      registerFirst = true;
      group = {
        cluster: clusterName,
        brokerName,
        addrs: new Map(),
        zoneName: undefined,
        enableActingMaster: false,
      };
      this.brokerAddrTable.set(brokerName, group);
    }
    const oldVersionBroker = reg.enableActingMaster === undefined;
    group.enableActingMaster = reg.enableActingMaster === true;
    group.zoneName = reg.zoneName;
    const addrs = group.addrs;

    // A slave promoted to master (or the reverse) re-registers the same address under another id: one
    // address must appear once in a group.
    for (const [id, addr] of addrs) if (addr === brokerAddr && id !== brokerId) addrs.delete(id);

    // Another address already holds this id: keep whichever has the newer stateVersion.
    const holder = addrs.get(brokerId);
    if (holder !== undefined && holder !== brokerAddr) {
      const holderLive = this.brokerLiveTable.get(liveKey(clusterName, holder));
      if (holderLive !== undefined && holderLive.dataVersion.stateVersion > dataVersion.stateVersion) {
        this.brokerLiveTable.delete(liveKey(clusterName, brokerAddr));
        return { newBroker: false, conflict: true };
      }
    }

    const previousAddr = addrs.get(brokerId);
    addrs.set(brokerId, brokerAddr);
    registerFirst ||= previousAddr === undefined;

    const isMaster = brokerId === MASTER_ID;
    // A 5.x slave with the lowest id while the master is gone keeps the group's queue data current.
    const isPrimeSlave = !oldVersionBroker && !isMaster && brokerId === minKey(addrs);
    // As in RocketMQ, a master's periodic registration rewrites a topic's queue data only when its topic table
    // changed (another data version) or the topic lacks this group: so an operator's WIPE_WRITE_PERM_OF_BROKER
    // holds until the broker's topics change, and is not undone 30 s later by the next registration.
    const tableChanged =
      registerFirst || !isMaster || this.isBrokerTopicConfigChanged(clusterName, brokerAddr, dataVersion);
    if (reg.topicConfigs !== undefined && (isMaster || isPrimeSlave)) {
      if (this.deleteTopicWithBrokerRegistration) {
        const keep = new Set(topicConfigs.map((t) => t.topicName));
        for (const [topic, queues] of this.topicQueueTable) {
          if (keep.has(topic) || !queues.delete(brokerName)) continue;
          if (queues.size === 0) this.topicQueueTable.delete(topic);
        }
      }
      for (const tc of topicConfigs) {
        if (!tableChanged && this.topicQueueTable.get(tc.topicName)?.has(brokerName) === true) continue;
        let perm = tc.perm;
        // Acting master: readable only, so producers move to other groups while the master is down.
        if (isPrimeSlave && group.enableActingMaster) perm &= ~Perm.WRITE;
        this.putQueueData(tc.topicName, {
          brokerName,
          readQueueNums: tc.readQueueNums,
          writeQueueNums: tc.writeQueueNums,
          perm,
          topicSysFlag: tc.topicSysFlag,
        });
      }
    }

    const key = liveKey(clusterName, brokerAddr);
    const newBroker = !this.brokerLiveTable.has(key);
    this.brokerLiveTable.set(key, {
      clusterName,
      brokerAddr,
      lastUpdateTimestamp: this.now(),
      heartbeatTimeoutMs: reg.heartbeatTimeoutMs ?? this.brokerExpireMs,
      dataVersion: { ...dataVersion },
      channel: reg.channel,
      haServerAddr: reg.haServerAddr,
    });

    if (reg.filterServerList !== undefined) {
      if (reg.filterServerList.length === 0) this.filterServerTable.delete(key);
      else this.filterServerTable.set(key, [...reg.filterServerList]);
    }

    const outcome: RegisterOutcome = { newBroker };
    if (!isMaster) {
      const masterAddr = addrs.get(MASTER_ID);
      const masterLive =
        masterAddr === undefined ? undefined : this.brokerLiveTable.get(liveKey(clusterName, masterAddr));
      if (masterAddr !== undefined && masterLive !== undefined) {
        outcome.masterAddr = masterAddr;
        outcome.haServerAddr = masterLive.haServerAddr;
      }
    }
    return outcome;
  }

  /** UNREGISTER_BROKER: drops the address from its group, and the group's topics when it was the last one. */
  unregisterBroker(who: BrokerIdentity): boolean {
    const key = liveKey(who.clusterName, who.brokerAddr);
    const wasLive = this.brokerLiveTable.delete(key);
    this.filterServerTable.delete(key);

    const group = this.brokerAddrTable.get(who.brokerName);
    if (group === undefined) return wasLive;
    let removed = false;
    for (const [id, addr] of group.addrs) {
      if (addr === who.brokerAddr) {
        group.addrs.delete(id);
        removed = true;
      }
    }
    if (group.addrs.size === 0) {
      this.forgetGroup(who.clusterName, who.brokerName);
      this.removeBrokerNameFromTopics(who.brokerName);
    } else if (group.enableActingMaster && (minKey(group.addrs) ?? 0) > MASTER_ID) {
      // The master left an acting-master group: its queues become read-only until it returns.
      for (const queues of this.topicQueueTable.values()) {
        const qd = queues.get(who.brokerName);
        if (qd !== undefined) qd.perm &= ~Perm.WRITE;
      }
    }
    return wasLive || removed;
  }

  /** BROKER_HEARTBEAT: refreshes the last-seen time; false when the broker is not registered. */
  touchBroker(clusterName: string, brokerAddr: string): boolean {
    const live = this.brokerLiveTable.get(liveKey(clusterName, brokerAddr));
    if (live === undefined) return false;
    live.lastUpdateTimestamp = this.now();
    return true;
  }

  /** The topic-table version last registered from this broker (QUERY_DATA_VERSION). */
  brokerDataVersion(clusterName: string, brokerAddr: string): DataVersion | undefined {
    const dv = this.brokerLiveTable.get(liveKey(clusterName, brokerAddr))?.dataVersion;
    return dv === undefined ? undefined : { ...dv };
  }

  isBrokerTopicConfigChanged(clusterName: string, brokerAddr: string, dataVersion: DataVersion): boolean {
    const prev = this.brokerLiveTable.get(liveKey(clusterName, brokerAddr))?.dataVersion;
    return prev === undefined || !dataVersionEquals(prev, dataVersion);
  }

  /**
   * WIPE_WRITE_PERM_OF_BROKER (`wipe`) and ADD_WRITE_PERM_OF_BROKER: takes the write permission off every topic's
   * queues on the group `brokerName`, so that producers move to other groups while consumers drain it, or gives
   * read and write back. Returns how many topics were changed.
   */
  setWritePermOfBroker(brokerName: string, wipe: boolean): number {
    let n = 0;
    for (const queues of this.topicQueueTable.values()) {
      const qd = queues.get(brokerName);
      if (qd === undefined) continue;
      qd.perm = wipe ? qd.perm & ~Perm.WRITE : Perm.READ | Perm.WRITE;
      n++;
    }
    return n;
  }

  /**
   * GET_SYSTEM_TOPIC_LIST_FROM_NS: RocketMQ's "system topics" of a NameServer are its cluster names and broker
   * names (a topic of each name exists on the brokers), with the address of one broker to ask for more.
   */
  getSystemTopicList(): { topicList: string[]; brokerAddr?: string } {
    const names = new Set<string>();
    for (const [cluster, brokers] of this.clusterAddrTable) {
      names.add(cluster);
      for (const b of brokers) names.add(b);
    }
    let brokerAddr: string | undefined;
    for (const group of this.brokerAddrTable.values()) {
      const first = group.addrs.values().next();
      if (!first.done) {
        brokerAddr = first.value;
        break;
      }
    }
    return { topicList: [...names].sort(), ...(brokerAddr === undefined ? {} : { brokerAddr }) };
  }

  /**
   * Topics whose queue data carries the unit flags (TopicSysFlag: 1 unit, 2 has unit subscription), for
   * GET_UNIT_TOPIC_LIST, GET_HAS_UNIT_SUB_TOPIC_LIST and GET_HAS_UNIT_SUB_UNUNIT_TOPIC_LIST.
   */
  getTopicsBySysFlag(test: (sysFlag: number) => boolean): string[] {
    const out: string[] = [];
    for (const [topic, queues] of this.topicQueueTable) {
      const first = queues.values().next();
      if (!first.done && test(first.value.topicSysFlag)) out.push(topic);
    }
    return out.sort();
  }

  /**
   * Removes every broker registered over the connection `channel` (BrokerHousekeepingService: a closed
   * channel unregisters at once instead of waiting for the expiry scan). Returns who was removed.
   */
  connectionClosed(channel: string): LiveBroker[] {
    const gone: LiveBroker[] = [];
    for (const live of [...this.brokerLiveTable.values()]) {
      if (live.channel === channel) gone.push(this.dropLive(live));
    }
    return gone;
  }

  /** Removes brokers silent for longer than their timeout (scanNotActiveBroker); returns who was removed. */
  scanNotActiveBrokers(): LiveBroker[] {
    const now = this.now();
    const gone: LiveBroker[] = [];
    for (const live of [...this.brokerLiveTable.values()]) {
      if (live.lastUpdateTimestamp + live.heartbeatTimeoutMs < now) gone.push(this.dropLive(live));
    }
    return gone;
  }

  /** How many live brokers registered over `channel`. */
  brokersOnChannel(channel: string): number {
    let n = 0;
    for (const live of this.brokerLiveTable.values()) if (live.channel === channel) n++;
    return n;
  }

  liveBrokers(): LiveBroker[] {
    return [...this.brokerLiveTable.values()].map((l) => this.describe(l));
  }

  // ---- topics ----

  /**
   * REGISTER_TOPIC_IN_NAMESRV: sets queue data for a topic on broker groups that are registered. Refuses the
   * whole call (false) if any queue data names an unknown group, as Java does.
   */
  registerTopic(topic: string, queueDatas: readonly QueueData[]): boolean {
    if (queueDatas.length === 0) return false;
    for (const qd of queueDatas) if (!this.brokerAddrTable.has(qd.brokerName)) return false;
    for (const qd of queueDatas) this.putQueueData(topic, { ...qd });
    return true;
  }

  /** DELETE_TOPIC_IN_NAMESRV: the whole topic, or only its queues on one cluster's broker groups. */
  deleteTopic(topic: string, clusterName?: string): boolean {
    if (clusterName === undefined || clusterName === "") return this.topicQueueTable.delete(topic);
    const names = this.clusterAddrTable.get(clusterName);
    const queues = this.topicQueueTable.get(topic);
    if (names === undefined || queues === undefined) return false;
    let removed = false;
    for (const name of names) removed = queues.delete(name) || removed;
    if (queues.size === 0) this.topicQueueTable.delete(topic);
    return removed;
  }

  /** The registered route of `topic` (pickupTopicRouteData), or undefined when no live group serves it. */
  pickupTopicRoute(topic: string): TopicRouteData | undefined {
    const queues = this.topicQueueTable.get(topic);
    if (queues === undefined || queues.size === 0) return undefined;
    const brokerDatas: BrokerData[] = [];
    const filterServerTable: Record<string, string[]> = {};
    for (const name of queues.keys()) {
      const group = this.brokerAddrTable.get(name);
      if (group === undefined) continue;
      brokerDatas.push(this.brokerDataOf(group));
      if (this.filterServerTable.size === 0) continue;
      for (const addr of group.addrs.values()) {
        const servers = this.filterServerTable.get(liveKey(group.cluster, addr));
        if (servers !== undefined) filterServerTable[addr] = [...servers];
      }
    }
    if (brokerDatas.length === 0) return undefined;
    return {
      orderTopicConf: null,
      queueDatas: [...queues.values()].map((q) => ({ ...q })).sort(byBrokerName),
      brokerDatas: brokerDatas.sort(byBrokerName),
      filterServerTable,
    };
  }

  /** The route GET_ROUTEINFO_BY_TOPIC answers: the registered one, else an auto route when allowed. */
  getTopicRoute(topic: string): TopicRouteData | undefined {
    return (
      this.pickupTopicRoute(topic) ?? (this.autoCreateTopicRoutes ? this.autoTopicRoute(topic) : undefined)
    );
  }

  /**
   * A route for a topic no broker has yet, on the groups whose TBW102 has the INHERIT perm (brokers with
   * autoCreateTopicEnable register TBW102 with perm 7).
   *
   * Deviation from RocketMQ: Java's NameServer answers TOPIC_NOT_EXIST and the Java producer then asks for
   * TBW102's route itself, caps its queue counts at defaultTopicQueueNums (4) and sends; the broker creates
   * the topic on that first send and registers it. ali-ons never makes that fallback (it throws on
   * TOPIC_NOT_EXIST), so we answer with the route the Java client would have built: TBW102's groups,
   * min(autoCreateQueueNums, TBW102 readQueueNums) read and write queues, perm 6. Names that are invalid,
   * system topics, and retry/DLQ topics (the broker creates those itself, with other queue counts) get none.
   */
  autoTopicRoute(topic: string): TopicRouteData | undefined {
    if (topicNameProblem(topic) !== undefined || isSystemTopic(topic)) return undefined;
    if (topic.startsWith(RETRY_PREFIX) || topic.startsWith(DLQ_PREFIX)) return undefined;
    const template = this.topicQueueTable.get(SystemTopic.DEFAULT);
    if (template === undefined) return undefined;
    const queueDatas: QueueData[] = [];
    const brokerDatas: BrokerData[] = [];
    for (const qd of template.values()) {
      if ((qd.perm & Perm.INHERIT) === 0) continue;
      const group = this.brokerAddrTable.get(qd.brokerName);
      if (group === undefined) continue;
      const n = Math.min(this.autoCreateQueueNums, qd.readQueueNums);
      if (n <= 0) continue;
      queueDatas.push({
        brokerName: qd.brokerName,
        readQueueNums: n,
        writeQueueNums: n,
        perm: Perm.READ_WRITE,
        topicSysFlag: 0,
      });
      brokerDatas.push(this.brokerDataOf(group));
    }
    if (queueDatas.length === 0) return undefined;
    return {
      orderTopicConf: null,
      queueDatas: queueDatas.sort(byBrokerName),
      brokerDatas: brokerDatas.sort(byBrokerName),
      filterServerTable: {},
    };
  }

  getAllTopicList(): string[] {
    return [...this.topicQueueTable.keys()].sort();
  }

  /** Topics with queues on any broker group of `cluster` (GET_TOPICS_BY_CLUSTER). */
  getTopicsByCluster(cluster: string): string[] {
    const names = this.clusterAddrTable.get(cluster);
    if (names === undefined) return [];
    const out: string[] = [];
    for (const [topic, queues] of this.topicQueueTable) {
      for (const name of names) {
        if (queues.has(name)) {
          out.push(topic);
          break;
        }
      }
    }
    return out.sort();
  }

  getClusterInfo(): ClusterInfo {
    const brokerAddrTable: Record<string, BrokerData> = {};
    for (const name of [...this.brokerAddrTable.keys()].sort()) {
      const group = this.brokerAddrTable.get(name);
      if (group !== undefined) brokerAddrTable[name] = this.brokerDataOf(group);
    }
    const clusterAddrTable: Record<string, string[]> = {};
    for (const cluster of [...this.clusterAddrTable.keys()].sort()) {
      clusterAddrTable[cluster] = [...(this.clusterAddrTable.get(cluster) ?? [])].sort();
    }
    return { brokerAddrTable, clusterAddrTable };
  }

  // ---- internals ----

  private putQueueData(topic: string, qd: QueueData): void {
    let queues = this.topicQueueTable.get(topic);
    if (queues === undefined) {
      queues = new Map();
      this.topicQueueTable.set(topic, queues);
    }
    queues.set(qd.brokerName, qd);
  }

  private forgetGroup(clusterName: string, brokerName: string): void {
    this.brokerAddrTable.delete(brokerName);
    const names = this.clusterAddrTable.get(clusterName);
    if (names === undefined) return;
    names.delete(brokerName);
    if (names.size === 0) this.clusterAddrTable.delete(clusterName);
  }

  private removeBrokerNameFromTopics(brokerName: string): void {
    for (const [topic, queues] of this.topicQueueTable) {
      if (queues.delete(brokerName) && queues.size === 0) this.topicQueueTable.delete(topic);
    }
  }

  /** Finds the group and id of a live entry (setupUnRegisterRequest) and unregisters it. */
  private dropLive(live: LiveInfo): LiveBroker {
    const info = this.describe(live);
    if (info.brokerName !== undefined && info.brokerId !== undefined) {
      this.unregisterBroker({
        clusterName: live.clusterName,
        brokerName: info.brokerName,
        brokerAddr: live.brokerAddr,
        brokerId: info.brokerId,
      });
    } else {
      const key = liveKey(live.clusterName, live.brokerAddr);
      this.brokerLiveTable.delete(key);
      this.filterServerTable.delete(key);
    }
    return info;
  }

  private describe(live: LiveInfo): LiveBroker {
    let brokerName: string | undefined;
    let brokerId: number | undefined;
    for (const group of this.brokerAddrTable.values()) {
      if (group.cluster !== live.clusterName) continue;
      for (const [id, addr] of group.addrs) {
        if (addr === live.brokerAddr) {
          brokerName = group.brokerName;
          brokerId = id;
          break;
        }
      }
      if (brokerName !== undefined) break;
    }
    return {
      clusterName: live.clusterName,
      brokerAddr: live.brokerAddr,
      brokerName,
      brokerId,
      lastUpdateTimestamp: live.lastUpdateTimestamp,
      heartbeatTimeoutMs: live.heartbeatTimeoutMs,
      dataVersion: { ...live.dataVersion },
      haServerAddr: live.haServerAddr,
      channel: live.channel,
    };
  }

  private brokerDataOf(group: BrokerGroup): BrokerData {
    const brokerAddrs: Record<string, string> = {};
    for (const id of [...group.addrs.keys()].sort((a, b) => a - b))
      brokerAddrs[String(id)] = group.addrs.get(id) ?? "";
    const bd: BrokerData = {
      cluster: group.cluster,
      brokerName: group.brokerName,
      brokerAddrs,
      enableActingMaster: group.enableActingMaster,
    };
    if (group.zoneName !== undefined) bd.zoneName = group.zoneName;
    return bd;
  }
}
