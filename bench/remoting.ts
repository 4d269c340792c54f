// End-to-end benchmark of our SDK (src/client) against our broker over the remoting protocol on loopback.
// The NameServer + broker run in a child process (bench/remoting-server.ts), so client and broker have separate
// event loops, as users run them; the producer and consumers run here. 1 KiB bodies, tag "TagA", no keys; the
// SDK adds its unique id (UNIQ_KEY) to every message. Broker: default configuration (async flush), topics with
// 8 queues created up front, data in a temp dir that is removed at the end (also on error or Ctrl-C).
//
//   node dist/bench/remoting.js              full run (npm run bench builds first)
//   node dist/bench/remoting.js --quick      smaller sizes, under a minute
//   options: --only <case>[,<case>]  --fixed-seconds <s>  --window <n>  --consume-threads <n>
//            --pull-batch <n>  --queues <n>  --consume-messages <n> (experiments; the target needs 1 M)
//            --auto-batch (the producers batch the sends of one turn: ProducerOptions.autoBatch)
//            --cpu-prof <dir> (CPU profiles of the broker child and this process over each case's measured phase,
//            <dir>/<case>.broker.cpuprofile and .client.cpuprofile; summarise with dist/bench/remoting-profile.js)
//            --heap-prof <dir> (the same for sampled allocations, garbage included: .heapprofile)
//            --heap-prof-survivors (with --heap-prof: only objects that survived a scavenge, i.e. were promoted)
//            --diag (diagnostics, not for the reported numbers: event-loop delay, GC pauses and, in the broker,
//            time in blocking fs calls, per case, in a "diag" field)  --server-node-args "<node flags>"
//            --fixed-no-consumer (experiment: send-fixed-5000 without its consumer)
//            --fixed-warmup-seconds <s> (unmeasured run at the fixed rate first, consumer attached; default 2)
//            --flush-mode sync (the broker acknowledges after fdatasync; the targets are for the default, async)
//            --sync-master (the broker is a SYNC_MASTER with a slave in a third process: a send is answered once
//            the slave stored it; the targets are for the default, a master alone)
//            --acl (access control on: one non-admin account, every request signed and checked)
//            --acl-stateful (the same with stateful authentication: a connection's signature checked once a minute)
//            --tls (clients connect over TLS; the broker's default permissive mode serves both)
//
// Cases:
//   send-1-in-flight     one producer, await each send (20,000 messages or 10 s)
//   send-256-in-flight   one producer, 256 sends outstanding, refilled as they resolve (200,000 messages)
//   consume-1m           1,000,000-message backlog produced first (pipelined), then one clustering push consumer;
//                        measured from consumer.start() until every message has been received once
//   send-fixed-5000      5,000 msg/s for 10 s (after 2 s unmeasured at that rate), open loop from a 1 ms timer, a
//                        consumer attached: send latency
//                        (from the send call and from the intended send time) and end-to-end latency (send call →
//                        listener), both measured with this process's clock
//
// Output: one JSON line per case, then a Markdown table and the target checks. MB = 10^6 bytes of bodies.
// CPU % is CPU time over wall time, 100 % = one core: client = this process, broker = the child (from
// /proc/<pid>/stat), other = everything else busy on the machine (from /proc/stat), steal = time taken by the host.
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as inspector from "node:inspector";
import * as os from "node:os";
import { dirname, join, resolve } from "node:path";
import { PerformanceObserver, monitorEventLoopDelay, performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { Action, Consumer, Message, MessageModel, Producer } from "../src/client/index.js";
import type { ReceivedMessage } from "../src/client/index.js";
import {
  CLK_TCK,
  emit,
  flag,
  numOption,
  option,
  percentile,
  pipelined,
  procCpuMs,
  results,
  round,
} from "./bench-util.js";
import type { PipelinedRun, Result } from "./bench-util.js";

// ---- options ------------------------------------------------------------------------------------------------

const CASES = ["send-1-in-flight", "send-256-in-flight", "consume-1m", "send-fixed-5000"] as const;
const QUICK = flag("--quick");
const ONLY = option("--only")?.split(",");
for (const c of ONLY ?? []) {
  if (!(CASES as readonly string[]).includes(c))
    throw new Error(`--only: unknown case ${c} (${CASES.join(", ")})`);
}
const CPU_PROF_DIR = option("--cpu-prof");
const HEAP_PROF_DIR = option("--heap-prof");
/** --heap-prof-survivors: sample only objects that survive a scavenge (what makes young-generation GC slow). */
const HEAP_SURVIVORS = flag("--heap-prof-survivors");
const DIAG = flag("--diag");
const BODY_BYTES = 1024;
const QUEUES = numOption("--queues", 8);
const TAG = "TagA";
const MB = 1e6;
const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

const SEND1_MAX = QUICK ? 5_000 : 20_000;
const SEND1_SECONDS = QUICK ? 3 : 10;
const WINDOW = numOption("--window", 256);
/** --auto-batch: the producer batches the sends of one turn (ProducerOptions.autoBatch). */
const AUTO_BATCH = flag("--auto-batch");
const PIPE_MESSAGES = QUICK ? 30_000 : 200_000;
const PIPE_MAX_SECONDS = 120;
const CONSUME_MESSAGES = numOption("--consume-messages", QUICK ? 100_000 : 1_000_000);
const BACKLOG_WINDOW = WINDOW;
const BACKLOG_MAX_SECONDS = 600;
const CONSUME_MAX_SECONDS = 300;
const CONSUME_THREADS = numOption("--consume-threads", 64);
const PULL_BATCH = numOption("--pull-batch", 32);
const FIXED_RATE = 5_000;
const FIXED_SECONDS = numOption("--fixed-seconds", QUICK ? 4 : 10);
const WARMUP_MESSAGES = QUICK ? 5_000 : 20_000;
/**
 * The fixed-rate case first runs this long at its rate, consumer attached, unmeasured: the JIT compiles the
 * one-message-per-pull path of both processes during roughly the first half second, which otherwise decides p99.
 */
const FIXED_WARMUP_SECONDS = numOption("--fixed-warmup-seconds", QUICK ? 1 : 2);
/** --flush-mode sync: the broker acknowledges after fdatasync (experiments; the targets are for async). */
const FLUSH_MODE = option("--flush-mode");
/** --sync-master: a SYNC_MASTER broker with a slave child (bench/remoting-server.ts --slave-of). */
const SYNC_MASTER = flag("--sync-master");
/** --acl: access control on (one account with rights on every topic, not an admin); clients sign every request. */
const ACL_STATEFUL = flag("--acl-stateful");
const ACL = flag("--acl") || ACL_STATEFUL;
/** --tls: clients connect over TLS (the broker's self-signed certificate, trusted as RocketMQ clients do). */
const TLS = flag("--tls");
const CREDS = {
  ...(ACL ? { credentials: { accessKey: "bench", secretKey: "bench-secret" } } : {}),
  ...(TLS ? { tls: { rejectUnauthorized: false } } : {}),
};
/** Experiment only: the fixed-rate case without its consumer (send latency alone). */
const FIXED_NO_CONSUMER = flag("--fixed-no-consumer");
/** Sequence number of the warm-up message on the fixed-rate topic. */
const WARMUP_SEQ = 0xffffffff;

const TOPICS = {
  warmup: "BenchWarmup",
  send1: "BenchSend1",
  send256: "BenchSend256",
  consume: "BenchConsume",
  fixed: "BenchFixed",
};

function wanted(name: (typeof CASES)[number]): boolean {
  return !ONLY || ONLY.includes(name);
}

// ---- measurement helpers ------------------------------------------------------------------------------------

interface LatStats {
  p50Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
  samples: number;
}

function latencyStats(lat: Float64Array, n: number): LatStats {
  const s = lat.slice(0, n).sort();
  return {
    p50Ms: round(percentile(s, 50), 3),
    p99Ms: round(percentile(s, 99), 3),
    p999Ms: round(percentile(s, 99.9), 3),
    maxMs: round(s[s.length - 1] ?? NaN, 3),
    samples: n,
  };
}

/** Busy and steal time of the whole machine in ms (all CPUs), from /proc/stat. */
function hostCpuMs(): { busy: number; steal: number } | undefined {
  try {
    const line = fs.readFileSync("/proc/stat", "utf8").split("\n")[0]!;
    const v = line.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal
    const busy = v[0]! + v[1]! + v[2]! + v[5]! + v[6]!;
    return { busy: (busy * 1000) / CLK_TCK, steal: ((v[7] ?? 0) * 1000) / CLK_TCK };
  } catch {
    return undefined;
  }
}

function peakRssMb(pid: number): number | undefined {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? round(Number(m[1]) / 1024, 1) : undefined;
  } catch {
    return undefined;
  }
}

