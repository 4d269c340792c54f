// Auto-batching (RocketMQ 5's producer autoBatch): sends of one topic made in the same turn of the event loop
// leave as one SEND_BATCH_MESSAGE instead of one request each. Nothing is held back to wait for company, unlike
// Java's accumulator with its hold time: a turn's sends are collected only until the microtasks queued before
// the first of them have run, which is before the connection would have written them anyway. A lone send leaves
// as soon as it would have without batching; many sends made at once (a pipelining caller refilling its window
// from a socket read full of answers) share one request, one header and one store call on the broker.

export interface Pending<P, R> {
  item: P;
  resolve(r: R): void;
  reject(e: unknown): void;
}

export class SendAccumulator<P, R> {
  private groups = new Map<string, Pending<P, R>[]>();
  private scheduled = false;

  /** `flushGroup` gets each key's sends of the turn, in call order, and settles every one of them. */
  constructor(private readonly flushGroup: (items: Pending<P, R>[]) => void) {}

  add(key: string, item: P): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      const g = this.groups.get(key);
      if (g) g.push({ item, resolve, reject });
      else this.groups.set(key, [{ item, resolve, reject }]);
      if (!this.scheduled) {
        this.scheduled = true;
        queueMicrotask(this.flush);
      }
    });
  }

  private readonly flush = (): void => {
    this.scheduled = false;
    const groups = this.groups;
    this.groups = new Map();
    for (const g of groups.values()) {
      try {
        this.flushGroup(g);
      } catch (e) {
        for (const p of g) p.reject(e);
      }
    }
  };
}
