// What every gRPC handler gets: the broker, the live telemetry sessions, the caller's identity and the address
// this endpoint advertises in routes.
import type * as grpc from "@grpc/grpc-js";
import type { Broker } from "../../broker/broker.js";
import { parseHostPort } from "../../common/socket-address.js";
import type { HostAddress } from "../../common/socket-address.js";
import type { RemotingLogger } from "../remoting/logger.js";
import type { ReceiptRenewals } from "./receipt-renewals.js";
import type { ReceivePolls } from "./receive-polls.js";
import type { SessionRegistry } from "./telemetry-session.js";

export interface GrpcContext {
  readonly broker: Broker;
  readonly sessions: SessionRegistry;
  readonly polls: ReceivePolls;
  readonly renewals: ReceiptRenewals;
  readonly logger: RemotingLogger;
  /** Host and port clients reach this endpoint on (advertised host, bound gRPC port). */
  endpoint(): { host: string; port: number };
}

/** Who made a call: the client id from x-mq-client-id (one per client instance) and the peer address. */
export interface Caller {
  clientId: string | undefined;
  peer: string;
}

export function callerOf(call: { metadata: grpc.Metadata; getPeer(): string }): Caller {
  const id = call.metadata.get("x-mq-client-id")[0];
  return { clientId: typeof id === "string" && id.length > 0 ? id : undefined, peer: call.getPeer() };
}

/** Consumers of lite topics: their receives read the lite topics they follow. */
export const LITE_CLIENT_TYPES: ReadonlySet<string> = new Set(["LITE_PUSH_CONSUMER", "LITE_SIMPLE_CONSUMER"]);

/** A client whose Settings said it is a LitePushConsumer or a LiteSimpleConsumer. */
export function isLiteClient(ctx: GrpcContext, caller: Caller): boolean {
  return LITE_CLIENT_TYPES.has(ctx.sessions.get(caller.clientId)?.clientType ?? "");
}

/** Parsed peers: a client sends many messages over one connection, and parsing its address cost 10 µs a call. */
const peers = new Map<string, HostAddress | null>();
const MAX_PEERS = 4096;

/** The peer as records store born hosts ("1.2.3.4:5678", "[::1]:5678"); undefined when it is not an IP. */
export function peerHost(peer: string): HostAddress | undefined {
  const cached = peers.get(peer);
  if (cached !== undefined) return cached ?? undefined;
  let h: HostAddress | null = null;
  try {
    h = parseHostPort(peer);
  } catch {
    // Not an IP address ("unknown", a unix socket): records get the broker's placeholder.
  }
  if (peers.size >= MAX_PEERS) peers.clear();
  peers.set(peer, h);
  return h ?? undefined;
}
