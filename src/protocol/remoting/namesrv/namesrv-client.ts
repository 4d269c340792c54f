// Calls to a NameServer (ours or Java's) over a RemotingClient: what a broker sends to register itself and
// what our SDK and admin tools ask. Each call targets one NameServer address; a broker registers with every
// NameServer itself (they do not share state), and a client tries them in turn.

import type { TopicConfig } from "../../../common/topic.js";
import type { RemotingClient } from "../client.js";
import type { RemotingCommand } from "../command.js";
import { createRequest } from "../command.js";
import { RequestCode, requestCodeName } from "../request-code.js";
import { ResponseCode, responseCodeName } from "../response-code.js";
import { crc32 } from "node:zlib";
import type { ClusterInfo, DataVersion, TopicRouteData } from "./body-codec.js";
import {
  decodeClusterInfo,
  decodeKVTable,
  decodeTopicList,
  decodeTopicRouteData,
  encodeRegisterBrokerBody,
} from "./body-codec.js";

/** A NameServer answered with a code other than the one the call expects. */
export class NamesrvResponseError extends Error {
  readonly addr: string;
  readonly requestCode: number;
  readonly responseCode: number;
  readonly remark: string | undefined;
  constructor(addr: string, requestCode: number, res: RemotingCommand) {
    super(
      `${requestCodeName(requestCode)} to ${addr} failed: ${responseCodeName(res.code)}` +
        (res.remark === undefined ? "" : ` (${res.remark})`),
    );
    this.name = "NamesrvResponseError";
    this.addr = addr;
    this.requestCode = requestCode;
    this.responseCode = res.code;
    this.remark = res.remark;
  }
}

export interface BrokerRegistrationInfo {
  clusterName: string;
  brokerName: string;
  /** "ip:port" clients should use to reach this broker. */
  brokerAddr: string;
  /** 0 = master. */
  brokerId: number;
  /** "ip:port" of the HA service; "" when there is none. */
  haServerAddr?: string;
  topicConfigs: Iterable<TopicConfig>;
  dataVersion: DataVersion;
  /** Ask the NameServer to expire this broker after this much silence instead of its default. */
  heartbeatTimeoutMs?: number;
  /** Sent as a 5.x broker does (default false); leaving it out would mark us as a pre-5.0 broker. */
  enableActingMaster?: boolean;
  /** Send the body deflated (Java compressedRegister). Default false. */
  compressed?: boolean;
  filterServerList?: readonly string[];
}

export interface RegisterBrokerReply {
  /** For a slave: its master's address and HA address, once the master is registered. */
  masterAddr?: string;
  haServerAddr?: string;
  /** KV namespace ORDER_TOPIC_CONFIG, when the NameServer has it. */
  orderTopicConfig?: Record<string, string>;
}

function expect(
  addr: string,
  req: RemotingCommand,
  res: RemotingCommand,
  code: number = ResponseCode.SUCCESS,
): void {
  if (res.code !== code) throw new NamesrvResponseError(addr, req.code, res);
}

/** REGISTER_BROKER (103). Rejects with NamesrvResponseError or the transport's errors. */
export async function registerBrokerToNamesrv(
  client: RemotingClient,
  namesrvAddr: string,
  info: BrokerRegistrationInfo,
  timeoutMs = 6000,
): Promise<RegisterBrokerReply> {
  const compressed = info.compressed === true;
  const body = encodeRegisterBrokerBody(info.topicConfigs, info.dataVersion, {
    compressed,
    ...(info.filterServerList === undefined ? {} : { filterServerList: info.filterServerList }),
  });
  const ext: Record<string, string> = {
    brokerName: info.brokerName,
    brokerAddr: info.brokerAddr,
    clusterName: info.clusterName,
    haServerAddr: info.haServerAddr ?? "",
    brokerId: String(info.brokerId),
    enableActingMaster: String(info.enableActingMaster ?? false),
    compressed: String(compressed),
    bodyCrc32: String(crc32(body) & 0x7fffffff),
  };
  if (info.heartbeatTimeoutMs !== undefined) ext["heartbeatTimeoutMillis"] = String(info.heartbeatTimeoutMs);
  const req = createRequest(RequestCode.REGISTER_BROKER, ext, body);
  const res = await client.invoke(namesrvAddr, req, timeoutMs);
  expect(namesrvAddr, req, res);
  const reply: RegisterBrokerReply = {};
  const masterAddr = res.extFields["masterAddr"];
  const haServerAddr = res.extFields["haServerAddr"];
  if (masterAddr !== undefined && masterAddr !== "") reply.masterAddr = masterAddr;
  if (haServerAddr !== undefined && haServerAddr !== "") reply.haServerAddr = haServerAddr;
  if (res.body !== undefined && res.body.length > 0) reply.orderTopicConfig = decodeKVTable(res.body);
  return reply;
}

