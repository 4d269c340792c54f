// Lite topics over gRPC (RocketMQ RIP-83). A LitePushConsumer subscribes with SyncLiteSubscription: PARTIAL_ADD
// and PARTIAL_REMOVE from subscribeLite/unsubscribeLite, COMPLETE_ADD with its whole set at start-up and every
// 30 s. Its receives, acks and invisible-time changes name the parent topic plus the message's lite topic, which
// together name the lite topic's own queue.
import type { LiteAction } from "../../broker/lite/lite-subscriptions.js";
import type { LiteStart } from "../../broker/lite/lite-service.js";
import { liteTopicProblem, lmqName } from "../../common/lite-topic.js";
import type { Caller, GrpcContext } from "./context.js";
import { routableTopic } from "./route.js";
import { groupOf, topicOf } from "./request-fields.js";
import { Code, OK, badRequest } from "./status.js";
import type { OffsetOption, Status, SyncLiteSubscriptionRequest } from "./wire-types.js";

const ACTIONS = new Set<string>(["PARTIAL_ADD", "PARTIAL_REMOVE", "COMPLETE_ADD", "COMPLETE_REMOVE"]);

/** The topic a receipt handle belongs to: the lite topic's queue when the request names one. */
export function receiptTopic(topic: string, liteTopic: string | undefined): string {
  if (liteTopic === undefined || liteTopic === "") return topic;
  const problem = liteTopicProblem(liteTopic);
  if (problem) throw badRequest(problem, Code.ILLEGAL_LITE_TOPIC);
  return lmqName(topic, liteTopic);
}

function startOf(o: OffsetOption | undefined): LiteStart | undefined {
  if (!o) return undefined;
  const which =
    o.offsetType ??
    (o.policy !== undefined
      ? "policy"
      : o.offset !== undefined
        ? "offset"
        : o.tailN !== undefined
          ? "tailN"
          : o.timestamp !== undefined
            ? "timestamp"
            : undefined);
  const nonNegative = (n: number | undefined, what: string): number => {
    if (n === undefined || !Number.isSafeInteger(n) || n < 0)
      throw badRequest(`offset_option.${what} must be a non-negative integer`);
    return n;
  };
  switch (which) {
    case "policy":
      return { policy: o.policy ?? "LAST" };
    case "offset":
      return { offset: nonNegative(o.offset, "offset") };
    case "tailN":
      return { tailN: nonNegative(o.tailN, "tail_n") };
    case "timestamp":
      return { timestamp: nonNegative(o.timestamp, "timestamp") };
    default:
      return undefined;
  }
}

export function syncLiteSubscription(
  ctx: GrpcContext,
  req: SyncLiteSubscriptionRequest,
  caller: Caller,
): { status: Status } {
  if (!caller.clientId) throw badRequest("x-mq-client-id is required", Code.CLIENT_ID_REQUIRED);
  const action = req.action ?? "PARTIAL_ADD";
  if (!ACTIONS.has(action)) throw badRequest(`unknown lite subscription action ${action}`);
  const topic = routableTopic(ctx, topicOf(req.topic)).topicName;
  const group = groupOf(req.group);
  ctx.broker.groups.getOrCreate(group);
  ctx.broker.lite.sync(
    {
      clientId: caller.clientId,
      group,
      parentTopic: topic,
      action: action as LiteAction,
      liteTopics: req.liteTopicSet ?? [],
    },
    startOf(req.offsetOption),
  );
  return { status: OK };
}
