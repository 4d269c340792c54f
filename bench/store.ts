// Storage-engine benchmark: appends, group-committed sync appends and sequential reads straight against
// MessageStore (no network), compared with the disk's own O_DIRECT write bandwidth measured in the same run.
//
//   node dist/bench/store.js            full run (≥ 1 GiB of bodies for append-async)
//   node dist/bench/store.js --quick    smoke run (~100 MB)
//   node dist/bench/store.js --memory   only the 10 M message heap-flatness case (also: BENCH_10M=1)
//   options: --only <case>[,<case>]  --messages <n>  --window <n>  --batch <n>  --sync-seconds <s>
//            --flush-interval-ms <ms>
//   cases: disk-dd, disk-dd-buffered (page-cache write speed), append-async (one putMessage per message), append-async-batch (putMessages of --batch
//   messages, default 32, each call to one queue, round-robin over the 16), read-sequential, read-sequential-cold,
//   read-queue-by-queue, append-sync-64-writers
//
// Output: one JSON line per case, then a Markdown table and the target checks. MB = 10^6 bytes. Append MB/s counts
// commit-log bytes (what reaches the disk: record headers, topic, properties and body); bodyMbPerSec counts bodies.
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import * as v8 from "node:v8";
import * as vm from "node:vm";
import { Prop, encodeProperties } from "../src/common/properties.js";
import { nodeFileIO } from "../src/store/file-io.js";
import type { FileIO } from "../src/store/file-io.js";
import { MessageStore } from "../src/store/message-store.js";
import type { PutMessageInput, PutMessageResult } from "../src/store/message-store.js";
import type { StoreConfig } from "../src/store/store-config.js";
import { emit, flag, numOption, option, percentile, results, round } from "./bench-util.js";
import type { Result } from "./bench-util.js";

// ---- options ------------------------------------------------------------------------------------------------

const QUICK = flag("--quick");
const MEMORY = flag("--memory") || process.env.BENCH_10M === "1";
const ONLY = option("--only")?.split(",");
const TOPIC = "BenchTopic";
const QUEUES = 16;
const BODY_BYTES = 1024;
/** 1 GiB of 1 KiB bodies (full run), about 100 MB (quick). */
const ASYNC_MESSAGES = numOption("--messages", QUICK ? 100_000 : 1_048_576);
const WINDOW = numOption("--window", 2000);
/** Messages per putMessages call in append-async-batch. */
const BATCH = numOption("--batch", 32);
const SYNC_WRITERS = 64;
const SYNC_SECONDS = numOption("--sync-seconds", QUICK ? 3 : 15);
const SYNC_MAX_MESSAGES = QUICK ? 150_000 : 1_500_000;
const DD_MIB = QUICK ? 256 : 1024;
const READ_BATCH = 32;
const MEMORY_MESSAGES = numOption("--memory-messages", 10_000_000);
const MEMORY_SAMPLE_EVERY = 500_000;
const MB = 1e6;
const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

function wanted(name: string): boolean {
  return !ONLY || ONLY.includes(name);
}

// ---- messages -----------------------------------------------------------------------------------------------

/**
 * Properties as a producer sends them (TAGS, KEYS, UNIQ_KEY, WAIT), encoded once with encodeProperties into a
 * template; each message then gets its own KEYS and 32-hex-digit unique id by concatenation, as a wire decoder
 * would hand the store one fresh string per message.
 */
function propertiesFactory(): (i: number) => string {
  const KEY_MARK = "\u0000K\u0000";
  const UNIQ_MARK = "\u0000U\u0000";
  const TAGS = ["TagA", "TagB", "TagC", "TagD"];
  const templates = TAGS.map((tag) => {
    const s = encodeProperties(
      new Map([
        [Prop.TAGS, tag],
        [Prop.KEYS, KEY_MARK],
        [Prop.UNIQ_KEY, UNIQ_MARK],
        [Prop.WAIT, "true"],
      ]),
    );
    const k = s.indexOf(KEY_MARK);
    const u = s.indexOf(UNIQ_MARK);
    return [s.slice(0, k), s.slice(k + KEY_MARK.length, u), s.slice(u + UNIQ_MARK.length)] as const;
  });
  // RocketMQ's unique id: 32 hex digits (host, pid, class-loader hash, start time, counter).
  const uniqPrefix = randomBytes(12).toString("hex").toUpperCase();
  return (i: number) => {
    const t = templates[i & 3]!;
    return t[0] + "ORDER_" + i + t[1] + uniqPrefix + i.toString(16).toUpperCase().padStart(8, "0") + t[2];
  };
}

