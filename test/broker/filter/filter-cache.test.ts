import { test } from "node:test";
import assert from "node:assert/strict";
import { FilterCache } from "../../../src/broker/subscription.js";
import { javaStringHashCode } from "../../../src/common/java-hash.js";

test("filter cache: one filter per (topic, type, expression), built as the subscription says", () => {
  const c = new FilterCache();
  const all = c.get("T", "*", "TAG");
  assert.equal(all.filter, undefined, "* takes everything");
  assert.equal(c.get("T", "", undefined), c.get("T", "", "TAG"));
  const ab = c.get("T", "A||B", "TAG");
  assert.equal(c.get("T", "A||B", "TAG"), ab, "the second pull gets the same filter");
  assert.notEqual(c.get("U", "A||B", "TAG"), ab, "per topic");
  assert.ok(ab.filter?.matchTagsCode(javaStringHashCode("A")));
  assert.ok(ab.filter?.matchTagsCode(javaStringHashCode("B")));
  assert.ok(!ab.filter?.matchTagsCode(javaStringHashCode("C")));
  const sql = c.get("T", "a > 1", "SQL92");
  assert.ok(sql.filter !== undefined);
  assert.notEqual(sql, c.get("T", "a > 1", "TAG"), "type is part of the key");
});

test("filter cache: a malformed expression throws every time; the cache stays bounded", () => {
  const c = new FilterCache(3);
  assert.throws(() => c.get("T", "a >", "SQL92"), /SUBSCRIPTION_PARSE_FAILED|parse|expected/i);
  assert.throws(() => c.get("T", "a >", "SQL92"));
  const first = c.get("T", "A", "TAG");
  c.get("T", "B", "TAG");
  c.get("T", "C", "TAG");
  c.get("T", "D", "TAG"); // full: cleared, then D added
  assert.notEqual(c.get("T", "A", "TAG"), first, "rebuilt after the clear");
});
