// A durable timer for millions of pending timers (RocketMQ 5's TimerMessageStore, rebuilt): which commit-log
// records are due when. It knows nothing of messages; a sink reads and re-puts them.
//
// On disk (see timer-log.ts, timer-wheel.ts, timer-checkpoint.ts):
//   timerlog/   append-only 40-byte entries (due, commit-log offset, size, prev pointer, slot tick, flags)
//   timerwheel  one slot per `precisionMs` over `windowMs`: the slot's newest entry; entries chain backwards
//   checkpoint  timer log position and wheel covered, delivered tick, the caller's enqueue offset
// No JS object exists per pending timer: they live in the timer log (disk) and the wheel (one Buffer sized by
// the window). Only the next slot or two are loaded, into typed arrays sorted by due time.
//
// Ticks. tick(t) = floor(t / precisionMs). `delivered` (D) is the oldest slot not yet fully delivered;
// `loadTick` the next slot to load (slots are loaded one slot ahead of time); `persistedD` is D as of the last
// checkpoint written. The window edge ("horizon") is persistedD + slots - 1.
//
// Placement of a timer due at tick t:
//   t >= loadTick, t <= horizon  linked into slot t;
//   t > horizon                  linked into the horizon slot with ROLL: when that slot is reached, the sink
//                                re-enqueues it (RocketMQ re-puts rolled messages so the commit-log copy stays
//                                younger than retention) and it is placed again, nearer;
//   t < loadTick (slot loaded)   linked into slot max(t, D) with LATE and kept in a small in-memory heap.
// Because a slot is only linked for ticks <= persistedD + slots - 1, the lap a slot is reused for is always
// one whose previous lap was delivered by a checkpoint already on disk: a crash never loses a live chain.
//
// Delivery. A loaded slot's entries are sorted by due time; each tick fires every entry that is due, never
// earlier. The sink calls done(token) once its re-put is acknowledged; D moves past a slot only when its time
// is over and every entry of it is acknowledged. Recovery restarts from the checkpoint's D and re-reads the
// caller's queue from its enqueue offset, so a timer may fire twice after a crash, never zero times. A
// "fired mark" (every entry due by T of the fully loaded slots was acknowledged) lets a restart skip what was
// already delivered, so a clean stop and start delivers nothing twice.
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import type { FileIO } from "../file-io.js";
import { LateHeap } from "./late-heap.js";
import { TimerFlag, TimerLog, newEntry } from "./timer-log.js";
import type { TimerEntry } from "./timer-log.js";
import { readTimerCheckpoint, writeTimerCheckpoint, writeTimerCheckpointAsync } from "./timer-checkpoint.js";
import type { FiredMark, TimerCheckpoint } from "./timer-checkpoint.js";
import { TimerWheel } from "./timer-wheel.js";

export interface TimerStoreConfig {
  /** Folder for timerlog/ and timerwheel. */
  dir: string;
  /** The checkpoint file (RocketMQ: config/timercheck). */
  checkpointPath: string;
  /** Width of a wheel slot. Delivery is exact to the millisecond whatever the width. Default 1000. */
  precisionMs: number;
  /** Span of the wheel; later timers are rolled. Must stay below commit-log retention. Default 2 days. */
  windowMs: number;
  /** Timer log entries per file (40 bytes each). Default 1 Mi (40 MiB files). */
  entriesPerFile: number;
  /** At most this many entries of one slot are loaded at once (a larger slot is loaded in parts). */
  maxLoadedPerSlot: number;
  /** Capacity of the in-memory heap of late timers; add() refuses a late timer while it is full. */
  lateCapacity: number;
  /** Fired timers not yet acknowledged, at most. */
  maxInflight: number;
  /** A slot is loaded (sorted, its records read ahead) once its start is this close. Default 2000. */
  loadAheadMs: number;
  /** Slots loaded or being delivered at once, at most. Default: enough for loadAheadMs, plus 3. */
  maxAheadSlots: number;
  /** Bytes of commit-log records read ahead, over all loaded slots (read in commit-log order). Default 64 MiB. */
  prefetchBytes: number;
  /** Work (loading, reading ahead) one tick may do before yielding, in ms. */
  tickBudgetMs: number;
}

