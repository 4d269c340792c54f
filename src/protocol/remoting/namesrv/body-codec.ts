// Codec of the JSON bodies NameServer requests and responses carry, used by both sides (our NameServer
// decodes what brokers register; our broker and SDK decode what a NameServer answers). Pure: bytes ⇄ values.
//
// Shapes (field names are Java's, from fastjson):
//   RegisterBrokerBody  {"topicConfigSerializeWrapper":{"topicConfigTable":{"<topic>":TopicConfig,...},
//                        "dataVersion":{"stateVersion":0,"timestamp":ms,"counter":n}},"filterServerList":[]}
//     TopicConfig       {"topicName","readQueueNums","writeQueueNums","perm","topicFilterType":"SINGLE_TAG",
//                        "topicSysFlag","order","attributes":{}}
//     compressed=true   zlib stream of: i32 len + DataVersion JSON | i32 n | n × (i32 len + TopicConfig text
//                        "name read write perm filterType attributesJson") | i32 len + filter server JSON array |
//                        i32 m + m × (i32 len + TopicQueueMappingInfo JSON) (5.x only). Integers big-endian.
//   TopicRouteData      {"orderTopicConf":null,"queueDatas":[QueueData],"brokerDatas":[BrokerData],"filterServerTable":{}}
//     QueueData         {"brokerName","readQueueNums","writeQueueNums","perm","topicSysFlag"}
//     BrokerData        {"cluster","brokerName","brokerAddrs":{"0":"ip:port"},"enableActingMaster":false}
//   ClusterInfo         {"brokerAddrTable":{"<brokerName>":BrokerData},"clusterAddrTable":{"<cluster>":["<brokerName>"]}}
//   TopicList           {"topicList":["..."]} (+ "brokerAddr" for the system topic list)
//   KVTable             {"table":{"k":"v"}}
//
// Decoders accept what fastjson writes without its standard-JSON features, notably bare numeric map keys
// ({0:"ip:port"}, which a Java NameServer sends in ClusterInfo and in routes for old clients), numbers
// written as strings, and missing fields (Java defaults). Anything else malformed throws NamesrvBodyError.

import { deflateSync, inflateSync } from "node:zlib";
import type { TopicConfig } from "../../../common/topic.js";
import { Perm } from "../../../common/topic.js";
import type {
  BrokerData,
  ClusterInfo,
  DataVersion,
  QueueData,
  TopicRouteData,
} from "../../../namesrv/route-data.js";
import { zeroDataVersion } from "../../../namesrv/route-data.js";
import { ResponseCode } from "../response-code.js";

export type {
  BrokerData,
  ClusterInfo,
  DataVersion,
  QueueData,
  TopicRouteData,
} from "../../../namesrv/route-data.js";

/** A body that does not decode; handlers answer it with SYSTEM_ERROR and the message as remark (Java's
 * RemotingCommandException does the same). */
export class NamesrvBodyError extends Error {
  readonly remotingCode: number = ResponseCode.SYSTEM_ERROR;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "NamesrvBodyError";
  }
}

export interface RegisterBrokerBody {
  topicConfigs: TopicConfig[];
  dataVersion: DataVersion;
  filterServerList: string[];
}

export interface TopicList {
  topicList: string[];
  brokerAddr?: string;
}

/** Largest inflated compressed RegisterBrokerBody we accept (a broker with ~100k topics stays well below). */
const MAX_INFLATED_BYTES = 64 * 1024 * 1024;

// ---- lenient JSON ----

/** Quotes bare numeric object keys outside strings: {0:"a"} → {"0":"a"} (fastjson's non-standard map keys). */
function quoteBareNumericKeys(text: string): string {
  let out = "";
  let i = 0;
  let inString = false;
  while (i < text.length) {
    const c = text[i] as string;
    if (inString) {
      out += c;
      if (c === "\\") {
        out += text[i + 1] ?? "";
        i += 2;
        continue;
      }
      if (c === '"') inString = false;
      i++;
      continue;
    }
    if (c === '"') {
      inString = true;
      out += c;
      i++;
      continue;
    }
    out += c;
    i++;
    if (c !== "{" && c !== ",") continue;
    let j = i;
    while (j < text.length && /\s/.test(text[j] as string)) j++;
    const m = /^-?\d+/.exec(text.slice(j, j + 24));
    if (m === null) continue;
    let k = j + m[0].length;
    while (k < text.length && /\s/.test(text[k] as string)) k++;
    if (text[k] !== ":") continue;
    out += `${text.slice(i, j)}"${m[0]}"`;
    i = j + m[0].length;
  }
  return out;
}

