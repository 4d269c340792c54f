// The three referee clients at once through a crash: `start` runs as a user runs it (a child process with the
// NameServer, remoting, gRPC and HTTP in one), ali-ons, the official gRPC client and the HTTP SDK each produce to
// one topic and each consume it in a group of their own, and the process gets SIGKILL in the middle. It restarts
// on the same data and ports; every send any of them saw acknowledged, delayed and timed ones included, then
// reaches all three groups, and the messages a listener failed once come back with their reconsume count. (A gRPC
// receipt the kill left unacknowledged comes back once its invisible time is over, as in RocketMQ 5, so that
// group can take some 30 s longer than the others.)
import { test } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import type { HttpSdk, HttpSdkError } from "./mq-http-sdk.js";
import { sleep } from "../client/helpers.js";
import { quietLogger, rocketmqClient } from "../support/rocketmq-client.js";
import { startForCrash } from "../support/start-process.js";
import { closeClients, consumer, ons, producer, until } from "./ali-ons-kit.js";

const require = createRequire(import.meta.url);
const sdk = require("@aliyunmq/mq-http-sdk") as HttpSdk;
const TOPIC = "TP_TRIO";

test(
  "ali-ons, gRPC and HTTP clients through a SIGKILL of `start`: every acknowledged message reaches every group",
  { timeout: 150_000 },
  async (t) => {
    // A message the broker handed to the HTTP consumer just before the kill, whose answer never reached it,
    // comes back after the HTTP invisible time: 5 minutes by default, 10 s here.
    const run = await startForCrash(t, "rmq-trio-", ["--http-invisible-seconds", "10"]);
    const { ports, closers } = run;
    const { client: grpc } = rocketmqClient();
    await run.admin("POST", "/topics", { topic: TOPIC, queues: 4 });

    // Each group's deliveries by key, and the reconsume counts of redeliveries.
    const got = {
      ons: new Map<string, number>(),
      grpc: new Map<string, number>(),
      http: new Map<string, number>(),
    };
    const redelivered = { ons: new Map<string, number>(), grpc: new Map<string, number>() };
    // side:key -> when the listener failed it.
    const failedOnce = new Map<string, number>();
    const count = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1);

    const nsAddr = `127.0.0.1:${ports.namesrv}`;
    const onsConsumer = consumer(nsAddr, "GID_TRIO_ONS", "trio-c");
    closers.push(() => closeClients(onsConsumer));
    // Keys ending in 7 fail once on the remoting side, keys ending in 3 on the gRPC side.
    onsConsumer.subscribe(TOPIC, "*", async (m) => {
      const key = typeof m.keys === "string" ? m.keys : (m.keys[0] ?? "");
      if (m.reconsumeTimes > 0) redelivered.ons.set(key, m.reconsumeTimes);
      if (key.endsWith("7") && !failedOnce.has(`ons:${key}`)) {
        failedOnce.set(`ons:${key}`, Date.now());
        throw new Error("fails once");
      }
      count(got.ons, key);
    });
    await onsConsumer.ready();

    const grpcEndpoint = `127.0.0.1:${ports.grpc}`;
    const push = new grpc.PushConsumer({
      endpoints: grpcEndpoint,
      namespace: "",
      consumerGroup: "GID_TRIO_GRPC",
      subscriptions: new Map([[TOPIC, "*"]]),
      logger: quietLogger,
      messageListener: {
        consume: async (m) => {
          const key = m.keys[0] ?? "";
          const attempt = m.deliveryAttempt ?? 1;
          if (attempt > 1) redelivered.grpc.set(key, attempt);
          if (key.endsWith("3") && !failedOnce.has(`grpc:${key}`)) {
            failedOnce.set(`grpc:${key}`, Date.now());
            return grpc.ConsumeResult.FAILURE;
          }
          count(got.grpc, key);
          return grpc.ConsumeResult.SUCCESS;
        },
      },
    });
    await push.startup();
    closers.push(() => push.shutdown());

    const http = new sdk.MQClient(`http://127.0.0.1:${ports.http}`, "ak", "sk");
    const httpConsumer = http.getConsumer("", TOPIC, "GID_TRIO_HTTP");
    let polling = true;
    let httpErrors = 0;
    const poller = (async () => {
      while (polling) {
        try {
          const ms = (await httpConsumer.consumeMessage(16, 1)).body;
          for (const m of ms) count(got.http, m.MessageKey ?? "");
          await httpConsumer.ackMessage(ms.map((m) => m.ReceiptHandle));
        } catch (e) {
          if ((e as HttpSdkError).Code !== "MessageNotExist") {
            httpErrors++; // the process is down or restarting
            await sleep(200);
          }
        }
      }
    })();
    closers.push(async () => {
      polling = false;
      await poller;
    });

    const onsProducer = producer(nsAddr, "PID_TRIO", "trio-p");
    await onsProducer.ready();
    closers.push(() => closeClients(onsProducer));
    const grpcProducer = new grpc.Producer({ endpoints: grpcEndpoint, namespace: "", logger: quietLogger });
    await grpcProducer.startup();
    closers.push(() => grpcProducer.shutdown());
    const httpProducer = http.getProducer("", TOPIC);

    const acked = new Set<string>();
    // Milliseconds from the restart to each client's first acknowledged send.
    const firstAfterRestart = new Map<string, number>();
    let restartedAt = 0;
    let failedSends = 0;
    let stop = false;
    const send = async (kind: "r" | "g" | "h", i: number): Promise<void> => {
      const key = `${kind}-${i}`;
      const body = Buffer.from(`${key} ${"x".repeat(100)}`);
      if (kind === "r") {
        const m = new ons.Message(TOPIC, "TagR", body);
        m.keys = [key];
        // Delay level 3 (10 s): sent before the kill, due after the restart.
        if (i % 40 === 0) m.delayTimeLevel = 3;
        const r = await onsProducer.send(m);
        if (r.sendStatus !== "SEND_OK") throw new Error(r.sendStatus);
      } else if (kind === "g") {
        await grpcProducer.send({ topic: TOPIC, tag: "TagG", keys: [key], body });
      } else {
        const props = new sdk.MessageProperties();
        props.messageKey(key);
        if (i % 40 === 1) props.startDeliverTime(Date.now() + 8000);
        await httpProducer.publishMessage(body.toString(), "TagH", props);
      }
      acked.add(key);
      if (restartedAt > 0 && !firstAfterRestart.has(kind))
        firstAfterRestart.set(kind, Date.now() - restartedAt);
    };
    const kinds = ["r", "g", "h"] as const;
    const loops = kinds.map(async (kind) => {
      for (let i = 0; !stop; i++) {
        try {
          await send(kind, i);
        } catch {
          failedSends++;
          await sleep(100);
        }
        await sleep(5);
      }
    });

    const ackedOf = (kind: string, from?: Set<string>) =>
      [...acked].filter((k) => k.startsWith(`${kind}-`) && !from?.has(k)).length;
    await until(() => kinds.every((k) => ackedOf(k) >= 150), 30_000, "each client's sends before the kill");
    const killedAt = Date.now();
    await run.kill();
    const beforeKill = new Set(acked);
    await run.restart();
    restartedAt = Date.now();
    await until(
      () => kinds.every((k) => ackedOf(k, beforeKill) >= 100),
      60_000,
      "each client's sends after the restart",
    );
    stop = true;
    await Promise.all(loops);

    const sendsEnded = Date.now();
    const missing = (m: Map<string, number>) => [...acked].filter((k) => !m.has(k));
    // Milliseconds from the last send until each group had everything.
    const complete = new Map<string, number>();
    await until(
      () => {
        for (const [name, m] of Object.entries(got))
          if (!complete.has(name) && missing(m).length === 0) complete.set(name, Date.now() - sendsEnded);
        return complete.size === 3;
      },
      90_000,
      "every acknowledged message in every group",
    ).catch((e: Error) => {
      const show = (m: Map<string, number>) => `${missing(m).length} (${missing(m).slice(0, 5).join(",")})`;
      const detail = `missing ons ${show(got.ons)}, grpc ${show(got.grpc)}, http ${show(got.http)}`;
      throw new Error(`${e.message}: ${detail}; ${acked.size} acknowledged, ${failedSends} failed sends`);
    });

    t.diagnostic(
      `${acked.size} acknowledged (${beforeKill.size} before the kill), ${failedSends} failed sends, ` +
        `restart ${restartedAt - killedAt} ms, first sends after it ${JSON.stringify(Object.fromEntries(firstAfterRestart))} ms, ` +
        `after-restart phase ${sendsEnded - restartedAt} ms, groups complete ${JSON.stringify(Object.fromEntries(complete))} ms after the last send`,
    );
    assert.ok(httpErrors > 0 || failedSends > 0, "the clients saw the process go away");
    // A failure the kill cut short (the listener failed, the client could not tell the broker) ends as a plain
    // redelivery; the ones failed after the restart must come back as retries.
    for (const [side, suffix, min] of [
      ["ons", "7", 1],
      ["grpc", "3", 2],
    ] as const) {
      const failed = [...acked].filter(
        (k) => k.endsWith(suffix) && (failedOnce.get(`${side}:${k}`) ?? 0) > restartedAt,
      );
      assert.ok(failed.length > 5, `${side}: listeners failed some messages after the restart`);
      for (const k of failed) {
        const n = redelivered[side].get(k);
        assert.ok(n !== undefined && n >= min, `${side}: ${k} came back carrying its reconsume count (${n})`);
      }
    }
    // Whatever arrived is something that was sent: no record torn by the kill reached a listener.
    for (const m of [got.ons, got.grpc, got.http]) for (const k of m.keys()) assert.match(k, /^[rgh]-\d+$/);
  },
);