export const DAY_MS = 24 * 3600 * 1000;

export function defaultTimerStoreConfig(dir: string, checkpointPath: string): TimerStoreConfig {
  return {
    dir,
    checkpointPath,
    precisionMs: 1000,
    windowMs: 2 * DAY_MS,
    entriesPerFile: 1 << 20,
    maxLoadedPerSlot: 1 << 17,
    lateCapacity: 1 << 18,
    maxInflight: 4096,
    loadAheadMs: 2000,
    maxAheadSlots: 5,
    prefetchBytes: 64 * 1024 * 1024,
    tickBudgetMs: 4,
  };
}

/** A timer handed to the sink. The object is reused: read it during the call only. */
export interface FiredTimer {
  dueMs: number;
  phy: number;
  size: number;
  /** Parked at the window's edge: re-enqueue it rather than deliver it. */
  roll: boolean;
  /** Pass to done() once the timer is handled durably. */
  token: number;
  /** The record read ahead (valid during the call only), or undefined: read it yourself. */
  payload: Buffer | undefined;
}

export interface TimerSink {
  /** Copies the record at `phy` (`size` bytes) into `dst` at `pos`; returns the bytes copied, 0 if unavailable. */
  fetch(phy: number, size: number, dst: Buffer, pos: number): number;
  /** A timer is due. Call TimerStore.done(token) once it is re-put (retry until then). */
  fire(t: FiredTimer): void;
}

export interface TimerRecovery {
  fresh: boolean;
  /** Timer log entries past the checkpoint that were dropped (they are re-enqueued from the caller's queue). */
  truncatedEntries: number;
  repairedSlots: number;
  rebuiltWheel: boolean;
  warnings: string[];
}

export interface TimerStoreStats {
  /** Timers in the wheel or the late heap, not yet fired. */
  pending: number;
  late: number;
  inflight: number;
  loadedSlots: number;
  deliveredMs: number;
  horizonMs: number;
  logFiles: number;
  fired: number;
  rolled: number;
  /** Entries skipped on reload because the fired mark shows them delivered. */
  skipped: number;
}

/** Sort keys pack a value and an entry index: value * IDX + index (index < 2^20). */
const IDX = 1 << 20;
const GRANULE = 4096;

class SlotState {
  tick = 0;
  start = 0;
  n = 0;
  due = new Float64Array(0);
  phy = new Float64Array(0);
  size = new Int32Array(0);
  flags = new Uint8Array(0);
  fireKeys = new Float64Array(0);
  pfKeys = new Float64Array(0);
  /** Offset of the entry's record in `arena`; -1 not read ahead, -2 fired. */
  payOff = new Int32Array(0);
  payLen = new Int32Array(0);
  arena: Buffer | undefined;
  arenaUsed = 0;
  fireIdx = 0;
  pfIdx = 0;
  /** Next chain position to read; -1 once the chain is done. */
  walkPos = -1;
  walking = false;
  ready = false;
  /** Fired and not acknowledged, plus late timers linked here and not yet acknowledged. */
  open = 0;

  reset(tick: number, start: number): void {
    this.tick = tick;
    this.start = start;
    this.n = 0;
    this.arenaUsed = 0;
    this.fireIdx = 0;
    this.pfIdx = 0;
    this.walkPos = -1;
    this.walking = false;
    this.ready = false;
    this.open = 0;
  }

  push(due: number, phy: number, size: number, flags: number): void {
    if (this.n >= this.due.length) this.grow(Math.max(1024, this.due.length * 2));
    const i = this.n++;
    this.due[i] = due;
    this.phy[i] = phy;
    this.size[i] = size;
    this.flags[i] = flags;
  }

