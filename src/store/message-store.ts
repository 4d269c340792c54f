// The message store: the commit log, the consume queues and the key index built from it, the checkpoint,
// recovery and retention behind one API. It knows nothing of protocols: it takes and returns plain values and
// throws BrokerError codes that each protocol maps at its edge.
import { join } from "node:path";
import { BrokerError } from "../common/errors.js";
import { readInt64BE } from "../common/int64.js";
import { createOffsetMsgId, decodeOffsetMsgId } from "../common/message-id.js";
import {
  BLANK_MAGIC,
  MAGIC_V1,
  MAGIC_V2,
  MAX_PROPERTIES_BYTES,
  SysFlag,
  decodeRecord,
  recordLength,
  storeTimestampPos,
  sysFlagForHosts,
} from "../common/message-record.js";
import type { MessageRecord } from "../common/message-record.js";
import { Prop, getProperty } from "../common/properties.js";
import type { HostAddress } from "../common/socket-address.js";
import { hostAddress } from "../common/socket-address.js";
import { abortPath, readCheckpoint, writeCheckpoint, writeCheckpointAsync } from "./checkpoint.js";
import type { Checkpoint } from "./checkpoint.js";
import { CommitLog } from "./commit-log.js";
import type { Batch } from "./commit-log.js";
import { scanCommitLog } from "./commit-log-scan.js";
import { UNIT } from "./consume-queue.js";
import { ConsumeQueueStore } from "./consume-queue-store.js";
import type { FileIO } from "./file-io.js";
import { nodeFileIO } from "./file-io.js";
import { KeyIndex } from "./key-index.js";
import { ScanOut, recordKeys } from "./record-scan.js";
import { RecordFields, writeRecord } from "./record-writer.js";
import { BodyPool } from "./body-pool.js";
import { MiB, resolveStoreConfig } from "./store-config.js";
import type { StoreConfig } from "./store-config.js";

export interface PutMessageInput {
  topic: string;
  queueId: number;
  body: Buffer;
  /** Encoded properties (`k\u0001v\u0002`...). TAGS, KEYS and UNIQ_KEY are read from here. */
  properties?: string;
  flag?: number;
  sysFlag?: number;
  bornTimestamp?: number;
  bornHost?: HostAddress;
  reconsumeTimes?: number;
  preparedTransactionOffset?: number;
}

export interface PutMessageResult {
  /** The offset message id: store host + commit log offset. */
  offsetMsgId: string;
  phyOffset: number;
  size: number;
  queueOffset: number;
  storeTimestamp: number;
}

export type GetMessageStatus =
  | "FOUND"
  | "NO_MATCHED_MESSAGE"
  | "NO_MESSAGE_IN_QUEUE"
  | "NO_MATCHED_LOGIC_QUEUE"
  | "OFFSET_TOO_SMALL"
  | "OFFSET_OVERFLOW_ONE"
  | "OFFSET_OVERFLOW_BADLY"
  | "OFFSET_FOUND_NULL";

export interface GetMessageResult {
  status: GetMessageStatus;
  /** Stored records, byte for byte (views into the read cache: do not modify). */
  messages: Buffer[];
  /** Queue offset of each message in `messages`. */
  offsets: number[];
  nextBeginOffset: number;
  minOffset: number;
  maxOffset: number;
}

/** What a queue walk found, without the records. */
type ScanResult = Omit<GetMessageResult, "messages" | "offsets">;

/** getMessagesBody's answer: the records of GetMessageResult.messages back to back in `body`. */
export interface GetMessageBodyResult extends ScanResult {
  /** Undefined when nothing was found. */
  body: Buffer | undefined;
  count: number;
}

// Per-read results are spelled out field by field, never `{ ...r, more }`. In Node 20 a copy made by a spread
// that then adds properties the source lacks keeps the added values alive through young-generation GCs, until the
// next full GC (a 15-line loop shows it with --trace-gc-nvp; overriding existing properties or Object.assign does
// not). At one pull per message the broker's scavenges copied 1.3 MB each and paused it for 5-10 ms.
function bodyResult(r: ScanResult, body: Buffer | undefined, count: number): GetMessageBodyResult {
  return {
    status: r.status,
    nextBeginOffset: r.nextBeginOffset,
    minOffset: r.minOffset,
    maxOffset: r.maxOffset,
    body,
    count,
  };
}

/** A server-side filter: first by the tag hash in the consume queue, then (optionally) on the record itself. */
export interface MessageFilter {
  matchTagsCode(tagsCode: number): boolean;
  matchRecord?(record: Buffer): boolean;
}

export interface StoreStats {
  minPhyOffset: number;
  maxPhyOffset: number;
  flushedOffset: number;
  dispatchedOffset: number;
  diskUsedRatio: number;
  diskFull: boolean;
}

export interface RecoveryReport {
  aborted: boolean;
  end: number;
  scannedRecords: number;
  redispatchedFrom: number;
  redispatchedRecords: number;
  rebuiltQueues: boolean;
  rebuiltIndex: boolean;
  stoppedBecause?: string;
  warnings: string[];
}

/**
 * One record on its way into the log: checked and sized first, then given its offsets and encoded, then (once
 * its bytes are written) dispatched to its consume queue and the key index. Nothing of the caller's input (body
 * included) is kept once it is encoded.
 */
class PendingPut {
  queueOffset = 0;
  phyOffset = 0;
  storeTimestamp = 0;
  /** Set for a putMessage, left as NOOP for the records of a putMessages call (settled through the batch). */
  resolve: (r: PutMessageResult) => void = NOOP;
  reject: (e: Error) => void = NOOP;
  readonly batch = undefined;

  constructor(
    readonly topic: TopicInfo,
    readonly queueId: number,
    readonly sysFlag: number,
    /** Encoded record size. */
    readonly size: number,
    readonly propsBytes: number,
    /** Takes a queue offset and enters a consume queue (not prepared or rolled-back transactional records). */
    readonly toQueue: boolean,
  ) {}
}

