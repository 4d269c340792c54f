// The commit log: one append-only byte stream for every topic, cut into fixed-size segment files named by their
// 20-digit starting offset. A record never spans two segments: when one does not fit, the rest of the segment
// gets `[remaining i32][BLANK_MAGIC i32]` and the record starts the next segment, as in RocketMQ.
//
// Appends are encoded straight into an open in-memory batch; one writer drains batches in order with one
// positional write each. In sync mode the writer writes every batch it has, then one fdatasync covers them all
// (group commit) before their appends complete. A batch is handed back only once its bytes reached the OS
// (async) or the disk (sync), so an acknowledged record survives a process kill (and a power cut in sync mode).
// Just before it is written a batch is scanned (record-scan.ts: body CRCs, tag and key hashes), by the event loop
// for a small batch and by the batch writer's thread, together with the write, for a big one in async mode
// (batch-writer.ts).
import { join } from "node:path";
import { BLANK_MAGIC } from "../common/message-record.js";
import { allocMovable } from "./batch-writer.js";
import type { WrittenBatch } from "./batch-writer.js";
import type { FileIO } from "./file-io.js";
import { ReadCache } from "./read-cache.js";
import { ScanOut, scanBatch } from "./record-scan.js";

export interface Segment {
  base: number;
  path: string;
  fd: number;
  /** Bytes of the file that hold data (written and not truncated). */
  size: number;
  /** Sync mode: the file was extended (sparse) to the full segment size, see writeBatch. */
  extended?: boolean;
}

export interface Batch<T> {
  segment: Segment;
  /** Global offset of buf[0]. */
  start: number;
  buf: Buffer;
  /** A DataView of `buf`, for the encoder's fixed-width fields. */
  view: DataView;
  len: number;
  sealed: boolean;
  items: T[];
  /** Once written: each record's tag hash and key-index hashes (scanBatch's output). */
  meta: Int32Array;
}

const NO_META = new Int32Array(0);

export interface CommitLogHooks<T> {
  /** The batch's bytes are written (and flushed in sync mode); called in log order. */
  onDone(batch: Batch<T>): void;
  /** The batch and every batch after it were not stored; offsets are rolled back to `batch.start`. */
  onFailed(batches: Batch<T>[], err: Error): void;
}

const BLANK_MIN = 8;
/** Written batches kept for tail reads before their buffers are reused. */
const RECENT_BATCHES = 4;
/** Async mode: batches being written at once (see drainAsync). */
const WRITES_IN_FLIGHT = 3;
/** Async mode: batches from this size are scanned and written by the writer thread (see writeBatch). */
const THREAD_WRITE_BYTES = 512 * 1024;
/** Sync mode: batches up to this size are written synchronously, and groups up to it synced so (see writeBatch). */
const IN_PLACE_WRITE_BYTES = 64 * 1024;
/**
 * Async mode: batches up to this size are written synchronously. A producer sending batches (SEND_BATCH_MESSAGE,
 * autoBatch) fills a 64-256 KiB write from one socket read; through the thread pool its acknowledgements waited
 * on two cross-thread wake-ups while the event loop idled. bench:compare pipelined with autoBatch, alternated:
 * 73-87 k msg/s with 64 KiB, 85-118 k with 256 KiB (512 KiB: no better).
 */
const ASYNC_IN_PLACE_WRITE_BYTES = 256 * 1024;
/**
 * After this many drains started from microtasks in a row, the next one starts from setImmediate (see schedule);
 * a drain that has written this many batches stops and the next one does the same. With in-place writes every
 * step of a drain is a microtask, and appenders that append again as soon as they are acknowledged (in-process
 * writers) would otherwise keep draining forever and starve timers, sockets and stdout. Counted rather than
 * timed: a clock read per drain cost one in flight a few per cent on this VM.
 */
const MAX_MICROTASK_DRAINS = 200;
const MAX_BATCHES_PER_DRAIN = 64;
/** An fdatasync in place that took longer than this sends the next ones through the thread pool... */
const SLOW_SYNC_MS = 50;
/** ...for this long. */
const SLOW_SYNC_BACKOFF_MS = 5_000;

