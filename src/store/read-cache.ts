// A small LRU of whole commit-log blocks. Consumers of many queues walk the log roughly together, so one block
// read serves many messages, and the messages handed out are views into cached blocks (no copy per message).
// Blocks are keyed by their starting commit-log offset and never straddle segments. Only blocks entirely below
// the written offset are cached; the tail block is read exactly as asked.
//
// Recency is kept in a linked list of long-lived entries, so a hit only moves pointers: a Map deleted from and
// re-inserted into on every hit rebuilt its hash table every few hits, garbage that young-generation GCs then
// had to copy. A block that was only ever copied from (never handed out as a view) is recycled when it is
// evicted: a consumer draining a backlog then reads into the same few megabytes instead of a fresh 1 MiB buffer
// per block, which the kernel had to fault in page by page and which drove V8 into full GCs for external memory.

interface Entry {
  start: number;
  buf: Buffer;
  /** Handed out as a view (read()), so its bytes must never be overwritten. */
  viewed: boolean;
  newer: Entry | undefined;
  older: Entry | undefined;
}

/** Evicted blocks kept for reuse. */
const MAX_SPARE = 2;

export class ReadCache {
  private readonly entries = new Map<number, Entry>();
  private newest: Entry | undefined;
  private oldest: Entry | undefined;
  private readonly spare: Buffer[] = [];
  private readonly maxBlocks: number;

  constructor(
    readonly blockBytes: number,
    totalBytes: number,
  ) {
    this.maxBlocks = Math.max(0, Math.floor(totalBytes / blockBytes));
  }

  /** The block starting at `blockStart`, now the most recently used; `asView` when a view of it escapes. */
  get(blockStart: number, asView = false): Buffer | undefined {
    const e = this.entries.get(blockStart);
    if (e === undefined) return undefined;
    if (asView) e.viewed = true;
    if (e !== this.newest) {
      this.unlink(e);
      this.linkNewest(e);
    }
    return e.buf;
  }

  /** A buffer of blockBytes to read a block into: an evicted block that was never viewed, or a new one. */
  takeBuffer(): Buffer {
    return this.spare.pop() ?? Buffer.allocUnsafeSlow(this.blockBytes);
  }

  put(blockStart: number, block: Buffer, asView = false): void {
    if (this.maxBlocks === 0) return;
    const old = this.entries.get(blockStart);
    if (old !== undefined) this.remove(old, false);
    const e: Entry = { start: blockStart, buf: block, viewed: asView, newer: undefined, older: undefined };
    this.entries.set(blockStart, e);
    this.linkNewest(e);
    while (this.entries.size > this.maxBlocks && this.oldest !== undefined) this.remove(this.oldest, true);
  }

  /** Drops every block at or past `offset` (after a truncation) or below it (after deletion). */
  invalidateFrom(offset: number): void {
    for (const e of [...this.entries.values()]) {
      if (e.start + this.blockBytes > offset) this.remove(e, false);
    }
  }

  invalidateBelow(offset: number): void {
    for (const e of [...this.entries.values()]) {
      if (e.start < offset) this.remove(e, false);
    }
  }

  clear(): void {
    this.entries.clear();
    this.newest = undefined;
    this.oldest = undefined;
    this.spare.length = 0;
  }

  private remove(e: Entry, recycle: boolean): void {
    this.entries.delete(e.start);
    this.unlink(e);
    if (recycle && !e.viewed && e.buf.length === this.blockBytes && this.spare.length < MAX_SPARE) {
      this.spare.push(e.buf);
    }
  }

  private unlink(e: Entry): void {
    if (e.newer !== undefined) e.newer.older = e.older;
    else this.newest = e.older;
    if (e.older !== undefined) e.older.newer = e.newer;
    else this.oldest = e.newer;
    e.newer = undefined;
    e.older = undefined;
  }

  private linkNewest(e: Entry): void {
    e.older = this.newest;
    e.newer = undefined;
    if (this.newest !== undefined) this.newest.newer = e;
    this.newest = e;
    if (this.oldest === undefined) this.oldest = e;
  }
}
