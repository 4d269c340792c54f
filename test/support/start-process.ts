// `start` as a user runs it (NameServer, remoting, gRPC and HTTP in one child process), for tests where the process
// itself is the point: a kill and a restart on the same data and ports, a file it watches, what it prints.
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { freePort } from "./free-port.js";
import { tempDir } from "./temp-dir.js";

const main = fileURLToPath(new URL("../../src/cli/main.js", import.meta.url));

export interface StartPorts {
  namesrv: number;
  broker: number;
  grpc: number;
  http: number;
}

export async function freeStartPorts(): Promise<StartPorts> {
  return {
    namesrv: await freePort(),
    broker: await freePort(),
    grpc: await freePort(),
    http: await freePort(),
  };
}

export interface StartProcess {
  child: ChildProcess;
  /** Everything it printed so far, stdout and stderr. */
  output(): string;
  /** SIGKILL; resolves once it has exited. */
  kill(): Promise<void>;
}

/** `start --data-dir dataDir` on 127.0.0.1 and `ports`, plus `args`; resolves once it printed its ready line. */
export async function startProcess(
  dataDir: string,
  ports: StartPorts,
  args: string[] = [],
): Promise<StartProcess> {
  const child = spawn(
    process.execPath,
    [
      main,
      "start",
      "--data-dir",
      dataDir,
      "--host",
      "127.0.0.1",
      "--namesrv-port",
      String(ports.namesrv),
      "--broker-port",
      String(ports.broker),
      "--grpc-port",
      String(ports.grpc),
      "--http-port",
      String(ports.http),
      ...args,
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let out = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr.on("data", (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  const kill = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    await exited;
  };
  const deadline = Date.now() + 20_000;
  while (!out.includes("ready")) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await kill();
      throw new Error(`start did not get ready:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { child, output: () => out, kill };
}

/** `start` on free ports with its data in a temp dir, for a test that kills and restarts it (see startForCrash). */
export interface CrashableStart {
  ports: StartPorts;
  /** Shut down by the test's after hook, last added first, before the process is killed. */
  closers: (() => Promise<unknown>)[];
  /** SIGKILL. */
  kill(): Promise<void>;
  /** Starts it again on the same data and ports. */
  restart(): Promise<void>;
  /** A call to the admin API on the HTTP port (e.g. POST /topics, PUT /groups/G); a status other than 200 throws. */
  admin(method: "POST" | "PUT", path: string, body: object): Promise<void>;
}

export async function startForCrash(
  t: { after: (f: () => Promise<void>) => void },
  prefix: string,
  args: string[] = [],
): Promise<CrashableStart> {
  const { dir, cleanup } = tempDir(prefix);
  const ports = await freeStartPorts();
  const data = join(dir, "data");
  let proc = await startProcess(data, ports, args);
  const closers: (() => Promise<unknown>)[] = [];
  t.after(async () => {
    for (const c of closers.reverse()) await c().catch(() => undefined);
    // The official gRPC client's shutdown half-closes its telemetry stream and drops the stream's listeners at
    // once; a kill before the broker has finished that call resets it, and the client throws the error, which
    // has no listener left, in the test's process.
    await delay(1000);
    await proc.kill();
    cleanup();
  });
  return {
    ports,
    closers,
    kill: () => proc.kill(),
    restart: async () => {
      proc = await startProcess(data, ports, args);
    },
    admin: async (method, path, body) => {
      const res = await fetch(`http://127.0.0.1:${ports.http}/admin${path}`, {
        method,
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
      if (res.status !== 200) throw new Error(`${method} /admin${path}: ${res.status} ${await res.text()}`);
    },
  };
}
