// What ties a gRPC transaction together. gRPC producers name no producer group, so their half messages belong to
// a group derived from the topic: the telemetry session of every producer of that topic registers under it, and
// check-backs go to one of them. The transaction id handed to the client encodes where the half message lies
// (its half-queue offset and commit log offset), which is what Broker.endTransaction needs to find it.
import { formatHalfMessageLocation, parseHalfMessageLocation } from "../../broker/transaction-handle.js";
import type { HalfMessageLocation } from "../../broker/transaction-handle.js";
import { Code, badRequest } from "./status.js";

/** The producer group of gRPC producers of `topic` (used when sending, registering and ending transactions). */
export function producerGroupOfTopic(topic: string): string {
  return `GRPC_PRODUCER_${topic}`;
}

export const encodeTransactionId = formatHalfMessageLocation;

export function decodeTransactionId(id: string | undefined): HalfMessageLocation {
  const at = parseHalfMessageLocation(id);
  if (!at) {
    throw badRequest(
      `transaction_id "${String(id ?? "").slice(0, 64)}" was not issued by this broker`,
      Code.INVALID_TRANSACTION_ID,
    );
  }
  return at;
}
