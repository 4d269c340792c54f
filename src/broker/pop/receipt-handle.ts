// Receipt handles name one delivery of one message: the queue, the queue offset and a broker-wide delivery
// sequence number. A later delivery or an invisible-time change issues a new sequence number, so an older handle
// no longer matches the in-flight entry and is refused.
import { BrokerError } from "../../common/errors.js";

export interface ReceiptHandle {
  queueId: number;
  offset: number;
  seq: number;
}

const PREFIX = "rh1";

export function formatReceiptHandle(h: ReceiptHandle): string {
  return `${PREFIX}.${h.queueId.toString(36)}.${h.offset.toString(36)}.${h.seq.toString(36)}`;
}

const PART = /^[0-9a-z]{1,13}$/;

/** Parses a handle; anything malformed is INVALID_RECEIPT_HANDLE. */
export function parseReceiptHandle(s: string): ReceiptHandle {
  const parts = typeof s === "string" ? s.split(".") : [];
  if (parts.length !== 4 || parts[0] !== PREFIX || !parts.slice(1).every((p) => PART.test(p))) {
    throw new BrokerError("INVALID_RECEIPT_HANDLE", `malformed receipt handle ${JSON.stringify(s)}`);
  }
  const [queueId, offset, seq] = parts.slice(1).map((p) => parseInt(p, 36)) as [number, number, number];
  if (![queueId, offset, seq].every(Number.isSafeInteger)) {
    throw new BrokerError("INVALID_RECEIPT_HANDLE", `malformed receipt handle ${JSON.stringify(s)}`);
  }
  return { queueId, offset, seq };
}
