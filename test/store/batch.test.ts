// putMessages: several records appended as one unit, with putMessage's guarantees.
import { test } from "node:test";
import assert from "node:assert/strict";
import { MessageStore } from "../../src/store/message-store.js";
import type { PutMessageInput } from "../../src/store/message-store.js";
import { BrokerError } from "../../src/common/errors.js";
import { decodeRecord } from "../../src/common/message-record.js";
import { Prop, encodeProperties } from "../../src/common/properties.js";
import { javaStringHashCode } from "../../src/common/java-hash.js";
import { hostAddress } from "../../src/common/socket-address.js";
import { tempDir } from "../support/temp-dir.js";
import { faultyStore, queueBodies, smallStoreConfig } from "./fixtures/store-kit.js";

const cfg = smallStoreConfig;

function msg(
  topic: string,
  queueId: number,
  body: string,
  extra: Partial<PutMessageInput> = {},
): PutMessageInput {
  return { topic, queueId, body: Buffer.from(body), ...extra };
}

test("a batch round-trips every field, takes consecutive offsets and mixes with single appends", async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  let store = MessageStore.open({ dir, ...cfg });
  await store.putMessage(msg("B", 0, "single-0"));
  const born = hostAddress("::1", 4321);
  const inputs: PutMessageInput[] = [];
  for (let i = 0; i < 10; i++) {
    inputs.push(
      msg(i % 3 === 2 ? "L".repeat(200) : "B", i % 2, `batch-${i}-ü`, {
        properties: encodeProperties({
          TAGS: `tag${i % 2}`,
          KEYS: `key${i} shared`,
          [Prop.UNIQ_KEY]: `U${i}`,
        }),
        flag: i,
        bornTimestamp: 1_000 + i,
        bornHost: born,
        reconsumeTimes: i % 4,
      }),
    );
  }
  const results = await store.putMessages(inputs);
  const after = await store.putMessage(msg("B", 0, "single-1"));
  assert.equal(results.length, inputs.length);
  for (let i = 1; i < results.length; i++) {
    assert.equal(results[i]!.phyOffset, results[i - 1]!.phyOffset + results[i - 1]!.size, "back to back");
    assert.equal(results[i]!.storeTimestamp, results[0]!.storeTimestamp, "one store time per batch");
  }
  assert.equal(after.phyOffset, results[9]!.phyOffset + results[9]!.size);
  const check = (s: MessageStore) => {
    results.forEach((r, i) => {
      const rec = decodeRecord(s.readAt(r.phyOffset)!);
      const m = inputs[i]!;
      assert.equal(rec.topic, m.topic);
      assert.equal(rec.queueId, m.queueId);
      assert.equal(rec.queueOffset, r.queueOffset);
      assert.equal(rec.physicalOffset, r.phyOffset);
      assert.equal(rec.flag, i);
      assert.equal(rec.bornTimestamp, 1_000 + i);
      assert.deepEqual(rec.bornHost, born);
      assert.equal(rec.reconsumeTimes, i % 4);
      assert.equal(rec.storeTimestamp, r.storeTimestamp);
      assert.ok(rec.body.equals(m.body));
      assert.equal(rec.properties, m.properties);
      assert.equal(s.viewByOffsetMsgId(r.offsetMsgId)?.equals(s.readAt(r.phyOffset)!), true);
    });
    // Per queue, offsets continue from the single appends in call order.
    assert.deepEqual(queueBodies(s, "B", 0), ["single-0", "batch-0-ü", "batch-4-ü", "batch-6-ü", "single-1"]);
    assert.deepEqual(queueBodies(s, "B", 1), ["batch-1-ü", "batch-3-ü", "batch-7-ü", "batch-9-ü"]);
    assert.deepEqual(queueBodies(s, "L".repeat(200), 1), ["batch-5-ü"]);
    assert.deepEqual(queueBodies(s, "L".repeat(200), 0), ["batch-2-ü", "batch-8-ü"]);
    const tag1 = s.getMessages("B", 1, 0, 10, { matchTagsCode: (c) => c === javaStringHashCode("tag1") });
    assert.equal(tag1.messages.length, 4);
    assert.equal(s.queryByKey("B", "key4")[0]?.body.toString(), "batch-4-ü");
    assert.equal(s.queryByKey("B", "U6")[0]?.body.toString(), "batch-6-ü");
    assert.equal(s.queryByKey("B", "shared", 64).length, 7);
  };
  check(store);
  await store.close();
  store = MessageStore.open({ dir, ...cfg });
  check(store);
  assert.deepEqual(await store.putMessages([]), []);
  await store.close();
});

