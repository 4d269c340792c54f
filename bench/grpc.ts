// End-to-end benchmark of the gRPC endpoint with the official RocketMQ 5.x Node.js client
// (rocketmq-client-nodejs) on loopback. The NameServer + broker run in a child process (bench/remoting-server.ts,
// default broker configuration, async flush, topics with 8 queues created up front, data in a temp dir removed
// at the end); the client runs here. 1 KiB bodies, tag "TagA". The client sends one message per SendMessage and
// acks one message per AckMessage: that is its protocol, so the figures are per RPC.
//
//   node dist/bench/grpc.js              full run (npm run bench builds first)
//   node dist/bench/grpc.js --quick      smaller sizes
//   options: --only <case>[,<case>]  --window <n> (pipelined sends in flight, default 64)
//            --receivers <n> (concurrent receive loops, default 4)
//            --server-node-args "<node flags>" (for the broker child, e.g. "--cpu-prof --cpu-prof-dir /tmp/p")
//
// Cases:
//   grpc-send-1-in-flight   await each send (5,000 messages or 10 s, after 4,000 warm-up sends)
//   grpc-send-pipelined     <window> sends outstanding, refilled as they resolve (50,000 messages)
//   grpc-receive-ack        a 50,000-message backlog sent first (pipelined), then one SimpleConsumer with
//                           <receivers> loops of receive(32) + one ack per message, until every message is acked;
//                           latency is per receive call
//
// Output: one JSON line per case, then a Markdown table. MB = 10^6 bytes of bodies. clientCpuPct and
// brokerCpuPct are the CPU time of this process and of the broker child over wall time (100 % = one core).
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { emit, flag, numOption, option, percentile, procCpuMs, results, round } from "./bench-util.js";

const CASES = ["grpc-send-1-in-flight", "grpc-send-pipelined", "grpc-receive-ack"] as const;
const QUICK = flag("--quick");
const ONLY = option("--only")?.split(",");
for (const c of ONLY ?? [])
  if (!(CASES as readonly string[]).includes(c))
    throw new Error(`--only: unknown case ${c} (${CASES.join(", ")})`);
const WINDOW = numOption("--window", 64);
const RECEIVERS = numOption("--receivers", 4);
const SEND1_MAX = QUICK ? 1_000 : 5_000;
const SEND1_SECONDS = QUICK ? 3 : 10;
/**
 * Sends before send-1 measures. A broker fresh from start-up takes several thousand one-at-a-time calls before
 * V8 has optimized the gRPC path (session 15: 373, then 728-899 msg/s in 5 s windows); 500 measured part of that.
 */
const SEND1_WARMUP = QUICK ? 500 : 4_000;
const PIPE_MESSAGES = QUICK ? 10_000 : 50_000;
const BACKLOG = QUICK ? 10_000 : 50_000;
const BODY = Buffer.alloc(1024, 0x61);
const TOPICS = { send1: "GrpcBenchSend1", pipe: "GrpcBenchPipe", recv: "GrpcBenchRecv" };

// The client's default logger writes under $HOME: keep it in the temp dir.
const root = mkdtempSync(join(tmpdir(), "rmq-grpc-bench-"));
process.env.HOME = root;
type ClientModule = typeof import("rocketmq-client-nodejs");
const rmq = createRequire(import.meta.url)("rocketmq-client-nodejs") as ClientModule;
type Producer = InstanceType<ClientModule["Producer"]>;
const quiet = { info() {}, warn() {}, error() {}, debug() {} };

let child: ChildProcess | undefined;

function progress(s: string): void {
  process.stderr.write(`  ${s}\n`);
}

