// One consume queue: the index of a (topic, queue id) into the commit log. Fixed 20-byte units
// `commitLogOffset i64 | size i32 | tagsCode i64`, in files of `entriesPerFile` units named by their starting
// byte offset (20 digits), so a unit's queue offset is its byte offset / 20, as in RocketMQ. A unit with size 0
// is a hole (the queue started past the file's first unit). Units are kept in memory until the next flush, so
// the append path makes no system call; every unit can be rebuilt from the commit log.
import { join } from "node:path";
import { readInt64BE } from "../common/int64.js";
import type { FileHandles } from "./file-handles.js";
import type { FileIO } from "./file-io.js";
import { setInt64 } from "./record-writer.js";

export const UNIT = 20;

interface QueueFile {
  /** Queue offset of the file's first unit. */
  base: number;
  path: string;
  /** -1 while closed: files are opened on use through FileHandles. */
  fd: number;
  /** Units present on disk (from base), holes included. */
  units: number;
}

export class ConsumeQueue {
  private files: QueueFile[] = [];
  private tail: Buffer = Buffer.allocUnsafe(UNIT * 64);
  /** A DataView of `tail`: units are written through it (cheaper than Buffer.writeInt32BE). */
  private tailView = viewOf(this.tail);
  private tailUnits = 0;
  /** Queue offset of the first unit in `tail`. */
  private tailBase = 0;
  minOffset = 0;
  readonly dir: string;

  constructor(
    root: string,
    readonly topic: string,
    readonly queueId: number,
    private readonly io: FileIO,
    private readonly entriesPerFile: number,
    private readonly handles: FileHandles,
  ) {
    this.dir = join(root, topic, String(queueId));
  }

  /** Loads the files on disk; returns a problem description when they are not a contiguous run. */
  load(): string | undefined {
    if (!this.io.exists(this.dir)) return undefined;
    const names = this.io
      .readdir(this.dir)
      .filter((n) => /^\d{20}$/.test(n))
      .sort();
    let problem: string | undefined;
    for (const name of names) {
      const base = Number(name) / UNIT;
      const path = join(this.dir, name);
      const f: QueueFile = { base, path, fd: -1, units: 0 };
      const fd = this.handles.fd(f);
      const bytes = this.io.size(fd);
      f.units = Math.floor(bytes / UNIT);
      if (bytes % UNIT !== 0) this.io.truncate(fd, f.units * UNIT);
      const prev = this.files[this.files.length - 1];
      if (prev && (prev.base + this.entriesPerFile !== base || prev.units !== this.entriesPerFile)) {
        problem ??= `consume queue ${this.topic}/${this.queueId}: file ${name} does not follow the previous one`;
      }
      this.files.push(f);
    }
    const last = this.files[this.files.length - 1];
    this.tailBase = last ? last.base + last.units : 0;
    this.minOffset = this.findFirstUnit();
    return problem;
  }