  private grow(cap: number): void {
    const f64 = (a: Float64Array) => {
      const b = new Float64Array(cap);
      b.set(a.subarray(0, this.n));
      return b;
    };
    this.due = f64(this.due);
    this.phy = f64(this.phy);
    const s = new Int32Array(cap);
    s.set(this.size.subarray(0, this.n));
    this.size = s;
    const fl = new Uint8Array(cap);
    fl.set(this.flags.subarray(0, this.n));
    this.flags = fl;
    this.fireKeys = new Float64Array(cap);
    this.pfKeys = new Float64Array(cap);
    this.payOff = new Int32Array(cap);
    this.payLen = new Int32Array(cap);
  }

  /** Gives back large arrays when the state is recycled, so a burst does not pin memory. */
  shrink(): void {
    if (this.due.length > 1 << 16) {
      this.n = 0;
      this.due = new Float64Array(0);
      this.phy = new Float64Array(0);
      this.size = new Int32Array(0);
      this.flags = new Uint8Array(0);
      this.fireKeys = new Float64Array(0);
      this.pfKeys = new Float64Array(0);
      this.payOff = new Int32Array(0);
      this.payLen = new Int32Array(0);
    }
    if (this.arena && this.arena.length > 1 << 20) this.arena = undefined;
  }
}

export class TimerStore {
  readonly config: TimerStoreConfig;
  readonly recovery: TimerRecovery;
  /** The caller's enqueue progress, saved in the checkpoint with the timers it covers. */
  enqueueOffset = 0;
  private readonly io: FileIO;
  private readonly sink: TimerSink;
  private readonly log: TimerLog;
  private readonly wheel: TimerWheel;
  private readonly late: LateHeap;
  private readonly P: number;
  private readonly R: number;
  private loadTick = 0;
  private persistedD = 0;
  private states: SlotState[] = [];
  private readonly pool: SlotState[] = [];
  private inflight = 0;
  private pendingCount = 0;
  private skipMark: FiredMark | undefined;
  private lastCompletePass: FiredMark | undefined;
  private safeMark: FiredMark | undefined;
  private flushing: Promise<void> | undefined;
  private wantFlush = false;
  private lastFlushAt = 0;
  private closed = false;
  private filesClosed = false;
  private readonly e: TimerEntry = newEntry();
  private readonly popped = { due: 0, phy: 0, size: 0, tick: 0 };
  private readonly firedObj: FiredTimer = {
    dueMs: 0,
    phy: 0,
    size: 0,
    roll: false,
    token: 0,
    payload: undefined,
  };
  private nFired = 0;
  private nRolled = 0;
  private nSkipped = 0;

  private constructor(config: TimerStoreConfig, io: FileIO, sink: TimerSink, now: number) {
    validate(config);
    this.config = config;
    this.io = io;
    this.sink = sink;
    this.P = config.precisionMs;
    this.R = Math.round(config.windowMs / config.precisionMs);
    io.mkdirp(config.dir);
    this.log = new TimerLog(join(config.dir, "timerlog"), io, config.entriesPerFile);
    this.wheel = new TimerWheel(join(config.dir, "timerwheel"), io, this.R);
    this.late = new LateHeap(config.lateCapacity);
    this.recovery = this.recover(now);
  }

  /** Opens (and recovers) the timer store. `now` is the clock used for a fresh store's first slot. */
  static open(
    config: Partial<TimerStoreConfig> & { dir: string; checkpointPath: string },
    io: FileIO,
    sink: TimerSink,
    now = Date.now(),
  ): TimerStore {
    const c = { ...defaultTimerStoreConfig(config.dir, config.checkpointPath), ...config };
    if (config.maxAheadSlots === undefined) c.maxAheadSlots = Math.ceil(c.loadAheadMs / c.precisionMs) + 3;
    return new TimerStore(c, io, sink, now);
  }

  private tickOf(ms: number): number {
    return Math.floor(ms / this.P);
  }