/** One putMessages call: its records lie back to back in a single write batch, so they succeed or fail together. */
interface PendingBatch {
  batch: PendingPut[];
  resolve: (r: PutMessageResult[]) => void;
  reject: (e: Error) => void;
}

type Pending = PendingPut | PendingBatch;

/** Per-topic values the append path needs, computed once. */
interface TopicInfo {
  name: string;
  /** UTF-8 name. */
  bytes: Buffer;
}

export type ArrivalListener = (topic: string, queueId: number, maxOffset: number) => void;

/** Whole records of the commit log from `offset` on, as readReplica hands them to a slave. */
export interface ReplicaChunk {
  offset: number;
  data: Buffer;
}

/** Pulls scan at most this many queue units for one request when a filter skips them (RocketMQ: 16000). */
const MAX_FILTER_SCAN = 16000;
const RECORD_OVERHEAD = 512;

export class MessageStore {
  readonly config: StoreConfig;
  readonly recovery: RecoveryReport;
  private readonly io: FileIO;
  private readonly log: CommitLog<Pending>;
  private readonly queues: ConsumeQueueStore;
  private readonly bodies = new BodyPool();
  private readonly index: KeyIndex;
  private readonly nextOffsets = new Map<string, Map<number, number>>();
  private readonly listeners: ArrivalListener[] = [];
  private readonly writtenListeners: (() => void)[] = [];
  /** A slave's store: it takes its master's records (appendReplica) and refuses appends. */
  private replica = false;
  private dispatchedOffset = 0;
  private diskFull = false;
  private diskUsedRatio = 0;
  private closed = false;
  private flushing: Promise<void> | undefined;
  /** When the checkpoint last advanced (doFlush). */
  private checkpointAt = 0;
  /** Queue and index files written since the last checkpoint (sync mode fdatasyncs them before the next one). */
  private readonly unsyncedFds = new Set<number>();
  private flushTimer: NodeJS.Timeout | undefined;
  private cleanTimer: NodeJS.Timeout | undefined;
  private manualDeleteRequested = false;
  private readonly maxRecordBytes: number;
  private readonly topicCache = new Map<string, TopicInfo>();
  /** The record being encoded, refilled for every append. */
  private readonly fields = new RecordFields();
  /** Queues touched by the batch being dispatched (consecutive repeats dropped), for the arrival listeners. */
  private readonly arrivedScratch: PendingPut[] = [];
  /** Largest encoded size of one putMessages call. */
  private readonly maxBatchBytes: number;

  private constructor(config: StoreConfig, io: FileIO) {
    this.config = config;
    this.io = io;
    this.maxRecordBytes = config.maxMessageBytes + MAX_PROPERTIES_BYTES + RECORD_OVERHEAD;
    // A batch goes into one write and one segment; a segment also needs room for its end marker.
    this.maxBatchBytes = Math.max(this.maxRecordBytes, Math.min(config.segmentBytes - 64 * 1024, 16 * MiB));
    io.mkdirp(config.dir);
    this.takeLock();
    this.log = new CommitLog<Pending>(
      config.dir,
      io,
      config.segmentBytes,
      config.writeBatchBytes,
      config.flushMode === "sync",
      config.readCacheBytes,
      config.readCacheBlockBytes,
    );
    this.queues = new ConsumeQueueStore(
      config.dir,
      io,
      config.queueEntriesPerFile,
      config.maxOpenQueueFiles,
      config.flushMode === "sync",
    );
    this.index = KeyIndex.open({
      dir: join(config.dir, "index"),
      io,
      slotNum: config.indexSlotNum,
      maxEntriesPerFile: config.indexMaxEntriesPerFile,
    });
    this.recovery = this.recover();
    this.log.hooks = {
      onDone: (b) => this.onBatchDone(b),
      onFailed: (bs, err) => this.onBatchesFailed(bs, err),
    };
    io.writeFileAtomic(abortPath(config.dir), String(process.pid));
    this.refreshDiskState();
    this.flushTimer = setInterval(() => void this.flush().catch(() => undefined), config.flushIntervalMs);
    this.flushTimer.unref();
    this.cleanTimer = setInterval(() => this.runRetention(), config.cleanIntervalMs);
    this.cleanTimer.unref();
  }

  /** Opens (and recovers) the store in `config.dir`. */
  static open(config: Partial<StoreConfig> & { dir: string }, io: FileIO = nodeFileIO): MessageStore {
    return new MessageStore(resolveStoreConfig(config), io);
  }

  private takeLock(): void {
    const lock = join(this.config.dir, "lock");
    if (this.io.exists(lock)) {
      const pid = Number(this.io.readFile(lock).toString("utf8"));
      if (pid && pid !== process.pid && processAlive(pid)) {
        throw new Error(`store ${this.config.dir} is in use by process ${pid}`);
      }
    }
    this.io.writeFileAtomic(lock, String(process.pid));
  }

  // ---- recovery -------------------------------------------------------------------------------------------