export function segmentName(base: number): string {
  return String(base).padStart(20, "0");
}

export class CommitLog<T> {
  readonly dir: string;
  private segments: Segment[] = [];
  private pending: Batch<T>[] = [];
  private writing = false;
  private scheduled = false;
  /** Drains started from microtasks since the last one from setImmediate (see schedule). */
  private microtaskDrains = 0;
  /** Async mode: the last drain stopped at MAX_BATCHES_PER_DRAIN, so the next one starts from setImmediate. */
  private yieldBeforeDrain = false;
  private readonly cache: ReadCache;
  private readonly freeBuffers: Buffer[] = [];
  /** The event loop's scan output, copied into each batch it scans. */
  private readonly scanOut = new ScanOut();
  /**
   * The last written batches, kept before their buffers are reused: consumers at the tail read just-written
   * records from here instead of filling a 1 MiB cache block with a blocking read. Reads copy out of them, since
   * the buffers are reused later.
   */
  private readonly recent: Batch<T>[] = [];
  /** Next offset an append will take. */
  appendOffset = 0;
  /** Bytes handed to the OS. */
  writtenOffset = 0;
  /** Bytes covered by an fdatasync. */
  flushedOffset = 0;
  hooks: CommitLogHooks<T> | undefined;
  /** performance.now() until which sync mode's fdatasync goes through the thread pool (see drain). */
  private poolSyncUntil = 0;

  constructor(
    storeDir: string,
    private readonly io: FileIO,
    readonly segmentBytes: number,
    private readonly batchBytes: number,
    private readonly syncFlush: boolean,
    cacheBytes: number,
    cacheBlockBytes: number,
  ) {
    this.dir = join(storeDir, "commitlog");
    this.io.mkdirp(this.dir);
    const block = Math.min(cacheBlockBytes, segmentBytes);
    this.cache = new ReadCache(block, cacheBytes);
    for (const name of this.io.readdir(this.dir).sort()) {
      if (!/^\d{20}$/.test(name)) continue;
      const path = join(this.dir, name);
      const fd = this.io.open(path, "r+");
      this.segments.push({ base: Number(name), path, fd, size: this.io.size(fd) });
    }
  }

  get minOffset(): number {
    return this.segments[0]?.base ?? 0;
  }

  get segmentList(): readonly Segment[] {
    return this.segments;
  }

  /**
   * Sets the end of valid data after recovery: truncates the segment holding `end`, removes segments past it,
   * and starts appending there.
   */
  setEnd(end: number): void {
    while (this.segments.length > 0 && this.segments[this.segments.length - 1]!.base > end) {
      const last = this.segments.pop()!;
      this.io.close(last.fd);
      this.io.unlink(last.path);
    }
    const seg = this.segmentFor(end);
    if (seg) {
      const local = end - seg.base;
      if (seg.size !== local || seg.extended) {
        this.io.truncate(seg.fd, local);
        seg.size = local;
        seg.extended = false;
      }
    }
    this.cache.invalidateFrom(end);
    this.appendOffset = this.writtenOffset = this.flushedOffset = end;
  }

  /**
   * Where reserve(len) would put a record, without reserving: the append offset, or the next segment's start
   * when the record does not fit in the current one. A slave checks its master's records against it.
   */
  nextRecordOffset(len: number): number {
    const last = this.segments[this.segments.length - 1];
    const inLast =
      last && this.appendOffset >= last.base && this.appendOffset - last.base < this.segmentBytes;
    const base = inLast ? last.base : this.appendOffset;
    return this.appendOffset - base + len + BLANK_MIN > this.segmentBytes
      ? base + this.segmentBytes
      : this.appendOffset;
  }

