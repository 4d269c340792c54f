// A small LRU of whole commit-log blocks. Consumers of many queues walk the log roughly together, so one block
// read serves many messages, and the messages handed out are views into cached blocks (no copy per message).
// Blocks are keyed by their starting commit-log offset and never straddle segments. Only blocks entirely below the written offset are cached; the tail block is read exactly as asked.

export class ReadCache {
  private readonly blocks = new Map<number, Buffer>();
  private readonly maxBlocks: number;

  constructor(
    readonly blockBytes: number,
    totalBytes: number,
  ) {
    this.maxBlocks = Math.max(0, Math.floor(totalBytes / blockBytes));
  }

  get(blockStart: number): Buffer | undefined {
    const b = this.blocks.get(blockStart);
    if (b) {
      // Refresh recency: Map iteration order is insertion order.
      this.blocks.delete(blockStart);
      this.blocks.set(blockStart, b);
    }
    return b;
  }

  put(blockStart: number, block: Buffer): void {
    if (this.maxBlocks === 0) return;
    this.blocks.delete(blockStart);
    this.blocks.set(blockStart, block);
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
