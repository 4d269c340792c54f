// Ordered messages through a SIGKILL, with the official RocketMQ 5.x client: producers send four message groups
// in order, a PushConsumer of a FIFO group consumes them and fails some once, and `start` is killed and restarted
// on the same data and ports mid-run. Each message group must come out in send order: a failed message comes back
// before anything after it in its group, and nothing acknowledged is lost or jumps the queue after the restart.
import { test } from "node:test";
import assert from "node:assert/strict";
import { sleep } from "../client/helpers.js";
import { quietLogger, rocketmqClient } from "../support/rocketmq-client.js";
import { startForCrash } from "../support/start-process.js";
import { until } from "./ali-ons-kit.js";

const TOPIC = "TP_FIFO_CRASH";
const GROUP = "GID_FIFO_CRASH";
const GROUPS = 4;

/** Sequence numbers a listener fails the first time it sees them. */
const failsOnce = (seq: number) => seq % 25 === 7;

test(
  "gRPC FIFO: each message group is consumed in send order through a SIGKILL of `start`, retries in place",
  { timeout: 150_000 },
  async (t) => {
    const run = await startForCrash(t, "rmq-fifo-crash-");
    const { ports, closers } = run;
    const { client: grpc } = rocketmqClient();

    await run.admin("POST", "/topics", { topic: TOPIC, queues: 4, attributes: { "message.type": "FIFO" } });
    await run.admin("PUT", `/groups/${GROUP}`, { fifo: true });

    const endpoints = `127.0.0.1:${ports.grpc}`;
    const producer = new grpc.Producer({ endpoints, namespace: "", topic: TOPIC, logger: quietLogger });
    await producer.startup();
    closers.push(() => producer.shutdown());

    // Per message group: every delivery, and the successful ones, in the order the listener saw them.
    const delivered = Array.from({ length: GROUPS }, () => [] as number[]);
    const consumed = Array.from({ length: GROUPS }, () => [] as number[]);
    const failed = new Set<string>();
    const push = new grpc.PushConsumer({
      endpoints,
      namespace: "",
      consumerGroup: GROUP,
      subscriptions: new Map([[TOPIC, "*"]]),
      logger: quietLogger,
      messageListener: {
        consume: (m) => {
          const [g, seq] = m.body.toString().split(":").map(Number) as [number, number];
          assert.equal(m.messageGroup, `g${g}`);
          delivered[g]!.push(seq);
          if (failsOnce(seq) && !failed.has(`${g}:${seq}`)) {
            failed.add(`${g}:${seq}`);
            return grpc.ConsumeResult.FAILURE;
          }
          consumed[g]!.push(seq);
          return grpc.ConsumeResult.SUCCESS;
        },
      },
    });
    await push.startup();
    closers.push(() => push.shutdown());

    // One sender per message group, one send at a time, so the group's order is the order of acknowledgement.
    const acked = Array.from({ length: GROUPS }, () => 0);
    let stop = false;
    let failedSends = 0;
    const senders = acked.map(async (_, g) => {
      while (!stop) {
        try {
          await producer.send({ topic: TOPIC, messageGroup: `g${g}`, body: Buffer.from(`${g}:${acked[g]}`) });
          acked[g]!++;
        } catch {
          failedSends++; // the process is down or restarting; the same sequence number is sent again
          await sleep(100);
        }
        await sleep(5);
      }
    });

    await until(() => acked.every((n) => n >= 150), 30_000, "sends before the kill");
    await run.kill();
    const ackedBeforeKill = [...acked];
    const consumedBeforeKill = consumed.map((c) => c.length);
    await sleep(1000); // down for a while, not only for the restart's own time
    await run.restart();
    await until(
      () => acked.every((n, g) => n >= ackedBeforeKill[g]! + 100),
      60_000,
      "sends after the restart",
    );
    stop = true;
    await Promise.all(senders);

    const distinct = (g: number) => new Set(consumed[g]).size;
    await until(
      () => acked.every((n, g) => distinct(g) >= n),
      90_000,
      `every acknowledged message consumed (acked ${acked.join()}, consumed ${acked.map((_, g) => distinct(g)).join()})`,
    );
    t.diagnostic(
      `acked ${acked.join()} (before the kill ${ackedBeforeKill.join()}; consumed then ${consumedBeforeKill.join()}), ` +
        `${failedSends} failed sends, ${failed.size} failed once, ` +
        `duplicates ${consumed.map((c, g) => c.length - distinct(g)).join()}`,
    );
    assert.ok(failedSends > 0, "the producer saw the process go away");
    assert.ok(
      consumed.every((c, g) => c.length >= consumedBeforeKill[g]! + 100),
      "each message group was consumed on after the restart",
    );

    for (let g = 0; g < GROUPS; g++) {
      // In consumption order each message is the next one; at least once allows the latest again (its ack may
      // have been cut off by the kill), never an earlier one and never a gap.
      let last = -1;
      for (const seq of consumed[g]!) {
        if (seq === last) continue;
        assert.equal(seq, last + 1, `g${g}: ${seq} consumed after ${last}`);
        last = seq;
      }
      // Through the last acknowledged send; one more only if a send that failed at the end was stored after all.
      assert.ok(
        last === acked[g]! - 1 || last === acked[g],
        `g${g}: consumed through ${last}, acked ${acked[g]}`,
      );
      // A failed message was delivered again before the next one of its group.
      for (const key of failed) {
        const [fg, seq] = key.split(":").map(Number) as [number, number];
        if (fg !== g) continue;
        const d = delivered[g]!;
        const first = d.indexOf(seq);
        const next = d.indexOf(seq + 1);
        assert.ok(first >= 0 && d.indexOf(seq, first + 1) > first, `g${g}: ${seq} delivered again`);
        if (next >= 0)
          assert.ok(d.indexOf(seq, first + 1) < next, `g${g}: ${seq} came back before ${seq + 1}`);
      }
    }
    assert.ok(
      failed.size >= GROUPS * 8,
      `listeners failed messages before and after the kill (${failed.size})`,
    );
  },
);
