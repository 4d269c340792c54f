import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { MessageStore } from "../../src/store/message-store.js";
import { decodeRecord } from "../../src/common/message-record.js";
import { crashBody, crashSegmentBytes, parseCrashBody } from "./fixtures/crash-body.js";
import { tempDir } from "../support/temp-dir.js";

const child = fileURLToPath(new URL("./fixtures/crash-writer.js", import.meta.url));

interface Ack {
  w: number;
  seq: number;
  queueId: number;
  queueOffset: number;
  phy: number;
}

/** Runs the writer child until it has reported `minAcks` appends (and a little longer), then SIGKILLs it. */
function runAndKill(dir: string, mode: string, minAcks: number, firstWriter = 0): Promise<Ack[]> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [child, dir, mode, "48", String(firstWriter)], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    const acks: Ack[] = [];
    let buf = "";
    let killed = false;
    const timer = setTimeout(() => {
      p.kill("SIGKILL");
      reject(new Error(`child made only ${acks.length} acks in time`));
    }, 20_000);
    p.stdout.on("data", (d: Buffer) => {
      buf += d.toString();
      let nl: number;
      while ((nl = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        const m = /^ack (\d+) (\d+) (\d+) (\d+) (\d+)$/.exec(line);
        if (m) {
          acks.push({ w: +m[1]!, seq: +m[2]!, queueId: +m[3]!, queueOffset: +m[4]!, phy: +m[5]! });
        }
      }
      if (!killed && acks.length >= minAcks) {
        killed = true;
        // Let it run a few more milliseconds so the kill lands mid-write.
        setTimeout(() => p.kill("SIGKILL"), 7);
      }
    });
    p.on("exit", (_code, signal) => {
      clearTimeout(timer);
      if (signal !== "SIGKILL") reject(new Error(`child exited by itself (${signal})`));
      else resolve(acks);
    });
  });
}

function topicOf(w: number): string {
  return w % 3 === 0 ? "C".repeat(140) : `Crash${w % 3}`;
}

async function verify(dir: string, acks: Ack[], mode: string): Promise<void> {
  const store = MessageStore.open({
    dir,
    segmentBytes: crashSegmentBytes(mode),
    maxMessageBytes: 64 * 1024,
    queueEntriesPerFile: 100,
    indexSlotNum: 128,
  });
  try {
    assert.equal(store.recovery.aborted, true, "the abort marker shows the kill");
    // Every acknowledged append is there, byte for byte, at the offsets it was given.
    for (const a of acks) {
      const raw = store.readAt(a.phy);
      assert.ok(raw, `acked record at ${a.phy} is missing`);
      const rec = decodeRecord(raw);
      assert.equal(rec.topic, topicOf(a.w));
      assert.equal(rec.queueId, a.queueId);
      assert.equal(rec.queueOffset, a.queueOffset);
      assert.ok(rec.body.equals(crashBody(a.w, a.seq)), `body of w${a.w}s${a.seq} differs`);
      const viaQueue = store.getMessages(rec.topic, a.queueId, a.queueOffset, 1);
      assert.equal(viaQueue.status, "FOUND");
      assert.ok(viaQueue.messages[0]!.equals(raw));
    }
    // Nothing else is there: every queue is contiguous and every record in it is a whole message the child
    // appended (acked or not yet acked when killed), with no gaps, garbage or duplicates.
    const seen = new Set<string>();
    let total = 0;
    for (const topic of store.topics()) {
      for (const q of store.queueIds(topic)) {
        let off = store.getMinOffset(topic, q);
        assert.equal(off, 0);
        const max = store.getMaxOffset(topic, q);
        while (off < max) {
          const r = store.getMessages(topic, q, off, 64);
          assert.equal(r.status, "FOUND");
          for (let i = 0; i < r.messages.length; i++) {
            const rec = decodeRecord(r.messages[i]!);
            assert.equal(r.offsets[i], off + i, "queue offsets are contiguous");
            assert.equal(rec.queueOffset, off + i);
            if (rec.body.toString() === "after") continue; // appended by an earlier verify
            const id = parseCrashBody(rec.body);
            assert.ok(id, "record body is one the child wrote");
            assert.ok(rec.body.equals(crashBody(id.w, id.seq)));
            const key = `${id.w}/${id.seq}`;
            assert.ok(!seen.has(key), `duplicate ${key}`);
            seen.add(key);
            total++;
          }
          off = r.nextBeginOffset;
        }
      }
    }
    assert.ok(total >= acks.length);
    for (const a of acks) assert.ok(seen.has(`${a.w}/${a.seq}`));
    // Each writer's messages are a prefix of its sequence: an unacked message may be missing only at the end.
    const perWriter = new Map<number, number[]>();
    for (const k of seen) {
      const [w, s] = k.split("/").map(Number) as [number, number];
      const l = perWriter.get(w) ?? [];
      l.push(s);
      perWriter.set(w, l);
    }
    for (const [w, seqs] of perWriter) {
      seqs.sort((a, b) => a - b);
      seqs.forEach((s, i) => assert.equal(s, i, `writer ${w} has a hole before seq ${s}`));
    }
    // The store takes appends again after recovery, continuing every queue's offsets.
    const r = await store.putMessage({ topic: "Crash1", queueId: 1, body: Buffer.from("after") });
    assert.equal(r.queueOffset, store.getMaxOffset("Crash1", 1) - 1);
    assert.equal(store.queryByKey(topicOf(acks[0]!.w), `w${acks[0]!.w}s${acks[0]!.seq}`).length, 1);
  } finally {
    await store.close();
  }
}

// The "-batch" modes append with putMessages: a kill mid-batch may keep a prefix of an unacknowledged batch (whole
// records only), never a record of an acknowledged batch less.
// "async-pipelined" keeps many appends in flight, so big batches go through the batch writer thread.
for (const mode of ["async", "sync", "async-batch", "sync-batch", "async-pipelined"]) {
  test(`SIGKILL during ${mode}-flush appends loses no acknowledged record and leaves no garbage`, async (t) => {
    const { dir, cleanup } = tempDir();
    t.after(cleanup);
    const acks = await runAndKill(dir, mode, 4000);
    assert.ok(acks.length >= 4000);
    await verify(dir, acks, mode);
    // A second kill on top of the recovered store.
    const more = await runAndKill(dir, mode, 2000, 100);
    await verify(dir, [...acks, ...more], mode);
  });
}
