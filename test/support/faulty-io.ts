// A FileIO that forwards to node:fs and fails on demand: short writes, ENOSPC, fsync errors, a fake disk ratio.
import { nodeFileIO } from "../../src/store/file-io.js";
import type { FileIO } from "../../src/store/file-io.js";

export interface Faults {
  /** Writes to paths containing this string fail with ENOSPC while `enospc` is true. */
  enospc: boolean;
  enospcPath: string;
  /** The next N fdatasync calls (either kind) fail with EIO. */
  fsyncFailures: number;
  /** Every write stores at most this many bytes per call. */
  maxWriteBytes: number;
  /** When set, the disk-use ratio reported to the store. */
  diskRatio: number | undefined;
  /** Write calls seen so far, by kind (the store writes small batches synchronously, big ones through the pool). */
  asyncWrites: number;
  syncWrites: number;
  /** fdatasync calls seen so far, by kind (likewise for sync mode's group commit). */
  asyncFsyncs: number;
  syncFsyncs: number;
  /** Each synchronous fdatasync blocks this long first (a stalling disk). */
  syncFsyncDelayMs: number;
}

export function faultyIO(): { io: FileIO; faults: Faults } {
  const faults: Faults = {
    enospc: false,
    enospcPath: "commitlog",
    fsyncFailures: 0,
    maxWriteBytes: Infinity,
    diskRatio: undefined,
    asyncWrites: 0,
    syncWrites: 0,
    asyncFsyncs: 0,
    syncFsyncs: 0,
    syncFsyncDelayMs: 0,
  };
  const paths = new Map<number, string>();
  const err = (code: string) => Object.assign(new Error(`${code}: injected`), { code });
  const io: FileIO = {
    ...nodeFileIO,
    open(path, flags) {
      const fd = nodeFileIO.open(path, flags);
      paths.set(fd, path);
      return fd;
    },
    async write(fd, buf, off, len, pos) {
      faults.asyncWrites++;
      if (faults.enospc && (paths.get(fd) ?? "").includes(faults.enospcPath)) {
        // A partial write lands before the error, as on a real full disk.
        if (len > 10) await nodeFileIO.write(fd, buf, off, 10, pos);
        throw err("ENOSPC");
      }
      return nodeFileIO.write(fd, buf, off, Math.min(len, faults.maxWriteBytes), pos);
    },
    writeSync(fd, buf, off, len, pos) {
      faults.syncWrites++;
      if (faults.enospc && (paths.get(fd) ?? "").includes(faults.enospcPath)) {
        if (len > 10) nodeFileIO.writeSync(fd, buf, off, 10, pos);
        throw err("ENOSPC");
      }
      return nodeFileIO.writeSync(fd, buf, off, Math.min(len, faults.maxWriteBytes), pos);
    },
    async fdatasync(fd) {
      faults.asyncFsyncs++;
      if (faults.fsyncFailures > 0) {
        faults.fsyncFailures--;
        throw err("EIO");
      }
      return nodeFileIO.fdatasync(fd);
    },
    fdatasyncSync(fd) {
      faults.syncFsyncs++;
      if (faults.syncFsyncDelayMs > 0) {
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, faults.syncFsyncDelayMs);
      }
      if (faults.fsyncFailures > 0) {
        faults.fsyncFailures--;
        throw err("EIO");
      }
      nodeFileIO.fdatasyncSync(fd);
    },
    diskUsedRatio(path) {
      return faults.diskRatio ?? nodeFileIO.diskUsedRatio(path);
    },
  };
  // Faults are injected into write/writeSync: keep every batch on those paths, none in the writer thread.
  delete io.writeScanned;
  return { io, faults };
}
