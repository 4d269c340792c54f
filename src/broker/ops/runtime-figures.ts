// The figures an operator asks a running broker for (mqadmin brokerStatus / clusterList, the Dashboard): message
// totals now and at the last two midnights, put and delivery rates, the commit log's extent and how far flushing
// and dispatching lag behind it, disk use, the oldest message kept.
import type { Broker } from "../broker.js";
import type { DayTotals } from "./throughput-history.js";

export interface RuntimeFigures {
  bootTimestamp: number;
  /** Messages stored and delivered since start. */
  putTotal: number;
  getTotal: number;
  todayMorning: DayTotals;
  yesterdayMorning: DayTotals;
  /** Messages per second over the last 10, 60 and 600 seconds. */
  putTps: [number, number, number];
  getTps: [number, number, number];
  commitLogMinOffset: number;
  commitLogMaxOffset: number;
  dispatchBehindBytes: number;
  flushBehindBytes: number;
  /** Used share (0..1) of the store's disk. */
  diskUsedRatio: number;
  /** Store time of the oldest message in the commit log; -1 when it holds none. */
  earliestMessageTime: number;
  /** A master serves sends and runs its delay, timer and transaction services; a slave does not. */
  active: boolean;
}

const WINDOWS = [10, 60, 600] as const;

export function runtimeFigures(b: Broker): RuntimeFigures {
  const s = b.store.stats();
  const h = b.throughput;
  const rates = (kind: "put" | "get") => WINDOWS.map((w) => h.rate(kind, w)) as [number, number, number];
  return {
    bootTimestamp: b.stats.startedAt,
    putTotal: b.stats.producedTotal,
    getTotal: b.stats.consumedTotal,
    todayMorning: h.todayMorning,
    yesterdayMorning: h.yesterdayMorning,
    putTps: rates("put"),
    getTps: rates("get"),
    commitLogMinOffset: s.minPhyOffset,
    commitLogMaxOffset: s.maxPhyOffset,
    dispatchBehindBytes: Math.max(0, s.maxPhyOffset - s.dispatchedOffset),
    flushBehindBytes: Math.max(0, s.maxPhyOffset - s.flushedOffset),
    diskUsedRatio: s.diskUsedRatio,
    earliestMessageTime: b.store.getEarliestStoreTime() ?? -1,
    active: !b.isSlave,
  };
}
