// QueryRoute and QueryAssignment. A route lists every queue of the topic on this broker (broker id 0, the gRPC
// endpoint as its address, the message types the topic accepts). The Node.js client sends and simple-receives
// only through queue 0, so that queue is always readable and writable when the topic is; receives treat the
// queue as a topic selector and serve every queue. A push consumer is assigned queue 0 of each topic likewise;
// a lite push consumer the virtual queue -1.
import { isIPv4, isIPv6 } from "node:net";
import { isSystemTopic, Perm } from "../../common/topic.js";
import type { TopicConfig } from "../../common/topic.js";
import { BrokerError } from "../../common/errors.js";
import { isLiteClient } from "./context.js";
import type { Caller, GrpcContext } from "./context.js";
import { groupOf, topicOf } from "./request-fields.js";
import { OK } from "./status.js";
import type {
  Endpoints,
  MessageQueue,
  QueryAssignmentRequest,
  QueryRouteRequest,
  Status,
} from "./wire-types.js";

const ALL_TYPES = ["NORMAL", "FIFO", "DELAY", "TRANSACTION", "LITE", "PRIORITY"];

/** The topic's config; auto-created when the broker allows it, TOPIC_NOT_FOUND otherwise. */
export function routableTopic(ctx: GrpcContext, topic: string): TopicConfig {
  const tc = ctx.broker.topics.get(topic);
  if (tc) return tc;
  if (isSystemTopic(topic)) throw new BrokerError("TOPIC_NOT_EXIST", `topic ${topic} does not exist`);
  return ctx.broker.topics.getOrCreate(topic);
}

function endpointsOf(ctx: GrpcContext): Endpoints {
  const { host, port } = ctx.endpoint();
  const scheme = isIPv4(host) ? "IPv4" : isIPv6(host) ? "IPv6" : "DOMAIN_NAME";
  return { scheme, addresses: [{ host, port }] };
}

/**
 * RocketMQ 5 topics may say which type they hold (attribute message.type); otherwise they take every type. A
 * PRIORITY topic also takes NORMAL: the Node.js client declares a priority-0 message NORMAL (0 is falsy to it),
 * and checks the declared type against this list before sending.
 */
export function acceptedTypes(tc: TopicConfig): string[] {
  const t = tc.attributes["message.type"]?.toUpperCase();
  if (t === "PRIORITY") return ["PRIORITY", "NORMAL"];
  if (t === "MIXED") return ["NORMAL", "FIFO", "DELAY", "TRANSACTION"];
  return t && ALL_TYPES.includes(t) ? [t] : ALL_TYPES;
}

function permission(readable: boolean, writable: boolean): string {
  return readable && writable ? "READ_WRITE" : readable ? "READ" : writable ? "WRITE" : "NONE";
}

function queueOf(ctx: GrpcContext, tc: TopicConfig, id: number): MessageQueue {
  const readable = !!(tc.perm & Perm.READ) && (id < tc.readQueueNums || id === 0);
  const writable = !!(tc.perm & Perm.WRITE) && (id < tc.writeQueueNums || id === 0);
  const c = ctx.broker.config;
  return {
    topic: { name: tc.topicName },
    id,
    permission: permission(readable, writable),
    broker: { name: c.brokerName, id: c.brokerId, endpoints: endpointsOf(ctx) },
    acceptMessageTypes: acceptedTypes(tc),
  };
}

export function queryRoute(
  ctx: GrpcContext,
  req: QueryRouteRequest,
): { status: Status; messageQueues: MessageQueue[] } {
  const tc = routableTopic(ctx, topicOf(req.topic));
  const n = Math.max(tc.readQueueNums, tc.writeQueueNums, 1);
  const messageQueues: MessageQueue[] = [];
  for (let id = 0; id < n; id++) messageQueues.push(queueOf(ctx, tc, id));
  return { status: OK, messageQueues };
}

/** A LitePushConsumer is assigned the virtual queue -1 of its parent topic: its receives read the lite topics it
 * follows, not the parent's queues. */
export function queryAssignment(
  ctx: GrpcContext,
  req: QueryAssignmentRequest,
  caller: Caller,
): { status: Status; assignments: { messageQueue: MessageQueue }[] } {
  const tc = routableTopic(ctx, topicOf(req.topic));
  ctx.broker.groups.getOrCreate(groupOf(req.group));
  const id = isLiteClient(ctx, caller) ? -1 : 0;
  return { status: OK, assignments: [{ messageQueue: queueOf(ctx, tc, id) }] };
}
