// Long polling (RocketMQ PullRequestHoldService): a pull that finds nothing new waits until a message arrives in
// its queue or its time is up. Arrivals wake waiters at once; deadlines are checked by one coarse timer, not a
// timer per request.

interface Waiter {
  offset: number;
  deadline: number;
  wake: () => void;
}

export class PullHold {
  private readonly waiters = new Map<string, Set<Waiter>>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly tickMs = 100) {}

  private static key(topic: string, queueId: number): string {
    return `${topic}\u0000${queueId}`;
  }

  /** Resolves when the queue's max offset passes `offset`, or at the deadline. */
  wait(topic: string, queueId: number, offset: number, timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const k = PullHold.key(topic, queueId);
      let set = this.waiters.get(k);
      if (!set) {
        set = new Set();
        this.waiters.set(k, set);
      }
      const w: Waiter = { offset, deadline: Date.now() + timeoutMs, wake: resolve };
      set.add(w);
      this.ensureTimer();
    });
  }

  /** A message arrived: wake everyone waiting on this queue below `maxOffset`. */
  arrived(topic: string, queueId: number, maxOffset: number): void {
    const k = PullHold.key(topic, queueId);
    const set = this.waiters.get(k);
    if (!set) return;
    for (const w of set) {
      if (w.offset < maxOffset) {
        set.delete(w);
        w.wake();
      }
    }
    if (set.size === 0) this.waiters.delete(k);
  }

  get size(): number {
    let n = 0;
    for (const s of this.waiters.values()) n += s.size;
    return n;
  }

  private ensureTimer(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.expire(Date.now()), this.tickMs);
    this.timer.unref();
  }

  private expire(now: number): void {
    for (const [k, set] of this.waiters) {
      for (const w of set) {
        if (w.deadline <= now) {
          set.delete(w);
          w.wake();
        }
      }
      if (set.size === 0) this.waiters.delete(k);
    }
    if (this.waiters.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  /** Wakes every waiter (shutdown). */
  wakeAll(): void {
    for (const set of this.waiters.values()) for (const w of set) w.wake();
    this.waiters.clear();
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
