// Pop consumption (RocketMQ 5 receive/ack) on top of the consume queues. Each (group, topic, queue) keeps only
// what is in flight (see PopQueue); a message not acked before its invisible time ends is handed out again, in
// place, with its delivery attempt increased, and after the group's max attempts it is copied to %DLQ%group.
// FIFO groups (consumeMessageOrderly): a message group with nothing in flight gets its next messages, in queue
// order, up to the receive's batch size; later messages of that group are held until every one of them is acked
// or dead-lettered, while other groups go on in parallel. (RocketMQ pops a batch per queue and blocks the whole
// queue; a run per group keeps its batching without one group holding up the others in its queue. One message
// per group and receive cost a round trip each: 95 msg/s a group with the official PushConsumer.)
import { join } from "node:path";
import { BrokerError } from "../../common/errors.js";
import { decodeRecord } from "../../common/message-record.js";
import type { MessageRecord } from "../../common/message-record.js";
import { Prop, getProperty } from "../../common/properties.js";
import { Perm } from "../../common/topic.js";
import type { FileIO } from "../../store/file-io.js";
import type { MessageFilter, MessageStore } from "../../store/message-store.js";
import type { GroupManager } from "../group-manager.js";
import type { OffsetManager } from "../offset-manager.js";
import { FilterCache } from "../subscription.js";
import type { TopicManager } from "../topic-manager.js";
import { PopJournal } from "./pop-journal.js";
import { PopQueue } from "./pop-queue.js";
import type { InFlight } from "./pop-queue.js";
import type { OrderedQueuesReceive, ReceiveRequest, ReceivedMessage } from "./pop-types.js";
import { formatReceiptHandle, parseReceiptHandle } from "./receipt-handle.js";

export interface PopDeps {
  store: MessageStore;
  topics: TopicManager;
  groups: GroupManager;
  offsets: OffsetManager;
  /** Where a group without a committed offset starts on a queue (Broker.newGroupStartOffset). */
  newGroupStart(topic: string, queueId: number): number;
  /** Stores a copy of `record` in the group's dead-letter queue after `attempts` deliveries. */
  deadLetter(group: string, record: MessageRecord, attempts: number): Promise<void>;
}

export interface PopOptions {
  /** Messages in flight (and held) per queue and group before receiving from that queue pauses. */
  maxInFlightPerQueue: number;
  /** Longest invisible time a receive or change may ask for. */
  maxInvisibleMs: number;
  /** The journal is rewritten as a snapshot past this size. */
  journalCompactBytes: number;
  /** How often exhausted messages are looked for and dead-lettered. */
  sweepMs: number;
  /** Receive states idle this long with nothing in flight are let go (looked for every idleMs / 10). */
  idleMs: number;
}

const DEFAULTS: PopOptions = {
  maxInFlightPerQueue: 20_000,
  maxInvisibleMs: 12 * 3600_000,
  journalCompactBytes: 16 * 1024 * 1024,
  sweepMs: 250,
  idleMs: 120_000,
};

/** getMessages calls per queue per receive, so one receive never scans a huge filtered-out range in one go. */
const MAX_READS_PER_QUEUE = 8;

interface PollSpec {
  group: string;
  filter: MessageFilter | undefined;
  /** Read the queues in the order given, not from a rotating start. */
  fixedOrder: boolean;
  fifo: boolean;
  queueOrder: boolean;
  maxAttempts: number;
  batch: number;
  invisibleMs: number;
  pollTimeoutMs: number;
  signal: AbortSignal | undefined;
}

interface Collect extends PollSpec {
  topic: string;
  now: number;
  out: ReceivedMessage[];
}

interface Source {
  topic: string;
  queueIds: number[];
}

