// How protocols name a half message to their clients (gRPC transaction_id, HTTP transaction receipt handle): where
// it lies, its half-queue offset and commit log offset, which is what Broker.endTransaction needs to find it.

export interface HalfMessageLocation {
  halfQueueOffset: number;
  commitLogOffset: number;
}

/** 32 upper-case hex digits: the half-queue offset, then the commit log offset, 16 each. */
export function formatHalfMessageLocation(at: HalfMessageLocation): string {
  const hex = (n: number) => n.toString(16).toUpperCase().padStart(16, "0");
  return hex(at.halfQueueOffset) + hex(at.commitLogOffset);
}

/** The location a handle names, or undefined when this broker did not issue it (each protocol says so its way). */
export function parseHalfMessageLocation(id: string | undefined): HalfMessageLocation | undefined {
  if (!id || !/^[0-9A-Fa-f]{32}$/.test(id)) return undefined;
  const halfQueueOffset = parseInt(id.slice(0, 16), 16);
  const commitLogOffset = parseInt(id.slice(16), 16);
  if (!Number.isSafeInteger(halfQueueOffset) || !Number.isSafeInteger(commitLogOffset)) return undefined;
  return { halfQueueOffset, commitLogOffset };
}
