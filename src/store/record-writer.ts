// The append path's record encoder. It writes the same bytes as `encodeRecord` (src/common/message-record.ts,
// RocketMQ's stored-message layout), but is shaped for the hot path: fields come from one reusable object instead
// of a literal per call, fixed-width integers go through a DataView of the write batch (Buffer.writeInt32BE costs
// about ten times as much per call), and the short copies (hosts, topic) are byte loops rather than Buffer.copy
// calls. Tests check it byte for byte against `encodeRecord`.
import { MAGIC_V1, MAGIC_V2 } from "../common/message-record.js";
import type { HostAddress } from "../common/socket-address.js";

const TWO_32 = 4294967296;

/** One record's fields; the store keeps one of these and refills it for every append. */
export class RecordFields {
  /** UTF-8 topic name. */
  topic: Buffer = Buffer.alloc(0);
  queueId = 0;
  flag = 0;
  queueOffset = 0;
  physicalOffset = 0;
  /** Host-width bits already set (sysFlagForHosts). */
  sysFlag = 0;
  bornTimestamp = 0;
  bornHost: HostAddress | undefined = undefined;
  storeTimestamp = 0;
  storeHost: HostAddress | undefined = undefined;
  reconsumeTimes = 0;
  preparedTransactionOffset = 0;
  body: Buffer = Buffer.alloc(0);
  bodyCrc = 0;
  properties = "";
  propertiesBytes = 0;
}

/** Buffers small enough to copy with a loop (a Buffer.copy call costs more than the bytes). */
const SMALL_COPY = 48;

/**
 * Writes the record described by `r` at `pos` of `buf`, whose DataView is `view`; `len` is its total size
 * (recordLength). The caller has checked that the record fits.
 */
export function writeRecord(r: RecordFields, buf: Buffer, view: DataView, pos: number, len: number): void {
  const topicLen = r.topic.length;
  const v2 = topicLen > 127;
  view.setInt32(pos, len);
  view.setInt32(pos + 4, v2 ? MAGIC_V2 : MAGIC_V1);
  view.setInt32(pos + 8, r.bodyCrc);
  view.setInt32(pos + 12, r.queueId);
  view.setInt32(pos + 16, r.flag);
  setInt64(view, pos + 20, r.queueOffset);
  setInt64(view, pos + 28, r.physicalOffset);
  view.setInt32(pos + 36, r.sysFlag);
  setInt64(view, pos + 40, r.bornTimestamp);
  let p = putHost(buf, view, pos + 48, r.bornHost!);
  setInt64(view, p, r.storeTimestamp);
  p = putHost(buf, view, p + 8, r.storeHost!);
  view.setInt32(p, r.reconsumeTimes);
  setInt64(view, p + 4, r.preparedTransactionOffset);
  const body = r.body;
  view.setInt32(p + 12, body.length);
  p += 16;
  buf.set(body, p);
  p += body.length;
  if (v2) {
    view.setInt16(p, topicLen);
    p += 2;
  } else {
    buf[p++] = topicLen;
  }
  putBytes(buf, p, r.topic);
  p += topicLen;
  view.setInt16(p, r.propertiesBytes);
  p += 2;
  const n = r.propertiesBytes;
  if (n === 0) return;
  // Buffer.write checks its arguments in JS before calling these; the record's size is already checked.
  const w = buf as unknown as RawStringWriters;
  // A string whose UTF-8 length equals its length is ASCII, where Latin-1 writes the same bytes, faster.
  if (n === r.properties.length) w.latin1Write(r.properties, p, n);
  else w.utf8Write(r.properties, p, n);
}

/** Buffer's own string encoders, which Buffer.write dispatches to (not declared in @types/node). */
interface RawStringWriters {
  latin1Write(s: string, offset: number, length: number): number;
  utf8Write(s: string, offset: number, length: number): number;
}

/** Big-endian i64 of a safe integer (negative values as two's complement, as writeInt64BE writes them). */
export function setInt64(view: DataView, pos: number, v: number): void {
  const hi = Math.floor(v / TWO_32);
  view.setInt32(pos, hi);
  view.setUint32(pos + 4, v - hi * TWO_32);
}

/**
 * An address as the record stores it: its 4 or 16 bytes of IP (the sysFlag's host-width bits follow the same
 * length), then the port (i32). Returns the next position.
 */
function putHost(buf: Buffer, view: DataView, pos: number, h: HostAddress): number {
  const n = h.ip.length;
  putBytes(buf, pos, h.ip);
  view.setInt32(pos + n, h.port);
  return pos + n + 4;
}

function putBytes(buf: Buffer, pos: number, src: Buffer): void {
  const n = src.length;
  if (n > SMALL_COPY) {
    buf.set(src, pos);
    return;
  }
  for (let i = 0; i < n; i++) buf[pos + i] = src[i]!;
}