/** Parses a JSON body, falling back to fastjson's bare numeric keys; throws NamesrvBodyError. */
export function parseJsonBody(body: Buffer | string | undefined, what: string): unknown {
  if (body === undefined || body.length === 0) throw new NamesrvBodyError(`${what}: empty body`);
  const text = typeof body === "string" ? body : body.toString("utf8");
  try {
    return JSON.parse(text) as unknown;
  } catch (first) {
    try {
      return JSON.parse(quoteBareNumericKeys(text)) as unknown;
    } catch {
      throw new NamesrvBodyError(`${what}: not JSON (${(first as Error).message})`, { cause: first });
    }
  }
}

// ---- field readers ----

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function obj(v: unknown, where: string): Obj {
  if (!isObj(v)) throw new NamesrvBodyError(`${where} is not an object`);
  return v;
}

/** An object, or {} when null/absent (fastjson leaves null maps out). */
function optObj(v: unknown, where: string): Obj {
  return v === undefined || v === null ? {} : obj(v, where);
}

function optArray(v: unknown, where: string): unknown[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new NamesrvBodyError(`${where} is not an array`);
  return v;
}

function str(v: unknown, where: string): string {
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  throw new NamesrvBodyError(`${where} is not a string`);
}

function int(v: unknown, where: string, dflt?: number): number {
  if ((v === undefined || v === null) && dflt !== undefined) return dflt;
  const n = typeof v === "number" ? v : typeof v === "string" && v.trim() !== "" ? Number(v) : NaN;
  if (!Number.isSafeInteger(n)) throw new NamesrvBodyError(`${where} is not an integer`);
  return n;
}

function bool(v: unknown, where: string, dflt: boolean): boolean {
  if (v === undefined || v === null) return dflt;
  if (typeof v === "boolean") return v;
  if (v === "true" || v === "false") return v === "true";
  throw new NamesrvBodyError(`${where} is not a boolean`);
}

function strArray(v: unknown, where: string): string[] {
  return optArray(v, where).map((x, i) => str(x, `${where}[${i}]`));
}

function strMap(v: unknown, where: string): Record<string, string> {
  const o = optObj(v, where);
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(o)) if (x !== null && x !== undefined) out[k] = str(x, `${where}.${k}`);
  return out;
}

// ---- DataVersion ----

export function dataVersionToJson(dv: DataVersion): Obj {
  return { stateVersion: dv.stateVersion, timestamp: dv.timestamp, counter: dv.counter };
}

export function dataVersionFromJson(v: unknown, where = "dataVersion"): DataVersion {
  if (v === undefined || v === null) return zeroDataVersion();
  const o = obj(v, where);
  return {
    stateVersion: int(o["stateVersion"], `${where}.stateVersion`, 0),
    timestamp: int(o["timestamp"], `${where}.timestamp`, 0),
    counter: int(o["counter"], `${where}.counter`, 0),
  };
}

export function encodeDataVersion(dv: DataVersion): Buffer {
  return Buffer.from(JSON.stringify(dataVersionToJson(dv)));
}

export function decodeDataVersion(buf: Buffer | undefined): DataVersion {
  return dataVersionFromJson(parseJsonBody(buf, "DataVersion"));
}

// ---- TopicConfig ----

export function topicConfigToJson(tc: TopicConfig): Obj {
  return {
    topicName: tc.topicName,
    readQueueNums: tc.readQueueNums,
    writeQueueNums: tc.writeQueueNums,
    perm: tc.perm,
    topicFilterType: tc.topicFilterType,
    topicSysFlag: tc.topicSysFlag,
    order: tc.order,
    attributes: tc.attributes,
  };
}

function filterType(v: unknown, where: string): TopicConfig["topicFilterType"] {
  if (v === undefined || v === null) return "SINGLE_TAG";
  if (v === "SINGLE_TAG" || v === "MULTI_TAG") return v;
  throw new NamesrvBodyError(`${where} is not SINGLE_TAG or MULTI_TAG`);
}