  private recover(): RecoveryReport {
    const dir = this.config.dir;
    const aborted = this.io.exists(abortPath(dir));
    const cp = readCheckpoint(this.io, dir);
    const warnings = [...this.index.warnings];
    const problems = this.queues.load();
    const min = this.log.minOffset;
    let rebuildQueues = problems.length > 0;
    warnings.push(...problems);
    if (!rebuildQueues && cp) {
      for (const [topic, qs] of Object.entries(cp.queues)) {
        for (const [qid, max] of Object.entries(qs)) {
          const q = this.queues.get(topic, Number(qid));
          if (max > 0 && (!q || q.maxOffset < max)) {
            warnings.push(
              `consume queue ${topic}/${qid} is behind the checkpoint (${q?.maxOffset ?? 0} < ${max})`,
            );
            rebuildQueues = true;
          }
        }
      }
    }
    let rebuildIndex = cp !== undefined && this.index.lastIndexedOffset < cp.indexedOffset;
    if (rebuildIndex) warnings.push("key index is behind the checkpoint");

    // Pass 1: find where valid data ends, checking every record from the start of the segment that holds the
    // last dispatch point (from the first segment when there is no checkpoint).
    const dispatchPoint = Math.max(min, cp ? Math.min(cp.dispatchedOffset, cp.flushedOffset) : min);
    const segStart = this.log.segmentFor(dispatchPoint)?.base ?? dispatchPoint;
    const scan = scanCommitLog(this.log, Math.max(min, segStart), this.maxRecordBytes);
    const end = scan.end;
    this.log.setEnd(end);
    for (const q of this.queues.all()) q.truncateByPhy(end);
    this.index.truncateFrom(end);

    // A queue whose last unit does not point at a record of that queue was damaged: rebuild them all.
    if (!rebuildQueues) {
      for (const q of this.queues.all()) {
        const last = q.lastUnit();
        if (!last || last.phy < min) continue;
        const rec = this.readRecord(last.phy, last.size);
        if (!rec || rec.topic !== q.topic || rec.queueId !== q.queueId || rec.queueOffset !== last.offset) {
          warnings.push(`consume queue ${q.topic}/${q.queueId} does not match the commit log`);
          rebuildQueues = true;
          break;
        }
      }
    }
    if (rebuildQueues) this.queues.destroyAll();
    if (rebuildIndex || (this.index.isEmpty() && end > min && !cp)) {
      this.index.truncateFrom(0);
      rebuildIndex = true;
    }

    // Pass 2: re-dispatch what the queues and index may lack. Both are idempotent, so overlap is harmless.
    const queuesFrom = rebuildQueues || !cp ? min : Math.max(min, cp.dispatchedOffset);
    // Scans start on record boundaries; the index skips what it already holds by offset.
    const indexFrom = rebuildIndex || !cp ? min : Math.max(min, cp.dispatchedOffset);
    const from = Math.min(queuesFrom, indexFrom);
    let redispatched = 0;
    if (from < end) {
      const lastIndexed = this.index.lastIndexedOffset;
      // The same tag and key hashes as the append path's, from the same bytes (record-scan.ts).
      const keys = new ScanOut();
      const pass2 = scanCommitLog(this.log, from, this.maxRecordBytes, (rec, phy, size, raw) => {
        redispatched++;
        recordKeys(raw, keys);
        const txType = rec.sysFlag & SysFlag.TRANSACTION_MASK;
        if (
          phy >= queuesFrom &&
          txType !== SysFlag.TRANSACTION_PREPARED &&
          txType !== SysFlag.TRANSACTION_ROLLBACK
        ) {
          this.queues.getOrCreate(rec.topic, rec.queueId).put(rec.queueOffset, phy, size, keys.arr[0]!);
        }
        if (phy > lastIndexed) {
          for (let i = 2; i < keys.len; i++) this.index.addHashed(keys.arr[i]!, phy, rec.storeTimestamp);
        }
      });
      if (pass2.end !== end)
        warnings.push(`re-dispatch stopped at ${pass2.end}, before ${end}: ${pass2.stoppedBecause}`);
    }
    this.dispatchedOffset = end;
    this.queues.flush(true);
    this.index.flush(true);
    this.writeCheckpointNow();
    return {
      aborted,
      end,
      scannedRecords: scan.records,
      redispatchedFrom: from,
      redispatchedRecords: redispatched,
      rebuiltQueues: rebuildQueues,
      rebuiltIndex: rebuildIndex,
      ...(scan.stoppedBecause ? { stoppedBecause: scan.stoppedBecause } : {}),
      warnings,
    };
  }

  // ---- append ---------------------------------------------------------------------------------------------

  putMessage(m: PutMessageInput): Promise<PutMessageResult> {
    try {
      return this.append(m);
    } catch (e) {
      return Promise.reject(e as Error);
    }
  }

  /**
   * Appends several messages as one unit: they take consecutive commit-log offsets (and, per queue, consecutive
   * queue offsets) in one write batch, and the promise settles once for all of them, with the same guarantees
   * as putMessage (resolved once every byte reached the OS, in sync mode once an fdatasync covered them).
   * Invalid input rejects the whole call before anything is written; a failed write or fsync rejects it whole
   * and leaves none of its records behind. A process kill before it resolved may leave a prefix of its records
   * (each one whole), as it may leave unacknowledged single appends.
   */
  putMessages(inputs: readonly PutMessageInput[]): Promise<PutMessageResult[]> {
    try {
      return this.appendBatch(inputs);
    } catch (e) {
      return Promise.reject(e as Error);
    }
  }

  private append(m: PutMessageInput): Promise<PutMessageResult> {
    this.checkWritable();
    const p = this.prepare(m);
    const { batch, pos, offset } = this.log.reserve(p.size);
    this.encode(m, p, batch, pos, offset, Date.now());
    return new Promise<PutMessageResult>((resolve, reject) => {
      p.resolve = resolve;
      p.reject = reject;
      batch.items.push(p);
    });
  }

  private appendBatch(inputs: readonly PutMessageInput[]): Promise<PutMessageResult[]> {
    this.checkWritable();
    const n = inputs.length;
    if (n === 0) return Promise.resolve([]);
    // Check and size every record before taking any offset, so bad input writes nothing.
    const puts = new Array<PendingPut>(n);
    let total = 0;
    for (let i = 0; i < n; i++) {
      const p = this.prepare(inputs[i]!);
      puts[i] = p;
      total += p.size;
    }
    if (total > this.maxBatchBytes) {
      throw new BrokerError("MESSAGE_TOO_LARGE", `batch of ${total} bytes > ${this.maxBatchBytes} bytes`);
    }
    const { batch, pos, offset } = this.log.reserve(total);
    const now = Date.now();
    let at = 0;
    for (let i = 0; i < n; i++) {
      const p = puts[i]!;
      this.encode(inputs[i]!, p, batch, pos + at, offset + at, now);
      at += p.size;
    }
    return new Promise<PutMessageResult[]>((resolve, reject) => {
      batch.items.push({ batch: puts, resolve, reject });
    });
  }

