// The timer checkpoint (RocketMQ's config/timercheck): how far the timer log is durable, which wheel slots are
// delivered, and how far the timer topic's consume queue has been enqueued. Written whole and atomically after
// the timer log and wheel are synced, so everything it claims is on disk; recovery trusts nothing past it.
import type { FileIO } from "../file-io.js";

export interface FiredMark {
  /** Every entry of a fully loaded slot below `loadedBelow`, stored below `logPos`, whose firing time is at
   * or before `throughMs` was delivered and acknowledged. Lets a restart skip them instead of delivering twice. */
  throughMs: number;
  logPos: number;
  loadedBelow: number;
}

export interface TimerCheckpoint {
  version: 1;
  /** The wheel geometry the files were written with; a store cannot be reopened with another. */
  precisionMs: number;
  slots: number;
  /** Timer log entries below this position are on disk, and the wheel on disk covers exactly them. */
  logPos: number;
  /** Every slot below this tick has been delivered (its re-puts acknowledged). */
  deliveredTick: number;
  /** The caller's enqueue progress (the timer topic's consume-queue offset), covered by `logPos`. */
  enqueueOffset: number;
  fired: FiredMark | undefined;
  /** Highest slot tick per timer log file, keyed by the file's first position. */
  files: Record<string, number>;
  writtenAt: number;
}

export function readTimerCheckpoint(io: FileIO, path: string): TimerCheckpoint | undefined {
  if (!io.exists(path)) return undefined;
  try {
    const c = JSON.parse(io.readFile(path).toString("utf8")) as TimerCheckpoint;
    if (
      c.version !== 1 ||
      typeof c.logPos !== "number" ||
      typeof c.deliveredTick !== "number" ||
      typeof c.enqueueOffset !== "number"
    )
      return undefined;
    return c;
  } catch {
    return undefined;
  }
}

export function writeTimerCheckpoint(io: FileIO, path: string, c: TimerCheckpoint): void {
  io.writeFileAtomic(path, JSON.stringify(c));
}

/** The same off the event loop: the periodic flush uses it so its fsyncs never stall sends (1–9 ms measured). */
export function writeTimerCheckpointAsync(io: FileIO, path: string, c: TimerCheckpoint): Promise<void> {
  return io.writeFileAtomicAsync(path, JSON.stringify(c));
}
