// The on-disk timer on its own, driven by a simulated clock (tick(now) takes the time), with a sink that
// records what fires and re-adds rolled timers as the broker's re-put would.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, unlinkSync } from "node:fs";
import { join } from "node:path";
import * as v8 from "node:v8";
import * as vm from "node:vm";
import { nodeFileIO } from "../../../src/store/file-io.js";
import type { FileIO } from "../../../src/store/file-io.js";
import { TimerStore } from "../../../src/store/timer/timer-store.js";
import type { FiredTimer, TimerSink, TimerStoreConfig } from "../../../src/store/timer/timer-store.js";
import { tempDir } from "../../support/temp-dir.js";
import { rng } from "../fixtures/store-kit.js";

/** A slot-aligned epoch time to start the simulated clock at. */
const BASE = 1_700_000_000_000;

interface Fire {
  due: number;
  phy: number;
  at: number;
  roll: boolean;
  payload: boolean;
}

class Sink implements TimerSink {
  store!: TimerStore;
  now = BASE;
  fires: Fire[] = [];
  autoAck = true;
  unacked: number[] = [];
  acked: Fire[] = [];
  fetch(phy: number, size: number, dst: Buffer, pos: number): number {
    dst.writeDoubleBE(phy, pos);
    return size;
  }
  fire(t: FiredTimer): void {
    if (t.payload) assert.equal(t.payload.readDoubleBE(0), t.phy, "read-ahead payload belongs to the timer");
    const f = { due: t.dueMs, phy: t.phy, at: this.now, roll: t.roll, payload: t.payload !== undefined };
    this.fires.push(f);
    // A rolled timer is re-put to the timer topic and enqueued again: here, added again at once.
    if (t.roll) assert.ok(this.store.add(t.dueMs, t.phy, t.size));
    if (this.autoAck) {
      this.store.done(t.token);
      if (!t.roll) this.acked.push(f);
    } else {
      this.unacked.push(t.token);
      if (!t.roll) this.pendingFires.push(f);
    }
  }
  pendingFires: Fire[] = [];
  ackAll(): void {
    for (const tok of this.unacked) this.store.done(tok);
    this.acked.push(...this.pendingFires);
    this.unacked = [];
    this.pendingFires = [];
  }
  delivered(): Fire[] {
    return this.fires.filter((f) => !f.roll);
  }
}

function open(
  dir: string,
  sink: Sink,
  cfg: Partial<TimerStoreConfig> = {},
  now = BASE,
  io: FileIO = nodeFileIO,
): TimerStore {
  const s = TimerStore.open(
    {
      dir,
      checkpointPath: join(dir, "timercheck"),
      precisionMs: 100,
      windowMs: 10_000,
      entriesPerFile: 4096,
      // The clock is simulated: let each tick finish its work whatever the real time it takes.
      tickBudgetMs: 10_000,
      ...cfg,
    },
    io,
    sink,
    now,
  );
  sink.store = s;
  return s;
}

/** Advances the simulated clock from..to by `step`, flushing every `flushEvery` ms of simulated time. */
async function run(s: TimerStore, sink: Sink, from: number, to: number, step = 10, flushEvery = 200) {
  let lastFlush = from;
  for (let t = from; t <= to; t += step) {
    sink.now = t;
    s.tick(t);
    if (t - lastFlush >= flushEvery) {
      await s.flush();
      lastFlush = t;
    }
  }
}

test("timers added out of order fire once each, never early, in due order, within one tick", async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const sink = new Sink();
  const s = open(dir, sink);
  const r = rng(7);
  const dues = new Map<number, number>();
  for (let i = 0; i < 5000; i++) {
    const due = BASE + 50 + Math.floor(r() * 5000);
    dues.set(i, due);
    assert.ok(s.add(due, i, 100));
  }
  assert.equal(s.stats().pending, 5000);
  await run(s, sink, BASE, BASE + 5200);
  const got = sink.delivered();
  assert.equal(got.length, 5000);
  const seen = new Set<number>();
  let prevDue = 0;
  for (const f of got) {
    assert.ok(!seen.has(f.phy), `timer ${f.phy} fired twice`);
    seen.add(f.phy);
    assert.equal(f.due, dues.get(f.phy));
    assert.ok(f.at >= f.due, `timer ${f.phy} fired early (${f.at} < ${f.due})`);
    assert.ok(f.at - f.due < 10, `timer ${f.phy} fired ${f.at - f.due} ms late`);
    assert.ok(f.due >= prevDue, "fired in due order");
    prevDue = f.due;
  }
  assert.ok(got.filter((f) => f.payload).length > 4900, "records were read ahead for almost every timer");
  assert.equal(s.stats().pending, 0);
  await s.close();
});