  /** The oldest slot not yet fully delivered. */
  private get delivered(): number {
    return this.states[0]?.tick ?? this.loadTick;
  }

  private horizon(): number {
    return this.persistedD + this.R - 1;
  }

  // ---- recovery -------------------------------------------------------------------------------------------

  private recover(now: number): TimerRecovery {
    const c = this.config;
    const warnings: string[] = [];
    const cp = readTimerCheckpoint(this.io, c.checkpointPath);
    if (cp && (cp.precisionMs !== this.P || cp.slots !== this.R)) {
      throw new Error(
        `timer config: precisionMs ${this.P} and windowMs ${c.windowMs} (${this.R} slots) differ from the ` +
          `${cp.precisionMs} ms × ${cp.slots} slots the timer store in ${c.dir} was written with`,
      );
    }
    const problems = this.log.load();
    warnings.push(...problems);
    const wheelOk = this.wheel.load();
    let truncated = 0;
    let repaired = 0;
    let rebuilt = false;
    let d: number;
    if (!cp) {
      if (this.log.appendPos > 0) warnings.push("timer log found without a checkpoint: discarded");
      this.log.reset(0);
      this.wheel.clear();
      d = this.tickOf(now);
      this.enqueueOffset = 0;
    } else {
      d = cp.deliveredTick;
      this.enqueueOffset = cp.enqueueOffset;
      this.skipMark = cp.fired;
      if (this.log.appendPos < cp.logPos || problems.length > 0) {
        // Entries the checkpoint vouches for are gone: start the wheel again and have the caller re-read its
        // whole queue (timers due already fire at once; at-least-once rather than lost).
        warnings.push(
          `timer log ends at ${this.log.appendPos}, before its checkpoint (${cp.logPos}): ` +
            "rebuilding from the timer topic",
        );
        this.log.reset(0);
        this.wheel.clear();
        this.enqueueOffset = 0;
        this.skipMark = undefined;
        rebuilt = true;
      } else {
        let rebuild = !wheelOk;
        if (wheelOk) {
          repaired = this.repairWheel(cp.logPos);
          if (repaired < 0) rebuild = true;
        }
        truncated = this.log.appendPos - cp.logPos;
        this.log.truncate(cp.logPos);
        this.log.restoreFileTicks(cp.files);
        if (rebuild) {
          warnings.push("timer wheel missing or damaged: rebuilt from the timer log");
          this.rebuildWheel(d);
          rebuilt = true;
          repaired = 0;
        }
      }
    }
    this.loadTick = d;
    this.persistedD = d;
    let pending = 0;
    for (let t = d; t < d + this.R; t++) pending += this.wheel.countFor(t);
    this.pendingCount = pending;
    this.flushNow();
    return {
      fresh: !cp,
      truncatedEntries: truncated,
      repairedSlots: repaired,
      rebuiltWheel: rebuilt,
      warnings,
    };
  }

  /**
   * Slots written after the checkpoint may point at entries past it: walk each back to its newest entry below
   * `logPos` (reading the dropped entries before they are truncated). Returns the slots fixed, -1 when a chain
   * cannot be followed (then the wheel is rebuilt from the log).
   */
  private repairWheel(logPos: number): number {
    const e = this.e;
    let fixed = 0;
    for (let i = 0; i < this.R; i++) {
      const s = this.wheel.slotAt(i);
      if (s.last < logPos) continue;
      let pos = s.last;
      let dropped = 0;
      while (pos >= logPos) {
        if (!this.log.read(pos, e)) return -1;
        pos = e.prev;
        dropped++;
      }
      if (pos < 0 || pos < this.log.minPos) {
        this.wheel.set(i, -1, 0, 0);
      } else {
        if (!this.log.read(pos, e)) return -1;
        const tick = e.tick;
        let count = 0;
        if (tick === s.tick) count = Math.max(0, s.count - dropped);
        else for (let p = pos; p >= 0 && this.log.read(p, e) && e.tick === tick; p = e.prev) count++;
        this.wheel.set(i, pos, tick, count);
      }
      fixed++;
    }
    return fixed;
  }

