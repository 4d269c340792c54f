// RocketMQ's stored-message layout (MessageExtEncoder / MessageDecoder). The same bytes are written to the commit
// log and handed to remoting clients in pull responses, so this one codec serves disk and wire. Big-endian:
//
//   0 TOTALSIZE i32 | 4 MAGIC i32 | 8 BODYCRC i32 | 12 QUEUEID i32 | 16 FLAG i32 | 20 QUEUEOFFSET i64
//  28 PHYSICALOFFSET i64 | 36 SYSFLAG i32 | 40 BORNTIMESTAMP i64 | 48 BORNHOST (4+4 | 16+4)
//     STORETIMESTAMP i64 | STOREHOST (4+4 | 16+4) | RECONSUMETIMES i32 | PREPARED_TX_OFFSET i64
//     BODYLEN i32 + body | TOPICLEN (i8 in V1, i16 in V2) + topic | PROPLEN i16 + properties
//
// V2 (magic ...ab) is chosen when the topic is longer than 127 bytes, as RocketMQ's autoMessageVersionOnTopicLen.
import { crc32 } from "node:zlib";
import { readInt64BE, writeInt64BE } from "./int64.js";
import type { HostAddress } from "./socket-address.js";

export const MAGIC_V1 = 0xdaa320a7 | 0;
export const MAGIC_V2 = 0xdaa320ab | 0;
/** Fills the end of a commit log segment that the next record did not fit in: `[size][BLANK_MAGIC]`. */
export const BLANK_MAGIC = 0xcbd43194 | 0;

export const SysFlag = {
  COMPRESSED: 0x1,
  MULTI_TAGS: 0x2,
  TRANSACTION_PREPARED: 0x4,
  TRANSACTION_COMMIT: 0x8,
  TRANSACTION_ROLLBACK: 0xc,
  TRANSACTION_MASK: 0xc,
  BORNHOST_V6: 0x10,
  STOREHOST_V6: 0x20,
  INNER_BATCH: 0x80,
} as const;

export const Pos = {
  TOTAL_SIZE: 0,
  MAGIC: 4,
  BODY_CRC: 8,
  QUEUE_ID: 12,
  FLAG: 16,
  QUEUE_OFFSET: 20,
  PHYSICAL_OFFSET: 28,
  SYS_FLAG: 36,
  BORN_TIMESTAMP: 40,
  BORN_HOST: 48,
} as const;

export const MAX_PROPERTIES_BYTES = 32767;

export interface MessageRecord {
  topic: string;
  queueId: number;
  flag: number;
  queueOffset: number;
  physicalOffset: number;
  sysFlag: number;
  bornTimestamp: number;
  bornHost: HostAddress;
  storeTimestamp: number;
  storeHost: HostAddress;
  reconsumeTimes: number;
  preparedTransactionOffset: number;
  bodyCrc: number;
  body: Buffer;
  properties: string;
}

/** RocketMQ stores `crc32(body) & 0x7fffffff` (UtilAll.crc32). */
export function bodyCrc(body: Buffer): number {
  return crc32(body) & 0x7fffffff;
}

export function storeTimestampPos(sysFlag: number): number {
  return Pos.BORN_HOST + (sysFlag & SysFlag.BORNHOST_V6 ? 20 : 8);
}

export function recordLength(topicLen: number, bodyLen: number, propsLen: number, sysFlag: number): number {
  const bornHost = sysFlag & SysFlag.BORNHOST_V6 ? 20 : 8;
  const storeHost = sysFlag & SysFlag.STOREHOST_V6 ? 20 : 8;
  const topicLenSize = topicLen > 127 ? 2 : 1;
  return (
    4 +
    4 +
    4 +
    4 +
    4 +
    8 +
    8 +
    4 +
    8 +
    bornHost +
    8 +
    storeHost +
    4 +
    8 +
    4 +
    bodyLen +
    topicLenSize +
    topicLen +
    2 +
    propsLen
  );
}

/** What encodeRecord needs; topic and properties come pre-encoded so a caller can size the record first. */
export interface RecordInput {
  topic: Buffer;
  queueId: number;
  flag: number;
  queueOffset: number;
  physicalOffset: number;
  sysFlag: number;
  bornTimestamp: number;
  bornHost: HostAddress;
  storeTimestamp: number;
  storeHost: HostAddress;
  reconsumeTimes: number;
  preparedTransactionOffset: number;
  body: Buffer;
  bodyCrc: number;
  /** Encoded properties; a string is written as UTF-8 and then `propertiesBytes` must be its byte length. */
  properties: Buffer | string;
  propertiesBytes?: number;
}

