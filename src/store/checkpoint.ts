// The store checkpoint: how far the commit log is durable and how far the consume queues and key index built
// from it are on disk, plus each queue's max offset so a lost consume-queue file is noticed at start. Written
// whole and atomically (temp file, fsync, rename) after every flush; the abort marker exists while the store
// is open, so its presence at start means the last run did not stop cleanly.
import { join } from "node:path";
import type { FileIO } from "./file-io.js";

export interface Checkpoint {
  version: 1;
  /** Commit log bytes covered by an fdatasync. */
  flushedOffset: number;
  /** Every record below this commit log offset has its consume-queue units and index entries on disk. */
  dispatchedOffset: number;
  /** Highest commit log offset in the key index when the checkpoint was written, or -1. */
  indexedOffset: number;
  /** Max queue offset of every queue, keyed `topic` then queue id. */
  queues: Record<string, Record<string, number>>;
  writtenAt: number;
}

export function readCheckpoint(io: FileIO, dir: string): Checkpoint | undefined {
  const path = join(dir, "checkpoint");
  if (!io.exists(path)) return undefined;
  try {
    const c = JSON.parse(io.readFile(path).toString("utf8")) as Checkpoint;
    if (c.version !== 1 || typeof c.dispatchedOffset !== "number") return undefined;
    return c;
  } catch {
    return undefined;
  }
}

export function writeCheckpoint(io: FileIO, dir: string, c: Checkpoint): void {
  io.writeFileAtomic(join(dir, "checkpoint"), JSON.stringify(c));
}

export function writeCheckpointAsync(io: FileIO, dir: string, c: Checkpoint): Promise<void> {
  return io.writeFileAtomicAsync(join(dir, "checkpoint"), JSON.stringify(c));
}

export function abortPath(dir: string): string {
  return join(dir, "abort");
}
