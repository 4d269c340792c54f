// Consumer offsets: commit and query, persistence across a reopen, and removal by topic or group touching only
// what it names (lite topics are removed by the thousand, through a per-topic index).
import { test } from "node:test";
import assert from "node:assert/strict";
import { OffsetManager } from "../../src/broker/offset-manager.js";
import { nodeFileIO } from "../../src/store/file-io.js";
import { tempDir } from "../support/temp-dir.js";

test("offsets survive a reopen; removing a topic or a group removes only theirs", async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  let m = new OffsetManager(nodeFileIO, dir);
  m.commit("G1", "T1", 0, 5);
  m.commit("G1", "T1", 1, 7);
  m.commit("G2", "T1", 0, 3);
  m.commit("G1", "T2", 0, 9);
  m.commit("G2", "%LMQ%$T1$s-1", 0, 4);
  m.commit('odd "name"\\', "T3", 2, 11);
  await m.flush();
  m = new OffsetManager(nodeFileIO, dir);
  assert.equal(m.query("G1", "T1", 1), 7);
  assert.equal(m.query("G2", "%LMQ%$T1$s-1", 0), 4);
  assert.equal(m.query('odd "name"\\', "T3", 2), 11, "a name JSON must escape reads back");
  assert.deepEqual(m.groupsOfTopic("T1").sort(), ["G1", "G2"]);
  m.removeTopic("T1");
  assert.equal(m.query("G1", "T1", 0), -1);
  assert.equal(m.query("G2", "T1", 0), -1);
  assert.equal(m.query("G1", "T2", 0), 9, "another topic keeps its offsets");
  assert.equal(m.query("G2", "%LMQ%$T1$s-1", 0), 4, "a topic whose name starts the same keeps them too");
  assert.deepEqual(m.groupsOfTopic("T1"), []);
  m.removeGroup("G1");
  assert.equal(m.query("G1", "T2", 0), -1);
  assert.deepEqual(m.groupsOfTopic("T2"), []);
  m.commit("G1", "T1", 0, 1);
  assert.deepEqual(m.groupsOfTopic("T1"), ["G1"], "a topic removed and used again is indexed again");
  await m.flush();
  m = new OffsetManager(nodeFileIO, dir);
  assert.deepEqual(
    m
      .pairs()
      .map((p) => `${p.topic}@${p.group}`)
      .sort(),
    ["%LMQ%$T1$s-1@G2", "T1@G1", 'T3@odd "name"\\'],
  );
});
