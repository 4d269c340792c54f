// No acknowledged message is lost when the broker process is killed: a real ali-ons 3.12.0 producer sends from
// several loops while the broker (a child process) gets SIGKILL; the broker restarts on the same data and port,
// and an ali-ons consumer then finds every message whose send was acknowledged, body for body.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createNamesrv } from "../../src/namesrv/namesrv.js";
import { startBrokerProcess } from "../support/broker-process.js";
import { freePort } from "../support/free-port.js";
import { tempDir } from "../support/temp-dir.js";
import { closeClients, consumer, producer as onsProducer, sendThroughKill, until } from "./ali-ons-kit.js";

test(
  "ali-ons: SIGKILL of the broker under concurrent sends loses no acknowledged message",
  { timeout: 120_000 },
  async (t) => {
    const { dir, cleanup } = tempDir();
    const ns = createNamesrv({ host: "127.0.0.1", port: 0 });
    await ns.start();
    const nsAddr = `127.0.0.1:${ns.port}`;
    const config = {
      port: await freePort(),
      namesrvAddrs: [nsAddr],
      registerIntervalMs: 1000,
      store: { segmentBytes: 8 * 1024 * 1024 },
    };
    let broker = await startBrokerProcess(dir, config);
    const producer = onsProducer(nsAddr, "PID_CRASH", "crash-p");
    const c = consumer(nsAddr, "GID_CRASH", "crash-c");
    t.after(async () => {
      await closeClients(c, producer);
      await broker.kill();
      await ns.stop();
      cleanup();
    });
    await producer.ready();

    // Eight send loops; the broker is killed while they run. A send that returned SEND_OK is acknowledged.
    const { acked } = await sendThroughKill(producer, "TP_CRASH", 400, () => broker.kill());

    broker = await startBrokerProcess(dir, config);
    const got = new Map<string, number>();
    c.subscribe("TP_CRASH", "*", async (m) => {
      const b = m.body.toString();
      got.set(b, (got.get(b) ?? 0) + 1);
    });
    await c.ready();
    await until(
      () => [...acked].every((b) => got.has(b)),
      60_000,
      "every acknowledged message after the restart",
    );
    assert.ok(acked.size >= 400);
    for (const b of got.keys())
      assert.match(b, /^L\d-\d+-x{200}$/, "nothing but whole messages that were sent");
  },
);