/** CPU of this process, the broker child and the rest of the machine over one case. */
class CpuMeter {
  private readonly t0 = performance.now();
  private readonly self0 = process.cpuUsage();
  private readonly broker0: number | undefined;
  private readonly host0 = hostCpuMs();
  constructor(private readonly brokerPid: number) {
    this.broker0 = procCpuMs(brokerPid);
  }
  fields(): Record<string, number | undefined> {
    const wall = performance.now() - this.t0;
    const d = process.cpuUsage(this.self0);
    const client = (d.user + d.system) / 1000;
    const b1 = procCpuMs(this.brokerPid);
    const broker = b1 !== undefined && this.broker0 !== undefined ? b1 - this.broker0 : undefined;
    const h1 = hostCpuMs();
    const pct = (ms: number): number => round((ms / wall) * 100, 1);
    const out: Record<string, number | undefined> = {
      clientCpuPct: pct(client),
      brokerCpuPct: broker === undefined ? undefined : pct(broker),
    };
    if (h1 && this.host0 && broker !== undefined) {
      out.otherCpuPct = pct(Math.max(0, h1.busy - this.host0.busy - client - broker));
      out.stealPct = pct(h1.steal - this.host0.steal);
    }
    out.clientCpuSec = round(client / 1000, 2);
    out.brokerCpuSec = broker === undefined ? undefined : round(broker / 1000, 2);
    return out;
  }
}

function progress(s: string): void {
  process.stderr.write(`  ${s}\n`);
}

// ---- the broker child ---------------------------------------------------------------------------------------

let child: ChildProcess | undefined;
let childExit: Promise<void> | undefined;
let stoppingChild = false;
let root: string | undefined;

function childAlive(): boolean {
  return !!child && child.exitCode === null && child.signalCode === null;
}

async function startServer(dataDir: string): Promise<{ namesrv: string; pid: number }> {
  const here = dirname(fileURLToPath(import.meta.url));
  const args = [
    join(here, "remoting-server.js"),
    "--data-dir",
    dataDir,
    "--namesrv-port",
    option("--namesrv-port") ?? "0",
    "--broker-port",
    option("--broker-port") ?? "0",
    "--queues",
    String(QUEUES),
    "--topics",
    Object.values(TOPICS).join(","),
    ...(DIAG ? ["--diag"] : []),
    ...(FLUSH_MODE ? ["--flush-mode", FLUSH_MODE] : []),
    ...(SYNC_MASTER ? ["--broker-role", "SYNC_MASTER"] : []),
    ...(ACL ? ["--acl"] : []),
    ...(ACL_STATEFUL ? ["--acl-stateful"] : []),
    ...(root ? ["--remove-on-orphan", root] : []),
  ];
  const extra = option("--server-node-args");
  if (extra) args.unshift(...extra.split(" ").filter((a) => a.length > 0));
  const c = spawn(process.execPath, args, { stdio: ["pipe", "pipe", "inherit"] });
  child = c;
  childExit = new Promise((res) => c.once("exit", () => res()));
  c.once("exit", (code, signal) => {
    if (!stoppingChild) {
      console.error(`broker child exited unexpectedly (code ${code}, signal ${signal})`);
      void shutdownAndExit(1);
    }
  });
  const ready = await new Promise<{ namesrvPort: number; brokerPort: number; haPort: number; pid: number }>(
    (res, rej) => {
      let buf = "";
      const timer = setTimeout(() => rej(new Error("broker child not ready after 30 s")), 30_000);
      c.stdout!.setEncoding("utf8");
      c.stdout!.on("data", (d: string) => {
        buf += d;
        let nl: number;
        while ((nl = buf.indexOf("\n")) >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          if (line.startsWith("ready ")) {
            clearTimeout(timer);
            res(
              JSON.parse(line.slice(6)) as {
                namesrvPort: number;
                brokerPort: number;
                haPort: number;
                pid: number;
              },
            );
          } else if (line.startsWith("profiled ")) {
            const w = profWaiter;
            profWaiter = undefined;
            w?.(line.slice(9));
          } else if (line.startsWith("stats ")) {
            const w = statsWaiter;
            statsWaiter = undefined;
            w?.(JSON.parse(line.slice(6)) as object);
          } else {
            process.stderr.write(`[broker stdout] ${line}\n`);
          }
        }
      });
      c.once("exit", () => {
        clearTimeout(timer);
        rej(new Error("broker child exited before it was ready"));
      });
    },
  );
  progress(
    `broker child pid ${c.pid}: NameServer 127.0.0.1:${ready.namesrvPort}, broker 127.0.0.1:${ready.brokerPort}`,
  );
  if (SYNC_MASTER) await startSlave(ready.haPort, dataDir + "-slave");
  return { namesrv: `127.0.0.1:${ready.namesrvPort}`, pid: c.pid! };
}

