// Counters the broker keeps for operators: messages produced per topic and consumed per group and topic, and
// optional observers for send and end-to-end latency (set by the metrics exporter; nothing is measured without one).

export class BrokerStats {
  readonly startedAt = Date.now();
  /** topic → messages stored for it. */
  readonly produced = new Map<string, number>();
  /** group → topic → messages delivered to the group. */
  readonly consumed = new Map<string, Map<string, number>>();
  /** Running sums of the two maps, kept beside them so readers need not walk every topic and group. */
  private putTotal = 0;
  private getTotal = 0;
  /** Called with the time a send took, ms. */
  sendLatency: ((ms: number) => void) | undefined;
  /** Called with store-to-delivery time of delivered messages (sampled per batch), ms. */
  endToEndLatency: ((ms: number) => void) | undefined;

  produce(topic: string, n = 1): void {
    this.produced.set(topic, (this.produced.get(topic) ?? 0) + n);
    this.putTotal += n;
  }

  consume(group: string, topic: string, n: number): void {
    if (n <= 0) return;
    let m = this.consumed.get(group);
    if (!m) {
      m = new Map();
      this.consumed.set(group, m);
    }
    m.set(topic, (m.get(topic) ?? 0) + n);
    this.getTotal += n;
  }

  /** group → messages delivered per second over the last sample interval (RocketMQ's consumeTps). */
  readonly consumeTps = new Map<string, number>();
  private lastSample: { at: number; totals: Map<string, number> } | undefined;

  /** Called about once a second: each group's delivery rate since the previous call. */
  sampleGroupRates(now: number): void {
    const totals = new Map<string, number>();
    for (const [group, byTopic] of this.consumed) {
      let n = 0;
      for (const v of byTopic.values()) n += v;
      totals.set(group, n);
    }
    // The first sample counts from the start: deliveries before it are not lost to the baseline.
    const prev = this.lastSample ?? { at: this.startedAt, totals: new Map<string, number>() };
    this.lastSample = { at: now, totals };
    if (now <= prev.at) return;
    this.consumeTps.clear();
    for (const [group, n] of totals) {
      const rate = ((n - (prev.totals.get(group) ?? 0)) * 1000) / (now - prev.at);
      if (rate > 0) this.consumeTps.set(group, rate);
    }
  }

  get producedTotal(): number {
    return this.putTotal;
  }

  get consumedTotal(): number {
    return this.getTotal;
  }
}
