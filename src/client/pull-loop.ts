// One allocated queue of a push consumer: its in-flight set (RocketMQ ProcessQueue) and the loop that
// long-polls the broker for it (PullMessageService + DefaultMQPushConsumerImpl.pullMessage).
//
// Offsets: the offset to commit is the lowest in-flight offset, or, when nothing is in flight, the offset the
// last pull said to continue from (so messages filtered out by tag are passed too). Messages of one queue are
// pulled in offset order, so the in-flight set is an ordered array with a moving head.
//
// The loop never dies on one bad reply: errors back off 1-3 s and retry at the same offset; PULL_OFFSET_MOVED
// adopts the broker's nextBeginOffset.
import { setTimeout as delay } from "node:timers/promises";
import type { RemotingLogger } from "../protocol/remoting/logger.js";
import { ResponseCode } from "../protocol/remoting/response-code.js";
import { PullSysFlag, pullMessage } from "./broker-api.js";
import type { PullHeader, PullReply } from "./broker-api.js";
import { MQClientError, errorMessage } from "./errors.js";
import type { ReceivedMessage } from "./message.js";
import { decodePullBody } from "./pull-body.js";
import type { MQClient, SubscriptionData } from "./mq-client.js";
import type { OffsetStore } from "./offset-store.js";
import type { MessageQueue } from "./route-cache.js";
import { mqKey } from "./route-cache.js";

export class ProcessQueue {
  readonly key: string;
  dropped = false;
  /** Offset the next pull starts at. */
  nextOffset: number;
  suggestedBrokerId = 0;
  lastPullTimestamp = Date.now();
  /** A pull said the topic does not exist: refresh its route after the next pull that works. */
  routeSuspect = false;
  /** Bumped when the offsets are reset (PULL_OFFSET_MOVED): completions of older messages are then ignored. */
  generation = 0;
  /** Orderly consumers: the broker lease on this queue is held (LOCK_BATCH_MQ said so at lastLockTimestamp). */
  locked = false;
  lastLockTimestamp = 0;
  private offsets: number[] = [];
  private head = 0;
  private readonly done = new Set<number>();
  private pulledUpTo: number;

  constructor(
    readonly mq: MessageQueue,
    startOffset: number,
  ) {
    this.key = mqKey(mq);
    this.nextOffset = startOffset;
    this.pulledUpTo = startOffset;
  }

  get inFlight(): number {
    return this.offsets.length - this.head - this.done.size;
  }

  /** Records a pull: `msgs` (in offset order) are now in flight, and everything before `next` is accounted for. */
  addPulled(msgs: readonly ReceivedMessage[], next: number): void {
    for (const m of msgs) this.offsets.push(m.queueOffset);
    if (next > this.pulledUpTo) this.pulledUpTo = next;
    this.nextOffset = next;
  }

  /** Marks one message finished; returns the offset now safe to commit. */
  finish(offset: number, generation: number): number | undefined {
    if (generation !== this.generation) return undefined;
    // Messages mostly finish in the order they were pulled: the head then moves without touching the set.
    if (this.head < this.offsets.length && this.offsets[this.head] === offset) this.head++;
    else this.done.add(offset);
    while (
      this.head < this.offsets.length &&
      this.done.size > 0 &&
      this.done.delete(this.offsets[this.head]!)
    ) {
      this.head++;
    }
    if (this.head > 1024 && this.head * 2 > this.offsets.length) {
      this.offsets = this.offsets.slice(this.head);
      this.head = 0;
    }
    return this.committable();
  }

  /** Lowest unfinished offset, else where the last pull said to continue. */
  committable(): number {
    return this.head < this.offsets.length ? this.offsets[this.head]! : this.pulledUpTo;
  }

  /** Forgets what is in flight and continues at `offset`. */
  reset(offset: number): void {
    this.generation++;
    this.offsets = [];
    this.head = 0;
    this.done.clear();
    this.pulledUpTo = offset;
    this.nextOffset = offset;
  }
}

/** What the loop needs of its consumer. */
export interface PullContext {
  readonly group: string;
  readonly client: MQClient;
  readonly clustering: boolean;
  readonly offsetStore: OffsetStore;
  readonly pullBatchSize: number;
  readonly suspendTimeoutMs: number;
  readonly pullTimeoutMs: number;
  /** Stop pulling a queue while this many of its messages are in flight. */
  readonly pullThresholdForQueue: number;
  readonly logger: RemotingLogger;
  readonly signal: AbortSignal;
  subscription(topic: string): SubscriptionData | undefined;
  /** Hands pulled messages to the consume service. */
  deliver(pq: ProcessQueue, msgs: ReceivedMessage[]): void;
  /** When given and false, the queue is not pulled now (an orderly queue without its lease). */
  canPull?(pq: ProcessQueue): boolean;
}