// ---- measurement helpers ------------------------------------------------------------------------------------

interface Counters {
  writes: number;
  writeBytes: number;
  /** Async fdatasync calls (the commit log's group commit and periodic flush). */
  fdatasyncs: number;
  /** Blocking fdatasyncSync calls (consume queues, key index, commit log at close). */
  fdatasyncSyncs: number;
  /** Wall time spent inside blocking writeSync/fdatasyncSync calls, i.e. with the event loop stalled. */
  blockingIoMs: number;
  /** Wall time from issuing an async write/fdatasync to its completion (summed; the loop may do other work). */
  writeWaitMs: number;
  writeMaxMs: number;
  fdatasyncWaitMs: number;
  fdatasyncMaxMs: number;
  reads: number;
  readBytes: number;
}

/** nodeFileIO with syscall counters: one extra function call per I/O, no behaviour change. */
function countingIO(): { io: FileIO; c: Counters } {
  const c: Counters = {
    writes: 0,
    writeBytes: 0,
    fdatasyncs: 0,
    fdatasyncSyncs: 0,
    blockingIoMs: 0,
    writeWaitMs: 0,
    writeMaxMs: 0,
    fdatasyncWaitMs: 0,
    fdatasyncMaxMs: 0,
    reads: 0,
    readBytes: 0,
  };
  const io: FileIO = {
    ...nodeFileIO,
    write: (fd, buf, off, len, pos) => {
      c.writes++;
      c.writeBytes += len;
      const t = performance.now();
      return nodeFileIO.write(fd, buf, off, len, pos).then((n) => {
        const d = performance.now() - t;
        c.writeWaitMs += d;
        if (d > c.writeMaxMs) c.writeMaxMs = d;
        return n;
      });
    },
    // Big batches: scanned and written by the batch writer's thread; counted as writes.
    writeScanned: (fd, buf, len, pos) => {
      c.writes++;
      c.writeBytes += len;
      const t = performance.now();
      return nodeFileIO.writeScanned!(fd, buf, len, pos).then((w) => {
        const d = performance.now() - t;
        c.writeWaitMs += d;
        if (d > c.writeMaxMs) c.writeMaxMs = d;
        return w;
      });
    },
    fdatasync: (fd) => {
      c.fdatasyncs++;
      const t = performance.now();
      return nodeFileIO.fdatasync(fd).then(() => {
        const d = performance.now() - t;
        c.fdatasyncWaitMs += d;
        if (d > c.fdatasyncMaxMs) c.fdatasyncMaxMs = d;
      });
    },
    fdatasyncSync: (fd) => {
      c.fdatasyncSyncs++;
      const t = performance.now();
      nodeFileIO.fdatasyncSync(fd);
      c.blockingIoMs += performance.now() - t;
    },
    writeSync: (fd, buf, off, len, pos) => {
      const t = performance.now();
      const n = nodeFileIO.writeSync(fd, buf, off, len, pos);
      c.blockingIoMs += performance.now() - t;
      return n;
    },
    read: (fd, buf, off, len, pos) => {
      c.reads++;
      const n = nodeFileIO.read(fd, buf, off, len, pos);
      c.readBytes += n;
      return n;
    },
  };
  return { io, c };
}

function ioFields(c: Counters): Record<string, number> {
  return {
    writes: c.writes,
    avgWriteKb: round(c.writeBytes / Math.max(1, c.writes) / 1024, 1),
    writeWaitMs: round(c.writeWaitMs, 1),
    writeMaxMs: round(c.writeMaxMs, 2),
    fdatasyncs: c.fdatasyncs,
    fdatasyncWaitMs: round(c.fdatasyncWaitMs, 1),
    fdatasyncMaxMs: round(c.fdatasyncMaxMs, 2),
    fdatasyncSyncs: c.fdatasyncSyncs,
    blockingIoMs: round(c.blockingIoMs, 1),
  };
}

function latencyStats(
  lat: Float64Array,
  n: number,
): { p50Ms: number; p99Ms: number; p999Ms: number; maxMs: number } {
  const s = lat.slice(0, n).sort();
  return {
    p50Ms: round(percentile(s, 50), 3),
    p99Ms: round(percentile(s, 99), 3),
    p999Ms: round(percentile(s, 99.9), 3),
    maxMs: round(s[s.length - 1] ?? NaN, 3),
  };
}

