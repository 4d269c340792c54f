// Transactions through a SIGKILL, with the official RocketMQ 5.x client: half messages the producer never resolved
// survive the kill, and after the restart the broker checks them back with the producer over its new telemetry
// stream; the checker's commits reach a consumer and its rollbacks never do.
import { test } from "node:test";
import assert from "node:assert/strict";
import { sleep } from "../client/helpers.js";
import { quietLogger, rocketmqClient, startSimpleConsumer } from "../support/rocketmq-client.js";
import { startForCrash } from "../support/start-process.js";

const TOPIC = "TP_TX_CRASH";

test(
  "gRPC transactions: unresolved half messages are checked back after a SIGKILL of `start`; commits arrive, rollbacks not",
  { timeout: 120_000 },
  async (t) => {
    const run = await startForCrash(t, "rmq-tx-crash-");
    const { ports, closers } = run;
    const { client: grpc, pb } = rocketmqClient();
    await run.admin("POST", "/topics", {
      topic: TOPIC,
      queues: 4,
      attributes: { "message.type": "TRANSACTION" },
    });

    const endpoints = `127.0.0.1:${ports.grpc}`;
    const checked: string[] = [];
    const producer = new grpc.Producer({
      endpoints,
      namespace: "",
      topic: TOPIC,
      logger: quietLogger,
      checker: {
        check: (m) => {
          const body = m.body.toString();
          checked.push(body);
          return Promise.resolve(
            body.startsWith("commit") ? pb.TransactionResolution.COMMIT : pb.TransactionResolution.ROLLBACK,
          );
        },
      },
    });
    await producer.startup();
    closers.push(() => producer.shutdown());

    const bodies = Array.from({ length: 10 }, (_, i) => `${i % 2 === 0 ? "commit" : "rollback"}-${i}`);
    for (const body of bodies)
      await producer.send({ topic: TOPIC, body: Buffer.from(body) }, producer.beginTransaction());
    assert.deepEqual(checked, [], "nothing was checked before the kill");
    await run.kill();
    await sleep(1000);
    await run.restart();

    const consumer = await startSimpleConsumer(endpoints, "GID_TX_CRASH", { [TOPIC]: "*" });
    closers.push(() => consumer.shutdown());
    const got: string[] = [];
    const end = Date.now() + 60_000;
    while (got.length < 5 && Date.now() < end) {
      for (const m of await consumer.receive(32, 15_000)) {
        got.push(m.body.toString());
        await consumer.ack(m);
      }
    }
    const commits = bodies.filter((b) => b.startsWith("commit"));
    assert.deepEqual(got.sort(), commits.sort(), "every committed half message, once");
    // Every half message was checked, and the rolled-back ones stay out: look again after the last check.
    const checksDone = Date.now() + 30_000;
    while (new Set(checked).size < bodies.length && Date.now() < checksDone) await sleep(100);
    assert.deepEqual([...new Set(checked)].sort(), [...bodies].sort());
    await sleep(2000);
    for (const m of await consumer.receive(32, 15_000)) got.push(m.body.toString());
    assert.deepEqual(got.sort(), commits.sort(), "no rolled-back message is ever delivered");
  },
);