/** Resolves after `ms`, or at once when the consumer stops. */
export async function pause(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return;
  try {
    await delay(ms, undefined, { signal });
  } catch {
    // aborted: the caller re-checks its state
  }
}

function errorBackoff(): number {
  return 1000 + Math.floor(Math.random() * 2000);
}

/** Keeps `subscription`'s tag set: no tag set means "*"; messages without a tag never match a tag set. */
function matchesTags(sub: SubscriptionData, msg: ReceivedMessage): boolean {
  return sub.tagsSet.length === 0 || (msg.tag !== undefined && sub.tagsSet.includes(msg.tag));
}

/**
 * A pull sent ahead of its turn (pipelining): while a queue has a backlog, the pull for the offset the pull in
 * flight will end at is sent before that one's reply is back, so the broker always has the next pull of the
 * queue in hand. It never long-polls (it would hold the queue up if the guess was wrong), and its reply is used
 * only when it is FOUND and starts where the previous reply said to continue; otherwise it is dropped and the
 * loop pulls normally, so the messages delivered are exactly those of one-at-a-time pulls.
 */
interface AheadPull {
  offset: number;
  generation: number;
  /** The subscription it was sent with: a reply filtered by an older one is not used. */
  sub: SubscriptionData;
  /** Settles with undefined when the pull failed (the normal path then retries and reports). */
  reply: Promise<PullReply | undefined>;
}

/** Pulls of one queue in flight at most while it has a backlog (1 = no pipelining). */
const PIPELINE_DEPTH = 2;

function pullHeader(
  ctx: PullContext,
  pq: ProcessQueue,
  sub: SubscriptionData,
  offset: number,
  commit: number | undefined,
  master: boolean,
  suspend: boolean,
): PullHeader {
  let sysFlag = PullSysFlag.SUBSCRIPTION;
  if (suspend) sysFlag |= PullSysFlag.SUSPEND;
  if (commit !== undefined && commit > 0 && master) sysFlag |= PullSysFlag.COMMIT_OFFSET;
  return {
    consumerGroup: ctx.group,
    topic: pq.mq.topic,
    queueId: pq.mq.queueId,
    queueOffset: offset,
    maxMsgNums: ctx.pullBatchSize,
    sysFlag,
    commitOffset: commit ?? 0,
    suspendTimeoutMillis: suspend ? ctx.suspendTimeoutMs : 0,
    subscription: sub.subString,
    subVersion: sub.subVersion,
    expressionType: sub.expressionType,
  };
}

