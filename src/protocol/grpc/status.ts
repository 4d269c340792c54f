// apache.rocketmq.v2 Status values as the official clients read them: OK is 20000 and "no status" also means OK,
// while a Status whose code is 0 (CODE_UNSPECIFIED) is an error to them, so every Status written here carries a
// real code. Broker errors map through ErrorCatalog's `grpc` column; requests this layer cannot read fail with
// GrpcRequestError and a precise 400xx code.
import { isBrokerError } from "../../common/errors.js";
import type { Status } from "./wire-types.js";

/** The Code values this endpoint writes (definition.proto). */
export const Code = {
  OK: 20000,
  MULTIPLE_RESULTS: 30000,
  BAD_REQUEST: 40000,
  ILLEGAL_TOPIC: 40002,
  ILLEGAL_CONSUMER_GROUP: 40003,
  ILLEGAL_MESSAGE_TAG: 40004,
  ILLEGAL_MESSAGE_KEY: 40005,
  ILLEGAL_MESSAGE_GROUP: 40006,
  ILLEGAL_MESSAGE_PROPERTY_KEY: 40007,
  INVALID_TRANSACTION_ID: 40008,
  ILLEGAL_MESSAGE_ID: 40009,
  ILLEGAL_FILTER_EXPRESSION: 40010,
  ILLEGAL_INVISIBLE_TIME: 40011,
  ILLEGAL_DELIVERY_TIME: 40012,
  INVALID_RECEIPT_HANDLE: 40013,
  MESSAGE_PROPERTY_CONFLICT_WITH_TYPE: 40014,
  MESSAGE_CORRUPTED: 40016,
  CLIENT_ID_REQUIRED: 40017,
  ILLEGAL_POLLING_TIME: 40018,
  ILLEGAL_LITE_TOPIC: 40020,
  MESSAGE_NOT_FOUND: 40401,
  TOPIC_NOT_FOUND: 40402,
  CONSUMER_GROUP_NOT_FOUND: 40403,
  MESSAGE_BODY_TOO_LARGE: 41301,
  MESSAGE_BODY_EMPTY: 41302,
  TOO_MANY_REQUESTS: 42900,
  LITE_TOPIC_QUOTA_EXCEEDED: 42901,
  LITE_SUBSCRIPTION_QUOTA_EXCEEDED: 42902,
  INTERNAL_SERVER_ERROR: 50001,
  HA_NOT_AVAILABLE: 50002,
  SLAVE_PERSISTENCE_TIMEOUT: 50402,
  NOT_IMPLEMENTED: 50100,
} as const;

/** A request this layer refuses before the broker sees it. */
export class GrpcRequestError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
    this.name = "GrpcRequestError";
  }
}

export function badRequest(message: string, code: number = Code.BAD_REQUEST): GrpcRequestError {
  return new GrpcRequestError(code, message);
}

export const OK: Status = { code: Code.OK, message: "OK" };

/** The Status for a failure; unknown exceptions are internal errors. */
export function statusOf(e: unknown): Status {
  if (e instanceof GrpcRequestError) return { code: e.code, message: e.message };
  if (isBrokerError(e)) return { code: e.spec.grpc, message: e.message };
  return { code: Code.INTERNAL_SERVER_ERROR, message: e instanceof Error ? e.message : String(e) };
}

export function isOk(s: Status): boolean {
  return s.code === Code.OK;
}

/** The top-level status of a request with one result per item: OK, the one error when all failed, or
 * MULTIPLE_RESULTS naming how many failed. */
export function combinedStatus(results: Status[], what: string): Status {
  const failed = results.filter((r) => !isOk(r));
  if (failed.length === 0) return OK;
  if (failed.length === results.length) return failed[0]!;
  return { code: Code.MULTIPLE_RESULTS, message: `${failed.length} of ${results.length} ${what} failed` };
}
