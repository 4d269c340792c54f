// The NameServer's published data, shaped as RocketMQ's JSON bodies (TopicRouteData, QueueData, BrokerData,
// ClusterInfo, DataVersion) so the codec in src/protocol/remoting/namesrv can write them as they are. Kept
// here, free of wire code, because the registry builds them and the broker and SDK read them.

/** One broker name's queues of a topic (RocketMQ QueueData). perm bits are PermName's: READ 4, WRITE 2, INHERIT 1. */
export interface QueueData {
  brokerName: string;
  readQueueNums: number;
  writeQueueNums: number;
  perm: number;
  topicSysFlag: number;
}

/**
 * A broker group (RocketMQ BrokerData): the addresses of its master and slaves, keyed by broker id written as
 * a decimal string. "0" is the master (MixAll.MASTER_ID); clients send to it and may pull from the others.
 */
export interface BrokerData {
  cluster: string;
  brokerName: string;
  brokerAddrs: Record<string, string>;
  zoneName?: string;
  enableActingMaster: boolean;
}

/** Answer to GET_ROUTEINFO_BY_TOPIC. */
export interface TopicRouteData {
  /** "brokerA:4;brokerB:4" from KV namespace ORDER_TOPIC_CONFIG when order messages are enabled, else null. */
  orderTopicConf: string | null;
  queueDatas: QueueData[];
  brokerDatas: BrokerData[];
  /** broker address → filter server addresses; empty unless brokers report filter servers. */
  filterServerTable: Record<string, string[]>;
}

/** Answer to GET_BROKER_CLUSTER_INFO. */
export interface ClusterInfo {
  brokerAddrTable: Record<string, BrokerData>;
  clusterAddrTable: Record<string, string[]>;
}

/**
 * A broker's version of its topic table (RocketMQ DataVersion). It changes whenever the broker's topics do;
 * the NameServer keeps the last one it saw per broker address (QUERY_DATA_VERSION compares against it).
 */
export interface DataVersion {
  stateVersion: number;
  timestamp: number;
  counter: number;
}

export function dataVersionEquals(a: DataVersion, b: DataVersion): boolean {
  return a.stateVersion === b.stateVersion && a.timestamp === b.timestamp && a.counter === b.counter;
}

/** What a broker sends when it has no body: Java's extractRegisterBrokerBodyFromRequest zeroes all three. */
export function zeroDataVersion(): DataVersion {
  return { stateVersion: 0, timestamp: 0, counter: 0 };
}

/** KV namespace whose values become TopicRouteData.orderTopicConf (NamesrvUtil.NAMESPACE_ORDER_TOPIC_CONFIG). */
export const NAMESPACE_ORDER_TOPIC_CONFIG = "ORDER_TOPIC_CONFIG";

/** MixAll.MASTER_ID. */
export const MASTER_ID = 0;
