// The timer log: an append-only sequence of fixed 40-byte entries, one per timer placed in the wheel, cut into
// files of `entriesPerFile` entries named by their 20-digit starting byte offset (as consume-queue files are).
// An entry is addressed by its index ("position"). Big-endian:
//
//   0 dueMs i64 | 8 commitLogOffset i64 | 16 prevPos i64 (-1: first of its slot) | 24 slotTick i64
//  32 size i32 | 36 magic u16 + flags u16
//
// prevPos chains every entry of one wheel slot backwards from the slot's last entry, so a slot is read by
// walking its chain (RocketMQ's TimerLog does the same). slotTick is the slot the entry was linked into, which
// is not always its due tick: a late timer is linked into the oldest undelivered slot and a rolled one into the
// window's edge. Entries are kept in memory until the next flush (like consume-queue units), so appending makes
// no system call; nothing in the log is trusted past the checkpoint's position.
import { join } from "node:path";
import { readInt64BE, writeInt64BE } from "../../common/int64.js";
import type { FileIO } from "../file-io.js";

export const ENTRY_BYTES = 40;
const MAGIC = 0x71e5;

export const TimerFlag = {
  /** Parked at the window's edge: re-enqueue (with a fresh commit-log copy) when reached, do not deliver. */
  ROLL: 1,
  /** Arrived after its slot had been loaded: delivered from memory, linked only so recovery finds it. */
  LATE: 2,
} as const;

/** One decoded entry; callers reuse one object (reads fill it in place). */
export interface TimerEntry {
  due: number;
  phy: number;
  prev: number;
  tick: number;
  size: number;
  flags: number;
}

export function newEntry(): TimerEntry {
  return { due: 0, phy: 0, prev: -1, tick: 0, size: 0, flags: 0 };
}

interface LogFile {
  /** Position of the file's first entry. */
  base: number;
  path: string;
  fd: number;
  /** Entries on disk. */
  count: number;
}

interface Block {
  start: number;
  count: number;
  buf: Buffer;
  used: number;
}

const BLOCK_ENTRIES = 1024;
/** The in-memory tail is written out once it holds this many bytes, whatever the flush schedule. */
const TAIL_WRITE_BYTES = 1 << 20;

export class TimerLog {
  private files: LogFile[] = [];
  private tail = Buffer.allocUnsafe(ENTRY_BYTES * 1024);
  /** Entries below this are in files; [writtenPos, appendPos) are in `tail`. */
  writtenPos = 0;
  appendPos = 0;
  /** Highest slot tick of the entries of each file (keyed by base), for deleting files no slot needs. */
  private readonly maxTicks = new Map<number, number>();
  private readonly blocks: Block[] = [
    { start: -1, count: 0, buf: Buffer.allocUnsafe(BLOCK_ENTRIES * ENTRY_BYTES), used: 0 },
    { start: -1, count: 0, buf: Buffer.allocUnsafe(BLOCK_ENTRIES * ENTRY_BYTES), used: 0 },
  ];
  private useClock = 0;

  constructor(
    readonly dir: string,
    private readonly io: FileIO,
    readonly entriesPerFile: number,
  ) {}

  /** Opens the files on disk; returns problems found (gaps between files). */
  load(): string[] {
    const problems: string[] = [];
    this.io.mkdirp(this.dir);
    const names = this.io
      .readdir(this.dir)
      .filter((n) => /^\d{20}$/.test(n))
      .sort();
    for (const name of names) {
      const base = Number(name) / ENTRY_BYTES;
      const path = join(this.dir, name);
      const fd = this.io.open(path, "r+");
      const bytes = this.io.size(fd);
      const count = Math.min(this.entriesPerFile, Math.floor(bytes / ENTRY_BYTES));
      if (bytes !== count * ENTRY_BYTES) this.io.truncate(fd, count * ENTRY_BYTES);
      const prev = this.files[this.files.length - 1];
      if (prev && prev.base + prev.count !== base) {
        problems.push(`timer log file ${name} does not follow the previous one`);
      }
      this.files.push({ base, path, fd, count });
    }
    const last = this.files[this.files.length - 1];
    this.writtenPos = this.appendPos = last ? last.base + last.count : 0;
    return problems;
  }

  /** The oldest position still stored. */
  get minPos(): number {
    return this.files[0]?.base ?? this.writtenPos;
  }

  private fileBase(pos: number): number {
    return Math.floor(pos / this.entriesPerFile) * this.entriesPerFile;
  }