  private checkWritable(): void {
    if (this.replica) {
      throw new BrokerError(
        "SERVICE_NOT_AVAILABLE",
        "messages are put to the slave: this store takes its master's records only",
      );
    }
    this.checkOpenWithSpace();
  }

  private checkOpenWithSpace(): void {
    if (this.closed) throw new BrokerError("STORE_CLOSED");
    if (this.diskFull) {
      throw new BrokerError("DISK_FULL", `disk use above ${this.config.diskFullRatio * 100}%`);
    }
  }

  /** Checks one input and works out its size, flags, tag hash and index keys; no side effects. */
  private prepare(m: PutMessageInput): PendingPut {
    if (m.body.length > this.config.maxMessageBytes) {
      throw new BrokerError("MESSAGE_TOO_LARGE", `${m.body.length} > ${this.config.maxMessageBytes} bytes`);
    }
    const propsStr = m.properties ?? "";
    const propsBytes = propsStr.length === 0 ? 0 : Buffer.byteLength(propsStr, "utf8");
    if (propsBytes > MAX_PROPERTIES_BYTES) {
      throw new BrokerError("PROPERTIES_TOO_LARGE", `${propsBytes} > ${MAX_PROPERTIES_BYTES} bytes`);
    }
    const topic = this.topicInfo(m.topic);
    if (!Number.isInteger(m.queueId) || m.queueId < 0) {
      throw new BrokerError("BAD_REQUEST", `queue id ${m.queueId}`);
    }
    const sysFlag = sysFlagForHosts(m.sysFlag ?? 0, m.bornHost ?? LOCALHOST, this.config.storeHost);
    const txType = sysFlag & SysFlag.TRANSACTION_MASK;
    // Prepared and rolled-back transactional records take no queue offset and never enter a consume queue.
    const toQueue = txType !== SysFlag.TRANSACTION_PREPARED && txType !== SysFlag.TRANSACTION_ROLLBACK;
    return new PendingPut(
      topic,
      m.queueId,
      sysFlag,
      recordLength(topic.bytes.length, m.body.length, propsBytes, sysFlag),
      propsBytes,
      toQueue,
    );
  }

  /**
   * Takes the queue offset and encodes `m` (prepared as `p`) at `pos` of the batch (global offset `offset`).
   * Nothing of `m` is kept: the caller may reuse it, and its body, once this returns.
   */
  private encode(
    m: PutMessageInput,
    p: PendingPut,
    batch: Batch<Pending>,
    pos: number,
    offset: number,
    now: number,
  ): void {
    p.queueOffset = p.toQueue ? this.takeQueueOffset(p.topic.name, p.queueId) : 0;
    p.phyOffset = offset;
    p.storeTimestamp = now;
    const f = this.fields;
    f.topic = p.topic.bytes;
    f.queueId = p.queueId;
    f.flag = m.flag ?? 0;
    f.queueOffset = p.queueOffset;
    f.physicalOffset = offset;
    f.sysFlag = p.sysFlag;
    f.bornTimestamp = m.bornTimestamp ?? now;
    f.bornHost = m.bornHost ?? LOCALHOST;
    f.storeTimestamp = now;
    f.storeHost = this.config.storeHost;
    f.reconsumeTimes = m.reconsumeTimes ?? 0;
    f.preparedTransactionOffset = m.preparedTransactionOffset ?? 0;
    f.body = m.body;
    // Filled in when the batch is written (record-scan.ts).
    f.bodyCrc = 0;
    f.properties = m.properties ?? "";
    f.propertiesBytes = p.propsBytes;
    writeRecord(f, batch.buf, batch.view, pos, p.size);
  }

  private topicInfo(name: string): TopicInfo {
    let t = this.topicCache.get(name);
    if (!t) {
      const bytes = Buffer.from(name, "utf8");
      if (bytes.length === 0 || bytes.length > 32767)
        throw new BrokerError("ILLEGAL_TOPIC", name.slice(0, 64));
      t = { name, bytes };
      if (this.topicCache.size > 100_000) this.topicCache.clear();
      this.topicCache.set(name, t);
    }
    return t;
  }

  /** The next-offset counters of a topic's queues. */
  private queueCounters(topic: string): Map<number, number> {
    let m = this.nextOffsets.get(topic);
    if (!m) {
      m = new Map();
      this.nextOffsets.set(topic, m);
    }
    return m;
  }

  /** The queue's next offset, which the caller takes (the counter moves on). */
  private takeQueueOffset(topic: string, queueId: number): number {
    const m = this.queueCounters(topic);
    const next = m.get(queueId) ?? this.queues.get(topic, queueId)?.maxOffset ?? 0;
    m.set(queueId, next + 1);
    return next;
  }

  private onBatchDone(batch: Batch<Pending>): void {
    const arrived = this.arrivedScratch;
    arrived.length = 0;
    // The batch's scan gives each record, in order: tag hash, n, n key-index hashes.
    const meta = batch.meta;
    let m = 0;
    for (const it of batch.items) {
      if (it.batch === undefined) m = this.dispatch(it, meta, m);
      else for (const p of it.batch) m = this.dispatch(p, meta, m);
    }
    this.dispatchedOffset = Math.max(this.dispatchedOffset, this.log.writtenOffset);
    for (const it of batch.items) {
      if (it.batch === undefined) it.resolve(this.resultOf(it));
      else it.resolve(it.batch.map((p) => this.resultOf(p)));
    }
    if (this.listeners.length > 0) {
      for (const p of arrived) {
        const max = this.queues.get(p.topic.name, p.queueId)?.maxOffset ?? 0;
        for (const l of this.listeners) l(p.topic.name, p.queueId, max);
      }
    }
    arrived.length = 0;
    // After the commit log has kept the batch among its recent ones (right after this returns): a replication
    // reader then copies it from memory instead of reading the file (a whole 1 MiB block, 4 ms, when the batch
    // completed one).
    if (this.writtenListeners.length > 0) queueMicrotask(this.notifyWritten);
  }

