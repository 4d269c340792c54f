// The message key index: look messages up by `topic#key` (each space-separated KEYS entry) and by
// `topic#uniqKey`. Modelled on RocketMQ's IndexFile (a hash table on disk with separate chaining), but laid out so
// the hot path never rewrites anything: the active segment's slot table lives in memory and only entries are
// appended; a segment's slot table goes to disk once, in a sidecar, when the segment is sealed.
//
// Files in `dir`, one pair per segment, numbered by a sequence:
//   NNNNNNNNNNNN.idx    header (32 bytes, written once with the first entries) + entries of 20 bytes
//   NNNNNNNNNNNN.slots  the sealed segment's slot table (written once, atomically) with the segment's summary
//
// .idx header, little-endian: magic u32 "KIDX" | version u16 | reserved u16 | slotNum u32 | reserved u32 |
//   beginTimestamp i64 (ms, the first entry's store time) | reserved u32 | crc32 of bytes 0..27 u32
// entry: keyHash i32 (non-negative Java hashCode) | phyOffset i64 | timeDiff i32 (ms since beginTimestamp) |
//   prevIndex i32 (previous entry in the same slot, -1 for none)
// .slots: magic u32 "KSLT" | version u16 | reserved u16 | slotNum u32 | count u32 | minOffset i64 | maxOffset i64 |
//   minTimestamp i64 | maxTimestamp i64 | crc32 of the slot table u32 | crc32 of bytes 0..51 u32 | slotNum × i32
//
// Entry count, end offset and end time are never stored in the .idx header: they follow from the file length and
// the entries, so one positional write per flush covers a segment and a crash can't leave header and entries
// disagreeing. timeDiff is kept in milliseconds (exact time filtering); a segment rolls when a store time no longer
// fits in an i32 difference (about 24.8 days either side of its begin time) or when it holds maxEntriesPerFile.
import { join } from "node:path";
import { crc32 } from "node:zlib";
import { javaStringHashCode } from "../common/java-hash.js";
import type { FileIO } from "./file-io.js";

export interface KeyIndexOptions {
  /** Directory of the index files, e.g. `<storeRoot>/index`; created if missing. */
  dir: string;
  /** All file access goes through this, so tests can inject faults. */
  io: FileIO;
  /** Hash slots per file; default 1,000,000. */
  slotNum?: number;
  /** Entries per file; default 4,000,000. A new file starts when the current one is full. */
  maxEntriesPerFile?: number;
}

/** A summary of one index segment, for diagnostics and tests. */
export interface KeyIndexFileInfo {
  name: string;
  seq: number;
  count: number;
  sealed: boolean;
  slotNum: number;
  minOffset: number;
  maxOffset: number;
  minTimestamp: number;
  maxTimestamp: number;
}

export const KEY_INDEX_HEADER_SIZE = 32;
export const KEY_INDEX_ENTRY_SIZE = 20;
export const KEY_INDEX_SLOTS_HEADER_SIZE = 56;

const FILE_MAGIC = 0x4b494458; // "KIDX"
const SLOTS_MAGIC = 0x4b534c54; // "KSLT"
const VERSION = 1;
const H = KEY_INDEX_HEADER_SIZE;
const E = KEY_INDEX_ENTRY_SIZE;
const SH = KEY_INDEX_SLOTS_HEADER_SIZE;
const TWO32 = 4294967296;
const I32_MAX = 2147483647;
const I32_MIN = -2147483648;
const MAX_SLOT_NUM = 1 << 26;
const SCAN_CHUNK_ENTRIES = 32768;
const INITIAL_PENDING = 64 * 1024;
const MAX_WARNINGS = 1000;
const IDX_NAME = /^(\d{12,})\.idx$/;
const SLOTS_NAME = /^(\d{12,})\.slots$/;

export function keyIndexFileName(seq: number): string {
  return `${String(seq).padStart(12, "0")}.idx`;
}

/** Java hashCode made non-negative the way RocketMQ does it (Math.abs, Integer.MIN_VALUE becomes 0). */
export function keyIndexHash(key: string): number {
  const h = javaStringHashCode(key);
  return h === I32_MIN ? 0 : h < 0 ? -h : h;
}

