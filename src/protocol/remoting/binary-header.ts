// Binary "ROCKETMQ" header (serialize type 1), RocketMQSerializable in Java. Big-endian:
//   code i16 | language u8 | version i16 | opaque i32 | flag i32 |
//   remarkLen i32 | remark (UTF-8) | extLen i32 | extLen bytes of { keyLen i16 | key | valLen i32 | val }*
// A zero-length string means null in Java (no remark); we read empty keys and values as "".
// code and version are 16-bit signed on this path: Java's writeShort silently truncates larger values (the POP
// codes 2000xx), so we refuse to encode them instead of sending a different code.

import type { RemotingCommand } from "./command.js";
import { SerializeType } from "./command.js";
import { FrameError, answerableFrameError } from "./frame-error.js";
import { languageFromByte, languageToByte } from "./language-code.js";

/** code, language, version, opaque, flag, remark length, ext length. */
const FIXED = 2 + 1 + 2 + 4 + 4 + 4 + 4;

function fitsI16(n: number): boolean {
  return Number.isInteger(n) && n >= -0x8000 && n <= 0x7fff;
}

/** Node's unchecked decoder behind Buffer#toString: the ranges below are checked before every call. */
interface Utf8Slicer {
  utf8Slice(start: number, end: number): string;
}

/** One-character ASCII text (SEND_MESSAGE_V2's keys a..m, small numbers) comes from here. */
const ONE_CHAR = Array.from({ length: 0x80 }, (_, c) => String.fromCharCode(c));

/** UTF-8 length of `s` when it is all ASCII (its length), else -1. */
function asciiLength(s: string): number {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) >= 0x80) return -1;
  return s.length;
}

function utf8Length(s: string): number {
  const n = asciiLength(s);
  return n >= 0 ? n : Buffer.byteLength(s, "utf8");
}

/**
 * Writes `s` at `p`; returns its byte length. ASCII is copied in JS, cheaper than a native call per field; at
 * the first other character the whole string is written again by the UTF-8 encoder.
 */
function writeText(buf: Buffer, p: number, s: string): number {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) return buf.write(s, p, "utf8");
    buf[p + i] = c;
  }
  return s.length;
}

/**
 * Short ASCII strings seen lately, by a hash of their bytes: header values repeat (topic, group, "TBW102",
 * "false", "DefaultRegion"...), and a hit costs a few byte compares instead of a decoder call and a new string.
 */
const INTERN_MAX = 16;
const internSlots: (string | undefined)[] = new Array<string | undefined>(512).fill(undefined);

/** The text in `buf[p, end)`, through the intern table when it is short ASCII. */
function readText(buf: Buffer, p: number, end: number, text: Utf8Slicer): string {
  const n = end - p;
  if (n === 1 && buf[p]! < 0x80) return ONE_CHAR[buf[p]!]!;
  if (n === 0 || n > INTERN_MAX) return text.utf8Slice(p, end);
  let h = n;
  for (let i = p; i < end; i++) {
    const b = buf[i]!;
    if (b >= 0x80) return text.utf8Slice(p, end);
    h = (Math.imul(h, 31) + b) | 0;
  }
  const slot = (h ^ (h >>> 9)) & 511;
  const cached = internSlots[slot];
  if (cached !== undefined && cached.length === n) {
    let same = true;
    for (let i = 0; i < n; i++) {
      if (cached.charCodeAt(i) !== buf[p + i]) {
        same = false;
        break;
      }
    }
    if (same) return cached;
  }
  const s = text.utf8Slice(p, end);
  internSlots[slot] = s;
  return s;
}

export function binaryHeaderSize(cmd: RemotingCommand): number {
  if (!fitsI16(cmd.code)) throw new RangeError(`code ${cmd.code} does not fit the binary header's 16 bits`);
  if (!fitsI16(cmd.version))
    throw new RangeError(`version ${cmd.version} does not fit the binary header's 16 bits`);
  let n = FIXED;
  if (cmd.remark) n += utf8Length(cmd.remark);
  for (const k in cmd.extFields) {
    const v = cmd.extFields[k];
    if (v === undefined || v === null) continue;
    const kl = utf8Length(k);
    if (kl > 0x7fff) throw new RangeError(`ext-field name longer than 32767 bytes`);
    n += 2 + kl + 4 + utf8Length(v);
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
  const rl = cmd.remark ? writeText(buf, p + 4, cmd.remark) : 0;
  buf.writeInt32BE(rl, p);
  p += 4 + rl;
  const mapStart = p;
  p += 4;
  for (const k in cmd.extFields) {
    const v = cmd.extFields[k];
    if (v === undefined || v === null) continue;
    const kl = writeText(buf, p + 2, k);
    buf.writeInt16BE(kl, p);
    p += 2 + kl;
    const vl = writeText(buf, p + 4, v);
    buf.writeInt32BE(vl, p);
    p += 4 + vl;
  }
  buf.writeInt32BE(p - mapStart - 4, mapStart);
  return p;
}

function answerable(detail: string, opaque: number, flag: number): FrameError {
  return answerableFrameError("bad-binary-header", detail, opaque, flag, SerializeType.ROCKETMQ);
}

/** Decodes the header in `buf[start, end)`, which must be exactly the header. */
export function decodeBinaryHeader(buf: Buffer, start: number, end: number): RemotingCommand {
  if (end - start < FIXED) {
    throw new FrameError(
      "bad-binary-header",
      `binary header of ${end - start} bytes is shorter than ${FIXED}`,
    );
  }
  const text = buf as unknown as Utf8Slicer;
  const opaque = buf.readInt32BE(start + 5);
  const flag = buf.readInt32BE(start + 9);
  let p = start + 13;
  const rl = buf.readInt32BE(p);
  p += 4;
  // The ext-map length word must still fit after the remark.
  if (rl < 0 || rl > end - p - 4) throw answerable(`remark length ${rl} runs past the header`, opaque, flag);
  const cmd: RemotingCommand = {
    code: buf.readInt16BE(start),
    language: languageFromByte(buf[start + 2] ?? 0),
    version: buf.readInt16BE(start + 3),
    opaque,
    flag,
    extFields: {},
    serializeType: SerializeType.ROCKETMQ,
  };
  if (rl > 0) cmd.remark = text.utf8Slice(p, p + rl);
  p += rl;
  const ml = buf.readInt32BE(p);
  p += 4;
  if (ml < 0 || ml > end - p)
    throw answerable(`ext-field map length ${ml} runs past the header`, opaque, flag);
  const mapEnd = p + ml;
  if (mapEnd !== end) throw answerable(`${end - mapEnd} bytes after the ext-field map`, opaque, flag);
  const ext = cmd.extFields;
  while (p < mapEnd) {
    if (mapEnd - p < 6) throw answerable("ext-field entry cut short", opaque, flag);
    const kl = buf.readInt16BE(p);
    p += 2;
    if (kl < 0 || kl > mapEnd - p - 4)
      throw answerable(`ext-field name length ${kl} runs past the map`, opaque, flag);
    const key = readText(buf, p, p + kl, text);
    p += kl;
    const vl = buf.readInt32BE(p);
    p += 4;
    if (vl < 0 || vl > mapEnd - p)
      throw answerable(`ext-field value length ${vl} runs past the map`, opaque, flag);
    const value = readText(buf, p, p + vl, text);
    // Plain assignment of "__proto__" would change the object's prototype instead of adding the key.
    if (key === "__proto__")
      Object.defineProperty(ext, key, { value, enumerable: true, writable: true, configurable: true });
    else ext[key] = value;
    p += vl;
  }
  return cmd;
}
