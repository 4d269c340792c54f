import { test } from "node:test";
import assert from "node:assert/strict";
import { MessageStore } from "../../src/store/message-store.js";
import { BrokerError } from "../../src/common/errors.js";
import { decodeRecord } from "../../src/common/message-record.js";
import { tempDir } from "../support/temp-dir.js";
import { faultyStore, queueBodies, smallStoreConfig } from "./fixtures/store-kit.js";

const cfg = smallStoreConfig;

test("ENOSPC fails the append with DISK_FULL, leaves no partial record, and appends resume", async (t) => {
  const h = faultyStore(t);
  const { faults } = h;
  let store = h.store;
  const put = (b: string) => store.putMessage({ topic: "F", queueId: 0, body: Buffer.from(b) });
  await put("one");
  await put("two");
  faults.enospc = true;
  const failed = await Promise.allSettled([put("lost-1"), put("lost-2"), put("lost-3")]);
  for (const f of failed) {
    assert.equal(f.status, "rejected");
    assert.ok(f.status === "rejected" && f.reason instanceof BrokerError && f.reason.code === "DISK_FULL");
  }
  faults.enospc = false;
  assert.ok(faults.syncWrites > 0, "small batches are written in place");
  const r = await put("three");
  assert.equal(r.queueOffset, 2, "the failed appends gave back their queue offsets");
  assert.deepEqual(queueBodies(store, "F", 0), ["one", "two", "three"]);
  store = await h.reopen();
  assert.equal(store.recovery.stoppedBecause, undefined, "no partial record on disk");
  assert.deepEqual(queueBodies(store, "F", 0), ["one", "two", "three"]);
});

test("short writes still store every record whole", async (t) => {
  const h = faultyStore(t);
  h.faults.maxWriteBytes = 7;
  const store = h.store;
  const bodies = Array.from({ length: 50 }, (_, i) => `short-${i}-${"q".repeat(i * 3)}`);
  await Promise.all(bodies.map((b) => store.putMessage({ topic: "S", queueId: 0, body: Buffer.from(b) })));
  assert.deepEqual(queueBodies(store, "S", 0), bodies);
  h.faults.maxWriteBytes = Infinity;
  assert.deepEqual(queueBodies(await h.reopen(), "S", 0), bodies);
});

test("an fsync failure in sync mode fails those appends with a typed error; the store stays usable", async (t) => {
  const h = faultyStore(t, { flushMode: "sync" });
  const store = h.store;
  const put = (b: string) => store.putMessage({ topic: "Y", queueId: 1, body: Buffer.from(b) });
  await put("a");
  h.faults.fsyncFailures = 1;
  await assert.rejects(put("b"), (e: unknown) => e instanceof BrokerError && e.code === "STORE_WRITE_FAILED");
  const c = await put("c");
  assert.equal(c.queueOffset, 1);
  assert.deepEqual(queueBodies(store, "Y", 1), ["a", "c"]);
  assert.deepEqual(queueBodies(await h.reopen(), "Y", 1), ["a", "c"], "the failed record is not on disk");
});

test("bad input gets typed errors and nothing is written", async (t) => {
  const { dir, cleanup } = tempDir();
  const store = MessageStore.open({ dir, ...cfg });
  t.after(async () => {
    await store.close();
    cleanup();
  });
  await assert.rejects(
    store.putMessage({ topic: "B", queueId: 0, body: Buffer.alloc(cfg.maxMessageBytes + 1) }),
    (e: unknown) => e instanceof BrokerError && e.code === "MESSAGE_TOO_LARGE",
  );
  await assert.rejects(
    store.putMessage({
      topic: "B",
      queueId: 0,
      body: Buffer.from("x"),
      properties: "k\u0001" + "v".repeat(40000),
    }),
    (e: unknown) => e instanceof BrokerError && e.code === "PROPERTIES_TOO_LARGE",
  );
  await assert.rejects(
    store.putMessage({ topic: "B", queueId: -1, body: Buffer.from("x") }),
    (e: unknown) => e instanceof BrokerError && e.code === "BAD_REQUEST",
  );
  assert.equal(store.stats().maxPhyOffset, 0);
  const ok = await store.putMessage({ topic: "B", queueId: 0, body: Buffer.alloc(cfg.maxMessageBytes) });
  assert.equal(ok.phyOffset, 0);
});

test("a 4 MiB body and an empty body round-trip through the store", async (t) => {
  const { dir, cleanup } = tempDir();
  const store = MessageStore.open({ dir });
  t.after(async () => {
    await store.close();
    cleanup();
  });
  const big = Buffer.alloc(4 * 1024 * 1024);
  for (let i = 0; i < big.length; i++) big[i] = (i * 31) & 0xff;
  const a = await store.putMessage({ topic: "Big", queueId: 0, body: big });
  const b = await store.putMessage({ topic: "Big", queueId: 0, body: Buffer.alloc(0) });
  const r = store.getMessages("Big", 0, 0, 10);
  assert.equal(r.messages.length, 2);
  assert.ok(decodeRecord(r.messages[0]!).body.equals(big));
  assert.equal(decodeRecord(r.messages[1]!).body.length, 0);
  assert.equal(b.phyOffset, a.phyOffset + a.size);
});

