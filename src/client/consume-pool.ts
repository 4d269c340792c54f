// At most `limit` tasks running at once, the rest queued in arrival order: the consumer's stand-in for
// RocketMQ's consumeThreadMin/Max thread pool (consumeThreadNums messages in flight per consumer).

export class ConsumePool<T> {
  private readonly queue: T[] = [];
  private head = 0;
  private active = 0;
  private idleWaiters: (() => void)[] = [];
  /** next() is on the stack: a task that finishes synchronously leaves starting the queued ones to it. */
  private draining = false;

  /** `run` returns undefined when the task finished synchronously (no promise to wait for). */
  constructor(
    private readonly limit: number,
    private readonly run: (task: T) => Promise<void> | undefined,
  ) {}

  get pending(): number {
    return this.queue.length - this.head + this.active;
  }

  submit(task: T): void {
    if (this.active < this.limit) this.start(task);
    else this.queue.push(task);
  }

  private start(task: T): void {
    this.active++;
    let p: Promise<void> | undefined;
    try {
      p = this.run(task);
    } catch {
      p = undefined;
    }
    // One reaction for both outcomes (a task's failure is its own business).
    if (p !== undefined) p.then(this.settled, this.settled);
    else this.settled();
  }

  private readonly settled = (): void => {
    this.active--;
    if (!this.draining) this.next();
  };

  private next(): void {
    this.draining = true;
    try {
      while (this.active < this.limit && this.head < this.queue.length) {
        const t = this.queue[this.head]!;
        this.queue[this.head++] = undefined as unknown as T;
        if (this.head > 1024 && this.head * 2 > this.queue.length) {
          this.queue.splice(0, this.head);
          this.head = 0;
        }
        this.start(t);
      }
    } finally {
      this.draining = false;
    }
    if (this.active === 0 && this.head >= this.queue.length) {
      const w = this.idleWaiters;
      this.idleWaiters = [];
      for (const f of w) f();
    }
  }

  /** Drops the queued tasks that `keep` rejects (for queues dropped at shutdown). */
  discard(keep: (task: T) => boolean): void {
    const rest = this.queue.slice(this.head).filter(keep);
    this.queue.length = 0;
    this.queue.push(...rest);
    this.head = 0;
    if (this.active === 0 && rest.length === 0) this.next();
  }

  /** Resolves when nothing runs or waits, or after `timeoutMs`. */
  idle(timeoutMs: number): Promise<void> {
    if (this.active === 0 && this.head >= this.queue.length) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(resolve, timeoutMs);
      this.idleWaiters.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }
}
