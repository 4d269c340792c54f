// A bounded set of open consume-queue files. Every (topic, queue) has files, and lite topics bring one queue per
// session or agent, tens of thousands of them: kept open, their descriptors ran the process out (EMFILE) and the
// next flush threw. Files are opened on use and the least recently used one is closed past the limit. In sync
// flush mode a file is fdatasync'ed before it is closed, so what the next checkpoint claims is on disk even
// though its descriptor is gone.
import type { FileIO } from "./file-io.js";

/** A file that may or may not be open: `fd` is -1 while closed. */
export interface HandledFile {
  path: string;
  fd: number;
}

export class FileHandles {
  /** Open files, least recently used first (a Map keeps insertion order; a use re-inserts). */
  private readonly open = new Map<HandledFile, true>();

  constructor(
    private readonly io: FileIO,
    private readonly limit: number,
    private readonly syncBeforeClose: boolean,
  ) {
    if (!Number.isInteger(limit) || limit < 2) throw new Error(`file handle limit ${limit} is below 2`);
  }

  /** The file's descriptor, opening it (read-write) if it is closed. */
  fd(f: HandledFile): number {
    if (f.fd >= 0) {
      this.open.delete(f);
      this.open.set(f, true);
      return f.fd;
    }
    f.fd = this.io.open(f.path, "r+");
    this.adopt(f);
    return f.fd;
  }

  /** Takes in a file the caller opened itself (a new file). */
  adopt(f: HandledFile): void {
    this.open.set(f, true);
    while (this.open.size > this.limit) {
      const lru = this.open.keys().next().value as HandledFile;
      if (this.syncBeforeClose) this.io.fdatasyncSync(lru.fd);
      this.close(lru);
    }
  }

  close(f: HandledFile): void {
    this.open.delete(f);
    if (f.fd < 0) return;
    try {
      this.io.close(f.fd);
    } finally {
      f.fd = -1;
    }
  }

  get size(): number {
    return this.open.size;
  }
}
