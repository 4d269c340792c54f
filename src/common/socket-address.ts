import { isIPv4, isIPv6 } from "node:net";

/** A host as RocketMQ stores it in records and message ids: 4 (IPv4) or 16 (IPv6) address bytes and a port. */
export interface HostAddress {
  ip: Buffer;
  port: number;
}

export function hostAddress(host: string, port: number): HostAddress {
  if (host === "localhost") host = "127.0.0.1";
  if (host.startsWith("::ffff:") && isIPv4(host.slice(7))) host = host.slice(7);
  if (isIPv4(host)) return { ip: Buffer.from(host.split(".").map(Number)), port };
  if (isIPv6(host)) return { ip: ipv6Bytes(host), port };
  throw new Error(`not an IP address: ${host}`);
}

function ipv6Bytes(host: string): Buffer {
  const [head = "", tail] = host.split("::");
  const h = head ? head.split(":") : [];
  const t = tail !== undefined && tail !== "" ? tail.split(":") : [];
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill("0"), ...t];
  const b = Buffer.alloc(16);
  groups.forEach((g, i) => b.writeUInt16BE(parseInt(g, 16) || 0, i * 2));
  return b;
}

export function formatHost(a: HostAddress): string {
  if (a.ip.length === 4) return `${a.ip[0]}.${a.ip[1]}.${a.ip[2]}.${a.ip[3]}:${a.port}`;
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(a.ip.readUInt16BE(i).toString(16));
  return `[${groups.join(":")}]:${a.port}`;
}

/** The IP of an address written "ip:port" or "[v6]:port" (how remoting names peers and grpc-js reports them). */
export function ipOfAddress(addr: string): string {
  const at = addr.lastIndexOf(":");
  return (at > 0 ? addr.slice(0, at) : addr).replace(/^\[|\]$/g, "");
}

/** An address written "ip:port" or "[v6]:port" as records store it; throws when it is not an IP address. */
export function parseHostPort(addr: string): HostAddress {
  return hostAddress(ipOfAddress(addr), Number(addr.slice(addr.lastIndexOf(":") + 1)));
}
