// Keeps a broker registered with every NameServer: at start, every registerIntervalMs, and soon after its topics
// change (so a new topic is routable at once); unregisters at stop. A NameServer that is down is retried on the
// next round; the others are unaffected.
import type { Broker } from "../broker/broker.js";
import type { RemotingClient } from "../protocol/remoting/client.js";
import type { RemotingLogger } from "../protocol/remoting/logger.js";
import {
  registerBrokerToNamesrv,
  unregisterBrokerFromNamesrv,
} from "../protocol/remoting/namesrv/namesrv-client.js";
import type { RegisterBrokerReply } from "../protocol/remoting/namesrv/namesrv-client.js";

export interface RegistrationOptions {
  /** The master's address for its slaves ("host:port"), sent with every registration; empty for a slave. */
  haServerAddr?: () => string;
  /** Each NameServer's answer: a slave learns its master's addresses from it. */
  onReply?: (reply: RegisterBrokerReply) => void;
}

export class NamesrvRegistration {
  private timer: NodeJS.Timeout | undefined;
  private pending: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly broker: Broker,
    private readonly client: RemotingClient,
    private readonly logger: RemotingLogger,
    private readonly opts: RegistrationOptions = {},
  ) {
    broker.topics.onChange(() => this.soon());
  }

  async start(): Promise<void> {
    if (this.broker.config.namesrvAddrs.length === 0) return;
    await this.registerAll();
    this.timer = setInterval(() => void this.registerAll(), this.broker.config.registerIntervalMs);
    this.timer.unref();
  }

  /** Registers again shortly, folding a burst of topic changes into one round. */
  private soon(): void {
    if (this.stopped || this.pending || this.broker.config.namesrvAddrs.length === 0) return;
    this.pending = setTimeout(() => {
      this.pending = undefined;
      void this.registerAll();
    }, 10);
    this.pending.unref();
  }

  private identity() {
    const c = this.broker.config;
    return {
      clusterName: c.clusterName,
      brokerName: c.brokerName,
      brokerAddr: this.broker.address,
      brokerId: c.brokerId,
    };
  }

  async registerAll(): Promise<void> {
    if (this.stopped) return;
    const info = {
      ...this.identity(),
      haServerAddr: this.opts.haServerAddr?.() ?? "",
      topicConfigs: this.broker.topics.all(),
      dataVersion: { stateVersion: 0, ...this.broker.topics.dataVersion },
    };
    await Promise.all(
      this.broker.config.namesrvAddrs.map(async (addr) => {
        try {
          const reply = await registerBrokerToNamesrv(this.client, addr, info);
          this.opts.onReply?.(reply);
        } catch (e) {
          this.logger.warn({ namesrv: addr, err: (e as Error).message }, "register broker failed");
        }
      }),
    );
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    if (this.pending) clearTimeout(this.pending);
    await Promise.all(
      this.broker.config.namesrvAddrs.map((addr) =>
        unregisterBrokerFromNamesrv(this.client, addr, this.identity()).catch(() => undefined),
      ),
    );
  }
}
