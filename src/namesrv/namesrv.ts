// createNamesrv(config): a NameServer (RocketMQ NamesrvController) = the route registry + KV config behind a
// remoting server, a timer that expires silent brokers, and a hook that drops a broker as soon as the
// connection it registered over closes (BrokerHousekeepingService). Reads no env, argv or signals.

import type { TlsOption } from "../protocol/tls-sniff.js";
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import type { RemotingLogger } from "../protocol/remoting/logger.js";
import { silentLogger } from "../protocol/remoting/logger.js";
import { registerNamesrvHandlers } from "../protocol/remoting/namesrv/handlers.js";
import { RemotingServer } from "../protocol/remoting/server.js";
import type { KvSnapshot } from "./kv-config.js";
import { KvConfigStore } from "./kv-config.js";
import type { LiveBroker } from "./route-registry.js";
import { RouteRegistry } from "./route-registry.js";

export interface NamesrvConfig {
  /** Interface to listen on. Default "0.0.0.0". */
  host?: string;
  /** TLS on the port (RocketMQ's modes, see protocol/tls-sniff.ts); default plaintext only. */
  tls?: TlsOption;
  /** TCP port; 0 picks a free one (read it back from `port` after start). RocketMQ's default is 9876. */
  port: number;
  /** A broker silent this long is dropped (unless it registered its own timeout). Default 120000. */
  brokerExpireMs?: number;
  /** How often silent brokers are looked for. Default 10000 (Java: 5000). */
  scanIntervalMs?: number;
  /** Answer routes for unknown topics from TBW102 (see RouteRegistry.autoTopicRoute). Default true. */
  autoCreateTopicRoutes?: boolean;
  /** Queue count cap of those routes (the client's defaultTopicQueueNums). Default 4. */
  autoCreateQueueNums?: number;
  /** Fill routes' orderTopicConf from KV namespace ORDER_TOPIC_CONFIG. Default false, as Java. */
  orderMessageEnable?: boolean;
  /** Delete a broker's topics its registration no longer lists. Default false, as Java. */
  deleteTopicWithBrokerRegistration?: boolean;
  /** Serve the topic-list requests (206, 224, 311-313) at start; UPDATE_NAMESRV_CONFIG may change it. Default true. */
  enableTopicList?: boolean;
  /** File the KV config is kept in (Java's ~/namesrv/kvConfig.json layout); in memory only when unset. */
  kvConfigPath?: string;
  /** Largest accepted frame; the remoting default when unset. */
  maxFrameBytes?: number;
  logger?: RemotingLogger;
  /** Clock in ms for broker expiry; default Date.now. Tests pass a fake one and call registry.scanNotActiveBrokers(). */
  now?: () => number;
}

export interface Namesrv {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** The bound port once started (the configured one before). */
  readonly port: number;
  readonly registry: RouteRegistry;
  readonly kvConfig: KvConfigStore;
  /** Runs one expiry scan now (the timer calls this); returns the brokers it dropped. */
  scanNotActiveBrokers(): LiveBroker[];
}

function positiveInt(v: number | undefined, name: string): void {
  if (v !== undefined && (!Number.isSafeInteger(v) || v <= 0)) {
    throw new RangeError(`namesrv config: ${name} must be a positive integer, got ${String(v)}`);
  }
}

function validate(c: NamesrvConfig): void {
  if (!Number.isInteger(c.port) || c.port < 0 || c.port > 65535) {
    throw new RangeError(`namesrv config: port must be an integer in 0..65535, got ${String(c.port)}`);
  }
  positiveInt(c.brokerExpireMs, "brokerExpireMs");
  positiveInt(c.scanIntervalMs, "scanIntervalMs");
  positiveInt(c.autoCreateQueueNums, "autoCreateQueueNums");
  positiveInt(c.maxFrameBytes, "maxFrameBytes");
  if (c.host !== undefined && c.host === "") throw new RangeError("namesrv config: host must not be empty");
  if (c.kvConfigPath !== undefined && c.kvConfigPath === "") {
    throw new RangeError("namesrv config: kvConfigPath must not be empty");
  }
}

