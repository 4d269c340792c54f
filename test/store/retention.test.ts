import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, utimesSync } from "node:fs";
import { join } from "node:path";
import { MessageStore } from "../../src/store/message-store.js";
import { BrokerError } from "../../src/common/errors.js";
import { encodeProperties } from "../../src/common/properties.js";
import { faultyIO } from "../support/faulty-io.js";
import { tempDir } from "../support/temp-dir.js";

const HOUR = 3600_000;
const cfg = {
  segmentBytes: 96 * 1024,
  maxMessageBytes: 16 * 1024,
  queueEntriesPerFile: 30,
  indexSlotNum: 64,
  indexMaxEntriesPerFile: 100,
  fileReservedTimeMs: 72 * HOUR,
  deleteWhenHours: [4],
};

async function fill(store: MessageStore, n: number): Promise<void> {
  await Promise.all(
    Array.from({ length: n }, (_, i) =>
      store.putMessage({
        topic: "R",
        queueId: i % 2,
        body: Buffer.alloc(1000, i & 0xff),
        properties: encodeProperties({ KEYS: `r${i}` }),
      }),
    ),
  );
}

function segments(dir: string): string[] {
  return readdirSync(join(dir, "commitlog")).sort();
}

function age(dir: string, names: string[], ms: number): void {
  const t = (Date.now() - ms) / 1000;
  for (const n of names) utimesSync(join(dir, "commitlog", n), t, t);
}

/** A time today at the given hour, so tests do not depend on the clock. */
function at(hour: number): number {
  const d = new Date();
  d.setHours(hour, 30, 0, 0);
  return d.getTime();
}

test("retention by time deletes expired segments at the deletion hour only; queues and index follow", async (t) => {
  const { dir, cleanup } = tempDir();
  const { io, faults } = faultyIO();
  faults.diskRatio = 0.1;
  const store = MessageStore.open({ dir, ...cfg }, io);
  t.after(async () => {
    await store.close();
    cleanup();
  });
  await fill(store, 600);
  await store.flush();
  const cqFiles = readdirSync(join(dir, "consumequeue", "R", "0")).length;
  const segs = segments(dir);
  assert.ok(segs.length >= 5);
  age(dir, segs.slice(0, 3), 100 * HOUR); // expired whatever time of day "now" is in the test
  assert.equal(store.runRetention(at(13)), 0, "not the deletion hour, disk not full: nothing deleted");
  assert.equal(store.runRetention(at(4)), 3, "the three expired segments go at 04:xx");
  assert.deepEqual(segments(dir), segs.slice(3));
  const min = store.stats().minPhyOffset;
  assert.equal(min, Number(segs[3]));
  for (const q of [0, 1]) {
    const minOff = store.getMinOffset("R", q);
    assert.ok(minOff > 0);
    const r = store.getMessages("R", q, 0, 10);
    assert.equal(r.status, "OFFSET_TOO_SMALL");
    assert.equal(r.nextBeginOffset, minOff);
    const first = store.getMessages("R", q, minOff, 1);
    assert.equal(first.status, "FOUND");
  }
  assert.ok(
    readdirSync(join(dir, "consumequeue", "R", "0")).length < cqFiles,
    "old consume-queue files removed",
  );
  assert.equal(store.queryByKey("R", "r0").length, 0, "deleted messages are not found by key");
  assert.equal(store.queryByKey("R", "r599").length, 1);
});

test("above diskMaxUsedRatio expired segments go whatever the hour; above the forcible ratio even fresh ones", async (t) => {
  const { dir, cleanup } = tempDir();
  const { io, faults } = faultyIO();
  faults.diskRatio = 0.1;
  const store = MessageStore.open({ dir, ...cfg }, io);
  t.after(async () => {
    await store.close();
    cleanup();
  });
  await fill(store, 600);
  const segs = segments(dir);
  age(dir, segs.slice(0, 2), 100 * HOUR);
  faults.diskRatio = 0.8;
  assert.equal(store.runRetention(at(13)), 2);
  faults.diskRatio = 0.86;
  const before = segments(dir).length;
  const deleted = store.runRetention(at(13));
  assert.ok(deleted >= 1);
  assert.equal(segments(dir).length, before - deleted);
  assert.ok(segments(dir).length >= 1, "the segment being written is never deleted");
  const r = await store.putMessage({ topic: "R", queueId: 0, body: Buffer.from("still writable") });
  assert.ok(r.phyOffset > 0);
});

test("a nearly full disk rejects appends with DISK_FULL, and they resume once space returns", async (t) => {
  const { dir, cleanup } = tempDir();
  const { io, faults } = faultyIO();
  faults.diskRatio = 0.95;
  const store = MessageStore.open({ dir, ...cfg }, io);
  t.after(async () => {
    await store.close();
    cleanup();
  });
  await assert.rejects(
    store.putMessage({ topic: "R", queueId: 0, body: Buffer.from("x") }),
    (e: unknown) => e instanceof BrokerError && e.code === "DISK_FULL",
  );
  assert.equal(store.stats().maxPhyOffset, 0, "nothing was written");
  faults.diskRatio = 0.5;
  store.runRetention(at(13));
  const r = await store.putMessage({ topic: "R", queueId: 0, body: Buffer.from("x") });
  assert.equal(r.queueOffset, 0);
});