/** A TopicConfig from its JSON; `key` (its table key) names it when topicName is missing. Java's defaults fill gaps. */
export function topicConfigFromJson(v: unknown, where: string, key?: string): TopicConfig {
  const o = obj(v, where);
  const name = o["topicName"] ?? key;
  if (name === undefined || name === null || name === "")
    throw new NamesrvBodyError(`${where}.topicName is missing`);
  return {
    topicName: str(name, `${where}.topicName`),
    readQueueNums: int(o["readQueueNums"], `${where}.readQueueNums`, 16),
    writeQueueNums: int(o["writeQueueNums"], `${where}.writeQueueNums`, 16),
    perm: int(o["perm"], `${where}.perm`, Perm.READ_WRITE),
    topicFilterType: filterType(o["topicFilterType"], `${where}.topicFilterType`),
    topicSysFlag: int(o["topicSysFlag"], `${where}.topicSysFlag`, 0),
    order: bool(o["order"], `${where}.order`, false),
    attributes: strMap(o["attributes"], `${where}.attributes`),
  };
}

/** TopicConfig.encode(): the space-separated text the compressed RegisterBrokerBody carries. */
function topicConfigToText(tc: TopicConfig): string {
  return [
    tc.topicName,
    tc.readQueueNums,
    tc.writeQueueNums,
    tc.perm,
    tc.topicFilterType,
    JSON.stringify(tc.attributes),
  ].join(" ");
}

function topicConfigFromText(text: string, where: string): TopicConfig {
  const parts = text.split(" ");
  if (parts.length < 5)
    throw new NamesrvBodyError(`${where}: "${text.slice(0, 80)}" has fewer than 5 fields`);
  let attributes: Record<string, string> = {};
  if (parts.length > 5) {
    // Java ignores attributes that do not parse; so do we.
    try {
      attributes = strMap(JSON.parse(parts.slice(5).join(" ")), `${where}.attributes`);
    } catch {
      attributes = {};
    }
  }
  return {
    topicName: parts[0] as string,
    readQueueNums: int(parts[1], `${where}.readQueueNums`),
    writeQueueNums: int(parts[2], `${where}.writeQueueNums`),
    perm: int(parts[3], `${where}.perm`),
    topicFilterType: filterType(parts[4], `${where}.topicFilterType`),
    topicSysFlag: 0,
    order: false,
    attributes,
  };
}

// ---- RegisterBrokerBody ----

export interface EncodeRegisterBrokerOptions {
  filterServerList?: readonly string[];
  /** Deflate it in Java's compressed layout (send with ext field compressed=true). Loses topicSysFlag/order. */
  compressed?: boolean;
}

export function encodeRegisterBrokerBody(
  topicConfigs: Iterable<TopicConfig>,
  dataVersion: DataVersion,
  opts: EncodeRegisterBrokerOptions = {},
): Buffer {
  const filterServerList = [...(opts.filterServerList ?? [])];
  if (opts.compressed === true) return encodeCompressed([...topicConfigs], dataVersion, filterServerList);
  const topicConfigTable: Obj = {};
  for (const tc of topicConfigs) topicConfigTable[tc.topicName] = topicConfigToJson(tc);
  return Buffer.from(
    JSON.stringify({
      topicConfigSerializeWrapper: { topicConfigTable, dataVersion: dataVersionToJson(dataVersion) },
      filterServerList,
    }),
  );
}

/**
 * Decodes a REGISTER_BROKER body. Also accepts a bare TopicConfigSerializeWrapper (what brokers older than
 * 3.0.11 sent), which Java tells apart by the request version and we by its shape.
 */
export function decodeRegisterBrokerBody(buf: Buffer | undefined, compressed = false): RegisterBrokerBody {
  if (compressed) return decodeCompressed(buf);
  const root = obj(parseJsonBody(buf, "RegisterBrokerBody"), "RegisterBrokerBody");
  const wrapperValue = "topicConfigSerializeWrapper" in root ? root["topicConfigSerializeWrapper"] : root;
  const wrapper = optObj(wrapperValue, "topicConfigSerializeWrapper");
  const table = optObj(wrapper["topicConfigTable"], "topicConfigTable");
  const topicConfigs: TopicConfig[] = [];
  for (const [key, v] of Object.entries(table)) {
    if (v === null) continue;
    topicConfigs.push(topicConfigFromJson(v, `topicConfigTable["${key.slice(0, 64)}"]`, key));
  }
  return {
    topicConfigs,
    dataVersion: dataVersionFromJson(wrapper["dataVersion"], "dataVersion"),
    filterServerList: strArray(root["filterServerList"], "filterServerList"),
  };
}