function memFields(): { heapUsedMb: number; rssMb: number; peakRssMb: number } {
  const m = process.memoryUsage();
  return {
    heapUsedMb: round(m.heapUsed / MiB, 1),
    rssMb: round(m.rss / MiB, 1),
    peakRssMb: round(process.resourceUsage().maxRSS / 1024, 1),
  };
}

class CpuMeter {
  private readonly start = process.cpuUsage();
  private readonly t0 = performance.now();
  private readonly elu0 = performance.eventLoopUtilization();
  /** CPU time of this process over wall time, in % of one core. */
  pct(): number {
    const d = process.cpuUsage(this.start);
    return round(((d.user + d.system) / 1000 / (performance.now() - this.t0)) * 100, 1);
  }
  /**
   * Process CPU time (all threads, user + system) per message in µs, and the main thread's event-loop
   * utilisation in %: both move less than msgs/s when other processes compete for the cores.
   */
  perMessage(messages: number): { cpuUsPerMsg: number; eventLoopPct: number } {
    const d = process.cpuUsage(this.start);
    const elu = performance.eventLoopUtilization(this.elu0);
    return {
      cpuUsPerMsg: round((d.user + d.system) / Math.max(1, messages), 2),
      eventLoopPct: round(elu.utilization * 100, 1),
    };
  }
}

let forcedGc: (() => void) | undefined;
function gc(): void {
  if (!forcedGc) {
    v8.setFlagsFromString("--expose-gc");
    forcedGc = vm.runInNewContext("gc") as () => void;
  }
  forcedGc();
}

/** Experiments only (the reported numbers use the defaults): --flush-interval-ms overrides the store's. */
const FLUSH_INTERVAL_MS = option("--flush-interval-ms");

function storeConfig(dir: string, extra: Partial<StoreConfig> = {}): Partial<StoreConfig> & { dir: string } {
  return { dir, ...extra, ...(FLUSH_INTERVAL_MS ? { flushIntervalMs: Number(FLUSH_INTERVAL_MS) } : {}) };
}

// ---- cases --------------------------------------------------------------------------------------------------