  /**
   * Makes room for one more entry: grows the in-memory tail, or writes it out once large. Call before linking
   * an entry into the wheel, so that append() itself cannot fail.
   */
  ensureRoom(): void {
    const off = (this.appendPos - this.writtenPos) * ENTRY_BYTES;
    if (off + ENTRY_BYTES <= this.tail.length) return;
    if (off >= TAIL_WRITE_BYTES) {
      this.writeTail();
      return;
    }
    const bigger = Buffer.allocUnsafe(this.tail.length * 2);
    this.tail.copy(bigger, 0, 0, off);
    this.tail = bigger;
  }

  append(due: number, phy: number, size: number, prev: number, tick: number, flags: number): number {
    this.ensureRoom();
    const pos = this.appendPos;
    const off = (pos - this.writtenPos) * ENTRY_BYTES;
    const t = this.tail;
    writeInt64BE(t, due, off);
    writeInt64BE(t, phy, off + 8);
    writeInt64BE(t, prev, off + 16);
    writeInt64BE(t, tick, off + 24);
    t.writeInt32BE(size, off + 32);
    t.writeUInt16BE(MAGIC, off + 36);
    t.writeUInt16BE(flags, off + 38);
    this.appendPos = pos + 1;
    const base = this.fileBase(pos);
    const m = this.maxTicks.get(base);
    if (m === undefined || tick > m) this.maxTicks.set(base, tick);
    return pos;
  }

  /** Fills `out` with the entry at `pos`; false when it is not stored or not an entry. */
  read(pos: number, out: TimerEntry): boolean {
    if (pos < this.minPos || pos >= this.appendPos) return false;
    if (pos >= this.writtenPos) return decode(this.tail, (pos - this.writtenPos) * ENTRY_BYTES, out);
    for (const b of this.blocks) {
      if (pos >= b.start && pos < b.start + b.count) {
        b.used = ++this.useClock;
        return decode(b.buf, (pos - b.start) * ENTRY_BYTES, out);
      }
    }
    const file = this.fileOf(pos);
    if (!file || pos >= file.base + file.count) return false;
    // Chains are walked backwards, so the block ends at `pos`.
    const start = Math.max(file.base, pos - BLOCK_ENTRIES + 1);
    const b = this.blocks[0]!.used <= this.blocks[1]!.used ? this.blocks[0]! : this.blocks[1]!;
    const want = (pos - start + 1) * ENTRY_BYTES;
    const got = this.readFully(file.fd, b.buf, want, (start - file.base) * ENTRY_BYTES);
    if (got !== want) {
      b.start = -1;
      b.count = 0;
      return false;
    }
    b.start = start;
    b.count = pos - start + 1;
    b.used = ++this.useClock;
    return decode(b.buf, (pos - start) * ENTRY_BYTES, out);
  }

  /** Calls `fn` for every readable entry in [from, to), in order, reading files in large chunks (recovery). */
  scan(from: number, to: number, fn: (pos: number, e: TimerEntry) => void): void {
    const e = newEntry();
    const chunk = Buffer.allocUnsafe(4096 * ENTRY_BYTES);
    let pos = Math.max(from, this.minPos);
    const end = Math.min(to, this.appendPos);
    while (pos < end) {
      if (pos >= this.writtenPos) {
        if (decode(this.tail, (pos - this.writtenPos) * ENTRY_BYTES, e)) fn(pos, e);
        pos++;
        continue;
      }
      const file = this.fileOf(pos);
      if (!file || pos >= file.base + file.count) {
        pos = file ? file.base + this.entriesPerFile : pos + 1;
        continue;
      }
      const n = Math.min(4096, file.base + file.count - pos, end - pos);
      const got = Math.floor(
        this.readFully(file.fd, chunk, n * ENTRY_BYTES, (pos - file.base) * ENTRY_BYTES) / ENTRY_BYTES,
      );
      for (let i = 0; i < got; i++) if (decode(chunk, i * ENTRY_BYTES, e)) fn(pos + i, e);
      pos += Math.max(got, 1);
    }
  }

  private readFully(fd: number, buf: Buffer, len: number, at: number): number {
    let got = 0;
    while (got < len) {
      const n = this.io.read(fd, buf, got, len - got, at + got);
      if (n <= 0) break;
      got += n;
    }
    return got;
  }

