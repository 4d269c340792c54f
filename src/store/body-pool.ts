// Buffers for pull bodies, handed back once a body has been written to its socket. A consumer draining a backlog
// asks for one ~40 KiB body per pull; allocated fresh, those are external memory to V8, which answered the bytes
// with a full GC about every 50 ms (94 major GCs, 23 % of the broker's CPU, in consume-1m). Reused, they cost
// nothing. A body that is never handed back is simply collected, so callers that keep one need do nothing.

/** Bodies up to this size come from the pool. */
export const POOLED_BODY_BYTES = 64 * 1024;
/** Spare buffers kept: enough for the pulls in flight of a few busy consumers. */
const MAX_SPARE = 64;

export class BodyPool {
  private readonly spare: ArrayBuffer[] = [];
  /** The spares, to refuse a buffer handed back twice (two bodies would then share memory). */
  private readonly inPool = new Set<ArrayBuffer>();
  /** take() calls answered with a buffer handed back before. */
  reused = 0;

  /** `n` bytes of uninitialised memory: a view of a pooled buffer when `n` is small enough. */
  take(n: number): Buffer {
    if (n > POOLED_BODY_BYTES) return Buffer.allocUnsafe(n);
    const ab = this.spare.pop();
    if (ab === undefined) return Buffer.allocUnsafeSlow(POOLED_BODY_BYTES).subarray(0, n);
    this.inPool.delete(ab);
    this.reused++;
    return Buffer.from(ab, 0, n);
  }

  /** Hands back a body from take(): its memory must no longer be read by anyone. */
  give(body: Buffer): void {
    const ab = body.buffer;
    if (!(ab instanceof ArrayBuffer) || ab.byteLength !== POOLED_BODY_BYTES || body.byteOffset !== 0) return;
    if (this.inPool.has(ab) || this.spare.length >= MAX_SPARE) return;
    this.inPool.add(ab);
    this.spare.push(ab);
  }

  get spareCount(): number {
    return this.spare.length;
  }
}