/** `direct`: dd with oflag=direct (the disk); otherwise a buffered dd, which measures writes into the page cache. */
function ddWrite(root: string, mib: number, direct = true): number {
  const file = join(root, "dd.bin");
  try {
    const args = ["if=/dev/zero", `of=${file}`, "bs=1M", `count=${mib}`, ...(direct ? ["oflag=direct"] : [])];
    const r = spawnSync("dd", args, { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`dd failed (${r.status}): ${r.stderr}`);
    // "1073741824 bytes (1.1 GB, 1.0 GiB) copied, 0.876 s, 1.2 GB/s": recompute from bytes and seconds.
    const m = /(\d+) bytes .* copied, ([\d.,]+) s/.exec(r.stderr);
    if (!m) throw new Error(`cannot parse dd output: ${r.stderr}`);
    return Number(m[1]) / Number(m[2]!.replace(",", ".")) / MB;
  } finally {
    fs.rmSync(file, { force: true });
  }
}

interface AppendOptions {
  messages: number;
  /** Messages in flight. */
  window: number;
  bodyBytes: number;
  /** Record latency for every n-th append call. */
  latencyEvery: number;
  /** Called after every `sampleEvery` completed messages. */
  onSample?: (done: number) => void;
  sampleEvery?: number;
  /** Messages per putMessages call, all to one queue (round-robin over the queues); unset: one putMessage each. */
  batch?: number;
}

/**
 * Keeps `window` messages in flight and refills as appends resolve. The store resolves appends in call order
 * (batches complete in log order, items in push order), so a ring of start times indexed by call sequence number
 * is enough; the order is checked on every completion. Latency is per call: one message, or one batch.
 */
async function appendWindowed(
  store: MessageStore,
  o: AppendOptions,
): Promise<{ seconds: number; bytes: number; lat: Float64Array; latCount: number }> {
  const props = propertiesFactory();
  const body = randomBytes(o.bodyBytes);
  const per = o.batch ?? 1;
  const calls = Math.ceil(o.messages / per);
  const window = Math.max(1, Math.ceil(o.window / per));
  let ringSize = 1;
  while (ringSize < window) ringSize <<= 1;
  const mask = ringSize - 1;
  const starts = new Float64Array(ringSize);
  const lat = new Float64Array(Math.ceil(calls / o.latencyEvery));
  const every = o.latencyEvery;
  const sampleEvery = o.sampleEvery ?? 0;
  const phy0 = store.stats().maxPhyOffset;
  let issued = 0;
  let done = 0;
  let lastPhy = -1;
  const t0 = performance.now();
  await new Promise<void>((resolve, reject) => {
    let failed = false;
    const onErr = (e: unknown): void => {
      if (!failed) reject(e instanceof Error ? e : new Error(String(e)));
      failed = true;
    };
    const onDone = (r: PutMessageResult | PutMessageResult[]): void => {
      if (failed) return;
      const first = Array.isArray(r) ? r[0]! : r;
      if (first.phyOffset <= lastPhy) {
        onErr(new Error(`appends resolved out of order (${first.phyOffset} after ${lastPhy})`));
        return;
      }
      lastPhy = Array.isArray(r) ? r[r.length - 1]!.phyOffset : r.phyOffset;
      if (done % every === 0) lat[done / every] = performance.now() - starts[done & mask]!;
      done++;
      const msgs = Math.min(done * per, o.messages);
      if (sampleEvery > 0 && msgs % sampleEvery === 0) o.onSample?.(msgs);
      if (done === calls) resolve();
      else pump();
    };
    const pump = (): void => {
      while (issued < calls && issued - done < window) {
        const c = issued++;
        if (c % every === 0) starts[c & mask] = performance.now();
        if (per === 1) {
          store
            .putMessage({ topic: TOPIC, queueId: c % QUEUES, body, properties: props(c) })
            .then(onDone, onErr);
          continue;
        }
        const first = c * per;
        const n = Math.min(per, o.messages - first);
        const inputs = new Array<PutMessageInput>(n);
        for (let k = 0; k < n; k++) {
          inputs[k] = { topic: TOPIC, queueId: c % QUEUES, body, properties: props(first + k) };
        }
        store.putMessages(inputs).then(onDone, onErr);
      }
    };
    pump();
  });
  const seconds = (performance.now() - t0) / 1000;
  return { seconds, bytes: store.stats().maxPhyOffset - phy0, lat, latCount: Math.ceil(done / every) };
}

async function caseAppendAsync(dir: string, messages: number, batch?: number): Promise<Result> {
  const { io, c } = countingIO();
  const store = MessageStore.open(storeConfig(dir, { flushMode: "async" }), io);
  const cpu = new CpuMeter();
  const r = await appendWindowed(store, {
    messages,
    window: WINDOW,
    bodyBytes: BODY_BYTES,
    latencyEvery: 1,
    ...(batch ? { batch } : {}),
  });
  const cpuPct = cpu.pct();
  const perMsg = cpu.perMessage(messages);
  const ioStats = ioFields(c);
  const tc = performance.now();
  await store.close();
  const closeMs = performance.now() - tc;
  const ls = latencyStats(r.lat, r.latCount);
  return {
    case: batch ? "append-async-batch" : "append-async",
    msgsPerSec: Math.round(messages / r.seconds),
    mbPerSec: round(r.bytes / r.seconds / MB, 1),
    p50Ms: ls.p50Ms,
    p99Ms: ls.p99Ms,
    p999Ms: ls.p999Ms,
    maxMs: ls.maxMs,
    ...(batch ? { latencyOf: `one putMessages call (${batch} msgs, one queue)`, batch } : {}),
    messages,
    bodyBytes: BODY_BYTES,
    recordBytes: Math.round(r.bytes / messages),
    bodyMbPerSec: round((messages * BODY_BYTES) / r.seconds / MB, 1),
    commitLogBytes: r.bytes,
    seconds: round(r.seconds, 3),
    window: WINDOW,
    ...ioStats,
    closeMs: round(closeMs, 1),
    cpuPct,
    ...perMsg,
    ...memFields(),
  };
}

async function caseAppendSync(dir: string): Promise<Result> {
  const { io, c } = countingIO();
  const store = MessageStore.open(storeConfig(dir, { flushMode: "sync" }), io);
  const props = propertiesFactory();
  const body = randomBytes(BODY_BYTES);
  const lat = new Float64Array(SYNC_MAX_MESSAGES);
  let next = 0;
  let stop = false;
  const cpu = new CpuMeter();
  const t0 = performance.now();
  const deadline = t0 + SYNC_SECONDS * 1000;
  const writer = async (): Promise<void> => {
    while (!stop) {
      const i = next++;
      if (i >= SYNC_MAX_MESSAGES) {
        stop = true;
        break;
      }
      const s = performance.now();
      await store.putMessage({ topic: TOPIC, queueId: i % QUEUES, body, properties: props(i) });
      const e = performance.now();
      lat[i] = e - s;
      if (e >= deadline) stop = true;
    }
  };
  const writers: Promise<void>[] = [];
  for (let w = 0; w < SYNC_WRITERS; w++) writers.push(writer());
  await Promise.all(writers);
  const seconds = (performance.now() - t0) / 1000;
  const cpuPct = cpu.pct();
  const n = Math.min(next, SYNC_MAX_MESSAGES);
  const perMsg = cpu.perMessage(n);
  const st = store.stats();
  if (st.flushedOffset < st.maxPhyOffset) throw new Error("sync mode acknowledged unflushed data");
  const ioStats = ioFields(c);
  await store.close();
  const ls = latencyStats(lat, n);
  return {
    case: "append-sync-64-writers",
    msgsPerSec: Math.round(n / seconds),
    mbPerSec: round(st.maxPhyOffset / seconds / MB, 1),
    p50Ms: ls.p50Ms,
    p99Ms: ls.p99Ms,
    p999Ms: ls.p999Ms,
    maxMs: ls.maxMs,
    messages: n,
    writers: SYNC_WRITERS,
    seconds: round(seconds, 3),
    writes: c.writes,
    msgsPerGroupCommit: round(n / Math.max(1, ioStats.writes!), 1),
    ...ioStats,
    cpuPct,
    ...perMsg,
    ...memFields(),
  };
}

/** Asks the kernel to drop the page cache of every file under `dir` (GNU dd: iflag=nocache count=0). */
function dropPageCache(dir: string): { files: number; cachedBefore: string; cachedAfter: string } {
  const files: string[] = [];
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) files.push(p);
    }
  };
  walk(dir);
  const resident = (): string => {
    const r = spawnSync("fincore", ["-b", "-n", "-o", "RES", ...files], { encoding: "utf8" });
    if (r.status !== 0) return "n/a";
    const total = r.stdout
      .split("\n")
      .map((l) => Number(l.trim()))
      .filter((x) => Number.isFinite(x))
      .reduce((a, b) => a + b, 0);
    return `${round(total / MB, 1)} MB`;
  };
  const before = resident();
  for (const f of files) spawnSync("dd", [`if=${f}`, "iflag=nocache", "count=0"], { stdio: "ignore" });
  return { files: files.length, cachedBefore: before, cachedAfter: resident() };
}

