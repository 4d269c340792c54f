// The workloads of bench:compare, written once against the System adapter so every system runs the same code.
// 1 KiB bodies; the first 8 bytes of a body carry performance.now() at the publish call (end-to-end latency is
// measured with this process's clock: publisher and consumer run here). Every case is bounded in time.
import { randomBytes } from "node:crypto";
import { performance } from "node:perf_hooks";
import { percentile, pipelined, round } from "../bench-util.js";
import type { PipelinedRun } from "../bench-util.js";
import { hostCpuMs, sleep, treeCpuMs } from "./procs.js";
import type { Publisher, Subscription, System } from "./systems.js";

export const BODY_BYTES = 1024;
const BODY = randomBytes(BODY_BYTES);

export interface Sizes {
  send1Seconds: number;
  /** Seconds of the same one-in-flight loop before the measured ones. */
  send1WarmupSeconds: number;
  send1Max: number;
  window: number;
  pipeMessages: number;
  pipeMaxSeconds: number;
  consumeMaxSeconds: number;
  fixedRate: number;
  /** Seconds of fixed rate per round (the full run's 60 s are split over the rounds). */
  fixedSeconds: number;
  /**
   * Seconds at the fixed rate before each measured run, not counted, for every system alike: the clients' and our
   * broker's JIT compile the one-message-at-a-time paths during about the first half second.
   */
  fixedWarmupSeconds: number;
  /** The same for rounds after the first (processes, JIT and page cache are warm by then). */
  fixedLaterWarmupSeconds: number;
  fanQueues: number;
  fanMessages: number;
  fanWindow: number;
  fanMaxSeconds: number;
}

export type CaseResult = Record<string, unknown> & { msgsPerSec: number; messages: number };

/** Server CPU (its process tree), client CPU (this process) and the rest of the machine over one case. */
export class CpuMeter {
  private readonly t0 = performance.now();
  private readonly self0 = process.cpuUsage();
  private readonly server0: number;
  private readonly host0 = hostCpuMs();
  constructor(private readonly pid: number) {
    this.server0 = treeCpuMs(pid);
  }
  fields(messages: number): Record<string, number> {
    const wall = performance.now() - this.t0;
    const d = process.cpuUsage(this.self0);
    const client = (d.user + d.system) / 1000;
    const server = treeCpuMs(this.pid) - this.server0;
    const host = hostCpuMs();
    const per100k = (ms: number): number =>
      messages > 0 ? round((ms / 1000) * (100_000 / messages), 3) : NaN;
    return {
      serverCpuSec: round(server / 1000, 2),
      clientCpuSec: round(client / 1000, 2),
      serverCpuSecPer100k: per100k(server),
      clientCpuSecPer100k: per100k(client),
      otherCpuPct: round((Math.max(0, host.busy - this.host0.busy - client - server) / wall) * 100, 1),
      stealPct: round(((host.steal - this.host0.steal) / wall) * 100, 1),
    };
  }
}

function latency(prefix: string, lat: Float64Array, n: number, p999 = true): Record<string, number> {
  const s = lat.slice(0, n).sort();
  const out: Record<string, number> = {
    [`${prefix}P50Ms`]: round(percentile(s, 50), 3),
    [`${prefix}P99Ms`]: round(percentile(s, 99), 3),
  };
  if (p999) out[`${prefix}P999Ms`] = round(percentile(s, 99.9), 3);
  return out;
}

function stamped(): Buffer {
  const b = Buffer.from(BODY);
  b.writeDoubleLE(performance.now(), 0);
  return b;
}

function stampOf(b: Uint8Array): number {
  return new DataView(b.buffer, b.byteOffset, 8).getFloat64(0, true);
}

/** Resolves when `cond` holds (checked every 20 ms) or after `seconds`; true if it held. */
async function until(cond: () => boolean, seconds: number): Promise<boolean> {
  const deadline = performance.now() + seconds * 1000;
  while (!cond()) {
    if (performance.now() > deadline) return false;
    await sleep(20);
  }
  return true;
}

/** Closes a client within 5 s, whatever happens. */
async function closeQuietly(c: Publisher | Subscription | undefined): Promise<void> {
  if (c) await Promise.race([c.close().catch(() => {}), sleep(5000)]);
}

/** `window` publishes outstanding over `pubs` (round robin, publisher i → queue i), refilled as they resolve. */
function windowed(
  pubs: Publisher[],
  messages: number,
  window: number,
  maxSeconds: number,
): Promise<PipelinedRun> {
  return pipelined(
    (i) => pubs[i % pubs.length]!.publish(i % pubs.length, stamped()),
    messages,
    window,
    maxSeconds,
  );
}