let slaveChild: ChildProcess | undefined;

/** --sync-master: the master's slave, in a process of its own; resolves once it is connected. */
async function startSlave(haPort: number, dataDir: string): Promise<void> {
  const here = dirname(fileURLToPath(import.meta.url));
  const c = spawn(
    process.execPath,
    [join(here, "remoting-server.js"), "--data-dir", dataDir, "--slave-of", `127.0.0.1:${haPort}`],
    { stdio: ["pipe", "pipe", "inherit"] },
  );
  slaveChild = c;
  await new Promise<void>((res, rej) => {
    const timer = setTimeout(() => rej(new Error("slave child not ready after 30 s")), 30_000);
    c.stdout!.setEncoding("utf8");
    c.stdout!.on("data", (d: string) => {
      if (d.includes("ready ")) {
        clearTimeout(timer);
        res();
      }
    });
    c.once("exit", () => rej(new Error("slave child exited before it was ready")));
  });
  progress(`slave child pid ${c.pid} replicating from 127.0.0.1:${haPort}`);
}

function stopSlave(): void {
  const c = slaveChild;
  slaveChild = undefined;
  if (c && c.exitCode === null && c.signalCode === null) c.kill("SIGTERM");
}

let statsWaiter: ((o: object | undefined) => void) | undefined;

/** Start of a case's measured phase: clears the diagnostics counters (--diag), starts the profilers (--cpu-prof). */
async function measureStart(): Promise<void> {
  if (DIAG) {
    if (childAlive()) child!.stdin!.write("reset\n");
    clientDiag.reset();
  }
  await profStart();
}

/** The broker's diagnostics since the last reset (--diag), and this process's. */
async function diagStats(): Promise<object | undefined> {
  if (!DIAG || !childAlive()) return undefined;
  const broker = await new Promise<object | undefined>((res) => {
    const t = setTimeout(() => res(undefined), 5000);
    statsWaiter = (o) => {
      clearTimeout(t);
      res(o);
    };
    child!.stdin!.write("stats\n");
  });
  return { broker, client: clientDiag.stats() };
}

/** Event-loop delay and GC pauses of this process (--diag). */
class ClientDiag {
  private readonly eld = monitorEventLoopDelay({ resolution: 5 });
  private gc = { count: 0, totalMs: 0, maxMs: 0 };
  /** GC pauses over 1 ms: [performance.now() at start, kind, duration ms]. */
  pauses: [number, string, number][] = [];
  start(): void {
    this.eld.enable();
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        this.gc.count++;
        this.gc.totalMs += e.duration;
        if (e.duration > this.gc.maxMs) this.gc.maxMs = e.duration;
        if (e.duration > 1 && this.pauses.length < 1000) {
          const kind = (e as unknown as { detail?: { kind?: number } }).detail?.kind ?? 0;
          this.pauses.push([
            e.startTime,
            ({ 1: "minor", 4: "major", 8: "incremental", 16: "weakcb" } as Record<number, string>)[kind] ??
              String(kind),
            e.duration,
          ]);
        }
      }
    }).observe({ entryTypes: ["gc"] });
  }
  reset(): void {
    this.eld.reset();
    this.gc = { count: 0, totalMs: 0, maxMs: 0 };
    this.pauses = [];
  }
  stats(): object {
    return {
      eventLoopDelayMs: {
        p50: round(this.eld.percentile(50) / 1e6, 3),
        p99: round(this.eld.percentile(99) / 1e6, 3),
        max: round(this.eld.max / 1e6, 3),
      },
      gc: { count: this.gc.count, totalMs: round(this.gc.totalMs, 1), maxMs: round(this.gc.maxMs, 2) },
      gcPausesOver1ms: this.pauses.length,
    };
  }
}
const clientDiag = new ClientDiag();

/** SIGTERM to the child by pid, SIGKILL after `graceMs`. */
async function stopServer(graceMs = 20_000): Promise<void> {
  if (!child || !childAlive()) return;
  stoppingChild = true;
  const pid = child.pid!;
  try {
    process.kill(pid, "SIGTERM");
  } catch {
    return;
  }
  const timeout = new Promise<"timeout">((r) => setTimeout(() => r("timeout"), graceMs).unref());
  if ((await Promise.race([childExit, timeout])) === "timeout" && childAlive()) {
    console.error(`broker child ${pid} did not stop in ${graceMs / 1000} s; killing it`);
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // gone meanwhile
    }
    await childExit;
  }
}

function removeRoot(): void {
  if (root) fs.rmSync(root, { recursive: true, force: true });
  root = undefined;
}

// Last resort (an exit path that skipped the async cleanup): kill the child by pid, remove the temp dir.
process.on("exit", () => {
  if (slaveChild && slaveChild.exitCode === null) slaveChild.kill("SIGKILL");
  if (childAlive()) {
    try {
      process.kill(child!.pid!, "SIGKILL");
    } catch {
      // already gone
    }
  }
  try {
    removeRoot();
  } catch {
    // nothing more to do while exiting
  }
});