/** Reads every message of the topic back with getMessages(…, 32), round-robin over the queues or queue by queue. */
async function caseRead(
  dir: string,
  name: string,
  order: "round-robin" | "queue-by-queue",
  extra: object,
): Promise<Result> {
  const { io, c } = countingIO();
  const to = performance.now();
  const store = MessageStore.open(storeConfig(dir), io);
  const openMs = performance.now() - to;
  const max: number[] = [];
  let total = 0;
  for (let q = 0; q < QUEUES; q++) {
    max.push(store.getMaxOffset(TOPIC, q));
    total += max[q]!;
  }
  const lat = new Float64Array(Math.ceil(total / READ_BATCH) + QUEUES * 4);
  let calls = 0;
  let msgs = 0;
  let bytes = 0;
  const offsets = new Array<number>(QUEUES).fill(0);
  const readOne = (q: number): void => {
    const s = performance.now();
    const r = store.getMessages(TOPIC, q, offsets[q]!, READ_BATCH);
    lat[calls++] = performance.now() - s;
    if (r.status !== "FOUND") throw new Error(`getMessages ${q}@${offsets[q]}: ${r.status}`);
    msgs += r.messages.length;
    for (const m of r.messages) bytes += m.length;
    offsets[q] = r.nextBeginOffset;
  };
  const cpu = new CpuMeter();
  const t0 = performance.now();
  if (order === "round-robin") {
    let active = true;
    while (active) {
      active = false;
      for (let q = 0; q < QUEUES; q++) {
        if (offsets[q]! >= max[q]!) continue;
        active = true;
        readOne(q);
      }
    }
  } else {
    for (let q = 0; q < QUEUES; q++) while (offsets[q]! < max[q]!) readOne(q);
  }
  const seconds = (performance.now() - t0) / 1000;
  const cpuPct = cpu.pct();
  const perMsg = cpu.perMessage(msgs);
  if (msgs !== total) throw new Error(`read ${msgs} messages, expected ${total}`);
  const mem = memFields();
  await store.close();
  const ls = latencyStats(lat, calls);
  return {
    case: name,
    msgsPerSec: Math.round(msgs / seconds),
    mbPerSec: round(bytes / seconds / MB, 1),
    p50Ms: ls.p50Ms,
    p99Ms: ls.p99Ms,
    maxMs: ls.maxMs,
    latencyOf: `one getMessages call (≤${READ_BATCH} msgs)`,
    order,
    messages: msgs,
    bytes,
    seconds: round(seconds, 3),
    openMs: round(openMs, 1),
    preadCalls: c.reads,
    avgPreadKb: round(c.readBytes / Math.max(1, c.reads) / 1024, 1),
    cpuPct,
    ...perMsg,
    ...extra,
    ...mem,
  };
}

