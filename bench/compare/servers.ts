// The servers bench:compare measures, each started here bound to 127.0.0.1 with its data in a temp dir:
// Redis (AOF everysec / always), NATS JetStream (file store), RabbitMQ (quorum queues) and our broker (async /
// sync flush, bench/remoting-server.ts). A server that is not up within its time limit is skipped, with the reason.
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  firstLine,
  freePort,
  lastLines,
  log,
  portOpen,
  start,
  stop,
  tempDir,
  track,
  waitFor,
  which,
} from "./procs.js";

export interface Server {
  /** Root of the process tree whose CPU is the server's. */
  pid: number;
  port: number;
  /** Our broker's gRPC port (ours only). */
  grpcPort?: number;
  version: string;
  stop(): Promise<void>;
}

const PACKAGES: Record<string, string> = {
  "redis-server": "redis-server",
  "nats-server": "nats-server",
  "rabbitmq-server": "/usr/lib/rabbitmq/bin/rabbitmq-server",
};

/** Installs the missing peers from Debian's packages (apt-get update once, then install); returns what failed. */
export function installMissing(): string[] {
  const missing = Object.entries(PACKAGES)
    .filter(([, bin]) => !(bin.startsWith("/") ? fs.existsSync(bin) : which(bin)))
    .map(([pkg]) => pkg);
  if (missing.length === 0) {
    log("peers: rabbitmq-server, nats-server, redis-server already installed");
    return [];
  }
  log(`peers: installing ${missing.join(", ")} (apt-get update, apt-get install -y ${missing.join(" ")})`);
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  const opts = {
    stdio: ["ignore", "inherit", "inherit"] as ["ignore", "inherit", "inherit"],
    env,
    timeout: 600_000,
  };
  // Output to stderr: stdout carries only the JSON lines.
  const up = spawnSync("sh", ["-c", "apt-get update 1>&2"], opts);
  if (up.status !== 0) log(`apt-get update failed (status ${up.status})`);
  const inst = spawnSync("sh", ["-c", `apt-get install -y ${missing.join(" ")} 1>&2`], opts);
  if (inst.status !== 0) log(`apt-get install failed (status ${inst.status})`);
  return missing.filter((p) => {
    const bin = PACKAGES[p]!;
    return !(bin.startsWith("/") ? fs.existsSync(bin) : which(bin));
  });
}

export async function startRedis(fsync: "everysec" | "always", seconds: number): Promise<Server> {
  const dir = tempDir(`cmp-redis-${fsync}-`);
  const port = await freePort();
  const logFile = join(dir, "redis.log");
  // Arguments as a config on the command line; the AOF rewrites (fork) are left on, as in production.
  const s = start(
    `redis-${fsync}`,
    "redis-server",
    [
      "--bind",
      "127.0.0.1",
      "--port",
      String(port),
      "--protected-mode",
      "yes",
      "--daemonize",
      "no",
      "--dir",
      dir,
      "--save",
      "",
      "--appendonly",
      "yes",
      "--appendfsync",
      fsync,
    ],
    logFile,
  );
  if (!(await waitFor(() => portOpen(port), seconds, s))) {
    await stop(s);
    throw new Error(`redis-${fsync} not up in ${seconds} s: ${lastLines(logFile, 3)}`);
  }
  return { pid: s.child.pid!, port, version: firstLine("redis-server", ["--version"]), stop: () => stop(s) };
}

export async function startNats(seconds: number): Promise<Server> {
  const dir = tempDir("cmp-nats-");
  const port = await freePort();
  const logFile = join(dir, "nats.log");
  const s = start("nats", "nats-server", ["-a", "127.0.0.1", "-p", String(port), "-js", "-sd", dir], logFile);
  if (!(await waitFor(() => portOpen(port), seconds, s))) {
    await stop(s);
    throw new Error(`nats-server not up in ${seconds} s: ${lastLines(logFile, 3)}`);
  }
  return { pid: s.child.pid!, port, version: firstLine("nats-server", ["--version"]), stop: () => stop(s) };
}

/**
 * RabbitMQ started directly (not as a service): node name, ports, mnesia and logs in a temp dir, AMQP and Erlang
 * distribution on 127.0.0.1, no plugins. epmd: an existing one is reused (we do not own it); otherwise we start
 * one on 127.0.0.1 in the foreground and stop it by pid. Schedulers do not busy-wait (+sbwt none), so an idle
 * RabbitMQ does not take CPU from the other systems on this shared 2-core machine.
 */