function i32(n: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeInt32BE(n, 0);
  return b;
}

function encodeCompressed(topicConfigs: TopicConfig[], dv: DataVersion, filterServerList: string[]): Buffer {
  const parts: Buffer[] = [];
  const chunk = (b: Buffer): void => {
    parts.push(i32(b.length), b);
  };
  chunk(encodeDataVersion(dv));
  parts.push(i32(topicConfigs.length));
  for (const tc of topicConfigs) chunk(Buffer.from(topicConfigToText(tc)));
  chunk(Buffer.from(JSON.stringify(filterServerList)));
  parts.push(i32(0)); // no static-topic queue mappings
  // Java uses Deflater.BEST_COMPRESSION with the zlib wrapper (DeflaterOutputStream).
  return deflateSync(Buffer.concat(parts), { level: 9 });
}

function decodeCompressed(buf: Buffer | undefined): RegisterBrokerBody {
  if (buf === undefined || buf.length === 0)
    throw new NamesrvBodyError("compressed RegisterBrokerBody: empty body");
  let raw: Buffer;
  try {
    raw = inflateSync(buf, { maxOutputLength: MAX_INFLATED_BYTES });
  } catch (e) {
    throw new NamesrvBodyError(`compressed RegisterBrokerBody does not inflate: ${(e as Error).message}`, {
      cause: e,
    });
  }
  let pos = 0;
  const readInt = (what: string): number => {
    if (pos + 4 > raw.length)
      throw new NamesrvBodyError(`compressed RegisterBrokerBody: truncated at ${what}`);
    const n = raw.readInt32BE(pos);
    pos += 4;
    return n;
  };
  const readChunk = (what: string): Buffer => {
    const len = readInt(`${what} length`);
    if (len < 0 || pos + len > raw.length) {
      throw new NamesrvBodyError(`compressed RegisterBrokerBody: ${what} length ${len} exceeds the data`);
    }
    const b = raw.subarray(pos, pos + len);
    pos += len;
    return b;
  };
  const dataVersion = decodeDataVersion(readChunk("dataVersion"));
  const count = readInt("topic count");
  if (count < 0 || count > (raw.length - pos) / 4) {
    throw new NamesrvBodyError(`compressed RegisterBrokerBody: topic count ${count} exceeds the data`);
  }
  const topicConfigs: TopicConfig[] = [];
  for (let i = 0; i < count; i++) {
    topicConfigs.push(topicConfigFromText(readChunk(`topic ${i}`).toString("utf8"), `topic ${i}`));
  }
  const filterServerJson = readChunk("filterServerList");
  let filterServerList: string[] = [];
  // Java logs and ignores a filter server list that does not parse.
  try {
    filterServerList = strArray(parseJsonBody(filterServerJson, "filterServerList"), "filterServerList");
  } catch {
    filterServerList = [];
  }
  // The static-topic queue mappings that 5.x brokers append are not supported; they are skipped.
  return { topicConfigs, dataVersion, filterServerList };
}

// ---- TopicRouteData ----

function queueDataToJson(q: QueueData): Obj {
  return {
    brokerName: q.brokerName,
    readQueueNums: q.readQueueNums,
    writeQueueNums: q.writeQueueNums,
    perm: q.perm,
    topicSysFlag: q.topicSysFlag,
  };
}

function brokerDataToJson(b: BrokerData): Obj {
  const o: Obj = { cluster: b.cluster, brokerName: b.brokerName, brokerAddrs: b.brokerAddrs };
  if (b.zoneName !== undefined) o["zoneName"] = b.zoneName;
  o["enableActingMaster"] = b.enableActingMaster;
  return o;
}

function queueDataFromJson(v: unknown, where: string): QueueData {
  const o = obj(v, where);
  return {
    brokerName: str(o["brokerName"], `${where}.brokerName`),
    readQueueNums: int(o["readQueueNums"], `${where}.readQueueNums`, 0),
    writeQueueNums: int(o["writeQueueNums"], `${where}.writeQueueNums`, 0),
    perm: int(o["perm"], `${where}.perm`, 0),
    topicSysFlag: int(o["topicSysFlag"], `${where}.topicSysFlag`, 0),
  };
}

