// Message ids as RocketMQ makes them.
// - offsetMsgId: store host (IPv4 4 bytes + port 4, or IPv6 16 + 4) then the 8-byte commit log offset, as
//   upper-case hex (32 characters for IPv4). It alone locates a message.
// - unique id (UNIQ_KEY property, what clients call msgId): ip 4 | pid 2 | a per-process hash 4 |
//   ms since the start of the month 4 | counter 2, upper-case hex (MessageClientIDSetter).
import { randomBytes } from "node:crypto";
import { readInt64BE } from "./int64.js";
import type { HostAddress } from "./socket-address.js";

const HEX_UPPER = Buffer.from("0123456789ABCDEF", "latin1");

/**
 * The store host's part of the id, cached: every stored message needs an id and almost all share one host, so
 * only the offset's 16 hex digits are written per call and the id string is the only allocation.
 */
let hostIp: Buffer | undefined;
let hostPort = -1;
let idChars = Buffer.alloc(0);

function sameBytes(a: Buffer | undefined, b: Buffer): boolean {
  if (a === undefined || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function hexInto(buf: Buffer, at: number, v: number, digits: number): void {
  for (let i = at + digits - 1; i >= at; i--) {
    buf[i] = HEX_UPPER[v & 15]!;
    v >>>= 4;
  }
}

export function createOffsetMsgId(storeHost: HostAddress, phyOffset: number): string {
  const ip = storeHost.ip;
  if (hostPort !== storeHost.port || !sameBytes(hostIp, ip)) {
    idChars = Buffer.allocUnsafe((ip.length + 4 + 8) * 2);
    for (let i = 0; i < ip.length; i++) hexInto(idChars, i * 2, ip[i]!, 2);
    hexInto(idChars, ip.length * 2, storeHost.port | 0, 8);
    hostIp = Buffer.from(ip);
    hostPort = storeHost.port;
  }
  // The offset as a two's-complement 64-bit integer, like writeInt64BE.
  const hi = Math.floor(phyOffset / 4294967296);
  const at = idChars.length - 16;
  hexInto(idChars, at, hi | 0, 8);
  hexInto(idChars, at + 8, phyOffset - hi * 4294967296, 8);
  return idChars.toString("latin1");
}

export interface DecodedOffsetMsgId {
  storeHost: HostAddress;
  phyOffset: number;
}

export function decodeOffsetMsgId(id: string): DecodedOffsetMsgId | undefined {
  if ((id.length !== 32 && id.length !== 56) || !/^[0-9a-fA-F]+$/.test(id)) return undefined;
  const b = Buffer.from(id, "hex");
  const n = b.length === 16 ? 4 : 16;
  return {
    storeHost: { ip: Buffer.from(b.subarray(0, n)), port: b.readInt32BE(n) },
    phyOffset: readInt64BE(b, n + 4),
  };
}

/**
 * Generates unique message ids in RocketMQ's client format. One per process is enough. The fixed first 20 hex
 * digits stay in `chars`; each id writes the last 12 and makes one string.
 */
export class UniqueIdGenerator {
  private counter = 0;
  private monthStart = 0;
  private nextMonthStart = 0;
  private readonly chars = Buffer.allocUnsafe(32);

  constructor(ip: Buffer = Buffer.from([127, 0, 0, 1])) {
    const fixed = Buffer.allocUnsafe(10);
    (ip.length === 4 ? ip : ip.subarray(12, 16)).copy(fixed, 0);
    fixed.writeUInt16BE(process.pid & 0xffff, 4);
    randomBytes(4).copy(fixed, 6);
    this.chars.write(fixed.toString("hex").toUpperCase(), 0, "latin1");
  }

  next(now = Date.now()): string {
    if (now >= this.nextMonthStart) {
      const d = new Date(now);
      this.monthStart = new Date(d.getFullYear(), d.getMonth(), 1).getTime();
      this.nextMonthStart = new Date(d.getFullYear(), d.getMonth() + 1, 1).getTime();
    }
    hexInto(this.chars, 20, (now - this.monthStart) >>> 0, 8);
    hexInto(this.chars, 28, this.counter, 4);
    this.counter = (this.counter + 1) & 0xffff;
    return this.chars.toString("latin1");
  }
}
