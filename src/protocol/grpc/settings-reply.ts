// The Settings a client gets back on its Telemetry stream. The official clients need it complete: the Node.js
// producer crashes on a missing exponential backoff_policy and refuses every send with max_body_size 0, and a push
// consumer reads fifo, receive_batch_size and long_polling_timeout from it (an unset batch size reads as 0).
import type { Broker } from "../../broker/broker.js";
import { MAX_LITE_TOPIC_BYTES } from "../../common/lite-topic.js";
import { LITE_CLIENT_TYPES } from "./context.js";
import { MAX_BODY_BYTES } from "./message-codec.js";
import { durationOf, groupOf } from "./request-fields.js";
import { badRequest } from "./status.js";
import type { RetryPolicy, Settings } from "./wire-types.js";

export const RECEIVE_BATCH_SIZE = 32;
export const LONG_POLLING_TIMEOUT_MS = 20_000;
const PRODUCER_MAX_ATTEMPTS = 3;

function backoff(maxAttempts: number): RetryPolicy {
  return {
    maxAttempts,
    exponentialBackoff: { initial: durationOf(1000), max: durationOf(60_000), multiplier: 2 },
  };
}

/**
 * When a push consumer retries a message it failed: ordered consumption every second (RocketMQ's
 * suspendTimeMillis); otherwise on the retry schedule, 10 s 30 s 1 m ... 2 h, then every 2 h. The Java client takes
 * that schedule as it is; the Node.js client understands exponential backoff only (it drops a customized one and
 * then cannot retry), so the other languages get the nearest one: from the first wait, growing so that the
 * schedule's retries take as long in all (a message reaches the dead-letter queue about when the schedule says),
 * never longer than the last wait.
 */
function consumerBackoff(broker: Broker, group: string, fifo: boolean, language?: string): RetryPolicy {
  const maxAttempts = broker.maxDeliveryAttempts(group);
  if (fifo) {
    return {
      maxAttempts,
      exponentialBackoff: { initial: durationOf(1000), max: durationOf(1000), multiplier: 1 },
    };
  }
  const delays = broker.retryDelaysMs();
  if (language === "JAVA") return { maxAttempts, customizedBackoff: { next: delays.map(durationOf) } };
  const first = delays[0]!;
  return {
    maxAttempts,
    exponentialBackoff: {
      initial: durationOf(first),
      max: durationOf(delays[delays.length - 1]!),
      multiplier: growthFor(
        first,
        delays.length,
        delays.reduce((a, b) => a + b, 0),
      ),
    },
  };
}

/** The m >= 1 for which first + first*m + ... + first*m^(n-1) = total (bisection), to two decimals. */
function growthFor(first: number, n: number, total: number): number {
  const sum = (m: number) => {
    let s = 0;
    for (let k = 0, w = first; k < n; k++, w *= m) s += w;
    return s;
  };
  if (n <= 1 || sum(1) >= total) return 1;
  let lo = 1;
  let hi = 2;
  while (sum(hi) < total) hi *= 2;
  for (let i = 0; i < 50; i++) {
    const mid = (lo + hi) / 2;
    if (sum(mid) < total) lo = mid;
    else hi = mid;
  }
  return Math.round(hi * 100) / 100;
}

export function settingsReply(broker: Broker, s: Settings): Settings {
  const common: Settings = {
    ...(s.clientType ? { clientType: s.clientType } : {}),
    ...(s.accessPoint ? { accessPoint: s.accessPoint } : {}),
    requestTimeout: s.requestTimeout ?? durationOf(3000),
    ...(s.userAgent ? { userAgent: s.userAgent } : {}),
  };
  if (s.subscription) {
    const group = groupOf(s.subscription.group);
    const lite = LITE_CLIENT_TYPES.has(s.clientType ?? "");
    // Lite topics are consumed in order, one lite topic by one consumer thread.
    const fifo = lite || broker.isFifoGroup(group);
    return {
      ...common,
      backoffPolicy: consumerBackoff(broker, group, fifo, s.userAgent?.language),
      subscription: {
        group: { name: group },
        subscriptions: s.subscription.subscriptions ?? [],
        fifo,
        receiveBatchSize: RECEIVE_BATCH_SIZE,
        longPollingTimeout: durationOf(LONG_POLLING_TIMEOUT_MS),
        ...(lite
          ? { liteSubscriptionQuota: broker.lite.quotaPerClient, maxLiteTopicSize: MAX_LITE_TOPIC_BYTES }
          : {}),
      },
    };
  }
  if (s.publishing || s.clientType === "PRODUCER") {
    return {
      ...common,
      backoffPolicy: backoff(PRODUCER_MAX_ATTEMPTS),
      publishing: {
        topics: s.publishing?.topics ?? [],
        maxBodySize: Math.min(MAX_BODY_BYTES, broker.store.config.maxMessageBytes),
        validateMessageType: s.publishing?.validateMessageType ?? true,
      },
    };
  }
  throw badRequest("settings carry neither publishing nor subscription");
}