let shuttingDown = false;
const clientsToClose: { shutdown(): Promise<void> }[] = [];

/** Set by Ctrl-C / SIGTERM: the send loops stop issuing, and the clients are not shut down politely. */
let interrupted = false;
let exitCode: number | undefined;

async function shutdownAndExit(code: number): Promise<never> {
  exitCode ??= code;
  if (!shuttingDown) {
    shuttingDown = true;
    const guard = setTimeout(() => process.exit(exitCode), 30_000);
    guard.unref();
    if (!interrupted) {
      for (const c of clientsToClose.splice(0).reverse()) {
        await Promise.race([c.shutdown().catch(() => {}), new Promise((r) => setTimeout(r, 3000).unref())]);
      }
    }
    stopSlave();
    await stopServer(interrupted ? 5_000 : 20_000);
    removeRoot();
  }
  process.exit(exitCode);
}

function onSignal(code: number): void {
  if (interrupted) return;
  interrupted = true;
  console.error("interrupted; stopping the broker child and removing the temp dir");
  void shutdownAndExit(code);
}
process.on("SIGINT", () => onSignal(130));
process.on("SIGTERM", () => onSignal(143));

// ---- profiler (--cpu-prof <dir>) ---------------------------------------------------------------------------

// Both processes are profiled over each case's measured phase (not the warm-up or the consume case's backlog):
// this one through node:inspector, the broker child through its `prof-start` / `prof-stop` stdin commands.
let profSession: inspector.Session | undefined;
let profWaiter: ((line: string) => void) | undefined;

function post(s: inspector.Session, method: string, params: object = {}): Promise<unknown> {
  return new Promise((res, rej) => s.post(method, params, (e, r) => (e ? rej(e) : res(r))));
}

let heapSession: inspector.Session | undefined;

async function profStart(): Promise<void> {
  for (const [dir, kind] of [
    [CPU_PROF_DIR, "cpu"],
    [HEAP_PROF_DIR, "heap"],
  ] as const) {
    if (!dir) continue;
    fs.mkdirSync(dir, { recursive: true });
    if (childAlive())
      child!.stdin!.write(
        kind === "cpu" ? "prof-start\n" : HEAP_SURVIVORS ? "heap-start-survivors\n" : "heap-start\n",
      );
    const s = new inspector.Session();
    s.connect();
    if (kind === "cpu") {
      await post(s, "Profiler.enable");
      await post(s, "Profiler.setSamplingInterval", { interval: 1000 });
      await post(s, "Profiler.start");
      profSession = s;
    } else {
      await post(s, "HeapProfiler.enable");
      await post(s, "HeapProfiler.startSampling", {
        samplingInterval: 16384,
        includeObjectsCollectedByMajorGC: true,
        includeObjectsCollectedByMinorGC: !HEAP_SURVIVORS,
      });
      heapSession = s;
    }
  }
}

async function profStop(name: string): Promise<void> {
  for (const [dir, kind] of [
    [CPU_PROF_DIR, "cpu"],
    [HEAP_PROF_DIR, "heap"],
  ] as const) {
    if (!dir) continue;
    const ext = kind === "cpu" ? "cpuprofile" : "heapprofile";
    if (childAlive()) {
      const file = join(resolve(dir), `${name}.broker.${ext}`);
      const done = await new Promise<string>((res) => {
        const t = setTimeout(() => res("timeout"), 20_000);
        profWaiter = (l) => {
          clearTimeout(t);
          res(l);
        };
        child!.stdin!.write(`${kind === "cpu" ? "prof-stop" : "heap-stop"} ${file}\n`);
      });
      progress(`broker ${kind} profile: ${done}`);
    }
    const s = kind === "cpu" ? profSession : heapSession;
    if (!s) continue;
    if (kind === "cpu") profSession = undefined;
    else heapSession = undefined;
    const r = (await post(s, kind === "cpu" ? "Profiler.stop" : "HeapProfiler.stopSampling")) as {
      profile: object;
    };
    const file = join(resolve(dir), `${name}.client.${ext}`);
    fs.writeFileSync(file, JSON.stringify(r.profile));
    s.disconnect();
    progress(`client ${kind} profile: ${file}`);
  }
}

// ---- sending ------------------------------------------------------------------------------------------------

const BODY = randomBytes(BODY_BYTES);

function message(topic: string, body: Buffer = BODY): Message {
  return new Message(topic, TAG, body);
}

type WindowedRun = PipelinedRun;

/** `window` sends outstanding, refilled as they resolve; latency of every send, from the call to its result. */
async function sendWindowed(
  producer: Producer,
  topic: string,
  messages: number,
  window: number,
  maxSeconds: number,
  label: string,
): Promise<WindowedRun> {
  let nextReport = performance.now() + 5000;
  return pipelined(() => producer.send(message(topic)), messages, window, maxSeconds, {
    stop: () => interrupted,
    maxFailures: Infinity,
    onSettled: (settled) => {
      const now = performance.now();
      if (now > nextReport) {
        nextReport = now + 5000;
        progress(`${label}: ${settled.toLocaleString("en-US")} / ${messages.toLocaleString("en-US")}`);
      }
    },
  });
}

function newProducer(namesrv: string, group: string): Producer {
  const p = new Producer({
    nameServer: namesrv,
    groupId: group,
    clientIP: "127.0.0.1",
    ...CREDS,
    ...(AUTO_BATCH ? { autoBatch: true } : {}),
  });
  clientsToClose.push(p);
  return p;
}

async function closeClient(c: { shutdown(): Promise<void> }): Promise<void> {
  const i = clientsToClose.indexOf(c);
  if (i >= 0) clientsToClose.splice(i, 1);
  await c.shutdown();
}

// ---- cases --------------------------------------------------------------------------------------------------