async function startServer(): Promise<{ grpc: string; pid: number }> {
  const here = dirname(fileURLToPath(import.meta.url));
  const args = [
    join(here, "remoting-server.js"),
    ...["--data-dir", join(root, "data"), "--queues", "8", "--topics", Object.values(TOPICS).join(",")],
    ...["--remove-on-orphan", root],
  ];
  const extra = option("--server-node-args");
  if (extra) args.unshift(...extra.split(" ").filter((a) => a.length > 0));
  const c = spawn(process.execPath, args, { stdio: ["pipe", "pipe", "inherit"] });
  child = c;
  const ready = await new Promise<{ grpcPort: number }>((resolve, reject) => {
    let buf = "";
    c.stdout!.setEncoding("utf8");
    c.stdout!.on("data", (d: string) => {
      buf += d;
      const line = buf.split("\n").find((l) => l.startsWith("ready "));
      if (line) resolve(JSON.parse(line.slice(6)) as { grpcPort: number });
    });
    c.once("exit", () => reject(new Error("broker child exited before it was ready")));
  });
  progress(`broker child pid ${c.pid}: gRPC 127.0.0.1:${ready.grpcPort}`);
  return { grpc: `127.0.0.1:${ready.grpcPort}`, pid: c.pid! };
}

async function stopServer(): Promise<void> {
  const c = child;
  if (!c || c.exitCode !== null || c.signalCode !== null) return;
  const exited = new Promise<void>((r) => c.once("exit", () => r()));
  c.kill("SIGTERM");
  await exited;
}

function latencies(lat: number[]): { p50Ms: number; p99Ms: number; p999Ms: number } {
  const s = Float64Array.from(lat).sort();
  return {
    p50Ms: round(percentile(s, 50), 3),
    p99Ms: round(percentile(s, 99), 3),
    p999Ms: round(percentile(s, 99.9), 3),
  };
}

let brokerPid = 0;

/** CPU of this process and of the broker child over a measured phase, % of one core. */
function cpuMeter(): () => { clientCpuPct: number; brokerCpuPct: number | undefined } {
  const t0 = performance.now();
  const self0 = process.cpuUsage();
  const broker0 = procCpuMs(brokerPid);
  return () => {
    const wall = performance.now() - t0;
    const d = process.cpuUsage(self0);
    const b1 = procCpuMs(brokerPid);
    const pct = (ms: number) => round((ms / wall) * 100, 1);
    return {
      clientCpuPct: pct((d.user + d.system) / 1000),
      brokerCpuPct: b1 !== undefined && broker0 !== undefined ? pct(b1 - broker0) : undefined,
    };
  };
}

async function newProducer(endpoints: string, topic: string): Promise<Producer> {
  const p = new rmq.Producer({ endpoints, namespace: "", topic, logger: quiet });
  await p.startup();
  return p;
}

/** `n` sends with `window` in flight; returns each send's latency. */
async function sendWindowed(p: Producer, topic: string, n: number, window: number): Promise<number[]> {
  const lat: number[] = [];
  let next = 0;
  const worker = async () => {
    while (next < n) {
      next++;
      const t = performance.now();
      await p.send({ topic, tag: "TagA", body: BODY });
      lat.push(performance.now() - t);
    }
  };
  await Promise.all(Array.from({ length: Math.min(window, n) }, worker));
  return lat;
}

async function caseSend1(endpoints: string): Promise<void> {
  const p = await newProducer(endpoints, TOPICS.send1);
  await sendWindowed(p, TOPICS.send1, SEND1_WARMUP, 1);
  const lat: number[] = [];
  const cpu = cpuMeter();
  const t0 = performance.now();
  while (lat.length < SEND1_MAX && performance.now() - t0 < SEND1_SECONDS * 1000) {
    const t = performance.now();
    await p.send({ topic: TOPICS.send1, tag: "TagA", body: BODY });
    lat.push(performance.now() - t);
  }
  const ms = performance.now() - t0;
  const usage = cpu();
  await p.shutdown();
  emit({
    case: "grpc-send-1-in-flight",
    msgsPerSec: Math.round(lat.length / (ms / 1000)),
    mbPerSec: round((lat.length * BODY.length) / (ms / 1000) / 1e6, 2),
    ...latencies(lat),
    messages: lat.length,
    seconds: round(ms / 1000, 3),
    ...usage,
  });
}

