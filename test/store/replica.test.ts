// A slave's store built from its master's records (readReplica → appendReplica): the same bytes at the same
// offsets, the same queues and keys, across segment ends; a restart on both sides; a master whose log no longer
// starts at 0; and a log that does not continue the master's.
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import assert from "node:assert/strict";
import { BrokerError } from "../../src/common/errors.js";
import { SysFlag } from "../../src/common/message-record.js";
import { encodeProperties } from "../../src/common/properties.js";
import { MessageStore } from "../../src/store/message-store.js";
import { tempDir } from "../support/temp-dir.js";

const small = {
  segmentBytes: 128 * 1024,
  maxMessageBytes: 64 * 1024,
  queueEntriesPerFile: 50,
  indexSlotNum: 64,
};

async function putMany(store: MessageStore, from: number, n: number): Promise<void> {
  const puts: Promise<unknown>[] = [];
  for (let i = from; i < from + n; i++) {
    puts.push(
      store.putMessage({
        topic: i % 5 === 0 ? "Other" : "T1",
        queueId: i % 3,
        body: Buffer.from(`m-${i}-${"x".repeat((i * 37) % 3000)}`),
        properties: encodeProperties({
          TAGS: i % 2 ? "odd" : "even",
          KEYS: `k${i}`,
          UNIQ_CLIENT_MESSAGE_ID_KEYIDX: `U${i}`,
        }),
        // Every 7th is a half message: in the log, in no consume queue.
        ...(i % 7 === 0 ? { sysFlag: SysFlag.TRANSACTION_PREPARED } : {}),
      }),
    );
  }
  await Promise.all(puts);
}

/** Copies everything the master has past the slave's end; returns the chunks it took. */
async function catchUp(master: MessageStore, slave: MessageStore, maxBytes = 16 * 1024): Promise<number> {
  let chunks = 0;
  for (;;) {
    const c = master.readReplica(slave.stats().maxPhyOffset, maxBytes);
    if (!c) return chunks;
    const end = await slave.appendReplica(c);
    assert.equal(end, c.offset + c.data.length);
    chunks++;
  }
}

function records(s: MessageStore, topic: string, q: number): Buffer[] {
  const out: Buffer[] = [];
  let off = s.getMinOffset(topic, q);
  for (;;) {
    const r = s.getMessages(topic, q, off, 32);
    if (r.status !== "FOUND") return out;
    out.push(...r.messages.map((m) => Buffer.from(m)));
    off = r.nextBeginOffset;
  }
}

function assertSameQueues(master: MessageStore, slave: MessageStore): void {
  for (const topic of ["T1", "Other"]) {
    for (let q = 0; q < 3; q++) {
      assert.equal(slave.getMinOffset(topic, q), master.getMinOffset(topic, q), `${topic}/${q} min`);
      assert.equal(slave.getMaxOffset(topic, q), master.getMaxOffset(topic, q), `${topic}/${q} max`);
      const a = records(master, topic, q);
      const b = records(slave, topic, q);
      assert.equal(b.length, a.length);
      for (let i = 0; i < a.length; i++) assert.ok(a[i]!.equals(b[i]!), `${topic}/${q} record ${i} differs`);
    }
  }
}

function segmentFiles(dir: string): Map<string, Buffer> {
  const d = join(dir, "commitlog");
  return new Map(readdirSync(d).map((f) => [f, readFileSync(join(d, f))]));
}