  private readonly notifyWritten = (): void => {
    for (const l of this.writtenListeners) l();
  };

  /** Dispatches `p`, whose scan output starts at meta[m]; returns where the next record's starts. */
  private dispatch(p: PendingPut, meta: Int32Array, m: number): number {
    const ts = p.storeTimestamp;
    const n = meta[m + 1]!;
    if (p.toQueue) {
      this.queues.getOrCreate(p.topic.name, p.queueId).put(p.queueOffset, p.phyOffset, p.size, meta[m]!);
      const arrived = this.arrivedScratch;
      const last = arrived[arrived.length - 1];
      if (!last || last.topic !== p.topic || last.queueId !== p.queueId) arrived.push(p);
    }
    for (let i = m + 2; i < m + 2 + n; i++) this.index.addHashed(meta[i]!, p.phyOffset, ts);
    return m + 2 + n;
  }

  private resultOf(p: PendingPut): PutMessageResult {
    return new StoredResult(this.config.storeHost, p.phyOffset, p.size, p.queueOffset, p.storeTimestamp);
  }

  private onBatchesFailed(batches: Batch<Pending>[], err: Error): void {
    const code = (err as NodeJS.ErrnoException).code;
    const reason = code === "ENOSPC" ? "DISK_FULL" : "STORE_WRITE_FAILED";
    for (const b of batches) {
      for (const it of b.items) {
        if (it.batch === undefined) this.giveBackQueueOffset(it);
        else for (const p of it.batch) this.giveBackQueueOffset(p);
        it.reject(new BrokerError(reason, err.message, { cause: err }));
      }
    }
  }

  /** A failed append's queue offset goes back, so the next append takes it (the failed one left no record). */
  private giveBackQueueOffset(p: PendingPut): void {
    if (!p.toQueue) return;
    const m = this.nextOffsets.get(p.topic.name);
    const cur = m?.get(p.queueId);
    if (m && cur !== undefined && p.queueOffset < cur) m.set(p.queueId, p.queueOffset);
  }

  onMessageArrived(listener: ArrivalListener): void {
    this.listeners.push(listener);
  }

  /** Called after each written batch (a master's replication follows the log's written end). */
  onWritten(listener: () => void): void {
    this.writtenListeners.push(listener);
  }

  // ---- replication ----------------------------------------------------------------------------------------

  /** A slave's store refuses appends (SERVICE_NOT_AVAILABLE) and takes its master's records (appendReplica). */
  setReplica(on: boolean): void {
    this.replica = on;
  }

  /**
   * Master side: whole written records from `from` on, about `maxBytes` of them (at least one record), within one
   * segment. A segment's end marker is not sent: reading at it moves to the next segment, where the slave's own
   * log moves too, since a record that does not fit a segment starts the next one in both. `from` below the
   * log's start (retention) reads from its start: the chunk's offset says where it begins. Undefined when nothing
   * is written at or past `from`.
   */
  readReplica(from: number, maxBytes: number): ReplicaChunk | undefined {
    let at = Math.max(from, this.log.minOffset);
    for (;;) {
      const end = this.log.writtenOffset;
      if (at >= end) return undefined;
      const seg = this.log.segmentFor(at);
      if (!seg) return undefined;
      const head = this.log.read(at, 8);
      if (!head) return undefined;
      const magic = head.readInt32BE(4);
      if (magic === BLANK_MAGIC) {
        at = seg.base + this.config.segmentBytes;
        continue;
      }
      if (magic !== MAGIC_V1 && magic !== MAGIC_V2) {
        throw new BrokerError(
          "REPLICA_OUT_OF_SYNC",
          `no record starts at ${at} in the master's log: the slave's log diverged from it`,
        );
      }
      const first = head.readInt32BE(0);
      // The segment's file holds its records and the end marker's head, not the marker's whole declared size.
      let limit = Math.min(end, seg.base + seg.size, at + Math.max(maxBytes, first));
      // A slave that keeps up reads what was just written: one recent batch at a time comes from memory, where a
      // range across batches would be read from the file (a whole cache block once it is complete: 4 ms of
      // blocking read every 1 MiB on this VM, measured as the p99 of SYNC_MASTER sends).
      const hot = this.log.recentBatchEnd(at);
      if (hot !== undefined) limit = Math.min(limit, hot);
      // One copy, owned: the chunk waits in a socket's queue, and read() may hand out a view of a cache block.
      const buf = Buffer.allocUnsafe(limit - at);
      if (!this.log.readInto(at, buf.length, buf, 0)) return undefined;
      let p = 0;
      while (p + 8 <= buf.length) {
        const size = buf.readInt32BE(p);
        const magic = buf.readInt32BE(p + 4);
        if (magic !== MAGIC_V1 && magic !== MAGIC_V2) break;
        if (size <= 0 || p + size > buf.length) break;
        p += size;
      }
      if (p === 0) throw new BrokerError("SYSTEM_ERROR", `no readable record at commit log offset ${at}`);
      return { offset: at, data: buf.subarray(0, p) };
    }
  }

  /**
   * Slave side: appends a chunk of its master's records (readReplica's output) byte for byte at the same
   * commit-log offsets, and dispatches them to consume queues and the index at their own queue offsets.
   * Resolves with the log's new end once every byte reached the OS (as putMessage does). An empty store starts
   * at the chunk's offset when that is a segment start (the master's log began past 0); otherwise every record
   * must land where it lay in the master's log, or this throws REPLICA_OUT_OF_SYNC before taking it.
   */
  appendReplica(chunk: ReplicaChunk): Promise<number> {
    try {
      return this.appendReplicaChecked(chunk);
    } catch (e) {
      return Promise.reject(e as Error);
    }
  }