async function caseSend1(producer: Producer, brokerPid: number): Promise<Result> {
  const lat = new Float64Array(SEND1_MAX);
  let n = 0;
  let failed = 0;
  const cpu = new CpuMeter(brokerPid);
  const t0 = performance.now();
  const deadline = t0 + SEND1_SECONDS * 1000;
  let now = t0;
  while (n < SEND1_MAX && now < deadline && !interrupted) {
    const s = performance.now();
    try {
      await producer.send(message(TOPICS.send1));
    } catch {
      failed++;
      if (failed > 100) throw new Error("send-1-in-flight: over 100 failed sends");
    }
    now = performance.now();
    lat[n++] = now - s;
  }
  const seconds = (now - t0) / 1000;
  const ls = latencyStats(lat, n);
  return {
    case: "send-1-in-flight",
    msgsPerSec: Math.round(n / seconds),
    mbPerSec: round((n * BODY_BYTES) / seconds / MB, 1),
    p50Ms: ls.p50Ms,
    p99Ms: ls.p99Ms,
    p999Ms: ls.p999Ms,
    maxMs: ls.maxMs,
    messages: n,
    failed,
    seconds: round(seconds, 3),
    stoppedBy: n >= SEND1_MAX ? "count" : "time",
    ...cpu.fields(),
  };
}

async function caseSend256(producer: Producer, brokerPid: number): Promise<Result> {
  const cpu = new CpuMeter(brokerPid);
  const r = await sendWindowed(producer, TOPICS.send256, PIPE_MESSAGES, WINDOW, PIPE_MAX_SECONDS, "send-256");
  const cpuFields = cpu.fields();
  const ls = latencyStats(r.lat, r.done);
  return {
    case: "send-256-in-flight",
    msgsPerSec: Math.round(r.done / r.seconds),
    mbPerSec: round((r.done * BODY_BYTES) / r.seconds / MB, 1),
    p50Ms: ls.p50Ms,
    p99Ms: ls.p99Ms,
    p999Ms: ls.p999Ms,
    maxMs: ls.maxMs,
    messages: r.done,
    failed: r.failed,
    ...(r.firstError ? { firstError: r.firstError } : {}),
    timedOut: r.timedOut,
    window: WINDOW,
    seconds: round(r.seconds, 3),
    brokerCpuMsPer1kMsgs:
      cpuFields.brokerCpuSec === undefined ? undefined : round((cpuFields.brokerCpuSec * 1e6) / r.done, 1),
    clientCpuMsPer1kMsgs: round(((cpuFields.clientCpuSec ?? 0) * 1e6) / r.done, 1),
    ...cpuFields,
  };
}

async function caseConsume(producer: Producer, namesrv: string, brokerPid: number): Promise<Result> {
  const n = CONSUME_MESSAGES;
  progress(
    `consume-1m: producing a backlog of ${n.toLocaleString("en-US")} messages (window ${BACKLOG_WINDOW})`,
  );
  const backlogCpu = new CpuMeter(brokerPid);
  const backlog = await sendWindowed(
    producer,
    TOPICS.consume,
    n,
    BACKLOG_WINDOW,
    BACKLOG_MAX_SECONDS,
    "backlog",
  );
  const backlogCpuFields = backlogCpu.fields();
  if (backlog.done !== n) {
    throw new Error(
      `consume-1m: backlog has ${backlog.done} of ${n} messages (${backlog.failed} failed: ${backlog.firstError})`,
    );
  }
  const backlogRate = Math.round(n / backlog.seconds);
  progress(`consume-1m: backlog done at ${backlogRate.toLocaleString("en-US")} msg/s; starting the consumer`);
  await new Promise((r) => setTimeout(r, 1000));

  // Every message counted once, by (queue, queue offset): duplicates (redelivery) are reported, not counted.
  const seen = new Map<number, Uint8Array>();
  let unique = 0;
  let received = 0;
  let bodyBytes = 0;
  let firstAt = 0;
  let resolveAll!: () => void;
  const all = new Promise<void>((r) => (resolveAll = r));
  const listener = (m: ReceivedMessage): Action => {
    received++;
    if (received === 1) firstAt = performance.now();
    let bits = seen.get(m.queueId);
    if (!bits) {
      bits = new Uint8Array(Math.ceil(n / 8) + 1);
      seen.set(m.queueId, bits);
    }
    const o = m.queueOffset;
    const mask = 1 << (o & 7);
    if (o < n && ((bits[o >> 3] ?? 0) & mask) === 0) {
      bits[o >> 3] = (bits[o >> 3] ?? 0) | mask;
      unique++;
      bodyBytes += m.body.length;
      if (unique === n) resolveAll();
    }
    return Action.CommitMessage;
  };
  const consumer = new Consumer({
    ...CREDS,
    nameServer: namesrv,
    groupId: "GID_bench_consume",
    clientIP: "127.0.0.1",
    messageModel: MessageModel.CLUSTERING,
    consumeFromWhere: "FIRST",
    consumeThreadNums: CONSUME_THREADS,
    pullBatchSize: PULL_BATCH,
  });
  clientsToClose.push(consumer);
  consumer.subscribe(TOPICS.consume, "*", listener);
  await measureStart();
  const cpu = new CpuMeter(brokerPid);
  const t0 = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const report = setInterval(() => progress(`consume-1m: ${unique.toLocaleString("en-US")} received`), 5000);
  let timedOut = false;
  try {
    await consumer.start();
    await Promise.race([
      all,
      new Promise<void>((r) => {
        timer = setTimeout(() => {
          timedOut = true;
          r();
        }, CONSUME_MAX_SECONDS * 1000);
      }),
    ]);
  } finally {
    clearTimeout(timer);
    clearInterval(report);
  }
  const t1 = performance.now();
  const cpuFields = cpu.fields();
  const seconds = (t1 - t0) / 1000;
  const queuesAssigned = consumer.assignedQueues().filter((q) => q.topic === TOPICS.consume).length;
  await closeClient(consumer);
  const bl = latencyStats(backlog.lat, backlog.done);
  return {
    case: "consume-1m",
    msgsPerSec: Math.round(unique / seconds),
    mbPerSec: round(bodyBytes / seconds / MB, 1),
    p50Ms: NaN,
    p99Ms: NaN,
    messages: unique,
    expected: n,
    duplicates: received - unique,
    timedOut,
    seconds: round(seconds, 3),
    firstMessageMs: round(firstAt - t0, 1),
    queues: queuesAssigned,
    consumeThreadNums: CONSUME_THREADS,
    pullBatchSize: PULL_BATCH,
    ...cpuFields,
    backlog: {
      msgsPerSec: backlogRate,
      window: BACKLOG_WINDOW,
      seconds: round(backlog.seconds, 3),
      p50Ms: bl.p50Ms,
      p99Ms: bl.p99Ms,
      ...backlogCpuFields,
    },
  };
}

