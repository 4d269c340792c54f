// Writes a JSON header straight into the frame buffer, byte for byte what encodeJsonHeader + a UTF-8 write
// produce, without building the header string first: on the send path that string (and the flattened copy
// Buffer.byteLength makes of it) was one of the largest allocations per request on both sides.
// Covers headers whose strings are all ASCII, which is every header our SDK and broker send in practice;
// anything else (non-ASCII text, a non-string ext-field value) is left to the string encoder, which is also
// the reference the tests compare against.

import type { RemotingCommand } from "./command.js";

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const HEX = "0123456789abcdef";

/** JSON.stringify's short escapes for control characters; 0 means \u00XX. */
const SHORT_ESCAPE = new Uint8Array(0x20);
SHORT_ESCAPE[0x08] = 0x62; // b
SHORT_ESCAPE[0x09] = 0x74; // t
SHORT_ESCAPE[0x0a] = 0x6e; // n
SHORT_ESCAPE[0x0c] = 0x66; // f
SHORT_ESCAPE[0x0d] = 0x72; // r

const CODE = Buffer.from('{"code":', "latin1");
const EXT_FIELDS = Buffer.from(',"extFields":{', "latin1");
const FLAG = Buffer.from(',"flag":', "latin1");
const LANGUAGE = Buffer.from(',"language":', "latin1");
const OPAQUE = Buffer.from(',"opaque":', "latin1");
const REMARK = Buffer.from(',"remark":', "latin1");
const TAIL = Buffer.from(',"serializeTypeCurrentRPC":"JSON","version":', "latin1");

/** Bytes of `s` as a JSON string literal, quotes included; -1 when it has a non-ASCII character. */
function stringSize(s: string): number {
  let n = s.length + 2;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) return -1;
    if (c < 0x20) n += SHORT_ESCAPE[c] === 0 ? 5 : 1;
    else if (c === QUOTE || c === BACKSLASH) n += 1;
  }
  return n;
}

function writeString(buf: Buffer, p: number, s: string): number {
  buf[p++] = QUOTE;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x20 && c !== QUOTE && c !== BACKSLASH) {
      buf[p++] = c;
    } else if (c >= 0x20) {
      buf[p] = BACKSLASH;
      buf[p + 1] = c;
      p += 2;
    } else {
      buf[p] = BACKSLASH;
      const short = SHORT_ESCAPE[c]!;
      if (short !== 0) {
        buf[p + 1] = short;
        p += 2;
      } else {
        buf[p + 1] = 0x75; // u
        buf[p + 2] = 0x30;
        buf[p + 3] = 0x30;
        buf[p + 4] = HEX.charCodeAt(c >> 4);
        buf[p + 5] = HEX.charCodeAt(c & 15);
        p += 6;
      }
    }
  }
  buf[p++] = QUOTE;
  return p;
}

/** Decimal digits of an integer, sign included (callers have checked it is an integer). */
function intSize(v: number): number {
  let n = 1;
  if (v < 0) {
    n++;
    v = -v;
  }
  while (v >= 10) {
    v = Math.floor(v / 10);
    n++;
  }
  return n;
}

function writeInt(buf: Buffer, p: number, v: number): number {
  if (v < 0) {
    buf[p++] = 0x2d;
    v = -v;
  }
  const end = p + intSize(v);
  let q = end;
  do {
    const d = v % 10;
    buf[--q] = 0x30 + d;
    v = (v - d) / 10;
  } while (v > 0);
  return end;
}

function safe(v: number): boolean {
  return Number.isSafeInteger(v);
}

function writeBytes(buf: Buffer, p: number, bytes: Buffer): number {
  for (let i = 0; i < bytes.length; i++) buf[p + i] = bytes[i]!;
  return p + bytes.length;
}

/**
 * Size in bytes of `cmd`'s JSON header as writeJsonHeader writes it, or -1 when it needs the string encoder.
 * code, flag, opaque and version must already be checked to be integers.
 */
export function jsonHeaderSize(cmd: RemotingCommand): number {
  // Past 2^53 String() may switch to exponent notation; rare enough for the string encoder.
  if (!safe(cmd.code) || !safe(cmd.flag) || !safe(cmd.opaque) || !safe(cmd.version)) return -1;
  let n = CODE.length + intSize(cmd.code) + FLAG.length + intSize(cmd.flag);
  n += LANGUAGE.length + OPAQUE.length + intSize(cmd.opaque) + TAIL.length + intSize(cmd.version) + 1;
  const lang = stringSize(cmd.language);
  if (lang < 0) return -1;
  n += lang;
  if (cmd.remark !== undefined) {
    if (typeof cmd.remark !== "string") return -1;
    const r = stringSize(cmd.remark);
    if (r < 0) return -1;
    n += REMARK.length + r;
  }
  const ext = cmd.extFields;
  let fields = 0;
  for (const k in ext) {
    const v = ext[k];
    // JSON.stringify skips undefined values and writes other types its own way: left to it.
    if (typeof v !== "string") return -1;
    const ks = stringSize(k);
    const vs = stringSize(v);
    if (ks < 0 || vs < 0) return -1;
    n += ks + 1 + vs;
    fields++;
  }
  // '{' of the object and ',' between entries come from EXT_FIELDS and the loop; '}' closes it.
  if (fields > 0) n += EXT_FIELDS.length + (fields - 1) + 1;
  return n;
}

/** Writes the header jsonHeaderSize measured at `off`; returns the end offset. */
export function writeJsonHeader(cmd: RemotingCommand, buf: Buffer, off: number): number {
  let p = writeBytes(buf, off, CODE);
  p = writeInt(buf, p, cmd.code);
  const ext = cmd.extFields;
  let first = true;
  for (const k in ext) {
    if (first) {
      p = writeBytes(buf, p, EXT_FIELDS);
      first = false;
    } else {
      buf[p++] = 0x2c;
    }
    p = writeString(buf, p, k);
    buf[p++] = 0x3a;
    p = writeString(buf, p, ext[k]!);
  }
  if (!first) buf[p++] = 0x7d;
  p = writeBytes(buf, p, FLAG);
  p = writeInt(buf, p, cmd.flag);
  p = writeBytes(buf, p, LANGUAGE);
  p = writeString(buf, p, cmd.language);
  p = writeBytes(buf, p, OPAQUE);
  p = writeInt(buf, p, cmd.opaque);
  if (cmd.remark !== undefined) {
    p = writeBytes(buf, p, REMARK);
    p = writeString(buf, p, cmd.remark);
  }
  p = writeBytes(buf, p, TAIL);
  p = writeInt(buf, p, cmd.version);
  buf[p++] = 0x7d;
  return p;
}
