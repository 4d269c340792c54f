// Message ids as RocketMQ makes them.
// - offsetMsgId: store host (IPv4 4 bytes + port 4, or IPv6 16 + 4) then the 8-byte commit log offset, as
//   upper-case hex (32 characters for IPv4). It alone locates a message.
// - unique id (UNIQ_KEY property, what clients call msgId): ip 4 | pid 2 | a per-process hash 4 |
//   ms since the start of the month 4 | counter 2, upper-case hex (MessageClientIDSetter).
import { randomBytes } from "node:crypto";
import { readInt64BE, writeInt64BE } from "./int64.js";
import type { HostAddress } from "./socket-address.js";

export function createOffsetMsgId(storeHost: HostAddress, phyOffset: number): string {
  const n = storeHost.ip.length;
  const b = Buffer.allocUnsafe(n + 4 + 8);
  storeHost.ip.copy(b, 0);
  b.writeInt32BE(storeHost.port, n);
  writeInt64BE(b, phyOffset, n + 4);
  return b.toString("hex").toUpperCase();
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

/** Generates unique message ids in RocketMQ's client format. One per process is enough. */
export class UniqueIdGenerator {
  private readonly prefix: string;
  private counter = 0;
  private monthStart = 0;
  private nextMonthStart = 0;
  private readonly buf = Buffer.allocUnsafe(6);

  constructor(ip: Buffer = Buffer.from([127, 0, 0, 1])) {
    const fixed = Buffer.allocUnsafe(10);
    (ip.length === 4 ? ip : ip.subarray(12, 16)).copy(fixed, 0);
    fixed.writeUInt16BE(process.pid & 0xffff, 4);
    randomBytes(4).copy(fixed, 6);
    this.prefix = fixed.toString("hex").toUpperCase();
  }

  next(now = Date.now()): string {
    if (now >= this.nextMonthStart) {
      const d = new Date(now);
      this.monthStart = new Date(d.getFullYear(), d.getMonth(), 1).getTime();
      this.nextMonthStart = new Date(d.getFullYear(), d.getMonth() + 1, 1).getTime();
    }
    this.buf.writeUInt32BE((now - this.monthStart) >>> 0, 0);
    this.buf.writeUInt16BE(this.counter, 4);
    this.counter = (this.counter + 1) & 0xffff;
    return this.prefix + this.buf.toString("hex").toUpperCase();
  }
}
