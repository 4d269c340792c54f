// Response codes of the RocketMQ remoting protocol: the `code` field of a response header.
// 0-4 are the transport's own (RemotingSysResponseCode.java); the rest are ResponseCode.java (5.3.x).
// The same numbers mean different things per request: for PULL_MESSAGE 19/20/21 are normal outcomes, and
// for END_TRANSACTION / CHECK_TRANSACTION_STATE 200-202 carry the producer's decision.

export const ResponseCode = {
  SUCCESS: 0,
  SYSTEM_ERROR: 1,
  SYSTEM_BUSY: 2,
  REQUEST_CODE_NOT_SUPPORTED: 3,
  TRANSACTION_FAILED: 4,

  FLUSH_DISK_TIMEOUT: 10,
  SLAVE_NOT_AVAILABLE: 11,
  FLUSH_SLAVE_TIMEOUT: 12,
  MESSAGE_ILLEGAL: 13,
  SERVICE_NOT_AVAILABLE: 14,
  VERSION_NOT_SUPPORTED: 15,
  NO_PERMISSION: 16,
  TOPIC_NOT_EXIST: 17,
  TOPIC_EXIST_ALREADY: 18,
  PULL_NOT_FOUND: 19,
  PULL_RETRY_IMMEDIATELY: 20,
  PULL_OFFSET_MOVED: 21,
  QUERY_NOT_FOUND: 22,
  SUBSCRIPTION_PARSE_FAILED: 23,
  SUBSCRIPTION_NOT_EXIST: 24,
  SUBSCRIPTION_NOT_LATEST: 25,
  SUBSCRIPTION_GROUP_NOT_EXIST: 26,
  FILTER_DATA_NOT_EXIST: 27,
  FILTER_DATA_NOT_LATEST: 28,
  INVALID_PARAMETER: 29,

  TRANSACTION_SHOULD_COMMIT: 200,
  TRANSACTION_SHOULD_ROLLBACK: 201,
  /** Spelled UNKNOW in RocketMQ; kept so grep across both code bases finds it. */
  TRANSACTION_STATE_UNKNOW: 202,
  TRANSACTION_STATE_GROUP_WRONG: 203,
  NO_BUYER_ID: 204,
  NOT_IN_CURRENT_UNIT: 205,
  CONSUMER_NOT_ONLINE: 206,
  CONSUME_MSG_TIMEOUT: 207,
  NO_MESSAGE: 208,
  POLLING_FULL: 209,
  POLLING_TIMEOUT: 210,
  BROKER_NOT_EXIST: 211,
  BROKER_DISPATCH_NOT_COMPLETE: 212,
  BROADCAST_CONSUMPTION: 213,
  FLOW_CONTROL: 215,
  NOT_LEADER_FOR_QUEUE: 501,
  ILLEGAL_OPERATION: 604,
  /** Sent by a 5.x server that is shutting down, only to clients whose version is above V5_3_1. */
  GO_AWAY: 1500,
} as const;

export type ResponseCodeName = keyof typeof ResponseCode;

const names = new Map<number, string>(Object.entries(ResponseCode).map(([k, v]) => [v, k]));

/** The constant's name for logs ("PULL_NOT_FOUND"), or the number itself when it is not in the table. */
export function responseCodeName(code: number): string {
  return names.get(code) ?? String(code);
}
