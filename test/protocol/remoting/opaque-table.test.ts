import { test } from "node:test";
import assert from "node:assert/strict";
import { OpaqueTable } from "../../../src/protocol/remoting/opaque-table.js";

interface Entry {
  opaque: number;
  tag: string;
}

const e = (opaque: number): Entry => ({ opaque, tag: `t${opaque}` });

test("opaque table: add, get, take in sequence, and size", () => {
  const t = new OpaqueTable<Entry>();
  for (let i = 1; i <= 10; i++) t.add(e(i));
  assert.equal(t.size, 10);
  assert.equal(t.get(7)?.tag, "t7");
  assert.equal(t.has(11), false);
  assert.equal(t.take(7)?.tag, "t7");
  assert.equal(t.take(7), undefined);
  assert.equal(t.get(7), undefined);
  assert.equal(t.size, 9);
});

test("opaque table: an old entry whose slot is reused by a newer opaque is still found (spill)", () => {
  const t = new OpaqueTable<Entry>(64);
  t.add(e(5)); // a long poll that stays
  // Thousands of requests come and go past it; some land on its slot.
  for (let i = 6; i < 5000; i++) {
    t.add(e(i));
    assert.equal(t.take(i)?.opaque, i);
  }
  assert.equal(t.size, 1);
  assert.equal(t.get(5)?.tag, "t5");
  // Two in flight that share a slot.
  t.add(e(5 + 64));
  assert.equal(t.get(5)?.opaque, 5);
  assert.equal(t.get(69)?.opaque, 69);
  assert.equal(t.take(69)?.opaque, 69);
  assert.equal(t.take(5)?.opaque, 5);
  assert.equal(t.size, 0);
});

test("opaque table: grows past its capacity and keeps every entry; negative opaques work", () => {
  const t = new OpaqueTable<Entry>(64);
  const ops = [-2147483648, -1, 0, 2147483647];
  for (let i = 0; i < 1000; i++) ops.push(i * 37 + 1);
  for (const o of ops) if (!t.has(o)) t.add(e(o));
  const unique = new Set(ops);
  assert.equal(t.size, unique.size);
  for (const o of unique) assert.equal(t.get(o)?.opaque, o);
  assert.deepEqual(new Set(t.values().map((v) => v.opaque)), unique);
  for (const o of unique) assert.equal(t.take(o)?.opaque, o);
  assert.equal(t.size, 0);
  assert.deepEqual(t.values(), []);
});

test("opaque table: clear empties it, values() is a snapshot", () => {
  const t = new OpaqueTable<Entry>();
  for (let i = 0; i < 100; i++) t.add(e(i));
  const snap = t.values();
  for (const v of snap) t.take(v.opaque);
  assert.equal(snap.length, 100);
  assert.equal(t.size, 0);
  for (let i = 0; i < 10; i++) t.add(e(i));
  t.clear();
  assert.equal(t.size, 0);
  assert.equal(t.get(3), undefined);
});