  /** Relinks every live entry (slot >= delivered tick): the newest entry of each slot heads its chain. */
  private rebuildWheel(delivered: number): void {
    this.wheel.clear();
    const counts = new Map<number, number>();
    this.log.scan(this.log.minPos, this.log.appendPos, (pos, e) => {
      if (e.tick < delivered || e.tick >= delivered + this.R) return;
      const n = (counts.get(e.tick) ?? 0) + 1;
      counts.set(e.tick, n);
      this.wheel.set(this.wheel.index(e.tick), pos, e.tick, n);
    });
  }

  // ---- enqueue --------------------------------------------------------------------------------------------

  /**
   * Adds a timer for the record at `phy` (`size` bytes) due at `dueMs`. Returns false (nothing added) only when
   * the timer is late and the late heap is full: call again after a tick.
   */
  add(dueMs: number, phy: number, size: number): boolean {
    if (this.closed) return false;
    // May write the log's tail (and throw on an I/O error) before anything is linked.
    this.log.ensureRoom();
    const due = Math.floor(dueMs);
    let t = this.tickOf(due);
    if (t < this.loadTick) {
      const first = this.states[0];
      if (first) {
        if (this.late.full) return false;
        const s = Math.max(t, first.tick);
        const pos = this.log.appendPos;
        this.log.append(due, phy, size, this.wheel.link(s, pos), s, TimerFlag.LATE);
        this.late.push(due, phy, size, s);
        this.stateFor(s)!.open++;
        this.pendingCount++;
        return true;
      }
      // Nothing is loaded (every earlier slot is delivered): the next slot to load takes it.
      t = this.loadTick;
    }
    let flags = 0;
    const h = this.horizon();
    if (t > h) {
      t = h;
      flags = TimerFlag.ROLL;
    }
    const pos = this.log.appendPos;
    this.log.append(due, phy, size, this.wheel.link(t, pos), t, flags);
    this.pendingCount++;
    return true;
  }

  /** True when a late timer would be refused now. */
  get lateFull(): boolean {
    return this.late.full;
  }

  private stateFor(tick: number): SlotState | undefined {
    const first = this.states[0];
    if (!first) return undefined;
    const st = this.states[tick - first.tick];
    return st && st.tick === tick ? st : undefined;
  }

  // ---- delivery -------------------------------------------------------------------------------------------

  /** Loads slots that are about to be due, fires what is due at `now`, and reads records ahead. */
  tick(now = Date.now()): void {
    if (this.closed) return;
    const deadline = performance.now() + this.config.tickBudgetMs;
    const loadUpTo = this.tickOf(now + this.config.loadAheadMs);
    let guard = 0;
    // Load slots ahead of time, so their timers are sorted and their records read before they are due.
    while (this.loadTick <= loadUpTo) {
      if (this.loadTick - this.delivered >= this.config.maxAheadSlots) break;
      if (this.loadTick >= this.horizon()) {
        // Rolls from the slot about to load need room past it: wait for a checkpoint to move the horizon.
        this.wantFlush = true;
        break;
      }
      this.startLoad(this.loadTick++);
      this.advance(now);
      if ((++guard & 255) === 0 && performance.now() > deadline) break;
    }
    for (const st of this.states) {
      if (!st.walking) continue;
      this.walk(st, deadline);
      if (st.walking) break;
    }
    this.fire(now, deadline);
    this.prefetch(deadline);
    this.advance(now);
    if (this.wantFlush && !this.flushing && Date.now() - this.lastFlushAt >= 20) {
      this.wantFlush = false;
      void this.flush().catch(() => undefined);
    }
  }

  private startLoad(tick: number): void {
    const st = this.pool.pop() ?? new SlotState();
    st.reset(tick, tick * this.P);
    st.walkPos = this.wheel.lastFor(tick);
    st.walking = true;
    this.states.push(st);
    if (st.walkPos < 0) this.finishChunk(st);
  }

