// Starts a broker (and optionally a client) in-process on an ephemeral port with a temp data dir.
import { createBroker } from "../../src/server/create-broker.js";
import type { BrokerServer } from "../../src/server/create-broker.js";
import type { BrokerConfig } from "../../src/broker/broker-config.js";
import type { HttpEndpointConfig } from "../../src/protocol/http/http-config.js";
import type { RenewalOptions } from "../../src/protocol/grpc/receipt-renewals.js";
import type { TlsMaterial } from "../../src/protocol/tls-sniff.js";
import { tempDir } from "./temp-dir.js";

export async function startBroker(
  overrides: Partial<BrokerConfig> = {},
  dataDir?: string,
  endpoints: {
    http?: Partial<HttpEndpointConfig>;
    alarmWebhook?: string;
    grpcRenewal?: RenewalOptions;
    tlsMaterial?: () => Promise<TlsMaterial>;
  } = {},
): Promise<{
  server: BrokerServer;
  addr: string;
  /** The gRPC endpoint ("127.0.0.1:port"). */
  grpcAddr: string;
  dataDir: string;
  stop: () => Promise<void>;
}> {
  const tmp = dataDir ? undefined : tempDir("rmq-broker-");
  const dir = dataDir ?? tmp!.dir;
  const server = createBroker(
    {
      dataDir: dir,
      port: 0,
      grpcPort: 0,
      listenHost: "127.0.0.1",
      advertisedHost: "127.0.0.1",
      store: {
        segmentBytes: 8 * 1024 * 1024,
        indexSlotNum: 1024,
        indexMaxEntriesPerFile: 100_000,
        readCacheBytes: 8 * 1024 * 1024,
      },
      ...overrides,
    },
    {
      ...(endpoints.http ? { http: { port: 0, host: "127.0.0.1", ...endpoints.http } } : {}),
      ...(endpoints.alarmWebhook ? { alarmWebhook: endpoints.alarmWebhook } : {}),
      ...(endpoints.grpcRenewal ? { grpcRenewal: endpoints.grpcRenewal } : {}),
      ...(endpoints.tlsMaterial ? { tlsMaterial: endpoints.tlsMaterial } : {}),
    },
  );
  await server.start();
  return {
    server,
    addr: `127.0.0.1:${server.port}`,
    grpcAddr: `127.0.0.1:${server.grpcPort}`,
    dataDir: dir,
    stop: async () => {
      await server.stop();
      tmp?.cleanup();
    },
  };
}
