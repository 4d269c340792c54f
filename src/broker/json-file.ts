// Small JSON state files under <dataDir>/config (topics, groups, offsets, delay offsets), written atomically.
import { join } from "node:path";
import type { FileIO } from "../store/file-io.js";

export class JsonFile<T> {
  readonly path: string;
  constructor(
    private readonly io: FileIO,
    dir: string,
    name: string,
  ) {
    io.mkdirp(dir);
    this.path = join(dir, name);
  }

  read(): T | undefined {
    for (const p of [this.path, `${this.path}.bak`]) {
      if (!this.io.exists(p)) continue;
      try {
        return JSON.parse(this.io.readFile(p).toString("utf8")) as T;
      } catch {
        // A damaged file falls back to the backup written before it.
      }
    }
    return undefined;
  }

  write(value: T): void {
    const data = JSON.stringify(value, null, 1);
    if (this.io.exists(this.path)) {
      try {
        this.io.writeFileAtomic(`${this.path}.bak`, this.io.readFile(this.path));
      } catch {
        // The backup is a convenience; the atomic write below is what keeps the file whole.
      }
    }
    this.io.writeFileAtomic(this.path, data);
  }

  private chain: Promise<void> = Promise.resolve();

  /**
   * The same off the event loop (its fsyncs would stall every request for milliseconds); writes are serialized,
   * so a later value never lands before an earlier one.
   */
  writeAsync(value: T): Promise<void> {
    return this.writeTextAsync(JSON.stringify(value, null, 1));
  }

  /** writeAsync for a caller that serialized the value itself (to JSON that reads back as a T). */
  writeTextAsync(data: string | Buffer): Promise<void> {
    const next = this.chain.then(async () => {
      // The current file becomes the backup by a rename, not a copy: reading a large file back (the offsets of
      // many lite topics) blocked the event loop for tens of ms. Until the new file lands, read() falls back to
      // the backup.
      if (this.io.exists(this.path)) {
        try {
          this.io.rename(this.path, `${this.path}.bak`);
        } catch {
          // As above: only a convenience.
        }
      }
      await this.io.writeFileAtomicAsync(this.path, data);
    });
    this.chain = next.catch(() => undefined);
    return next;
  }
}