/** Host-width flags follow the addresses, whatever the caller put in sysFlag. */
export function sysFlagForHosts(sysFlag: number, born: HostAddress, store: HostAddress): number {
  let f = sysFlag & ~(SysFlag.BORNHOST_V6 | SysFlag.STOREHOST_V6);
  if (born.ip.length === 16) f |= SysFlag.BORNHOST_V6;
  if (store.ip.length === 16) f |= SysFlag.STOREHOST_V6;
  return f;
}

/** Writes one record at `pos`; returns its length. The caller has checked that `target` has room. */
export function encodeRecord(r: RecordInput, target: Buffer, pos: number): number {
  const sysFlag = sysFlagForHosts(r.sysFlag, r.bornHost, r.storeHost);
  const propsLen =
    typeof r.properties === "string"
      ? (r.propertiesBytes ?? Buffer.byteLength(r.properties))
      : r.properties.length;
  const len = recordLength(r.topic.length, r.body.length, propsLen, sysFlag);
  const v2 = r.topic.length > 127;
  let p = pos;
  target.writeInt32BE(len, p);
  target.writeInt32BE(v2 ? MAGIC_V2 : MAGIC_V1, p + 4);
  target.writeInt32BE(r.bodyCrc, p + 8);
  target.writeInt32BE(r.queueId, p + 12);
  target.writeInt32BE(r.flag, p + 16);
  writeInt64BE(target, r.queueOffset, p + 20);
  writeInt64BE(target, r.physicalOffset, p + 28);
  target.writeInt32BE(sysFlag, p + 36);
  writeInt64BE(target, r.bornTimestamp, p + 40);
  p += 48;
  p += writeHost(target, p, r.bornHost);
  writeInt64BE(target, r.storeTimestamp, p);
  p += 8;
  p += writeHost(target, p, r.storeHost);
  target.writeInt32BE(r.reconsumeTimes, p);
  writeInt64BE(target, r.preparedTransactionOffset, p + 4);
  target.writeInt32BE(r.body.length, p + 12);
  p += 16;
  r.body.copy(target, p);
  p += r.body.length;
  if (v2) {
    target.writeInt16BE(r.topic.length, p);
    p += 2;
  } else {
    target.writeInt8(r.topic.length, p);
    p += 1;
  }
  r.topic.copy(target, p);
  p += r.topic.length;
  target.writeInt16BE(propsLen, p);
  p += 2;
  if (typeof r.properties === "string") target.write(r.properties, p, propsLen, "utf8");
  else r.properties.copy(target, p);
  return len;
}

function writeHost(buf: Buffer, pos: number, h: HostAddress): number {
  h.ip.copy(buf, pos);
  buf.writeInt32BE(h.port, pos + h.ip.length);
  return h.ip.length + 4;
}

function readHost(buf: Buffer, pos: number, v6: boolean): HostAddress {
  const n = v6 ? 16 : 4;
  return { ip: Buffer.from(buf.subarray(pos, pos + n)), port: buf.readInt32BE(pos + n) };
}

export class RecordFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RecordFormatError";
  }
}

/** The size of the record at `pos`, after checking its size field and magic against the bytes there. */
export function checkedRecordSize(buf: Buffer, pos: number): number {
  const avail = buf.length - pos;
  if (avail < 4) throw new RecordFormatError("record shorter than its size field");
  const total = buf.readInt32BE(pos);
  const magic = avail >= 8 ? buf.readInt32BE(pos + 4) : 0;
  if (magic !== MAGIC_V1 && magic !== MAGIC_V2) throw new RecordFormatError(`bad magic ${magic}`);
  if (total < 4 || total > avail)
    throw new RecordFormatError(`record size ${total} exceeds ${avail} bytes available`);
  return total;
}

/**
 * Decodes the record at `pos`. The body is a view into `buf` (no copy); callers that keep it past the buffer's
 * life copy it themselves. Throws RecordFormatError when the bytes are not a well-formed record.
 */
