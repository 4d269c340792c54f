// Composition root of a broker: the broker semantics (src/broker) behind the remoting server, the gRPC endpoint
// (RocketMQ 5.x clients) and, when asked for, the HTTP endpoint; registered with every NameServer at start, every
// registerIntervalMs, and whenever its topics change. Reads no env or argv.
import { join } from "node:path";
import { tlsMaterialLoader } from "./tls-material.js";
import type { TlsMaterial } from "../protocol/tls-sniff.js";
import { fileURLToPath } from "node:url";
import { Broker } from "../broker/broker.js";
import type { BrokerConfig } from "../broker/broker-config.js";
import { GrpcServer } from "../protocol/grpc/server.js";
import type { RenewalOptions } from "../protocol/grpc/receipt-renewals.js";
import { RemotingClient } from "../protocol/remoting/client.js";
import type { RemotingLogger } from "../protocol/remoting/logger.js";
import { silentLogger } from "../protocol/remoting/logger.js";
import { registerBrokerHandlers } from "../protocol/remoting/broker/broker-handlers.js";
import { RemotingServer } from "../protocol/remoting/server.js";
import { httpEndpointConfig } from "../protocol/http/http-config.js";
import type { HttpEndpointConfig } from "../protocol/http/http-config.js";
import { startHttpEndpoint } from "../protocol/http/server.js";
import type { HttpEndpoint } from "../protocol/http/server.js";
import { NamesrvRegistration } from "./namesrv-registration.js";
import { HaClient } from "../protocol/ha/ha-client.js";
import { HaServer } from "../protocol/ha/ha-server.js";
import { SlaveSync } from "./slave-sync.js";
import { registerAdminRoutes } from "../protocol/http/admin/admin-routes.js";
import { registerConsole } from "../protocol/http/admin/console-files.js";
import type { ClusterBroker } from "../protocol/http/admin/admin-routes.js";
import { getBrokerClusterInfo, getRouteInfoByTopic } from "../protocol/remoting/namesrv/namesrv-client.js";
import { notifyAlarms } from "./alarm-notifier.js";
import { createMetrics } from "./metrics.js";
import type { BrokerMetrics } from "./metrics.js";

/** The console's build output: dist/console, beside dist/src where this file is compiled to. */
const CONSOLE_DIR = fileURLToPath(new URL("../../console", import.meta.url));

