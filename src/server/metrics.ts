// Prometheus metrics of one broker (prom-client, a registry of its own so several brokers can run in one process):
// produce and consume counters and rates, backlog per group, send and end-to-end latency, store size and disk use,
// timers and half messages pending, connections per protocol, firing alarms, a master's slaves and how far they
// lag, and the process metrics.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { Broker } from "../broker/broker.js";
import { groupNames, groupProgress } from "../broker/ops/group-info.js";

export interface BrokerMetrics {
  readonly registry: Registry;
  /** Messages per second over the last sampling interval. */
  rates(): { produce: Record<string, number>; consume: Record<string, Record<string, number>> };
  stop(): void;
}

const LATENCY_BUCKETS = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export function createMetrics(
  broker: Broker,
  connections: () => Record<string, number>,
  sampleMs = 5000,
): BrokerMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const { stats } = broker;

  new Counter({
    name: "rocketmq_produced_messages_total",
    help: "Messages stored, per topic",
    labelNames: ["topic"],
    registers: [registry],
    collect() {
      this.reset();
      for (const [topic, n] of stats.produced) this.inc({ topic }, n);
    },
  });
  new Counter({
    name: "rocketmq_consumed_messages_total",
    help: "Messages delivered to consumer groups, per group and topic",
    labelNames: ["group", "topic"],
    registers: [registry],
    collect() {
      this.reset();
      for (const [group, m] of stats.consumed) for (const [topic, n] of m) this.inc({ group, topic }, n);
    },
  });

  // Rates sampled on a timer, so the console and the gauges show messages per second without a Prometheus.
  let produceRate: Record<string, number> = {};
  let consumeRate: Record<string, Record<string, number>> = {};
  let lastProduced = new Map(stats.produced);
  let lastConsumed = new Map([...stats.consumed].map(([g, m]) => [g, new Map(m)]));
  let lastAt = Date.now();
  const sample = () => {
    const now = Date.now();
    const dt = Math.max(1, now - lastAt) / 1000;
    produceRate = {};
    for (const [t, n] of stats.produced) produceRate[t] = (n - (lastProduced.get(t) ?? 0)) / dt;
    consumeRate = {};
    for (const [g, m] of stats.consumed) {
      const prev = lastConsumed.get(g);
      consumeRate[g] = {};
      for (const [t, n] of m) consumeRate[g]![t] = (n - (prev?.get(t) ?? 0)) / dt;
    }
    lastProduced = new Map(stats.produced);
    lastConsumed = new Map([...stats.consumed].map(([g, m]) => [g, new Map(m)]));
    lastAt = now;
  };
  const timer = setInterval(sample, sampleMs);
  timer.unref();

  new Gauge({
    name: "rocketmq_produce_tps",
    help: "Messages stored per second, per topic (last sampling interval)",
    labelNames: ["topic"],
    registers: [registry],
    collect() {
      this.reset();
      for (const [topic, v] of Object.entries(produceRate)) this.set({ topic }, v);
    },
  });
  new Gauge({
    name: "rocketmq_consume_tps",
    help: "Messages delivered per second, per group and topic (last sampling interval)",
    labelNames: ["group", "topic"],
    registers: [registry],
    collect() {
      this.reset();
      for (const [group, m] of Object.entries(consumeRate)) {
        for (const [topic, v] of Object.entries(m)) this.set({ group, topic }, v);
      }
    },
  });
  new Gauge({
    name: "rocketmq_group_backlog",
    help: "Messages not yet consumed, per group and topic",
    labelNames: ["group", "topic"],
    registers: [registry],
    collect() {
      this.reset();
      for (const group of groupNames(broker)) {
        const byTopic = new Map<string, number>();
        for (const p of groupProgress(broker, group))
          byTopic.set(p.topic, (byTopic.get(p.topic) ?? 0) + p.backlog);
        for (const [topic, v] of byTopic) this.set({ group, topic }, v);
      }
    },
  });
  const sendLatency = new Histogram({
    name: "rocketmq_send_latency_seconds",
    help: "Time the broker took to store a sent message",
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const e2eLatency = new Histogram({
    name: "rocketmq_end_to_end_latency_seconds",
    help: "Time from storing a message to delivering it (one message sampled per delivered batch)",
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  stats.sendLatency = (ms) => sendLatency.observe(ms / 1000);
  stats.endToEndLatency = (ms) => e2eLatency.observe(Math.max(0, ms) / 1000);

  new Gauge({
    name: "rocketmq_store_commitlog_bytes",
    help: "Bytes held in the commit log",
    registers: [registry],
    collect() {
      const s = broker.store.stats();
      this.set(s.maxPhyOffset - s.minPhyOffset);
    },
  });
  new Gauge({
    name: "rocketmq_store_disk_used_ratio",
    help: "Used share of the store's disk",
    registers: [registry],
    collect() {
      this.set(broker.store.stats().diskUsedRatio);
    },
  });
  new Gauge({
    name: "rocketmq_ha_slaves",
    help: "Slaves connected to this master",
    registers: [registry],
    collect() {
      this.set(broker.slaveAcks.slaveCount);
    },
  });
  new Gauge({
    name: "rocketmq_ha_slave_lag_bytes",
    help: "Commit log bytes the furthest slave has not confirmed yet (none when no slave is connected)",
    registers: [registry],
    collect() {
      this.reset();
      const acked = broker.slaveAcks.bestAck;
      if (acked >= 0) this.set(Math.max(0, broker.store.stats().maxPhyOffset - acked));
    },
  });
  new Gauge({
    name: "rocketmq_timers_pending",
    help: "Timed messages waiting for their time",
    registers: [registry],
    collect() {
      this.set(broker.timer.pending().pending);
    },
  });
  new Gauge({
    name: "rocketmq_transactions_half_pending",
    help: "Half messages not yet committed or rolled back",
    registers: [registry],
    collect() {
      this.set(broker.transactions.unresolved);
    },
  });
  new Gauge({
    name: "rocketmq_connections",
    help: "Open client connections, per protocol",
    labelNames: ["protocol"],
    registers: [registry],
    collect() {
      this.reset();
      for (const [protocol, n] of Object.entries(connections())) this.set({ protocol }, n);
    },
  });
  new Gauge({
    name: "rocketmq_alarm_firing",
    help: "1 while a backlog alarm rule fires",
    labelNames: ["rule", "group"],
    registers: [registry],
    collect() {
      this.reset();
      for (const s of broker.alarms.statuses())
        this.set({ rule: s.rule.id, group: s.rule.group }, s.firing ? 1 : 0);
    },
  });

  return {
    registry,
    rates: () => ({ produce: produceRate, consume: consumeRate }),
    stop() {
      clearInterval(timer);
      stats.sendLatency = undefined;
      stats.endToEndLatency = undefined;
    },
  };
}