  private appendReplicaChecked(chunk: ReplicaChunk): Promise<number> {
    this.checkOpenWithSpace();
    const { data, offset } = chunk;
    const seg = this.config.segmentBytes;
    if (this.log.segmentList.length === 0 && this.log.appendOffset === 0 && offset > 0) {
      if (offset % seg !== 0) {
        throw new BrokerError(
          "REPLICA_OUT_OF_SYNC",
          `an empty slave cannot start at ${offset}, inside a segment`,
        );
      }
      this.log.setEnd(offset);
      this.dispatchedOffset = offset;
    }
    let last: PendingPut | undefined;
    let p = 0;
    while (p < data.length) {
      const rec = decodeRecord(data, p);
      const size = data.readInt32BE(p);
      const expected = this.log.nextRecordOffset(size);
      if (rec.physicalOffset !== expected || (p === 0 && offset !== expected)) {
        throw new BrokerError(
          "REPLICA_OUT_OF_SYNC",
          `master record at ${rec.physicalOffset} (chunk at ${offset}) would be stored at ${expected} here ` +
            "(the slave's log diverged from its master's, or their segment sizes differ)",
        );
      }
      const txType = rec.sysFlag & SysFlag.TRANSACTION_MASK;
      const toQueue = txType !== SysFlag.TRANSACTION_PREPARED && txType !== SysFlag.TRANSACTION_ROLLBACK;
      const put = new PendingPut(this.topicInfo(rec.topic), rec.queueId, rec.sysFlag, size, 0, toQueue);
      put.queueOffset = rec.queueOffset;
      put.phyOffset = rec.physicalOffset;
      put.storeTimestamp = rec.storeTimestamp;
      if (toQueue) this.followQueueOffset(rec.topic, rec.queueId, rec.queueOffset);
      const r = this.log.reserve(size);
      data.copy(r.batch.buf, r.pos, p, p + size);
      r.batch.items.push(put);
      last = put;
      p += size;
    }
    if (!last) return Promise.resolve(this.log.writtenOffset);
    const tail = last;
    return new Promise<number>((resolve, reject) => {
      tail.resolve = (r) => resolve(r.phyOffset + r.size);
      tail.reject = reject;
    });
  }

  /** A replicated record took `queueOffset`: the queue's counter moves past it. */
  private followQueueOffset(topic: string, queueId: number, queueOffset: number): void {
    const m = this.queueCounters(topic);
    if ((m.get(queueId) ?? 0) <= queueOffset) m.set(queueId, queueOffset + 1);
  }

  // ---- reads ----------------------------------------------------------------------------------------------

  getMessages(
    topic: string,
    queueId: number,
    offset: number,
    maxCount: number,
    filter?: MessageFilter,
    maxBytes = 8 * 1024 * 1024,
  ): GetMessageResult {
    const messages: Buffer[] = [];
    const offsets: number[] = [];
    const r = this.scan(topic, queueId, offset, maxCount, filter, maxBytes, (phy, size, at) => {
      const rec = this.log.read(phy, size);
      if (!rec) return false;
      if (filter?.matchRecord && !filter.matchRecord(rec)) return false;
      messages.push(rec);
      offsets.push(at);
      return true;
    });
    return {
      status: r.status,
      messages,
      offsets,
      nextBeginOffset: r.nextBeginOffset,
      minOffset: r.minOffset,
      maxOffset: r.maxOffset,
    };
  }

  /**
   * getMessages for a pull response: the same records, copied straight from the read cache into one buffer
   * (the response body) instead of a view per record that is then concatenated. Throws when a record that
   * getMessages would have read cannot be read (an I/O error; the pull then fails and is retried).
   */
  getMessagesBody(
    topic: string,
    queueId: number,
    offset: number,
    maxCount: number,
    filter?: MessageFilter,
    maxBytes = 8 * 1024 * 1024,
  ): GetMessageBodyResult {
    const log = this.log;
    if (filter?.matchRecord) {
      // A record filter reads every candidate anyway: keep the ones that match and copy those.
      const r = this.getMessages(topic, queueId, offset, maxCount, filter, maxBytes);
      const n = r.messages.length;
      return bodyResult(r, n === 0 ? undefined : Buffer.concat(r.messages), n);
    }
    const phys: number[] = [];
    const sizes: number[] = [];
    let total = 0;
    const r = this.scan(topic, queueId, offset, maxCount, filter, maxBytes, (phy, size) => {
      if (phy + size > log.writtenOffset) return false;
      phys.push(phy);
      sizes.push(size);
      total += size;
      return true;
    });
    if (phys.length === 0) return bodyResult(r, undefined, 0);
    const body = this.bodies.take(total);
    let pos = 0;
    for (let i = 0; i < phys.length; i++) {
      if (!log.readInto(phys[i]!, sizes[i]!, body, pos)) {
        throw new Error(`commit log read failed at ${phys[i]} (${sizes[i]} bytes)`);
      }
      pos += sizes[i]!;
    }
    return bodyResult(r, body, phys.length);
  }

  /**
   * Hands back a body from getMessagesBody once nothing reads it any more (written to its socket), so the next
   * pull reuses its memory. Optional: a body never handed back is collected as usual.
   */
  releaseBody(body: Buffer): void {
    this.bodies.give(body);
  }

  /** Pull bodies served from memory handed back by earlier pulls (a figure for tests and diagnostics). */
  get reusedBodies(): number {
    return this.bodies.reused;
  }