export async function startRabbit(seconds: number): Promise<Server> {
  const dir = tempDir("cmp-rabbit-");
  const port = await freePort();
  const distPort = await freePort();
  const epmdUp = await portOpen(4369);
  let epmd: ReturnType<typeof start> | undefined;
  if (epmdUp) log("rabbitmq: an epmd is already listening on 127.0.0.1:4369; using it (not ours to stop)");
  else {
    epmd = start("epmd", "epmd", ["-address", "127.0.0.1", "-port", "4369"], join(dir, "epmd.log"));
    if (!(await waitFor(() => portOpen(4369), 10, epmd))) {
      await stop(epmd);
      throw new Error(`epmd not up in 10 s: ${lastLines(join(dir, "epmd.log"), 3)}`);
    }
  }
  fs.writeFileSync(
    join(dir, "rabbitmq.conf"),
    `listeners.tcp.default = 127.0.0.1:${port}\nloopback_users.guest = true\n`,
  );
  fs.writeFileSync(join(dir, "enabled_plugins"), "[].\n");
  fs.writeFileSync(join(dir, "rabbitmq-env.conf"), "");
  const node = `cmpbench${process.pid}@localhost`;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    HOME: dir,
    RABBITMQ_NODENAME: node,
    RABBITMQ_NODE_IP_ADDRESS: "127.0.0.1",
    RABBITMQ_NODE_PORT: String(port),
    RABBITMQ_DIST_PORT: String(distPort),
    RABBITMQ_MNESIA_BASE: join(dir, "mnesia"),
    RABBITMQ_LOG_BASE: join(dir, "log"),
    RABBITMQ_CONFIG_FILE: join(dir, "rabbitmq.conf"),
    RABBITMQ_ENABLED_PLUGINS_FILE: join(dir, "enabled_plugins"),
    RABBITMQ_CONF_ENV_FILE: join(dir, "rabbitmq-env.conf"),
    RABBITMQ_PID_FILE: join(dir, "rabbit.pid"),
    ERL_EPMD_ADDRESS: "127.0.0.1",
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS:
      "-kernel inet_dist_use_interface {127,0,0,1} +sbwt none +sbwtdcpu none +sbwtdio none",
  };
  const logFile = join(dir, "startup.log");
  const s = start("rabbitmq", "/usr/lib/rabbitmq/bin/rabbitmq-server", [], logFile, { env });
  const stopBoth = async (): Promise<void> => {
    await stop(s, 20_000);
    if (epmd) await stop(epmd);
  };
  // Up when AMQP accepts connections: the listener opens after the boot steps.
  if (!(await waitFor(() => portOpen(port), seconds, s))) {
    await stopBoth();
    throw new Error(`rabbitmq-server not up in ${seconds} s: ${lastLines(logFile, 3)}`);
  }
  const v = /rabbitmq-server\s+(\S+)/.exec(
    spawnSync("dpkg-query", ["-W", "rabbitmq-server"], { encoding: "utf8" }).stdout?.replace("\t", " ") ?? "",
  );
  const erl = spawnSync("dpkg-query", ["-W", "-f", "${Version}", "erlang-base"], { encoding: "utf8" }).stdout;
  return {
    pid: s.child.pid!,
    port,
    version: `RabbitMQ ${v?.[1] ?? "?"} (Erlang ${erl ?? "?"})`,
    stop: stopBoth,
  };
}

/** Our NameServer + broker in one child (bench/remoting-server.js) with the given flush mode and topics. */
export async function startOurs(
  flushMode: "async" | "sync",
  topics: string[],
  queues: number,
  seconds: number,
): Promise<Server> {
  const dir = tempDir(`cmp-ours-${flushMode}-`);
  const script = join(dirname(fileURLToPath(import.meta.url)), "..", "remoting-server.js");
  const c = spawn(
    process.execPath,
    [
      script,
      "--data-dir",
      join(dir, "data"),
      "--flush-mode",
      flushMode,
      "--queues",
      String(queues),
      "--topics",
      topics.join(","),
    ],
    { stdio: ["pipe", "pipe", "inherit"], detached: true },
  );
  const s = track(`ours-${flushMode}`, c);
  const ready = await new Promise<{ namesrvPort: number; grpcPort: number } | string>((res) => {
    let buf = "";
    const timer = setTimeout(() => res(`not ready in ${seconds} s`), seconds * 1000);
    c.stdout!.setEncoding("utf8");
    c.stdout!.on("data", (d: string) => {
      buf += d;
      const m = /^ready (.*)$/m.exec(buf);
      if (m) {
        clearTimeout(timer);
        res(JSON.parse(m[1]!) as { namesrvPort: number; grpcPort: number });
      }
    });
    c.once("exit", (code) => {
      clearTimeout(timer);
      res(`exited with code ${code} before it was ready`);
    });
  });
  if (typeof ready === "string") {
    await stop(s);
    throw new Error(`our broker (${flushMode} flush) ${ready}`);
  }
  return {
    pid: c.pid!,
    port: ready.namesrvPort,
    grpcPort: ready.grpcPort,
    version: "rocketmq-ts (this commit)",
    stop: () => stop(s, 30_000),
  };
}
