// Child process of bench/remoting.ts: a NameServer and a broker in one process on 127.0.0.1, with the broker's
// default configuration (as `rocketmq-ts start` uses it: async flush, 1 GiB segments) and a given data dir.
// Creates the benchmark topics, waits until the NameServer routes them, then prints one line
// `ready {"namesrvPort":…,"brokerPort":…,"grpcPort":…,"pid":…}` on stdout. Stops cleanly (broker, then
// NameServer) on SIGTERM/SIGINT, or when its stdin closes (the parent went away), then exits. Warnings and errors
// go to stderr.
//
//   node dist/bench/remoting-server.js --data-dir <dir> [--namesrv-port 0] [--broker-port 0] [--grpc-port 0]
//        [--topics A,B:16] [--queues 8] [--flush-mode async|sync] [--diag] [--remove-on-orphan <dir>]
//        [--broker-role ASYNC_MASTER|SYNC_MASTER]
//   node dist/bench/remoting-server.js --data-dir <dir> --slave-of <master HA host:port>
//        a slave broker only (no NameServer), replicating from that master; its ready line has no namesrvPort
//
// With --diag (diagnostics, off for the reported numbers), the process also records its event-loop delay, GC
// pauses and the time spent in blocking fs calls (the *Sync functions, wrapped through node:fs), and answers
// the stdin commands `reset` (start counting afresh) and `stats` (prints one line `stats {…}` on stdout).
// Profiling (any time): `prof-start` starts the V8 CPU profiler, `prof-stop <file>` writes a .cpuprofile and
// prints `profiled <file>`. Likewise `heap-start` / `heap-stop <file>` for sampled allocations (collected
// objects included), written as a .heapprofile.
import { join } from "node:path";
import { tlsMaterialLoader } from "../src/server/tls-material.js";
import { rmSync, writeFileSync } from "node:fs";
import { Session } from "node:inspector";
import { createRequire, syncBuiltinESMExports } from "node:module";
import { PerformanceObserver, monitorEventLoopDelay, performance } from "node:perf_hooks";
import { createInterface } from "node:readline";
import { createNamesrv } from "../src/namesrv/namesrv.js";
import type { RemotingLogger } from "../src/protocol/remoting/logger.js";
import { createBroker } from "../src/server/create-broker.js";
import { topicConfig } from "../src/common/topic.js";

