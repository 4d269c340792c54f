// The official RocketMQ 5.x Node.js client's Producer against a SYNC_MASTER: a send is OK once the slave stored it,
// and fails with HA_NOT_AVAILABLE (50002, what the RocketMQ 5 proxy answers) while no slave is in reach, though the
// master stored it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { topicConfig } from "../../../src/common/topic.js";
import { startBroker } from "../../support/broker-fixture.js";
import { quietLogger, rocketmqClient } from "../../support/rocketmq-client.js";

const { client } = rocketmqClient();

async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test("gRPC send to a SYNC_MASTER: OK with its slave, HA_NOT_AVAILABLE without one", async (t) => {
  const master = await startBroker({ brokerRole: "SYNC_MASTER", haHeartbeatIntervalMs: 200 });
  const m = master.server.broker;
  m.createTopic(topicConfig("GRPC_SYNC", 2));
  let slave: Awaited<ReturnType<typeof startBroker>> | undefined = await startBroker({
    brokerId: 1,
    haMasterAddress: `127.0.0.1:${master.server.haPort}`,
    haReconnectMs: 200,
    haHeartbeatIntervalMs: 200,
  });
  const producer = new client.Producer({
    endpoints: master.grpcAddr,
    namespace: "",
    topic: "GRPC_SYNC",
    logger: quietLogger,
    maxAttempts: 1,
  });
  t.after(async () => {
    await producer.shutdown();
    await slave?.stop();
    await master.stop();
  });
  await producer.startup();
  await until(() => m.slaveAcks.slaveCount === 1, 5000, "the slave connected");
  const ok = await producer.send({ topic: "GRPC_SYNC", tag: "T", body: Buffer.from("with a slave") });
  assert.ok(ok.messageId);
  assert.ok(slave.server.broker.store.stats().maxPhyOffset >= m.store.stats().maxPhyOffset);

  await slave.stop();
  slave = undefined;
  await until(() => m.slaveAcks.slaveCount === 0, 5000, "the master saw its slave go");
  await assert.rejects(
    producer.send({ topic: "GRPC_SYNC", tag: "T", body: Buffer.from("alone") }),
    (e: unknown) => (e as { code?: number }).code === 50002,
  );
  assert.equal(m.store.getMaxOffset("GRPC_SYNC", 0) + m.store.getMaxOffset("GRPC_SYNC", 1), 2, "stored both");
});