// In async mode batches up to 256 KiB are written in place on the event loop; bigger ones (up to 512 KiB, where
// the writer thread takes over) through the thread pool. The tests above use small records, so these repeat the
// failure cases with batches past that size.
test("a batch too big to write in place: ENOSPC fails it whole and short writes still store it whole", async (t) => {
  const h = faultyStore(t, { segmentBytes: 1024 * 1024 });
  const { faults } = h;
  let store = h.store;
  const body = (tag: string) => Buffer.from(tag.padEnd(30_000, "."));
  const put = (tag: string) => store.putMessage({ topic: "L", queueId: 0, body: body(tag) });
  const twelve = [...Array(12).keys()];
  const many = (prefix: string) => Promise.allSettled(twelve.map((i) => put(`${prefix}-${i}`)));
  for (const r of await many("ok")) assert.equal(r.status, "fulfilled");
  faults.enospc = true;
  for (const r of await many("lost")) {
    assert.ok(r.status === "rejected" && r.reason instanceof BrokerError && r.reason.code === "DISK_FULL");
  }
  faults.enospc = false;
  faults.maxWriteBytes = 4096;
  for (const r of await many("short")) assert.equal(r.status, "fulfilled");
  faults.maxWriteBytes = Infinity;
  assert.ok(faults.asyncWrites > 0, "the batches went through the thread-pool write path");
  const expected = ["ok", "short"].flatMap((p) => twelve.map((i) => body(`${p}-${i}`).toString()));
  assert.deepEqual(queueBodies(store, "L", 0), expected);
  store = await h.reopen();
  assert.equal(store.recovery.stoppedBecause, undefined, "no partial record on disk");
  assert.deepEqual(queueBodies(store, "L", 0), expected);
});

// Sync mode syncs a small group in place and a big one through the thread pool: an fsync failure must fail the
// group, and leave nothing behind, on both paths.
test("sync mode: an fsync failure fails the group on both paths (in place and through the pool)", async (t) => {
  const h = faultyStore(t, { flushMode: "sync", segmentBytes: 1024 * 1024 });
  const { faults } = h;
  let store = h.store;
  const body = (tag: string, n: number) => Buffer.from(tag.padEnd(n, "."));
  const put = (tag: string, n: number) => store.putMessage({ topic: "Z", queueId: 0, body: body(tag, n) });
  const group = (prefix: string, n: number) =>
    Promise.allSettled([0, 1, 2, 3].map((i) => put(`${prefix}-${i}`, n)));
  assert.equal((await put("small-ok", 100)).queueOffset, 0);
  assert.ok(faults.syncFsyncs > 0 && faults.asyncFsyncs === 0, "a small group is synced in place");
  faults.fsyncFailures = 1;
  await assert.rejects(
    put("small-lost", 100),
    (e: unknown) => e instanceof BrokerError && e.code === "STORE_WRITE_FAILED",
  );
  const inPlace = faults.syncFsyncs;
  for (const r of await group("big-ok", 30_000)) assert.equal(r.status, "fulfilled");
  assert.ok(faults.asyncFsyncs > 0, "a group over 64 KiB is synced through the pool");
  faults.fsyncFailures = 1;
  const lost = await group("big-lost", 30_000);
  assert.ok(
    lost.some(
      (r) =>
        r.status === "rejected" && r.reason instanceof BrokerError && r.reason.code === "STORE_WRITE_FAILED",
    ),
    "the failed group's appends are rejected",
  );
  const kept = lost.filter((r) => r.status === "fulfilled").length;
  assert.ok(faults.syncFsyncs >= inPlace);
  const expected = [
    body("small-ok", 100).toString(),
    ...[0, 1, 2, 3].map((i) => body(`big-ok-${i}`, 30_000).toString()),
  ];
  const now = queueBodies(store, "Z", 0);
  assert.deepEqual(now.slice(0, 5), expected);
  assert.equal(now.length, 5 + kept, "only appends that were acknowledged are in the queue");
  store = await h.reopen();
  assert.equal(store.recovery.stoppedBecause, undefined, "no partial record on disk");
  assert.deepEqual(queueBodies(store, "Z", 0), now);
});

test("sync mode: after an in-place fdatasync that stalls, syncs go through the thread pool", async (t) => {
  const h = faultyStore(t, { flushMode: "sync" });
  const { faults, store } = h;
  const put = (b: string) => store.putMessage({ topic: "W", queueId: 0, body: Buffer.from(b) });
  await put("fast");
  assert.equal(faults.asyncFsyncs, 0, "small groups are synced in place");
  faults.syncFsyncDelayMs = 80;
  await put("stalled");
  const inPlace = faults.syncFsyncs;
  faults.syncFsyncDelayMs = 0;
  await put("after");
  await put("after-2");
  assert.equal(faults.syncFsyncs, inPlace, "no more syncs on the event loop for a while");
  assert.ok(faults.asyncFsyncs >= 2, "they went through the pool");
  assert.deepEqual(queueBodies(store, "W", 0), ["fast", "stalled", "after", "after-2"]);
});