  /** Reads a slot's chain into its arrays, up to the per-slot cap or the deadline. */
  private walk(st: SlotState, deadline: number): void {
    const e = this.e;
    const cap = this.config.maxLoadedPerSlot;
    const skip = this.skipMark && st.tick < this.skipMark.loadedBelow ? this.skipMark : undefined;
    let k = 0;
    while (st.walkPos >= 0 && st.n < cap) {
      if ((++k & 255) === 0 && performance.now() > deadline) return;
      const pos = st.walkPos;
      if (!this.log.read(pos, e) || e.tick !== st.tick) {
        st.walkPos = -1;
        break;
      }
      st.walkPos = e.prev;
      const at = e.flags & TimerFlag.ROLL ? st.start : e.due;
      if (skip && pos < skip.logPos && at <= skip.throughMs) {
        this.pendingCount--;
        this.nSkipped++;
        continue;
      }
      st.push(e.due, e.phy, e.size, e.flags);
    }
    this.finishChunk(st);
  }

  /** Sorts the loaded chunk by firing time (and a second order by commit-log position for reading ahead). */
  private finishChunk(st: SlotState): void {
    const n = st.n;
    let bytes = 0;
    for (let i = 0; i < n; i++) {
      const off =
        st.flags[i]! & TimerFlag.ROLL ? 0 : Math.min(this.P - 1, Math.max(0, st.due[i]! - st.start));
      // Walk order is newest first; (n - 1 - i) puts older entries first among equal due times.
      st.fireKeys[i] = off * IDX + (n - 1 - i);
      st.pfKeys[i] = Math.floor(st.phy[i]! / GRANULE) * IDX + i;
      st.payOff[i] = -1;
      bytes += st.size[i]!;
    }
    if (n > 0) {
      st.fireKeys.subarray(0, n).sort();
      st.pfKeys.subarray(0, n).sort();
      let others = 0;
      for (const o of this.states) if (o !== st && o.arena) others += o.arena.length;
      const want = Math.min(bytes, this.config.prefetchBytes - others);
      if (want <= 0) st.arena = undefined;
      else if (!st.arena || st.arena.length < want || st.arena.length > 2 * want + (1 << 16)) {
        st.arena = Buffer.allocUnsafe(want);
      }
    }
    st.fireIdx = 0;
    st.pfIdx = 0;
    st.arenaUsed = 0;
    st.walking = false;
    st.ready = true;
  }

  private fire(now: number, deadline: number): void {
    const max = this.config.maxInflight;
    let complete = true;
    let loadedBelow = this.loadTick;
    const late = this.late;
    while (late.length > 0 && late.peekDue() <= now) {
      if (this.inflight >= max) {
        complete = false;
        break;
      }
      late.pop(this.popped);
      const p = this.popped;
      this.emit(p.due, p.phy, p.size, false, p.tick, undefined);
    }
    outer: for (const st of this.states) {
      if (loadedBelow === this.loadTick && (st.walking || st.walkPos >= 0)) loadedBelow = st.tick;
      while (st.ready) {
        // Finish reading ahead before firing: one pass in log order costs far less than a seek per timer.
        if (st.pfIdx < st.n && st.fireIdx < st.n && this.nextFireAt(st) <= now)
          this.prefetchSlot(st, Infinity);
        while (st.fireIdx < st.n) {
          const i = st.n - 1 - (st.fireKeys[st.fireIdx]! % IDX);
          const roll = (st.flags[i]! & TimerFlag.ROLL) !== 0;
          if ((roll ? st.start : st.due[i]!) > now) break;
          if (this.inflight >= max) {
            complete = false;
            break outer;
          }
          st.fireIdx++;
          st.open++;
          const off = st.payOff[i]!;
          st.payOff[i] = -2;
          const payload = off >= 0 ? st.arena!.subarray(off, off + st.payLen[i]!) : undefined;
          this.emit(st.due[i]!, st.phy[i]!, st.size[i]!, roll, st.tick, payload);
        }
        if (st.fireIdx < st.n || st.walkPos < 0) break;
        // A slot larger than the cap: load its next part now (its timers fire late, never early).
        st.n = 0;
        st.ready = false;
        st.walking = true;
        this.walk(st, deadline);
      }
    }
    if (complete) {
      this.lastCompletePass = { throughMs: now, logPos: this.log.appendPos, loadedBelow };
      if (this.inflight === 0) this.safeMark = this.lastCompletePass;
    }
  }