async function caseMemory(root: string): Promise<Result> {
  // 1 KiB bodies when the disk has ample room (~1.2 KB/record + index and queue files), else 128 B bodies.
  const st = fs.statfsSync(root);
  const total = st.blocks * st.bsize;
  const avail = st.bavail * st.bsize;
  const perMsg = (body: number): number => body + 250 + 20 + 40; // record + queue unit + 2 index entries
  const need1k = MEMORY_MESSAGES * perMsg(1024) * 1.1;
  const used = total - avail;
  // The store's own disk-use ratio (1 - bavail/blocks) must stay clear of diskMaxUsedRatio (0.75), or retention
  // would start deleting segments mid-run.
  const projected = (used + need1k) / total;
  const bodyBytes = avail - need1k > 20 * GiB && projected < 0.7 ? 1024 : 128;
  const bodyChoice =
    `${bodyBytes} B bodies: 1 KiB would need ~${round(need1k / GiB, 1)} GiB and take the store's disk-use ratio ` +
    `from ${round(used / total, 3)} to ${round(projected, 3)} (limit for 1 KiB here: < 0.7 and ≥ 20 GiB spare)`;
  const need = MEMORY_MESSAGES * perMsg(bodyBytes) * 1.1;
  if (need > avail * 0.8) throw new Error(`not enough disk for the memory case: ${need} > 80% of ${avail}`);

  const dir = join(root, "memory");
  const { io, c } = countingIO();
  const store = MessageStore.open(storeConfig(dir, { flushMode: "async" }), io);
  gc();
  const heapStart = process.memoryUsage().heapUsed;
  const samples: { msgs: number; heapMb: number; heapAfterGcMb: number; rssMb: number; extMb: number }[] = [];
  let heapMax = heapStart;
  let heapAfterGcMax = heapStart;
  const sample = (done: number): void => {
    const raw = process.memoryUsage();
    gc();
    const m = process.memoryUsage();
    heapMax = Math.max(heapMax, raw.heapUsed);
    heapAfterGcMax = Math.max(heapAfterGcMax, m.heapUsed);
    samples.push({
      msgs: done,
      heapMb: round(raw.heapUsed / MiB, 1),
      heapAfterGcMb: round(m.heapUsed / MiB, 1),
      rssMb: round(m.rss / MiB, 1),
      extMb: round(m.external / MiB, 1),
    });
    process.stderr.write(`  memory: ${JSON.stringify(samples[samples.length - 1])}\n`);
  };
  const cpu = new CpuMeter();
  const r = await appendWindowed(store, {
    messages: MEMORY_MESSAGES,
    window: WINDOW,
    bodyBytes,
    latencyEvery: 10,
    onSample: sample,
    sampleEvery: MEMORY_SAMPLE_EVERY,
  });
  const cpuPct = cpu.pct();
  await store.close();
  gc();
  const heapEnd = process.memoryUsage().heapUsed;
  const ls = latencyStats(r.lat, r.latCount);
  return {
    case: "append-10m-memory",
    msgsPerSec: Math.round(MEMORY_MESSAGES / r.seconds),
    mbPerSec: round(r.bytes / r.seconds / MB, 1),
    p50Ms: ls.p50Ms,
    p99Ms: ls.p99Ms,
    latencySampled: "every 10th message",
    messages: MEMORY_MESSAGES,
    bodyBytes,
    bodyChoice,
    commitLogBytes: r.bytes,
    seconds: round(r.seconds, 3),
    window: WINDOW,
    heapStartMb: round(heapStart / MiB, 1),
    heapEndMb: round(heapEnd / MiB, 1),
    heapMaxMb: round(heapMax / MiB, 1),
    heapAfterGcMaxMb: round(heapAfterGcMax / MiB, 1),
    samples,
    ...ioFields(c),
    cpuPct,
    ...memFields(),
  };
}