export async function runPullLoop(pq: ProcessQueue, ctx: PullContext): Promise<void> {
  const { mq } = pq;
  const routes = ctx.client.routes;
  // Pipelining is for concurrent consumers only (an orderly queue's pulls depend on its lease).
  const pipeline = ctx.canPull === undefined;
  /** Pulls sent ahead, in offset order, each a batch after the one before. */
  let ahead: AheadPull[] = [];
  /** The last reply was a full batch with nothing skipped by a filter. */
  let fullBatches = false;
  /** The queue's max offset as of the last reply. */
  let knownMax = -1;
  while (!pq.dropped && !ctx.signal.aborted) {
    if (pq.inFlight >= ctx.pullThresholdForQueue) {
      // Flow control (Java: 50 ms): the listener is behind on this queue.
      await pause(50, ctx.signal);
      continue;
    }
    if (ctx.canPull && !ctx.canPull(pq)) {
      // Java: an orderly queue that lost its lock is pulled again 3 s later.
      await pause(1000, ctx.signal);
      continue;
    }
    const sub = ctx.subscription(mq.topic);
    if (!sub) {
      await pause(1000, ctx.signal);
      continue;
    }
    const addr = routes.pullAddress(mq.brokerName, pq.suggestedBrokerId);
    if (!addr) {
      await routes.update(mq.topic).catch(() => {});
      if (!routes.pullAddress(mq.brokerName, pq.suggestedBrokerId)) await pause(errorBackoff(), ctx.signal);
      continue;
    }
    const commit = ctx.clustering ? ctx.offsetStore.read(mq) : undefined;
    const master = routes.masterAddress(mq.brokerName) === addr;
    const offset = pq.nextOffset;
    let reply: PullReply | undefined;
    let sent: Promise<PullReply> | undefined;
    let early: Promise<PullReply | undefined> | undefined;
    const first = ahead[0];
    if (
      first !== undefined &&
      first.offset === offset &&
      first.generation === pq.generation &&
      first.sub === sub
    ) {
      early = first.reply;
      ahead.shift();
    } else {
      ahead = [];
      sent = pullMessage(
        ctx.client.remoting,
        addr,
        pullHeader(ctx, pq, sub, offset, commit, master, true),
        ctx.pullTimeoutMs,
      );
    }
    if (pipeline && fullBatches) {
      // Every pull up to `at` will be a full batch: the batches after this one are known to be there.
      const batch = ctx.pullBatchSize;
      let at = (ahead.length > 0 ? ahead[ahead.length - 1]!.offset : offset) + batch;
      while (
        ahead.length < PIPELINE_DEPTH - 1 &&
        knownMax > at &&
        pq.inFlight + (ahead.length + 2) * batch <= ctx.pullThresholdForQueue
      ) {
        ahead.push({
          offset: at,
          generation: pq.generation,
          sub,
          reply: pullMessage(
            ctx.client.remoting,
            addr,
            pullHeader(ctx, pq, sub, at, commit, master, false),
            ctx.pullTimeoutMs,
          ).then(
            (r) => r,
            () => undefined,
          ),
        });
        at += batch;
      }
    }
    fullBatches = false;
    if (early !== undefined) {
      reply = await early;
      if (pq.dropped || ctx.signal.aborted) break;
      // Failed or not FOUND: the next round pulls this offset the normal way.
      if (reply === undefined || reply.status !== "FOUND") continue;
    } else {
      try {
        reply = await sent!;
      } catch (e) {
        ahead = [];
        if (pq.dropped || ctx.signal.aborted) break;
        ctx.logger.warn({ mq: pq.key, offset: pq.nextOffset, err: errorMessage(e) }, "pull failed; retrying");
        pq.suggestedBrokerId = 0;
        // The route was a guess (a NameServer's route for a topic the broker creates only on its first send,
        // maybe with other queue counts): fetch it again once the topic exists instead of at the next refresh.
        if (e instanceof MQClientError && e.responseCode === ResponseCode.TOPIC_NOT_EXIST) {
          pq.routeSuspect = true;
        }
        await pause(errorBackoff(), ctx.signal);
        continue;
      }
      if (pq.dropped || ctx.signal.aborted) break;
    }
    pq.lastPullTimestamp = Date.now();
    pq.suggestedBrokerId = reply.suggestWhichBrokerId;
    if (pq.routeSuspect) {
      pq.routeSuspect = false;
      void routes.update(mq.topic).catch(() => {});
    }
    try {
      switch (reply.status) {
        case "FOUND": {
          const next = reply.nextBeginOffset;
          fullBatches = next - offset === ctx.pullBatchSize;
          knownMax = reply.maxOffset;
          const all = decodePullBody(reply.body, mq.brokerName);
          const mine = sub.tagsSet.length === 0 ? all : all.filter((m) => matchesTags(sub, m));
          pq.addPulled(mine, next);
          if (mine.length > 0) ctx.deliver(pq, mine);
          else ctx.offsetStore.update(mq, pq.committable(), true);
          break;
        }
        case "NO_NEW_MSG":
        case "NO_MATCHED_MSG":
          pq.addPulled([], reply.nextBeginOffset);
          if (pq.inFlight === 0) ctx.offsetStore.update(mq, pq.committable(), true);
          break;
        case "OFFSET_ILLEGAL":
          ctx.logger.warn(
            { mq: pq.key, offset: pq.nextOffset, next: reply.nextBeginOffset },
            "pull offset illegal; moving to the broker's offset",
          );
          pq.reset(reply.nextBeginOffset);
          ctx.offsetStore.update(mq, reply.nextBeginOffset, false);
          await ctx.offsetStore.persist([mq]);
          break;
      }
    } catch (e) {
      // A reply we could not process (a bug, or a listener hook threw): never end the loop for it.
      ctx.logger.error({ mq: pq.key, err: errorMessage(e) }, "pull reply handling failed");
      await pause(errorBackoff(), ctx.signal);
    }
  }
}
