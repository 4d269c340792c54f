import { test } from "node:test";
import assert from "node:assert/strict";
import {
  closeSync,
  openSync,
  readdirSync,
  readSync,
  statSync,
  truncateSync,
  unlinkSync,
  writeSync,
  rmSync,
} from "node:fs";
import { join } from "node:path";
import { MessageStore } from "../../src/store/message-store.js";
import { decodeRecord } from "../../src/common/message-record.js";
import { encodeProperties } from "../../src/common/properties.js";
import { tempDir } from "../support/temp-dir.js";

const cfg = {
  segmentBytes: 128 * 1024,
  maxMessageBytes: 32 * 1024,
  queueEntriesPerFile: 40,
  indexSlotNum: 64,
};

async function fill(dir: string, n: number): Promise<{ phy: number; size: number; body: string }[]> {
  const store = MessageStore.open({ dir, ...cfg });
  const out = await Promise.all(
    Array.from({ length: n }, (_, i) =>
      store
        .putMessage({
          topic: "Cor",
          queueId: i % 2,
          body: Buffer.from(`body-${i}-${"z".repeat(i % 300)}`),
          properties: encodeProperties({ KEYS: `key${i}` }),
        })
        .then((r) => ({ phy: r.phyOffset, size: r.size, body: `body-${i}-${"z".repeat(i % 300)}` })),
    ),
  );
  await store.close();
  return out.sort((a, b) => a.phy - b.phy);
}

function bodies(store: MessageStore): string[] {
  const all: { phy: number; body: string }[] = [];
  for (const q of store.queueIds("Cor")) {
    let off = store.getMinOffset("Cor", q);
    for (;;) {
      const r = store.getMessages("Cor", q, off, 64);
      if (r.status !== "FOUND") break;
      for (const m of r.messages) {
        const rec = decodeRecord(m);
        all.push({ phy: rec.physicalOffset, body: rec.body.toString() });
      }
      off = r.nextBeginOffset;
    }
  }
  return all.sort((a, b) => a.phy - b.phy).map((x) => x.body);
}

function lastSegment(dir: string): string {
  const names = readdirSync(join(dir, "commitlog")).sort();
  return join(dir, "commitlog", names[names.length - 1]!);
}

test("a flipped byte in the last record is detected; the record is dropped and the rest served", async (t) => {
  const { dir, cleanup } = tempDir();
  const sent = await fill(dir, 500);
  const last = sent[sent.length - 1]!;
  const seg = lastSegment(dir);
  const segBase = Number(seg.slice(-20));
  const fd = openSync(seg, "r+");
  const pos = last.phy - segBase + last.size - 40; // inside the body
  const b = Buffer.alloc(1);
  readSync(fd, b, 0, 1, pos);
  b[0] = b[0]! ^ 0xff;
  writeSync(fd, b, 0, 1, pos);
  closeSync(fd);

  const store = MessageStore.open({ dir, ...cfg });
  t.after(async () => {
    await store.close();
    cleanup();
  });
  assert.match(store.recovery.stoppedBecause ?? "", /CRC/);
  assert.equal(store.recovery.end, last.phy);
  assert.deepEqual(
    bodies(store),
    sent.slice(0, -1).map((s) => s.body),
  );
  assert.equal(store.queryByKey("Cor", "key499").length, 0, "the index forgets the dropped record");
  // Appends continue where the valid data ends, with the queue offset the dropped record had.
  const q = decodeRecordQueue(sent, last);
  const r = await store.putMessage({ topic: "Cor", queueId: q.queueId, body: Buffer.from("again") });
  assert.equal(r.phyOffset, last.phy);
  assert.equal(r.queueOffset, q.queueOffset);
});

function decodeRecordQueue(_sent: unknown, last: { body: string }): { queueId: number; queueOffset: number } {
  const i = Number(last.body.split("-")[1]);
  return { queueId: i % 2, queueOffset: Math.floor(i / 2) };
}

test("a tail truncated mid-record is cut back to the last whole record", async (t) => {
  const { dir, cleanup } = tempDir();
  const sent = await fill(dir, 300);
  const last = sent[sent.length - 1]!;
  const seg = lastSegment(dir);
  const segBase = Number(seg.slice(-20));
  truncateSync(seg, last.phy - segBase + Math.floor(last.size / 2));
  const store = MessageStore.open({ dir, ...cfg });
  t.after(async () => {
    await store.close();
    cleanup();
  });
  assert.equal(store.recovery.end, last.phy);
  assert.deepEqual(
    bodies(store),
    sent.slice(0, -1).map((s) => s.body),
  );
  assert.equal(statSync(seg).size, last.phy - segBase, "the torn bytes are gone from the file");
});