  private nextFireAt(st: SlotState): number {
    const i = st.n - 1 - (st.fireKeys[st.fireIdx]! % IDX);
    return st.flags[i]! & TimerFlag.ROLL ? st.start : st.due[i]!;
  }

  private emit(due: number, phy: number, size: number, roll: boolean, token: number, payload?: Buffer): void {
    this.inflight++;
    this.pendingCount--;
    this.nFired++;
    if (roll) this.nRolled++;
    const f = this.firedObj;
    f.dueMs = due;
    f.phy = phy;
    f.size = size;
    f.roll = roll;
    f.token = token;
    f.payload = payload;
    this.sink.fire(f);
  }

  /** A fired timer (by its token) has been handled durably. */
  done(token: number): void {
    const st = this.stateFor(token);
    // Unknown only after close (nothing is retired while it has open timers).
    if (!st) return;
    st.open--;
    this.inflight--;
    if (this.inflight === 0 && this.lastCompletePass) this.safeMark = this.lastCompletePass;
  }

  /**
   * Reads the records of loaded slots in commit-log order (soonest slot first), so firing does not seek the log
   * at random: one pass over the log serves a whole slot.
   */
  private prefetch(deadline: number): void {
    for (const st of this.states) {
      if (st.ready && !this.prefetchSlot(st, deadline)) return;
    }
  }

  /** Returns false when the deadline cut it short. */
  private prefetchSlot(st: SlotState, deadline: number): boolean {
    const arena = st.arena;
    if (!arena) return true;
    while (st.pfIdx < st.n) {
      if ((st.pfIdx & 63) === 0 && performance.now() > deadline) return false;
      const i = st.pfKeys[st.pfIdx++]! % IDX;
      if (st.payOff[i] !== -1) continue;
      const size = st.size[i]!;
      if (st.arenaUsed + size > arena.length) continue;
      const got = this.sink.fetch(st.phy[i]!, size, arena, st.arenaUsed);
      if (got > 0) {
        st.payOff[i] = st.arenaUsed;
        st.payLen[i] = got;
        st.arenaUsed += got;
      }
    }
    return true;
  }

  /** Retires delivered slots: loaded whole, all fired and acknowledged, and their time is over. */
  private advance(now: number): void {
    while (this.states.length > 0) {
      const st = this.states[0]!;
      if (!st.ready || st.walkPos >= 0 || st.fireIdx < st.n || st.open > 0 || now < st.start + this.P) break;
      this.states.shift();
      st.shrink();
      if (this.pool.length < this.config.maxAheadSlots + 2) this.pool.push(st);
    }
  }

  // ---- flush, close, stats --------------------------------------------------------------------------------

  private snapshot(): TimerCheckpoint {
    return {
      version: 1,
      precisionMs: this.P,
      slots: this.R,
      logPos: this.log.appendPos,
      deliveredTick: this.delivered,
      enqueueOffset: this.enqueueOffset,
      fired: this.safeMark ?? this.skipMark,
      files: this.log.fileTicks(),
      writtenAt: Date.now(),
    };
  }

  /**
   * Writes the timer log and wheel, syncs them, then writes the checkpoint (which then vouches for both), and
   * deletes timer log files that only delivered slots refer to.
   */
  flush(): Promise<void> {
    this.flushing ??= this.doFlush().finally(() => {
      this.flushing = undefined;
    });
    return this.flushing;
  }

