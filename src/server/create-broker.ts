// Composition root of a broker: the broker semantics (src/broker) behind the remoting server, registered with
// every NameServer at start, every registerIntervalMs, and whenever its topics change. Reads no env or argv.
import { Broker } from "../broker/broker.js";
import type { BrokerConfig } from "../broker/broker-config.js";
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
  const client = new RemotingClient({ logger });
  const registration = new NamesrvRegistration(broker, client, logger);
  let port = 0;
  return {
    broker,
    get port() {
      return port;
    },
    async start() {
      port = await server.listen(broker.config.port, broker.config.listenHost);
      broker.setAdvertisedPort(port);
      broker.start();
      await registration.start();
    },
    async stop() {
      await registration.stop();
      await server.close();
      await broker.stop();
      client.close();
    },
  };
}