/** Publish with one message in flight, for `send1Seconds` or `send1Max` messages. */
export async function publishOne(sys: System, name: string, z: Sizes): Promise<CaseResult> {
  await sys.create(name, sys.singleQueues);
  const pub = await sys.publisher(name);
  try {
    // Warm-up, unmeasured, for every system alike: connection, route and queue, then the same loop for
    // `send1WarmupSeconds`, so that JIT-compiled servers and clients are measured compiled.
    for (let i = 0; i < 20; i++) await pub.publish(0, stamped());
    const warmUntil = performance.now() + z.send1WarmupSeconds * 1000;
    while (performance.now() < warmUntil) await pub.publish(0, stamped()).catch(() => undefined);
    const lat = new Float64Array(z.send1Max);
    let n = 0;
    let failed = 0;
    const cpu = new CpuMeter(sys.server.pid);
    const t0 = performance.now();
    const deadline = t0 + z.send1Seconds * 1000;
    let now = t0;
    while (n < z.send1Max && now < deadline) {
      const s = performance.now();
      try {
        await pub.publish(0, stamped());
      } catch {
        if (++failed > 100) throw new Error("over 100 failed publishes");
      }
      now = performance.now();
      lat[n++] = now - s;
    }
    const seconds = (now - t0) / 1000;
    return {
      msgsPerSec: Math.round(n / seconds),
      messages: n,
      failed,
      seconds: round(seconds, 2),
      ...latency("ack", lat, n),
      ...cpu.fields(n),
    };
  } finally {
    await closeQuietly(pub);
  }
}

/** Publish `pipeMessages` with `window` in flight; the destination stays for consumeBacklog. */
export async function publishPipelined(sys: System, name: string, z: Sizes): Promise<CaseResult> {
  await sys.create(name, sys.singleQueues);
  const pub = await sys.publisher(name);
  try {
    await pub.publish(0, stamped()); // warm-up: connection, route (one message, counted in the backlog)
    const cpu = new CpuMeter(sys.server.pid);
    const r = await windowed([pub], z.pipeMessages, z.window, z.pipeMaxSeconds);
    return {
      msgsPerSec: Math.round(r.done / r.seconds),
      messages: r.done,
      failed: r.failed,
      ...(r.firstError ? { firstError: r.firstError } : {}),
      window: z.window,
      seconds: round(r.seconds, 2),
      ...latency("ack", r.lat, r.done),
      ...cpu.fields(r.done),
      backlog: r.done + 1,
    };
  } finally {
    await closeQuietly(pub);
  }
}

/** One consumer drains the backlog left by publishPipelined (`backlog` messages), acking each. */
export async function consumeBacklog(
  sys: System,
  name: string,
  backlog: number,
  z: Sizes,
): Promise<CaseResult> {
  let received = 0;
  const cpu = new CpuMeter(sys.server.pid);
  const t0 = performance.now();
  let last = t0;
  const sub = await sys.subscribe(name, 0, `G${name}`, () => {
    if (++received === backlog) last = performance.now();
  });
  try {
    const all = await until(() => received >= backlog, z.consumeMaxSeconds);
    const seconds = ((all ? last : performance.now()) - t0) / 1000;
    const n = Math.min(received, backlog);
    return {
      msgsPerSec: Math.round(n / seconds),
      messages: n,
      backlog,
      complete: all,
      seconds: round(seconds, 2),
      ...cpu.fields(n),
    };
  } finally {
    await closeQuietly(sub);
    await sys.drop(name, sys.singleQueues).catch(() => {});
  }
}

/**
 * Calls `publish` `total` times, open loop at `rate` per second from a 1 ms timer (what is due each tick).
 * Rejects once two seconds' worth are unsettled (`settled()` counts acks and failures): a system that cannot keep
 * up would otherwise pile up publishes and their client-side state until this process runs out of memory.
 * Resolves with the number issued.
 */
function paced(total: number, rate: number, publish: () => void, settled: () => number): Promise<number> {
  const maxBehind = 2 * rate;
  const t0 = performance.now();
  let issued = 0;
  return new Promise<number>((res, rej) => {
    const tick = (): void => {
      const due = Math.min(total, Math.floor(((performance.now() - t0) / 1000) * rate));
      if (issued - settled() > maxBehind) {
        clearInterval(timer);
        const at = round((performance.now() - t0) / 1000, 1);
        rej(
          new Error(
            `cannot sustain ${rate} msg/s: ${issued - settled()} publishes unacknowledged after ${at} s`,
          ),
        );
        return;
      }
      while (issued < due) {
        issued++;
        publish();
      }
      if (issued >= total) {
        clearInterval(timer);
        res(issued);
      }
    };
    const timer = setInterval(tick, 1);
  });
}

