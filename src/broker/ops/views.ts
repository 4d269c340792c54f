// The JSON shapes the admin API answers with (src/protocol/http/admin/admin-routes.ts): what the ops modules
// compute and what the web console (console/src) reads. Types only, with no imports, so the console's build can use
// them as they are.

export interface AlarmRule {
  id: string;
  group: string;
  /** One topic of the group, or all the topics it consumes. */
  topic?: string;
  /** Fires when the backlog exceeds this many messages. */
  maxBacklog?: number;
  /** Fires when the oldest un-consumed message is older than this, ms. */
  maxLagMs?: number;
}

export interface GroupLag {
  backlog: number;
  /** Age of the oldest un-consumed message, ms (0 when there is none). */
  lagMs: number;
}

export interface AlarmStatus {
  rule: AlarmRule;
  firing: boolean;
  /** When it last fired or cleared. */
  since: number;
  value: GroupLag;
  reason: string;
}

export interface GroupSummary {
  group: string;
  messageModel: string;
  consumeType: string;
  onlineClients: number;
  /** Topics it subscribes to or has offsets on. */
  topics: string[];
  backlog: number;
  fifo: boolean;
  retryMaxTimes: number;
}

export interface QueueProgress {
  topic: string;
  queueId: number;
  brokerOffset: number;
  consumerOffset: number;
  backlog: number;
  /** Store time of the last message the group consumed on this queue (0 when none). */
  lastConsumeTime: number;
}

export interface ClientView {
  clientId: string;
  language: string;
  version: number;
  remoteAddress: string;
  lastHeartbeat: number;
  subscriptions: string[];
}

export interface GroupClients {
  group: string;
  messageModel: string;
  consumeType: string;
  subscriptions: { topic: string; type: string; expression: string }[];
  clients: ClientView[];
  /** True when every online client subscribes to the same topics with the same expressions. */
  consistent: boolean;
}

export interface MessageView {
  msgId: string;
  offsetMsgId: string;
  topic: string;
  queueId: number;
  queueOffset: number;
  tags: string;
  keys: string[];
  properties: Record<string, string>;
  bornTimestamp: number;
  bornHost: string;
  storeTimestamp: number;
  storeHost: string;
  reconsumeTimes: number;
  bodySize: number;
  /** The body as UTF-8 text, or base64 when it is not valid text. */
  body: string;
  bodyEncoding: "utf8" | "base64";
}

export interface TraceEvent {
  time: number;
  type: "stored" | "consumed" | "pending" | "in-flight" | "retry" | "dead-letter";
  group?: string;
  detail: string;
}