  /** Reserves `len` bytes for one record in the open batch and returns where to encode it. */
  reserve(len: number): { batch: Batch<T>; pos: number; offset: number } {
    let seg = this.currentSegment();
    if (this.appendOffset - seg.base + len + BLANK_MIN > this.segmentBytes) {
      this.writeBlank(seg);
      seg = this.newSegment(this.appendOffset);
    }
    let batch = this.pending[this.pending.length - 1];
    if (!batch || batch.sealed || batch.segment !== seg || batch.len + len > batch.buf.length) {
      if (batch) batch.sealed = true;
      batch = this.openBatch(seg, len);
    }
    const pos = batch.len;
    const offset = this.appendOffset;
    batch.len += len;
    this.appendOffset += len;
    this.schedule();
    return { batch, pos, offset };
  }

  private writeBlank(seg: Segment): void {
    const remaining = this.segmentBytes - (this.appendOffset - seg.base);
    let batch = this.pending[this.pending.length - 1];
    if (!batch || batch.sealed || batch.segment !== seg || batch.len + BLANK_MIN > batch.buf.length) {
      if (batch) batch.sealed = true;
      batch = this.openBatch(seg, BLANK_MIN);
    }
    batch.buf.writeInt32BE(remaining, batch.len);
    batch.buf.writeInt32BE(BLANK_MAGIC, batch.len + 4);
    batch.len += BLANK_MIN;
    batch.sealed = true;
    // The blank's declared size covers the rest of the segment; only its 8-byte head is written.
    this.appendOffset += remaining;
  }

  private openBatch(seg: Segment, atLeast: number): Batch<T> {
    const size = Math.max(this.batchBytes, atLeast);
    let buf = size === this.batchBytes ? this.freeBuffers.pop() : undefined;
    // Memory the writer thread can take, when big batches go there (see writeBatch).
    buf ??= this.io.writeScanned && !this.syncFlush ? allocMovable(size) : Buffer.allocUnsafe(size);
    const batch: Batch<T> = {
      segment: seg,
      start: this.appendOffset,
      buf,
      view: new DataView(buf.buffer, buf.byteOffset, buf.length),
      len: 0,
      sealed: false,
      items: [],
      meta: NO_META,
    };
    this.pending.push(batch);
    return batch;
  }

  private currentSegment(): Segment {
    const last = this.segments[this.segments.length - 1];
    if (last && this.appendOffset >= last.base && this.appendOffset - last.base < this.segmentBytes)
      return last;
    return this.newSegment(this.appendOffset);
  }

  private newSegment(base: number): Segment {
    const path = join(this.dir, segmentName(base));
    const fd = this.io.open(path, "w+");
    const seg: Segment = { base, path, fd, size: 0 };
    this.segments.push(seg);
    return seg;
  }

  private schedule(): void {
    if (this.writing || this.scheduled) return;
    this.scheduled = true;
    // Async mode drains from a microtask: the appends made by one callback (one chunk of a socket's data) form a
    // batch, written before the next chunk is handled, so the first sends of a burst are acknowledged while the
    // rest of it is still being read. Waiting for setImmediate held every answer until the poll phase had read
    // a producer's whole window, so producer and broker took turns instead of working at once (pipelined
    // sends 35-41 k -> 58-65 k msg/s). Sync mode keeps setImmediate: the group commit gathers the whole turn's
    // appends, every connection's, under one fdatasync (from a microtask, 16 producers got 12.6 k msg/s, not 18.4 k).
    const run = (): void => {
      this.scheduled = false;
      void this.drain();
    };
    if (this.syncFlush) {
      setImmediate(run);
      return;
    }
    // Nothing here sees the event loop's turns, so the count spans them: a broker, whose drains are each started
    // by a socket read, sends one in MAX_MICROTASK_DRAINS to the check phase for nothing. Rarely enough: sent
    // every 2 ms, that drain waited while the poll phase read whole windows, and send-256 fell from 70 k to
    // 56-60 k msg/s. (A setImmediate per run, to see the turns, cost one in flight 2-3 %.)
    if (this.yieldBeforeDrain || ++this.microtaskDrains >= MAX_MICROTASK_DRAINS) {
      this.yieldBeforeDrain = false;
      this.microtaskDrains = 0;
      setImmediate(run);
    } else {
      queueMicrotask(run);
    }
  }

