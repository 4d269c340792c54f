// The commit log drains from microtasks in async mode, and small batches are written in place: a drain can run
// without ever returning to the event loop while in-process writers append again as soon as they are
// acknowledged. It must still yield, or timers, sockets and stdout starve (the crash test's writer child once
// reported nothing at all).
import { test } from "node:test";
import assert from "node:assert/strict";
import { MessageStore } from "../../src/store/message-store.js";
import { tempDir } from "../support/temp-dir.js";

for (const flushMode of ["async", "sync"] as const) {
  test(`${flushMode} flush: writers that append on every ack do not starve the event loop`, async (t) => {
    const { dir, cleanup } = tempDir();
    const store = MessageStore.open({ dir, flushMode });
    t.after(async () => {
      await store.close();
      cleanup();
    });
    let stop = false;
    let acks = 0;
    const body = Buffer.alloc(200, 7);
    const writer = async (w: number): Promise<void> => {
      while (!stop) {
        await store.putMessage({ topic: "Fair", queueId: w % 4, body });
        acks++;
      }
    };
    const writers = Array.from({ length: 16 }, (_, w) => writer(w));
    const started = performance.now();
    // A timer and a setImmediate must both get their turn while the writers keep appending.
    await new Promise<void>((resolve) => setTimeout(resolve, 20));
    await new Promise<void>((resolve) => setImmediate(resolve));
    const waited = performance.now() - started;
    const acksThen = acks;
    stop = true;
    await Promise.all(writers);
    assert.ok(acksThen > 0, "the writers were appending meanwhile");
    assert.ok(waited < 5_000, `the event loop got a turn after ${waited.toFixed(0)} ms`);
  });
}