function readI64(buf: Buffer, off: number): number {
  return buf.readInt32LE(off + 4) * TWO32 + buf.readUInt32LE(off);
}

function writeI64(buf: Buffer, off: number, v: number): void {
  const hi = Math.floor(v / TWO32);
  buf.writeUInt32LE(v - hi * TWO32, off);
  buf.writeInt32LE(hi, off + 4);
}

class Segment {
  readonly name: string;
  readonly path: string;
  readonly slotsPath: string;
  fd = -1;
  /** The .idx file exists on disk (its header has been written). */
  created: boolean;
  /** Entries written to the file. */
  diskCount = 0;
  /** Entries including pending ones. */
  count = 0;
  minOffset = -1;
  maxOffset = -1;
  minTs = 0;
  maxTs = 0;
  /** In memory for the active segment and for a sealed one until its sidecar is written. */
  slots: Int32Array | null = null;
  /** No more entries; the slot table is (or will be) in the sidecar. */
  sealed = false;
  /** Sealed in memory; the sidecar still has to be written. */
  needsSidecar = false;
  sidecarFd = -1;
  /** Bytes not yet written; when !created they start with the header. */
  pending: Buffer | null = null;
  /** A DataView of `pending` (entries are written through it: far cheaper than Buffer.writeInt32LE). */
  pendingView: DataView | null = null;
  pendingLen = 0;

  constructor(
    dir: string,
    readonly seq: number,
    readonly slotNum: number,
    readonly beginTs: number,
    created: boolean,
  ) {
    this.name = keyIndexFileName(seq);
    this.path = join(dir, this.name);
    this.slotsPath = join(dir, this.name.replace(/\.idx$/, ".slots"));
    this.created = created;
  }

  noteEntry(offset: number, ts: number): void {
    if (this.count === 0) {
      this.minOffset = this.maxOffset = offset;
      this.minTs = this.maxTs = ts;
      return;
    }
    if (offset < this.minOffset) this.minOffset = offset;
    if (offset > this.maxOffset) this.maxOffset = offset;
    if (ts < this.minTs) this.minTs = ts;
    if (ts > this.maxTs) this.maxTs = ts;
  }
}

interface LostFile {
  seq: number;
  path: string;
}

class BadFileError extends Error {}

export class KeyIndex {
  readonly dir: string;
  /** Problems met and repaired (torn tails, lost files, rebuilt slot tables); newest last. */
  readonly warnings: string[] = [];
  private readonly io: FileIO;
  private readonly slotNum: number;
  private readonly maxEntries: number;
  private segments: Segment[] = [];
  private lost: LostFile[] = [];
  private active: Segment | null = null;
  private nextSeq = 0;
  private _lastIndexedOffset = -1;
  private closed = false;
  private readonly scratch = Buffer.alloc(KEY_INDEX_SLOTS_HEADER_SIZE);
  // The entry last read by readEntry.
  private eHash = 0;
  private eOffset = 0;
  private eDiff = 0;
  private ePrev = -1;

  private constructor(opts: KeyIndexOptions) {
    this.dir = opts.dir;
    this.io = opts.io;
    this.slotNum = opts.slotNum ?? 1_000_000;
    this.maxEntries = opts.maxEntriesPerFile ?? 4_000_000;
    if (!Number.isInteger(this.slotNum) || this.slotNum < 1 || this.slotNum > MAX_SLOT_NUM) {
      throw new RangeError(`slotNum must be an integer in [1, ${MAX_SLOT_NUM}], got ${this.slotNum}`);
    }
    if (!Number.isInteger(this.maxEntries) || this.maxEntries < 1 || this.maxEntries > I32_MAX) {
      throw new RangeError(`maxEntriesPerFile must be a positive integer, got ${this.maxEntries}`);
    }
  }

  static open(opts: KeyIndexOptions): KeyIndex {
    const ki = new KeyIndex(opts);
    ki.load();
    return ki;
  }

  /** Highest phyOffset added and still present, or -1. */
  get lastIndexedOffset(): number {
    return this._lastIndexedOffset;
  }

  /**
   * Indexes one key. Offsets must not decrease (the dispatcher adds in commit-log order; several keys of one
   * message share an offset). No syscalls: the entry is buffered until `flush`.
   */
  add(key: string, phyOffset: number, storeTimestamp: number): void {
    this.addHashed(javaStringHashCode(key), phyOffset, storeTimestamp);
  }