/** --diag: the fixed-rate case's send and ack times, for attributing slow sends to pauses (see attribute()). */
let fixedTimeline: { t0: number; sendAt: Float64Array; ackAt: Float64Array; total: number } | undefined;

/**
 * --diag: for each send slower than `thresholdMs`, which pauses overlapped it: broker GC, broker blocking fs
 * call, client GC (a send may count under several). Broker times are relative to its reset, which the fixed case
 * does right before its first send, so they line up with t0 to within a pipe round trip.
 */
function attribute(diag: { broker?: Record<string, unknown> }, thresholdMs: number): object | undefined {
  const tl = fixedTimeline;
  if (!tl) return undefined;
  const b = diag.broker as {
    gcPauses?: [number, string, number][];
    slowBlockingFs?: [number, string, number][];
  };
  const sources: Record<string, [number, number][]> = {
    brokerGcMinor: [],
    brokerGcMajor: [],
    brokerFs: [],
    clientGcMinor: [],
    clientGcMajor: [],
  };
  for (const [t, kind, d] of b?.gcPauses ?? [])
    sources[kind === "minor" ? "brokerGcMinor" : "brokerGcMajor"]!.push([tl.t0 + t, tl.t0 + t + d]);
  for (const [t, , d] of b?.slowBlockingFs ?? []) sources.brokerFs!.push([tl.t0 + t, tl.t0 + t + d]);
  for (const [t, kind, d] of clientDiag.pauses)
    sources[kind === "minor" ? "clientGcMinor" : "clientGcMajor"]!.push([t, t + d]);
  const counts: Record<string, number> = { slowSends: 0, none: 0 };
  for (const k of Object.keys(sources)) counts[k] = 0;
  for (let i = 0; i < tl.total; i++) {
    const s = tl.sendAt[i]!;
    const a = tl.ackAt[i]!;
    if (!(a > 0) || a - s <= thresholdMs) continue;
    counts.slowSends!++;
    let any = false;
    for (const [k, list] of Object.entries(sources)) {
      if (list.some(([from, to]) => from < a && to > s)) {
        counts[k]!++;
        any = true;
      }
    }
    if (!any) counts.none!++;
  }
  return { thresholdMs, ...counts };
}

/**
 * Open loop: calls send(0), send(1), ... send(total - 1), each at t0 + i * intervalMs or as soon after as a 1 ms
 * timer allows (several per tick when behind), whatever the sends' latency. Resolves with the number of calls
 * after the last one, or on Ctrl-C.
 */
function openLoop(total: number, intervalMs: number, t0: number, send: (i: number) => void): Promise<number> {
  let next = 0;
  return new Promise<number>((res) => {
    const tick = (): void => {
      const due = Math.min(total, Math.floor((performance.now() - t0) / intervalMs) + 1);
      while (next < due && !interrupted) send(next++);
      if (next >= total || interrupted) res(next);
      else setTimeout(tick, 1);
    };
    tick();
  });
}