test("a deleted consume-queue file is noticed and the queues are rebuilt from the commit log", async (t) => {
  const { dir, cleanup } = tempDir();
  const sent = await fill(dir, 400);
  const qdir = join(dir, "consumequeue", "Cor", "0");
  const files = readdirSync(qdir).sort();
  assert.ok(files.length >= 3, "several consume-queue files");
  unlinkSync(join(qdir, files[1]!)); // a middle file
  unlinkSync(
    join(
      dir,
      "consumequeue",
      "Cor",
      "1",
      readdirSync(join(dir, "consumequeue", "Cor", "1"))
        .sort()
        .pop()!,
    ),
  ); // a last file
  const store = MessageStore.open({ dir, ...cfg });
  t.after(async () => {
    await store.close();
    cleanup();
  });
  assert.equal(store.recovery.rebuiltQueues, true);
  assert.deepEqual(
    bodies(store),
    sent.map((s) => s.body),
  );
  assert.equal(store.getMaxOffset("Cor", 0), 200);
  assert.equal(store.getMaxOffset("Cor", 1), 200);
});

test("a whole consume-queue folder deleted is rebuilt too", async (t) => {
  const { dir, cleanup } = tempDir();
  const sent = await fill(dir, 100);
  rmSync(join(dir, "consumequeue"), { recursive: true });
  const store = MessageStore.open({ dir, ...cfg });
  t.after(async () => {
    await store.close();
    cleanup();
  });
  assert.equal(store.recovery.rebuiltQueues, true);
  assert.deepEqual(
    bodies(store),
    sent.map((s) => s.body),
  );
});

test("a deleted key index is rebuilt from the commit log", async (t) => {
  const { dir, cleanup } = tempDir();
  await fill(dir, 200);
  rmSync(join(dir, "index"), { recursive: true });
  const store = MessageStore.open({ dir, ...cfg });
  t.after(async () => {
    await store.close();
    cleanup();
  });
  assert.equal(store.recovery.rebuiltIndex, true);
  for (const i of [0, 77, 199]) {
    const found = store.queryByKey("Cor", `key${i}`);
    assert.equal(found.length, 1);
    assert.ok(found[0]!.body.toString().startsWith(`body-${i}-`));
  }
});

test("garbage appended after the last record (a zero-filled or random tail) is truncated", async (t) => {
  const { dir, cleanup } = tempDir();
  const sent = await fill(dir, 50);
  const seg = lastSegment(dir);
  const size = statSync(seg).size;
  const fd = openSync(seg, "r+");
  writeSync(fd, Buffer.alloc(4096, 0), 0, 4096, size);
  writeSync(fd, Buffer.from("not a record at all, just noise"), 0, 31, size + 4096);
  closeSync(fd);
  const store = MessageStore.open({ dir, ...cfg });
  t.after(async () => {
    await store.close();
    cleanup();
  });
  assert.equal(store.recovery.end, sent[sent.length - 1]!.phy + sent[sent.length - 1]!.size);
  assert.deepEqual(
    bodies(store),
    sent.map((s) => s.body),
  );
});

test("sync mode: segment files are extended to full size; reopening cuts the sparse tail back", async (t) => {
  const { dir, cleanup } = tempDir();
  const syncCfg = { dir, ...cfg, flushMode: "sync" as const };
  const first = MessageStore.open(syncCfg);
  const sent: { phy: number; size: number; body: string }[] = [];
  // About 2.5 segments, so a full segment, its blank and a second extended file are all involved.
  for (let i = 0; i < 700; i++) {
    const body = `sync-${i}-${"y".repeat(400)}`;
    const r = await first.putMessage({ topic: "Cor", queueId: i % 2, body: Buffer.from(body) });
    sent.push({ phy: r.phyOffset, size: r.size, body });
  }
  const files = readdirSync(join(dir, "commitlog")).sort();
  assert.ok(files.length >= 3, `expected several segments, got ${files.length}`);
  for (const f of files) assert.equal(statSync(join(dir, "commitlog", f)).size, cfg.segmentBytes, f);
  const end = sent[sent.length - 1]!.phy + sent[sent.length - 1]!.size;
  // crash.test.ts kills a sync-mode writer mid-stream; here the sparse tail itself is checked.
  await first.close();
  const second = MessageStore.open(syncCfg);
  t.after(async () => {
    await second.close();
    cleanup();
  });
  assert.equal(second.recovery.end, end);
  assert.equal(statSync(join(dir, "commitlog", files[files.length - 1]!)).size, end - Number(files.at(-1)));
  const next = await second.putMessage({ topic: "Cor", queueId: 0, body: Buffer.from("after") });
  assert.equal(next.phyOffset, end);
  assert.deepEqual(bodies(second), [...sent.map((s) => s.body), "after"]);
});