  private fileOf(pos: number): LogFile | undefined {
    const fs = this.files;
    let lo = 0;
    let hi = fs.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const f = fs[mid]!;
      if (pos < f.base) hi = mid - 1;
      else if (pos >= f.base + this.entriesPerFile) lo = mid + 1;
      else return f;
    }
    return undefined;
  }

  /** Writes the in-memory entries to their files (not synced); adds the fds written to `touched`. */
  writeTail(touched?: Set<number>): void {
    let done = 0;
    const n = this.appendPos - this.writtenPos;
    while (done < n) {
      const pos = this.writtenPos + done;
      const file = this.fileFor(pos);
      const local = pos - file.base;
      const k = Math.min(n - done, this.entriesPerFile - local);
      let w = 0;
      const len = k * ENTRY_BYTES;
      while (w < len) {
        const r = this.io.writeSync(
          file.fd,
          this.tail,
          done * ENTRY_BYTES + w,
          len - w,
          local * ENTRY_BYTES + w,
        );
        if (r <= 0) throw new Error("timer log write made no progress");
        w += r;
      }
      file.count = Math.max(file.count, local + k);
      touched?.add(file.fd);
      done += k;
    }
    this.writtenPos = this.appendPos;
    if (this.tail.length > TAIL_WRITE_BYTES * 2) this.tail = Buffer.allocUnsafe(ENTRY_BYTES * 1024);
  }

  private fileFor(pos: number): LogFile {
    const f = this.fileOf(pos);
    if (f) return f;
    const base = this.fileBase(pos);
    const path = join(this.dir, String(base * ENTRY_BYTES).padStart(20, "0"));
    const fd = this.io.open(path, "w+");
    const nf: LogFile = { base, path, fd, count: 0 };
    this.files.push(nf);
    this.files.sort((a, b) => a.base - b.base);
    return nf;
  }

  /** File descriptors of every file (for a sync at close). */
  fds(): number[] {
    return this.files.map((f) => f.fd);
  }

  /** Keeps entries below `pos` only (recovery: nothing past the checkpoint is trusted). */
  truncate(pos: number): void {
    if (pos > this.appendPos) throw new Error(`timer log truncate to ${pos} past its end ${this.appendPos}`);
    this.writeTail();
    while (this.files.length > 0) {
      const f = this.files[this.files.length - 1]!;
      if (f.base >= pos) {
        this.io.close(f.fd);
        this.io.unlink(f.path);
        this.maxTicks.delete(f.base);
        this.files.pop();
        continue;
      }
      if (f.base + f.count > pos) {
        f.count = Math.max(0, pos - f.base);
        this.io.truncate(f.fd, f.count * ENTRY_BYTES);
      }
      break;
    }
    this.writtenPos = this.appendPos = pos;
    for (const b of this.blocks) {
      b.start = -1;
      b.count = 0;
    }
  }

  /** Removes every file and starts again at position `pos`. */
  reset(pos = 0): void {
    for (const f of this.files) {
      this.io.close(f.fd);
      this.io.unlink(f.path);
    }
    this.files = [];
    this.maxTicks.clear();
    this.writtenPos = this.appendPos = pos;
    for (const b of this.blocks) {
      b.start = -1;
      b.count = 0;
    }
  }

  /** Max slot tick per file, for the checkpoint. */
  fileTicks(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [base, t] of this.maxTicks) out[String(base)] = t;
    return out;
  }

  /** Restores the per-file max ticks from a checkpoint; files it does not cover are scanned. */
  restoreFileTicks(saved: Record<string, number> | undefined): void {
    this.maxTicks.clear();
    for (const f of this.files) {
      const s = saved?.[String(f.base)];
      if (s !== undefined) {
        this.maxTicks.set(f.base, s);
        continue;
      }
      let m = -1;
      this.scan(f.base, f.base + f.count, (_p, e) => {
        if (e.tick > m) m = e.tick;
      });
      if (m >= 0) this.maxTicks.set(f.base, m);
    }
  }

  /**
   * Deletes files, oldest first, whose entries all belong to slots below `liveTick` (delivered), never the
   * file being appended to. Returns how many were deleted.
   */
  deleteDeadFiles(liveTick: number): number {
    let n = 0;
    while (this.files.length > 1) {
      const f = this.files[0]!;
      if (f.base + this.entriesPerFile > this.writtenPos) break;
      const m = this.maxTicks.get(f.base);
      if (m !== undefined && m >= liveTick) break;
      this.io.close(f.fd);
      this.io.unlink(f.path);
      this.maxTicks.delete(f.base);
      this.files.shift();
      n++;
    }
    for (const b of this.blocks) {
      if (b.start < this.minPos) {
        b.start = -1;
        b.count = 0;
      }
    }
    return n;
  }

  get fileCount(): number {
    return this.files.length;
  }

  close(): void {
    for (const f of this.files) {
      try {
        this.io.close(f.fd);
      } catch {
        // already closed
      }
    }
    this.files = [];
  }
}

function decode(buf: Buffer, off: number, out: TimerEntry): boolean {
  if (buf.readUInt16BE(off + 36) !== MAGIC) return false;
  out.due = readInt64BE(buf, off);
  out.phy = readInt64BE(buf, off + 8);
  out.prev = readInt64BE(buf, off + 16);
  out.tick = readInt64BE(buf, off + 24);
  out.size = buf.readInt32BE(off + 32);
  out.flags = buf.readUInt16BE(off + 38);
  return true;
}
