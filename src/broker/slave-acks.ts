// A master's view of its slaves: how far each has stored its commit log (their reports over the HA connection),
// and the SYNC_MASTER wait: a send is answered once a slave stored it, FLUSH_SLAVE_TIMEOUT after the timeout,
// SLAVE_NOT_AVAILABLE at once when no slave is connected or the nearest is too far behind (RocketMQ's
// HAService.isSlaveOK and GroupTransferService, in our own terms).

/** Told how far each slave has stored, and when it goes (by the HA transport). */
export interface SlaveTracker {
  slaveAcked(slaveId: number, offset: number): void;
  slaveGone(slaveId: number): void;
}

export type SlaveWait = "OK" | "SLAVE_NOT_AVAILABLE" | "FLUSH_SLAVE_TIMEOUT";

interface Waiter {
  offset: number;
  resolve: (w: SlaveWait) => void;
  timer: NodeJS.Timeout;
}

export class SlaveAcks implements SlaveTracker {
  private readonly acks = new Map<number, number>();
  private best = 0;
  /** In offset order: sends are stored (and waited for) in log order. */
  private waiters: Waiter[] = [];

  slaveAcked(slaveId: number, offset: number): void {
    if (offset > (this.acks.get(slaveId) ?? -1)) this.acks.set(slaveId, offset);
    if (offset <= this.best) return;
    this.best = offset;
    let n = 0;
    while (n < this.waiters.length && this.waiters[n]!.offset <= offset) n++;
    if (n === 0) return;
    const done = this.waiters.slice(0, n);
    this.waiters = this.waiters.slice(n);
    for (const w of done) {
      clearTimeout(w.timer);
      w.resolve("OK");
    }
  }

  slaveGone(slaveId: number): void {
    this.acks.delete(slaveId);
    this.best = Math.max(0, ...this.acks.values());
  }

  get slaveCount(): number {
    return this.acks.size;
  }

  /** The furthest a slave has stored, or -1 with no slave connected. */
  get bestAck(): number {
    return this.acks.size === 0 ? -1 : this.best;
  }

  /** Waits until a slave stored the log up to `offset` (the end of the record just written here). */
  wait(offset: number, masterEnd: number, timeoutMs: number, maxGap: number): Promise<SlaveWait> {
    if (this.acks.size === 0 || masterEnd - this.best > maxGap) return Promise.resolve("SLAVE_NOT_AVAILABLE");
    if (this.best >= offset) return Promise.resolve("OK");
    return new Promise<SlaveWait>((resolve) => {
      const w: Waiter = {
        offset,
        resolve,
        timer: setTimeout(() => {
          this.waiters = this.waiters.filter((x) => x !== w);
          resolve("FLUSH_SLAVE_TIMEOUT");
        }, timeoutMs),
      };
      let i = this.waiters.length;
      while (i > 0 && this.waiters[i - 1]!.offset > offset) i--;
      this.waiters.splice(i, 0, w);
    });
  }

  /** Answers every waiting send (the broker is stopping). */
  releaseAll(): void {
    for (const w of this.waiters) {
      clearTimeout(w.timer);
      w.resolve("FLUSH_SLAVE_TIMEOUT");
    }
    this.waiters = [];
  }
}