const argv = process.argv.slice(2);
function option(name: string): string | undefined {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
}
function intOption(name: string, dflt: number): number {
  const v = option(name);
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} needs a non-negative integer, got ${v}`);
  return n;
}

const dataDir = option("--data-dir");
if (!dataDir) throw new Error("--data-dir is required");
const namesrvPort = intOption("--namesrv-port", 0);
const brokerPort = intOption("--broker-port", 0);
const grpcPort = intOption("--grpc-port", 0);
const queues = intOption("--queues", 8);
// "name" or "name:queues" (that topic's own queue count instead of --queues).
const topicSpecs = (option("--topics") ?? "")
  .split(",")
  .filter((t) => t.length > 0)
  .map((t) => {
    const [name, n] = t.split(":");
    return { name: name!, queues: n === undefined ? undefined : Number(n) };
  });
const topics = topicSpecs.map((t) => t.name);
const flushMode = option("--flush-mode") ?? "async";
if (flushMode !== "async" && flushMode !== "sync")
  throw new Error(`--flush-mode async|sync, got ${flushMode}`);
const DIAG = argv.includes("--diag");
const brokerRole = option("--broker-role") ?? "ASYNC_MASTER";
if (brokerRole !== "ASYNC_MASTER" && brokerRole !== "SYNC_MASTER")
  throw new Error(`--broker-role ASYNC_MASTER|SYNC_MASTER, got ${brokerRole}`);
const slaveOf = option("--slave-of");
/** Removed after a stop caused by the parent going away (its temp dir, which it can no longer remove). */
const orphanDir = option("--remove-on-orphan");

// ---- diagnostics (--diag) -----------------------------------------------------------------------------------

interface CallStat {
  calls: number;
  totalMs: number;
  maxMs: number;
}
const syncCalls = new Map<string, CallStat>();
/** Blocking calls over 1 ms: [ms since reset (start), name, duration ms]. */
let slowCalls: [number, string, number][] = [];
/** GC pauses over 1 ms: [ms since reset (start), kind, duration ms]. */
let gcPauses: [number, string, number][] = [];
const GC_KINDS: Record<number, string> = { 1: "minor", 4: "major", 8: "incremental", 16: "weakcb" };
const gcStat = { count: 0, totalMs: 0, maxMs: 0 };
let since = performance.now();
const eld = monitorEventLoopDelay({ resolution: 5 });

function recordSync(name: string, ms: number): void {
  let st = syncCalls.get(name);
  if (!st) {
    st = { calls: 0, totalMs: 0, maxMs: 0 };
    syncCalls.set(name, st);
  }
  st.calls++;
  st.totalMs += ms;
  if (ms > st.maxMs) st.maxMs = ms;
  if (ms > 1 && slowCalls.length < 1000) slowCalls.push([performance.now() - ms - since, name, ms]);
}

function resetDiag(): void {
  syncCalls.clear();
  slowCalls = [];
  gcPauses = [];
  gcStat.count = gcStat.totalMs = gcStat.maxMs = 0;
  eld.reset();
  since = performance.now();
}

function diagStats(): object {
  const r = (x: number): number => Math.round(x * 1000) / 1000;
  const calls: Record<string, CallStat> = {};
  for (const [k, v] of syncCalls) calls[k] = { calls: v.calls, totalMs: r(v.totalMs), maxMs: r(v.maxMs) };
  return {
    seconds: r((performance.now() - since) / 1000),
    eventLoopDelayMs: {
      p50: r(eld.percentile(50) / 1e6),
      p99: r(eld.percentile(99) / 1e6),
      max: r(eld.max / 1e6),
      resolutionMs: 5,
    },
    gc: { count: gcStat.count, totalMs: r(gcStat.totalMs), maxMs: r(gcStat.maxMs) },
    blockingFs: calls,
    slowBlockingFs: slowCalls.map(([t, n, ms]) => [r(t), n, r(ms)]),
    gcPauses: gcPauses.map(([t, n, ms]) => [r(t), n, r(ms)]),
  };
}

if (DIAG) {
  const fsCjs = createRequire(import.meta.url)("node:fs") as Record<string, unknown>;
  for (const name of [
    "fdatasyncSync",
    "fsyncSync",
    "writeSync",
    "writeFileSync",
    "openSync",
    "closeSync",
    "renameSync",
    "readSync",
    "ftruncateSync",
    "unlinkSync",
  ]) {
    const orig = fsCjs[name] as (...a: unknown[]) => unknown;
    fsCjs[name] = function (this: unknown, ...a: unknown[]): unknown {
      const t = performance.now();
      try {
        return orig.apply(this, a);
      } finally {
        recordSync(name, performance.now() - t);
      }
    };
  }
  // Make `import * as fs from "node:fs"` in src/ see the wrappers.
  syncBuiltinESMExports();
  eld.enable();
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      gcStat.count++;
      gcStat.totalMs += e.duration;
      if (e.duration > gcStat.maxMs) gcStat.maxMs = e.duration;
      if (e.duration > 1 && gcPauses.length < 1000) {
        const kind = (e as unknown as { detail?: { kind?: number } }).detail?.kind ?? 0;
        gcPauses.push([e.startTime - since, GC_KINDS[kind] ?? String(kind), e.duration]);
      }
    }
  }).observe({ entryTypes: ["gc"] });
}

/** Warnings and errors to stderr (stdout carries only the ready line); debug and info are dropped. */
function stderrLogger(name: string): RemotingLogger {
  const out =
    (level: string) =>
    (obj: object, msg?: string): void => {
      process.stderr.write(`[${name}] ${level} ${msg ?? ""} ${JSON.stringify(obj)}\n`);
    };
  const noop = (): void => {};
  return { debug: noop, info: noop, warn: out("WARN"), error: out("ERROR") };
}

// As `start` runs them: the NameServer and the broker take TLS beside plaintext with one self-signed pair.
const tlsMaterial = tlsMaterialLoader({ certPath: "", keyPath: "", dir: join(dataDir, "tls"), hosts: [] });
const ns = slaveOf
  ? undefined
  : createNamesrv({
      host: "127.0.0.1",
      port: namesrvPort,
      autoCreateQueueNums: queues,
      logger: stderrLogger("namesrv"),
      tls: { mode: "permissive", material: tlsMaterial },
    });
await ns?.start();
const broker = createBroker(
  {
    dataDir,
    port: brokerPort,
    grpcPort,
    listenHost: "127.0.0.1",
    advertisedHost: "127.0.0.1",
    namesrvAddrs: ns ? [`127.0.0.1:${ns.port}`] : [],
    defaultTopicQueueNums: queues,
    store: { flushMode },
    ...(slaveOf ? { brokerId: 1, haMasterAddress: slaveOf } : { brokerRole }),
    ...(argv.includes("--acl")
      ? {
          acl: {
            accounts: [
              {
                accessKey: "bench",
                secretKey: "bench-secret",
                defaultTopicPerm: "PUB|SUB",
                defaultGroupPerm: "SUB",
              },
            ],
            globalWhiteRemoteAddresses: [],
            statefulAuthentication: argv.includes("--acl-stateful"),
          },
        }
      : {}),
  },
  { logger: stderrLogger(slaveOf ? "slave" : "broker"), tlsMaterial },
);

let stopping = false;
async function stop(why: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  const guard = setTimeout(() => {
    process.stderr.write(`[bench-server] stop took over 15 s (${why}); exiting\n`);
    process.exit(1);
  }, 15_000);
  let code = 0;
  try {
    await broker.stop();
  } catch (e) {
    code = 1;
    process.stderr.write(`[bench-server] broker stop failed: ${String(e)}\n`);
  }
  try {
    await ns?.stop();
  } catch (e) {
    code = 1;
    process.stderr.write(`[bench-server] namesrv stop failed: ${String(e)}\n`);
  }
  clearTimeout(guard);
  // process.exit (not a natural exit) so that --cpu-prof still writes its profile even if a handle lingers.
  // Orphaned (the parent is gone and cannot clean up): remove the temp dir it named.
  if (why === "stdin closed" && orphanDir) rmSync(orphanDir, { recursive: true, force: true });
  process.exit(code);
}
process.on("SIGTERM", () => void stop("SIGTERM"));
process.on("SIGINT", () => void stop("SIGINT"));
// The parent holds our stdin open; when it ends, the parent is gone (even if it was killed with SIGKILL).
process.stdin.on("end", () => void stop("stdin closed"));
process.stdin.on("error", () => void stop("stdin error"));
process.stdin.resume();
let prof: Session | undefined;
let heapProf: Session | undefined;
createInterface({ input: process.stdin }).on("line", (line) => {
  if (line === "reset") resetDiag();
  else if (line === "stats") process.stdout.write(`stats ${JSON.stringify(DIAG ? diagStats() : {})}\n`);
  else if (line === "prof-start" && !prof) {
    prof = new Session();
    prof.connect();
    prof.post("Profiler.enable", () =>
      prof?.post("Profiler.setSamplingInterval", { interval: 1000 }, () => prof?.post("Profiler.start")),
    );
  } else if ((line === "heap-start" || line === "heap-start-survivors") && !heapProf) {
    const survivorsOnly = line === "heap-start-survivors";
    heapProf = new Session();
    heapProf.connect();
    heapProf.post("HeapProfiler.enable", () =>
      heapProf?.post("HeapProfiler.startSampling", {
        samplingInterval: 16384,
        includeObjectsCollectedByMajorGC: true,
        includeObjectsCollectedByMinorGC: !survivorsOnly,
      } as object),
    );
  } else if (line.startsWith("heap-stop ") && heapProf) {
    const file = line.slice(10);
    const s = heapProf;
    heapProf = undefined;
    s.post("HeapProfiler.stopSampling", (err, r) => {
      if (!err) writeFileSync(file, JSON.stringify(r.profile));
      s.disconnect();
      process.stdout.write(`profiled ${err ? "error " + String(err) : file}\n`);
    });
  } else if (line.startsWith("prof-stop ") && prof) {
    const file = line.slice(10);
    const s = prof;
    prof = undefined;
    s.post("Profiler.stop", (err, r) => {
      if (!err) writeFileSync(file, JSON.stringify(r.profile));
      s.disconnect();
      process.stdout.write(`profiled ${err ? "error " + String(err) : file}\n`);
    });
  }
});

await broker.start();
const deadline = Date.now() + 15_000;
if (ns) {
  for (const t of topicSpecs) broker.broker.createTopic(topicConfig(t.name, t.queues ?? queues));
  while (!topics.every((t) => ns.registry.getTopicRoute(t) !== undefined)) {
    if (Date.now() > deadline) throw new Error(`topics ${topics.join(",")} not routed after 15 s`);
    await new Promise((r) => setTimeout(r, 20));
  }
} else {
  while (!broker.replica?.connected) {
    if (Date.now() > deadline) throw new Error(`slave not connected to ${slaveOf} after 15 s`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
process.stdout.write(
  `ready ${JSON.stringify({ namesrvPort: ns?.port ?? 0, brokerPort: broker.port, grpcPort: broker.grpcPort, haPort: broker.haPort, pid: process.pid })}\n`,
);
