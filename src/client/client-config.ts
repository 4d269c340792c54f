// Options shared by producers and consumers, their defaults, and the client id (RocketMQ ClientConfig):
// `clientIP@instanceName`. The instance name defaults to the process id for producers and clustering consumers
// and to "DEFAULT" for broadcasting consumers, so a broadcasting consumer's local offset file (keyed by client
// id) is found again after a restart, as in the Java client.
import { networkInterfaces } from "node:os";
import type { ConnectionOptions } from "node:tls";
import type { SessionCredentials } from "../common/acl-signature.js";
import type { RemotingLogger } from "../protocol/remoting/logger.js";
import { MQClientError } from "./errors.js";

export interface ClientOptions {
  /** NameServer addresses: "host:port", "a:1;b:2", or an array of "host:port". */
  nameServer: string | string[];
  /** Producer or consumer group (GID_...). */
  groupId: string;
  /** Part of the client id after "@"; see the file comment for the default. */
  instanceName?: string;
  /** IP put in the client id and in unique message ids; default: the first non-internal IPv4, else 127.0.0.1. */
  clientIP?: string;
  /** How often routes of used topics are fetched again. Default 30000. */
  pollNameServerIntervalMs?: number;
  /** How often every broker gets a heartbeat. Default 30000. */
  heartbeatIntervalMs?: number;
  /** Timeout of NameServer and small broker requests. Default 3000. */
  requestTimeoutMs?: number;
  /** pino-compatible logger; silent by default. */
  logger?: RemotingLogger;
  /**
   * An account of a broker with access control on: every request is signed with it (RocketMQ's ACL scheme, as
   * the Java client's AclClientRPCHook signs).
   */
  credentials?: SessionCredentials;
  /**
   * Connect to NameServers and brokers over TLS (RocketMQ's tls.enable): `true`, or node:tls options such as
   * `{ ca }` to trust a broker's own certificate or `{ rejectUnauthorized: false }` to trust any, as RocketMQ's
   * clients do by default.
   */
  tls?: boolean | ConnectionOptions;
}

/** Clients share connections only with clients of the same NameServers and the same account. */
export function sharingKey(opts: ClientOptions, namesrvs: string[]): string {
  const creds = opts.credentials;
  const who = creds ? `|${creds.accessKey}|${creds.secretKey}` : "";
  // Clients with TLS options of their own (a CA, say) get connections of their own.
  const tls = opts.tls === undefined || opts.tls === false ? "" : opts.tls === true ? "|tls" : opts.tls;
  return typeof tls === "object"
    ? `${namesrvs.join(";")}${who}|tls#${tlsIds(tls)}`
    : `${namesrvs.join(";")}${who}${tls}`;
}

const tlsOptionIds = new WeakMap<object, number>();
let nextTlsOptionId = 1;
function tlsIds(o: object): number {
  let id = tlsOptionIds.get(o);
  if (id === undefined) tlsOptionIds.set(o, (id = nextTlsOptionId++));
  return id;
}

/** Splits and validates the NameServer option. */
export function parseNameServers(ns: string | string[]): string[] {
  const parts = (Array.isArray(ns) ? ns : [ns])
    .flatMap((s) => s.split(";"))
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  if (parts.length === 0) throw new MQClientError("ILLEGAL_ARGUMENT", "nameServer: no address given");
  for (const p of parts) {
    const i = p.lastIndexOf(":");
    const port = Number(p.slice(i + 1));
    if (i <= 0 || !Number.isInteger(port) || port <= 0 || port > 65535) {
      throw new MQClientError("ILLEGAL_ARGUMENT", `nameServer: "${p}" is not host:port`);
    }
  }
  return [...new Set(parts)];
}

export function localIPv4(): string {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === "IPv4" && !a.internal) return a.address;
  }
  return "127.0.0.1";
}

const GROUP_RE = /^[%|a-zA-Z0-9_-]+$/;

export function checkGroup(group: string): void {
  if (!group || !GROUP_RE.test(group) || group.length > 255) {
    throw new MQClientError("ILLEGAL_ARGUMENT", `groupId "${group}" must match [%|a-zA-Z0-9_-]{1,255}`);
  }
}

export function positive(v: number | undefined, name: string, dflt: number): number {
  if (v === undefined) return dflt;
  if (!Number.isFinite(v) || v <= 0)
    throw new MQClientError("ILLEGAL_ARGUMENT", `${name} must be > 0, got ${v}`);
  return v;
}

export function nonNegative(v: number | undefined, name: string, dflt: number): number {
  if (v === undefined) return dflt;
  if (!Number.isInteger(v) || v < 0)
    throw new MQClientError("ILLEGAL_ARGUMENT", `${name} must be an integer >= 0, got ${v}`);
  return v;
}