test("timers with the same due time all fire together", async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const sink = new Sink();
  const s = open(dir, sink, { maxInflight: 100_000 });
  const due = BASE + 1234;
  for (let i = 0; i < 3000; i++) s.add(due, i, 10);
  await run(s, sink, BASE, BASE + 2000);
  const same = sink.delivered();
  assert.equal(same.length, 3000);
  assert.ok(
    same.every((f) => f.at === BASE + 1240),
    "all fire at the first tick after their due time",
  );
  await s.close();
});

test("a slot above the load cap is loaded in parts: all fire, never early, at most a slot late", async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const sink = new Sink();
  const s = open(dir, sink, { maxLoadedPerSlot: 1000 });
  for (let i = 0; i < 3500; i++) s.add(BASE + 1300 + (i % 97), i, 10);
  await run(s, sink, BASE, BASE + 2000);
  const got = sink.delivered();
  assert.equal(got.length, 3500);
  assert.equal(new Set(got.map((f) => f.phy)).size, 3500);
  assert.ok(got.every((f) => f.at >= f.due && f.at - f.due <= 100));
  await s.close();
});

test("late timers (due now, in the past, or in a slot already loaded) fire at once or when due", async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const sink = new Sink();
  const s = open(dir, sink);
  await run(s, sink, BASE, BASE + 1000);
  const now = BASE + 1000;
  s.add(now - 5000, 1, 10);
  s.add(now, 2, 10);
  s.add(now + 30, 3, 10);
  s.add(now + 150, 4, 10);
  await run(s, sink, now + 10, now + 400);
  const byPhy = new Map(sink.delivered().map((f) => [f.phy, f.at]));
  assert.equal(byPhy.get(1), now + 10);
  assert.equal(byPhy.get(2), now + 10);
  assert.equal(byPhy.get(3), now + 30);
  assert.equal(byPhy.get(4), now + 150);
  await s.close();
});

test("timers beyond the window are rolled forward and fire on time", async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const sink = new Sink();
  // 100 ms slots over 1 s: anything more than about a second ahead is parked at the edge and rolled.
  const s = open(dir, sink, { windowMs: 1000 });
  s.add(BASE + 7777, 1, 10);
  s.add(BASE + 4321, 2, 10);
  s.add(BASE + 500, 3, 10);
  await run(s, sink, BASE, BASE + 8000, 10, 50);
  const d = sink.delivered();
  assert.deepEqual(
    d.map((f) => f.phy),
    [3, 2, 1],
  );
  for (const f of d) assert.ok(f.at >= f.due && f.at - f.due < 10, `${f.phy}: due ${f.due} fired ${f.at}`);
  const rolls = sink.fires.filter((f) => f.roll && f.phy === 1).length;
  assert.ok(rolls >= 6, `timer 1 was rolled ${rolls} times`);
  assert.ok(s.stats().rolled >= rolls);
  await s.close();
});

test("a clean close and reopen keeps pending timers and delivers none twice", async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const sink = new Sink();
  let s = open(dir, sink);
  const r = rng(11);
  const dues = new Map<number, number>();
  for (let i = 0; i < 2000; i++) {
    const due = BASE + 100 + Math.floor(r() * 3000);
    dues.set(i, due);
    s.add(due, i, 50);
  }
  await run(s, sink, BASE, BASE + 1503, 10, 1000);
  const before = sink.delivered().length;
  assert.ok(before > 500 && before < 1600);
  await s.close();
  s = open(dir, sink, {}, BASE + 1503);
  assert.ok(s.stats().pending >= 2000 - before);
  await run(s, sink, BASE + 1510, BASE + 3300);
  const all = sink.delivered();
  assert.equal(all.length, 2000, "every timer once, none twice");
  assert.equal(new Set(all.map((f) => f.phy)).size, 2000);
  for (const f of all) assert.ok(f.at >= dues.get(f.phy)!);
  await s.close();
});