  /**
   * Walks `topic`/`queueId` from `offset`, handing each unit that passes the tag filter to `take` (which says
   * whether it was taken), until `maxCount` are taken, `maxBytes` reached or the filter's scan limit passed.
   */
  private scan(
    topic: string,
    queueId: number,
    offset: number,
    maxCount: number,
    filter: MessageFilter | undefined,
    maxBytes: number,
    take: (phy: number, size: number, at: number) => boolean,
  ): ScanResult {
    const q = this.queues.get(topic, queueId);
    if (!q) {
      return { status: "NO_MATCHED_LOGIC_QUEUE", nextBeginOffset: 0, minOffset: 0, maxOffset: 0 };
    }
    const min = q.minOffset;
    const max = q.maxOffset;
    const result = (status: GetMessageStatus, next: number): ScanResult => ({
      status,
      nextBeginOffset: next,
      minOffset: min,
      maxOffset: max,
    });
    if (max === 0 || max <= min) return result("NO_MESSAGE_IN_QUEUE", max === 0 ? 0 : max);
    if (offset < min) return result("OFFSET_TOO_SMALL", min);
    if (offset === max) return result("OFFSET_OVERFLOW_ONE", offset);
    if (offset > max) return result("OFFSET_OVERFLOW_BADLY", min === 0 ? min : max);

    const logMin = this.log.minOffset;
    let next = offset;
    let taken = 0;
    let bytes = 0;
    let scanned = 0;
    const scanLimit = Math.max(maxCount, MAX_FILTER_SCAN);
    while (taken < maxCount && next < max && scanned < scanLimit && bytes < maxBytes) {
      // Without a filter every unit is (nearly always) a message: read only what is asked for.
      const want = filter
        ? Math.min(scanLimit - scanned, 1024)
        : Math.min(scanLimit - scanned, maxCount - taken + 8);
      const units = q.read(next, want);
      if (units.length === 0) break;
      let i = 0;
      for (; i < units.length; i += UNIT) {
        if (taken >= maxCount || bytes >= maxBytes) break;
        const phy = readInt64BE(units, i);
        const size = units.readInt32BE(i + 8);
        if (size <= 0 || phy < logMin) continue;
        if (filter && !filter.matchTagsCode(readInt64BE(units, i + 12))) continue;
        if (!take(phy, size, next + i / UNIT)) continue;
        taken++;
        bytes += size;
      }
      scanned += i / UNIT;
      next += i / UNIT;
    }
    if (taken > 0) return result("FOUND", next);
    if (next === offset) return result("OFFSET_FOUND_NULL", next);
    return result("NO_MATCHED_MESSAGE", next);
  }

  getMinOffset(topic: string, queueId: number): number {
    return this.queues.get(topic, queueId)?.minOffset ?? 0;
  }

  getMaxOffset(topic: string, queueId: number): number {
    return this.queues.get(topic, queueId)?.maxOffset ?? 0;
  }

  queueIds(topic: string): number[] {
    return this.queues.queueIds(topic);
  }

  topics(): string[] {
    return this.queues.topicNames();
  }

  /** Commit log offset of the message at `offset` in the queue, or undefined (none there, or a hole). */
  getCommitLogOffsetInQueue(topic: string, queueId: number, offset: number): number | undefined {
    const u = this.queues.get(topic, queueId)?.unit(offset);
    return u && u.size > 0 ? u.phy : undefined;
  }

  /** Store time of the message at `offset` in the queue, or undefined. */
  getStoreTime(topic: string, queueId: number, offset: number): number | undefined {
    const u = this.queues.get(topic, queueId)?.unit(offset);
    if (!u || u.size <= 0) return undefined;
    return this.storeTimeAt(u.phy, u.size);
  }

  /** Store time of the oldest record in the commit log, or undefined when it holds none. */
  getEarliestStoreTime(): number | undefined {
    const min = this.log.minOffset;
    return min < this.log.writtenOffset ? this.storeTimeAt(min, this.log.writtenOffset - min) : undefined;
  }

  private storeTimeAt(phy: number, size: number): number | undefined {
    const head = this.log.read(phy, Math.min(size, 80));
    if (!head || head.length < 48) return undefined;
    const pos = storeTimestampPos(head.readInt32BE(36));
    return readInt64BE(head, pos);
  }

