// Keeps a broker registered with every NameServer: at start, every registerIntervalMs, and soon after its topics
// change (so a new topic is routable at once); unregisters at stop.
import type { Broker } from "../broker/broker.js";
import type { RemotingClient } from "../protocol/remoting/client.js";
import type { RemotingLogger } from "../protocol/remoting/logger.js";

export class NamesrvRegistration {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly broker: Broker,
    private readonly client: RemotingClient,
    private readonly logger: RemotingLogger,
  ) {}

  async start(): Promise<void> {
    if (this.broker.config.namesrvAddrs.length === 0) return;
    await this.registerAll();
    this.timer = setInterval(() => void this.registerAll(), this.broker.config.registerIntervalMs);
    this.timer.unref();
  }

  async registerAll(): Promise<void> {
    // Filled in with the NameServer client codec.
    void this.client;
    void this.logger;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
  }
}
