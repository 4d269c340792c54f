// What the ali-ons interop tests share: the client's constructors (a CommonJS package without types), options
// that make it quick, and teardown that waits for its timers.
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import type { OnsMessage } from "./ali-ons.js";

const require = createRequire(import.meta.url);
export const ons = require("ali-ons") as {
  Producer: new (o: object) => OnsProducer;
  Consumer: new (o: object) => OnsConsumer;
  Message: new (topic: string, tag: string, body: string | Buffer) => OnsMessage;
};

export interface OnsProducer {
  ready(): Promise<void>;
  /** Errors of its connections (a broker that went away) come here; unheard, they are uncaught exceptions. */
  on(ev: "error", f: (e: Error) => void): void;
  send(m: OnsMessage): Promise<{ sendStatus: string; msgId: string; messageQueue: { queueId: number } }>;
  close(): Promise<void>;
}
export interface OnsConsumer {
  ready(): Promise<void>;
  subscribe(topic: string, expr: string, handler: (m: OnsMessage) => Promise<unknown>): void;
  on(ev: "error", f: (e: Error) => void): void;
  close(): Promise<void>;
}

export const quiet = { info() {}, warn() {}, error() {}, debug() {} };
export function common(namesrv: string) {
  return {
    httpclient: {},
    nameSrv: namesrv,
    logger: quiet,
    rebalanceInterval: 500,
    pollNameServerInteval: 500,
    heartbeatBrokerInterval: 500,
    persistConsumerOffsetInterval: 300,
  };
}

/** Closes the clients, lets their in-flight work finish (see settle), then stops the cluster. */
export async function teardown(
  cluster: { stop(): Promise<void> },
  ...clients: { close(): Promise<void> }[]
): Promise<void> {
  await closeClients(...clients);
  await cluster.stop();
}

/**
 * Closes ali-ons clients, then its inner producer, and waits for their timers' work to end (see settle). ali-ons
 * makes one inner producer per process when the first client starts, on that client's connection, and never
 * closes it: left alone it keeps the connection and its timers alive after the test's broker is gone (an
 * uncaught ECONNREFUSED), and the next test's clients would share it. Closed and forgotten here, the next client
 * to start makes a new one.
 */
export async function closeClients(...clients: { close(): Promise<void> }[]): Promise<void> {
  for (const c of clients) {
    hushConnections(c);
    await c.close().catch(() => undefined);
  }
  const P = ons.Producer as unknown as { defaultProducer?: OnsProducer };
  const inner = P.defaultProducer;
  P.defaultProducer = undefined;
  if (inner) hushConnections(inner);
  await inner?.close().catch(() => undefined);
  await settle();
}

/**
 * Closing unregisters from every broker the client's shared connection layer (its MQClient) knew, including one a
 * test has stopped; once its last producer or consumer is gone nobody listens to that layer's connection errors,
 * and ali-ons emits them anyway (uncaught). A listener of our own keeps them quiet.
 */
function hushConnections(client: unknown): void {
  const mq = (client as { _mqClient?: { on?(ev: string, f: () => void): void } })._mqClient;
  mq?.on?.("error", () => undefined);
}

/**
 * ali-ons's close() does not wait for a rebalance already running on its timer; stopping the broker under it makes
 * that rebalance fail with an error nobody can listen to. Give such work time to finish first.
 */
export function settle(): Promise<void> {
  return new Promise((r) => setTimeout(r, 1500));
}

export async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * A producer of `group`. Its connection errors (a broker a test stops under it) are heard and dropped, as
 * consumer() does for consumers: unheard, ali-ons throws them as uncaught exceptions.
 */
export function producer(namesrv: string, group: string, instanceName: string): OnsProducer {
  const p = new ons.Producer({ ...common(namesrv), producerGroup: group, instanceName });
  p.on("error", () => undefined);
  return p;
}

export function consumer(
  namesrv: string,
  group: string,
  instanceName: string,
  extra: object = {},
): OnsConsumer {
  const c = new ons.Consumer({
    ...common(namesrv),
    consumerGroup: group,
    instanceName,
    consumeFromWhere: "CONSUME_FROM_FIRST_OFFSET",
    ...extra,
  });
  c.on("error", () => undefined);
  return c;
}

/**
 * Sends from eight loops until `kill` has run and a moment has passed, for crash tests. A send answered SEND_OK is
 * acknowledged; other statuses are counted; a failed send is retried after a pause. Checks that no send was
 * acknowledged after the kill and that the loops were still sending when it happened.
 */
export async function sendThroughKill(
  producer: OnsProducer,
  topic: string,
  ackedBeforeKill: number,
  kill: () => Promise<void>,
): Promise<{ acked: Set<string>; statuses: Map<string, number>; failed: number }> {
  const acked = new Set<string>();
  const statuses = new Map<string, number>();
  let failed = 0;
  let stop = false;
  const loops = Array.from({ length: 8 }, async (_, l) => {
    for (let i = 0; !stop; i++) {
      const body = `L${l}-${i}-${"x".repeat(200)}`;
      try {
        const r = await producer.send(new ons.Message(topic, "T", body));
        statuses.set(r.sendStatus, (statuses.get(r.sendStatus) ?? 0) + 1);
        if (r.sendStatus === "SEND_OK") acked.add(body);
      } catch {
        failed++;
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  });
  await until(() => acked.size >= ackedBeforeKill, 30_000, "sends before the kill");
  await kill();
  const ackedAtKill = acked.size;
  await new Promise((r) => setTimeout(r, 300));
  stop = true;
  await Promise.all(loops);
  assert.equal(acked.size, ackedAtKill, "no send was acknowledged after the kill");
  assert.ok(failed > 0, "the loops were still sending when the broker died");
  return { acked, statuses, failed };
}