/**
 * Open loop at `fixedRate` msg/s for `fixedSeconds` (a 1 ms timer issues what is due), one consumer attached.
 * Ack latency from the publish call; end-to-end from the publish call to the consumer's callback. The raw samples
 * are returned too, so that the rounds can be pooled.
 */
export async function fixedRate(
  sys: System,
  name: string,
  z: Sizes,
): Promise<{ r: CaseResult; ack: Float64Array; e2e: Float64Array }> {
  await sys.create(name, sys.singleQueues);
  const total = Math.round(z.fixedRate * z.fixedSeconds);
  const e2e = new Float64Array(total + 200);
  let received = 0;
  let warm = 0;
  const sub = await sys.subscribe(name, 0, `G${name}`, (b) => {
    const t = stampOf(b);
    if (t < 0) warm++;
    else if (received < e2e.length) e2e[received++] = performance.now() - t;
  });
  const pub = await sys.publisher(name);
  try {
    // Warm-up at the rate, marked with a negative stamp, not counted; wait until the consumer has it all.
    const warmTotal = Math.max(20, Math.round(z.fixedRate * z.fixedWarmupSeconds));
    let warmAcked = 0;
    let warmFailed = 0;
    const warmBody = Buffer.from(BODY);
    warmBody.writeDoubleLE(-1, 0);
    await paced(
      warmTotal,
      z.fixedRate,
      () => {
        pub.publish(0, Buffer.from(warmBody)).then(
          () => warmAcked++,
          () => warmFailed++,
        );
      },
      () => warmAcked + warmFailed,
    );
    await until(() => warmAcked + warmFailed >= warmTotal && warm >= warmAcked, 15);
    const ack = new Float64Array(total);
    let acked = 0;
    let failed = 0;
    const cpu = new CpuMeter(sys.server.pid);
    const t0 = performance.now();
    const issued = await paced(
      total,
      z.fixedRate,
      () => {
        const s = performance.now();
        pub.publish(0, stamped()).then(
          () => {
            if (acked < total) ack[acked++] = performance.now() - s;
          },
          () => failed++,
        );
      },
      () => acked + failed,
    );
    const sendSeconds = (performance.now() - t0) / 1000;
    await until(() => acked + failed >= total && received >= acked, 10);
    const f = cpu.fields(total);
    return {
      r: {
        msgsPerSec: Math.round(issued / sendSeconds),
        targetRate: z.fixedRate,
        messages: total,
        acked,
        received,
        failed,
        seconds: round(sendSeconds, 2),
        ...latency("ack", ack, acked),
        ...latency("e2e", e2e, received, false),
        ...f,
      },
      ack: ack.slice(0, acked),
      e2e: e2e.slice(0, received),
    };
  } finally {
    await closeQuietly(pub);
    await closeQuietly(sub);
    await sys.drop(name, sys.singleQueues).catch(() => {});
  }
}

/** `fanQueues` producers × `fanQueues` consumers on `fanQueues` queues: produced and consumed concurrently. */
export async function fanOut(sys: System, name: string, z: Sizes): Promise<CaseResult> {
  const n = z.fanQueues;
  await sys.create(name, n);
  let received = 0;
  const subs: Subscription[] = [];
  const pubs: Publisher[] = [];
  try {
    for (let q = 0; q < n; q++) subs.push(await sys.subscribe(name, q, `G${name}`, () => received++));
    for (let q = 0; q < n; q++) pubs.push(await sys.publisher(name));
    // Our remoting consumers share a group: the clock starts once the rebalance has given each its queue.
    const rebalanced = await until(() => subs.every((s) => s.assigned?.() ?? true), 5);
    const cpu = new CpuMeter(sys.server.pid);
    const t0 = performance.now();
    const r = await windowed(pubs, z.fanMessages, z.fanWindow * n, z.fanMaxSeconds);
    const all = await until(() => received >= r.done, Math.max(5, z.fanMaxSeconds - r.seconds));
    const seconds = (performance.now() - t0) / 1000;
    return {
      msgsPerSec: Math.round(Math.min(received, r.done) / seconds),
      publishMsgsPerSec: Math.round(r.done / r.seconds),
      messages: r.done,
      received,
      complete: all,
      rebalanced,
      failed: r.failed,
      ...(r.firstError ? { firstError: r.firstError } : {}),
      producers: n,
      consumers: n,
      windowPerProducer: z.fanWindow,
      seconds: round(seconds, 2),
      ...latency("ack", r.lat, r.done),
      ...cpu.fields(r.done),
    };
  } finally {
    await Promise.all(pubs.map((p) => closeQuietly(p)));
    await Promise.all(subs.map((s) => closeQuietly(s)));
    await sys.drop(name, n).catch(() => {});
  }
}