export class PopService {
  private readonly queues = new Map<string, PopQueue>();
  private readonly waiters = new Map<string, Set<() => void>>();
  private readonly moving = new Set<Promise<void>>();
  private readonly filters = new FilterCache();
  private readonly journal: PopJournal;
  private readonly options: PopOptions;
  private nextId = 1;
  private seq: number;
  private rr = 0;
  private idleSweptAt = Date.now();
  private sweeper: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly deps: PopDeps,
    io: FileIO,
    dataDir: string,
    options: Partial<PopOptions> = {},
  ) {
    this.options = { ...DEFAULTS, ...options };
    this.journal = new PopJournal(io, join(dataDir, "pop"), this.options.journalCompactBytes, () =>
      this.queues.values(),
    );
    const { queues, maxSeq } = this.journal.load();
    for (const q of queues) {
      this.queues.set(PopService.key(q.group, q.topic, q.queueId), q);
      this.nextId = Math.max(this.nextId, q.id + 1);
    }
    // Sequence numbers only need to differ from every handle still held by a client.
    this.seq = Math.max(maxSeq, Date.now());
  }

  private static key(group: string, topic: string, queueId: number): string {
    return `${group}\u0000${topic}\u0000${queueId}`;
  }

  start(): void {
    this.sweeper = setInterval(() => this.sweep(), this.options.sweepMs);
    this.sweeper.unref();
  }

  /** A message arrived on `topic` (or `topic` is a wake key): wake long-polling receivers. */
  arrived(topic: string): void {
    const set = this.waiters.get(topic);
    if (!set) return;
    this.waiters.delete(topic);
    for (const wake of set) wake();
  }

  // ---- receive --------------------------------------------------------------------------------------------

  async receive(req: ReceiveRequest): Promise<ReceivedMessage[]> {
    const { deps } = this;
    this.checkBatch(req.batchSize);
    if (req.maxAttempts !== undefined && !(Number.isInteger(req.maxAttempts) && req.maxAttempts >= 1)) {
      throw new BrokerError("BAD_REQUEST", `max attempts ${req.maxAttempts} is not a positive integer`);
    }
    this.checkInvisible(req.invisibleMs);
    const g = deps.groups.getOrCreate(req.group);
    if (!g.consumeEnable) throw new BrokerError("NO_PERMISSION", `group ${req.group} may not consume`);
    const tc = deps.topics.get(req.topic);
    if (!tc) throw new BrokerError("TOPIC_NOT_EXIST", `topic ${req.topic} does not exist`);
    if (!(tc.perm & Perm.READ)) throw new BrokerError("NO_PERMISSION", `topic ${req.topic} is not readable`);
    let queueIds: number[];
    if (req.queueId === undefined || req.queueId < 0) {
      queueIds = Array.from({ length: tc.readQueueNums }, (_, i) => i);
    } else if (Number.isInteger(req.queueId) && req.queueId < tc.readQueueNums) {
      queueIds = [req.queueId];
    } else {
      throw new BrokerError("BAD_REQUEST", `queue ${req.queueId} is out of range for ${req.topic}`);
    }
    const filter = this.filters.get(req.topic, req.subscription.expression, req.subscription.type).filter;
    const fifo = g.consumeMessageOrderly && !req.queueOrder;
    // Priority topics (RIP-80): queue n is priority level n; a receive over all queues takes the highest first.
    const byPriority =
      tc.attributes["message.type"]?.toUpperCase() === "PRIORITY" &&
      !fifo &&
      !req.queueOrder &&
      queueIds.length > 1;
    if (byPriority) queueIds.reverse();
    const sources = [{ topic: req.topic, queueIds }];
    return this.poll(
      {
        group: req.group,
        filter,
        fixedOrder: byPriority,
        fifo,
        queueOrder: req.queueOrder ?? false,
        maxAttempts: req.maxAttempts ?? g.retryMaxTimes + 1,
        batch: req.batchSize,
        invisibleMs: req.invisibleMs,
        pollTimeoutMs: req.pollTimeoutMs,
        signal: req.signal,
      },
      () => sources,
      [],
    );
  }

  /**
   * Receives from a changing set of single-queue topics (a lite consumer's subscribed lite topics), each served
   * in order a batch at a time: nothing more of a topic is handed out while a batch of it is in flight, and that
   * batch comes back whole once its invisible time ends. `wakeKey`: arrived(wakeKey) ends a long poll early, so
   * a changed set is looked at again.
   */
  async receiveOrderedQueues(req: OrderedQueuesReceive): Promise<ReceivedMessage[]> {
    this.checkBatch(req.batchSize);
    this.checkInvisible(req.invisibleMs);
    const g = this.deps.groups.getOrCreate(req.group);
    if (!g.consumeEnable) throw new BrokerError("NO_PERMISSION", `group ${req.group} may not consume`);
    return this.poll(
      {
        group: req.group,
        filter: undefined,
        fixedOrder: false,
        fifo: false,
        queueOrder: true,
        maxAttempts: req.maxAttempts ?? g.retryMaxTimes + 1,
        batch: req.batchSize,
        invisibleMs: req.invisibleMs,
        pollTimeoutMs: req.pollTimeoutMs,
        signal: req.signal,
      },
      () => req.topics().map((topic) => ({ topic, queueIds: [0] })),
      [req.wakeKey],
      req.idle,
    );
  }

  private checkBatch(n: number): void {
    if (!Number.isInteger(n) || n < 1 || n > 32) {
      throw new BrokerError("BAD_REQUEST", `batch size ${n} is not between 1 and 32`);
    }
  }

  private async poll(
    p: PollSpec,
    sources: () => Source[],
    wakeKeys: string[],
    idle?: (topic: string) => void,
  ): Promise<ReceivedMessage[]> {
    const until = Date.now() + Math.max(0, p.pollTimeoutMs || 0);
    for (;;) {
      const now = Date.now();
      const c: Collect = { ...p, topic: "", now, out: [] };
      const list = sources();
      const first = list.length > 0 ? this.rr++ % list.length : 0;
      for (let i = 0; i < list.length && c.out.length < c.batch; i++) {
        const src = list[(first + i) % list.length]!;
        c.topic = src.topic;
        const had = c.out.length;
        this.collect(c, src.queueIds);
        if (idle && c.out.length === had && src.queueIds.every((q) => this.settled(p.group, src.topic, q)))
          idle(src.topic);
      }
      if (c.out.length > 0) {
        await this.journal.flush();
        return c.out;
      }
      if (this.stopped || p.signal?.aborted || now >= until) return c.out;
      let wakeAt = until;
      for (const src of list) {
        for (const q of src.queueIds) {
          const pq = this.queues.get(PopService.key(p.group, src.topic, q));
          if (pq) wakeAt = Math.min(wakeAt, pq.nextDeadline(now));
        }
      }
      await this.waitFor([...list.map((x) => x.topic), ...wakeKeys], wakeAt - now, p.signal);
    }
  }

  private checkInvisible(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0 || ms > this.options.maxInvisibleMs) {
      throw new BrokerError(
        "BAD_REQUEST",
        `invisible duration ${ms} ms is not between 0 and ${this.options.maxInvisibleMs} ms`,
      );
    }
  }

  /** Waits until one of `keys` has an arrival, `ms` pass, or the signal aborts. */
  private waitFor(keys: string[], ms: number, signal: AbortSignal | undefined): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", done);
        for (const k of keys) {
          const set = this.waiters.get(k);
          if (set?.delete(done) && set.size === 0) this.waiters.delete(k);
        }
        resolve();
      };
      for (const k of keys) {
        let set = this.waiters.get(k);
        if (!set) {
          set = new Set();
          this.waiters.set(k, set);
        }
        set.add(done);
      }
      const timer = setTimeout(done, Math.max(1, ms));
      signal?.addEventListener("abort", done);
    });
  }

  private collect(c: Collect, queueIds: number[]): void {
    const n = queueIds.length;
    const first = c.fixedOrder ? 0 : this.rr++ % n;
    for (let i = 0; i < n && c.out.length < c.batch; i++) {
      const queueId = queueIds[(first + i) % n]!;
      // A queue with no state here and nothing past the group's offset needs none: a lite consumer following
      // thousands of quiet lite topics would otherwise keep a state for each.
      if (
        !this.queues.has(PopService.key(c.group, c.topic, queueId)) &&
        this.nothingNew(c.group, c.topic, queueId)
      )
        continue;
      const pq = this.queue(c.group, c.topic, queueId);
      pq.usedAt = c.now;
      pq.trimBelow(this.deps.store.getMinOffset(c.topic, pq.queueId));
      const before = pq.start;
      this.collectFrom(pq, c);
      pq.advance();
      if (pq.start !== before) this.deps.offsets.commit(c.group, c.topic, pq.queueId, pq.start);
    }
  }

  /** Nothing of the queue in flight or held for the group (after a collect that handed out nothing). */
  private settled(group: string, topic: string, queueId: number): boolean {
    return this.queues.get(PopService.key(group, topic, queueId))?.settled ?? true;
  }

  private nothingNew(group: string, topic: string, queueId: number): boolean {
    const max = this.deps.store.getMaxOffset(topic, queueId);
    return max <= 0 || max <= this.deps.offsets.query(group, topic, queueId);
  }

  private queue(group: string, topic: string, queueId: number): PopQueue {
    const k = PopService.key(group, topic, queueId);
    let pq = this.queues.get(k);
    if (!pq) {
      let off = this.deps.offsets.query(group, topic, queueId);
      if (off < 0) off = this.deps.newGroupStart(topic, queueId);
      pq = new PopQueue(this.nextId++, group, topic, queueId, off, off);
      this.queues.set(k, pq);
    }
    return pq;
  }

  private collectFrom(pq: PopQueue, c: Collect): void {
    if (c.queueOrder) {
      // The batch in flight must be finished before anything after it, and comes back whole.
      for (const e of pq.inflight.values()) if (e.deadline > c.now) return;
      if (pq.inflight.size > 0) {
        this.redeliverExpired(pq, pq.expired(c.now), c, undefined);
        return;
      }
      this.readNew(pq, c, undefined);
      return;
    }
    // Groups with a message in flight: FIFO delivers nothing more of them until it is finished. A group free at
    // the start may get several messages below, in order: they are finished together before its next ones.
    const busy = new Set<string>();
    if (c.fifo) {
      for (const e of pq.inflight.values()) if (e.msgGroup && e.deadline > c.now) busy.add(e.msgGroup);
    }
    // Redeliveries (and, for FIFO, held messages) come before anything new, oldest first.
    const again = pq.expired(c.now);
    if (c.fifo && pq.held.size > 0) {
      again.push(...pq.held.keys());
      again.sort((a, b) => a - b);
    }
    this.redeliverExpired(pq, again, c, c.fifo ? busy : undefined);
    if (c.out.length < c.batch) this.readNew(pq, c, c.fifo ? busy : undefined);
  }

  /**
   * Hands out again expired in-flight messages (and FIFO-held ones), oldest first; messages that used up their
   * attempts go to the dead-letter queue instead. `busy`: FIFO message groups that may get none now.
   */
  private redeliverExpired(pq: PopQueue, offsets: number[], c: Collect, busy: Set<string> | undefined): void {
    for (const off of offsets) {
      if (c.out.length >= c.batch) return;
      const e = pq.inflight.get(off);
      const msgGroup = e ? e.msgGroup : (pq.held.get(off)?.msgGroup ?? "");
      if (e && e.attempt >= Math.min(e.maxAttempts, c.maxAttempts)) {
        this.deadLetterLater(pq, off, e);
        continue;
      }
      if (busy && msgGroup && busy.has(msgGroup)) continue;
      const phy = e ? e.phyOffset : pq.held.get(off)!.phyOffset;
      const raw = this.deps.store.readAt(phy);
      if (!raw) {
        // Gone with retention.
        pq.finish(off);
        this.journal.finished(pq, off);
        continue;
      }
      pq.held.delete(off);
      this.deliver(pq, off, decodeRecord(raw), e, msgGroup, c);
    }
  }

  /** Hands out messages never delivered, from the cursor on; FIFO ones of a busy group are held. */
  private readNew(pq: PopQueue, c: Collect, busy: Set<string> | undefined): void {
    const { store } = this.deps;
    for (let reads = 0; reads < MAX_READS_PER_QUEUE && c.out.length < c.batch; reads++) {
      if (pq.inflight.size + pq.held.size >= this.options.maxInFlightPerQueue) return;
      const r = store.getMessages(c.topic, pq.queueId, pq.cursor, c.batch - c.out.length, c.filter);
      if (r.status === "OFFSET_TOO_SMALL") {
        pq.trimBelow(r.nextBeginOffset);
        continue;
      }
      if (r.status === "OFFSET_OVERFLOW_BADLY") {
        // The queue is shorter than we thought (deleted and created again): start over at its end.
        pq.cursor = r.maxOffset;
        pq.start = Math.min(pq.start, r.maxOffset);
        return;
      }
      for (let i = 0; i < r.messages.length; i++) {
        const off = r.offsets[i]!;
        const rec = decodeRecord(r.messages[i]!);
        const msgGroup = busy ? (getProperty(rec.properties, Prop.SHARDING_KEY) ?? "") : "";
        if (busy && msgGroup && busy.has(msgGroup)) {
          const h = { phyOffset: rec.physicalOffset, msgGroup };
          pq.held.set(off, h);
          this.journal.held(pq, off, h);
        } else {
          this.deliver(pq, off, rec, undefined, msgGroup, c);
        }
      }
      const progressed = r.nextBeginOffset > pq.cursor;
      pq.cursor = Math.max(pq.cursor, r.nextBeginOffset);
      if (!progressed || r.nextBeginOffset >= r.maxOffset) return;
    }
  }

  private deliver(
    pq: PopQueue,
    offset: number,
    record: MessageRecord,
    previous: InFlight | undefined,
    msgGroup: string,
    c: Collect,
  ): void {
    const attempt = (previous?.attempt ?? 0) + 1;
    const e: InFlight = {
      phyOffset: record.physicalOffset,
      seq: ++this.seq,
      attempt,
      maxAttempts: c.maxAttempts,
      firstAt: previous?.firstAt ?? c.now,
      deadline: c.now + c.invisibleMs,
      msgGroup,
    };
    pq.inflight.set(offset, e);
    pq.cursor = Math.max(pq.cursor, offset + 1);
    this.journal.delivered(pq, offset, e);
    c.out.push({
      record: { ...record, reconsumeTimes: attempt - 1 },
      queueId: pq.queueId,
      queueOffset: offset,
      receiptHandle: formatReceiptHandle({ queueId: pq.queueId, offset, seq: e.seq }),
      deliveryAttempt: attempt,
      firstDeliveredAt: e.firstAt,
      invisibleUntil: e.deadline,
    });
  }

  // ---- ack, change, dead letter ---------------------------------------------------------------------------

  /** The in-flight entry a handle names, or INVALID_RECEIPT_HANDLE. */
  private lookup(
    group: string,
    topic: string,
    handle: string,
  ): { pq: PopQueue; offset: number; e: InFlight } {
    const h = parseReceiptHandle(handle);
    const pq = this.queues.get(PopService.key(group, topic, h.queueId));
    const e = pq?.inflight.get(h.offset);
    if (!pq || !e || e.seq !== h.seq || !Number.isFinite(e.deadline)) {
      throw new BrokerError(
        "INVALID_RECEIPT_HANDLE",
        `receipt handle ${handle} of ${group}/${topic} is not in flight (acked, expired and delivered again, or never issued)`,
      );
    }
    return { pq, offset: h.offset, e };
  }

  async ack(group: string, topic: string, handle: string): Promise<void> {
    const { pq, offset } = this.lookup(group, topic, handle);
    this.finish(pq, offset);
    await this.journal.flush();
  }

  /**
   * Makes a message visible again after `invisibleMs`, under a new handle. `suspend` (lite consumers postponing
   * a message): this delivery does not count as an attempt, so postponing never leads to the dead-letter queue.
   */
  async changeInvisible(
    group: string,
    topic: string,
    handle: string,
    invisibleMs: number,
    suspend = false,
  ): Promise<string> {
    const { pq, offset, e } = await this.setDeadline(group, topic, handle, invisibleMs, (x) => {
      if (suspend) x.attempt = Math.max(0, x.attempt - 1);
      x.seq = ++this.seq;
    });
    // Long polls sleep until the deadlines they saw, and this one may be sooner: woken, they look again.
    this.arrived(pq.topic);
    return formatReceiptHandle({ queueId: pq.queueId, offset, seq: e.seq });
  }

  /**
   * Keeps a message invisible for `invisibleMs` more under the same handle (the gRPC endpoint renews messages a
   * push consumer still holds). Throws INVALID_RECEIPT_HANDLE once the handle is no longer in flight.
   */
  async renew(group: string, topic: string, handle: string, invisibleMs: number): Promise<void> {
    await this.setDeadline(group, topic, handle, invisibleMs, () => undefined);
  }

  /** Moves an in-flight message's deadline to `invisibleMs` from now (after `change` adjusts the entry). */
  private async setDeadline(
    group: string,
    topic: string,
    handle: string,
    invisibleMs: number,
    change: (e: InFlight) => void,
  ): Promise<{ pq: PopQueue; offset: number; e: InFlight }> {
    this.checkInvisible(invisibleMs);
    const found = this.lookup(group, topic, handle);
    const { pq, offset, e } = found;
    change(e);
    e.deadline = Date.now() + invisibleMs;
    this.journal.delivered(pq, offset, e);
    await this.journal.flush();
    return found;
  }

  async forwardToDeadLetter(group: string, topic: string, handle: string): Promise<void> {
    const { pq, offset, e } = this.lookup(group, topic, handle);
    await this.deadLetterLater(pq, offset, e);
  }

  private finish(pq: PopQueue, offset: number): void {
    pq.usedAt = Date.now();
    if (pq.finish(offset)) this.deps.offsets.commit(pq.group, pq.topic, pq.queueId, pq.start);
    this.journal.finished(pq, offset);
    // A FIFO group's next message, or a held one, may be deliverable now.
    this.arrived(pq.topic);
  }

  /** Copies an in-flight message to the dead-letter queue, then finishes it; it stays invisible meanwhile. */
  private deadLetterLater(pq: PopQueue, offset: number, e: InFlight): Promise<void> {
    if (!Number.isFinite(e.deadline)) return Promise.resolve();
    e.deadline = Infinity;
    const p = (async () => {
      try {
        const raw = this.deps.store.readAt(e.phyOffset);
        if (raw) await this.deps.deadLetter(pq.group, decodeRecord(raw), e.attempt);
        if (pq.inflight.get(offset) === e) this.finish(pq, offset);
        await this.journal.flush();
      } catch (err) {
        // Try again on a later sweep; the message is not lost.
        e.deadline = Date.now() + 1000;
        throw err;
      }
    })();
    this.moving.add(p);
    p.then(
      () => this.moving.delete(p),
      () => this.moving.delete(p),
    );
    return p;
  }

  /** Dead-letters expired messages that used up their attempts, even when nobody is receiving. */
  private sweep(): void {
    const now = Date.now();
    if (now - this.idleSweptAt >= this.options.idleMs / 10) {
      this.idleSweptAt = now;
      this.releaseIdle(now);
    }
    for (const pq of this.queues.values()) {
      if (pq.inflight.size === 0) continue;
      for (const [off, e] of pq.inflight) {
        if (e.deadline <= now && e.attempt >= e.maxAttempts) {
          this.deadLetterLater(pq, off, e).catch(() => undefined);
        }
      }
    }
  }

  /**
   * Lets go of states with nothing in flight or held that nobody used for `idleMs`: such a state is exactly its
   * committed offset, which the next receive starts from. Without this, every (group, queue) ever received from
   * would stay in memory, and lite topics come and go by the million. `idleMs` is far above the offsets' 5 s
   * flush, so after a crash the committed offset the state is rebuilt from is the one it had.
   */
  private releaseIdle(now: number): void {
    this.drop((pq) => pq.settled && now - pq.usedAt >= this.options.idleMs);
  }

  // ---- admin ----------------------------------------------------------------------------------------------

  /** Drops a group's receive state on a topic (its offsets were reset): receiving starts at the new offsets. */
  forget(group: string | undefined, topic: string): void {
    this.drop((pq) => pq.topic === topic && (group === undefined || pq.group === group));
  }

  /** Drops every group's receive state on these topics (deleted lite topics), in one pass. */
  forgetTopics(topics: ReadonlySet<string>): void {
    this.drop((pq) => topics.has(pq.topic));
  }

  private drop(which: (pq: PopQueue) => boolean): void {
    let any = false;
    for (const [k, pq] of this.queues) {
      if (!which(pq)) continue;
      this.queues.delete(k);
      this.journal.dropped(pq);
      any = true;
    }
    if (any) this.journal.flush().catch(() => undefined);
  }

  /** Receive states held in memory (one per group and queue received from recently). */
  get stateCount(): number {
    return this.queues.size;
  }

  /** Messages of a group in flight on a topic (received, not yet acked). */
  inFlight(group: string, topic: string): number {
    let n = 0;
    for (const pq of this.queues.values())
      if (pq.group === group && pq.topic === topic) n += pq.inflight.size;
    return n;
  }

  /** The in-flight state of one message for a group, if it is in flight. */
  inFlightAt(
    group: string,
    topic: string,
    queueId: number,
    offset: number,
  ): { attempt: number; invisibleUntil: number; firstDeliveredAt: number } | undefined {
    const e = this.queues.get(PopService.key(group, topic, queueId))?.inflight.get(offset);
    return e && { attempt: e.attempt, invisibleUntil: e.deadline, firstDeliveredAt: e.firstAt };
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.sweeper) clearInterval(this.sweeper);
    for (const topic of [...this.waiters.keys()]) this.arrived(topic);
    await Promise.allSettled([...this.moving]);
    await this.journal.close();
  }
}