  private async drain(): Promise<void> {
    if (this.writing) return;
    this.writing = true;
    try {
      await (this.syncFlush ? this.drainSync() : this.drainAsync());
    } finally {
      this.writing = false;
      // Appends made while the last batches were being settled found `writing` set and did not schedule.
      if (this.pending.length > 0) this.schedule();
    }
  }

  /** Sync mode: group commit. */
  private async drainSync(): Promise<void> {
    for (let groups = 0; this.pending.length > 0; groups++) {
      // drain() schedules the rest, from setImmediate as every sync drain.
      if (groups >= MAX_BATCHES_PER_DRAIN) return;
      // Write every batch there is, then one fdatasync for all of them.
      const done: Batch<T>[] = [];
      const touched = new Set<Segment>();
      let bytes = 0;
      while (this.pending.length > done.length && bytes < 64 * this.batchBytes) {
        const b = this.pending[done.length]!;
        b.sealed = true;
        try {
          await this.writeBatch(b);
          this.writtenOffset = this.blankAdjustedEnd(b, b.start + b.len);
        } catch (err) {
          this.fail(done.length, err as Error);
          done.length = 0;
          break;
        }
        touched.add(b.segment);
        done.push(b);
        bytes += b.len;
      }
      if (done.length === 0) continue;
      try {
        // A small group (a few producers, or one waiting on each ack) is synced in place, for the reason
        // small batches are written in place: the thread pool's two cross-thread wake-ups cost more than
        // the fdatasync saves by leaving the event loop free, and sends that arrive meanwhile wait in the
        // socket and form the next group. Big groups, where encoding the next group while this one syncs
        // pays, still go through the pool. Sync publish with one in flight: 1.3-1.4 k -> 2.3 k msg/s.
        // A disk that stalls must not freeze the whole process (pulls, heartbeats, the NameServer):
        // after an in-place sync over SLOW_SYNC_MS, every sync goes through the pool for a while.
        if (bytes <= IN_PLACE_WRITE_BYTES && performance.now() >= this.poolSyncUntil) {
          const t0 = performance.now();
          for (const seg of touched) this.io.fdatasyncSync(seg.fd);
          const t1 = performance.now();
          if (t1 - t0 > SLOW_SYNC_MS) this.poolSyncUntil = t1 + SLOW_SYNC_BACKOFF_MS;
        } else {
          for (const seg of touched) await this.io.fdatasync(seg.fd);
        }
      } catch (err) {
        this.fail(0, err as Error);
        continue;
      }
      const last = done[done.length - 1]!;
      const end = last.start + last.len;
      this.flushedOffset = Math.max(this.flushedOffset, this.blankAdjustedEnd(last, end));
      this.pending.splice(0, done.length);
      for (const b of done) {
        this.hooks?.onDone(b);
        this.remember(b);
      }
    }
  }

  /** The batch's memory, back from the writer thread. */
  private setBuffer(b: Batch<T>, buf: Buffer): void {
    b.buf = buf;
    b.view = new DataView(buf.buffer, buf.byteOffset, buf.length);
  }

  /**
   * Async mode: up to WRITES_IN_FLIGHT batches are being written at once (the writer thread takes them in order),
   * so the event loop encodes the next batches meanwhile; they complete strictly in log order.
   */
  private async drainAsync(): Promise<void> {
    const inFlight: Promise<void>[] = [];
    for (let written = 0; this.pending.length > 0; written++) {
      if (inFlight.length === 0 && written >= MAX_BATCHES_PER_DRAIN) {
        this.yieldBeforeDrain = true;
        return;
      }
      while (inFlight.length < WRITES_IN_FLIGHT && inFlight.length < this.pending.length) {
        const b = this.pending[inFlight.length]!;
        // The batch still open waits while others are written: it fills up meanwhile, into one bigger write.
        if (!b.sealed && inFlight.length > 0) break;
        b.sealed = true;
        const w = this.writeBatch(b);
        w.catch(() => undefined); // handled below, in order
        inFlight.push(w);
      }
      try {
        await inFlight[0];
      } catch (err) {
        // Later writes may still be under way: let them land before the failed range is cut off.
        await Promise.allSettled(inFlight);
        inFlight.length = 0;
        this.fail(0, err as Error);
        continue;
      }
      inFlight.shift();
      const b = this.pending.shift()!;
      this.writtenOffset = this.blankAdjustedEnd(b, b.start + b.len);
      this.hooks?.onDone(b);
      this.remember(b);
    }
  }