function brokerDataFromJson(v: unknown, where: string): BrokerData {
  const o = obj(v, where);
  const bd: BrokerData = {
    cluster: o["cluster"] === undefined || o["cluster"] === null ? "" : str(o["cluster"], `${where}.cluster`),
    brokerName: str(o["brokerName"], `${where}.brokerName`),
    brokerAddrs: strMap(o["brokerAddrs"], `${where}.brokerAddrs`),
    enableActingMaster: bool(o["enableActingMaster"], `${where}.enableActingMaster`, false),
  };
  if (typeof o["zoneName"] === "string") bd.zoneName = o["zoneName"];
  return bd;
}

export function topicRouteDataToJson(r: TopicRouteData): Obj {
  return {
    orderTopicConf: r.orderTopicConf,
    queueDatas: r.queueDatas.map(queueDataToJson),
    brokerDatas: r.brokerDatas.map(brokerDataToJson),
    filterServerTable: r.filterServerTable,
  };
}

export function encodeTopicRouteData(r: TopicRouteData): Buffer {
  return Buffer.from(JSON.stringify(topicRouteDataToJson(r)));
}

export function decodeTopicRouteData(buf: Buffer | undefined): TopicRouteData {
  const o = obj(parseJsonBody(buf, "TopicRouteData"), "TopicRouteData");
  const fst = optObj(o["filterServerTable"], "filterServerTable");
  const filterServerTable: Record<string, string[]> = {};
  for (const [addr, list] of Object.entries(fst))
    filterServerTable[addr] = strArray(list, `filterServerTable.${addr}`);
  const otc = o["orderTopicConf"];
  return {
    orderTopicConf: otc === undefined || otc === null ? null : str(otc, "orderTopicConf"),
    queueDatas: optArray(o["queueDatas"], "queueDatas").map((q, i) =>
      queueDataFromJson(q, `queueDatas[${i}]`),
    ),
    brokerDatas: optArray(o["brokerDatas"], "brokerDatas").map((b, i) =>
      brokerDataFromJson(b, `brokerDatas[${i}]`),
    ),
    filterServerTable,
  };
}

// ---- ClusterInfo ----

export function encodeClusterInfo(ci: ClusterInfo): Buffer {
  const brokerAddrTable: Obj = {};
  for (const [name, bd] of Object.entries(ci.brokerAddrTable)) brokerAddrTable[name] = brokerDataToJson(bd);
  return Buffer.from(JSON.stringify({ brokerAddrTable, clusterAddrTable: ci.clusterAddrTable }));
}

export function decodeClusterInfo(buf: Buffer | undefined): ClusterInfo {
  const o = obj(parseJsonBody(buf, "ClusterInfo"), "ClusterInfo");
  const brokerAddrTable: Record<string, BrokerData> = {};
  for (const [name, v] of Object.entries(optObj(o["brokerAddrTable"], "brokerAddrTable"))) {
    brokerAddrTable[name] = brokerDataFromJson(v, `brokerAddrTable.${name}`);
  }
  const clusterAddrTable: Record<string, string[]> = {};
  for (const [name, v] of Object.entries(optObj(o["clusterAddrTable"], "clusterAddrTable"))) {
    clusterAddrTable[name] = strArray(v, `clusterAddrTable.${name}`);
  }
  return { brokerAddrTable, clusterAddrTable };
}

// ---- TopicList, KVTable ----

export function encodeTopicList(tl: TopicList): Buffer {
  const o: Obj = { topicList: tl.topicList };
  if (tl.brokerAddr !== undefined) o["brokerAddr"] = tl.brokerAddr;
  return Buffer.from(JSON.stringify(o));
}

export function decodeTopicList(buf: Buffer | undefined): TopicList {
  const o = obj(parseJsonBody(buf, "TopicList"), "TopicList");
  const tl: TopicList = { topicList: strArray(o["topicList"], "topicList") };
  if (typeof o["brokerAddr"] === "string") tl.brokerAddr = o["brokerAddr"];
  return tl;
}

export function encodeKVTable(table: Record<string, string>): Buffer {
  return Buffer.from(JSON.stringify({ table }));
}

export function decodeKVTable(buf: Buffer | undefined): Record<string, string> {
  const o = obj(parseJsonBody(buf, "KVTable"), "KVTable");
  return strMap(o["table"], "table");
}