function loadKv(path: string): KvSnapshot | undefined {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw e;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new Error(`namesrv: kvConfigPath ${path} is not JSON: ${(e as Error).message}`, { cause: e });
  }
  const table = (parsed as { configTable?: unknown } | null)?.configTable;
  if (typeof table !== "object" || table === null) return {};
  const snap: KvSnapshot = {};
  for (const [ns, kv] of Object.entries(table as Record<string, unknown>)) {
    if (typeof kv !== "object" || kv === null) continue;
    const m: Record<string, string> = {};
    for (const [k, v] of Object.entries(kv as Record<string, unknown>)) if (typeof v === "string") m[k] = v;
    snap[ns] = m;
  }
  return snap;
}

function saveKv(path: string, snap: KvSnapshot): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, JSON.stringify({ configTable: snap }, null, 2));
  renameSync(tmp, path);
}

export function createNamesrv(config: NamesrvConfig): Namesrv {
  validate(config);
  const logger = config.logger ?? silentLogger;
  const host = config.host ?? "0.0.0.0";
  const scanIntervalMs = config.scanIntervalMs ?? 10_000;
  const registry = new RouteRegistry({
    ...(config.brokerExpireMs === undefined ? {} : { brokerExpireMs: config.brokerExpireMs }),
    ...(config.now === undefined ? {} : { now: config.now }),
    ...(config.autoCreateTopicRoutes === undefined
      ? {}
      : { autoCreateTopicRoutes: config.autoCreateTopicRoutes }),
    ...(config.autoCreateQueueNums === undefined ? {} : { autoCreateQueueNums: config.autoCreateQueueNums }),
    ...(config.deleteTopicWithBrokerRegistration === undefined
      ? {}
      : { deleteTopicWithBrokerRegistration: config.deleteTopicWithBrokerRegistration }),
  });
  const kvPath = config.kvConfigPath;
  const kvConfig = new KvConfigStore(
    kvPath === undefined
      ? undefined
      : () => {
          try {
            saveKv(kvPath, kvConfig.snapshot());
          } catch (err) {
            logger.error({ err, path: kvPath }, "cannot persist namesrv kv config");
          }
        },
  );
  const server = new RemotingServer({
    logger,
    ...(config.maxFrameBytes === undefined ? {} : { maxFrameBytes: config.maxFrameBytes }),
    ...(config.tls === undefined ? {} : { tls: config.tls }),
  });
  registerNamesrvHandlers(server, {
    registry,
    kvConfig,
    logger,
    orderMessageEnable: config.orderMessageEnable ?? false,
    returnOrderTopicConfigToBroker: true,
    enableAllTopicList: config.enableTopicList ?? true,
    enableTopicList: config.enableTopicList ?? true,
    fixedSettings: () => [
      ["listenPort", server.port ?? config.port],
      ["bindAddress", host],
      ["scanNotActiveBrokerInterval", scanIntervalMs],
      ["brokerExpireMillis", registry.brokerExpireMs],
      ["kvConfigPath", kvPath ?? ""],
    ],
  });
  server.on("connectionClose", (conn) => {
    for (const b of registry.connectionClosed(conn.remoteAddress)) {
      logger.info({ ...b, remote: conn.remoteAddress }, "broker connection closed; broker removed");
    }
  });

  let timer: NodeJS.Timeout | undefined;
  let started = false;

  const scan = (): LiveBroker[] => {
    const gone = registry.scanNotActiveBrokers();
    for (const b of gone) {
      logger.warn({ ...b }, "broker expired after silence");
      // Java closes the expired broker's channel too; keep it if another live broker still uses it.
      if (b.channel === undefined || registry.brokersOnChannel(b.channel) > 0) continue;
      for (const conn of server.connections) if (conn.remoteAddress === b.channel) conn.close();
    }
    return gone;
  };

  return {
    registry,
    kvConfig,
    get port(): number {
      return server.port ?? config.port;
    },
    scanNotActiveBrokers: scan,
    async start(): Promise<void> {
      if (started) throw new Error("namesrv already started");
      started = true;
      if (kvPath !== undefined) {
        const snap = loadKv(kvPath);
        if (snap !== undefined) kvConfig.load(snap);
      }
      try {
        await server.listen(config.port, host);
      } catch (e) {
        started = false;
        throw e;
      }
      timer = setInterval(scan, scanIntervalMs);
      timer.unref();
      logger.info({ host, port: server.port }, "namesrv started");
    },
    async stop(): Promise<void> {
      if (!started) return;
      started = false;
      if (timer !== undefined) clearInterval(timer);
      timer = undefined;
      await server.close();
      logger.info({}, "namesrv stopped");
    },
  };
}