  /** A batch that ends with a blank logically ends at the segment's end. */
  private blankAdjustedEnd(b: Batch<T>, end: number): number {
    if (b.len >= BLANK_MIN && b.buf.readInt32BE(b.len - 4) === BLANK_MAGIC) {
      return b.segment.base + this.segmentBytes;
    }
    return end;
  }

  private async writeBatch(b: Batch<T>): Promise<void> {
    const seg = b.segment;
    let off = 0;
    const filePos = b.start - seg.base;
    // A small batch is written in place: a page-cache write of a few KiB costs less than the thread-pool round
    // trip, whose two cross-thread wake-ups dominate an ack's latency at moderate rates. (In sync mode the
    // fdatasync that follows is in place too for a small group; see drainSync.)
    const inPlace = b.len <= (this.syncFlush ? IN_PLACE_WRITE_BYTES : ASYNC_IN_PLACE_WRITE_BYTES);
    if (this.syncFlush && !seg.extended) this.extend(seg);
    // Only big batches in async mode go to the thread. Its message round trip is slower than the pool's, and where
    // acknowledgements wait on the write that latency costs more than the scan saves: sync group commits
    // (append-sync-64-writers 81 k -> 44-65 k msg/s through the thread) and a broker acking a few hundred sends
    // at a time (send-256-in-flight 85-88 k -> 64-81 k msg/s with every batch over 64 KiB through it).
    if (b.len >= THREAD_WRITE_BYTES && !this.syncFlush && this.io.writeScanned) {
      let w: WrittenBatch;
      try {
        w = await this.io.writeScanned(seg.fd, b.buf, b.len, filePos);
      } catch (e) {
        const buf = (e as { buf?: Buffer }).buf;
        if (buf) this.setBuffer(b, buf);
        throw e;
      }
      this.setBuffer(b, w.buf);
      b.meta = w.meta;
      seg.size = Math.max(seg.size, filePos + b.len);
      return;
    }
    scanBatch(b.buf, b.len, this.scanOut);
    b.meta = this.scanOut.take();
    while (off < b.len) {
      const n = inPlace
        ? this.io.writeSync(seg.fd, b.buf, off, b.len - off, filePos + off)
        : await this.io.write(seg.fd, b.buf, off, b.len - off, filePos + off);
      if (n <= 0) throw new Error("write returned no progress");
      off += n;
      seg.size = Math.max(seg.size, filePos + off);
    }
  }

  /**
   * Sync mode: sets the segment file's length to the full segment size once, leaving a sparse tail. A write that
   * stays inside the file's length spares the fdatasync after it the file-size update it would otherwise have
   * to commit: one record + fdatasync, 0.26 -> 0.21 ms on this VM's ext4. Recovery stops at the zeros (a record
   * of size 0) and cuts the file back to its data.
   */
  private extend(seg: Segment): void {
    try {
      this.io.truncate(seg.fd, this.segmentBytes);
    } catch {
      // Only a speed-up: appends work the same on a file that grows with each write.
    }
    seg.extended = true;
  }