test("a slave's store holds its master's records byte for byte, across segments, and survives restarts", async (t) => {
  const m = tempDir();
  const s = tempDir();
  t.after(m.cleanup);
  t.after(s.cleanup);
  let master = MessageStore.open({ dir: m.dir, ...small });
  let slave = MessageStore.open({ dir: s.dir, ...small });
  slave.setReplica(true);
  await putMany(master, 0, 400);
  const chunks = await catchUp(master, slave);
  assert.ok(chunks > 10, `${chunks} chunks`);
  assert.ok(
    master.stats().maxPhyOffset > 4 * small.segmentBytes,
    "several segments, so several segment ends",
  );
  assert.equal(slave.stats().maxPhyOffset, master.stats().maxPhyOffset);
  assertSameQueues(master, slave);
  // Lookups by key and by message id work on the slave (the records keep the master's store host).
  const byKey = slave.queryByKey("T1", "k13", 4, 0, Date.now() + 1000);
  assert.equal(byKey.length, 1);
  assert.equal(byKey[0]!.body.toString().slice(0, 5), "m-13-");

  // A slave refuses appends of its own.
  await assert.rejects(
    slave.putMessage({ topic: "T1", queueId: 0, body: Buffer.from("local") }),
    (e: unknown) => e instanceof BrokerError && e.code === "SERVICE_NOT_AVAILABLE",
  );

  // Both restart; replication goes on where it stopped.
  await master.close();
  await slave.close();
  master = MessageStore.open({ dir: m.dir, ...small });
  slave = MessageStore.open({ dir: s.dir, ...small });
  slave.setReplica(true);
  await putMany(master, 400, 200);
  await catchUp(master, slave, 100_000);
  assertSameQueues(master, slave);
  await master.close();
  await slave.close();
  const a = segmentFiles(m.dir);
  const b = segmentFiles(s.dir);
  assert.deepEqual([...b.keys()], [...a.keys()]);
  for (const [name, bytes] of a) assert.ok(bytes.equals(b.get(name)!), `segment ${name} differs`);
});

test("an empty slave of a master whose log starts past 0 starts at the master's first segment", async (t) => {
  const m = tempDir();
  const s = tempDir();
  const master = MessageStore.open({ dir: m.dir, ...small, fileReservedTimeMs: 0 });
  const slave = MessageStore.open({ dir: s.dir, ...small });
  t.after(() => master.close());
  t.after(() => slave.close());
  t.after(m.cleanup);
  t.after(s.cleanup);
  slave.setReplica(true);
  await putMany(master, 0, 300);
  await master.flush();
  master.requestManualDelete();
  assert.ok(master.runRetention() > 0);
  const min = master.stats().minPhyOffset;
  assert.ok(min > 0);
  await catchUp(master, slave);
  assert.equal(slave.stats().minPhyOffset, min);
  assert.equal(slave.stats().maxPhyOffset, master.stats().maxPhyOffset);
  assertSameQueues(master, slave);
});

test("records that do not continue the slave's log are refused with REPLICA_OUT_OF_SYNC, and nothing is taken", async (t) => {
  const m = tempDir();
  const s = tempDir();
  const o = tempDir();
  const master = MessageStore.open({ dir: m.dir, ...small });
  // A slave with history of its own (it was a master once): its log has diverged.
  const diverged = MessageStore.open({ dir: s.dir, ...small });
  // A slave whose segments are bigger: the master's records past its first segment end land elsewhere.
  const otherSize = MessageStore.open({ dir: o.dir, ...small, segmentBytes: 256 * 1024 });
  t.after(() => master.close());
  t.after(() => diverged.close());
  t.after(() => otherSize.close());
  t.after(m.cleanup);
  t.after(s.cleanup);
  t.after(o.cleanup);
  await putMany(master, 0, 200);
  await diverged.putMessage({ topic: "T1", queueId: 0, body: Buffer.from("a message the master never had") });
  diverged.setReplica(true);
  otherSize.setReplica(true);
  const before = diverged.stats().maxPhyOffset;
  // The master finds no record where the slave says its log ends...
  assert.throws(
    () => master.readReplica(before, 16 * 1024),
    (e: unknown) => e instanceof BrokerError && e.code === "REPLICA_OUT_OF_SYNC",
  );
  // ...and the slave takes no records that would not land at their master's offsets.
  await assert.rejects(
    diverged.appendReplica(master.readReplica(0, 16 * 1024)!),
    (e: unknown) => e instanceof BrokerError && e.code === "REPLICA_OUT_OF_SYNC",
  );
  assert.equal(diverged.stats().maxPhyOffset, before);
  await assert.rejects(
    catchUp(master, otherSize),
    (e: unknown) => e instanceof BrokerError && e.code === "REPLICA_OUT_OF_SYNC",
  );
  assert.ok(otherSize.stats().maxPhyOffset <= small.segmentBytes);
});
