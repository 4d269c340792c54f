// Timed messages to any millisecond up to `maxDelayMs` ahead (RocketMQ 5's timer messages, plus Aliyun's
// __STARTDELIVERTIME). A message whose properties ask for a future delivery time is rewritten, as 4.x delay
// levels are (delay-service.ts), to the system topic rmq_sys_wheel_timer queue 0 with its real topic and queue
// in REAL_TOPIC / REAL_QID and its due time in TIMER_OUT_MS, and stored like any message: the send is
// acknowledged once it is in the commit log. Consumers cannot see it there.
//
// This service reads the timer topic's consume queue (so only durably stored messages become timers), places
// each in the on-disk timer (src/store/timer), and when one is due re-puts the stored message into its real
// topic and queue with everything it was sent with (body, id, keys, tags, properties, born time and host, flag,
// reconsume times) minus the routing bookkeeping (REAL_TOPIC, REAL_QID, TIMER_ROLL_TIMES); TIMER_OUT_MS stays,
// as in RocketMQ, so a delivered message re-sent with its properties is not timed again. Timers beyond the wheel's window are "rolled": the message is
// re-put to the timer topic (so its commit-log copy stays younger than retention) and placed again, nearer.
// After a crash a timer may fire twice, never zero times.
//
// Recall (RocketMQ 5.3's RecallMessage): a recall stores a marker on the timer topic, with the recalled message's
// unique id in TIMER_DEL_UNIQKEY and its due time in TIMER_OUT_MS, so the recall is durable once acknowledged.
// Enqueueing a marker records the id as recalled; a fired message whose id and due time were recalled is dropped
// instead of delivered. The marker also waits in the timer itself, one slot before the message's due time: after
// a restart the in-memory record is gone, and the marker firing first brings it back in time.
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { BrokerError } from "../common/errors.js";
import { readInt64BE } from "../common/int64.js";
import { MAGIC_V2, SysFlag, decodeRecord, readRecordProperties } from "../common/message-record.js";
import { Prop, decodeProperties, encodeProperties, getProperty } from "../common/properties.js";
import { SystemTopic } from "../common/topic.js";
import type { FileIO } from "../store/file-io.js";
import type { MessageStore, PutMessageInput } from "../store/message-store.js";
import { DAY_MS, TimerStore } from "../store/timer/timer-store.js";
import type { FiredTimer, TimerSink, TimerStoreConfig, TimerStoreStats } from "../store/timer/timer-store.js";

export const TIMER_TOPIC = SystemTopic.TIMER;

/** Properties the broker adds to a timed message (MessageConst.PROPERTY_TIMER_OUT_MS, _TIMER_ROLL_TIMES). */
export const TimerProp = {
  OUT_MS: "TIMER_OUT_MS",
  ROLL_TIMES: "TIMER_ROLL_TIMES",
  /** On a recall marker: the unique id of the message it recalls (MessageConst.PROPERTY_TIMER_DEL_UNIQKEY). */
  DEL_UNIQKEY: "TIMER_DEL_UNIQKEY",
} as const;

/** Aliyun's limit for timed messages: 40 days. */
export const DEFAULT_TIMER_MAX_DELAY_MS = 40 * DAY_MS;

export interface TimerServiceOptions {
  /** Wheel slot width; delivery is exact to the ms whatever it is. Default 1000. */
  precisionMs?: number;
  /** Latest delivery accepted, relative to now. Default 40 days. */
  maxDelayMs?: number;
  /** How often due timers are fired and new ones enqueued. Default 10 ms. */
  tickMs?: number;
  /** Span of the wheel before timers are rolled; must be below the commit log's retention. Default 2 days. */
  windowMs?: number;
  /** How often the timer checkpoint is written. Default 1000 ms. */
  flushIntervalMs?: number;
  /** Wait before retrying a re-put that failed. Default 200 ms. */
  retryDelayMs?: number;
  /** Recalls of messages due sooner than this are held in memory at once (see DEFAULT_RECALL_EARLY_MS). */
  recallEarlyMs?: number;
  /** Lower-level timer store settings (file sizes, caps); mostly for tests and benchmarks. */
  store?: Partial<Omit<TimerStoreConfig, "dir" | "checkpointPath" | "precisionMs" | "windowMs">>;
}

