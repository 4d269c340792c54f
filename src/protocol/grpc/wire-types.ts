// The shapes of the apache.rocketmq.v2 messages this endpoint reads and writes, as proto.ts decodes them: every
// field optional (a client may leave anything out), enums by name, int64 as numbers. Only the fields we use.

export interface Resource {
  resourceNamespace?: string;
  name?: string;
}

export interface Timestamp {
  seconds?: number;
  nanos?: number;
}

export type Duration = Timestamp;

/** Written with numeric codes; read back (by tests) as names. */
export interface Status {
  code?: number | string;
  message?: string;
}

export interface Address {
  host?: string;
  port?: number;
}

export interface Endpoints {
  scheme?: string;
  addresses?: Address[];
}

export interface WireBroker {
  name?: string;
  id?: number;
  endpoints?: Endpoints;
}

export interface MessageQueue {
  topic?: Resource;
  id?: number;
  permission?: string;
  broker?: WireBroker;
  acceptMessageTypes?: string[];
}

export interface Digest {
  type?: string;
  checksum?: string;
}

export interface SystemProperties {
  tag?: string;
  keys?: string[];
  messageId?: string;
  bodyDigest?: Digest;
  bodyEncoding?: string;
  messageType?: string;
  bornTimestamp?: Timestamp;
  bornHost?: string;
  storeTimestamp?: Timestamp;
  storeHost?: string;
  deliveryTimestamp?: Timestamp;
  receiptHandle?: string;
  queueId?: number;
  queueOffset?: number;
  invisibleDuration?: Duration;
  deliveryAttempt?: number;
  messageGroup?: string;
  traceContext?: string;
  liteTopic?: string;
  priority?: number;
}

export interface WireMessage {
  topic?: Resource;
  userProperties?: Record<string, string>;
  systemProperties?: SystemProperties;
  body?: Buffer;
}

export interface FilterExpression {
  type?: string;
  expression?: string;
}

export interface SubscriptionEntry {
  topic?: Resource;
  expression?: FilterExpression;
}

export interface RetryPolicy {
  maxAttempts?: number;
  exponentialBackoff?: { initial?: Duration; max?: Duration; multiplier?: number };
  /** The wait before each retry in turn; later ones wait the last. */
  customizedBackoff?: { next?: Duration[] };
}

export interface Settings {
  clientType?: string;
  accessPoint?: Endpoints;
  backoffPolicy?: RetryPolicy;
  requestTimeout?: Duration;
  publishing?: { topics?: Resource[]; maxBodySize?: number; validateMessageType?: boolean };
  subscription?: {
    group?: Resource;
    subscriptions?: SubscriptionEntry[];
    fifo?: boolean;
    receiveBatchSize?: number;
    longPollingTimeout?: Duration;
    liteSubscriptionQuota?: number;
    maxLiteTopicSize?: number;
  };
  userAgent?: { language?: string; version?: string; platform?: string; hostname?: string };
  pubSub?: "publishing" | "subscription";
}

export interface TelemetryCommand {
  status?: Status;
  settings?: Settings;
  recoverOrphanedTransactionCommand?: { message?: WireMessage; transactionId?: string };
  command?: string;
}

export interface QueryRouteRequest {
  topic?: Resource;
  endpoints?: Endpoints;
}

export interface QueryAssignmentRequest {
  topic?: Resource;
  group?: Resource;
  endpoints?: Endpoints;
}

export interface SendMessageRequest {
  messages?: WireMessage[];
}

export interface SendResultEntry {
  status: Status;
  messageId?: string;
  transactionId?: string;
  offset?: number;
  /** For a timed message: what RecallMessage takes to cancel it. */
  recallHandle?: string;
}

export interface RecallMessageRequest {
  topic?: Resource;
  recallHandle?: string;
}

export interface EndTransactionRequest {
  topic?: Resource;
  messageId?: string;
  transactionId?: string;
  resolution?: string;
  source?: string;
}

export interface HeartbeatRequest {
  group?: Resource;
  clientType?: string;
}

export interface NotifyClientTerminationRequest {
  group?: Resource;
}

export interface ReceiveMessageRequest {
  group?: Resource;
  messageQueue?: MessageQueue;
  filterExpression?: FilterExpression;
  batchSize?: number;
  invisibleDuration?: Duration;
  autoRenew?: boolean;
  longPollingTimeout?: Duration;
  attemptId?: string;
}

export interface ReceiveMessageResponse {
  status?: Status;
  message?: WireMessage;
  deliveryTimestamp?: Timestamp;
}

export interface AckMessageRequest {
  group?: Resource;
  topic?: Resource;
  entries?: { messageId?: string; receiptHandle?: string; liteTopic?: string }[];
}

export interface ChangeInvisibleDurationRequest {
  group?: Resource;
  topic?: Resource;
  receiptHandle?: string;
  invisibleDuration?: Duration;
  messageId?: string;
  liteTopic?: string;
  /** Lite consumers: this postponement does not count as a delivery attempt. */
  suspend?: boolean;
}

export interface ForwardMessageToDeadLetterQueueRequest {
  group?: Resource;
  topic?: Resource;
  receiptHandle?: string;
  messageId?: string;
  deliveryAttempt?: number;
  maxDeliveryAttempts?: number;
  liteTopic?: string;
}

export interface OffsetOption {
  policy?: "LAST" | "MIN" | "MAX";
  offset?: number;
  tailN?: number;
  timestamp?: number;
  /** The oneof's set member. */
  offsetType?: "policy" | "offset" | "tailN" | "timestamp";
}

export interface SyncLiteSubscriptionRequest {
  action?: string;
  topic?: Resource;
  group?: Resource;
  liteTopicSet?: string[];
  version?: number;
  offsetOption?: OffsetOption;
}
