// Lite topics (RocketMQ RIP-83): light child queues under a parent topic, created by the first message sent to
// one and consumed by LitePushConsumers that subscribe to them by name. Each lite topic is one ordered queue of
// its own, stored as a light message queue (LMQ) whose topic name joins the parent and the child with `$`, a
// character no user topic may contain, so an LMQ can never collide with a topic a client names.

export const LMQ_PREFIX = "%LMQ%";
const SEPARATOR = "$";

/** Longest lite topic name, in UTF-8 bytes (the proxy's maxLiteTopicSize default). */
export const MAX_LITE_TOPIC_BYTES = 64;

const LITE_RE = /^[A-Za-z0-9_-]+$/;

/** Why `name` cannot be a lite topic, or undefined when it can. */
export function liteTopicProblem(name: string): string | undefined {
  if (name.trim().length === 0) return "lite topic is blank";
  if (Buffer.byteLength(name) > MAX_LITE_TOPIC_BYTES)
    return `lite topic is longer than ${MAX_LITE_TOPIC_BYTES} bytes`;
  if (!LITE_RE.test(name)) return `lite topic "${name.slice(0, 64)}" has characters outside [A-Za-z0-9_-]`;
  return undefined;
}

/** The queue a lite topic's messages are stored in (always queue 0 of this topic). */
export function lmqName(parentTopic: string, liteTopic: string): string {
  return LMQ_PREFIX + SEPARATOR + parentTopic + SEPARATOR + liteTopic;
}

export function isLmq(topic: string): boolean {
  return topic.startsWith(LMQ_PREFIX + SEPARATOR);
}

/** The parent and lite topic an LMQ name joins, or undefined for any other topic. */
export function parseLmqName(topic: string): { parentTopic: string; liteTopic: string } | undefined {
  if (!isLmq(topic)) return undefined;
  const rest = topic.slice(LMQ_PREFIX.length + 1);
  // Lite topic names have no `$`, parents neither: the last one splits them.
  const at = rest.lastIndexOf(SEPARATOR);
  if (at <= 0 || at === rest.length - 1) return undefined;
  return { parentTopic: rest.slice(0, at), liteTopic: rest.slice(at + 1) };
}
