// Receive state of one (group, topic, queue). Offsets below `start` are finished; `cursor` is the first offset
// never looked at. Between them an offset is in flight (handed out, not acked), held (FIFO: its message group
// has an earlier message in flight) or finished (acked, dead-lettered or filtered out). Only in-flight and held
// offsets take memory, so a queue costs nothing per message once its messages are acked.

export interface InFlight {
  phyOffset: number;
  /** Sequence number of the current delivery; receipt handles carry it. */
  seq: number;
  /** Deliveries so far, 1 on the first. */
  attempt: number;
  /** Deliveries allowed before the dead-letter queue. */
  maxAttempts: number;
  /** When it was first delivered, ms since the epoch. */
  firstAt: number;
  /** Visible again (redelivered) from this time on, ms since the epoch; Infinity while being dead-lettered. */
  deadline: number;
  /** FIFO message group ("" when none). */
  msgGroup: string;
}

export interface Held {
  phyOffset: number;
  msgGroup: string;
}

export class PopQueue {
  readonly inflight = new Map<number, InFlight>();
  readonly held = new Map<number, Held>();
  /** Last receive or ack here, ms since the epoch: idle, empty states are let go (see PopService). */
  usedAt = Date.now();

  constructor(
    /** Journal id, unique per broker run. */
    readonly id: number,
    readonly group: string,
    readonly topic: string,
    readonly queueId: number,
    public start: number,
    public cursor: number,
  ) {}

  /** Nothing in flight or held: the state is just its committed offset. */
  get settled(): boolean {
    return this.inflight.size === 0 && this.held.size === 0;
  }

  /** Marks an offset finished; returns true when `start` moved (the committed offset can follow). */
  finish(offset: number): boolean {
    this.inflight.delete(offset);
    this.held.delete(offset);
    return this.advance();
  }

  /** Moves `start` up to the first offset still in flight or held. */
  advance(): boolean {
    const before = this.start;
    if (this.inflight.size === 0 && this.held.size === 0) {
      this.start = this.cursor;
    } else {
      while (this.start < this.cursor && !this.inflight.has(this.start) && !this.held.has(this.start)) {
        this.start++;
      }
    }
    return this.start !== before;
  }

  /** The queue lost messages below `minOffset` (retention): forget them. */
  trimBelow(minOffset: number): void {
    if (this.start >= minOffset) return;
    for (const off of this.inflight.keys()) if (off < minOffset) this.inflight.delete(off);
    for (const off of this.held.keys()) if (off < minOffset) this.held.delete(off);
    this.cursor = Math.max(this.cursor, minOffset);
    this.start = minOffset;
    this.advance();
  }

  /** In-flight offsets whose invisible time is over, oldest first. */
  expired(now: number): number[] {
    const out: number[] = [];
    for (const [off, e] of this.inflight) if (e.deadline <= now) out.push(off);
    return out.sort((a, b) => a - b);
  }

  /** The earliest deadline in flight after `now` (Infinity when none). */
  nextDeadline(now: number): number {
    let d = Infinity;
    for (const e of this.inflight.values()) if (e.deadline > now && e.deadline < d) d = e.deadline;
    return d;
  }
}
