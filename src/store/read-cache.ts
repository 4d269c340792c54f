// A small LRU of whole commit-log blocks. Consumers of many queues walk the log roughly together, so one block
// read serves many messages, and the messages handed out are views into cached blocks (no copy per message).
// Blocks are keyed by their starting commit-log offset and never straddle segments. Only blocks entirely below the written offset are cached; the tail block is read exactly as asked.

export class ReadCache {
  private readonly blocks = new Map<number, Buffer>();
  private readonly maxBlocks: number;
  /** The key last inserted (the end of the iteration order); NaN when unknown. */
  private newest = Number.NaN;

  constructor(
    readonly blockBytes: number,
    totalBytes: number,
  ) {
    this.maxBlocks = Math.max(0, Math.floor(totalBytes / blockBytes));
  }

  get(blockStart: number): Buffer | undefined {
    const b = this.blocks.get(blockStart);
    // Refresh recency (Map iteration order is insertion order), but not on every hit: get runs once per message
    // read, and the block read last is hit by the next many messages. It only moves when it is not the newest.
    if (b && blockStart !== this.newest) {
      this.blocks.delete(blockStart);
      this.blocks.set(blockStart, b);
      this.newest = blockStart;
    }
    return b;
  }

  put(blockStart: number, block: Buffer): void {
    if (this.maxBlocks === 0) return;
    this.blocks.delete(blockStart);
    this.blocks.set(blockStart, block);
    this.newest = blockStart;
    while (this.blocks.size > this.maxBlocks) {
      const oldest = this.blocks.keys().next().value as number;
      this.blocks.delete(oldest);
    }
  }

  /** Drops every block at or past `offset` (after a truncation) or below it (after deletion). */
  invalidateFrom(offset: number): void {
    for (const k of [...this.blocks.keys()]) {
      if (k + this.blockBytes > offset) this.blocks.delete(k);
    }
  }

  invalidateBelow(offset: number): void {
    for (const k of [...this.blocks.keys()]) {
      if (k < offset) this.blocks.delete(k);
    }
  }

  clear(): void {
    this.blocks.clear();
  }
}
