// Orderly consumption (RocketMQ ConsumeMessageOrderlyService): the messages of one queue are handed to the
// listener one at a time in offset order; different queues are consumed in parallel, at most
// consumeThreadNums listener calls at once. A queue is consumed only while this client holds the broker's lease
// on it (LOCK_BATCH_MQ; the consumer takes leases at allocation and renews them every 20 s, and a lease not
// renewed for 30 s is treated as lost here, before the broker's 60 s).
//
// A failure (anything but CommitMessage: ReconsumeLater, nothing, a throw) suspends the queue: the same message
// is given again after suspendTimeMillis with reconsumeTimes + 1, and the messages behind it wait. Once a
// message has failed with reconsumeTimes >= maxReconsumeTimes it goes to %DLQ%<group> and the queue moves on.
import type { RemotingLogger } from "../protocol/remoting/logger.js";
import { ConsumePool } from "./consume-pool.js";
import { errorMessage } from "./errors.js";
import type { ReceivedMessage } from "./message.js";
import type { MQClient } from "./mq-client.js";
import type { OffsetStore } from "./offset-store.js";
import type { ProcessQueue } from "./pull-loop.js";
import { sendToDeadLetter } from "./send-back.js";

/** How often an orderly consumer renews its queue leases (Java rocketmq.client.rebalance.lockInterval). */
export const LOCK_RENEW_INTERVAL_MS = 20_000;
/** A lease not renewed for this long is treated as lost (Java ProcessQueue.REBALANCE_LOCK_MAX_LIVE_TIME). */
export const LOCK_MAX_LIVE_MS = 30_000;
/** A queue whose lease was lost is locked again this often before consuming on. */
const RELOCK_RETRY_MS = 500;

export function leaseValid(pq: ProcessQueue, now = Date.now()): boolean {
  return pq.locked && now - pq.lastLockTimestamp <= LOCK_MAX_LIVE_MS;
}

interface Entry {
  msg: ReceivedMessage;
  generation: number;
  /** What the listener sees as reconsumeTimes: the stored count plus the local retries so far. */
  reconsumeTimes: number;
  /** Failed for good: only the dead-letter send is left to do. */
  toDeadLetter: boolean;
}

interface QueueState {
  /** Pulled, not yet consumed, in offset order. */
  buffer: Entry[];
  /** A step is queued in the pool, running, or waiting on `timer`. */
  busy: boolean;
  running: Promise<void> | undefined;
  timer: NodeJS.Timeout | undefined;
}

export interface OrderlyContext {
  readonly group: string;
  readonly client: MQClient;
  readonly offsetStore: OffsetStore;
  readonly logger: RemotingLogger;
  readonly maxReconsumeTimes: number;
  readonly suspendTimeMillis: number;
  /** The listener for a topic; undefined when nobody listens to it any more (its messages count as consumed). */
  listener(topic: string): ((m: ReceivedMessage) => unknown) | undefined;
  /** Takes the queue's lease again after it was lost; resolves whether it is held now. */
  relock(pq: ProcessQueue): Promise<boolean>;
}

export class OrderlyConsumeService {
  private readonly states = new Map<ProcessQueue, QueueState>();
  private readonly pool: ConsumePool<ProcessQueue>;
  private stopped = false;

  constructor(
    private readonly ctx: OrderlyContext,
    threads: number,
  ) {
    this.pool = new ConsumePool(threads, (pq) => this.step(pq));
  }

  private state(pq: ProcessQueue): QueueState {
    let st = this.states.get(pq);
    if (!st) {
      st = { buffer: [], busy: false, running: undefined, timer: undefined };
      this.states.set(pq, st);
    }
    return st;
  }

  /** Pulled messages of `pq`, in offset order. */
  deliver(pq: ProcessQueue, msgs: readonly ReceivedMessage[]): void {
    if (pq.dropped || this.stopped) return;
    const st = this.state(pq);
    for (const msg of msgs) {
      st.buffer.push({
        msg,
        generation: pq.generation,
        reconsumeTimes: msg.reconsumeTimes,
        toDeadLetter: false,
      });
    }
    this.schedule(pq, 0);
  }

  /** Whether a listener call (or its dead-letter send) of `pq` is under way. */
  isConsuming(pq: ProcessQueue): boolean {
    return this.states.get(pq)?.running !== undefined;
  }