  /**
   * The first queue offset whose message was stored at or after `timestamp`; the max offset when every message
   * is older, the min offset when every message is newer (SEARCH_OFFSET_BY_TIMESTAMP, reset-by-time).
   */
  getOffsetByTime(topic: string, queueId: number, timestamp: number): number {
    const q = this.queues.get(topic, queueId);
    if (!q) return 0;
    let lo = q.minOffset;
    let hi = q.maxOffset;
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      const u = q.unit(mid);
      const t = u && u.size > 0 ? this.storeTimeAt(u.phy, u.size) : undefined;
      if (t === undefined || t < timestamp) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** The record at a commit log offset, byte for byte, or undefined. */
  readAt(phyOffset: number): Buffer | undefined {
    if (phyOffset < this.log.minOffset || phyOffset + 8 > this.log.writtenOffset) return undefined;
    const head = this.log.read(phyOffset, 8);
    if (!head) return undefined;
    const size = head.readInt32BE(0);
    if (size <= 8 || size > this.maxRecordBytes) return undefined;
    // Offsets come from clients too (an offset message id, a send-back): one that is not a record's start is
    // no record, rather than bytes from the middle of one.
    const magic = head.readInt32BE(4);
    if (magic !== MAGIC_V1 && magic !== MAGIC_V2) return undefined;
    return this.log.read(phyOffset, size);
  }

  private readRecord(phy: number, size: number): MessageRecord | undefined {
    const b = this.log.read(phy, size);
    if (!b) return undefined;
    try {
      return decodeRecord(b);
    } catch {
      return undefined;
    }
  }

  /** Looks a message up by its offset message id (store host + commit log offset). */
  viewByOffsetMsgId(id: string): Buffer | undefined {
    const d = decodeOffsetMsgId(id);
    if (!d) throw new BrokerError("BAD_REQUEST", `not an offset message id: ${id}`);
    return this.readAt(d.phyOffset);
  }

  /**
   * Messages of `topic` whose KEYS contain `key` or whose unique id is `key`, stored within [begin, end],
   * newest first, at most `maxNum`. Hash collisions are filtered out here.
   */
  queryByKey(
    topic: string,
    key: string,
    maxNum = 64,
    begin = 0,
    end = Number.MAX_SAFE_INTEGER,
  ): MessageRecord[] {
    const out: MessageRecord[] = [];
    const seen = new Set<number>();
    for (const phy of this.index.query(`${topic}#${key}`, maxNum * 4, begin, end)) {
      if (out.length >= maxNum) break;
      if (seen.has(phy)) continue;
      seen.add(phy);
      const buf = this.readAt(phy);
      if (!buf) continue;
      let rec: MessageRecord;
      try {
        rec = decodeRecord(buf);
      } catch {
        continue;
      }
      if (rec.topic !== topic) continue;
      const keys = getProperty(rec.properties, Prop.KEYS);
      const uniq = getProperty(rec.properties, Prop.UNIQ_KEY);
      if (uniq !== key && !(keys && keys.split(" ").includes(key))) continue;
      out.push(rec);
    }
    return out;
  }

  // ---- flush, checkpoint, retention, close -----------------------------------------------------------------

  /** Makes written data durable, writes consume queues and the index, and advances the checkpoint. */
  flush(): Promise<void> {
    this.flushing ??= this.doFlush().finally(() => {
      this.flushing = undefined;
    });
    return this.flushing;
  }

  private async doFlush(): Promise<void> {
    if (this.closed) return;
    await this.log.flush();
    if (this.closed) return;
    const checkpointDue = Date.now() - this.checkpointAt >= this.config.checkpointIntervalMs;
    const snapshot = checkpointDue ? this.checkpointSnapshot() : undefined;
    const touched: number[] = [];
    this.queues.flush(false, touched);
    this.index.flush(false, touched);
    if (this.config.flushMode === "sync") for (const fd of touched) this.unsyncedFds.add(fd);
    if (!snapshot) return;
    this.checkpointAt = Date.now();
    // In sync mode the queues and index are made durable before the checkpoint claims them, with fdatasync on
    // the thread pool so appends keep flowing meanwhile.
    if (this.config.flushMode === "sync") {
      const fds = [...this.unsyncedFds];
      this.unsyncedFds.clear();
      await Promise.all(fds.map((fd) => this.io.fdatasync(fd).catch(() => undefined)));
      if (this.closed) return;
    }
    await writeCheckpointAsync(this.io, this.config.dir, snapshot);
  }

  /** What a checkpoint written once the current queue and index tails are on disk may claim. */
  private checkpointSnapshot(): Checkpoint {
    return {
      version: 1,
      flushedOffset: this.log.flushedOffset,
      dispatchedOffset: this.dispatchedOffset,
      indexedOffset: this.index.lastIndexedOffset,
      queues: this.queues.maxOffsets(),
      writtenAt: Date.now(),
    };
  }

  private writeCheckpointNow(): void {
    writeCheckpoint(this.io, this.config.dir, this.checkpointSnapshot());
  }

  private refreshDiskState(): void {
    try {
      this.diskUsedRatio = this.io.diskUsedRatio(this.config.dir);
      this.diskFull = this.diskUsedRatio > this.config.diskFullRatio;
    } catch {
      // statfs can fail on exotic file systems; treat the disk as usable.
    }
  }

  /** Asks the next retention pass to delete expired segments whatever the hour (admin deleteExpiredCommitLog). */
  requestManualDelete(): void {
    this.manualDeleteRequested = true;
  }

  /**
   * One retention pass: deletes up to 10 expired segments when it is a deletion hour, the disk is above
   * diskMaxUsedRatio, or a manual delete was asked for; above diskCleanForciblyRatio deletes the oldest
   * segments whatever their age. Consume queues and index files follow. Returns the segments deleted.
   */
  runRetention(now = Date.now()): number {
    if (this.closed) return 0;
    this.refreshDiskState();
    const c = this.config;
    const hour = new Date(now).getHours();
    let deleted = 0;
    const before = this.log.minOffset;
    if (
      c.deleteWhenHours.includes(hour) ||
      this.diskUsedRatio > c.diskMaxUsedRatio ||
      this.manualDeleteRequested
    ) {
      this.manualDeleteRequested = false;
      this.log.deleteSegments((seg) => {
        const expired = this.io.mtimeMs(seg.path) + c.fileReservedTimeMs < now;
        if (expired) deleted++;
        return expired;
      }, 10);
    }
    if (this.diskUsedRatio > c.diskCleanForciblyRatio) {
      this.log.deleteSegments(() => {
        deleted++;
        return true;
      }, 10);
    }
    const min = this.log.minOffset;
    if (min > before) {
      for (const q of this.queues.all()) q.deleteBelowPhy(min);
      this.index.deleteFilesBefore(min);
      this.refreshDiskState();
    }
    return deleted;
  }

  stats(): StoreStats {
    return {
      minPhyOffset: this.log.minOffset,
      maxPhyOffset: this.log.writtenOffset,
      flushedOffset: this.log.flushedOffset,
      dispatchedOffset: this.dispatchedOffset,
      diskUsedRatio: this.diskUsedRatio,
      diskFull: this.diskFull,
    };
  }

  deleteTopic(topic: string): void {
    this.queues.deleteTopic(topic);
    this.nextOffsets.delete(topic);
  }

  /** Clean stop: waits for pending appends, flushes everything, checkpoints, removes the abort marker. */
  async close(): Promise<void> {
    if (this.closed) return;
    clearInterval(this.flushTimer);
    clearInterval(this.cleanTimer);
    await this.log.idle();
    if (this.flushing) await this.flushing.catch(() => undefined);
    this.closed = true;
    this.log.flushSync();
    this.queues.flush(true);
    this.index.flush(true);
    this.writeCheckpointNow();
    this.index.close();
    this.queues.close();
    this.log.close();
    this.io.unlink(abortPath(this.config.dir));
    try {
      this.io.unlink(join(this.config.dir, "lock"));
    } catch {
      // already gone
    }
  }
}

const LOCALHOST = hostAddress("127.0.0.1", 0);
const NOOP = (): void => undefined;

/** An append's outcome; the offset message id is built only when asked for (most callers never do). */
class StoredResult implements PutMessageResult {
  constructor(
    private readonly host: HostAddress,
    readonly phyOffset: number,
    readonly size: number,
    readonly queueOffset: number,
    readonly storeTimestamp: number,
  ) {}

  get offsetMsgId(): string {
    return createOffsetMsgId(this.host, this.phyOffset);
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}
