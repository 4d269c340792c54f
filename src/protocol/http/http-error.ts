// Errors of the HTTP protocol: an HTTP status plus the protocol's error code name, always sent as an XML
// <Error> (the SDK reads only the XML, never the status). Broker errors are mapped here, at the edge.
import { BrokerError } from "../../common/errors.js";
import type { ErrorCode } from "../../common/errors.js";

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "HttpError";
  }
}

const CODE_NAMES: Partial<Record<ErrorCode, string>> = {
  TOPIC_NOT_EXIST: "TopicNotExist",
  SUBSCRIPTION_GROUP_NOT_EXIST: "SubscriptionNotExist",
  SUBSCRIPTION_NOT_EXIST: "SubscriptionNotExist",
  SUBSCRIPTION_PARSE_FAILED: "InvalidArgument",
  BAD_REQUEST: "InvalidArgument",
  ILLEGAL_TOPIC: "InvalidArgument",
  ILLEGAL_GROUP: "InvalidArgument",
  ILLEGAL_DELIVERY_TIME: "InvalidArgument",
  MESSAGE_TOO_LARGE: "InvalidArgument",
  PROPERTIES_TOO_LARGE: "InvalidArgument",
  NO_PERMISSION: "AccessDenied",
  UNAUTHENTICATED: "SignatureDoesNotMatch",
  MESSAGE_NOT_FOUND: "MessageNotExist",
  INVALID_RECEIPT_HANDLE: "MessageNotExist",
  ILLEGAL_RECALL: "InvalidArgument",
  ILLEGAL_LITE_TOPIC: "InvalidArgument",
  LITE_SUBSCRIPTION_QUOTA_EXCEEDED: "Throttling",
  LITE_TOPIC_QUOTA_EXCEEDED: "Throttling",
  SYSTEM_BUSY: "Throttling",
  TOO_MANY_IN_FLIGHT: "Throttling",
};

/** Any error a handler threw, as the HTTP protocol reports it. */
export function toHttpError(e: unknown): HttpError {
  if (e instanceof HttpError) return e;
  if (e instanceof BrokerError) {
    const name = CODE_NAMES[e.code];
    if (name) return new HttpError(e.spec.http, name, e.message);
    return new HttpError(e.spec.http >= 500 ? e.spec.http : 500, "InternalError", e.message);
  }
  return new HttpError(500, "InternalError", (e as Error)?.message ?? String(e));
}