test("abandoned without close (a crash): reopening fires every timer at least once", async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const sink = new Sink();
  sink.autoAck = false;
  let s = open(dir, sink);
  const r = rng(3);
  const total = 3000;
  const dues: number[] = [];
  for (let i = 0; i < total; i++) dues.push(BASE + 100 + Math.floor(r() * 4000));
  // The caller's queue: the timer store checkpoints how far it was enqueued (enqueueOffset).
  let next = 0;
  const enqueue = (upTo: number) => {
    for (; next < upTo; next++) s.add(dues[next]!, next, 40);
    s.enqueueOffset = next;
  };
  enqueue(1500);
  for (let tm = BASE; tm <= BASE + 2000; tm += 10) {
    sink.now = tm;
    s.tick(tm);
    if (tm % 100 === 0) sink.ackAll();
    if (tm === BASE + 700) await s.flush();
    if (tm === BASE + 900) enqueue(3000);
    if (tm === BASE + 1500) await s.flush();
  }
  // Some fired timers are not acknowledged, some timers were enqueued after the last checkpoint.
  assert.ok(sink.unacked.length > 0 || sink.pendingFires.length >= 0);
  const ackedBefore = new Set(sink.acked.map((f) => f.phy));
  // Crash: the instance is dropped (its file descriptors are left open, as a killed process's pages are kept).
  const sink2 = new Sink();
  s = open(dir, sink2, {}, BASE + 2000);
  next = s.enqueueOffset;
  assert.ok(next <= 3000);
  enqueue(3000);
  await run(s, sink2, BASE + 2000, BASE + 4300, 10, 100);
  const after = new Set(sink2.delivered().map((f) => f.phy));
  for (let i = 0; i < total; i++) {
    assert.ok(ackedBefore.has(i) || after.has(i), `timer ${i} (due ${dues[i]! - BASE}) was never delivered`);
  }
  for (const f of sink2.delivered()) assert.ok(f.at >= f.due);
  await s.close();
});

test("a checkpoint that failed to land after the wheel was written: recovery repairs the slots", async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  let failCheckpoint = false;
  const io: FileIO = {
    ...nodeFileIO,
    writeFileAtomic: (p, d) => {
      if (failCheckpoint && p.endsWith("timercheck")) throw new Error("injected crash before the checkpoint");
      nodeFileIO.writeFileAtomic(p, d);
    },
  };
  const sink = new Sink();
  let s = open(dir, sink, {}, BASE, io);
  for (let i = 0; i < 500; i++) s.add(BASE + 1000 + (i % 50) * 100, i, 30);
  s.enqueueOffset = 500;
  await s.flush();
  // The same slots get more timers, and new slots start; the log and wheel are written, the checkpoint not.
  for (let i = 500; i < 1000; i++) s.add(BASE + 1000 + (i % 80) * 100, i, 30);
  s.enqueueOffset = 1000;
  failCheckpoint = true;
  await assert.rejects(s.flush(), /injected crash/);
  failCheckpoint = false;
  const sink2 = new Sink();
  s = open(dir, sink2, {}, BASE, io);
  assert.ok(s.recovery.repairedSlots >= 50, `repaired ${s.recovery.repairedSlots} slots`);
  assert.equal(s.recovery.truncatedEntries, 500);
  assert.equal(s.recovery.rebuiltWheel, false);
  assert.equal(s.enqueueOffset, 500);
  assert.equal(s.stats().pending, 500);
  for (let i = 500; i < 1000; i++) s.add(BASE + 1000 + (i % 80) * 100, i, 30);
  await run(s, sink2, BASE, BASE + 9200, 10, 500);
  const got = sink2.delivered().map((f) => f.phy);
  assert.equal(got.length, 1000);
  assert.equal(new Set(got).size, 1000);
  await s.close();
});

