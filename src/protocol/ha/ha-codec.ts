// The master/slave transfer of RocketMQ's classic HA service, as its two ends speak it: the slave reports how far
// its commit log reaches as a bare 8-byte big-endian offset, whenever it grows and as a heartbeat; the master
// sends frames of `[offset 8][size 4][commit-log bytes]`, a size of 0 being its heartbeat. Our master cuts frames
// on record boundaries (RocketMQ's may cut anywhere), so a slave stores each frame as it comes.
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
