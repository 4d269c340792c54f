// The master/slave transfer of RocketMQ's classic HA service, as its two ends speak it: the slave reports how far
// its commit log reaches as a bare 8-byte big-endian offset, whenever it grows and as a heartbeat; the master
// sends frames of `[offset 8][size 4][commit-log bytes]`, a size of 0 being its heartbeat. Our master cuts frames
// on record boundaries (RocketMQ's may cut anywhere), so a slave stores each frame as it comes.
import { createHmac } from "node:crypto";
import { readInt64BE, writeInt64BE } from "../../common/int64.js";

export const FRAME_HEADER_BYTES = 12;
/** Larger than any chunk a master sends (a batch of records, or one 4 MiB record with its headers). */
export const MAX_FRAME_BYTES = 64 * 1024 * 1024;

export interface HaTimings {
  /** An idle end sends a heartbeat this often (RocketMQ: 5 s). */
  heartbeatMs: number;
  /** A peer silent this long is dropped (RocketMQ: 20 s). */
  housekeepingMs: number;
}

export interface TransferFrame {
  offset: number;
  /** Empty for a heartbeat. */
  data: Buffer;
}

export function encodeFrameHeader(offset: number, size: number): Buffer {
  const b = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
  writeInt64BE(b, offset, 0);
  b.writeInt32BE(size, 8);
  return b;
}

export function encodeOffsetReport(offset: number): Buffer {
  const b = Buffer.allocUnsafe(8);
  writeInt64BE(b, offset, 0);
  return b;
}

export class HaFrameError extends Error {}

/**
 * Splits the master's byte stream into frames. Chunks are kept as they arrive until a frame is whole, then joined
 * once: joining at every chunk would copy a big frame over and over (a 256 KiB frame comes in 64 KiB reads).
 */
export class FrameDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** Size of the frame being gathered (header included), once its header is in. */
  private need = 0;

  push(chunk: Buffer): TransferFrame[] {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const out: TransferFrame[] = [];
    for (;;) {
      if (this.need === 0) {
        if (this.buffered < FRAME_HEADER_BYTES) break;
        const head = this.peek(FRAME_HEADER_BYTES);
        const size = head.readInt32BE(8);
        const offset = readInt64BE(head, 0);
        if (size < 0 || size > MAX_FRAME_BYTES || offset < 0) {
          throw new HaFrameError(`bad transfer frame (offset ${offset}, size ${size})`);
        }
        this.need = FRAME_HEADER_BYTES + size;
      }
      if (this.buffered < this.need) break;
      const frame = this.take(this.need);
      this.need = 0;
      out.push({ offset: readInt64BE(frame, 0), data: frame.subarray(FRAME_HEADER_BYTES) });
    }
    return out;
  }

  /** The first `n` buffered bytes (joined only when they span chunks), left in place. */
  private peek(n: number): Buffer {
    const first = this.chunks[0]!;
    if (first.length >= n) return first;
    const joined = Buffer.concat(this.chunks);
    this.chunks = [joined];
    return joined;
  }

  /** Removes and returns the first `n` buffered bytes. */
  private take(n: number): Buffer {
    let first = this.chunks[0]!;
    if (first.length < n) {
      first = Buffer.concat(this.chunks);
      this.chunks = [first];
    }
    const out = first.subarray(0, n);
    if (first.length === n) this.chunks.shift();
    else this.chunks[0] = first.subarray(n);
    this.buffered -= n;
    return out;
  }
}

/** The slave's reports: only the last complete one in what arrived counts (as in RocketMQ). */
export class OffsetReportDecoder {
  private pending: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): number | undefined {
    const buf = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const whole = buf.length - (buf.length % 8);
    this.pending = Buffer.from(buf.subarray(whole));
    if (whole === 0) return undefined;
    const offset = readInt64BE(buf, whole - 8);
    if (offset < 0) throw new HaFrameError(`bad offset report ${offset}`);
    return offset;
  }
}

// ---- the hello a slave sends first when it has an account -------------------------------------------------------
// Our own addition to the classic transfer (whose ends are both ours): with access control on, a master streams
// its log only to a slave that proves an admin account, since the log holds every message.
//   [magic "RMQTS-HA" 8][accessKey length u16][accessKey utf8][time ms i64][HMAC-SHA1(secret, magic|key|time) 20]
// Read as an offset report the magic would be ~5.9e18, past any commit log, so a master tells the two apart.

export const HELLO_MAGIC = Buffer.from("RMQTS-HA", "latin1");
const MAX_KEY_BYTES = 1024;

export interface HaHello {
  accessKey: string;
  timeMs: number;
  signature: Buffer;
}

export function helloSignature(secret: string, accessKey: string, timeMs: number): Buffer {
  const t = Buffer.allocUnsafe(8);
  writeInt64BE(t, timeMs, 0);
  return createHmac("sha1", secret).update(HELLO_MAGIC).update(accessKey, "utf8").update(t).digest();
}

export function encodeHello(accessKey: string, secret: string, timeMs: number): Buffer {
  const key = Buffer.from(accessKey, "utf8");
  const b = Buffer.allocUnsafe(8 + 2 + key.length + 8 + 20);
  HELLO_MAGIC.copy(b, 0);
  b.writeUInt16BE(key.length, 8);
  key.copy(b, 10);
  writeInt64BE(b, timeMs, 10 + key.length);
  helloSignature(secret, accessKey, timeMs).copy(b, 18 + key.length);
  return b;
}

/**
 * What a slave's stream opens with: a hello (and the bytes after it), no hello (the stream as it came), or
 * undefined while fewer bytes than that have come. Throws HaFrameError on a hello that cannot be read.
 */
export function readHello(buf: Buffer): { hello: HaHello | undefined; rest: Buffer } | undefined {
  if (buf.length < 8) return undefined;
  if (!buf.subarray(0, 8).equals(HELLO_MAGIC)) return { hello: undefined, rest: buf };
  if (buf.length < 10) return undefined;
  const n = buf.readUInt16BE(8);
  if (n === 0 || n > MAX_KEY_BYTES) throw new HaFrameError(`bad hello: access key of ${n} bytes`);
  const end = 10 + n + 8 + 20;
  if (buf.length < end) return undefined;
  return {
    hello: {
      accessKey: buf.toString("utf8", 10, 10 + n),
      timeMs: readInt64BE(buf, 10 + n),
      signature: Buffer.from(buf.subarray(18 + n, end)),
    },
    rest: buf.subarray(end),
  };
}