  /** Rolls back pending[from..]: truncates any partial bytes and hands the batches to onFailed. */
  private fail(from: number, err: Error): void {
    const failed = this.pending.splice(from);
    const first = failed[0];
    if (!first) return;
    const seg = first.segment;
    const local = first.start - seg.base;
    try {
      this.io.truncate(seg.fd, local);
      seg.size = local;
      seg.extended = false;
    } catch {
      // The next successful write overwrites the same range; recovery would truncate a torn tail anyway.
    }
    // Segments created for the failed batches go too.
    while (this.segments.length > 1 && this.segments[this.segments.length - 1]!.base > first.start) {
      const s = this.segments.pop()!;
      try {
        this.io.close(s.fd);
        this.io.unlink(s.path);
      } catch {
        // An empty file left behind is recognised as such at the next start.
      }
    }
    this.appendOffset = first.start;
    this.writtenOffset = Math.min(this.writtenOffset, first.start);
    this.flushedOffset = Math.min(this.flushedOffset, first.start);
    this.cache.invalidateFrom(first.start);
    this.hooks?.onFailed(failed, err);
    for (const b of failed) this.release(b);
  }

  private remember(b: Batch<T>): void {
    b.items = [];
    b.meta = NO_META;
    this.recent.push(b);
    if (this.recent.length > RECENT_BATCHES) this.release(this.recent.shift()!);
  }

  /** A copy of written bytes [offset, offset + len) if they lie in one recent batch. */
  private fromRecent(offset: number, len: number): Buffer | undefined {
    const b = this.recentBatchFor(offset, len);
    if (b === undefined) return undefined;
    const out = Buffer.allocUnsafe(len);
    b.buf.copy(out, 0, offset - b.start, offset - b.start + len);
    return out;
  }

  /** fromRecent() straight into `target` at `pos`; false when the bytes are not in one recent batch. */
  private copyRecent(offset: number, len: number, target: Buffer, pos: number): boolean {
    const b = this.recentBatchFor(offset, len);
    if (b === undefined) return false;
    b.buf.copy(target, pos, offset - b.start, offset - b.start + len);
    return true;
  }

  /**
   * The end of the recent batch that holds `offset`, if one does: reads up to there come from memory. (A record
   * never spans batches.)
   */
  recentBatchEnd(offset: number): number | undefined {
    const b = this.recentBatchFor(offset, 1);
    return b === undefined ? undefined : b.start + b.len;
  }

  private recentBatchFor(offset: number, len: number): Batch<T> | undefined {
    const r = this.recent;
    for (let i = r.length - 1; i >= 0; i--) {
      const b = r[i]!;
      if (offset >= b.start) return offset + len <= b.start + b.len ? b : undefined;
    }
    return undefined;
  }

  private release(b: Batch<T>): void {
    if (b.buf.length === this.batchBytes && this.freeBuffers.length < 4) this.freeBuffers.push(b.buf);
    b.items = [];
  }

  /** Async mode: makes everything written so far durable. */
  async flush(): Promise<void> {
    const target = this.writtenOffset;
    if (target <= this.flushedOffset) return;
    for (const seg of this.segments) {
      if (seg.base + this.segmentBytes > this.flushedOffset && seg.base < target)
        await this.io.fdatasync(seg.fd);
    }
    this.flushedOffset = Math.max(this.flushedOffset, target);
  }

  flushSync(): void {
    const target = this.writtenOffset;
    for (const seg of this.segments) {
      if (seg.base + this.segmentBytes > this.flushedOffset && seg.base < target)
        this.io.fdatasyncSync(seg.fd);
    }
    this.flushedOffset = Math.max(this.flushedOffset, target);
  }

  /** Resolves once every append made so far has been written (or failed). */
  async idle(): Promise<void> {
    while (this.pending.length > 0 || this.writing) {
      await new Promise((r) => setImmediate(r));
    }
  }