export function decodeRecord(buf: Buffer, pos = 0): MessageRecord {
  const total = checkedRecordSize(buf, pos);
  const magic = buf.readInt32BE(pos + 4);
  const end = pos + total;
  const need = (p: number, n: number) => {
    if (p + n > end) throw new RecordFormatError("record fields overrun its declared size");
  };
  need(pos, 48);
  const sysFlag = buf.readInt32BE(pos + 36);
  let p = pos + 48;
  const bornV6 = (sysFlag & SysFlag.BORNHOST_V6) !== 0;
  need(p, (bornV6 ? 20 : 8) + 8);
  const bornHost = readHost(buf, p, bornV6);
  p += bornV6 ? 20 : 8;
  const storeTimestamp = readInt64BE(buf, p);
  p += 8;
  const storeV6 = (sysFlag & SysFlag.STOREHOST_V6) !== 0;
  need(p, (storeV6 ? 20 : 8) + 16);
  const storeHost = readHost(buf, p, storeV6);
  p += storeV6 ? 20 : 8;
  const reconsumeTimes = buf.readInt32BE(p);
  const preparedTransactionOffset = readInt64BE(buf, p + 4);
  const bodyLen = buf.readInt32BE(p + 12);
  p += 16;
  if (bodyLen < 0) throw new RecordFormatError("negative body length");
  need(p, bodyLen);
  const body = buf.subarray(p, p + bodyLen);
  p += bodyLen;
  let topicLen: number;
  if (magic === MAGIC_V2) {
    need(p, 2);
    topicLen = buf.readInt16BE(p);
    p += 2;
  } else {
    need(p, 1);
    topicLen = buf.readUInt8(p);
    p += 1;
  }
  need(p, topicLen + 2);
  const topic = buf.toString("utf8", p, p + topicLen);
  p += topicLen;
  const propsLen = buf.readInt16BE(p);
  p += 2;
  if (propsLen < 0) throw new RecordFormatError("negative properties length");
  need(p, propsLen);
  const properties = buf.toString("utf8", p, p + propsLen);
  p += propsLen;
  if (p !== end) throw new RecordFormatError(`record declares ${total} bytes but its fields take ${p - pos}`);
  return {
    topic,
    queueId: buf.readInt32BE(pos + 12),
    flag: buf.readInt32BE(pos + 16),
    queueOffset: readInt64BE(buf, pos + 20),
    physicalOffset: readInt64BE(buf, pos + 28),
    sysFlag,
    bornTimestamp: readInt64BE(buf, pos + 40),
    bornHost,
    storeTimestamp,
    storeHost,
    reconsumeTimes,
    preparedTransactionOffset,
    bodyCrc: buf.readInt32BE(pos + 8),
    body,
    properties,
  };
}

/** Encodes a decoded record back into its stored bytes (after changing, say, its topic). */
export function encodeMessageRecord(r: MessageRecord): Buffer {
  const topic = Buffer.from(r.topic);
  const props = Buffer.from(r.properties);
  const buf = Buffer.allocUnsafe(
    recordLength(
      topic.length,
      r.body.length,
      props.length,
      sysFlagForHosts(r.sysFlag, r.bornHost, r.storeHost),
    ),
  );
  encodeRecord({ ...r, topic, properties: props }, buf, 0);
  return buf;
}

/**
 * The encoded properties of the stored record at `pos` (see message-record.ts), found by walking the length
 * fields without decoding the body or topic. Undefined when the bytes are not a well-formed record.
 */
export function readRecordProperties(buf: Buffer, pos = 0): string | undefined {
  if (pos < 0 || buf.length - pos < Pos.BORN_HOST) return undefined;
  const total = buf.readInt32BE(pos + Pos.TOTAL_SIZE);
  const magic = buf.readInt32BE(pos + Pos.MAGIC);
  if (magic !== MAGIC_V1 && magic !== MAGIC_V2) return undefined;
  if (total < Pos.BORN_HOST || total > buf.length - pos) return undefined;
  const end = pos + total;
  const sysFlag = buf.readInt32BE(pos + Pos.SYS_FLAG);
  // born host, store timestamp, store host, reconsume times (i32), prepared transaction offset (i64)
  let p =
    pos +
    Pos.BORN_HOST +
    (sysFlag & SysFlag.BORNHOST_V6 ? 20 : 8) +
    8 +
    (sysFlag & SysFlag.STOREHOST_V6 ? 20 : 8) +
    4 +
    8;
  if (p + 4 > end) return undefined;
  const bodyLen = buf.readInt32BE(p);
  p += 4;
  if (bodyLen < 0) return undefined;
  p += bodyLen;
  let topicLen: number;
  if (magic === MAGIC_V2) {
    if (p + 2 > end) return undefined;
    topicLen = buf.readInt16BE(p);
    p += 2;
  } else {
    if (p + 1 > end) return undefined;
    topicLen = buf.readUInt8(p);
    p += 1;
  }
  if (topicLen < 0) return undefined;
  p += topicLen;
  if (p + 2 > end) return undefined;
  const propsLen = buf.readInt16BE(p);
  p += 2;
  if (propsLen < 0 || p + propsLen > end) return undefined;
  return propsLen === 0 ? "" : buf.toString("utf8", p, p + propsLen);
}
