// What ties a gRPC transaction together. gRPC producers name no producer group, so their half messages belong to
// a group derived from the topic: the telemetry session of every producer of that topic registers under it, and
// check-backs go to one of them. The transaction id handed to the client encodes where the half message lies
// (its half-queue offset and commit log offset), which is what Broker.endTransaction needs to find it.
import { Code, badRequest } from "./status.js";

/** The producer group of gRPC producers of `topic` (used when sending, registering and ending transactions). */
export function producerGroupOfTopic(topic: string): string {
  return `GRPC_PRODUCER_${topic}`;
}

export interface HalfMessageLocation {
  halfQueueOffset: number;
  commitLogOffset: number;
}

/** 32 upper-case hex digits: the half-queue offset, then the commit log offset, 16 each. */
export function encodeTransactionId(at: HalfMessageLocation): string {
  const hex = (n: number) => n.toString(16).toUpperCase().padStart(16, "0");
  return hex(at.halfQueueOffset) + hex(at.commitLogOffset);
}

export function decodeTransactionId(id: string | undefined): HalfMessageLocation {
  if (!id || !/^[0-9A-Fa-f]{32}$/.test(id)) {
    throw badRequest(
      `transaction_id "${String(id ?? "").slice(0, 64)}" was not issued by this broker`,
      Code.INVALID_TRANSACTION_ID,
    );
  }
  const halfQueueOffset = parseInt(id.slice(0, 16), 16);
  const commitLogOffset = parseInt(id.slice(16), 16);
  if (!Number.isSafeInteger(halfQueueOffset) || !Number.isSafeInteger(commitLogOffset)) {
    throw badRequest(`transaction_id ${id} is out of range`, Code.INVALID_TRANSACTION_ID);
  }
  return { halfQueueOffset, commitLogOffset };
}
