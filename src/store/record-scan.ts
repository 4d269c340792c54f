// The part of an append that needs only the encoded record: its body CRC, its tag hash (for the consume queue)
// and its key hashes (for the key index). It runs over a whole write batch just before the batch is written,
// on the event loop for small batches and in the batch writer's thread for big ones (see batch-writer.ts), so
// the encoder leaves the CRC field zero and never parses the properties it copies. Both sides run this one
// function, so a record dispatches the same whichever thread wrote it.
//
// Output, per record in batch order (blanks skipped): tagsCode, n, then n key-index hashes (the unique id
// first, then each KEYS entry). Hashes are Java String.hashCode of "topic#key" over UTF-16 code units, as
// RocketMQ computes them. Where a property occurs twice the first one counts, as getProperty reads it.
import { crc32 } from "node:zlib";
import { javaHashContinue } from "../common/java-hash.js";
import { BLANK_MAGIC, MAGIC_V2, Pos, SysFlag } from "../common/message-record.js";

/** A growable list of int32s, reused from batch to batch. */
export class ScanOut {
  arr: Int32Array<ArrayBuffer>;
  len = 0;

  constructor(capacity = 1024) {
    this.arr = new Int32Array(capacity);
  }

  push(v: number): void {
    if (this.len === this.arr.length) {
      const next = new Int32Array(this.arr.length * 2);
      next.set(this.arr);
      this.arr = next;
    }
    this.arr[this.len++] = v;
  }

  /** A copy of what was pushed, for keeping once this is reused. */
  take(): Int32Array<ArrayBuffer> {
    return this.arr.slice(0, this.len);
  }
}

const NV = 1; // name/value separator
const PS = 2; // property separator
const SPACE = 0x20;
const HASH_SIGN = 0x23;

/**
 * Fills the body CRC of every record in `buf[0, len)` and appends each record's tag hash and index hashes to
 * `out` (cleared first). Stops at a blank (a segment's end marker, always a batch's last bytes).
 */
export function scanBatch(buf: Buffer, len: number, out: ScanOut): void {
  out.len = 0;
  let pos = 0;
  while (pos + 8 <= len) {
    const size = buf.readInt32BE(pos);
    const magic = buf.readInt32BE(pos + Pos.MAGIC);
    if (magic === BLANK_MAGIC || size <= 0) break;
    scanRecord(buf, pos, magic === MAGIC_V2, out, true);
    pos += size;
  }
}

/** One whole, checked record's tag hash and index hashes into `out` (cleared first); the record is not changed. */
export function recordKeys(record: Buffer, out: ScanOut): void {
  out.len = 0;
  scanRecord(record, 0, record.readInt32BE(Pos.MAGIC) === MAGIC_V2, out, false);
}

function scanRecord(buf: Buffer, pos: number, v2: boolean, out: ScanOut, fillCrc: boolean): void {
  const sysFlag = buf.readInt32BE(pos + Pos.SYS_FLAG);
  let p = pos + Pos.BORN_HOST + (sysFlag & SysFlag.BORNHOST_V6 ? 20 : 8) + 8;
  p += (sysFlag & SysFlag.STOREHOST_V6 ? 20 : 8) + 4 + 8;
  const bodyLen = buf.readInt32BE(p);
  p += 4;
  if (fillCrc) buf.writeInt32BE(crc32(buf.subarray(p, p + bodyLen)) & 0x7fffffff, pos + Pos.BODY_CRC);
  p += bodyLen;
  let topicLen: number;
  if (v2) {
    topicLen = buf.readInt16BE(p);
    p += 2;
  } else {
    topicLen = buf[p++]!;
  }
  const topicStart = p;
  p += topicLen;
  const propsLen = buf.readInt16BE(p);
  p += 2;
  const propsEnd = p + propsLen;

  let tags = -1;
  let tagsEnd = 0;
  let keys = -1;
  let keysEnd = 0;
  let uniq = -1;
  let uniqEnd = 0;
  while (p < propsEnd) {
    let sep = p;
    while (sep < propsEnd && buf[sep] !== NV && buf[sep] !== PS) sep++;
    let end = sep;
    while (end < propsEnd && buf[end] !== PS) end++;
    if (sep < end && buf[sep] === NV) {
      const klen = sep - p;
      if (klen === 4 && tags < 0 && isName(buf, p, TAGS)) {
        tags = sep + 1;
        tagsEnd = end;
      } else if (klen === 4 && keys < 0 && isName(buf, p, KEYS)) {
        keys = sep + 1;
        keysEnd = end;
      } else if (klen === UNIQ.length && uniq < 0 && isName(buf, p, UNIQ)) {
        uniq = sep + 1;
        uniqEnd = end;
      }
    }
    p = end + 1;
  }

  out.push(tags >= 0 && tagsEnd > tags ? hashUtf8(0, buf, tags, tagsEnd) : 0);
  const countAt = out.len;
  out.push(0);
  // Rolled-back transactional records are not indexed.
  if ((sysFlag & SysFlag.TRANSACTION_MASK) === SysFlag.TRANSACTION_ROLLBACK) return;
  if (uniq < 0 && keys < 0) return;
  const topicHash = (Math.imul(31, hashUtf8(0, buf, topicStart, topicStart + topicLen)) + HASH_SIGN) | 0;
  let n = 0;
  if (uniq >= 0 && uniqEnd > uniq) {
    out.push(hashUtf8(topicHash, buf, uniq, uniqEnd));
    n++;
  }
  if (keys >= 0) {
    let s = keys;
    while (s <= keysEnd) {
      let e = s;
      while (e < keysEnd && buf[e] !== SPACE) e++;
      if (e > s) {
        out.push(hashUtf8(topicHash, buf, s, e));
        n++;
      }
      s = e + 1;
    }
  }
  out.arr[countAt] = n;
}

const TAGS = Buffer.from("TAGS");
const KEYS = Buffer.from("KEYS");
const UNIQ = Buffer.from("UNIQ_CLIENT_MESSAGE_ID_KEYIDX");

function isName(buf: Buffer, p: number, name: Buffer): boolean {
  for (let i = 0; i < name.length; i++) if (buf[p + i] !== name[i]) return false;
  return true;
}

/**
 * Continues a Java string hash over UTF-8 bytes as the UTF-16 code units they decode to. ASCII is hashed from the
 * bytes; anything else is decoded first, as the string the key came from would hash.
 */
function hashUtf8(h: number, buf: Buffer, start: number, end: number): number {
  let x = h;
  for (let i = start; i < end; i++) {
    const b = buf[i]!;
    if (b >= 0x80) return javaHashContinue(h, buf.toString("utf8", start, end));
    x = (Math.imul(31, x) + b) | 0;
  }
  return x;
}