// ---- report -------------------------------------------------------------------------------------------------

function fmt(x: unknown): string {
  if (typeof x !== "number") return "–";
  if (Number.isNaN(x)) return "–";
  return x >= 1000 ? Math.round(x).toLocaleString("en-US") : String(x);
}

function report(): void {
  console.log("");
  console.log("| case | msgs/s | MB/s | p50 ms | p99 ms | notes |");
  console.log("|---|---:|---:|---:|---:|---|");
  for (const r of results) {
    const notes: string[] = [];
    if (r.case === "disk-dd") notes.push(`runs ${JSON.stringify(r.runsMbPerSec)} MB/s`);
    if (r.window) notes.push(`window ${String(r.window)}`);
    if (r.msgsPerGroupCommit) notes.push(`${String(r.msgsPerGroupCommit)} msgs/group commit`);
    if (r.cachedAfter) notes.push(`page cache ${String(r.cachedBefore)} → ${String(r.cachedAfter)}`);
    if (r.latencyOf) notes.push(`latency per ${String(r.latencyOf)}`);
    if (r.heapStartMb !== undefined)
      notes.push(
        `heap start/end/max ${String(r.heapStartMb)}/${String(r.heapEndMb)}/${String(r.heapMaxMb)} MB, after-GC max ${String(r.heapAfterGcMaxMb)} MB`,
      );
    if (r.cpuPct !== undefined) notes.push(`CPU ${String(r.cpuPct)} %`);
    if (r.cpuUsPerMsg !== undefined) notes.push(`${String(r.cpuUsPerMsg)} µs CPU/msg`);
    notes.push(`peak RSS ${String(r.peakRssMb)} MB`);
    console.log(
      `| ${r.case} | ${fmt(r.msgsPerSec)} | ${fmt(r.mbPerSec)} | ${fmt(r.p50Ms)} | ${fmt(r.p99Ms)} | ${notes.join("; ")} |`,
    );
  }
  const get = (name: string): Result | undefined => results.find((r) => r.case === name);
  const checks: string[] = [];
  const dd = get("disk-dd");
  const asy = get("append-async");
  if (dd && asy) {
    const ratio = asy.mbPerSec / dd.mbPerSec;
    checks.push(
      `${ratio >= 0.7 ? "PASS" : "FAIL"} append-async ≥ 70 % of disk-dd: ${asy.mbPerSec} / ${dd.mbPerSec} MB/s = ${round(ratio * 100, 1)} %`,
    );
  }
  const buffered = get("disk-dd-buffered");
  if (buffered && asy) {
    checks.push(
      `(informational) append-async / disk-dd-buffered, the page cache's own write speed: ${asy.mbPerSec} / ${buffered.mbPerSec} MB/s = ${round((asy.mbPerSec / buffered.mbPerSec) * 100, 1)} %`,
    );
  }
  const asb = get("append-async-batch");
  if (dd && asb) {
    const ratio = asb.mbPerSec / dd.mbPerSec;
    checks.push(
      `${ratio >= 0.7 ? "PASS" : "FAIL"} append-async-batch ≥ 70 % of disk-dd (informational): ${asb.mbPerSec} / ${dd.mbPerSec} MB/s = ${round(ratio * 100, 1)} %`,
    );
  }
  const sy = get("append-sync-64-writers");
  if (sy) {
    const ok = sy.msgsPerSec >= 50_000 && sy.p99Ms <= 10;
    checks.push(
      `${ok ? "PASS" : "FAIL"} append-sync-64-writers ≥ 50,000 msg/s with p99 ≤ 10 ms: ${fmt(sy.msgsPerSec)} msg/s, p99 ${sy.p99Ms} ms`,
    );
  }
  for (const name of ["read-sequential", "read-sequential-cold"]) {
    const rd = get(name);
    if (!rd) continue;
    const label = name === "read-sequential" ? "" : " (informational)";
    checks.push(
      `${rd.msgsPerSec >= 500_000 ? "PASS" : "FAIL"} ${name} ≥ 500,000 msg/s${label}: ${fmt(rd.msgsPerSec)} msg/s`,
    );
  }
  if (checks.length > 0) {
    console.log("");
    console.log("Targets:");
    for (const c of checks) console.log(`- ${c}`);
  }
  console.log("");
  console.log(
    `Machine: ${os.cpus().length} CPUs, ${round(os.totalmem() / GiB, 1)} GiB RAM, node ${process.version}, tmp ${os.tmpdir()}` +
      (QUICK ? " (--quick: reduced sizes)" : ""),
  );
}

