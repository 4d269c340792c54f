// The SDK's error: a name, the broker's response code when a broker or NameServer refused, and whether trying
// again (possibly on another broker) can help. Transport failures keep their RemotingError as `cause`.
import {
  RemotingClosedError,
  RemotingConnectError,
  RemotingTimeoutError,
} from "../protocol/remoting/remoting-errors.js";
import { ResponseCode, responseCodeName } from "../protocol/remoting/response-code.js";

export type MQClientErrorKind =
  | "NOT_STARTED"
  | "ILLEGAL_ARGUMENT"
  | "MESSAGE_ILLEGAL"
  | "NO_ROUTE"
  | "NO_NAMESERVER"
  | "BROKER_ERROR"
  | "TIMEOUT"
  | "SHUTDOWN";

/** Response codes after which the Java producer retries a send (DefaultMQProducer.retryResponseCodes). */
const RETRIABLE_CODES: ReadonlySet<number> = new Set<number>([
  ResponseCode.TOPIC_NOT_EXIST,
  ResponseCode.SERVICE_NOT_AVAILABLE,
  ResponseCode.SYSTEM_ERROR,
  ResponseCode.NO_PERMISSION,
  ResponseCode.NO_BUYER_ID,
  ResponseCode.NOT_IN_CURRENT_UNIT,
]);

export class MQClientError extends Error {
  readonly kind: MQClientErrorKind;
  /** The response code, for BROKER_ERROR. */
  readonly responseCode: number | undefined;
  constructor(
    kind: MQClientErrorKind,
    message: string,
    opts: { responseCode?: number; cause?: unknown } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = "MQClientError";
    this.kind = kind;
    this.responseCode = opts.responseCode;
  }

  static fromResponse(what: string, addr: string, code: number, remark: string | undefined): MQClientError {
    return new MQClientError(
      "BROKER_ERROR",
      `${what} to ${addr} failed: ${responseCodeName(code)}${remark ? ` (${remark})` : ""}`,
      { responseCode: code },
    );
  }

  /** Worth another attempt: the broker said so, or we never heard back. */
  get retriable(): boolean {
    if (this.kind === "TIMEOUT" || this.kind === "NO_ROUTE") return true;
    return (
      this.kind === "BROKER_ERROR" &&
      this.responseCode !== undefined &&
      RETRIABLE_CODES.has(this.responseCode)
    );
  }
}

/** True for the transport's own failures (no connection, no answer in time, connection dropped). */
export function isTransportError(e: unknown): boolean {
  return (
    e instanceof RemotingConnectError || e instanceof RemotingTimeoutError || e instanceof RemotingClosedError
  );
}

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
