// Timer benchmark: schedules timed messages through a real MessageStore and TimerService (as the broker's send
// path does), measures heap and RSS with all of them pending, then lets them fire and measures how late each
// one reached its real topic (its store timestamp minus its due time).
//
//   node dist/bench/timer.js            1 M timers due 25–65 s after the start (about 1.5 minutes)
//   node dist/bench/timer.js --quick    100 k timers due 8–20 s after the start
//   options: --timers <n>  --from <s>  --to <s>  --precision-ms <ms>  --short-rate <n/s>  --short-seconds <s>
//
// Cases, one JSON line each, then the target checks:
//   schedule      N timed messages sent (rewritten to the timer topic and stored) and enqueued: heap and RSS
//                 before and after, with all N pending
//   fire          the N timers firing (N / span per second): lateness p50/p99/max, event-loop delay, the longest
//                 timer tick, and blocking I/O of the store and of the timer
//   short-delays  timers sent at a steady rate, each due 0.1–3 s later (the path where a timer arrives after its
//                 slot was loaded): lateness
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import { join } from "node:path";
import { monitorEventLoopDelay, performance } from "node:perf_hooks";
import * as v8 from "node:v8";
import * as vm from "node:vm";
import { TimerService, toTimerMessage } from "../src/broker/timer-service.js";
import { readInt64BE, writeInt64BE } from "../src/common/int64.js";
import { decodeRecord } from "../src/common/message-record.js";
import { Prop, encodeProperties } from "../src/common/properties.js";
import { nodeFileIO } from "../src/store/file-io.js";
import type { FileIO } from "../src/store/file-io.js";
import { MessageStore } from "../src/store/message-store.js";

const argv = process.argv.slice(2);
const flag = (n: string) => argv.includes(n);
function num(name: string, dflt: number): number {
  const i = argv.indexOf(name);
  if (i < 0) return dflt;
  const v = Number(argv[i + 1]);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`${name} needs a positive number`);
  return v;
}

const QUICK = flag("--quick");
const N = num("--timers", QUICK ? 100_000 : 1_000_000);
const FROM_S = num("--from", QUICK ? 8 : 25);
const TO_S = num("--to", QUICK ? 20 : 65);
const PRECISION = num("--precision-ms", 1000);
const TOPIC = "BenchTimer";
const SHORT_RATE = num("--short-rate", QUICK ? 5000 : 20_000);
const SHORT_SECONDS = num("--short-seconds", QUICK ? 5 : 10);
const QUEUES = 8;
const MiB = 1024 * 1024;

let forcedGc: (() => void) | undefined;
function gc(): void {
  if (!forcedGc) {
    v8.setFlagsFromString("--expose-gc");
    forcedGc = vm.runInNewContext("gc") as () => void;
  }
  forcedGc();
  forcedGc();
}

function mem(): { heapMb: number; rssMb: number; externalMb: number; arrayBuffersMb: number } {
  const m = process.memoryUsage();
  return {
    heapMb: round(m.heapUsed / MiB),
    rssMb: round(m.rss / MiB),
    externalMb: round(m.external / MiB),
    arrayBuffersMb: round(m.arrayBuffers / MiB),
  };
}

function round(x: number, d = 1): number {
  const f = 10 ** d;
  return Math.round(x * f) / f;
}