test("batches crossing segment ends start a new segment whole; concurrent batches keep their order", async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  let store = MessageStore.open({ dir, ...cfg });
  const expected: string[] = [];
  const calls: Promise<unknown>[] = [];
  for (let b = 0; b < 60; b++) {
    const inputs: PutMessageInput[] = [];
    for (let i = 0; i < 1 + (b % 7); i++) {
      const body = `b${b}m${i}-${"x".repeat((b * 97 + i * 13) % 3000)}`;
      inputs.push(msg("Seg", 3, body));
      expected.push(body);
    }
    calls.push(store.putMessages(inputs));
  }
  await Promise.all(calls);
  assert.ok(store.stats().maxPhyOffset > 2 * cfg.segmentBytes, "the batches span several segments");
  assert.deepEqual(queueBodies(store, "Seg", 3), expected);
  await store.close();
  store = MessageStore.open({ dir, ...cfg });
  assert.equal(store.recovery.stoppedBecause, undefined);
  assert.deepEqual(queueBodies(store, "Seg", 3), expected);
  await store.close();
});

test("one bad message rejects the whole batch with a typed error and writes nothing", async (t) => {
  const { dir, cleanup } = tempDir();
  const store = MessageStore.open({ dir, ...cfg });
  t.after(async () => {
    await store.close();
    cleanup();
  });
  const good = msg("V", 0, "ok");
  const cases: [PutMessageInput, string][] = [
    [msg("V", 0, "x".repeat(cfg.maxMessageBytes + 1)), "MESSAGE_TOO_LARGE"],
    [msg("V", 0, "x", { properties: "k\u0001" + "v".repeat(40000) }), "PROPERTIES_TOO_LARGE"],
    [msg("V", -1, "x"), "BAD_REQUEST"],
    [msg("", 0, "x"), "ILLEGAL_TOPIC"],
  ];
  for (const [bad, code] of cases) {
    await assert.rejects(
      store.putMessages([good, good, bad, good]),
      (e: unknown) => e instanceof BrokerError && e.code === code,
    );
  }
  // Too many bytes in one call (it must fit in one segment).
  const big = Array.from({ length: 8 }, () => msg("V", 0, "y".repeat(cfg.maxMessageBytes)));
  await assert.rejects(
    store.putMessages(big),
    (e: unknown) => e instanceof BrokerError && e.code === "MESSAGE_TOO_LARGE",
  );
  assert.equal(store.stats().maxPhyOffset, 0);
  assert.equal(store.getMaxOffset("V", 0), 0);
  const r = await store.putMessages([good, good]);
  assert.deepEqual(
    r.map((x) => x.queueOffset),
    [0, 1],
  );
});

test("ENOSPC fails the whole batch with DISK_FULL, leaves none of it, gives back its offsets", async (t) => {
  const h = faultyStore(t);
  const { faults } = h;
  let store = h.store;
  await store.putMessages([msg("F", 0, "one"), msg("F", 1, "two")]);
  faults.enospc = true;
  const failed = await Promise.allSettled([
    store.putMessages([msg("F", 0, "lost-1"), msg("F", 1, "lost-2"), msg("F", 0, "lost-3")]),
    store.putMessage(msg("F", 0, "lost-4")),
    store.putMessages([msg("F", 1, "lost-5")]),
  ]);
  for (const f of failed) {
    assert.ok(f.status === "rejected" && f.reason instanceof BrokerError && f.reason.code === "DISK_FULL");
  }
  faults.enospc = false;
  const r = await store.putMessages([msg("F", 0, "three"), msg("F", 1, "four")]);
  assert.deepEqual(
    r.map((x) => x.queueOffset),
    [1, 1],
    "the failed appends gave back their queue offsets",
  );
  assert.deepEqual(queueBodies(store, "F", 0), ["one", "three"]);
  assert.deepEqual(queueBodies(store, "F", 1), ["two", "four"]);
  store = await h.reopen();
  assert.equal(store.recovery.stoppedBecause, undefined, "no partial record on disk");
  assert.deepEqual(queueBodies(store, "F", 0), ["one", "three"]);
  assert.deepEqual(queueBodies(store, "F", 1), ["two", "four"]);
});

test("sync mode: a batch resolves only once flushed; an fsync failure rejects it whole", async (t) => {
  const h = faultyStore(t, { flushMode: "sync" });
  const { faults, store } = h;
  const ok = await store.putMessages([msg("Y", 0, "a"), msg("Y", 0, "b")]);
  const last = ok[1]!;
  assert.ok(
    store.stats().flushedOffset >= last.phyOffset + last.size,
    "resolved after an fdatasync covered it",
  );
  faults.fsyncFailures = 1;
  await assert.rejects(
    store.putMessages([msg("Y", 0, "c"), msg("Y", 0, "d")]),
    (e: unknown) => e instanceof BrokerError && e.code === "STORE_WRITE_FAILED",
  );
  const e = await store.putMessages([msg("Y", 0, "e")]);
  assert.equal(e[0]!.queueOffset, 2);
  assert.deepEqual(queueBodies(store, "Y", 0), ["a", "b", "e"]);
  assert.deepEqual(queueBodies(await h.reopen(), "Y", 0), ["a", "b", "e"], "the failed batch is not on disk");
});

test("a closed store rejects batches with STORE_CLOSED", async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const store = MessageStore.open({ dir, ...cfg });
  await store.close();
  await assert.rejects(
    store.putMessages([msg("C", 0, "x")]),
    (e: unknown) => e instanceof BrokerError && e.code === "STORE_CLOSED",
  );
});
