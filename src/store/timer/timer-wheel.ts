// The timer wheel: one 24-byte slot per tick of `precisionMs` over the window, kept in one Buffer (outside the V8
// heap; its size depends on the window, never on how many timers wait) and mirrored to the file `timerwheel`.
// Little-endian:
//
//   0 lastPos + 1 f64 (0: empty) | 8 tick f64 | 16 count u32 | 20 reserved u32
//
// Slot i holds tick t with t mod slots = i. A slot whose stored tick is not the tick asked for is empty for it:
// its entries belong to an older lap, which the placement rule guarantees is delivered (see timer-store.ts).
// Slots written since the last flush are tracked per 4 KiB page and written back at the next flush.
import type { FileIO } from "../file-io.js";

export const SLOT_BYTES = 24;
const PAGE = 4096;

export class TimerWheel {
  readonly buf: Buffer;
  private readonly dirty: Uint8Array;
  private dirtyAny = false;
  private fd = -1;

  constructor(
    readonly path: string,
    private readonly io: FileIO,
    readonly slots: number,
  ) {
    this.buf = Buffer.alloc(slots * SLOT_BYTES);
    this.dirty = new Uint8Array(Math.ceil(this.buf.length / PAGE));
  }

  /** Opens the file and loads it; false when it was missing or not the expected size (rebuild needed). */
  load(): boolean {
    const existed = this.io.exists(this.path);
    this.fd = this.io.open(this.path, existed ? "r+" : "w+");
    if (!existed) return false;
    const size = this.io.size(this.fd);
    if (size !== this.buf.length) {
      this.io.truncate(this.fd, this.buf.length);
      return false;
    }
    let got = 0;
    while (got < size) {
      const n = this.io.read(this.fd, this.buf, got, size - got, got);
      if (n <= 0) return false;
      got += n;
    }
    return true;
  }

  index(tick: number): number {
    return tick % this.slots;
  }

  /** Last entry position of the slot for `tick`, or -1 when that slot holds nothing for this tick. */
  lastFor(tick: number): number {
    const o = this.index(tick) * SLOT_BYTES;
    const last = this.buf.readDoubleLE(o) - 1;
    if (last < 0 || this.buf.readDoubleLE(o + 8) !== tick) return -1;
    return last;
  }

  countFor(tick: number): number {
    const o = this.index(tick) * SLOT_BYTES;
    if (this.buf.readDoubleLE(o) === 0 || this.buf.readDoubleLE(o + 8) !== tick) return 0;
    return this.buf.readUInt32LE(o + 16);
  }

  /** Raw slot fields by index (recovery). */
  slotAt(i: number): { last: number; tick: number; count: number } {
    const o = i * SLOT_BYTES;
    return {
      last: this.buf.readDoubleLE(o) - 1,
      tick: this.buf.readDoubleLE(o + 8),
      count: this.buf.readUInt32LE(o + 16),
    };
  }

  /** Makes `pos` the slot's newest entry for `tick`; returns the previous newest (-1 when it starts a chain). */
  link(tick: number, pos: number): number {
    const i = this.index(tick);
    const o = i * SLOT_BYTES;
    let prev = this.buf.readDoubleLE(o) - 1;
    let count = this.buf.readUInt32LE(o + 16);
    if (prev < 0 || this.buf.readDoubleLE(o + 8) !== tick) {
      prev = -1;
      count = 0;
    }
    this.set(i, pos, tick, count + 1);
    return prev;
  }

  set(i: number, last: number, tick: number, count: number): void {
    const o = i * SLOT_BYTES;
    this.buf.writeDoubleLE(last + 1, o);
    this.buf.writeDoubleLE(last < 0 ? 0 : tick, o + 8);
    this.buf.writeUInt32LE(last < 0 ? 0 : count, o + 16);
    this.dirty[(o / PAGE) | 0] = 1;
    const end = ((o + SLOT_BYTES - 1) / PAGE) | 0;
    this.dirty[end] = 1;
    this.dirtyAny = true;
  }

  clear(): void {
    this.buf.fill(0);
    this.dirty.fill(1);
    this.dirtyAny = true;
  }

  /** Writes the pages changed since the last call (not synced). Returns the fd when anything was written. */
  writeDirty(): number | undefined {
    if (!this.dirtyAny) return undefined;
    const pages = this.dirty.length;
    let p = 0;
    while (p < pages) {
      if (!this.dirty[p]) {
        p++;
        continue;
      }
      let q = p;
      while (q < pages && this.dirty[q]) this.dirty[q++] = 0;
      const from = p * PAGE;
      const to = Math.min(q * PAGE, this.buf.length);
      let w = 0;
      while (w < to - from) {
        const n = this.io.writeSync(this.fd, this.buf, from + w, to - from - w, from + w);
        if (n <= 0) throw new Error("timer wheel write made no progress");
        w += n;
      }
      p = q;
    }
    this.dirtyAny = false;
    return this.fd;
  }

  get fileFd(): number {
    return this.fd;
  }

  close(): void {
    if (this.fd >= 0) {
      try {
        this.io.close(this.fd);
      } catch {
        // already closed
      }
      this.fd = -1;
    }
  }
}