async function caseFixed(producer: Producer, namesrv: string, brokerPid: number): Promise<Result> {
  const total = Math.round(FIXED_RATE * FIXED_SECONDS);
  const intended = new Float64Array(total);
  const sendAt = new Float64Array(total);
  const ackAt = new Float64Array(total);
  const recvAt = new Float64Array(total);
  let acked = 0;
  let failed = 0;
  let firstError: string | undefined;
  let received = 0;
  let duplicates = 0;
  let resolveRecv!: () => void;
  const allReceived = new Promise<void>((r) => (resolveRecv = r));
  const consumer = new Consumer({
    ...CREDS,
    nameServer: namesrv,
    groupId: "GID_bench_fixed",
    clientIP: "127.0.0.1",
    messageModel: MessageModel.CLUSTERING,
    consumeFromWhere: "LAST",
    consumeThreadNums: CONSUME_THREADS,
    pullBatchSize: PULL_BATCH,
  });
  clientsToClose.push(consumer);
  // The body's first 4 bytes carry the message's sequence number, so the listener can find its send time.
  consumer.subscribe(TOPICS.fixed, "*", (m: ReceivedMessage) => {
    const now = performance.now();
    const seq = m.body.length >= 4 ? m.body.readUInt32BE(0) : -1;
    if (seq === WARMUP_SEQ) return Action.CommitMessage;
    if (seq >= 0 && seq < total && recvAt[seq] === 0) {
      recvAt[seq] = now;
      if (++received === total) resolveRecv();
    } else {
      duplicates++;
    }
    return Action.CommitMessage;
  });
  if (FIXED_NO_CONSUMER) {
    resolveRecv();
  } else {
    await consumer.start();
    // Let the pull loops reach the broker and park (long polling) before the first message.
    const waitUntil = performance.now() + 5000;
    while (
      consumer.assignedQueues().filter((q) => q.topic === TOPICS.fixed).length < QUEUES &&
      performance.now() < waitUntil
    ) {
      await new Promise((r) => setTimeout(r, 50));
    }
    await new Promise((r) => setTimeout(r, 500));
  }

  const interval = 1000 / FIXED_RATE;
  const fixedBody = (seq: number): Buffer => {
    const body = Buffer.allocUnsafe(BODY_BYTES);
    BODY.copy(body);
    body.writeUInt32BE(seq, 0);
    return body;
  };
  const warmupTotal = Math.round(FIXED_RATE * FIXED_WARMUP_SECONDS);
  if (warmupTotal > 0) {
    const warm: Promise<unknown>[] = [];
    await openLoop(warmupTotal, interval, performance.now(), () => {
      warm.push(producer.send(message(TOPICS.fixed, fixedBody(WARMUP_SEQ))).catch(() => undefined));
    });
    await Promise.all(warm);
    await new Promise((r) => setTimeout(r, 100));
  }

  await measureStart();
  const cpu = new CpuMeter(brokerPid);
  const t0 = performance.now();
  let resolveAcks!: () => void;
  const allAcked = new Promise<void>((r) => (resolveAcks = r));
  const onSettled = (): void => {
    if (acked + failed === total) resolveAcks();
  };
  const sent = await openLoop(total, interval, t0, (seq) => {
    const body = fixedBody(seq);
    intended[seq] = t0 + seq * interval;
    sendAt[seq] = performance.now();
    producer.send(message(TOPICS.fixed, body)).then(
      () => {
        ackAt[seq] = performance.now();
        acked++;
        onSettled();
      },
      (e: unknown) => {
        failed++;
        firstError ??= e instanceof Error ? e.message : String(e);
        onSettled();
      },
    );
  });
  const sendSeconds = (performance.now() - t0) / 1000;
  const bounded = (p: Promise<void>, ms: number): Promise<boolean> =>
    Promise.race([p.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms))]);
  const ackedAll = await bounded(allAcked, 15_000);
  const receivedAll = await bounded(allReceived, 15_000);
  const cpuFields = cpu.fields();
  await closeClient(consumer);

  const sendLat = new Float64Array(total);
  const sendLatIntended = new Float64Array(total);
  const e2eLat = new Float64Array(total);
  const e2eLatIntended = new Float64Array(total);
  let ns = 0;
  let ne = 0;
  for (let i = 0; i < total; i++) {
    if (ackAt[i]! > 0) {
      sendLat[ns] = ackAt[i]! - sendAt[i]!;
      sendLatIntended[ns++] = ackAt[i]! - intended[i]!;
    }
    if (recvAt[i]! > 0) {
      e2eLat[ne] = recvAt[i]! - sendAt[i]!;
      e2eLatIntended[ne++] = recvAt[i]! - intended[i]!;
    }
  }
  const sl = latencyStats(sendLat, ns);
  if (DIAG) fixedTimeline = { t0, sendAt, ackAt, total };
  // --diag: when the slow sends (over 5 ms) happened, grouped into episodes (ms since the first send).
  let slowEpisodes: number[][] | undefined;
  if (DIAG) {
    slowEpisodes = [];
    let cur: number[] | undefined;
    for (let i = 0; i < total; i++) {
      const l = ackAt[i]! > 0 ? ackAt[i]! - sendAt[i]! : NaN;
      if (!(l > 5)) continue;
      const at = sendAt[i]! - t0;
      if (cur && at - cur[1]! < 5) {
        cur[1] = at;
        cur[2]!++;
        cur[3] = Math.max(cur[3]!, l);
      } else {
        cur = [at, at, 1, l];
        slowEpisodes.push(cur);
      }
    }
    slowEpisodes = slowEpisodes.map((e) => [Math.round(e[0]!), Math.round(e[1]!), e[2]!, round(e[3]!, 2)]);
  }
  const si = latencyStats(sendLatIntended, ns);
  const el = latencyStats(e2eLat, ne);
  const ei = latencyStats(e2eLatIntended, ne);
  return {
    case: "send-fixed-5000",
    msgsPerSec: Math.round(sent / sendSeconds),
    mbPerSec: round((sent * BODY_BYTES) / sendSeconds / MB, 2),
    p50Ms: sl.p50Ms,
    p99Ms: sl.p99Ms,
    p999Ms: sl.p999Ms,
    maxMs: sl.maxMs,
    e2eP50Ms: el.p50Ms,
    e2eP99Ms: el.p99Ms,
    e2eP999Ms: el.p999Ms,
    e2eMaxMs: el.maxMs,
    fromIntended: {
      sendP50Ms: si.p50Ms,
      sendP99Ms: si.p99Ms,
      sendP999Ms: si.p999Ms,
      e2eP50Ms: ei.p50Ms,
      e2eP99Ms: ei.p99Ms,
      e2eP999Ms: ei.p999Ms,
    },
    targetRate: FIXED_RATE,
    ...(FIXED_NO_CONSUMER ? { consumer: false } : {}),
    messages: sent,
    acked,
    failed,
    ...(firstError ? { firstError } : {}),
    received,
    duplicates,
    ackedAll,
    receivedAll,
    seconds: round(sendSeconds, 3),
    ...cpuFields,
    ...(slowEpisodes
      ? { slowSendEpisodes: { format: "[fromMs, toMs, sends, maxMs]", list: slowEpisodes } }
      : {}),
  };
}

// ---- report -------------------------------------------------------------------------------------------------

function fmt(x: unknown): string {
  if (typeof x !== "number" || Number.isNaN(x)) return "–";
  return x >= 1000 ? Math.round(x).toLocaleString("en-US") : String(x);
}

function cpuNote(r: Record<string, unknown>): string {
  const parts = [`client ${fmt(r.clientCpuPct)} %`, `broker ${fmt(r.brokerCpuPct)} %`];
  if (r.otherCpuPct !== undefined) parts.push(`other ${fmt(r.otherCpuPct)} %`);
  if (typeof r.stealPct === "number" && r.stealPct > 0) parts.push(`steal ${fmt(r.stealPct)} %`);
  return `CPU ${parts.join(", ")}`;
}

