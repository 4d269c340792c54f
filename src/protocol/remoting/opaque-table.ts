// Requests waiting for their response, by opaque. A Map with one set and one delete per request looked right, but
// it rebuilds its hash table every few requests, and V8 links each replaced table to its successor until the next
// full GC. Once a full GC has moved the current table to the old generation, every table after it, and every
// request and response their entries point at, survives each young-generation GC: at 5,000 requests/s that was
// 1.4 MB copied per scavenge and pauses of 3-10 ms. Opaques are handed out in sequence, so a ring indexed by their
// low bits holds the requests in flight without rehashing; the rare one whose slot is taken by a much older
// request (a long poll) goes to a small Map.

export interface HasOpaque {
  readonly opaque: number;
}

const MIN_CAPACITY = 64;

export class OpaqueTable<T extends HasOpaque> {
  private slots: (T | undefined)[];
  private mask: number;
  private spill: Map<number, T> | undefined;
  private count = 0;

  constructor(capacity = MIN_CAPACITY) {
    let c = MIN_CAPACITY;
    while (c < capacity) c *= 2;
    this.slots = new Array<T | undefined>(c).fill(undefined);
    this.mask = c - 1;
  }

  get size(): number {
    return this.count;
  }

  get(opaque: number): T | undefined {
    const s = this.slots[opaque & this.mask];
    if (s !== undefined && s.opaque === opaque) return s;
    return this.spill?.get(opaque);
  }

  has(opaque: number): boolean {
    return this.get(opaque) !== undefined;
  }

  /** Adds `v`; the caller makes sure no entry with its opaque is present. */
  add(v: T): void {
    // Half full: double, so a window of sequential opaques never collides with itself.
    if (this.count >= this.slots.length >> 1) this.grow();
    this.place(v);
    this.count++;
  }

  /** Removes and returns the entry for `opaque`, if any. */
  take(opaque: number): T | undefined {
    const i = opaque & this.mask;
    const s = this.slots[i];
    if (s !== undefined && s.opaque === opaque) {
      this.slots[i] = undefined;
      this.count--;
      return s;
    }
    const v = this.spill?.get(opaque);
    if (v !== undefined) {
      this.spill!.delete(opaque);
      this.count--;
    }
    return v;
  }

  /** Every entry, as a snapshot (entries may be taken while the caller walks it). */
  values(): T[] {
    const out: T[] = [];
    if (this.count === 0) return out;
    for (const s of this.slots) if (s !== undefined) out.push(s);
    if (this.spill) for (const v of this.spill.values()) out.push(v);
    return out;
  }

  clear(): void {
    if (this.count === 0) return;
    this.slots.fill(undefined);
    this.spill = undefined;
    this.count = 0;
  }

  private place(v: T): void {
    const i = v.opaque & this.mask;
    if (this.slots[i] === undefined) this.slots[i] = v;
    else (this.spill ??= new Map()).set(v.opaque, v);
  }

  private grow(): void {
    const all = this.values();
    const c = this.slots.length * 2;
    this.slots = new Array<T | undefined>(c).fill(undefined);
    this.mask = c - 1;
    this.spill = undefined;
    for (const v of all) this.place(v);
  }
}