  /** As add, given the Java hash code of the key (callers hash "topic#key" without building the string). */
  addHashed(javaHash: number, phyOffset: number, storeTimestamp: number): void {
    if (this.closed) throw new Error("key index is closed");
    if (phyOffset < this._lastIndexedOffset || !(phyOffset >= 0)) {
      throw new RangeError(
        `key index offsets must not decrease: ${phyOffset} after ${this._lastIndexedOffset}`,
      );
    }
    let seg = this.active;
    let diff = 0;
    if (seg !== null) diff = storeTimestamp - seg.beginTs;
    if (seg === null || seg.count >= this.maxEntries || diff > I32_MAX || diff < I32_MIN) {
      seg = this.roll(storeTimestamp);
      diff = 0;
    }
    const h = javaHash === I32_MIN ? 0 : javaHash < 0 ? -javaHash : javaHash;
    const slot = h % seg.slotNum;
    const slots = seg.slots!;
    const prev = slots[slot]!;
    let view = seg.pendingView;
    let p = seg.pendingLen;
    if (view === null || p + E > view.byteLength) view = this.growPending(seg, p + E);
    view.setInt32(p, h, true);
    const hi = Math.floor(phyOffset / TWO32);
    view.setUint32(p + 4, phyOffset - hi * TWO32, true);
    view.setInt32(p + 8, hi, true);
    view.setInt32(p + 12, diff, true);
    view.setInt32(p + 16, prev, true);
    p += E;
    seg.pendingLen = p;
    seg.noteEntry(phyOffset, storeTimestamp);
    slots[slot] = seg.count;
    seg.count++;
    this._lastIndexedOffset = phyOffset;
  }

  /** Writes pending entries (one write per file touched); with `sync`, fdatasyncs them too. */
  /** With `touched`, the fds written are collected there for the caller to fdatasync asynchronously. */
  flush(sync: boolean, touched?: number[]): void {
    if (this.closed) return;
    let createdFile = false;
    for (const seg of this.segments) {
      if (seg.pendingLen === 0) continue;
      let pos = H + seg.diskCount * E;
      if (!seg.created) {
        if (seg.fd < 0) {
          seg.fd = this.io.open(seg.path, "w+");
          createdFile = true;
        }
        pos = 0;
      }
      this.writeFully(seg.fd, seg.pending!, seg.pendingLen, pos);
      seg.created = true;
      seg.diskCount = seg.count;
      seg.pendingLen = 0;
      if (sync) this.io.fdatasyncSync(seg.fd);
      else touched?.push(seg.fd);
    }
    if (createdFile && sync) this.syncDir();
    for (const seg of this.segments) {
      if (!seg.needsSidecar || seg.pendingLen !== 0) continue;
      // The sidecar promises `count` entries; make them durable first so it never claims more than the file has.
      if (!sync) this.io.fdatasyncSync(seg.fd);
      this.writeSidecar(seg, seg.slots!);
      seg.needsSidecar = false;
      seg.slots = null;
      seg.pending = null;
      seg.pendingView = null;
    }
  }

  /**
   * Physical offsets of entries whose key hash matches `key` and whose store time is within [beginMs, endMs],
   * newest first, at most `maxNum`. Keys with the same hash are returned too: the caller checks the record.
   */
  query(key: string, maxNum: number, beginMs: number, endMs: number): number[] {
    const out: number[] = [];
    if (this.closed) throw new Error("key index is closed");
    if (!(maxNum > 0) || endMs < beginMs) return out;
    const h = keyIndexHash(key);
    for (let s = this.segments.length - 1; s >= 0 && out.length < maxNum; s--) {
      const seg = this.segments[s]!;
      if (seg.count === 0 || seg.maxTs < beginMs || seg.minTs > endMs) continue;
      let idx = this.slotHead(seg, h % seg.slotNum);
      while (idx >= 0 && idx < seg.count && out.length < maxNum) {
        if (!this.readEntry(seg, idx)) break;
        if (this.eHash === h) {
          const t = seg.beginTs + this.eDiff;
          if (t >= beginMs && t <= endMs) out.push(this.eOffset);
        }
        if (this.ePrev >= idx) break; // a chain only goes backwards; anything else is damage
        idx = this.ePrev;
      }
    }
    return out;
  }

