// Composition root of a broker: the broker semantics (src/broker) behind the remoting server (and the HTTP endpoint
// when asked for), registered with every NameServer at start, every registerIntervalMs, and whenever its topics
// change. Reads no env or argv.
import { Broker } from "../broker/broker.js";
import type { BrokerConfig } from "../broker/broker-config.js";
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

export interface BrokerServer {
  readonly broker: Broker;
  /** The remoting port, once started. */
  readonly port: number;
  /** The HTTP endpoint's port, once started (0 when it is not served). */
  readonly httpPort: number;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export function createBroker(
  config: Partial<BrokerConfig> & { dataDir: string },
  opts: { logger?: RemotingLogger; http?: Partial<HttpEndpointConfig> } = {},
): BrokerServer {
  const logger = opts.logger ?? silentLogger;
  const broker = new Broker(config);
  const server = new RemotingServer({ logger });
  registerBrokerHandlers(server, broker);
  const client = new RemotingClient({ logger });
  const registration = new NamesrvRegistration(broker, client, logger);
  let port = 0;
  let http: HttpEndpoint | undefined;
  return {
    broker,
    get port() {
      return port;
    },
    get httpPort() {
      return http?.port ?? 0;
    },
    async start() {
      port = await server.listen(broker.config.port, broker.config.listenHost);
      broker.setAdvertisedPort(port);
      broker.start();
      if (opts.http) {
        http = await startHttpEndpoint(
          broker,
          httpEndpointConfig({ host: broker.config.listenHost, ...opts.http }),
        );
      }
      await registration.start();
    },
    async stop() {
      await registration.stop();
      await http?.close();
      await server.close();
      await broker.stop();
      client.close();
    },
  };
}
