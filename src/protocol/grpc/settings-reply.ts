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
    return {
      ...common,
      backoffPolicy: backoff(broker.maxDeliveryAttempts(group)),
      subscription: {
        group: { name: group },
        subscriptions: s.subscription.subscriptions ?? [],
        // Lite topics are consumed in order, one lite topic by one consumer thread.
        fifo: lite || broker.isFifoGroup(group),
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
