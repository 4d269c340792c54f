// Timed messages end to end on a real store in temp dirs: property parsing, the rewrite, invisibility until due,
// delivery with everything intact, order, restart, rolling, SIGKILL, and heap use.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import * as v8 from "node:v8";
import * as vm from "node:vm";
import {
  DEFAULT_TIMER_MAX_DELAY_MS,
  TIMER_TOPIC,
  TimerService,
  storedTimerOutMs,
  timerDeliverTime,
  toTimerMessage,
} from "../../src/broker/timer-service.js";
import type { TimerServiceOptions } from "../../src/broker/timer-service.js";
import { BrokerError } from "../../src/common/errors.js";
import { decodeRecord } from "../../src/common/message-record.js";
import type { MessageRecord } from "../../src/common/message-record.js";
import { decodeProperties, encodeProperties } from "../../src/common/properties.js";
import { hostAddress } from "../../src/common/socket-address.js";
import { nodeFileIO } from "../../src/store/file-io.js";
import { MessageStore } from "../../src/store/message-store.js";
import type { PutMessageInput } from "../../src/store/message-store.js";
import {
  CRASH_STORE_OPTIONS,
  CRASH_TIMER_OPTIONS,
  CRASH_TOPIC,
} from "../store/timer/fixtures/timer-crash-writer.js";
import { tempDir } from "../support/temp-dir.js";

/** The wheel ticks every 100 ms; more than this late means a missed slot, not a slow machine. */
const LATE_MS = 1000;

const DAY = 24 * 3600 * 1000;
const UNIQ = "UNIQ_CLIENT_MESSAGE_ID_KEYIDX";

function openAll(dir: string, opts: TimerServiceOptions = {}): { store: MessageStore; timer: TimerService } {
  const store = MessageStore.open({ dir: join(dir, "store"), flushIntervalMs: 50 });
  const timer = new TimerService(store, nodeFileIO, join(dir, "config"), { precisionMs: 100, ...opts });
  return { store, timer };
}

/** What the broker's send path does: a timed message is rewritten to the timer topic, then stored. */
async function send(store: MessageStore, timer: TimerService, input: PutMessageInput): Promise<void> {
  const at = timer.deliverTime(input.properties ?? "");
  await store.putMessage(at === undefined ? input : timer.toTimerMessage(input, at));
}

function readAll(store: MessageStore, topic: string, queueId: number): MessageRecord[] {
  const out: MessageRecord[] = [];
  let off = store.getMinOffset(topic, queueId);
  for (;;) {
    const r = store.getMessages(topic, queueId, off, 256);
    if (r.status !== "FOUND") return out;
    for (const m of r.messages) out.push(decodeRecord(Buffer.from(m)));
    off = r.nextBeginOffset;
  }
}