// ---- main ---------------------------------------------------------------------------------------------------

async function main(root: string): Promise<void> {
  const st = fs.statfsSync(root);
  const avail = st.bavail * st.bsize;
  if (MEMORY) {
    emit(await caseMemory(root));
    report();
    return;
  }
  const needBytes = ASYNC_MESSAGES * 1400 + DD_MIB * MiB + SYNC_MAX_MESSAGES * 1300;
  if (avail < needBytes * 1.5) {
    throw new Error(`need about ${round((needBytes * 1.5) / GiB, 1)} GiB free in ${root}`);
  }
  const ddRuns: number[] = [];
  if (wanted("disk-dd")) ddRuns.push(ddWrite(root, DD_MIB));
  const asyncDir = join(root, "async");
  const readCases = ["read-sequential", "read-sequential-cold", "read-queue-by-queue"];
  if (wanted("append-async") || readCases.some(wanted)) {
    emit(await caseAppendAsync(asyncDir, ASYNC_MESSAGES));
  }
  if (wanted("disk-dd")) {
    ddRuns.push(ddWrite(root, DD_MIB));
    const mean = ddRuns.reduce((a, b) => a + b, 0) / ddRuns.length;
    emit({
      case: "disk-dd",
      msgsPerSec: NaN,
      mbPerSec: round(mean, 1),
      p50Ms: NaN,
      p99Ms: NaN,
      runsMbPerSec: ddRuns.map((x) => round(x, 1)),
      command: `dd if=/dev/zero of=<tmp>/dd.bin bs=1M count=${DD_MIB} oflag=direct`,
      note: "mean of one run before and one after append-async",
      ...memFields(),
    });
  }
  if (wanted("disk-dd-buffered")) {
    const run = ddWrite(root, DD_MIB, false);
    emit({
      case: "disk-dd-buffered",
      msgsPerSec: NaN,
      mbPerSec: round(run, 1),
      p50Ms: NaN,
      p99Ms: NaN,
      command: `dd if=/dev/zero of=<tmp>/dd.bin bs=1M count=${DD_MIB}`,
      note:
        "page-cache writes into pages the kernel hands out fresh (what append-async's writes are): the ceiling " +
        "of any buffered writer on this machine. Run after append-async only: the pages a buffered dd frees are " +
        "handed out again fast for a second or two, and would speed up whatever writes next",
      ...memFields(),
    });
  }
  if (wanted("read-sequential")) {
    // Fresh store (cold read cache); the OS page cache still holds what append-async just wrote.
    emit(await caseRead(asyncDir, "read-sequential", "round-robin", { pageCache: "warm (reopened store)" }));
  }
  if (wanted("read-sequential-cold")) {
    const dropped = dropPageCache(asyncDir);
    emit(
      await caseRead(asyncDir, "read-sequential-cold", "round-robin", {
        pageCache: "dropped for the store's files (dd iflag=nocache)",
        ...dropped,
      }),
    );
  }
  if (wanted("read-queue-by-queue") && !QUICK) {
    emit(
      await caseRead(asyncDir, "read-queue-by-queue", "queue-by-queue", {
        pageCache: "warm (reopened store)",
      }),
    );
  }
  fs.rmSync(asyncDir, { recursive: true, force: true });
  if (wanted("append-async-batch")) {
    const batchDir = join(root, "async-batch");
    emit(await caseAppendAsync(batchDir, ASYNC_MESSAGES, BATCH));
    fs.rmSync(batchDir, { recursive: true, force: true });
  }
  if (wanted("append-sync-64-writers")) emit(await caseAppendSync(join(root, "sync")));
  report();
}

const root = fs.mkdtempSync(join(os.tmpdir(), "rocketmq-ts-bench-"));
let cleaned = false;
function cleanup(): void {
  if (cleaned) return;
  cleaned = true;
  fs.rmSync(root, { recursive: true, force: true });
}
for (const sig of ["SIGINT", "SIGTERM"] as const) {
  process.on(sig, () => {
    cleanup();
    process.exit(130);
  });
}
try {
  await main(root);
} catch (e) {
  console.error(e);
  process.exitCode = 1;
} finally {
  cleanup();
}