export interface TimerServiceStats extends TimerStoreStats {
  /** Next offset of the timer topic's consume queue to enqueue. */
  enqueueOffset: number;
  /** Timer messages stored but not yet enqueued. */
  enqueueLag: number;
  /** Re-puts in flight. */
  puts: number;
  delivered: number;
  rolled: number;
  /** Timers whose message could not be read back (deleted by retention) or was not a timer message. */
  lost: number;
  /** Timed messages dropped at their due time because they were recalled. */
  recalled: number;
  /** Recalls waiting for their message's due time. */
  recallsPending: number;
  retries: number;
  /** Ticks that failed on an I/O error of the timer files (retried at the next tick). */
  errors: number;
  lastError?: string;
}

const DIGITS = /^-?\d{1,16}$/;

function parseMs(name: string, v: string): number {
  const s = v.trim();
  if (!DIGITS.test(s))
    throw new BrokerError("BAD_REQUEST", `${name} must be an integer, got "${v.slice(0, 32)}"`);
  return Number(s);
}

/**
 * When a message asks to be delivered, from its properties, in RocketMQ's order (HookUtils.transformTimerMessage):
 * TIMER_DELAY_SEC or TIMER_DELAY_MS (relative to `now`), else TIMER_DELIVER_MS or Aliyun's __STARTDELIVERTIME
 * (absolute epoch ms). Undefined when it asks for nothing, for a time not after `now` (deliver at once), when it
 * has a positive DELAY level (delay levels win, as in HookUtils.checkIfTimerMessage), or when it carries
 * TIMER_OUT_MS (it was timed once already: a consumer re-sending a delivered message keeps its properties, and
 * its relative delay must not start again). Throws BAD_REQUEST for a malformed value or a time more than
 * `maxDelayMs` ahead.
 */
export function timerDeliverTime(
  props: string,
  now: number,
  maxDelayMs = DEFAULT_TIMER_MAX_DELAY_MS,
): number | undefined {
  if (props.indexOf("TIMER_") < 0 && props.indexOf(Prop.START_DELIVER_TIME) < 0) return undefined;
  if (getProperty(props, TimerProp.OUT_MS) !== undefined) return undefined;
  const level = getProperty(props, Prop.DELAY);
  if (level !== undefined && Number(level) > 0) return undefined;
  let at: number | undefined;
  let name: string = Prop.TIMER_DELAY_SEC;
  let v = getProperty(props, name);
  if (v !== undefined) at = now + parseMs(name, v) * 1000;
  else {
    name = Prop.TIMER_DELAY_MS;
    v = getProperty(props, name);
    if (v !== undefined) at = now + parseMs(name, v);
    else {
      name = Prop.TIMER_DELIVER_MS;
      v = getProperty(props, name);
      if (v === undefined) {
        name = Prop.START_DELIVER_TIME;
        v = getProperty(props, name);
      }
      if (v !== undefined) at = parseMs(name, v);
    }
  }
  if (at === undefined || at <= now) return undefined;
  if (at - now > maxDelayMs) {
    throw new BrokerError(
      "ILLEGAL_DELIVERY_TIME",
      `${name}=${v} asks for delivery ${Math.ceil((at - now) / 1000)} s from now; timed messages may be at most ` +
        `${maxDelayMs} ms (${+(maxDelayMs / DAY_MS).toFixed(3)} days) ahead`,
    );
  }
  return at;
}

