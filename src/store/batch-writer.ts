// Big write batches are scanned and written by one worker thread instead of the event loop and libuv's pool.
// Under load the commit log's event loop is the bottleneck (encoding, promises, dispatch); a batch's body CRCs
// and tag and key hashes (record-scan.ts) need only its bytes, so they move to the second core with the write.
// The batch's memory is moved to the thread and back (transferred, not copied). A SharedArrayBuffer would spare
// the moves, but V8 runs DataView and Buffer writes into shared memory several times slower, and the encoder
// writes every byte. The event loop has no use for a batch while it is being written.
// Small batches stay on the event loop (commit-log.ts): a thread hop costs more than they do.
import { Worker } from "node:worker_threads";

export interface WriteRequest {
  id: number;
  fd: number;
  ab: ArrayBuffer;
  len: number;
  pos: number;
}

export type WriteReply =
  | { id: number; ab: ArrayBuffer; meta: Int32Array }
  | { id: number; ab: ArrayBuffer; error: string; code?: string };

/** What a batch write gives back: the batch's memory (moved back) and the scan's output. */
export interface WrittenBatch {
  buf: Buffer;
  meta: Int32Array;
}

interface Waiting {
  resolve: (w: WrittenBatch) => void;
  reject: (e: Error) => void;
}

/** A buffer the batch writer can take: it owns the whole of its memory, so that memory can be moved. */
export function allocMovable(size: number): Buffer {
  return Buffer.allocUnsafeSlow(size);
}

class BatchWriter {
  private worker: Worker | undefined;
  private readonly waiting = new Map<number, Waiting>();
  private nextId = 1;

  /**
   * Scans `buf[0, len)` (see scanBatch), writes it at `pos` of `fd`, and resolves with the scan's output and the
   * memory of `buf` in a new Buffer: `buf` itself is detached (empty) from the call on. A failure carries the
   * new Buffer too, as the error's `buf`.
   */
  write(fd: number, buf: Buffer, len: number, pos: number): Promise<WrittenBatch> {
    const w = this.worker ?? this.start();
    const id = this.nextId++;
    const ab = buf.buffer as ArrayBuffer;
    const req: WriteRequest = { id, fd, ab, len, pos };
    return new Promise<WrittenBatch>((resolve, reject) => {
      // The thread is referenced while it holds a write, so the process waits for it, and not otherwise.
      if (this.waiting.size === 0) w.ref();
      this.waiting.set(id, { resolve, reject });
      w.postMessage(req, [ab]);
    });
  }

  private start(): Worker {
    const w = new Worker(new URL("./batch-writer-worker.js", import.meta.url));
    w.unref();
    w.on("message", (r: WriteReply) => {
      const waiter = this.waiting.get(r.id);
      if (waiter === undefined) return;
      this.waiting.delete(r.id);
      if (this.waiting.size === 0) w.unref();
      const buf = Buffer.from(r.ab);
      if ("meta" in r) waiter.resolve({ buf, meta: r.meta });
      else waiter.reject(Object.assign(new Error(r.error), { buf }, r.code ? { code: r.code } : {}));
    });
    const gone = (err: Error): void => {
      if (this.worker === w) this.worker = undefined;
      const all = [...this.waiting.values()];
      this.waiting.clear();
      for (const x of all) x.reject(err);
    };
    w.on("error", gone);
    w.on("exit", (code) => gone(new Error(`batch writer thread exited (${code})`)));
    this.worker = w;
    return w;
  }
}

/** One per process: every store's big batches go through it, in the order they are handed over. */
export const batchWriter = new BatchWriter();
