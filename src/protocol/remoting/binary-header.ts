// Binary "ROCKETMQ" header (serialize type 1), RocketMQSerializable in Java. Big-endian:
//   code i16 | language u8 | version i16 | opaque i32 | flag i32 |
//   remarkLen i32 | remark (UTF-8) | extLen i32 | extLen bytes of { keyLen i16 | key | valLen i32 | val }*
// A zero-length string means null in Java (no remark); we read empty keys and values as "".
// code and version are 16-bit signed on this path: Java's writeShort silently truncates larger values (the POP
// codes 2000xx), so we refuse to encode them instead of sending a different code.

import type { RemotingCommand } from "./command.js";
import { SerializeType } from "./command.js";
import { FrameError } from "./frame-error.js";
import { languageFromByte, languageToByte } from "./language-code.js";

/** code, language, version, opaque, flag, remark length, ext length. */
const FIXED = 2 + 1 + 2 + 4 + 4 + 4 + 4;

function fitsI16(n: number): boolean {
  return Number.isInteger(n) && n >= -0x8000 && n <= 0x7fff;
}

export function binaryHeaderSize(cmd: RemotingCommand): number {
  if (!fitsI16(cmd.code)) throw new RangeError(`code ${cmd.code} does not fit the binary header's 16 bits`);
  if (!fitsI16(cmd.version))
    throw new RangeError(`version ${cmd.version} does not fit the binary header's 16 bits`);
  let n = FIXED;
  if (cmd.remark) n += Buffer.byteLength(cmd.remark, "utf8");
  for (const k in cmd.extFields) {
    const v = cmd.extFields[k];
    if (v === undefined || v === null) continue;
    const kl = Buffer.byteLength(k, "utf8");
    if (kl > 0x7fff) throw new RangeError(`ext-field name longer than 32767 bytes`);
    n += 2 + kl + 4 + Buffer.byteLength(v, "utf8");
  }
  return n;
}

/** Writes the header at `off`; `buf` must have `binaryHeaderSize(cmd)` bytes there. Returns the end offset. */
export function writeBinaryHeader(cmd: RemotingCommand, buf: Buffer, off: number): number {
  buf.writeInt16BE(cmd.code, off);
  buf[off + 2] = languageToByte(cmd.language);
  buf.writeInt16BE(cmd.version, off + 3);
  buf.writeInt32BE(cmd.opaque | 0, off + 5);
  buf.writeInt32BE(cmd.flag | 0, off + 9);
  let p = off + 13;
  const rl = cmd.remark ? buf.write(cmd.remark, p + 4, "utf8") : 0;
  buf.writeInt32BE(rl, p);
  p += 4 + rl;
  const mapStart = p;
  p += 4;
  for (const k in cmd.extFields) {
    const v = cmd.extFields[k];
    if (v === undefined || v === null) continue;
    const kl = buf.write(k, p + 2, "utf8");
    buf.writeInt16BE(kl, p);
    p += 2 + kl;
    const vl = buf.write(v, p + 4, "utf8");
    buf.writeInt32BE(vl, p);
    p += 4 + vl;
  }
  buf.writeInt32BE(p - mapStart - 4, mapStart);
  return p;
}

/** Decodes the header in `buf[start, end)`, which must be exactly the header. */
export function decodeBinaryHeader(buf: Buffer, start: number, end: number): RemotingCommand {
  if (end - start < FIXED) {
    throw new FrameError(
      "bad-binary-header",
      `binary header of ${end - start} bytes is shorter than ${FIXED}`,
    );
  }
  const opaque = buf.readInt32BE(start + 5);
  const flag = buf.readInt32BE(start + 9);
  const fail = (detail: string): FrameError => {
    const e = new FrameError("bad-binary-header", detail);
    e.opaque = opaque;
    e.flag = flag;
    e.serializeType = SerializeType.ROCKETMQ;
    return e;
  };
  let p = start + 13;
  const rl = buf.readInt32BE(p);
  p += 4;
  // The ext-map length word must still fit after the remark.
  if (rl < 0 || rl > end - p - 4) throw fail(`remark length ${rl} runs past the header`);
  const cmd: RemotingCommand = {
    code: buf.readInt16BE(start),
    language: languageFromByte(buf[start + 2] ?? 0),
    version: buf.readInt16BE(start + 3),
    opaque,
    flag,
    extFields: {},
    serializeType: SerializeType.ROCKETMQ,
  };
  if (rl > 0) cmd.remark = buf.toString("utf8", p, p + rl);
  p += rl;
  const ml = buf.readInt32BE(p);
  p += 4;
  if (ml < 0 || ml > end - p) throw fail(`ext-field map length ${ml} runs past the header`);
  const mapEnd = p + ml;
  if (mapEnd !== end) throw fail(`${end - mapEnd} bytes after the ext-field map`);
  while (p < mapEnd) {
    if (mapEnd - p < 6) throw fail("ext-field entry cut short");
    const kl = buf.readInt16BE(p);
    p += 2;
    if (kl < 0 || kl > mapEnd - p - 4) throw fail(`ext-field name length ${kl} runs past the map`);
    const key = buf.toString("utf8", p, p + kl);
    p += kl;
    const vl = buf.readInt32BE(p);
    p += 4;
    if (vl < 0 || vl > mapEnd - p) throw fail(`ext-field value length ${vl} runs past the map`);
    setField(cmd.extFields, key, buf.toString("utf8", p, p + vl));
    p += vl;
  }
  return cmd;
}

// Plain assignment of "__proto__" would change the object's prototype instead of adding the key.
function setField(o: Record<string, string>, k: string, v: string): void {
  if (k === "__proto__")
    Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
  else o[k] = v;
}