  private findFirstUnit(): number {
    const first = this.files[0];
    if (!first) return this.tailBase;
    const buf = Buffer.allocUnsafe(UNIT);
    // Holes only precede the first real unit, so a binary search finds it.
    let lo = 0;
    let hi = first.units;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      this.io.read(this.handles.fd(first), buf, 0, UNIT, mid * UNIT);
      if (buf.readInt32BE(8) > 0) hi = mid;
      else lo = mid + 1;
    }
    return first.base + lo;
  }

  get maxOffset(): number {
    return this.tailBase + this.tailUnits;
  }

  get isEmpty(): boolean {
    return this.maxOffset <= this.minOffset;
  }

  /** Adds a unit. Offsets below the max are already present (rebuilds are idempotent). */
  put(queueOffset: number, phyOffset: number, size: number, tagsCode: number): void {
    const max = this.maxOffset;
    if (queueOffset < max) return;
    if (queueOffset > max) {
      if (this.isEmpty) {
        // A queue whose earlier units are gone (deleted by retention, or a rebuilt queue) starts here.
        this.flush(false);
        this.tailBase = queueOffset;
        this.minOffset = queueOffset;
      } else {
        // Hole-fill keeps offsets aligned with positions; the broker skips size-0 units.
        while (this.maxOffset < queueOffset) this.appendUnit(0, 0, 0);
      }
    }
    this.appendUnit(phyOffset, size, tagsCode);
  }

  private appendUnit(phyOffset: number, size: number, tagsCode: number): void {
    const pos = this.tailUnits * UNIT;
    if (pos + UNIT > this.tail.length) {
      const bigger = Buffer.allocUnsafe(this.tail.length * 2);
      this.tail.copy(bigger, 0, 0, pos);
      this.setTail(bigger);
    }
    const v = this.tailView;
    setInt64(v, pos, phyOffset);
    v.setInt32(pos + 8, size);
    setInt64(v, pos + 12, tagsCode);
    this.tailUnits++;
  }

  private setTail(buf: Buffer): void {
    this.tail = buf;
    this.tailView = viewOf(buf);
  }

  /**
   * Writes the in-memory units to their files; with `sync`, also makes them durable. With `touched`, the fds
   * written are collected there instead, for the caller to fdatasync without blocking the event loop.
   */
  flush(sync: boolean, touched?: number[]): void {
    let done = 0;
    while (done < this.tailUnits) {
      const offset = this.tailBase + done;
      const file = this.fileFor(offset, true)!;
      const local = offset - file.base;
      const n = Math.min(this.tailUnits - done, this.entriesPerFile - local);
      const fd = this.handles.fd(file);
      this.writeAll(fd, this.tail, done * UNIT, n * UNIT, local * UNIT);
      file.units = Math.max(file.units, local + n);
      if (sync) this.io.fdatasyncSync(fd);
      else touched?.push(fd);
      done += n;
    }
    const flushed = this.tailUnits;
    this.tailBase += flushed;
    this.tailUnits = 0;
    // A queue that stays busy keeps its buffer: shrinking it at every flush made a hot queue regrow it by
    // doubling each time, copies and fresh pages included (append-async +13 %, BENCHMARKS.md, session 8). One
    // whose last interval used under a quarter of it gives the memory back.
    if (this.tail.length > UNIT * 4096 && flushed * UNIT * 4 < this.tail.length) {
      this.setTail(Buffer.allocUnsafe(UNIT * 64));
    }
  }

  private writeAll(fd: number, buf: Buffer, off: number, len: number, pos: number): void {
    let w = 0;
    while (w < len) {
      const n = this.io.writeSync(fd, buf, off + w, len - w, pos + w);
      if (n <= 0) throw new Error("consume queue write made no progress");
      w += n;
    }
  }

  private fileFor(offset: number, create: boolean): QueueFile | undefined {
    for (let i = this.files.length - 1; i >= 0; i--) {
      const f = this.files[i]!;
      if (offset >= f.base && offset < f.base + this.entriesPerFile) return f;
      if (offset >= f.base + this.entriesPerFile) break;
    }
    if (!create) return undefined;
    this.io.mkdirp(this.dir);
    const base = Math.floor(offset / this.entriesPerFile) * this.entriesPerFile;
    const path = join(this.dir, String(base * UNIT).padStart(20, "0"));
    const f: QueueFile = { base, path, fd: this.io.open(path, "w+"), units: 0 };
    this.handles.adopt(f);
    this.files.push(f);
    this.files.sort((a, b) => a.base - b.base);
    return f;
  }

  /**
   * Reads up to `count` units from `offset` into a buffer of units (count * 20 bytes at most); fewer when the
   * queue ends or a file boundary is reached. Returns an empty buffer when nothing is there.
   */
  read(offset: number, count: number): Buffer {
    if (offset < this.minOffset || offset >= this.maxOffset || count <= 0) return Buffer.alloc(0);
    if (offset >= this.tailBase) {
      const from = (offset - this.tailBase) * UNIT;
      const n = Math.min(count, this.tailUnits - (offset - this.tailBase));
      return Buffer.from(this.tail.subarray(from, from + n * UNIT));
    }
    const file = this.fileFor(offset, false);
    if (!file) return Buffer.alloc(0);
    const local = offset - file.base;
    const n = Math.min(count, file.units - local, this.tailBase - offset);
    if (n <= 0) return Buffer.alloc(0);
    const buf = Buffer.allocUnsafe(n * UNIT);
    let got = 0;
    while (got < n * UNIT) {
      const r = this.io.read(this.handles.fd(file), buf, got, n * UNIT - got, local * UNIT + got);
      if (r <= 0) break;
      got += r;
    }
    return buf.subarray(0, Math.floor(got / UNIT) * UNIT);
  }

  /** The unit at `offset`, or undefined. */
  unit(offset: number): { phy: number; size: number; tagsCode: number } | undefined {
    const b = this.read(offset, 1);
    if (b.length < UNIT) return undefined;
    return { phy: readInt64BE(b, 0), size: b.readInt32BE(8), tagsCode: readInt64BE(b, 12) };
  }

  /** The last real unit (skipping holes), or undefined. */
  lastUnit(): { offset: number; phy: number; size: number } | undefined {
    for (let o = this.maxOffset - 1; o >= this.minOffset; o--) {
      const u = this.unit(o);
      if (u && u.size > 0) return { offset: o, phy: u.phy, size: u.size };
    }
    return undefined;
  }

  /** Drops every unit that points at or past `phyEnd` (the commit log was truncated there). */
  truncateByPhy(phyEnd: number): void {
    let keep = this.maxOffset;
    while (keep > this.minOffset) {
      const u = this.unit(keep - 1);
      if (!u || u.size === 0 || u.phy + u.size > phyEnd) keep--;
      else break;
    }
    this.truncateTo(keep);
  }

  /** Keeps units below `offset` only. */
  truncateTo(offset: number): void {
    if (offset >= this.maxOffset) return;
    if (offset >= this.tailBase) {
      this.tailUnits = offset - this.tailBase;
      return;
    }
    this.tailUnits = 0;
    while (this.files.length > 0) {
      const f = this.files[this.files.length - 1]!;
      if (f.base >= offset) {
        this.handles.close(f);
        this.io.unlink(f.path);
        this.files.pop();
        continue;
      }
      f.units = offset - f.base;
      this.io.truncate(this.handles.fd(f), f.units * UNIT);
      break;
    }
    this.tailBase = offset;
    if (this.minOffset > offset) this.minOffset = offset;
  }

  /**
   * Deletes files whose every unit points below `minPhy` (their commit log is gone) and moves the minimum
   * offset past units that point below it. Returns how many files were deleted.
   */
  deleteBelowPhy(minPhy: number): number {
    let deleted = 0;
    while (this.files.length > 1) {
      const f = this.files[0]!;
      const lastInFile = this.unit(f.base + f.units - 1);
      if (!lastInFile || lastInFile.phy + lastInFile.size > minPhy || f.units < this.entriesPerFile) break;
      this.handles.close(f);
      this.io.unlink(f.path);
      this.files.shift();
      deleted++;
    }
    if (this.files[0]) this.minOffset = Math.max(this.minOffset, this.files[0].base);
    while (this.minOffset < this.maxOffset) {
      const u = this.unit(this.minOffset);
      if (u && u.size > 0 && u.phy >= minPhy) break;
      this.minOffset++;
    }
    return deleted;
  }

  /** Removes every file of this queue. */
  destroy(): void {
    for (const f of this.files) this.handles.close(f);
    this.io.rmrf(this.dir);
    this.files = [];
    this.tailUnits = 0;
  }

  close(): void {
    for (const f of this.files) {
      try {
        this.handles.close(f);
      } catch {
        // already closed
      }
    }
    this.files = [];
  }
}

function viewOf(buf: Buffer): DataView {
  return new DataView(buf.buffer, buf.byteOffset, buf.length);
}