export interface BrokerServer {
  readonly broker: Broker;
  /** The remoting port, once started. */
  readonly port: number;
  /** The gRPC port, once started. */
  readonly grpcPort: number;
  readonly grpc: GrpcServer;
  /** The HTTP endpoint's port, once started (0 when it is not served). */
  readonly httpPort: number;
  /** A master's port for its slaves, once started (0 for a slave). */
  readonly haPort: number;
  /** A slave's replication from its master (undefined on a master). */
  readonly replica: { readonly connected: boolean; readonly masterAddress: string | undefined } | undefined;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export function createBroker(
  config: Partial<BrokerConfig> & { dataDir: string },
  opts: {
    logger?: RemotingLogger;
    /** Serve the HTTP protocol, the admin API, /metrics and the console on this port. */
    http?: Partial<HttpEndpointConfig>;
    /** POSTed to when a backlog alarm fires or clears. */
    alarmWebhook?: string;
    /** How the gRPC endpoint renews what push consumers hold (tests shorten it). */
    grpcRenewal?: RenewalOptions;
    /** The TLS key and certificate, when a NameServer in the same process shares them. */
    tlsMaterial?: () => Promise<TlsMaterial>;
  } = {},
): BrokerServer {
  const logger = opts.logger ?? silentLogger;
  const broker = new Broker(config);
  const cfg = broker.config;
  // Loaded once it is needed (or shared with a NameServer in the same process, from the caller).
  const tlsMaterial =
    opts.tlsMaterial ??
    tlsMaterialLoader({
      certPath: cfg.tlsCertPath,
      keyPath: cfg.tlsKeyPath,
      dir: join(cfg.dataDir, "tls"),
      hosts: [cfg.advertisedHost, cfg.listenHost],
    });
  const tls = { mode: cfg.tlsMode, material: tlsMaterial };
  const server = new RemotingServer({ logger, tls });
  registerBrokerHandlers(server, broker);
  const grpc = new GrpcServer(broker, {
    logger,
    ...(opts.grpcRenewal ? { renewal: opts.grpcRenewal } : {}),
    tls,
  });
  // Its requests to a master (a slave's metadata sync) and to NameServers are signed when access control is on.
  const own = broker.acl.ownCredentials();
  // Under enforcing TLS its own connections use TLS too, trusting any certificate as RocketMQ's clients do by
  // default (tls.client.authServer=false): a NameServer or master of the same setup presents its own.
  const client = new RemotingClient({
    logger,
    ...(own ? { credentials: own } : {}),
    ...(cfg.tlsMode === "enforcing" ? { tls: { rejectUnauthorized: false } } : {}),
  });
  const c = broker.config;
  const timings = {
    heartbeatMs: c.haHeartbeatIntervalMs,
    housekeepingMs: c.haHousekeepingMs,
    reconnectMs: c.haReconnectMs,
  };
  const store = broker.store;
  // A master streams its log to slaves; a slave follows the master its registration (or config) names.
  const ha = broker.isSlave
    ? undefined
    : new HaServer(
        {
          readReplica: (from, max) => store.readReplica(from, max),
          writtenOffset: () => store.stats().maxPhyOffset,
          onWritten: (l) => store.onWritten(l),
        },
        broker.slaveAcks,
        timings,
        logger,
        broker.acl,
        tls,
      );
  const replica = broker.isSlave
    ? new HaClient(
        {
          writtenOffset: () => store.stats().maxPhyOffset,
          appendReplica: (chunk) => store.appendReplica(chunk),
        },
        timings,
        logger,
        own,
        cfg.tlsMode === "enforcing" ? { rejectUnauthorized: false } : undefined,
      )
    : undefined;
  const slaveSync = broker.isSlave ? new SlaveSync(broker, client, logger) : undefined;
  const registration = new NamesrvRegistration(broker, client, logger, {
    haServerAddr: () => (ha ? `${c.advertisedHost}:${ha.port}` : ""),
    onReply: (reply) => {
      if (!replica || !slaveSync) return;
      if (!c.haMasterAddress && reply.haServerAddr) replica.setMasterAddress(reply.haServerAddr);
      if (reply.masterAddr) slaveSync.setMasterAddress(reply.masterAddr);
    },
  });
  let port = 0;
  let http: HttpEndpoint | undefined;
  let metrics: BrokerMetrics | undefined;
  notifyAlarms(broker.alarms, logger, opts.alarmWebhook);
  const connections = () => ({
    remoting: server.connections.size,
    grpc: grpc.sessionCount,
    http: http?.connections ?? 0,
  });
  const cluster = async (): Promise<ClusterBroker[]> => {
    const self: ClusterBroker = {
      cluster: broker.config.clusterName,
      name: broker.config.brokerName,
      id: broker.config.brokerId,
      addr: broker.address,
    };
    for (const ns of broker.config.namesrvAddrs) {
      try {
        const info = await getBrokerClusterInfo(client, ns);
        const out: ClusterBroker[] = [];
        for (const [cname, names] of Object.entries(info.clusterAddrTable)) {
          for (const name of names) {
            const bd = info.brokerAddrTable[name];
            for (const [id, addr] of Object.entries(bd?.brokerAddrs ?? {})) {
              out.push({ cluster: cname, name, id: Number(id), addr });
            }
          }
        }
        return out;
      } catch {
        // Try the next NameServer; with none reachable, this broker alone.
      }
    }
    return [self];
  };
  const route = async (topic: string) => {
    for (const ns of broker.config.namesrvAddrs) {
      try {
        return await getRouteInfoByTopic(client, ns, topic);
      } catch {
        // next
      }
    }
    return undefined;
  };
  return {
    broker,
    grpc,
    get port() {
      return port;
    },
    get grpcPort() {
      return grpc.port;
    },
    get httpPort() {
      return http?.port ?? 0;
    },
    get haPort() {
      return ha?.port ?? 0;
    },
    replica,
    async start() {
      // A configured key and certificate are read first, so a wrong path stops the start, not every TLS client.
      if (cfg.tlsMode !== "disabled" && cfg.tlsCertPath) await tlsMaterial();
      port = await server.listen(broker.config.port, broker.config.listenHost);
      broker.setAdvertisedPort(port);
      await grpc.listen(broker.config.grpcPort, broker.config.listenHost);
      if (ha) await ha.listen(c.haListenPort, c.listenHost);
      broker.start();
      if (replica) {
        if (c.haMasterAddress) replica.setMasterAddress(c.haMasterAddress);
        replica.start();
        slaveSync?.start();
      }
      if (opts.http) {
        const m = createMetrics(broker, connections);
        metrics = m;
        const httpConfig = httpEndpointConfig({ host: broker.config.listenHost, ...opts.http });
        http = await startHttpEndpoint(
          broker,
          httpConfig,
          (app) => {
            registerAdminRoutes(app, {
              adminToken: httpConfig.adminToken,
              broker,
              cluster,
              route,
              connections,
              replica: () =>
                replica ? { masterAddress: replica.masterAddress, connected: replica.connected } : undefined,
              rates: () => m.rates(),
              metricsText: async () => ({
                contentType: m.registry.contentType,
                text: await m.registry.metrics(),
              }),
            });
            registerConsole(app, CONSOLE_DIR);
          },
          tls,
        );
      }
      await registration.start();
    },
    async stop() {
      await registration.stop();
      replica?.stop();
      slaveSync?.stop();
      await ha?.close();
      await grpc.close();
      await http?.close();
      metrics?.stop();
      await server.close();
      await broker.stop();
      client.close();
    },
  };
}
