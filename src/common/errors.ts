// One catalogue of the errors a user can meet. Each protocol maps an error to its own code at its edge from
// this table (remoting response code, gRPC Code, HTTP status), so the three front ends never disagree.
// Remoting codes are RocketMQ's ResponseCode values; gRPC codes are apache.rocketmq.v2.Code values (every one
// must exist in definition.proto's enum Code: the official clients treat unknown codes as "unsupported").

export interface ErrorSpec {
  retriable: boolean;
  remoting: number;
  grpc: number;
  http: number;
  message: string;
}

export const ErrorCatalog = {
  SYSTEM_ERROR: { retriable: true, remoting: 1, grpc: 50001, http: 500, message: "internal error" },
  SYSTEM_BUSY: { retriable: true, remoting: 2, grpc: 42900, http: 503, message: "broker busy" },
  REQUEST_CODE_NOT_SUPPORTED: {
    retriable: false,
    remoting: 3,
    grpc: 50100,
    http: 501,
    message: "request not supported",
  },
  BAD_REQUEST: { retriable: false, remoting: 13, grpc: 40000, http: 400, message: "bad request" },
  MESSAGE_TOO_LARGE: {
    retriable: false,
    remoting: 13,
    grpc: 41301,
    http: 413,
    message: "message body too large",
  },
  PROPERTIES_TOO_LARGE: {
    retriable: false,
    remoting: 13,
    grpc: 43101,
    http: 413,
    message: "message properties too large",
  },
  SERVICE_NOT_AVAILABLE: {
    retriable: true,
    remoting: 14,
    grpc: 50001,
    http: 503,
    message: "service not available",
  },
  DISK_FULL: { retriable: true, remoting: 14, grpc: 50001, http: 507, message: "disk is full" },
  STORE_WRITE_FAILED: {
    retriable: true,
    remoting: 14,
    grpc: 50001,
    http: 503,
    message: "store write failed",
  },
  FLUSH_DISK_TIMEOUT: {
    retriable: true,
    remoting: 10,
    grpc: 50401,
    http: 504,
    message: "flush to disk timed out",
  },
  REPLICA_OUT_OF_SYNC: {
    retriable: false,
    remoting: 1,
    grpc: 50001,
    http: 500,
    message: "the slave's commit log does not continue its master's",
  },
  STORE_CLOSED: { retriable: true, remoting: 14, grpc: 50001, http: 503, message: "store is shut down" },
  TOPIC_NOT_EXIST: {
    retriable: false,
    remoting: 17,
    grpc: 40402,
    http: 404,
    message: "topic does not exist",
  },
  SUBSCRIPTION_GROUP_NOT_EXIST: {
    retriable: false,
    remoting: 26,
    grpc: 40403,
    http: 404,
    message: "subscription group does not exist",
  },
  NO_PERMISSION: { retriable: false, remoting: 16, grpc: 40300, http: 403, message: "no permission" },
  // Access control is on and the request carries no account, an unknown one, or a wrong signature. Remoting has
  // one code for both refusals (RocketMQ answers NO_PERMISSION); gRPC tells them apart (UNAUTHORIZED/FORBIDDEN).
  UNAUTHENTICATED: {
    retriable: false,
    remoting: 16,
    grpc: 40100,
    http: 403,
    message: "authentication failed",
  },
  SUBSCRIPTION_PARSE_FAILED: {
    retriable: false,
    remoting: 23,
    grpc: 40010,
    http: 400,
    message: "subscription expression could not be parsed",
  },
  SUBSCRIPTION_NOT_EXIST: {
    retriable: false,
    remoting: 24,
    grpc: 40403,
    http: 404,
    message: "subscription does not exist",
  },
  OFFSET_NOT_FOUND: { retriable: false, remoting: 22, grpc: 40404, http: 404, message: "no offset stored" },
  MESSAGE_NOT_FOUND: { retriable: false, remoting: 1, grpc: 40401, http: 404, message: "message not found" },
  ILLEGAL_TOPIC: { retriable: false, remoting: 13, grpc: 40002, http: 400, message: "illegal topic name" },
  ILLEGAL_GROUP: { retriable: false, remoting: 13, grpc: 40003, http: 400, message: "illegal group name" },
  // A delivery time further ahead than the broker keeps timed messages for (40 days by default), or unreadable.
  ILLEGAL_DELIVERY_TIME: {
    retriable: false,
    remoting: 13,
    grpc: 40012,
    http: 400,
    message: "illegal delivery time",
  },
  // A receipt handle that was never issued, was superseded by a later delivery or change, or was already acked.
  INVALID_RECEIPT_HANDLE: {
    retriable: false,
    remoting: 13,
    grpc: 40013,
    http: 400,
    message: "invalid receipt handle",
  },
  // A recall handle that is malformed, names another topic or broker, or whose message is already due.
  ILLEGAL_RECALL: {
    retriable: false,
    remoting: 604,
    grpc: 40000,
    http: 400,
    message: "recall failed",
  },
  // A lite topic name that is blank, too long or outside [A-Za-z0-9_-].
  ILLEGAL_LITE_TOPIC: {
    retriable: false,
    remoting: 13,
    grpc: 40020,
    http: 400,
    message: "illegal lite topic",
  },
  // A message for a new lite topic when the broker already keeps as many as it may.
  LITE_TOPIC_QUOTA_EXCEEDED: {
    retriable: false,
    remoting: 2017,
    grpc: 42901,
    http: 429,
    message: "lite topic quota exceeded",
  },
  // A client subscribing to more lite topics than a client may.
  LITE_SUBSCRIPTION_QUOTA_EXCEEDED: {
    retriable: false,
    remoting: 2,
    grpc: 42902,
    http: 429,
    message: "lite subscription quota exceeded",
  },
  // Receiving is refused while too many messages of a queue are in flight (back-pressure).
  TOO_MANY_IN_FLIGHT: {
    retriable: true,
    remoting: 2,
    grpc: 42900,
    http: 429,
    message: "too many messages in flight",
  },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ErrorCatalog;

export class BrokerError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, detail?: string, options?: { cause?: unknown }) {
    super(detail ? `${ErrorCatalog[code].message}: ${detail}` : ErrorCatalog[code].message, options);
    this.name = "BrokerError";
    this.code = code;
  }
  get retriable(): boolean {
    return ErrorCatalog[this.code].retriable;
  }
  get spec(): ErrorSpec {
    return ErrorCatalog[this.code];
  }
}

export function isBrokerError(e: unknown, code?: ErrorCode): e is BrokerError {
  return e instanceof BrokerError && (code === undefined || e.code === code);
}
