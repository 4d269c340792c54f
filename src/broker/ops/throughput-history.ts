// Put and get totals sampled once a second for the last ten minutes, and the totals at the last two local
// midnights: what RocketMQ's admin tools read as putTps / getTransferredTps ("10 s, 60 s, 600 s" rates) and as
// msgPutTotalTodayMorning / msgPutTotalYesterdayMorning. Sampling reads two counters, so the per-message paths
// only pay their increment in BrokerStats.

export interface DayTotals {
  put: number;
  get: number;
}

/** RocketMQ's StoreStatsService keeps 600 one-second samples; the 600 s rate needs one more. */
const CAPACITY = 601;

export class ThroughputHistory {
  private readonly at = new Float64Array(CAPACITY);
  private readonly puts = new Float64Array(CAPACITY);
  private readonly gets = new Float64Array(CAPACITY);
  private size = 0;
  /** Index of the newest sample. */
  private last = -1;
  private day: string | undefined;
  /** Totals when today and yesterday began; 0 until this broker has lived through a midnight (as RocketMQ). */
  todayMorning: DayTotals = { put: 0, get: 0 };
  yesterdayMorning: DayTotals = { put: 0, get: 0 };

  sample(now: number, putTotal: number, getTotal: number): void {
    this.last = (this.last + 1) % CAPACITY;
    this.at[this.last] = now;
    this.puts[this.last] = putTotal;
    this.gets[this.last] = getTotal;
    if (this.size < CAPACITY) this.size++;
    const d = new Date(now);
    const day = `${d.getFullYear()}-${d.getMonth()}-${d.getDate()}`;
    if (this.day !== undefined && day !== this.day) {
      this.yesterdayMorning = this.todayMorning;
      this.todayMorning = { put: putTotal, get: getTotal };
    }
    this.day = day;
  }

  /**
   * Messages per second over the last `samples` intervals; 0 until that much history exists, as RocketMQ
   * answers a broker that has not run that long.
   */
  rate(kind: "put" | "get", samples: number): number {
    if (this.size <= samples) return 0;
    const before = (this.last - samples + CAPACITY) % CAPACITY;
    const totals = kind === "put" ? this.puts : this.gets;
    const ms = this.at[this.last]! - this.at[before]!;
    if (ms <= 0) return 0;
    return ((totals[this.last]! - totals[before]!) * 1000) / ms;
  }
}