/** Rewrites a message to wait in the timer topic until `deliverMs`. */
export function toTimerMessage(input: PutMessageInput, deliverMs: number): PutMessageInput {
  const props = decodeProperties(input.properties ?? "");
  props.delete(TimerProp.ROLL_TIMES);
  props.set(Prop.REAL_TOPIC, input.topic);
  props.set(Prop.REAL_QID, String(input.queueId));
  props.set(TimerProp.OUT_MS, String(Math.floor(deliverMs)));
  // Object.assign, not a spread: `properties` may be absent from `input` (see bodyResult in the store).
  return Object.assign({}, input, { topic: TIMER_TOPIC, queueId: 0, properties: encodeProperties(props) });
}

const OUT_NEEDLE = Buffer.from(`${TimerProp.OUT_MS}\u0001`);
const DEL_NEEDLE = Buffer.from(`${TimerProp.DEL_UNIQKEY}\u0001`);
/** A recall is forgotten this long after its message's due time (the message is dropped or was never there). */
const RECALL_KEEP_MS = 60_000;
/**
 * A recall is held in memory from the start only when its message is due this soon (it might fire before the
 * marker is read). Later ones are held from their marker's own turn, so a flood of recalls for far-off times
 * costs disk, as the timed messages themselves do, not memory.
 */
const DEFAULT_RECALL_EARLY_MS = 60_000;

/** TIMER_OUT_MS of a stored record, read in place (enqueue runs for every timed message). */
export function storedTimerOutMs(rec: Buffer): number | undefined {
  try {
    const sysFlag = rec.readInt32BE(36);
    let p =
      48 + (sysFlag & SysFlag.BORNHOST_V6 ? 20 : 8) + 8 + (sysFlag & SysFlag.STOREHOST_V6 ? 20 : 8) + 12;
    p += 4 + rec.readInt32BE(p);
    const v2 = rec.readInt32BE(4) === MAGIC_V2;
    p += v2 ? 2 + rec.readInt16BE(p) : 1 + rec.readUInt8(p);
    const start = p + 2;
    const end = start + rec.readInt16BE(p);
    if (end > rec.length) return undefined;
    let from = start;
    for (;;) {
      const i = rec.indexOf(OUT_NEEDLE, from);
      if (i < 0 || i + OUT_NEEDLE.length > end) return undefined;
      if (i === start || rec[i - 1] === 2) {
        let v = 0;
        let k = i + OUT_NEEDLE.length;
        if (k >= end || rec[k] === 2) return undefined;
        for (; k < end && rec[k] !== 2; k++) {
          const c = rec[k]! - 48;
          if (c < 0 || c > 9) return undefined;
          v = v * 10 + c;
        }
        return v;
      }
      from = i + 1;
    }
  } catch {
    return undefined;
  }
}

/** restore(): the fired timer is handled without a put (a recall marker, or a recalled message). */
const SKIP = Symbol("skip");

/** TIMER_DEL_UNIQKEY of a stored record, if it is a recall marker (checked for every timed message). */
function recallMarkerId(rec: Buffer): string | undefined {
  if (rec.indexOf(DEL_NEEDLE) < 0) return undefined;
  const props = readRecordProperties(rec);
  return props === undefined ? undefined : getProperty(props, TimerProp.DEL_UNIQKEY);
}

export class TimerService implements TimerSink {
  readonly timer: TimerStore;
  readonly maxDelayMs: number;
  private readonly tickMs: number;
  private readonly flushIntervalMs: number;
  private readonly retryDelayMs: number;
  private tickTimer: NodeJS.Timeout | undefined;
  private flushTimer: NodeJS.Timeout | undefined;
  private readonly retryTimers = new Set<NodeJS.Timeout>();
  private started = false;
  private stopped = false;
  private puts = 0;
  private idleWaiter: (() => void) | undefined;
  private nDelivered = 0;
  private nRolled = 0;
  private nLost = 0;
  private nRecalled = 0;
  /** Recalled unique id -> the due time it was recalled for. */
  private readonly recalls = new Map<string, number>();
  private lastPrune = 0;
  private readonly precisionMs: number;
  private readonly recallEarlyMs: number;
  private nRetries = 0;
  private nErrors = 0;
  private lastError: string | undefined;