  private async doFlush(): Promise<void> {
    if (this.filesClosed) return;
    const cp = this.snapshot();
    const fds = new Set<number>();
    this.log.writeTail(fds);
    const wfd = this.wheel.writeDirty();
    if (wfd !== undefined) fds.add(wfd);
    await Promise.all([...fds].map((fd) => this.io.fdatasync(fd)));
    if (this.filesClosed) return;
    await writeTimerCheckpointAsync(this.io, this.config.checkpointPath, cp);
    if (this.filesClosed) return;
    this.committed(cp);
  }

  private flushNow(): void {
    const cp = this.snapshot();
    const fds = new Set<number>();
    this.log.writeTail(fds);
    const wfd = this.wheel.writeDirty();
    if (wfd !== undefined) fds.add(wfd);
    for (const fd of fds) this.io.fdatasyncSync(fd);
    this.commit(cp);
  }

  private commit(cp: TimerCheckpoint): void {
    writeTimerCheckpoint(this.io, this.config.checkpointPath, cp);
    this.committed(cp);
  }

  /** The checkpoint `cp` is durable: what it says is delivered can be forgotten. */
  private committed(cp: TimerCheckpoint): void {
    this.persistedD = Math.max(this.persistedD, cp.deliveredTick);
    this.lastFlushAt = Date.now();
    this.log.deleteDeadFiles(this.persistedD);
  }

  /** Final flush; call once nothing is in flight (fired timers not acknowledged are delivered again later). */
  async close(): Promise<void> {
    if (this.filesClosed) return;
    this.closed = true;
    if (this.flushing) await this.flushing.catch(() => undefined);
    this.flushNow();
    this.filesClosed = true;
    this.log.close();
    this.wheel.close();
  }

  /** Fired timers not yet acknowledged. */
  get inflightCount(): number {
    return this.inflight;
  }

  stats(): TimerStoreStats {
    return {
      pending: this.pendingCount,
      late: this.late.length,
      inflight: this.inflight,
      loadedSlots: this.states.length,
      deliveredMs: this.delivered * this.P,
      horizonMs: this.horizon() * this.P,
      logFiles: this.log.fileCount,
      fired: this.nFired,
      rolled: this.nRolled,
      skipped: this.nSkipped,
    };
  }
}

function validate(c: TimerStoreConfig): void {
  const ints: (keyof TimerStoreConfig)[] = [
    "precisionMs",
    "windowMs",
    "entriesPerFile",
    "maxLoadedPerSlot",
    "lateCapacity",
    "maxInflight",
    "loadAheadMs",
    "maxAheadSlots",
    "prefetchBytes",
  ];
  for (const k of ints) {
    const v = c[k];
    if (typeof v !== "number" || !Number.isInteger(v) || v <= 0) {
      throw new Error(`timer config: ${k} must be a positive integer, got ${String(v)}`);
    }
  }
  if (c.precisionMs < 10 || c.precisionMs > 60_000) {
    throw new Error(`timer config: precisionMs must be within 10..60000, got ${c.precisionMs}`);
  }
  if (c.windowMs % c.precisionMs !== 0) {
    throw new Error(
      `timer config: windowMs (${c.windowMs}) must be a multiple of precisionMs (${c.precisionMs})`,
    );
  }
  const slots = c.windowMs / c.precisionMs;
  if (slots < 8 || slots > 16_000_000) {
    throw new Error(
      `timer config: windowMs / precisionMs gives ${slots} slots; it must be within 8..16000000`,
    );
  }
  if (c.maxLoadedPerSlot > IDX) {
    throw new Error(`timer config: maxLoadedPerSlot must be at most ${IDX}, got ${c.maxLoadedPerSlot}`);
  }
  if (typeof c.tickBudgetMs !== "number" || !(c.tickBudgetMs > 0)) {
    throw new Error(`timer config: tickBudgetMs must be a positive number, got ${String(c.tickBudgetMs)}`);
  }
}
