// The seam between the store and the file system. Production uses node:fs; tests wrap it to inject short
// writes, ENOSPC and fsync failures. Only the calls the store makes are here.
import * as fs from "node:fs";
import { batchWriter } from "./batch-writer.js";
import type { WrittenBatch } from "./batch-writer.js";

export interface FileIO {
  open(path: string, flags: string): number;
  close(fd: number): void;
  /** Positional write; may write fewer bytes than asked (the caller loops). */
  write(fd: number, buf: Buffer, off: number, len: number, pos: number): Promise<number>;
  writeSync(fd: number, buf: Buffer, off: number, len: number, pos: number): number;
  /**
   * Writes a whole commit-log batch from another thread, scanning it first (scanBatch), as BatchWriter.write
   * does: the memory of `buf` is moved away and comes back in the result. Optional: without it the commit log
   * scans and writes on the event loop.
   */
  writeScanned?(fd: number, buf: Buffer, len: number, pos: number): Promise<WrittenBatch>;
  read(fd: number, buf: Buffer, off: number, len: number, pos: number): number;
  fdatasync(fd: number): Promise<void>;
  fdatasyncSync(fd: number): void;
  truncate(fd: number, len: number): void;
  size(fd: number): number;
  /** Last modification time of a file, in ms since the epoch. */
  mtimeMs(path: string): number;
  exists(path: string): boolean;
  readdir(path: string): string[];
  mkdirp(path: string): void;
  unlink(path: string): void;
  rmrf(path: string): void;
  rename(from: string, to: string): void;
  readFile(path: string): Buffer;
  /** Writes a whole small file durably: temp file, fsync, rename, fsync of the directory. */
  writeFileAtomic(path: string, data: Buffer | string): void;
  /** The same off the event loop (the checkpoint is written this way every flush). */
  writeFileAtomicAsync(path: string, data: Buffer | string): Promise<void>;
  /** Fraction of the file system holding `path` that is in use, 0..1. */
  diskUsedRatio(path: string): number;
}

export const nodeFileIO: FileIO = {
  open: (path, flags) => fs.openSync(path, flags),
  close: (fd) => fs.closeSync(fd),
  write: (fd, buf, off, len, pos) =>
    new Promise((resolve, reject) =>
      fs.write(fd, buf, off, len, pos, (err, n) => (err ? reject(err) : resolve(n))),
    ),
  writeSync: (fd, buf, off, len, pos) => fs.writeSync(fd, buf, off, len, pos),
  writeScanned: (fd, buf, len, pos) => batchWriter.write(fd, buf, len, pos),
  read: (fd, buf, off, len, pos) => fs.readSync(fd, buf, off, len, pos),
  fdatasync: (fd) =>
    new Promise((resolve, reject) => fs.fdatasync(fd, (err) => (err ? reject(err) : resolve()))),
  fdatasyncSync: (fd) => fs.fdatasyncSync(fd),
  truncate: (fd, len) => fs.ftruncateSync(fd, len),
  size: (fd) => fs.fstatSync(fd).size,
  mtimeMs: (path) => fs.statSync(path).mtimeMs,
  exists: (path) => fs.existsSync(path),
  readdir: (path) => fs.readdirSync(path),
  mkdirp: (path) => void fs.mkdirSync(path, { recursive: true }),
  unlink: (path) => fs.unlinkSync(path),
  rmrf: (path) => fs.rmSync(path, { recursive: true, force: true }),
  rename: (from, to) => fs.renameSync(from, to),
  readFile: (path) => fs.readFileSync(path),
  writeFileAtomic: (path, data) => {
    const tmp = `${path}.tmp`;
    const fd = fs.openSync(tmp, "w");
    try {
      fs.writeSync(fd, typeof data === "string" ? Buffer.from(data) : data);
      fs.fdatasyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, path);
    syncDir(path);
  },
  writeFileAtomicAsync: async (path, data) => {
    const tmp = `${path}.tmp`;
    const fh = await fs.promises.open(tmp, "w");
    try {
      await fh.writeFile(typeof data === "string" ? Buffer.from(data) : data);
      await fh.datasync();
    } finally {
      await fh.close();
    }
    await fs.promises.rename(tmp, path);
    const dir = path.slice(0, Math.max(path.lastIndexOf("/"), 1));
    try {
      const dh = await fs.promises.open(dir, "r");
      try {
        await dh.sync();
      } finally {
        await dh.close();
      }
    } catch {
      // Some file systems refuse fsync on a directory; the rename is still atomic.
    }
  },
  diskUsedRatio: (path) => {
    const s = fs.statfsSync(path);
    const total = s.blocks * s.bsize;
    if (total === 0) return 0;
    return 1 - (s.bavail * s.bsize) / total;
  },
};

function syncDir(file: string): void {
  const dir = file.slice(0, Math.max(file.lastIndexOf("/"), 1));
  try {
    const fd = fs.openSync(dir, "r");
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    // Some file systems refuse fsync on a directory; the rename is still atomic.
  }
}