  constructor(
    private readonly store: MessageStore,
    io: FileIO,
    configDir: string,
    options: TimerServiceOptions = {},
  ) {
    this.maxDelayMs = options.maxDelayMs ?? DEFAULT_TIMER_MAX_DELAY_MS;
    this.tickMs = options.tickMs ?? 10;
    this.flushIntervalMs = options.flushIntervalMs ?? 1000;
    this.retryDelayMs = options.retryDelayMs ?? 200;
    for (const [k, v] of Object.entries({
      maxDelayMs: this.maxDelayMs,
      tickMs: this.tickMs,
      flushIntervalMs: this.flushIntervalMs,
      retryDelayMs: this.retryDelayMs,
    })) {
      if (!Number.isFinite(v) || v <= 0)
        throw new Error(`timer config: ${k} must be a positive number, got ${v}`);
    }
    this.precisionMs = options.precisionMs ?? 1000;
    this.recallEarlyMs = options.recallEarlyMs ?? DEFAULT_RECALL_EARLY_MS;
    const windowMs = options.windowMs ?? 2 * DAY_MS;
    // A rolled timer's message is re-put once per window: the copy it waits on must outlive the window.
    if (windowMs >= store.config.fileReservedTimeMs) {
      throw new Error(
        `timer config: windowMs (${windowMs}) must be below the commit log's fileReservedTimeMs ` +
          `(${store.config.fileReservedTimeMs}), or a waiting message could be deleted before it is rolled`,
      );
    }
    io.mkdirp(configDir);
    this.timer = TimerStore.open(
      {
        ...options.store,
        dir: join(store.config.dir, "timer"),
        checkpointPath: join(configDir, "timercheck"),
        precisionMs: this.precisionMs,
        windowMs,
      },
      io,
      this,
    );
  }

  /** The delivery time a message's properties ask for, or undefined (see timerDeliverTime). */
  deliverTime(props: string, now = Date.now()): number | undefined {
    return timerDeliverTime(props, now, this.maxDelayMs);
  }

  toTimerMessage(input: PutMessageInput, deliverMs: number): PutMessageInput {
    return toTimerMessage(input, deliverMs);
  }

  /**
   * The marker that recalls the timed message with unique id `messageId` due at `deliverMs` (see the top of this
   * file). Store it with putMessage, then call recalled() with the same values.
   */
  recallMarker(messageId: string, deliverMs: number, bornHost: PutMessageInput["bornHost"]): PutMessageInput {
    const props = new Map<string, string>([
      [TimerProp.DEL_UNIQKEY, messageId],
      [Prop.UNIQ_KEY, messageId],
      [TimerProp.OUT_MS, String(Math.floor(deliverMs))],
    ]);
    const input: PutMessageInput = {
      topic: TIMER_TOPIC,
      queueId: 0,
      body: Buffer.from("0"),
      properties: encodeProperties(props),
      bornTimestamp: Date.now(),
    };
    if (bornHost) input.bornHost = bornHost;
    return input;
  }

  /** Records a stored recall at once, so the message is dropped even if it fires before the marker is read. */
  recalled(messageId: string, deliverMs: number): void {
    if (deliverMs - Date.now() < this.recallEarlyMs) this.recalls.set(messageId, Math.floor(deliverMs));
  }

  start(): void {
    if (this.started || this.stopped) return;
    this.started = true;
    this.tickTimer = setInterval(() => this.tick(), this.tickMs);
    this.tickTimer.unref();
    this.flushTimer = setInterval(
      () =>
        void this.timer.flush().catch((e: Error) => {
          this.nErrors++;
          this.lastError = e.message;
        }),
      this.flushIntervalMs,
    );
    this.flushTimer.unref();
  }

