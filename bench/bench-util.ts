// What every benchmark here shares: command-line options and latency statistics.

import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";

const argv = process.argv.slice(2);

export function flag(name: string): boolean {
  return argv.includes(name);
}

export function option(name: string): string | undefined {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
}

export function numOption(name: string, dflt: number): number {
  const v = option(name);
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} needs a positive number, got ${v}`);
  return n;
}

export function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** The p-th percentile (0–100) of an ascending array, nearest rank. */
export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

/** One line of a benchmark's output: a case and its headline numbers, plus anything else worth showing. */
export type Result = Record<string, unknown> & {
  case: string;
  msgsPerSec: number;
  mbPerSec: number;
  p50Ms: number;
  p99Ms: number;
};

/** Every result printed so far, for the closing table. */
export const results: Result[] = [];

export function emit(r: Result): void {
  results.push(r);
  console.log(JSON.stringify(r));
}

export const CLK_TCK = 100; // Linux USER_HZ; /proc times are in these ticks.

/** utime + stime of a process in ms, from /proc/<pid>/stat; undefined where /proc is not available. */
export function procCpuMs(pid: number): number | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = s.slice(s.lastIndexOf(")") + 2).split(" ");
    // Fields after the command: state(3) … utime(14) stime(15), i.e. indexes 11 and 12 here.
    return ((Number(f[11]) + Number(f[12])) * 1000) / CLK_TCK;
  } catch {
    return undefined;
  }
}

/** The outcome of `pipelined`: latencies (ms, from the call to the result) of the `done` successful sends. */
export interface PipelinedRun {
  done: number;
  failed: number;
  firstError?: string;
  seconds: number;
  lat: Float64Array;
  /** Issuing stopped because `maxSeconds` passed. */
  timedOut: boolean;
}

export interface PipelinedOptions {
  /** Stop issuing when this says so (Ctrl-C). */
  stop?: () => boolean;
  /** Stop issuing after this many failures (100). */
  maxFailures?: number;
  /** Called after each send settles, with the count so far (progress lines). */
  onSettled?: (settled: number) => void;
}

/**
 * Calls `send(i)` for i = 0 … messages-1 with at most `window` calls outstanding, refilled as they settle; stops
 * issuing after `maxSeconds`, after 100 failures or when `stop()` says so, and resolves once all issued settled.
 */
export async function pipelined(
  send: (i: number) => Promise<unknown>,
  messages: number,
  window: number,
  maxSeconds: number,
  { stop = () => false, maxFailures = 100, onSettled: report }: PipelinedOptions = {},
): Promise<PipelinedRun> {
  const lat = new Float64Array(messages);
  let issued = 0;
  let settled = 0;
  let done = 0;
  let failed = 0;
  let firstError: string | undefined;
  let stopped = false;
  let timedOut = false;
  const t0 = performance.now();
  const deadline = t0 + maxSeconds * 1000;
  await new Promise<void>((res) => {
    const onSettled = (): void => {
      settled++;
      report?.(settled);
      if (performance.now() > deadline) timedOut = stopped = true;
      if (failed > maxFailures || stop()) stopped = true;
      if (settled === issued && (issued === messages || stopped)) res();
      else pump();
    };
    const pump = (): void => {
      while (!stopped && issued < messages && issued - settled < window) {
        const s = performance.now();
        send(issued++).then(
          () => {
            lat[done++] = performance.now() - s;
            onSettled();
          },
          (e: unknown) => {
            failed++;
            firstError ??= e instanceof Error ? e.message : String(e);
            onSettled();
          },
        );
      }
    };
    pump();
  });
  return { done, failed, firstError, seconds: (performance.now() - t0) / 1000, lat, timedOut };
}
