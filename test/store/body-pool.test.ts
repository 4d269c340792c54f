import { test } from "node:test";
import assert from "node:assert/strict";
import { BodyPool, POOLED_BODY_BYTES } from "../../src/store/body-pool.js";

test("a body handed back is reused once; handing it back twice does not let two bodies share memory", () => {
  const pool = new BodyPool();
  const a = pool.take(40_000);
  assert.equal(a.length, 40_000);
  pool.give(a);
  pool.give(a); // a second hand-back of the same memory is ignored
  assert.equal(pool.spareCount, 1);
  const b = pool.take(30_000);
  const c = pool.take(30_000);
  assert.equal(b.buffer, a.buffer, "the first take after the hand-back reuses the memory");
  assert.notEqual(c.buffer, b.buffer, "the next take gets memory of its own");
  assert.equal(pool.reused, 1);
});

test("bodies over the pooled size and foreign buffers are never pooled", () => {
  const pool = new BodyPool();
  const big = pool.take(POOLED_BODY_BYTES + 1);
  assert.equal(big.length, POOLED_BODY_BYTES + 1);
  pool.give(big);
  pool.give(Buffer.alloc(100));
  pool.give(Buffer.allocUnsafeSlow(POOLED_BODY_BYTES).subarray(8)); // right size, not at the start of its memory
  assert.equal(pool.spareCount, 0);
});
