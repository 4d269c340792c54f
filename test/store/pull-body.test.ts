// getMessagesBody (the pull response path) hands out exactly the bytes getMessages does, concatenated, with the
// same status and offsets, whether the records come from the read cache, from the file or from the write tail.
import { test } from "node:test";
import assert from "node:assert/strict";
import { MessageStore } from "../../src/store/message-store.js";
import type { MessageFilter } from "../../src/store/message-store.js";
import { encodeProperties, getProperty } from "../../src/common/properties.js";
import { readRecordProperties } from "../../src/common/message-record.js";
import { javaStringHashCode } from "../../src/common/java-hash.js";
import { tempDir } from "../support/temp-dir.js";

/** A store with small segments, queue files and read cache, so a few hundred messages cross every boundary. */
function smallStore(
  dir: string,
  o: { queueEntriesPerFile: number; readCacheBytes: number; readCacheBlockBytes: number },
): MessageStore {
  return MessageStore.open({
    dir,
    segmentBytes: 256 * 1024,
    maxMessageBytes: 64 * 1024,
    indexSlotNum: 64,
    ...o,
  });
}

test("getMessagesBody is Buffer.concat(getMessages().messages) for every offset, batch size and filter", async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const store = smallStore(dir, {
    queueEntriesPerFile: 50,
    readCacheBytes: 64 * 1024,
    readCacheBlockBytes: 16 * 1024,
  });
  const puts = [];
  for (let i = 0; i < 400; i++) {
    puts.push(
      store.putMessage({
        topic: "PB",
        queueId: i % 3,
        body: Buffer.from(`m-${i}-${"y".repeat((i * 37) % 3000)}`),
        properties: encodeProperties({ TAGS: i % 3 === 1 ? "a" : "b", n: String(i) }),
      }),
    );
  }
  await Promise.all(puts);
  const tagA: MessageFilter = { matchTagsCode: (c) => c === javaStringHashCode("a") };
  const even: MessageFilter = {
    matchTagsCode: () => true,
    matchRecord: (r) => Number(getProperty(readRecordProperties(r) ?? "", "n")) % 2 === 0,
  };
  const filters: (MessageFilter | undefined)[] = [undefined, tagA, even];
  for (const filter of filters) {
    for (let q = 0; q < 3; q++) {
      for (const max of [1, 7, 32]) {
        for (let off = 0; off <= store.getMaxOffset("PB", q) + 1; off += 5) {
          const want = store.getMessages("PB", q, off, max, filter);
          const got = store.getMessagesBody("PB", q, off, max, filter);
          const at = `queue ${q} offset ${off} max ${max} filter ${filters.indexOf(filter)}`;
          assert.equal(got.status, want.status, at);
          assert.equal(got.nextBeginOffset, want.nextBeginOffset, at);
          assert.equal(got.minOffset, want.minOffset, at);
          assert.equal(got.maxOffset, want.maxOffset, at);
          assert.equal(got.count, want.messages.length, at);
          if (want.messages.length === 0) assert.equal(got.body, undefined, at);
          else assert.ok(got.body!.equals(Buffer.concat(want.messages)), at);
        }
      }
    }
  }
  const limited = store.getMessagesBody("PB", 0, 0, 32, undefined, 5000);
  const limitedWant = store.getMessages("PB", 0, 0, 32, undefined, 5000);
  assert.equal(limited.count, limitedWant.messages.length);
  assert.ok(limited.body!.equals(Buffer.concat(limitedWant.messages)), "maxBytes applies alike");
  assert.equal(store.getMessagesBody("none", 0, 0, 32).status, "NO_MATCHED_LOGIC_QUEUE");
  await store.close();
});

test("records handed out as views stay intact while pulls cycle the read cache through recycled blocks", async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const store = smallStore(dir, {
    queueEntriesPerFile: 5000,
    readCacheBytes: 32 * 1024,
    readCacheBlockBytes: 8 * 1024,
  });
  const puts = [];
  // Far more than the last few write batches, which serve reads at the tail without the cache.
  for (let i = 0; i < 3000; i++) {
    puts.push(
      store.putMessage({
        topic: "RC",
        queueId: 0,
        body: Buffer.from(`r-${i}-${"z".repeat(300 + (i % 7) * 50)}`),
      }),
    );
  }
  await Promise.all(puts);
  await store.flush();
  const want = new Map<number, Buffer>();
  for (let off = 0; off < 3000; off += 16) {
    want.set(off, Buffer.concat(store.getMessages("RC", 0, off, 16).messages.map((m) => Buffer.from(m))));
  }
  // Views into cached blocks, kept while the pull path reads the whole queue twice: the blocks it loads are only
  // copied from, so they are recycled as they are evicted, and the viewed ones must never be among them.
  const views = store.getMessages("RC", 0, 10, 20);
  const copies = views.messages.map((m) => Buffer.from(m));
  for (let pass = 0; pass < 2; pass++) {
    for (let off = 0; off < 3000; off += 16) {
      assert.ok(
        store.getMessagesBody("RC", 0, off, 16).body?.equals(want.get(off)!),
        `pass ${pass} offset ${off}`,
      );
    }
  }
  views.messages.forEach((m, i) => assert.ok(m.equals(copies[i]!), `view ${i} changed`));
  await store.close();
});