function pct(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

function dirSizeMb(dir: string): number {
  let total = 0;
  for (const name of fs.readdirSync(dir)) {
    const p = join(dir, name);
    const s = fs.statSync(p);
    total += s.isDirectory() ? dirSizeMb(p) * MiB : s.size;
  }
  return total / MiB;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** nodeFileIO timing its blocking calls, to tell the timer's stalls from the store's. */
function timedIO(): { io: FileIO; blocking: { totalMs: number; maxMs: number; calls: number } } {
  const blocking = { totalMs: 0, maxMs: 0, calls: 0 };
  const time =
    <A extends unknown[], R>(f: (...a: A) => R) =>
    (...a: A): R => {
      const t = performance.now();
      try {
        return f(...a);
      } finally {
        const d = performance.now() - t;
        blocking.totalMs += d;
        blocking.calls++;
        if (d > blocking.maxMs) blocking.maxMs = d;
      }
    };
  const io: FileIO = {
    ...nodeFileIO,
    writeSync: time(nodeFileIO.writeSync),
    fdatasyncSync: time(nodeFileIO.fdatasyncSync),
    writeFileAtomic: time(nodeFileIO.writeFileAtomic),
    read: time(nodeFileIO.read),
  };
  return { io, blocking };
}

/** Reads every message of `topic` (bodies hold due time and index) and summarises how late each was stored. */
function lateness(store: MessageStore, topic: string, n: number) {
  const late = new Float64Array(n);
  const seen = new Uint8Array(n);
  let count = 0;
  let early = 0;
  let dup = 0;
  for (let q = 0; q < QUEUES; q++) {
    let off = 0;
    for (;;) {
      const r = store.getMessages(topic, q, off, 1024);
      if (r.status !== "FOUND") break;
      for (const m of r.messages) {
        const rec = decodeRecord(m);
        const i = rec.body.readUInt32BE(8);
        if (seen[i]) {
          dup++;
          continue;
        }
        seen[i] = 1;
        const l = rec.storeTimestamp - readInt64BE(rec.body, 0);
        if (l < 0) early++;
        late[count++] = l;
      }
      off = r.nextBeginOffset;
    }
  }
  const sorted = late.subarray(0, count).sort();
  return {
    delivered: count,
    missing: n - count,
    duplicates: dup,
    early,
    lateP50Ms: pct(sorted, 50),
    lateP90Ms: pct(sorted, 90),
    lateP99Ms: pct(sorted, 99),
    lateP999Ms: pct(sorted, 99.9),
    lateMaxMs: sorted.length ? sorted[sorted.length - 1]! : NaN,
  };
}

async function shortDelays(store: MessageStore, timer: TimerService) {
  const topic = "BenchTimerShort";
  const rate = SHORT_RATE;
  const n = rate * SHORT_SECONDS;
  const body = Buffer.alloc(32);
  const t0 = Date.now();
  const deliveredBefore = timer.pending().delivered;
  let sent = 0;
  const pending: Promise<unknown>[] = [];
  while (sent < n) {
    // Send what the rate allows up to now, then yield.
    const target = Math.min(n, Math.floor(((Date.now() - t0) / 1000) * rate));
    for (; sent < target; sent++) {
      const due = Date.now() + 100 + ((sent * 7919) % 2900);
      writeInt64BE(body, due, 0);
      body.writeUInt32BE(sent, 8);
      const input = {
        topic,
        queueId: sent % QUEUES,
        body: Buffer.from(body),
        properties: encodeProperties({ [Prop.KEYS]: `s-${sent}`, [Prop.TIMER_DELIVER_MS]: String(due) }),
      };
      pending.push(store.putMessage(toTimerMessage(input, timer.deliverTime(input.properties)!)));
    }
    await sleep(5);
  }
  await Promise.all(pending);
  const end = Date.now() + 15_000;
  while (timer.pending().delivered - deliveredBefore < n && Date.now() < end) await sleep(50);
  return {
    case: "short-delays",
    timers: n,
    sendsPerSec: rate,
    delayMs: "100-3000",
    ...lateness(store, topic, n),
  };
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(join(os.tmpdir(), "rmq-timer-bench-"));
  const storeIO = timedIO();
  const timerIO = timedIO();
  const store = MessageStore.open({ dir: join(dir, "store"), indexSlotNum: 1 << 20 }, storeIO.io);
  const timer = new TimerService(store, timerIO.io, join(dir, "config"), { precisionMs: PRECISION });
  // Time every tick of the service (enqueue + load + fire + read-ahead) to tell its stalls from others'.
  const ticks = { maxMs: 0, over20: 0, count: 0, maxAt: 0 };
  const tick = timer.tick.bind(timer);
  timer.tick = (now?: number) => {
    const t = performance.now();
    tick(now);
    const d = performance.now() - t;
    ticks.count++;
    if (d > 20) ticks.over20++;
    if (d > ticks.maxMs) {
      ticks.maxMs = d;
      ticks.maxAt = Date.now();
    }
  };
  timer.start();
  const loop = monitorEventLoopDelay({ resolution: 5 });
  try {
    gc();
    const before = mem();
    const t0 = Date.now();
    const start = t0 + FROM_S * 1000;
    const span = (TO_S - FROM_S) * 1000;
    const uniq = randomBytes(12).toString("hex").toUpperCase();
    const body = Buffer.alloc(32);

    // ---- schedule ----
    const p0 = performance.now();
    let window: Promise<unknown>[] = [];
    for (let i = 0; i < N; i++) {
      // Due times spread evenly over the span in a scrambled order (1,000,003 is prime).
      const due = start + Math.floor((((i * 1_000_003) % N) / N) * span);
      writeInt64BE(body, due, 0);
      body.writeUInt32BE(i, 8);
      const input = {
        topic: TOPIC,
        queueId: i % QUEUES,
        body: Buffer.from(body),
        properties: encodeProperties({
          [Prop.TAGS]: "TagA",
          [Prop.KEYS]: `order-${i}`,
          [Prop.UNIQ_KEY]: uniq + i.toString(16).toUpperCase().padStart(8, "0"),
          [Prop.TIMER_DELIVER_MS]: String(due),
        }),
      };
      const at = timer.deliverTime(input.properties);
      if (at === undefined) throw new Error("not a timer");
      window.push(store.putMessage(toTimerMessage(input, at)));
      if (window.length >= 4000) {
        await Promise.all(window);
        window = [];
      }
    }
    await Promise.all(window);
    window = [];
    const scheduleMs = performance.now() - p0;
    while (timer.pending().enqueueLag > 0) await sleep(10);
    const enqueuedMs = performance.now() - p0;
    await timer.flush();
    gc();
    const after = mem();
    const st = timer.pending();
    const firstDueInMs = start - Date.now();
    console.log(
      JSON.stringify({
        case: "schedule",
        timers: N,
        pending: st.pending,
        scheduleMs: Math.round(scheduleMs),
        sendsPerSec: Math.round(N / (scheduleMs / 1000)),
        enqueuedMs: Math.round(enqueuedMs),
        firstDueInMs,
        heapBeforeMb: before.heapMb,
        heapAfterMb: after.heapMb,
        heapGrowthMb: round(after.heapMb - before.heapMb),
        rssBeforeMb: before.rssMb,
        rssAfterMb: after.rssMb,
        externalAfterMb: after.externalMb,
        arrayBuffersAfterMb: after.arrayBuffersMb,
        timerFilesMb: round(dirSizeMb(join(dir, "store", "timer"))),
      }),
    );
    if (firstDueInMs < 0)
      console.log("warning: scheduling outlasted the first due time; lateness includes it");

    // ---- fire ----
    loop.enable();
    ticks.maxMs = ticks.over20 = ticks.count = 0;
    for (const b of [storeIO.blocking, timerIO.blocking]) {
      b.totalMs = b.maxMs = b.calls = 0;
    }
    const lastDue = start + span;
    let peakRss = 0;
    let peakHeap = 0;
    while (timer.pending().delivered < N && Date.now() < lastDue + 60_000) {
      const m = process.memoryUsage();
      peakRss = Math.max(peakRss, m.rss);
      peakHeap = Math.max(peakHeap, m.heapUsed);
      await sleep(50);
    }
    loop.disable();
    const stats = timer.pending();
    const lat = lateness(store, TOPIC, N);
    const fire = {
      case: "fire",
      timers: N,
      ...lat,
      firesPerSec: Math.round(N / (span / 1000)),
      eventLoopDelayP99Ms: round(loop.percentile(99) / 1e6),
      eventLoopDelayMaxMs: round(loop.max / 1e6),
      peakRssMb: round(peakRss / MiB),
      peakHeapMb: round(peakHeap / MiB),
      tickMaxMs: round(ticks.maxMs),
      ticksOver20Ms: ticks.over20,
      tickMaxAtS: round((ticks.maxAt - start) / 1000),
      storeBlockingIoMs: round(storeIO.blocking.totalMs),
      storeBlockingIoMaxMs: round(storeIO.blocking.maxMs),
      timerBlockingIoMs: round(timerIO.blocking.totalMs),
      timerBlockingIoMaxMs: round(timerIO.blocking.maxMs),
      lost: stats.lost,
      retries: stats.retries,
    };
    console.log(JSON.stringify(fire));

    // ---- short delays: timers sent at a steady rate, due 0.1–3 s after they are sent ----
    const short = await shortDelays(store, timer);
    console.log(JSON.stringify(short));

    const checks = [
      [`${N} pending timers grow the heap by < 50 MB`, after.heapMb - before.heapMb < 50],
      [`none early`, fire.early === 0 && short.early === 0],
      [`none missing`, fire.missing === 0 && short.missing === 0],
      [`p99 lateness <= 100 ms`, fire.lateP99Ms <= 100 && short.lateP99Ms <= 100],
    ] as const;
    for (const [name, ok] of checks) console.log(`${ok ? "PASS" : "FAIL"} ${name}`);
  } finally {
    await timer.stop();
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

void main();
