// The recall handle of a timed message (RocketMQ 5.3's RecallMessageHandle, version 1): base64url of
// "v1 <topic> <brokerName> <deliver ms + 1> <unique message id>". The send response carries it (remoting header
// recallHandle, gRPC SendResultEntry.recall_handle) and the producer hands it back unchanged to RECALL_MESSAGE.
// The same layout as Apache RocketMQ's, so a handle means the same thing whichever broker or proxy issued it.
// The timestamp is the due time plus one, as RocketMQ writes it (its timer floors due times to the ms).

export interface RecallHandle {
  topic: string;
  brokerName: string;
  /** The due time (TIMER_OUT_MS) of the timed message. */
  deliverMs: number;
  /** Its unique id (UNIQ_KEY). */
  messageId: string;
}

const VERSION = "v1";

export function encodeRecallHandle(h: RecallHandle): string {
  const raw = [VERSION, h.topic, h.brokerName, String(h.deliverMs + 1), h.messageId].join(" ");
  return Buffer.from(raw, "utf8").toString("base64url");
}

/** The handle's fields, or undefined when it is not a version-1 handle. */
export function decodeRecallHandle(handle: string): RecallHandle | undefined {
  if (!handle || !/^[A-Za-z0-9_-]+={0,2}$/.test(handle)) return undefined;
  const items = Buffer.from(handle, "base64url").toString("utf8").split(" ");
  if (items.length < 5 || items[0] !== VERSION) return undefined;
  const [, topic, brokerName, ts, messageId] = items as [string, string, string, string, string];
  if (!/^\d{1,16}$/.test(ts) || !topic || !brokerName || !messageId) return undefined;
  return { topic, brokerName, deliverMs: Number(ts) - 1, messageId };
}