  /** One round: enqueue newly stored timer messages, then fire what is due. */
  tick(now = Date.now()): void {
    if (this.stopped) return;
    try {
      this.enqueue();
      this.timer.tick(now);
      if (now - this.lastPrune >= 1000) this.pruneRecalls(now);
    } catch (e) {
      // An I/O error on the timer files: nothing was linked half-way; the next tick tries again.
      this.nErrors++;
      this.lastError = (e as Error).message;
    }
  }

  /** Reads the timer topic's consume queue from the checkpointed offset into the timer store. */
  private enqueue(): void {
    const t = this.timer;
    const deadline = performance.now() + 4;
    for (;;) {
      const min = this.store.getMinOffset(TIMER_TOPIC, 0);
      const max = this.store.getMaxOffset(TIMER_TOPIC, 0);
      let off = t.enqueueOffset;
      // Below the minimum the messages are gone (retention); above the maximum the store lost its tail.
      if (off < min) off = min;
      if (off > max) off = max;
      t.enqueueOffset = off;
      if (off >= max) return;
      const r = this.store.getMessages(TIMER_TOPIC, 0, off, 256);
      if (r.status !== "FOUND") {
        if (r.nextBeginOffset > off && r.status === "NO_MATCHED_MESSAGE") t.enqueueOffset = r.nextBeginOffset;
        return;
      }
      for (let i = 0; i < r.messages.length; i++) {
        const rec = r.messages[i]!;
        const due = storedTimerOutMs(rec);
        if (due === undefined) this.nLost++;
        else {
          const recalledId = recallMarkerId(rec);
          if (recalledId !== undefined && due - Date.now() < this.recallEarlyMs)
            this.recalls.set(recalledId, due);
          const at = recalledId !== undefined ? due - this.precisionMs : due;
          if (!t.add(at, readInt64BE(rec, 28), rec.length)) return;
        }
        t.enqueueOffset = r.offsets[i]! + 1;
      }
      t.enqueueOffset = r.nextBeginOffset;
      if (performance.now() > deadline) return;
    }
  }

  private pruneRecalls(now: number): void {
    this.lastPrune = now;
    for (const [id, due] of this.recalls) if (due + RECALL_KEEP_MS < now) this.recalls.delete(id);
  }

  // ---- TimerSink ------------------------------------------------------------------------------------------

  fetch(phy: number, size: number, dst: Buffer, pos: number): number {
    const raw = this.store.readAt(phy);
    if (!raw || raw.length !== size) return 0;
    raw.copy(dst, pos);
    return size;
  }

  fire(t: FiredTimer): void {
    this.deliver(t.phy, t.size, t.roll, t.token, t.payload);
  }

  private deliver(
    phy: number,
    size: number,
    roll: boolean,
    token: number,
    payload: Buffer | undefined,
  ): void {
    let input: PutMessageInput | typeof SKIP | undefined;
    try {
      const raw = payload ?? this.store.readAt(phy);
      input = raw && raw.length === size ? this.restore(raw, roll) : undefined;
    } catch {
      input = undefined;
    }
    if (!input) {
      this.nLost++;
      this.timer.done(token);
      return;
    }
    if (input === SKIP) {
      this.timer.done(token);
      return;
    }
    this.puts++;
    // putMessage encodes the record before it returns, so `input` may view the read-ahead buffer.
    this.store.putMessage(input).then(
      () => {
        if (roll) this.nRolled++;
        else this.nDelivered++;
        this.timer.done(token);
        this.putDone();
      },
      () => {
        this.nRetries++;
        if (!this.stopped) {
          // Retried until it succeeds; the slot is not delivered (checkpointed) before then.
          const rt = setTimeout(() => {
            this.retryTimers.delete(rt);
            if (!this.stopped) this.deliver(phy, size, roll, token, undefined);
          }, this.retryDelayMs);
          this.retryTimers.add(rt);
        }
        this.putDone();
      },
    );
  }

