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
import { i16, i32, put16, put32 } from "../../common/big-endian.js";

/** code, language, version, opaque, flag, remark length, ext length. */
const FIXED = 2 + 1 + 2 + 4 + 4 + 4 + 4;

function fitsI16(n: number): boolean {
  return Number.isInteger(n) && n >= -0x8000 && n <= 0x7fff;
}

/** Node's unchecked decoder behind Buffer#toString: the ranges below are checked before every call. */
interface Utf8Slicer {
  utf8Slice(start: number, end: number): string;
}

/** Node's UTF-8 encoder behind Buffer#write, without its argument checks; writes up to the buffer's end. */
interface Utf8Writer {
  utf8Write(s: string, offset: number): number;
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

/** Strings shorter than this are copied by a loop in JS; longer ones by Node's encoder (see writeText). */
const NATIVE_WRITE_CHARS = 24;

/**
 * Writes `s` at `p` (the room for 3 bytes per character is there); returns its byte length. Measured on this VM:
 * the loop costs ~5 ns a character, a call into Node's encoder ~150 ns whatever the length, so short text (the
 * one-letter keys, numbers, names) is copied here and long text (the properties) by the encoder. At the first
 * character outside ASCII the loop hands the whole string to the encoder.
 */
function writeText(buf: Buffer, p: number, s: string): number {
  if (s.length >= NATIVE_WRITE_CHARS) return (buf as unknown as Utf8Writer).utf8Write(s, p);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) return (buf as unknown as Utf8Writer).utf8Write(s, p);
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

function checkShorts(cmd: RemotingCommand): void {
  if (!fitsI16(cmd.code)) throw new RangeError(`code ${cmd.code} does not fit the binary header's 16 bits`);
  if (!fitsI16(cmd.version))
    throw new RangeError(`version ${cmd.version} does not fit the binary header's 16 bits`);
}

/** The header's exact size in bytes. */
export function binaryHeaderSize(cmd: RemotingCommand): number {
  checkShorts(cmd);
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

/**
 * Room enough for the header: 3 UTF-8 bytes per UTF-16 unit (a surrogate pair is 4 bytes for 2 units). Measuring
 * exactly costs a pass over every string, as much again as writing it; the writer returns the true end.
 */
export function binaryHeaderRoom(cmd: RemotingCommand): number {
  checkShorts(cmd);
  let n = FIXED;
  if (cmd.remark) n += 3 * cmd.remark.length;
  for (const k in cmd.extFields) {
    const v = cmd.extFields[k];
    if (v === undefined || v === null) continue;
    // Only a long name can be over the 16-bit length: measure those exactly.
    if (3 * k.length > 0x7fff && utf8Length(k) > 0x7fff)
      throw new RangeError(`ext-field name longer than 32767 bytes`);
    n += 2 + 3 * k.length + 4 + 3 * v.length;
  }
  return n;
}

/** Writes the header at `off`, where `binaryHeaderRoom(cmd)` bytes are free. Returns the end offset. */
export function writeBinaryHeader(cmd: RemotingCommand, buf: Buffer, off: number): number {
  put16(buf, off, cmd.code);
  buf[off + 2] = languageToByte(cmd.language);
  put16(buf, off + 3, cmd.version);
  put32(buf, off + 5, cmd.opaque);
  put32(buf, off + 9, cmd.flag);
  let p = off + 13;
  const rl = cmd.remark ? writeText(buf, p + 4, cmd.remark) : 0;
  put32(buf, p, rl);
  p += 4 + rl;
  const mapStart = p;
  p += 4;
  for (const k in cmd.extFields) {
    const v = cmd.extFields[k];
    if (v === undefined || v === null) continue;
    const kl = writeText(buf, p + 2, k);
    put16(buf, p, kl);
    p += 2 + kl;
    const vl = writeText(buf, p + 4, v);
    put32(buf, p, vl);
    p += 4 + vl;
  }
  put32(buf, mapStart, p - mapStart - 4);
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
  const opaque = i32(buf, start + 5);
  const flag = i32(buf, start + 9);
  let p = start + 13;
  const rl = i32(buf, p);
  p += 4;
  // The ext-map length word must still fit after the remark.
  if (rl < 0 || rl > end - p - 4) throw answerable(`remark length ${rl} runs past the header`, opaque, flag);
  const cmd: RemotingCommand = {
    code: i16(buf, start),
    language: languageFromByte(buf[start + 2] ?? 0),
    version: i16(buf, start + 3),
    opaque,
    flag,
    extFields: {},
    serializeType: SerializeType.ROCKETMQ,
  };
  if (rl > 0) cmd.remark = text.utf8Slice(p, p + rl);
  p += rl;
  const ml = i32(buf, p);
  p += 4;
  if (ml < 0 || ml > end - p)
    throw answerable(`ext-field map length ${ml} runs past the header`, opaque, flag);
  const mapEnd = p + ml;
  if (mapEnd !== end) throw answerable(`${end - mapEnd} bytes after the ext-field map`, opaque, flag);
  const ext = cmd.extFields;
  while (p < mapEnd) {
    if (mapEnd - p < 6) throw answerable("ext-field entry cut short", opaque, flag);
    const kl = i16(buf, p);
    p += 2;
    if (kl < 0 || kl > mapEnd - p - 4)
      throw answerable(`ext-field name length ${kl} runs past the map`, opaque, flag);
    const key = readText(buf, p, p + kl, text);
    p += kl;
    const vl = i32(buf, p);
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
