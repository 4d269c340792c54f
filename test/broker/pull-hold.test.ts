import { test } from "node:test";
import assert from "node:assert/strict";
import { PullHold } from "../../src/broker/pull-hold.js";

const settled = (p: Promise<void>): Promise<boolean> =>
  Promise.race([p.then(() => true), new Promise<boolean>((r) => setImmediate(() => r(false)))]);

test("pull hold: an arrival wakes only the waiters of its queue below the new max offset", async () => {
  const h = new PullHold(10);
  const a = h.wait("T", 0, 5, 60_000);
  const b = h.wait("T", 0, 9, 60_000);
  const c = h.wait("T", 3, 5, 60_000);
  const d = h.wait("U", 0, 5, 60_000);
  assert.equal(h.size, 4);
  h.arrived("T", 0, 6);
  assert.equal(await settled(a), true);
  assert.equal(await settled(b), false);
  assert.equal(await settled(c), false);
  assert.equal(await settled(d), false);
  assert.equal(h.size, 3);
  h.arrived("T", 3, 6);
  assert.equal(await settled(c), true);
  h.arrived("T", 0, 10);
  assert.equal(await settled(b), true);
  assert.equal(h.size, 1);
  h.wakeAll();
  assert.equal(await settled(d), true);
  assert.equal(h.size, 0);
});

test("pull hold: a waiter woken re-entering wait() for the same queue is kept", async () => {
  const h = new PullHold(10);
  let again: Promise<void> | undefined;
  const first = h.wait("T", 1, 0, 60_000).then(() => {
    again = h.wait("T", 1, 1, 60_000);
  });
  h.arrived("T", 1, 1);
  await first;
  assert.equal(h.size, 1);
  assert.equal(await settled(again!), false);
  h.arrived("T", 1, 2);
  assert.equal(await settled(again!), true);
  assert.equal(h.size, 0);
});

test("pull hold: waiters are released at their deadline by the coarse timer", async () => {
  const h = new PullHold(10);
  // The hold's timer does not keep the process alive (a broker's other handles do); this test's one does.
  const alive = setTimeout(() => undefined, 10_000);
  const t0 = Date.now();
  const short = h.wait("T", 2, 0, 30);
  const long = h.wait("T", 2, 0, 60_000);
  await short;
  const waited = Date.now() - t0;
  assert.ok(waited >= 25 && waited < 2000, `released after ${waited} ms`);
  assert.equal(await settled(long), false);
  assert.equal(h.size, 1);
  h.wakeAll();
  await long;
  clearTimeout(alive);
});