  private putDone(): void {
    this.puts--;
    if (this.puts === 0 && this.idleWaiter) this.idleWaiter();
  }

  /** The message to put for a fired timer: itself on its real topic, or (rolled) again on the timer topic. */
  private restore(raw: Buffer, roll: boolean): PutMessageInput | typeof SKIP | undefined {
    const rec = decodeRecord(raw);
    if (rec.topic !== TIMER_TOPIC) return undefined;
    const props = decodeProperties(rec.properties);
    const due = Number(props.get(TimerProp.OUT_MS));
    const markerFor = props.get(TimerProp.DEL_UNIQKEY);
    if (markerFor !== undefined && !roll) {
      // The marker's own turn, one slot before its message: (re)establish the recall, deliver nothing.
      this.recalls.set(markerFor, due);
      return SKIP;
    }
    const uniq = props.get(Prop.UNIQ_KEY);
    if (markerFor === undefined && uniq !== undefined && this.recalls.get(uniq) === due) {
      // Kept until pruned: a producer's retry may have stored the same message twice.
      this.nRecalled++;
      return SKIP;
    }
    const base = {
      body: rec.body,
      flag: rec.flag,
      bornTimestamp: rec.bornTimestamp,
      bornHost: rec.bornHost,
      reconsumeTimes: rec.reconsumeTimes,
    };
    if (roll) {
      props.set(TimerProp.ROLL_TIMES, String((Number(props.get(TimerProp.ROLL_TIMES)) || 0) + 1));
      return {
        ...base,
        topic: TIMER_TOPIC,
        queueId: 0,
        sysFlag: rec.sysFlag,
        properties: encodeProperties(props),
      };
    }
    const topic = props.get(Prop.REAL_TOPIC);
    const queueId = Number(props.get(Prop.REAL_QID));
    if (!topic || !Number.isInteger(queueId) || queueId < 0) return undefined;
    // TIMER_OUT_MS stays, as in RocketMQ: it tells the consumer when the message was due, and marks it as timed
    // already so that re-sending it with its properties does not delay it again (see timerDeliverTime).
    props.delete(Prop.REAL_TOPIC);
    props.delete(Prop.REAL_QID);
    props.delete(TimerProp.ROLL_TIMES);
    return {
      ...base,
      topic,
      queueId,
      sysFlag: rec.sysFlag & ~SysFlag.TRANSACTION_MASK,
      properties: encodeProperties(props),
    };
  }

  // ---- lifecycle and stats --------------------------------------------------------------------------------

  /** Writes the timer checkpoint now. */
  flush(): Promise<void> {
    return this.timer.flush();
  }

  /**
   * Stops firing, waits for the re-puts in flight, and writes the checkpoint. Call before closing the store.
   * Timers whose re-put had failed and was waiting for a retry fire again after the next start.
   */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.tickTimer);
    clearInterval(this.flushTimer);
    for (const t of this.retryTimers) clearTimeout(t);
    this.retryTimers.clear();
    if (this.puts > 0) {
      await new Promise<void>((resolve) => {
        this.idleWaiter = resolve;
      });
    }
    await this.timer.close();
  }

  pending(): TimerServiceStats {
    const enqueueOffset = this.timer.enqueueOffset;
    return {
      ...this.timer.stats(),
      enqueueOffset,
      enqueueLag: Math.max(0, this.store.getMaxOffset(TIMER_TOPIC, 0) - enqueueOffset),
      puts: this.puts,
      delivered: this.nDelivered,
      rolled: this.nRolled,
      lost: this.nLost,
      recalled: this.nRecalled,
      recallsPending: this.recalls.size,
      retries: this.nRetries,
      errors: this.nErrors,
      ...(this.lastError !== undefined ? { lastError: this.lastError } : {}),
    };
  }
}
