// The store's configuration: one typed object with documented defaults. The CLI and the broker build it;
// the store never reads the environment.
import type { HostAddress } from "../common/socket-address.js";
import { hostAddress } from "../common/socket-address.js";

export type FlushMode = "async" | "sync";

export interface StoreConfig {
  /** Root folder: commitlog/, consumequeue/, index/, checkpoint, abort. */
  dir: string;
  /** Commit log segment size in bytes (RocketMQ: mappedFileSizeCommitLog, 1 GiB). */
  segmentBytes: number;
  /** Consume queue entries per file (RocketMQ: 300,000 units of 20 bytes). */
  queueEntriesPerFile: number;
  /** Consume queue files kept open at once; others are opened on use (lite topics make many queues). */
  maxOpenQueueFiles: number;
  flushMode: FlushMode;
  /**
   * How often written commit-log bytes are fdatasync'ed (async mode) and new consume-queue and key-index entries
   * are written to their files.
   */
  flushIntervalMs: number;
  /**
   * How often the checkpoint advances: consume queues and key index are made durable (sync mode) and the
   * checkpoint file is rewritten. Recovery re-dispatches the commit log from the last checkpoint, so a longer
   * interval only lengthens recovery; a shorter one costs fsyncs that, in sync mode, delay group commits.
   */
  checkpointIntervalMs: number;
  /** Sync mode: an append that is not durable after this long fails with FLUSH_DISK_TIMEOUT. */
  syncFlushTimeoutMs: number;
  /** Largest body accepted (RocketMQ: maxMessageSize, 4 MiB). */
  maxMessageBytes: number;
  /** Appends are gathered into write batches of up to this many bytes (one write syscall each). */
  writeBatchBytes: number;
  /** The broker address written into each record and into offset message ids. */
  storeHost: HostAddress;
  /** Commit log segments older than this are deleted (RocketMQ: fileReservedTime, 72 h). */
  fileReservedTimeMs: number;
  /** Hours of the day (0-23) when expired segments are deleted (RocketMQ: deleteWhen "04"). */
  deleteWhenHours: number[];
  /** How often retention runs. */
  cleanIntervalMs: number;
  /** Above this disk use, expired segments are deleted whatever the hour (RocketMQ: diskMaxUsedSpaceRatio). */
  diskMaxUsedRatio: number;
  /** Above this, the oldest segments are deleted even if not expired (RocketMQ: diskSpaceCleanForciblyRatio). */
  diskCleanForciblyRatio: number;
  /** Above this, appends fail with DISK_FULL until space returns (RocketMQ: diskSpaceWarningLevelRatio). */
  diskFullRatio: number;
  /** Key index: hash slots and entries per index file. */
  indexSlotNum: number;
  indexMaxEntriesPerFile: number;
  /** Bytes of commit log kept in the read cache (whole blocks of readCacheBlockBytes). */
  readCacheBytes: number;
  readCacheBlockBytes: number;
}

export const GiB = 1024 * 1024 * 1024;
export const MiB = 1024 * 1024;

export function defaultStoreConfig(dir: string): StoreConfig {
  return {
    dir,
    segmentBytes: GiB,
    queueEntriesPerFile: 300_000,
    maxOpenQueueFiles: 1024,
    flushMode: "async",
    flushIntervalMs: 500,
    checkpointIntervalMs: 5000,
    syncFlushTimeoutMs: 5000,
    maxMessageBytes: 4 * MiB,
    writeBatchBytes: 1 * MiB,
    storeHost: hostAddress("127.0.0.1", 10911),
    fileReservedTimeMs: 72 * 3600 * 1000,
    deleteWhenHours: [4],
    cleanIntervalMs: 10_000,
    diskMaxUsedRatio: 0.75,
    diskCleanForciblyRatio: 0.85,
    diskFullRatio: 0.9,
    indexSlotNum: 1_000_000,
    indexMaxEntriesPerFile: 4_000_000,
    readCacheBytes: 64 * MiB,
    readCacheBlockBytes: MiB,
  };
}

export function resolveStoreConfig(partial: Partial<StoreConfig> & { dir: string }): StoreConfig {
  const c = { ...defaultStoreConfig(partial.dir), ...partial };
  const positive: (keyof StoreConfig)[] = [
    "segmentBytes",
    "queueEntriesPerFile",
    "maxOpenQueueFiles",
    "flushIntervalMs",
    "checkpointIntervalMs",
    "syncFlushTimeoutMs",
    "maxMessageBytes",
    "writeBatchBytes",
    "indexSlotNum",
    "indexMaxEntriesPerFile",
    "readCacheBlockBytes",
  ];
  for (const k of positive) {
    const v = c[k];
    if (typeof v !== "number" || !Number.isFinite(v) || v <= 0) {
      throw new Error(`store config: ${k} must be a positive number, got ${String(v)}`);
    }
  }
  if (c.flushMode !== "async" && c.flushMode !== "sync") {
    throw new Error(`store config: flushMode must be "async" or "sync", got ${String(c.flushMode)}`);
  }
  if (c.segmentBytes < c.maxMessageBytes + 64 * 1024) {
    throw new Error("store config: segmentBytes must exceed maxMessageBytes plus 64 KiB of header room");
  }
  return c;
}
