// Composition root of a broker: the broker semantics (src/broker) behind the remoting server and the gRPC
// endpoint (RocketMQ 5.x clients), registered with every NameServer at start, every registerIntervalMs, and
// whenever its topics change. Reads no env or argv.
import { Broker } from "../broker/broker.js";
import type { BrokerConfig } from "../broker/broker-config.js";
import { GrpcServer } from "../protocol/grpc/server.js";
import { RemotingClient } from "../protocol/remoting/client.js";
import type { RemotingLogger } from "../protocol/remoting/logger.js";
import { silentLogger } from "../protocol/remoting/logger.js";
import { registerBrokerHandlers } from "../protocol/remoting/broker/broker-handlers.js";
import { RemotingServer } from "../protocol/remoting/server.js";
import { NamesrvRegistration } from "./namesrv-registration.js";

export interface BrokerServer {
  readonly broker: Broker;
  /** The remoting port, once started. */
  readonly port: number;
  /** The gRPC port, once started. */
  readonly grpcPort: number;
  readonly grpc: GrpcServer;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export function createBroker(
  config: Partial<BrokerConfig> & { dataDir: string },
  opts: { logger?: RemotingLogger } = {},
): BrokerServer {
  const logger = opts.logger ?? silentLogger;
  const broker = new Broker(config);
  const server = new RemotingServer({ logger });
  registerBrokerHandlers(server, broker);
  const grpc = new GrpcServer(broker, { logger });
  const client = new RemotingClient({ logger });
  const registration = new NamesrvRegistration(broker, client, logger);
  let port = 0;
  return {
    broker,
    grpc,
    get port() {
      return port;
    },
    get grpcPort() {
      return grpc.port;
    },
    async start() {
      port = await server.listen(broker.config.port, broker.config.listenHost);
      broker.setAdvertisedPort(port);
      await grpc.listen(broker.config.grpcPort, broker.config.listenHost);
      broker.start();
      await registration.start();
    },
    async stop() {
      await registration.stop();
      await grpc.close();
      await server.close();
      await broker.stop();
      client.close();
    },
  };
}