  segmentFor(offset: number): Segment | undefined {
    const segs = this.segments;
    let lo = 0;
    let hi = segs.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const s = segs[mid]!;
      if (offset < s.base) hi = mid - 1;
      else if (offset >= s.base + this.segmentBytes) lo = mid + 1;
      else return s;
    }
    return undefined;
  }

  /**
   * Reads `len` written bytes at `offset`. The result may be a view into a cached block: callers must not
   * modify it. Returns undefined when the range is not (or no longer) in the log.
   */
  read(offset: number, len: number): Buffer | undefined {
    if (len <= 0 || offset + len > this.writtenOffset) return undefined;
    const hot = this.fromRecent(offset, len);
    if (hot) return hot;
    const seg = this.segmentFor(offset);
    if (!seg) return undefined;
    const local = offset - seg.base;
    if (local + len > seg.size) return undefined;
    const bs = this.cache.blockBytes;
    const blockLocal = Math.floor(local / bs) * bs;
    if (local + len <= blockLocal + bs && blockLocal + bs <= seg.size) {
      const block = this.cachedBlock(seg, blockLocal, true);
      return block?.subarray(local - blockLocal, local - blockLocal + len);
    }
    const out = Buffer.allocUnsafe(len);
    if (this.readFully(seg.fd, out, len, local) !== len) return undefined;
    return out;
  }

  /**
   * read() into `target` at `pos`; false when read() would return undefined. A record inside a cached block is
   * copied from it directly, with no view per record (the pull path copies every record it sends).
   */
  readInto(offset: number, len: number, target: Buffer, pos: number): boolean {
    if (len <= 0 || offset + len > this.writtenOffset) return false;
    if (this.copyRecent(offset, len, target, pos)) return true;
    const seg = this.segmentFor(offset);
    if (!seg) return false;
    const bs = this.cache.blockBytes;
    const local = offset - seg.base;
    if (local + len > seg.size) return false;
    const blockLocal = Math.floor(local / bs) * bs;
    if (local + len <= blockLocal + bs && blockLocal + bs <= seg.size) {
      // Only copied from here, so the block may be recycled when it is evicted.
      const block = this.cachedBlock(seg, blockLocal, false);
      if (!block) return false;
      block.copy(target, pos, local - blockLocal, local - blockLocal + len);
      return true;
    }
    return this.readFully(seg.fd, target.subarray(pos, pos + len), len, local) === len;
  }

  /**
   * The block of `seg` at `blockLocal`, from the read cache or read into it; undefined when the file is short.
   * Cached blocks hold written bytes only, which never change. `asView` when a view of it will be handed out.
   */
  private cachedBlock(seg: Segment, blockLocal: number, asView: boolean): Buffer | undefined {
    const blockStart = seg.base + blockLocal;
    let block = this.cache.get(blockStart, asView);
    if (!block) {
      block = this.cache.takeBuffer();
      const bs = this.cache.blockBytes;
      if (this.readFully(seg.fd, block, bs, blockLocal) !== bs) return undefined;
      this.cache.put(blockStart, block, asView);
    }
    return block;
  }

  /** Reads straight from the file, bypassing the cache (recovery's sequential scan). */
  readRaw(seg: Segment, buf: Buffer, len: number, localPos: number): number {
    return this.readFully(seg.fd, buf, len, localPos);
  }

  private readFully(fd: number, buf: Buffer, len: number, pos: number): number {
    let got = 0;
    while (got < len) {
      const n = this.io.read(fd, buf, got, len - got, pos + got);
      if (n <= 0) break;
      got += n;
    }
    return got;
  }

  /**
   * Deletes whole segments that are older than `beforeMtimeMs` (or any, when `force`), oldest first, never the
   * segment being written. Returns the new minimum offset.
   */
  deleteSegments(shouldDelete: (seg: Segment, index: number) => boolean, maxCount: number): number {
    let deleted = 0;
    while (deleted < maxCount && this.segments.length > 1) {
      const seg = this.segments[0]!;
      if (!shouldDelete(seg, deleted)) break;
      this.io.close(seg.fd);
      this.io.unlink(seg.path);
      this.segments.shift();
      deleted++;
    }
    this.cache.invalidateBelow(this.minOffset);
    return this.minOffset;
  }

  close(): void {
    for (const s of this.segments) {
      try {
        this.io.close(s.fd);
      } catch {
        // already closed
      }
    }
    this.segments = [];
    this.cache.clear();
  }
}