async function caseSendPipelined(endpoints: string): Promise<void> {
  const p = await newProducer(endpoints, TOPICS.pipe);
  await sendWindowed(p, TOPICS.pipe, 2_000, WINDOW); // warm-up
  const cpu = cpuMeter();
  const t0 = performance.now();
  const lat = await sendWindowed(p, TOPICS.pipe, PIPE_MESSAGES, WINDOW);
  const ms = performance.now() - t0;
  const usage = cpu();
  await p.shutdown();
  emit({
    case: "grpc-send-pipelined",
    msgsPerSec: Math.round(lat.length / (ms / 1000)),
    mbPerSec: round((lat.length * BODY.length) / (ms / 1000) / 1e6, 2),
    ...latencies(lat),
    messages: lat.length,
    window: WINDOW,
    seconds: round(ms / 1000, 3),
    ...usage,
  });
}

async function caseReceiveAck(endpoints: string): Promise<void> {
  const p = await newProducer(endpoints, TOPICS.recv);
  progress(`sending a backlog of ${BACKLOG} messages`);
  await sendWindowed(p, TOPICS.recv, BACKLOG, WINDOW);
  await p.shutdown();
  const consumer = new rmq.SimpleConsumer({
    endpoints,
    namespace: "",
    consumerGroup: "GID_GRPC_BENCH",
    subscriptions: new Map([[TOPICS.recv, "*"]]),
    awaitDuration: 1000,
    logger: quiet,
  });
  await consumer.startup();
  const lat: number[] = [];
  let acked = 0;
  let emptyPolls = 0;
  const cpu = cpuMeter();
  const t0 = performance.now();
  const loop = async () => {
    while (acked < BACKLOG && emptyPolls < 5) {
      const t = performance.now();
      const got = await consumer.receive(32, 60_000);
      lat.push(performance.now() - t);
      if (got.length === 0) emptyPolls++;
      await Promise.all(got.map((m) => consumer.ack(m)));
      acked += got.length;
    }
  };
  await Promise.all(Array.from({ length: RECEIVERS }, loop));
  const ms = performance.now() - t0;
  const usage = cpu();
  await consumer.shutdown();
  emit({
    case: "grpc-receive-ack",
    msgsPerSec: Math.round(acked / (ms / 1000)),
    mbPerSec: round((acked * BODY.length) / (ms / 1000) / 1e6, 2),
    ...latencies(lat),
    messages: acked,
    complete: acked >= BACKLOG,
    receivers: RECEIVERS,
    receiveCalls: lat.length,
    seconds: round(ms / 1000, 3),
    ...usage,
  });
}

function report(): void {
  console.log("");
  console.log("| case | msgs/s | MB/s | p50 ms | p99 ms | notes |");
  console.log("|---|---:|---:|---:|---:|---|");
  for (const r of results) {
    const notes = [
      `${String(r.messages)} msgs in ${String(r.seconds)} s`,
      `CPU client ${String(r.clientCpuPct)} %, broker ${String(r.brokerCpuPct)} %`,
    ];
    if (r.window) notes.push(`window ${String(r.window)}`);
    if (r.receivers) notes.push(`${String(r.receivers)} receive loops, ${String(r.receiveCalls)} receives`);
    console.log(
      `| ${r.case} | ${r.msgsPerSec} | ${r.mbPerSec} | ${r.p50Ms} | ${r.p99Ms} | ${notes.join("; ")} |`,
    );
  }
}

async function main(): Promise<void> {
  const server = await startServer();
  brokerPid = server.pid;
  const want = (c: (typeof CASES)[number]) => !ONLY || ONLY.includes(c);
  if (want("grpc-send-1-in-flight")) await caseSend1(server.grpc);
  if (want("grpc-send-pipelined")) await caseSendPipelined(server.grpc);
  if (want("grpc-receive-ack")) await caseReceiveAck(server.grpc);
  report();
}

main()
  .then(
    () => 0,
    (e: unknown) => {
      console.error(e);
      return 1;
    },
  )
  .then(async (code) => {
    await stopServer().catch(() => undefined);
    rmSync(root, { recursive: true, force: true });
    // The client's logger keeps timers alive after shutdown: exit explicitly.
    process.exit(code);
  });
