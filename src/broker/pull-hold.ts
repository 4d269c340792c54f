// Long polling (RocketMQ PullRequestHoldService): a pull that finds nothing new waits until a message arrives in
// its queue or its time is up. Arrivals wake waiters at once; deadlines are checked by one coarse timer, not a
// timer per request.
//
// Waiters live in one array per queue that is kept, not a Set created on the first wait and dropped on the last
// wake. At a steady trickle (a pull per message) that churn replaced the queue's entry thousands of times a
// second, and old hash tables that had been promoted kept newer tables and the pulls they held alive through
// young-generation GCs until the next full GC: the scavenges copied megabytes and paused the broker for 5-10 ms.

interface Waiter {
  offset: number;
  deadline: number;
  wake: () => void;
}

export class PullHold {
  /** topic → queue id → waiters (in arrival order). */
  private readonly waiters = new Map<string, Waiter[][]>();
  private count = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly tickMs = 100) {}

  /** Resolves when the queue's max offset passes `offset`, or at the deadline. */
  wait(topic: string, queueId: number, offset: number, timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      let byQueue = this.waiters.get(topic);
      if (!byQueue) {
        byQueue = [];
        this.waiters.set(topic, byQueue);
      }
      let list = byQueue[queueId];
      if (!list) {
        // Fill any gap first: the array stays packed (no holes), which V8 keeps in its fast form.
        while (byQueue.length < queueId) byQueue.push([]);
        list = [];
        byQueue[queueId] = list;
      }
      list.push({ offset, deadline: Date.now() + timeoutMs, wake: resolve });
      this.count++;
      this.ensureTimer();
    });
  }

  /** A message arrived: wake everyone waiting on this queue below `maxOffset`. */
  arrived(topic: string, queueId: number, maxOffset: number): void {
    const list = this.waiters.get(topic)?.[queueId];
    if (list === undefined || list.length === 0) return;
    if (list.length === 1) {
      const w = list[0]!;
      if (w.offset >= maxOffset) return;
      list.length = 0;
      this.count--;
      w.wake();
      return;
    }
    this.wakeWhere(list, (w) => w.offset < maxOffset);
  }

  /** Wakes every pull held on the queue, whatever its offset (an offset reset for one of their groups). */
  wakeQueue(topic: string, queueId: number): void {
    const list = this.waiters.get(topic)?.[queueId];
    if (list !== undefined && list.length > 0) this.wakeWhere(list, () => true);
  }

  get size(): number {
    return this.count;
  }

  /** Removes the waiters `due` picks (keeping the others in order), then wakes them. */
  private wakeWhere(list: Waiter[], due: (w: Waiter) => boolean): void {
    let woken: Waiter[] | undefined;
    let kept = 0;
    for (let i = 0; i < list.length; i++) {
      const w = list[i]!;
      if (due(w)) (woken ??= []).push(w);
      else list[kept++] = w;
    }
    if (woken === undefined) return;
    list.length = kept;
    this.count -= woken.length;
    // Woken after the list is consistent: a waker may re-enter wait() for the same queue.
    for (const w of woken) w.wake();
  }

  private ensureTimer(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.expire(Date.now()), this.tickMs);
    this.timer.unref();
  }

  private expire(now: number): void {
    for (const [topic, byQueue] of this.waiters) {
      let any = false;
      for (const list of byQueue) {
        if (list.length > 0) this.wakeWhere(list, (w) => w.deadline <= now);
        if (list.length > 0) any = true;
      }
      // A topic nobody waits on any more is dropped here, on the coarse tick, not on every wake.
      if (!any) this.waiters.delete(topic);
    }
    if (this.count === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  /** Wakes every waiter (shutdown). */
  wakeAll(): void {
    const all = [...this.waiters.values()];
    this.waiters.clear();
    this.count = 0;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    for (const byQueue of all) for (const list of byQueue) for (const w of list) w.wake();
  }
}