function report(): void {
  console.log("");
  console.log("| case | msgs/s | MB/s | p50 ms | p99 ms | notes |");
  console.log("|---|---:|---:|---:|---:|---|");
  for (const r of results) {
    const notes: string[] = [];
    notes.push(`${fmt(r.messages)} msgs in ${String(r.seconds)} s`);
    if (r.p999Ms !== undefined) notes.push(`p99.9 ${fmt(r.p999Ms)} ms`);
    if (r.window) notes.push(`window ${String(r.window)}`);
    if (r.e2eP50Ms !== undefined) {
      notes.push(`e2e p50/p99/p99.9 ${fmt(r.e2eP50Ms)}/${fmt(r.e2eP99Ms)}/${fmt(r.e2eP999Ms)} ms`);
      const fi = r.fromIntended as Record<string, number>;
      notes.push(`from intended time: send p99 ${fmt(fi.sendP99Ms)} ms, e2e p99 ${fmt(fi.e2eP99Ms)} ms`);
      notes.push(`received ${fmt(r.received)}`);
    }
    if (r.case === "consume-1m") {
      const b = r.backlog as Record<string, unknown>;
      notes.push(`first message after ${String(r.firstMessageMs)} ms`);
      notes.push(`${String(r.consumeThreadNums)} consume threads, pull batch ${String(r.pullBatchSize)}`);
      if (r.duplicates) notes.push(`${fmt(r.duplicates)} duplicates`);
      notes.push(`backlog produced at ${fmt(b.msgsPerSec)} msg/s`);
    }
    if (r.failed) notes.push(`**${fmt(r.failed)} failed**`);
    if (r.timedOut) notes.push("**timed out**");
    notes.push(cpuNote(r));
    console.log(
      `| ${r.case} | ${fmt(r.msgsPerSec)} | ${fmt(r.mbPerSec)} | ${fmt(r.p50Ms)} | ${fmt(r.p99Ms)} | ${notes.join("; ")} |`,
    );
  }
  const get = (name: string): Result | undefined => results.find((r) => r.case === name);
  const checks: string[] = [];
  const pipe = get("send-256-in-flight");
  if (pipe) {
    const ok = pipe.msgsPerSec >= 60_000 && !pipe.failed;
    checks.push(`${ok ? "PASS" : "FAIL"} pipelined send ≥ 60,000 msg/s: ${fmt(pipe.msgsPerSec)} msg/s`);
  }
  const con = get("consume-1m");
  if (con) {
    const ok = con.msgsPerSec >= 150_000 && !con.timedOut;
    checks.push(
      `${ok ? "PASS" : "FAIL"} consume ≥ 150,000 msg/s: ${fmt(con.msgsPerSec)} msg/s` +
        (QUICK ? ` (--quick: ${fmt(con.expected)} messages, not 1 M)` : ""),
    );
  }
  const fx = get("send-fixed-5000");
  if (fx) {
    const rateOk = fx.msgsPerSec >= FIXED_RATE * 0.99;
    const ok = fx.p99Ms <= 2 && rateOk && !fx.failed;
    checks.push(
      `${ok ? "PASS" : "FAIL"} p99 send ≤ 2 ms at 5,000 msg/s: p99 ${fx.p99Ms} ms at ${fmt(fx.msgsPerSec)} msg/s achieved` +
        (rateOk ? "" : " (rate not achieved)"),
    );
  }
  if (checks.length > 0) {
    console.log("");
    console.log("Targets:");
    for (const c of checks) console.log(`- ${c}`);
  }
  console.log("");
  console.log(
    `Machine: ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? "?"}), ${round(os.totalmem() / GiB, 1)} GiB RAM, ` +
      `node ${process.version}, broker data in ${os.tmpdir()}` +
      (QUICK ? " (--quick: reduced sizes)" : ""),
  );
}

// ---- main ---------------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const avail = ((st) => st.bavail * st.bsize)(fs.statfsSync(os.tmpdir()));
  const need =
    (CONSUME_MESSAGES + PIPE_MESSAGES + SEND1_MAX + WARMUP_MESSAGES + FIXED_RATE * FIXED_SECONDS) * 1300;
  if (avail < need * 2)
    throw new Error(`need about ${round((need * 2) / GiB, 1)} GiB free in ${os.tmpdir()}`);
  root = fs.mkdtempSync(join(os.tmpdir(), "rmq-bench-remoting-"));
  const server = await startServer(join(root, "broker"));

  const producer = newProducer(server.namesrv, "GID_bench_producer");
  await producer.start();
  // Warm-up (not reported): route lookup, connection, JIT of both processes' send paths.
  const wu = await sendWindowed(producer, TOPICS.warmup, WARMUP_MESSAGES, WINDOW, 60, "warm-up");
  for (let i = 0; i < 500; i++) await producer.send(message(TOPICS.warmup));
  if (wu.failed > 0) throw new Error(`warm-up: ${wu.failed} sends failed: ${wu.firstError}`);
  // One send to each measured topic, so that no measured send pays for a NameServer lookup. (The consume topic's
  // lookup falls into the backlog phase.) The fixed-rate topic's message carries the sequence number 0xFFFFFFFF,
  // which that case's listener skips.
  await producer.send(message(TOPICS.send1));
  await producer.send(message(TOPICS.send256));
  const marker = Buffer.from(BODY);
  marker.writeUInt32BE(WARMUP_SEQ, 0);
  await producer.send(message(TOPICS.fixed, marker));
  progress(`warm-up done (${WARMUP_MESSAGES + 500} messages)`);

  if (DIAG) clientDiag.start();
  const run = async (name: (typeof CASES)[number], f: () => Promise<Result>): Promise<void> => {
    if (!wanted(name)) return;
    if (name !== "consume-1m" && name !== "send-fixed-5000") await measureStart();
    const r = await f();
    await profStop(name);
    const diag = (await diagStats()) as { broker?: Record<string, unknown> } | undefined;
    if (diag && name === "send-fixed-5000") {
      Object.assign(diag, { slowSendOverlaps: [attribute(diag, 2), attribute(diag, 5)] });
    }
    emit(diag ? { ...r, diag } : r);
  };
  await run("send-1-in-flight", () => caseSend1(producer, server.pid));
  await run("send-256-in-flight", () => caseSend256(producer, server.pid));
  await run("consume-1m", () => caseConsume(producer, server.namesrv, server.pid));
  await run("send-fixed-5000", () => caseFixed(producer, server.namesrv, server.pid));

  const brokerRss = peakRssMb(server.pid);
  await closeClient(producer);
  report();
  if (brokerRss !== undefined)
    console.log(
      `Broker child peak RSS ${brokerRss} MB; client peak RSS ${round(process.resourceUsage().maxRSS / 1024, 1)} MB.`,
    );
}

main().then(
  () => shutdownAndExit(0),
  (e: unknown) => {
    if (!interrupted) console.error(e instanceof Error ? (e.stack ?? e.message) : e);
    return shutdownAndExit(1);
  },
);
