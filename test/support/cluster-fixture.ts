// A NameServer and a broker registered with it, in-process on ephemeral ports, with a temp data dir.
import { createNamesrv } from "../../src/namesrv/namesrv.js";
import type { BrokerConfig } from "../../src/broker/broker-config.js";
import { startBroker } from "./broker-fixture.js";

export interface Cluster {
  namesrvAddr: string;
  brokerAddr: string;
  broker: Awaited<ReturnType<typeof startBroker>>;
  stop(): Promise<void>;
}

/** Fast retries for tests: every delay level 200 ms. */
export const FAST_DELAY_LEVELS = Array.from({ length: 18 }, () => "200ms").join(" ");

export async function startCluster(
  overrides: Partial<BrokerConfig> = {},
  endpoints: Parameters<typeof startBroker>[2] = {},
): Promise<Cluster> {
  const ns = createNamesrv({ host: "127.0.0.1", port: 0 });
  await ns.start();
  const namesrvAddr = `127.0.0.1:${ns.port}`;
  const broker = await startBroker({ namesrvAddrs: [namesrvAddr], ...overrides }, undefined, endpoints);
  return {
    namesrvAddr,
    brokerAddr: broker.addr,
    broker,
    async stop() {
      await broker.stop();
      await ns.stop();
    },
  };
}