  /** Drops every entry with offset >= phyOffset. */
  truncateFrom(phyOffset: number): void {
    if (this.closed) throw new Error("key index is closed");
    this.flush(false);
    while (this.segments.length > 0) {
      const seg = this.segments[this.segments.length - 1]!;
      if (seg.count === 0 || seg.minOffset >= phyOffset) {
        this.removeSegment(seg);
        this.segments.pop();
        continue;
      }
      if (seg.maxOffset < phyOffset) break;
      // Offsets never decrease inside a segment: binary search the first entry at or past the cut.
      let lo = 0;
      let hi = seg.count;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (!this.readEntry(seg, mid)) throw new Error(`key index: cannot read ${seg.name} entry ${mid}`);
        if (this.eOffset >= phyOffset) hi = mid;
        else lo = mid + 1;
      }
      this.dropSidecar(seg);
      this.io.truncate(seg.fd, H + lo * E);
      seg.diskCount = seg.count = lo;
      seg.sealed = false;
      seg.slots = this.scan(seg);
      break;
    }
    const last = this.segments[this.segments.length - 1];
    this.active = last !== undefined && !last.sealed ? last : null;
    this.recomputeLastOffset();
  }

  /**
   * Deletes the oldest files all of whose entries are below `minPhyOffset` (the newest file is always kept), plus
   * unreadable files older than a deleted one. Returns how many files were deleted.
   */
  deleteFilesBefore(minPhyOffset: number): number {
    if (this.closed) throw new Error("key index is closed");
    let deleted = 0;
    let newestDeletedSeq = -1;
    while (this.segments.length > 1) {
      const seg = this.segments[0]!;
      if (seg === this.active || seg.pendingLen > 0 || seg.needsSidecar) break;
      if (seg.count > 0 && seg.maxOffset >= minPhyOffset) break;
      this.removeSegment(seg);
      this.segments.shift();
      newestDeletedSeq = seg.seq;
      deleted++;
    }
    if (newestDeletedSeq >= 0) {
      const keep: LostFile[] = [];
      for (const f of this.lost) {
        if (f.seq < newestDeletedSeq && this.tryUnlink(f.path)) deleted++;
        else keep.push(f);
      }
      this.lost = keep;
    }
    return deleted;
  }

  isEmpty(): boolean {
    return this.segments.every((s) => s.count === 0);
  }

  /** One summary per readable segment, oldest first. */
  files(): KeyIndexFileInfo[] {
    return this.segments.map((s) => ({
      name: s.name,
      seq: s.seq,
      count: s.count,
      sealed: s.sealed,
      slotNum: s.slotNum,
      minOffset: s.minOffset,
      maxOffset: s.maxOffset,
      minTimestamp: s.minTs,
      maxTimestamp: s.maxTs,
    }));
  }

  close(): void {
    if (this.closed) return;
    try {
      this.flush(true);
    } finally {
      this.closed = true;
      for (const seg of this.segments) this.closeFds(seg);
      this.segments = [];
      this.active = null;
    }
  }

  // ---- loading ----

  private load(): void {
    const io = this.io;
    io.mkdirp(this.dir);
    const seqs: number[] = [];
    const names = io.readdir(this.dir);
    const idxNames = new Set<string>();
    for (const name of names) {
      const m = IDX_NAME.exec(name);
      if (m !== null) {
        seqs.push(Number(m[1]));
        idxNames.add(name);
      }
    }
    for (const name of names) {
      const sm = SLOTS_NAME.exec(name);
      if (name.endsWith(".tmp") || (sm !== null && !idxNames.has(name.replace(/\.slots$/, ".idx")))) {
        this.tryUnlink(join(this.dir, name));
      }
    }
    seqs.sort((a, b) => a - b);
    for (const seq of seqs) {
      this.nextSeq = Math.max(this.nextSeq, seq + 1);
      const path = join(this.dir, keyIndexFileName(seq));
      try {
        this.segments.push(this.loadSegment(seq));
      } catch (err) {
        this.warn(`${keyIndexFileName(seq)}: unreadable, skipped (${(err as Error).message})`);
        this.lost.push({ seq, path });
      }
    }
    for (let i = 0; i < this.segments.length; i++) {
      const seg = this.segments[i]!;
      if (seg.sealed) continue;
      if (i === this.segments.length - 1) {
        // The newest segment without a valid sidecar is the active one: its slot table lives in memory.
        this.dropSidecar(seg);
        seg.slots = this.scan(seg);
        this.active = seg;
      } else {
        this.warn(`${seg.name}: slot table missing or stale, rebuilt`);
        const slots = this.scan(seg);
        seg.sealed = true;
        this.persistRebuilt(seg, slots);
      }
    }
    this.recomputeLastOffset();
  }

  private loadSegment(seq: number): Segment {
    const io = this.io;
    const name = keyIndexFileName(seq);
    const path = join(this.dir, name);
    const fd = io.open(path, "r+");
    try {
      const size = io.size(fd);
      const hdr = this.scratch;
      if (size < H || this.readFully(fd, hdr, H, 0) < H)
        throw new BadFileError(`short header (${size} bytes)`);
      if (hdr.readUInt32LE(0) !== FILE_MAGIC) throw new BadFileError("bad magic");
      if (hdr.readUInt32LE(28) !== crc32(hdr.subarray(0, 28)))
        throw new BadFileError("header checksum mismatch");
      if (hdr.readUInt16LE(4) !== VERSION) throw new BadFileError(`unknown version ${hdr.readUInt16LE(4)}`);
      const slotNum = hdr.readUInt32LE(8);
      if (slotNum < 1 || slotNum > MAX_SLOT_NUM) throw new BadFileError(`bad slotNum ${slotNum}`);
      const seg = new Segment(this.dir, seq, slotNum, readI64(hdr, 16), true);
      seg.fd = fd;
      let count = Math.floor((size - H) / E);
      if (count > I32_MAX) count = I32_MAX;
      if (H + count * E !== size) {
        this.warn(`${name}: torn tail of ${size - H - count * E} bytes truncated`);
        io.truncate(fd, H + count * E);
      }
      seg.diskCount = seg.count = count;
      this.loadSidecarSummary(seg);
      return seg;
    } catch (err) {
      io.close(fd);
      throw err;
    }
  }

  /** Marks the segment sealed if its sidecar header is sound and describes exactly this file. */
  private loadSidecarSummary(seg: Segment): void {
    const io = this.io;
    if (!io.exists(seg.slotsPath)) return;
    let fd = -1;
    try {
      fd = io.open(seg.slotsPath, "r");
      const b = this.scratch;
      if (io.size(fd) !== SH + seg.slotNum * 4 || this.readFully(fd, b, SH, 0) < SH) return;
      if (b.readUInt32LE(0) !== SLOTS_MAGIC || b.readUInt16LE(4) !== VERSION) return;
      if (b.readUInt32LE(52) !== crc32(b.subarray(0, 52))) return;
      if (b.readUInt32LE(8) !== seg.slotNum || b.readUInt32LE(12) !== seg.count) return;
      seg.minOffset = readI64(b, 16);
      seg.maxOffset = readI64(b, 24);
      seg.minTs = readI64(b, 32);
      seg.maxTs = readI64(b, 40);
      seg.sealed = true;
    } catch {
      // Treated as missing: rebuilt by scanning.
    } finally {
      if (fd >= 0) io.close(fd);
    }
  }

  /**
   * Reads the segment's entries, checks each one links to the previous entry of its slot and that offsets don't
   * decrease, truncates the file at the first entry that fails (a garbage tail), and returns the slot table.
   * Also recomputes the segment's summary.
   */
  private scan(seg: Segment): Int32Array {
    const slots = new Int32Array(seg.slotNum).fill(-1);
    const buf = Buffer.allocUnsafe(SCAN_CHUNK_ENTRIES * E);
    const total = seg.diskCount;
    seg.count = 0;
    let lastOffset = 0;
    let bad = false;
    for (let start = 0; start < total && !bad; start += SCAN_CHUNK_ENTRIES) {
      const want = Math.min(SCAN_CHUNK_ENTRIES, total - start) * E;
      const got = this.readFully(seg.fd, buf, want, H + start * E);
      const n = Math.floor(got / E);
      for (let i = 0; i < n; i++) {
        const p = i * E;
        const h = buf.readInt32LE(p);
        const off = readI64(buf, p + 4);
        const prev = buf.readInt32LE(p + 16);
        const slot = h % seg.slotNum;
        if (h < 0 || off < lastOffset || prev !== slots[slot]) {
          bad = true;
          break;
        }
        lastOffset = off;
        seg.noteEntry(off, seg.beginTs + buf.readInt32LE(p + 12));
        slots[slot] = start + i;
        seg.count++;
      }
      if (n * E < want) bad = true;
    }
    if (seg.count < total) {
      this.warn(`${seg.name}: ${total - seg.count} damaged entries from #${seg.count} truncated`);
      this.io.truncate(seg.fd, H + seg.count * E);
    }
    seg.diskCount = seg.count;
    if (seg.count === 0) seg.minOffset = seg.maxOffset = -1;
    return slots;
  }

  // ---- writing ----

  private roll(beginTs: number): Segment {
    const old = this.active;
    if (old !== null) {
      old.sealed = true;
      old.needsSidecar = true;
    }
    const seg = new Segment(this.dir, this.nextSeq++, this.slotNum, beginTs, false);
    seg.slots = new Int32Array(seg.slotNum).fill(-1);
    const buf = Buffer.alloc(INITIAL_PENDING);
    buf.writeUInt32LE(FILE_MAGIC, 0);
    buf.writeUInt16LE(VERSION, 4);
    buf.writeUInt32LE(seg.slotNum, 8);
    writeI64(buf, 16, beginTs);
    buf.writeUInt32LE(crc32(buf.subarray(0, 28)), 28);
    this.setPending(seg, buf);
    seg.pendingLen = H;
    this.segments.push(seg);
    this.active = seg;
    return seg;
  }

  private growPending(seg: Segment, need: number): DataView {
    const old = seg.pending;
    let size = old === null ? INITIAL_PENDING : old.length * 2;
    while (size < need) size *= 2;
    const buf = Buffer.allocUnsafe(size);
    if (old !== null) old.copy(buf, 0, 0, seg.pendingLen);
    return this.setPending(seg, buf);
  }

  private setPending(seg: Segment, buf: Buffer): DataView {
    seg.pending = buf;
    seg.pendingView = new DataView(buf.buffer, buf.byteOffset, buf.length);
    return seg.pendingView;
  }

  private writeSidecar(seg: Segment, slots: Int32Array): void {
    const buf = Buffer.alloc(SH + seg.slotNum * 4);
    for (let i = 0; i < slots.length; i++) buf.writeInt32LE(slots[i]!, SH + i * 4);
    buf.writeUInt32LE(SLOTS_MAGIC, 0);
    buf.writeUInt16LE(VERSION, 4);
    buf.writeUInt32LE(seg.slotNum, 8);
    buf.writeUInt32LE(seg.count, 12);
    writeI64(buf, 16, seg.minOffset);
    writeI64(buf, 24, seg.maxOffset);
    writeI64(buf, 32, seg.minTs);
    writeI64(buf, 40, seg.maxTs);
    buf.writeUInt32LE(crc32(buf.subarray(SH)), 48);
    buf.writeUInt32LE(crc32(buf.subarray(0, 52)), 52);
    this.closeSidecarFd(seg);
    this.io.writeFileAtomic(seg.slotsPath, buf);
  }

  /** Writes a rebuilt sidecar; if that fails the table stays in memory so queries still work. */
  private persistRebuilt(seg: Segment, slots: Int32Array): void {
    try {
      this.writeSidecar(seg, slots);
      seg.slots = null;
    } catch (err) {
      this.warn(`${seg.name}: cannot write slot table (${(err as Error).message}), kept in memory`);
      seg.slots = slots;
    }
  }

  private writeFully(fd: number, buf: Buffer, len: number, pos: number): void {
    let off = 0;
    while (off < len) {
      const n = this.io.writeSync(fd, buf, off, len - off, pos + off);
      if (!(n > 0)) throw new Error("key index: write made no progress");
      off += n;
    }
  }

  private syncDir(): void {
    try {
      const fd = this.io.open(this.dir, "r");
      try {
        this.io.fdatasyncSync(fd);
      } finally {
        this.io.close(fd);
      }
    } catch {
      // Some file systems refuse to sync a directory.
    }
  }

  // ---- reading ----

  private readFully(fd: number, buf: Buffer, len: number, pos: number): number {
    let got = 0;
    while (got < len) {
      const n = this.io.read(fd, buf, got, len - got, pos + got);
      if (!(n > 0)) break;
      got += n;
    }
    return got;
  }

  /** Loads entry `idx` of `seg` into eHash/eOffset/eDiff/ePrev; false if it can't be read. */
  private readEntry(seg: Segment, idx: number): boolean {
    let buf: Buffer;
    let p: number;
    if (idx >= seg.diskCount) {
      buf = seg.pending!;
      p = (seg.created ? 0 : H) + (idx - seg.diskCount) * E;
    } else {
      buf = this.scratch;
      p = 0;
      if (this.readFully(seg.fd, buf, E, H + idx * E) < E) return false;
    }
    this.eHash = buf.readInt32LE(p);
    this.eOffset = readI64(buf, p + 4);
    this.eDiff = buf.readInt32LE(p + 12);
    this.ePrev = buf.readInt32LE(p + 16);
    return true;
  }

  private slotHead(seg: Segment, slot: number): number {
    if (seg.slots !== null) return seg.slots[slot] ?? -1;
    if (seg.sidecarFd < 0) {
      this.openSidecar(seg);
      if (seg.slots !== null) return seg.slots[slot] ?? -1;
    }
    const b = this.scratch;
    if (this.readFully(seg.sidecarFd, b, 4, SH + slot * 4) < 4) return -1;
    return b.readInt32LE(0);
  }

  /** Opens a sealed segment's sidecar for slot reads, checking its whole content once; rebuilds it if damaged. */
  private openSidecar(seg: Segment): void {
    try {
      const data = this.io.readFile(seg.slotsPath);
      if (
        data.length === SH + seg.slotNum * 4 &&
        data.readUInt32LE(0) === SLOTS_MAGIC &&
        data.readUInt32LE(52) === crc32(data.subarray(0, 52)) &&
        data.readUInt32LE(8) === seg.slotNum &&
        data.readUInt32LE(12) === seg.count &&
        data.readUInt32LE(48) === crc32(data.subarray(SH))
      ) {
        seg.sidecarFd = this.io.open(seg.slotsPath, "r");
        return;
      }
    } catch {
      // Rebuilt below.
    }
    this.warn(`${seg.name}: slot table damaged, rebuilt`);
    const slots = this.scan(seg);
    this.persistRebuilt(seg, slots);
    if (seg.slots === null) {
      try {
        seg.sidecarFd = this.io.open(seg.slotsPath, "r");
      } catch {
        seg.slots = slots;
      }
    }
  }

  // ---- housekeeping ----

  private recomputeLastOffset(): void {
    let last = -1;
    for (const s of this.segments) if (s.count > 0 && s.maxOffset > last) last = s.maxOffset;
    this._lastIndexedOffset = last;
  }

  private removeSegment(seg: Segment): void {
    this.closeFds(seg);
    if (seg.created) this.tryUnlink(seg.path);
    this.tryUnlink(seg.slotsPath);
    if (this.active === seg) this.active = null;
  }

  private dropSidecar(seg: Segment): void {
    this.closeSidecarFd(seg);
    seg.needsSidecar = false;
    if (this.io.exists(seg.slotsPath)) this.io.unlink(seg.slotsPath);
  }

  private closeSidecarFd(seg: Segment): void {
    if (seg.sidecarFd >= 0) {
      const fd = seg.sidecarFd;
      seg.sidecarFd = -1;
      this.io.close(fd);
    }
  }

  private closeFds(seg: Segment): void {
    this.closeSidecarFd(seg);
    if (seg.fd >= 0) {
      const fd = seg.fd;
      seg.fd = -1;
      this.io.close(fd);
    }
  }

  private tryUnlink(path: string): boolean {
    try {
      if (this.io.exists(path)) this.io.unlink(path);
      return true;
    } catch {
      return false;
    }
  }

  private warn(msg: string): void {
    if (this.warnings.length >= MAX_WARNINGS) this.warnings.shift();
    this.warnings.push(msg);
  }
}
