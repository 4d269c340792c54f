// Remoting producers compress big bodies themselves: the Java 4.x/5.x clients and ali-ons deflate any body over
// compressMsgBodyOverHowmuch (4 KiB by default) and set sysFlag bit 0. The broker stores the bytes as sent, and
// remoting consumers inflate on receipt. gRPC and HTTP consumers, and the admin API, must get the body the
// producer's application wrote, so everything that hands a stored body to them goes through here.
import { inflateSync } from "node:zlib";
import { SysFlag } from "./message-record.js";

/** RocketMQ 5's compression type, sysFlag bits 8-10: 0 (older clients) and 3 are zlib; 1 is LZ4, 2 zstd. */
const COMPRESSION_TYPE_MASK = 0x7 << 8;
const ZLIB_TYPES = new Set([0, 3]);

/**
 * An inflated body may be much bigger than the stored one, but not without limit: a deflate bomb must not take
 * the broker's memory.
 */
export const MAX_INFLATED_BODY_BYTES = 64 * 1024 * 1024;

/**
 * The body as the producer's application wrote it. A body that does not inflate, or uses a compression Node
 * cannot undo (LZ4, zstd), is returned as stored: the consumer still gets the message rather than losing it.
 */
export function deliveredBody(body: Buffer, sysFlag: number): Buffer {
  if (!(sysFlag & SysFlag.COMPRESSED)) return body;
  if (!ZLIB_TYPES.has((sysFlag & COMPRESSION_TYPE_MASK) >> 8)) return body;
  try {
    return inflateSync(body, { maxOutputLength: MAX_INFLATED_BODY_BYTES });
  } catch {
    return body;
  }
}