test("a failing timer-log write (ENOSPC) loses and corrupts nothing: retried, every timer fires once", async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  let full = false;
  const io: FileIO = {
    ...nodeFileIO,
    writeSync: (fd, buf, off, len, pos) => {
      if (full) throw Object.assign(new Error("ENOSPC: no space left on device"), { code: "ENOSPC" });
      return nodeFileIO.writeSync(fd, buf, off, len, pos);
    },
  };
  const sink = new Sink();
  const s = open(dir, sink, {}, BASE, io);
  full = true;
  let refused = 0;
  const n = 40_000;
  for (let i = 0; i < n; i++) {
    const due = BASE + 200 + (i % 3000);
    try {
      s.add(due, i, 20);
    } catch (e) {
      assert.match((e as Error).message, /ENOSPC/);
      refused++;
      full = false;
      s.add(due, i, 20);
      full = true;
    }
  }
  assert.ok(refused > 0, "the in-memory tail had to be written out at least once");
  await assert.rejects(s.flush(), /ENOSPC/);
  full = false;
  await s.flush();
  await run(s, sink, BASE, BASE + 3500);
  const got = sink.delivered();
  assert.equal(got.length, n);
  assert.equal(new Set(got.map((f) => f.phy)).size, n);
  await s.close();
});

test("a missing wheel file is rebuilt from the timer log", async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const sink = new Sink();
  let s = open(dir, sink);
  for (let i = 0; i < 300; i++) s.add(BASE + 200 + i * 10, i, 30);
  await s.close();
  const wheel = join(dir, "timerwheel");
  assert.ok(existsSync(wheel));
  unlinkSync(wheel);
  s = open(dir, sink);
  assert.equal(s.recovery.rebuiltWheel, true);
  assert.equal(s.stats().pending, 300);
  await run(s, sink, BASE, BASE + 3500);
  assert.equal(sink.delivered().length, 300);
  await s.close();
});

test("reopening with another precision or window is refused, naming the setting", async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const sink = new Sink();
  const s = open(dir, sink);
  await s.close();
  assert.throws(() => open(dir, sink, { precisionMs: 50 }), /precisionMs 50/);
  assert.throws(() => open(dir, sink, { windowMs: 20_000 }), /windowMs 20000/);
  assert.throws(() => open(dir, sink, { windowMs: 1050 }), /multiple of precisionMs/);
});

test("timer log files only delivered slots refer to are deleted", async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const sink = new Sink();
  const s = open(dir, sink, { entriesPerFile: 256 });
  for (let i = 0; i < 2000; i++) s.add(BASE + 100 + i, i, 10);
  await s.flush();
  const files = s.stats().logFiles;
  assert.ok(files >= 7);
  await run(s, sink, BASE, BASE + 2500, 10, 100);
  await s.flush();
  assert.equal(sink.delivered().length, 2000);
  assert.ok(s.stats().logFiles <= 2, `${s.stats().logFiles} files left of ${files}`);
  await s.close();
});

test("200k pending timers cost no heap per timer", async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  v8.setFlagsFromString("--expose-gc");
  const gc = vm.runInNewContext("gc") as () => void;
  const sink = new Sink();
  const s = open(dir, sink, { precisionMs: 1000, windowMs: 2 * 24 * 3600 * 1000 });
  gc();
  const before = process.memoryUsage().heapUsed;
  const n = 200_000;
  for (let i = 0; i < n; i++) s.add(BASE + 60_000 + ((i * 7919) % 3_600_000), i * 300, 300);
  await s.flush();
  gc();
  const growth = process.memoryUsage().heapUsed - before;
  assert.equal(s.stats().pending, n);
  // A JS object per timer would take at least 200k × 40 bytes = 8 MB; allow a tenth of that.
  assert.ok(growth < 800_000, `heap grew by ${growth} bytes for ${n} timers`);
  await s.close();
});
