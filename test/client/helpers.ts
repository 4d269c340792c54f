// Shared fixtures for the SDK tests: a NameServer (or two) and a broker registered with them, in-process on
// ephemeral ports; topic creation that waits until the route is published; and small waiting helpers.
import type { BrokerConfig } from "../../src/broker/broker-config.js";
import { topicConfig } from "../../src/common/topic.js";
import { createNamesrv } from "../../src/namesrv/namesrv.js";
import type { Namesrv } from "../../src/namesrv/namesrv.js";
import type { ReceivedMessage } from "../../src/client/message.js";
import { Action } from "../../src/client/consumer.js";
import { startBroker } from "../support/broker-fixture.js";

export type StartedBroker = Awaited<ReturnType<typeof startBroker>>;

export interface Cluster {
  namesrvs: Namesrv[];
  nameServer: string[];
  broker: StartedBroker;
  stop(): Promise<void>;
}

/** Retry delays of 100 ms so retried messages come back quickly (18 levels, as RocketMQ's default count). */
export const FAST_DELAY_LEVELS = Array.from({ length: 18 }, () => "100ms").join(" ");

export async function startNamesrvs(n: number): Promise<Namesrv[]> {
  const out: Namesrv[] = [];
  for (let i = 0; i < n; i++) {
    const ns = createNamesrv({ port: 0, host: "127.0.0.1" });
    await ns.start();
    out.push(ns);
  }
  return out;
}

export async function startCluster(
  opts: { namesrvs?: number; broker?: Partial<BrokerConfig> } = {},
): Promise<Cluster> {
  const namesrvs = await startNamesrvs(opts.namesrvs ?? 1);
  const nameServer = namesrvs.map((ns) => `127.0.0.1:${ns.port}`);
  const broker = await startBroker({
    namesrvAddrs: nameServer,
    messageDelayLevel: FAST_DELAY_LEVELS,
    ...opts.broker,
  });
  return {
    namesrvs,
    nameServer,
    broker,
    async stop() {
      await broker.stop();
      for (const ns of namesrvs) await ns.stop();
    },
  };
}

export async function waitFor(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Creates `topic` on the broker and waits until every NameServer routes it with `queues` queues. */
export async function createTopic(c: Cluster, topic: string, queues = 4): Promise<void> {
  c.broker.server.broker.createTopic(topicConfig(topic, queues));
  await waitFor(
    () =>
      c.namesrvs.every((ns) => {
        const r = ns.registry.pickupTopicRoute(topic);
        return r !== undefined && r.queueDatas.some((q) => q.writeQueueNums === queues);
      }),
    5000,
    `route of ${topic}`,
  );
}

let seq = 0;
/** A name unique in this process (topics and groups must not leak between tests). */
export function uniq(prefix: string): string {
  return `${prefix}_${process.pid}_${Date.now() % 100000}_${++seq}`;
}

/** Collects what a listener receives. */
export class Collector {
  readonly messages: ReceivedMessage[] = [];
  readonly times: number[] = [];
  readonly listener = (m: ReceivedMessage): Action => {
    this.messages.push(m);
    this.times.push(performance.now());
    return Action.CommitMessage;
  };

  bodies(): string[] {
    return this.messages.map((m) => m.body.toString());
  }

  waitCount(n: number, timeoutMs = 10_000): Promise<void> {
    return waitFor(
      () => this.messages.length >= n,
      timeoutMs,
      `${n} messages (have ${this.messages.length})`,
    );
  }
}

/** Options every test client uses: loopback client IP and quick timers. */
export function clientOpts(c: { nameServer: string[] }, groupId: string) {
  return { nameServer: c.nameServer, groupId, clientIP: "127.0.0.1" };
}
