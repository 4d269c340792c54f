// The commit log's block cache: least recently used blocks go first, hits included.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ReadCache } from "../../src/store/read-cache.js";

test("ReadCache evicts the least recently used block; repeated hits on the newest keep the order", () => {
  const c = new ReadCache(10, 30);
  const block = (n: number) => Buffer.alloc(10, n);
  c.put(0, block(0));
  c.put(10, block(1));
  c.put(20, block(2));
  assert.equal(c.get(0)?.[0], 0, "0 becomes the newest");
  assert.equal(c.get(0)?.[0], 0);
  assert.equal(c.get(20)?.[0], 2);
  c.put(30, block(3));
  assert.equal(c.get(10), undefined, "10 was least recently used");
  assert.equal(c.get(0)?.[0], 0);
  c.put(40, block(4));
  assert.equal(c.get(20), undefined, "20 was next");
  c.invalidateFrom(40);
  assert.equal(c.get(40), undefined);
  assert.equal(c.get(30)?.[0], 3);
  c.put(50, block(5));
  c.put(60, block(6));
  assert.equal(c.get(0), undefined, "0 was older than 30, 50 and 60");
  assert.deepEqual(
    [30, 50, 60].map((k) => c.get(k)?.[0]),
    [3, 5, 6],
  );
});

test("ReadCache recycles an evicted block only if it was never handed out as a view", () => {
  const c = new ReadCache(10, 20);
  const copied = c.takeBuffer();
  assert.equal(copied.length, 10);
  c.put(0, copied);
  c.put(10, Buffer.alloc(10, 1), true);
  assert.equal(c.get(0), copied);
  c.put(20, Buffer.alloc(10, 2)); // evicts 10 (the view): not recycled
  assert.notEqual(c.takeBuffer(), c.get(10));
  c.put(30, Buffer.alloc(10, 3)); // evicts 0 (only copied from): recycled
  assert.equal(c.get(0), undefined);
  assert.equal(c.takeBuffer(), copied);
  c.get(20, true); // viewed now
  c.put(40, Buffer.alloc(10, 4));
  c.put(50, Buffer.alloc(10, 5)); // evicts 20 and 30; only 30 may come back
  const a = c.takeBuffer();
  assert.equal(a[0], 3);
  assert.notEqual(c.takeBuffer()[0], 2);
});
