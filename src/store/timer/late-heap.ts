// A binary min-heap of timers by due time, in parallel typed arrays (no object per timer), growing by doubling up
// to a fixed capacity. It holds the timers that arrive after their slot was already loaded (due within the
// load-ahead time, or already due): they wait here a second or two at most and are fired from here.
export class LateHeap {
  private due = new Float64Array(0);
  private phy = new Float64Array(0);
  private tick = new Float64Array(0);
  private size = new Int32Array(0);
  length = 0;

  constructor(readonly capacity: number) {}

  get full(): boolean {
    return this.length >= this.capacity;
  }

  /** Due time of the earliest timer; Infinity when empty. */
  peekDue(): number {
    return this.length > 0 ? this.due[0]! : Infinity;
  }

  push(due: number, phy: number, size: number, tick: number): void {
    if (this.length >= this.capacity) throw new Error("late heap is full");
    if (this.length >= this.due.length) this.grow();
    let i = this.length++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.due[parent]! <= due) break;
      this.move(parent, i);
      i = parent;
    }
    this.put(i, due, phy, size, tick);
  }

  /** Removes the earliest timer into `out`. */
  pop(out: { due: number; phy: number; size: number; tick: number }): void {
    out.due = this.due[0]!;
    out.phy = this.phy[0]!;
    out.size = this.size[0]!;
    out.tick = this.tick[0]!;
    const n = --this.length;
    if (n === 0) {
      if (this.due.length > 1 << 16) this.shrink();
      return;
    }
    const due = this.due[n]!;
    const phy = this.phy[n]!;
    const size = this.size[n]!;
    const tick = this.tick[n]!;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && this.due[r]! < this.due[l]! ? r : l;
      if (this.due[c]! >= due) break;
      this.move(c, i);
      i = c;
    }
    this.put(i, due, phy, size, tick);
  }

  private grow(): void {
    const cap = Math.min(this.capacity, Math.max(1024, this.due.length * 2));
    const f = (a: Float64Array) => {
      const b = new Float64Array(cap);
      b.set(a.subarray(0, this.length));
      return b;
    };
    this.due = f(this.due);
    this.phy = f(this.phy);
    this.tick = f(this.tick);
    const s = new Int32Array(cap);
    s.set(this.size.subarray(0, this.length));
    this.size = s;
  }

  /** An emptied heap gives back what a burst made it grow to. */
  private shrink(): void {
    this.due = new Float64Array(0);
    this.phy = new Float64Array(0);
    this.tick = new Float64Array(0);
    this.size = new Int32Array(0);
  }

  private move(from: number, to: number): void {
    this.due[to] = this.due[from]!;
    this.phy[to] = this.phy[from]!;
    this.size[to] = this.size[from]!;
    this.tick[to] = this.tick[from]!;
  }

  private put(i: number, due: number, phy: number, size: number, tick: number): void {
    this.due[i] = due;
    this.phy[i] = phy;
    this.size[i] = size;
    this.tick[i] = tick;
  }
}
