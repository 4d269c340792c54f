import { test } from "node:test";
import assert from "node:assert/strict";
import { QueueLockManager } from "../../src/broker/queue-lock-manager.js";
import { RemotingClient } from "../../src/protocol/remoting/client.js";
import { createRequest } from "../../src/protocol/remoting/command.js";
import { RequestCode } from "../../src/protocol/remoting/request-code.js";
import { ResponseCode } from "../../src/protocol/remoting/response-code.js";
import { startBroker } from "../support/broker-fixture.js";

const q = (queueId: number) => ({ topic: "T", brokerName: "broker-a", queueId });

test("a queue lease is exclusive, renewable, released by unlock, and taken over only after it expires", () => {
  const m = new QueueLockManager(60_000);
  assert.deepEqual(m.tryLock("G", "c1", [q(0), q(1)], 0), [q(0), q(1)]);
  assert.deepEqual(m.tryLock("G", "c2", [q(0), q(1), q(2)], 1000), [q(2)], "c2 gets only the free queue");
  assert.deepEqual(m.tryLock("G", "c1", [q(0)], 50_000), [q(0)], "the owner renews");
  assert.deepEqual(m.tryLock("G", "c2", [q(0)], 100_000), [], "renewed at 50 s, still held at 100 s");
  assert.deepEqual(m.tryLock("G", "c2", [q(1)], 61_001), [q(1)], "q1 was not renewed: its lease expired");
  m.unlock("G", "c1", [q(0)]);
  assert.equal(m.owner("G", q(0), 100_000), undefined);
  assert.deepEqual(m.tryLock("G", "c2", [q(0)], 100_000), [q(0)]);
  assert.deepEqual(m.tryLock("OtherGroup", "c1", [q(0)], 100_000), [q(0)], "leases are per group");
});

test("LOCK_BATCH_MQ and UNLOCK_BATCH_MQ over remoting", async (t) => {
  const b = await startBroker();
  const client = new RemotingClient();
  t.after(async () => {
    client.close();
    await b.stop();
  });
  const lock = (clientId: string, ids: number[]) =>
    client.invoke(
      b.addr,
      createRequest(
        RequestCode.LOCK_BATCH_MQ,
        {},
        Buffer.from(
          JSON.stringify({ consumerGroup: "OG", clientId, onlyThisBroker: true, mqSet: ids.map(q) }),
        ),
      ),
      3000,
    );
  const r1 = await lock("c1", [0, 1]);
  assert.equal(r1.code, ResponseCode.SUCCESS);
  assert.deepEqual(JSON.parse(r1.body!.toString()).lockOKMQSet, [q(0), q(1)]);
  const r2 = await lock("c2", [1, 2]);
  assert.deepEqual(JSON.parse(r2.body!.toString()).lockOKMQSet, [q(2)]);
  const un = await client.invoke(
    b.addr,
    createRequest(
      RequestCode.UNLOCK_BATCH_MQ,
      {},
      Buffer.from(JSON.stringify({ consumerGroup: "OG", clientId: "c1", mqSet: [q(1)] })),
    ),
    3000,
  );
  assert.equal(un.code, ResponseCode.SUCCESS);
  const r3 = await lock("c2", [1]);
  assert.deepEqual(JSON.parse(r3.body!.toString()).lockOKMQSet, [q(1)]);
  const bad = await client.invoke(
    b.addr,
    createRequest(RequestCode.LOCK_BATCH_MQ, {}, Buffer.from("[1,2")),
    3000,
  );
  assert.equal(bad.code, ResponseCode.MESSAGE_ILLEGAL);
});