export interface BrokerIdentityInfo {
  clusterName: string;
  brokerName: string;
  brokerAddr: string;
  brokerId: number;
}

/** UNREGISTER_BROKER (104), at broker shutdown. */
export async function unregisterBrokerFromNamesrv(
  client: RemotingClient,
  namesrvAddr: string,
  who: BrokerIdentityInfo,
  timeoutMs = 3000,
): Promise<void> {
  const req = createRequest(RequestCode.UNREGISTER_BROKER, {
    clusterName: who.clusterName,
    brokerName: who.brokerName,
    brokerAddr: who.brokerAddr,
    brokerId: String(who.brokerId),
  });
  expect(namesrvAddr, req, await client.invoke(namesrvAddr, req, timeoutMs));
}

/** GET_ROUTEINFO_BY_TOPIC (105): the route, or undefined when the NameServer answers TOPIC_NOT_EXIST. */
export async function getRouteInfoByTopic(
  client: RemotingClient,
  namesrvAddr: string,
  topic: string,
  timeoutMs = 3000,
): Promise<TopicRouteData | undefined> {
  // A Java NameServer writes standard JSON for requests at version >= V4_9_4 (ours) or with this flag.
  const req = createRequest(RequestCode.GET_ROUTEINFO_BY_TOPIC, { topic, acceptStandardJsonOnly: "true" });
  const res = await client.invoke(namesrvAddr, req, timeoutMs);
  if (res.code === ResponseCode.TOPIC_NOT_EXIST) return undefined;
  expect(namesrvAddr, req, res);
  return decodeTopicRouteData(res.body);
}

/** GET_BROKER_CLUSTER_INFO (106). */
export async function getBrokerClusterInfo(
  client: RemotingClient,
  namesrvAddr: string,
  timeoutMs = 3000,
): Promise<ClusterInfo> {
  const req = createRequest(RequestCode.GET_BROKER_CLUSTER_INFO);
  const res = await client.invoke(namesrvAddr, req, timeoutMs);
  expect(namesrvAddr, req, res);
  return decodeClusterInfo(res.body);
}

/** GET_ALL_TOPIC_LIST_FROM_NAMESERVER (206). */
export async function getAllTopicListFromNamesrv(
  client: RemotingClient,
  namesrvAddr: string,
  timeoutMs = 3000,
): Promise<string[]> {
  const req = createRequest(RequestCode.GET_ALL_TOPIC_LIST_FROM_NAMESERVER);
  const res = await client.invoke(namesrvAddr, req, timeoutMs);
  expect(namesrvAddr, req, res);
  return decodeTopicList(res.body).topicList;
}

/** DELETE_TOPIC_IN_NAMESRV (216): everywhere, or only on `clusterName`'s broker groups. */
export async function deleteTopicInNamesrv(
  client: RemotingClient,
  namesrvAddr: string,
  topic: string,
  clusterName?: string,
  timeoutMs = 3000,
): Promise<void> {
  const ext: Record<string, string> = { topic };
  if (clusterName !== undefined) ext["clusterName"] = clusterName;
  const req = createRequest(RequestCode.DELETE_TOPIC_IN_NAMESRV, ext);
  expect(namesrvAddr, req, await client.invoke(namesrvAddr, req, timeoutMs));
}

/** PUT_KV_CONFIG (100). */
export async function putKvConfig(
  client: RemotingClient,
  namesrvAddr: string,
  namespace: string,
  key: string,
  value: string,
  timeoutMs = 3000,
): Promise<void> {
  const req = createRequest(RequestCode.PUT_KV_CONFIG, { namespace, key, value });
  expect(namesrvAddr, req, await client.invoke(namesrvAddr, req, timeoutMs));
}

/** GET_KV_CONFIG (101): the value, or undefined when the NameServer answers QUERY_NOT_FOUND. */
export async function getKvConfig(
  client: RemotingClient,
  namesrvAddr: string,
  namespace: string,
  key: string,
  timeoutMs = 3000,
): Promise<string | undefined> {
  const req = createRequest(RequestCode.GET_KV_CONFIG, { namespace, key });
  const res = await client.invoke(namesrvAddr, req, timeoutMs);
  if (res.code === ResponseCode.QUERY_NOT_FOUND) return undefined;
  expect(namesrvAddr, req, res);
  return res.extFields["value"];
}