  private schedule(pq: ProcessQueue, delayMs: number): void {
    const st = this.states.get(pq);
    if (!st || st.busy || pq.dropped || this.stopped) return;
    st.busy = true;
    if (delayMs <= 0) {
      this.pool.submit(pq);
      return;
    }
    st.timer = setTimeout(() => {
      st.timer = undefined;
      if (pq.dropped || this.stopped) st.busy = false;
      else this.pool.submit(pq);
    }, delayMs);
  }

  /** One message of `pq` (or nothing); then the next step is queued behind the other queues' steps. */
  private async step(pq: ProcessQueue): Promise<void> {
    const st = this.states.get(pq);
    if (!st) return;
    let next = -1;
    const run = this.consumeHead(pq, st).then(
      (delay) => {
        next = delay;
      },
      (e: unknown) => {
        this.ctx.logger.error({ mq: pq.key, err: errorMessage(e) }, "orderly consume step failed");
        next = this.ctx.suspendTimeMillis;
      },
    );
    st.running = run;
    try {
      await run;
    } finally {
      st.running = undefined;
      st.busy = false;
    }
    if (next >= 0) this.schedule(pq, next);
  }

  /** Resolves with the delay before the next step, or -1 to wait for the next pull. */
  private async consumeHead(pq: ProcessQueue, st: QueueState): Promise<number> {
    if (pq.dropped || this.stopped) return -1;
    // Messages pulled before an offset reset are not consumed.
    while (st.buffer.length > 0 && st.buffer[0]!.generation !== pq.generation) st.buffer.shift();
    const e = st.buffer[0];
    if (!e) return -1;
    if (!leaseValid(pq)) {
      // Java tryLockLaterAndReconsume: never consume a queue without its lease.
      if (!(await this.ctx.relock(pq))) return RELOCK_RETRY_MS;
      if (pq.dropped || this.stopped) return -1;
    }
    if (!e.toDeadLetter) {
      const listener = this.ctx.listener(e.msg.topic);
      let ok = true;
      if (listener) {
        try {
          ok = (await listener({ ...e.msg, reconsumeTimes: e.reconsumeTimes })) === "CommitMessage";
        } catch (err) {
          ok = false;
          this.ctx.logger.warn(
            { topic: e.msg.topic, msgId: e.msg.messageId, err: errorMessage(err) },
            "listener threw",
          );
        }
      }
      if (ok) {
        // Committed even when the queue was dropped meanwhile: its release waits for this step, then commits
        // the offset and only then gives the lease back, so the next owner starts after this message.
        this.consumed(pq, st, e);
        return 0;
      }
      // A dropped queue's next owner consumes the message again, from the committed offset.
      if (pq.dropped || this.stopped) return -1;
      if (e.reconsumeTimes < this.ctx.maxReconsumeTimes) {
        e.reconsumeTimes++;
        return this.ctx.suspendTimeMillis;
      }
      e.toDeadLetter = true;
    }
    const msg = { ...e.msg, reconsumeTimes: e.reconsumeTimes };
    if (
      await sendToDeadLetter(
        this.ctx.client,
        this.ctx.group,
        this.ctx.maxReconsumeTimes,
        msg,
        this.ctx.logger,
      )
    ) {
      this.ctx.logger.warn(
        { topic: msg.topic, msgId: msg.messageId, reconsumeTimes: msg.reconsumeTimes },
        "orderly: message sent to the dead-letter queue",
      );
      this.consumed(pq, st, e);
      return 0;
    }
    return this.ctx.suspendTimeMillis;
  }

  private consumed(pq: ProcessQueue, st: QueueState, e: Entry): void {
    if (st.buffer[0] === e) st.buffer.shift();
    const commit = pq.finish(e.msg.queueOffset, e.generation);
    if (commit !== undefined) this.ctx.offsetStore.update(pq.mq, commit, true);
  }

  /** Stops consuming `pq` (already marked dropped) and resolves once its running step, if any, has ended. */
  async release(pq: ProcessQueue): Promise<void> {
    const st = this.states.get(pq);
    if (!st) return;
    if (st.timer) {
      clearTimeout(st.timer);
      st.timer = undefined;
      st.busy = false;
    }
    await st.running;
    this.states.delete(pq);
  }

  /** No step starts after this; running ones finish. */
  stop(): void {
    this.stopped = true;
    for (const st of this.states.values()) {
      if (st.timer) {
        clearTimeout(st.timer);
        st.timer = undefined;
        st.busy = false;
      }
    }
    this.pool.discard(() => false);
  }

  /** Resolves when no step runs, or after `timeoutMs`. */
  idle(timeoutMs: number): Promise<void> {
    return this.pool.idle(timeoutMs);
  }
}
