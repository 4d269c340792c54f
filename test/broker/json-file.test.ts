// State files: written atomically, the previous version kept as a backup that a damaged or missing file falls
// back to.
import { test } from "node:test";
import assert from "node:assert/strict";
import { rmSync, writeFileSync } from "node:fs";
import { JsonFile } from "../../src/broker/json-file.js";
import { nodeFileIO } from "../../src/store/file-io.js";
import { tempDir } from "../support/temp-dir.js";

test("a damaged or missing state file falls back to the version before it", async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const f = new JsonFile<{ v: number }>(nodeFileIO, dir, "state.json");
  assert.equal(f.read(), undefined);
  await f.writeAsync({ v: 1 });
  await f.writeTextAsync(Buffer.from('{"v": 2}'));
  assert.deepEqual(f.read(), { v: 2 });
  writeFileSync(f.path, '{"v": 3, broken');
  assert.deepEqual(f.read(), { v: 1 }, "a torn file: the backup");
  rmSync(f.path);
  assert.deepEqual(f.read(), { v: 1 }, "no file (a crash between the backup and the new file): the backup");
  f.write({ v: 4 });
  assert.deepEqual(f.read(), { v: 4 });
});