async function until(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test("delivery time from __STARTDELIVERTIME, TIMER_DELIVER_MS, TIMER_DELAY_SEC and TIMER_DELAY_MS", () => {
  const now = 1_700_000_000_000;
  const p = (o: Record<string, string>) => encodeProperties(o);
  assert.equal(timerDeliverTime(p({ __STARTDELIVERTIME: String(now + 5000) }), now), now + 5000);
  assert.equal(timerDeliverTime(p({ TIMER_DELIVER_MS: String(now + 7000), TAGS: "a" }), now), now + 7000);
  assert.equal(timerDeliverTime(p({ TIMER_DELAY_SEC: "30" }), now), now + 30_000);
  assert.equal(timerDeliverTime(p({ TIMER_DELAY_MS: "1500" }), now), now + 1500);
  // RocketMQ's order: relative delays first, then the absolute time; a DELAY level wins over all of them.
  assert.equal(
    timerDeliverTime(p({ TIMER_DELAY_SEC: "9", TIMER_DELIVER_MS: String(now + 1) }), now),
    now + 9000,
  );
  assert.equal(timerDeliverTime(p({ TIMER_DELAY_MS: "5", TIMER_DELIVER_MS: String(now + 1) }), now), now + 5);
  assert.equal(timerDeliverTime(p({ DELAY: "3", TIMER_DELAY_SEC: "9" }), now), undefined);
  // A message timed once already (delivered, then re-sent with its properties) is not timed again.
  assert.equal(timerDeliverTime(p({ TIMER_DELAY_SEC: "9", TIMER_OUT_MS: String(now - 5) }), now), undefined);
  // Nothing asked, or a time that is not in the future: not a timer (delivered at once).
  assert.equal(timerDeliverTime("", now), undefined);
  assert.equal(timerDeliverTime(p({ TAGS: "x", KEYS: "TIMER_DELAY_SEC" }), now), undefined);
  assert.equal(timerDeliverTime(p({ __STARTDELIVERTIME: String(now) }), now), undefined);
  assert.equal(timerDeliverTime(p({ TIMER_DELIVER_MS: String(now - 60_000) }), now), undefined);
  assert.equal(timerDeliverTime(p({ TIMER_DELAY_MS: "0" }), now), undefined);
  assert.equal(timerDeliverTime(p({ __STARTDELIVERTIME: "0" }), now), undefined);
  // Up to 40 days is accepted; beyond is a clear ILLEGAL_DELIVERY_TIME naming the limit.
  assert.equal(timerDeliverTime(p({ TIMER_DELAY_MS: String(40 * DAY) }), now), now + 40 * DAY);
  assert.equal(DEFAULT_TIMER_MAX_DELAY_MS, 40 * DAY);
  for (const props of [
    p({ TIMER_DELAY_SEC: String(40 * 24 * 3600 + 1) }),
    p({ __STARTDELIVERTIME: String(now + 41 * DAY) }),
    p({ TIMER_DELIVER_MS: String(now + 40 * DAY + 1) }),
  ]) {
    assert.throws(
      () => timerDeliverTime(props, now),
      (e: unknown) =>
        e instanceof BrokerError && e.code === "ILLEGAL_DELIVERY_TIME" && /at most .*40 days/.test(e.message),
    );
  }
  assert.throws(
    () => timerDeliverTime(p({ TIMER_DELAY_SEC: "soon" }), now),
    (e: unknown) => e instanceof BrokerError && e.code === "BAD_REQUEST" && /TIMER_DELAY_SEC/.test(e.message),
  );
  // A configured limit replaces the 40 days.
  assert.throws(() => timerDeliverTime(p({ TIMER_DELAY_SEC: "3601" }), now, 3600_000), /3600000 ms/);
});

test("toTimerMessage moves a message to the timer topic and keeps where it belongs", () => {
  const input: PutMessageInput = {
    topic: "Orders",
    queueId: 3,
    body: Buffer.from("hello"),
    properties: encodeProperties({ TAGS: "t", KEYS: "k1 k2", [UNIQ]: "ID1", TIMER_DELAY_SEC: "5" }),
    flag: 7,
    bornTimestamp: 123,
    reconsumeTimes: 2,
  };
  const out = toTimerMessage(input, 1_700_000_005_000);
  assert.equal(out.topic, TIMER_TOPIC);
  assert.equal(out.topic, "rmq_sys_wheel_timer");
  assert.equal(out.queueId, 0);
  const props = decodeProperties(out.properties!);
  assert.equal(props.get("REAL_TOPIC"), "Orders");
  assert.equal(props.get("REAL_QID"), "3");
  assert.equal(props.get("TIMER_OUT_MS"), "1700000005000");
  assert.equal(props.get("KEYS"), "k1 k2");
  assert.equal(props.get(UNIQ), "ID1");
  assert.equal(out.flag, 7);
  assert.equal(out.bornTimestamp, 123);
  assert.equal(out.reconsumeTimes, 2);
  assert.equal(input.topic, "Orders", "the input is not modified");
});

test("a message due in 1 s is invisible until then and appears in its real topic intact", async (t) => {
  const { dir, cleanup } = tempDir();
  const { store, timer } = openAll(dir);
  timer.start();
  t.after(async () => {
    await timer.stop();
    await store.close();
    cleanup();
  });
  const sentAt = Date.now();
  // Far enough ahead that a loaded CI machine still checks invisibility before it is due.
  const due = sentAt + 1000;
  const bornHost = hostAddress("10.1.2.3", 4567);
  const props = {
    TAGS: "TagA",
    KEYS: "order-1 order-2",
    [UNIQ]: "AC11000100002A9F0000000000000001",
    color: "red",
  };
  await send(store, timer, {
    topic: "Delayed",
    queueId: 2,
    body: Buffer.from("payload-1s"),
    properties: encodeProperties({ ...props, TIMER_DELIVER_MS: String(due) }),
    flag: 5,
    bornTimestamp: sentAt - 10,
    bornHost,
    reconsumeTimes: 1,
  });
  // It lives only on the timer topic, where its due time can be read in place.
  const stored = readAll(store, TIMER_TOPIC, 0);
  assert.equal(stored.length, 1);
  assert.equal(
    storedTimerOutMs(Buffer.from(store.getMessages(TIMER_TOPIC, 0, 0, 1).messages[0]!)),
    due,
    "TIMER_OUT_MS read from the stored record",
  );
  await sleep(150);
  assert.equal(
    store.getMessages("Delayed", 2, 0, 10).status,
    "NO_MATCHED_LOGIC_QUEUE",
    "invisible before due",
  );
  assert.equal(store.queryByKey("Delayed", "order-1").length, 0);
  await until(() => store.getMaxOffset("Delayed", 2) > 0, 3000, "delivery");
  const [rec] = readAll(store, "Delayed", 2);
  assert.ok(rec);
  assert.ok(rec.storeTimestamp >= due, `delivered ${due - rec.storeTimestamp} ms early`);
  // Lateness bounds are loose: they catch a timer that misses its slot, not a busy machine's scheduling delay.
  assert.ok(rec.storeTimestamp - due < LATE_MS, `delivered ${rec.storeTimestamp - due} ms late`);
  assert.equal(rec.body.toString(), "payload-1s");
  assert.equal(rec.flag, 5);
  assert.equal(rec.bornTimestamp, sentAt - 10);
  assert.deepEqual(rec.bornHost, bornHost);
  assert.equal(rec.reconsumeTimes, 1);
  const got = decodeProperties(rec.properties);
  for (const [k, v] of Object.entries(props)) assert.equal(got.get(k), v, k);
  assert.equal(got.get("TIMER_DELIVER_MS"), String(due), "the sender's own properties stay");
  for (const k of ["REAL_TOPIC", "REAL_QID", "TIMER_ROLL_TIMES"]) assert.ok(!got.has(k), k);
  assert.equal(
    got.get("TIMER_OUT_MS"),
    String(due),
    "kept, as RocketMQ does: the due time, and 'timed already'",
  );
  assert.equal(store.queryByKey("Delayed", "order-2").length, 1, "found by key once delivered");
  assert.equal(store.queryByKey("Delayed", props[UNIQ]).length, 1, "found by its id once delivered");
  assert.equal(timer.pending().delivered, 1);
});

test("timers sent out of order are delivered in due order, none early", async (t) => {
  const { dir, cleanup } = tempDir();
  const { store, timer } = openAll(dir);
  timer.start();
  t.after(async () => {
    await timer.stop();
    await store.close();
    cleanup();
  });
  const base = Date.now() + 300;
  const n = 400;
  const offsets = Array.from({ length: n }, (_, i) => (i * 7919) % 1500);
  await Promise.all(
    offsets.map((o, i) =>
      send(store, timer, {
        topic: "Ordered",
        queueId: 0,
        body: Buffer.from(String(i)),
        properties: encodeProperties({ TIMER_DELIVER_MS: String(base + o), [UNIQ]: `U${i}` }),
      }),
    ),
  );
  await until(() => store.getMaxOffset("Ordered", 0) >= n, 5000, "all deliveries");
  const recs = readAll(store, "Ordered", 0);
  assert.equal(recs.length, n);
  let prevDue = 0;
  let maxLate = 0;
  for (const r of recs) {
    const due = base + offsets[Number(r.body.toString())]!;
    assert.ok(r.storeTimestamp >= due, "never early");
    maxLate = Math.max(maxLate, r.storeTimestamp - due);
    assert.ok(due >= prevDue - 25, `out of order: due ${due} after ${prevDue}`);
    prevDue = Math.max(prevDue, due);
  }
  assert.ok(maxLate < LATE_MS, `latest delivery ${maxLate} ms after due`);
});

test("stop and reopen keeps pending timers; each fires once", async (t) => {
  const { dir, cleanup } = tempDir();
  let { store, timer } = openAll(dir);
  timer.start();
  const base = Date.now();
  const dues = new Map<string, number>();
  for (let i = 0; i < 200; i++) {
    const due = base + 200 + ((i * 37) % 1800);
    dues.set(`R${i}`, due);
    await send(store, timer, {
      topic: "Restart",
      queueId: i % 2,
      body: Buffer.from(`R${i}`),
      properties: encodeProperties({ TIMER_DELIVER_MS: String(due), [UNIQ]: `R${i}` }),
    });
  }
  await sleep(Math.max(0, base + 700 - Date.now()));
  await timer.stop();
  await store.close();
  const before = readAll(store, "Restart", 0).length;
  void before;
  ({ store, timer } = openAll(dir));
  t.after(async () => {
    await timer.stop();
    await store.close();
    cleanup();
  });
  const early = store.getMaxOffset("Restart", 0) + store.getMaxOffset("Restart", 1);
  assert.ok(early > 0 && early < 200, `${early} delivered before the restart`);
  timer.start();
  await until(
    () => store.getMaxOffset("Restart", 0) + store.getMaxOffset("Restart", 1) >= 200,
    5000,
    "deliveries after restart",
  );
  await sleep(300);
  const recs = [...readAll(store, "Restart", 0), ...readAll(store, "Restart", 1)];
  const count = new Map<string, number>();
  for (const r of recs) {
    const id = r.body.toString();
    count.set(id, (count.get(id) ?? 0) + 1);
    assert.ok(r.storeTimestamp >= dues.get(id)!, `${id} early`);
  }
  assert.equal(count.size, 200);
  assert.ok(
    [...count.values()].every((c) => c === 1),
    "a clean restart delivers nothing twice",
  );
});

test("a delay beyond the wheel's window is rolled and delivered at the right time", async (t) => {
  const { dir, cleanup } = tempDir();
  // 100 ms slots over one second: a 3.5 s delay is parked at the window's edge and rolled several times.
  const { store, timer } = openAll(dir, { windowMs: 1000, flushIntervalMs: 50 });
  timer.start();
  t.after(async () => {
    await timer.stop();
    await store.close();
    cleanup();
  });
  const due = Date.now() + 3500;
  await send(store, timer, {
    topic: "Rolled",
    queueId: 0,
    body: Buffer.from("far"),
    properties: encodeProperties({ TIMER_DELIVER_MS: String(due), [UNIQ]: "FAR", KEYS: "far" }),
  });
  await sleep(2500);
  assert.equal(store.getMaxOffset("Rolled", 0), 0, "not yet");
  assert.ok(timer.pending().rolled >= 1, "rolled at least once by now");
  await until(() => store.getMaxOffset("Rolled", 0) > 0, 3000, "rolled delivery");
  await sleep(200);
  const recs = readAll(store, "Rolled", 0);
  assert.equal(recs.length, 1);
  const r = recs[0]!;
  assert.ok(
    r.storeTimestamp >= due && r.storeTimestamp - due < LATE_MS,
    `delivered ${r.storeTimestamp - due} ms off`,
  );
  const props = decodeProperties(r.properties);
  assert.equal(props.get(UNIQ), "FAR");
  assert.ok(!props.has("TIMER_ROLL_TIMES") && !props.has("REAL_TOPIC"));
  assert.ok(timer.pending().rolled >= 2, `rolled ${timer.pending().rolled} times`);
  // Every roll re-put the message to the timer topic, so its commit-log copy stays young.
  assert.ok(store.getMaxOffset(TIMER_TOPIC, 0) >= 3);
});

test("a window not shorter than the commit log's retention is refused", async (t) => {
  const { dir, cleanup } = tempDir();
  const store = MessageStore.open({ dir: join(dir, "store"), fileReservedTimeMs: 3600_000 });
  t.after(async () => {
    await store.close();
    cleanup();
  });
  assert.throws(
    () => new TimerService(store, nodeFileIO, join(dir, "config"), { windowMs: 2 * 3600_000 }),
    /windowMs .* fileReservedTimeMs/,
  );
});

const child = fileURLToPath(new URL("../store/timer/fixtures/timer-crash-writer.js", import.meta.url));

test("SIGKILL while scheduling and delivering: every acknowledged timer fires after reopening", async (t) => {
  const { dir, cleanup } = tempDir();
  const storeDir = join(dir, "store");
  const configDir = join(dir, "config");
  const acks = new Map<string, number>();
  await new Promise<void>((resolve, reject) => {
    const p = spawn(process.execPath, [child, storeDir, configDir, "8"], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let buf = "";
    let started = 0;
    let killed = false;
    const guard = setTimeout(() => {
      p.kill("SIGKILL");
      reject(new Error(`child made only ${acks.size} acks in time`));
    }, 20_000);
    p.stdout.on("data", (d: Buffer) => {
      buf += d.toString();
      let nl: number;
      while ((nl = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (line === "ready") started = Date.now();
        const m = /^ack (\S+) (\d+)$/.exec(line);
        if (m) acks.set(m[1]!, Number(m[2]));
      }
      // Run long enough for timers to be delivered, rolled and checkpointed, then kill mid-stream.
      if (!killed && started > 0 && Date.now() - started > 1500 && acks.size >= 300) {
        killed = true;
        p.kill("SIGKILL");
      }
    });
    p.on("exit", (_code, signal) => {
      clearTimeout(guard);
      if (signal !== "SIGKILL") reject(new Error(`child exited by itself (${signal})`));
      else resolve();
    });
  });
  const store = MessageStore.open({ dir: storeDir, ...CRASH_STORE_OPTIONS });
  const timer = new TimerService(store, nodeFileIO, configDir, CRASH_TIMER_OPTIONS);
  t.after(async () => {
    await timer.stop();
    await store.close();
    cleanup();
  });
  assert.equal(store.recovery.aborted, true);
  const delivered = () => {
    const seen = new Map<string, number[]>();
    for (let q = 0; q < 4; q++) {
      for (const r of readAll(store, CRASH_TOPIC, q)) {
        const id = r.body.toString();
        const l = seen.get(id) ?? [];
        l.push(r.storeTimestamp);
        seen.set(id, l);
      }
    }
    return seen;
  };
  const deliveredBeforeRestart = delivered().size;
  timer.start();
  const lastDue = Math.max(...acks.values());
  await until(
    () => {
      if (Date.now() < lastDue + 300) return false;
      const d = delivered();
      return [...acks.keys()].every((id) => d.has(id));
    },
    15_000,
    "all acknowledged timers",
  );
  const seen = delivered();
  let dup = 0;
  for (const [id, due] of acks) {
    const times = seen.get(id);
    assert.ok(times && times.length >= 1, `acknowledged timer ${id} was lost`);
    for (const at of times) assert.ok(at >= due, `${id} delivered ${due - at} ms early`);
    dup += times.length - 1;
  }
  for (const id of seen.keys()) assert.match(id, /^w\d+s\d+$/);
  t.diagnostic(
    `${acks.size} acknowledged, ${deliveredBeforeRestart} delivered before the kill, ${seen.size} in all, ${dup} twice`,
  );
});

test("200k pending timed messages do not grow the heap per message", async (t) => {
  const { dir, cleanup } = tempDir();
  v8.setFlagsFromString("--expose-gc");
  const gc = vm.runInNewContext("gc") as () => void;
  const store = MessageStore.open({ dir: join(dir, "store"), flushIntervalMs: 100, indexSlotNum: 1 << 16 });
  const timer = new TimerService(store, nodeFileIO, join(dir, "config"), { precisionMs: 1000 });
  timer.start();
  t.after(async () => {
    await timer.stop();
    await store.close();
    cleanup();
  });
  const n = 200_000;
  const body = Buffer.alloc(32, 1);
  const base = Date.now() + 3600_000;
  // Warm up the send and enqueue paths so their one-off allocations are not counted.
  for (let i = 0; i < 2000; i++) {
    await store.putMessage(toTimerMessage({ topic: "Heap", queueId: 0, body, properties: "" }, base + i));
  }
  await until(() => timer.pending().enqueueLag === 0, 5000, "warm-up enqueue");
  gc();
  const before = process.memoryUsage().heapUsed;
  let inflight: Promise<unknown>[] = [];
  for (let i = 0; i < n; i++) {
    const props = encodeProperties({ [UNIQ]: `H${i}`, TIMER_OUT_MS: "0" });
    inflight.push(
      store.putMessage({
        topic: TIMER_TOPIC,
        queueId: 0,
        body,
        properties: `${props}REAL_TOPIC\u0001Heap\u0002REAL_QID\u00010\u0002`.replace(
          "TIMER_OUT_MS\u00010",
          `TIMER_OUT_MS\u0001${base + ((i * 7919) % 86_400_000)}`,
        ),
      }),
    );
    if (inflight.length >= 5000) {
      await Promise.all(inflight);
      inflight = [];
    }
  }
  await Promise.all(inflight);
  inflight = [];
  await until(() => timer.pending().enqueueLag === 0, 10_000, "enqueue of 200k timers");
  await timer.flush();
  gc();
  const growth = process.memoryUsage().heapUsed - before;
  const pending = timer.pending().pending;
  assert.equal(pending, n + 2000);
  t.diagnostic(`heap growth ${(growth / 1e6).toFixed(2)} MB for ${n} pending timers`);
  // One small JS object per timer would take at least 200k × 40 bytes = 8 MB.
  assert.ok(growth < 2_000_000, `heap grew by ${growth} bytes`);
});

test("a recall marker, rolled with its message, drops the message at its due time", async (t) => {
  const { dir, cleanup } = tempDir();
  // recallEarlyMs 0: the recall is not held in memory up front, so only the marker's own turn can drop the
  // message (as after a restart, or for a recall far ahead of its time).
  const { store, timer } = openAll(dir, { windowMs: 1000, flushIntervalMs: 50, recallEarlyMs: 0 });
  timer.start();
  t.after(async () => {
    await timer.stop();
    await store.close();
    cleanup();
  });
  const due = Date.now() + 3000;
  for (const id of ["KEEP", "DROP"]) {
    await send(store, timer, {
      topic: "Recalled",
      queueId: 0,
      body: Buffer.from(id),
      properties: encodeProperties({ TIMER_DELIVER_MS: String(due), [UNIQ]: id }),
    });
  }
  await store.putMessage(timer.recallMarker("DROP", due, undefined));
  timer.recalled("DROP", due);
  assert.equal(timer.pending().recallsPending, 0, "not held in memory up front");
  await until(() => store.getMaxOffset("Recalled", 0) > 0, 5000, "the kept message");
  await sleep(1000);
  assert.deepEqual(
    readAll(store, "Recalled", 0).map((r) => r.body.toString()),
    ["KEEP"],
  );
  assert.equal(timer.pending().recalled, 1);
  assert.ok(timer.pending().rolled >= 2, "message and marker were rolled");
});
