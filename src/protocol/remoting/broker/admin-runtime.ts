// The broker's own state for admin tools. GET_BROKER_RUNTIME_INFO (28): body KVTable {"table":{key:"value"}}
// with the keys and text forms of RocketMQ's AdminBrokerProcessor.prepareRuntimeInfo, as mqadmin clusterList and
// brokerStatus and the Dashboard parse them. GET_BROKER_CONFIG (26): body properties text, ext field `version`
// (a DataVersion JSON). UPDATE_BROKER_CONFIG (25): body properties text; refusals are SYSTEM_ERROR with a remark.
import type { Broker } from "../../../broker/broker.js";
import { runtimeFigures } from "../../../broker/ops/runtime-figures.js";
import type { RemotingCommand } from "../command.js";
import { createResponse } from "../command.js";
import { REMOTING_VERSION } from "../command.js";
import { ResponseCode } from "../response-code.js";
import { formatJavaProperties, parseJavaProperties } from "../../../common/java-properties.js";
import { badRequestAs, jsonResponse } from "./admin-codec.js";

/** MQVersion's name of REMOTING_VERSION, the version this broker speaks. */
const VERSION_DESC = REMOTING_VERSION === 401 ? "V4_9_4" : `version ${REMOTING_VERSION}`;

/** Java's Double.toString for the values we produce: integers keep a ".0". */
const javaDouble = (x: number): string => (Number.isInteger(x) ? x.toFixed(1) : String(x));

/** MixAll.humanReadableByteCount(bytes, false). */
function humanBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const exp = Math.min(6, Math.floor(Math.log(bytes) / Math.log(1024)));
  return `${(bytes / 1024 ** exp).toFixed(1)} ${"KMGTPE"[exp - 1]}iB`;
}

function uptime(ms: number): string {
  const s = Math.floor(ms / 1000);
  return `[ ${Math.floor(s / 86400)} days, ${Math.floor((s % 86400) / 3600)} hours, ${Math.floor((s % 3600) / 60)} minutes, ${s % 60} seconds ]`;
}

export function runtimeInfoTable(broker: Broker, now = Date.now()): Record<string, string> {
  const f = runtimeFigures(broker);
  const tps = (r: number[]) => r.map(javaDouble).join(" ");
  const t: Record<string, string> = {
    brokerVersionDesc: VERSION_DESC,
    brokerActive: String(f.active),
    bootTimestamp: String(f.bootTimestamp),
    runtime: uptime(now - f.bootTimestamp),
    msgPutTotalTodayNow: String(f.putTotal),
    msgPutTotalTodayMorning: String(f.todayMorning.put),
    msgPutTotalYesterdayMorning: String(f.yesterdayMorning.put),
    msgGetTotalTodayNow: String(f.getTotal),
    msgGetTotalTodayMorning: String(f.todayMorning.get),
    msgGetTotalYesterdayMorning: String(f.yesterdayMorning.get),
    putTps: tps(f.putTps),
    // Messages delivered per second; RocketMQ 4.x spelled the key "getTransferedTps", 5.x "getTransferredTps".
    getTransferredTps: tps(f.getTps),
    getTransferedTps: tps(f.getTps),
    commitLogMinOffset: String(f.commitLogMinOffset),
    commitLogMaxOffset: String(f.commitLogMaxOffset),
    // One disk holds the commit log and the consume queues (dataDir/store).
    commitLogDiskRatio: javaDouble(f.diskUsedRatio),
    consumeQueueDiskRatio: javaDouble(f.diskUsedRatio),
    dispatchBehindBytes: String(f.dispatchBehindBytes),
    remainHowManyDataToFlush: humanBytes(f.flushBehindBytes),
    earliestMessageTimeStamp: String(f.earliestMessageTime),
    // RocketMQ's default: the broker takes sends as soon as it starts.
    startAcceptSendRequestTimeStamp: "0",
  };
  // No honest figure for these, so RocketMQ's idle answers. Pull requests are not counted (only messages
  // delivered, above), so found / miss / total get rates are 0. Requests run on the event loop, not in thread
  // pools with queues, so every queue is empty and no head has waited. The commit log is written without the
  // page-cache lock RocketMQ times. The timer keys are RocketMQ's answer when its timer wheel is off (ours keeps
  // no read-behind or congestion figures).
  for (const k of ["getFoundTps", "getMissTps", "getTotalTps"]) t[k] = "0.0 0.0 0.0";
  for (const pool of ["send", "pull", "litePull", "query", "ack"]) {
    t[`${pool}ThreadPoolQueueSize`] = "0";
    t[`${pool}ThreadPoolQueueHeadWaitTimeMills`] = "0";
  }
  t["EndTransactionQueueSize"] = "0";
  t["pageCacheLockTimeMills"] = "0";
  for (const k of ["timerReadBehind", "timerOffsetBehind", "timerCongestNum"]) t[k] = "0";
  t["timerEnqueueTps"] = "0.0";
  t["timerDequeueTps"] = "0.0";
  return t;
}

export function handleBrokerRuntimeInfo(broker: Broker, req: RemotingCommand): RemotingCommand {
  return jsonResponse(req, { table: runtimeInfoTable(broker) });
}

export function handleGetBrokerConfig(broker: Broker, req: RemotingCommand): RemotingCommand {
  const version = JSON.stringify({ ...broker.settings.dataVersion, stateVersion: 0 });
  const body = Buffer.from(formatJavaProperties(broker.settings.list()));
  return createResponse(req, ResponseCode.SUCCESS, undefined, { version }, body);
}

export function handleUpdateBrokerConfig(broker: Broker, req: RemotingCommand): RemotingCommand {
  const changes = parseJavaProperties(req.body?.toString("utf8") ?? "");
  badRequestAs(ResponseCode.SYSTEM_ERROR, () => broker.settings.update(changes));
  return createResponse(req, ResponseCode.SUCCESS);
}
