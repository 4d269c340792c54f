// Sequential validation of the commit log, used by recovery. Walks records from a record boundary, checking
// each one's framing (size, magic, field lengths), that its PHYSICALOFFSET field names where it lies, and its
// body CRC. Returns the offset where valid data ends: the first torn, corrupt or zero-filled record, or the end
// of the last segment. Like RocketMQ, everything from the first invalid record on is treated as not written.
import {
  BLANK_MAGIC,
  MAGIC_V1,
  MAGIC_V2,
  bodyCrc,
  decodeRecord,
  RecordFormatError,
} from "../common/message-record.js";
import type { MessageRecord } from "../common/message-record.js";
import type { CommitLog } from "./commit-log.js";

const CHUNK = 8 * 1024 * 1024;

export interface ScanVisitor {
  /** `raw` is the record's bytes, valid only during the call. */
  (record: MessageRecord, phyOffset: number, size: number, raw: Buffer): void;
}

export interface ScanResult {
  end: number;
  records: number;
  /** Why the scan stopped before the end of the last segment, if it did. */
  stoppedBecause?: string;
}

export function scanCommitLog<T>(
  log: CommitLog<T>,
  from: number,
  maxRecordBytes: number,
  visit?: ScanVisitor,
): ScanResult {
  const segs = log.segmentList;
  let records = 0;
  let buf = Buffer.allocUnsafe(CHUNK);
  const first = segs.findIndex((s) => from >= s.base && from < s.base + log.segmentBytes);
  let i = first;
  if (i < 0) {
    // `from` is past every segment (or there are none): nothing to scan.
    const last = segs[segs.length - 1];
    return { end: last ? Math.max(from, last.base + last.size) : from, records };
  }
  for (; i < segs.length; i++) {
    const seg = segs[i]!;
    const isLast = i === segs.length - 1;
    let local = i === first ? from - seg.base : 0;
    let bufStart = 0;
    let bufLen = 0;
    for (;;) {
      const at = seg.base + local;
      if (local >= seg.size) {
        if (isLast) return { end: at, records };
        return {
          end: at,
          records,
          stoppedBecause: `segment ${seg.base} ends at ${local} without an end marker`,
        };
      }
      // Make sure the 8-byte head, then the whole record, are in the buffer.
      if (local < bufStart || local + 8 > bufStart + bufLen) {
        bufStart = local;
        bufLen = log.readRaw(seg, buf, Math.min(buf.length, seg.size - local), local);
      }
      if (local + 8 > bufStart + bufLen) {
        return { end: at, records, stoppedBecause: `torn record head at ${at}` };
      }
      const p = local - bufStart;
      const size = buf.readInt32BE(p);
      const magic = buf.readInt32BE(p + 4);
      if (magic === BLANK_MAGIC) {
        if (size !== log.segmentBytes - local) {
          return { end: at, records, stoppedBecause: `end marker at ${at} has the wrong size ${size}` };
        }
        break;
      }
      if (magic !== MAGIC_V1 && magic !== MAGIC_V2) {
        return { end: at, records, stoppedBecause: `no record at ${at} (magic ${magic})` };
      }
      if (size < 8 || size > maxRecordBytes || local + size > seg.size) {
        return { end: at, records, stoppedBecause: `record at ${at} declares ${size} bytes, past the data` };
      }
      if (local + size > bufStart + bufLen) {
        if (size > buf.length) buf = Buffer.allocUnsafe(size);
        bufStart = local;
        bufLen = log.readRaw(seg, buf, Math.min(buf.length, seg.size - local), local);
        if (bufLen < size) return { end: at, records, stoppedBecause: `torn record at ${at}` };
      }
      const q = local - bufStart;
      const raw = buf.subarray(q, q + size);
      let rec: MessageRecord;
      try {
        rec = decodeRecord(raw);
      } catch (e) {
        if (e instanceof RecordFormatError) {
          return { end: at, records, stoppedBecause: `malformed record at ${at}: ${e.message}` };
        }
        throw e;
      }
      if (rec.physicalOffset !== at) {
        return { end: at, records, stoppedBecause: `record at ${at} says it lies at ${rec.physicalOffset}` };
      }
      if (bodyCrc(rec.body) !== rec.bodyCrc) {
        return { end: at, records, stoppedBecause: `body CRC mismatch in record at ${at}` };
      }
      visit?.(rec, at, size, raw);
      records++;
      local += size;
    }
  }
  const last = segs[segs.length - 1]!;
  return { end: last.base + log.segmentBytes, records };
}
