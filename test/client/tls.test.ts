// TLS on the remoting ports (NameServer and broker), RocketMQ's modes: permissive takes TLS and plaintext on one
// port, enforcing only TLS, and a broker under enforcing registers with its NameServer over TLS itself. Our SDK
// connects over TLS with `tls` (here trusting the broker's own certificate as its CA).
import { test } from "node:test";
import assert from "node:assert/strict";
import { connect } from "node:net";
import { join } from "node:path";
import { Consumer } from "../../src/client/consumer.js";
import { Message } from "../../src/client/message.js";
import { Producer } from "../../src/client/producer.js";
import { topicConfig } from "../../src/common/topic.js";
import { createNamesrv } from "../../src/namesrv/namesrv.js";
import { RemotingClient } from "../../src/protocol/remoting/client.js";
import { createRequest } from "../../src/protocol/remoting/command.js";
import { getRouteInfoByTopic } from "../../src/protocol/remoting/namesrv/namesrv-client.js";
import { RequestCode } from "../../src/protocol/remoting/request-code.js";
import { ResponseCode } from "../../src/protocol/remoting/response-code.js";
import type { TlsMode } from "../../src/protocol/tls-sniff.js";
import { tlsMaterialLoader } from "../../src/server/tls-material.js";
import { startBroker } from "../support/broker-fixture.js";
import { tempDir } from "../support/temp-dir.js";
import { Collector, clientOpts, uniq, waitFor } from "./helpers.js";

/** A NameServer and a broker in one TLS mode, sharing one self-signed pair (as `start` runs them). */
async function tlsCluster(t: { after(f: () => Promise<void>): void }, mode: TlsMode) {
  const { dir, cleanup } = tempDir("rmq-tls-");
  const material = tlsMaterialLoader({ certPath: "", keyPath: "", dir, hosts: [] });
  const ns = createNamesrv({ host: "127.0.0.1", port: 0, autoCreateQueueNums: 4, tls: { mode, material } });
  await ns.start();
  const nameServer = [`127.0.0.1:${ns.port}`];
  const b = await startBroker(
    { namesrvAddrs: nameServer, tlsMode: mode, registerIntervalMs: 200, brokerName: uniq("broker-tls") },
    undefined,
    { tlsMaterial: material },
  );
  t.after(async () => {
    await b.stop();
    await ns.stop();
    cleanup();
  });
  const cert = (await material()).cert;
  return { nameServer, b, cert, certFile: join(dir, "broker.crt") };
}

test("permissive: our SDK over TLS and a plaintext consumer share the NameServer and the broker", async (t) => {
  const { nameServer, b, cert } = await tlsCluster(t, "permissive");
  const topic = uniq("TLS_T");
  b.server.broker.createTopic(topicConfig(topic, 4));
  const producer = new Producer({ ...clientOpts({ nameServer }, uniq("PID")), tls: { ca: cert } });
  const consumer = new Consumer({
    ...clientOpts({ nameServer }, uniq("GID")),
    consumeFromWhere: "FIRST" as const,
    rebalanceIntervalMs: 200,
  });
  t.after(async () => {
    await consumer.shutdown();
    await producer.shutdown();
  });
  await producer.start();
  for (let i = 0; i < 20; i++) await producer.send(new Message(topic, "T", `tls-${i}`));
  const got = new Collector();
  consumer.subscribe(topic, "*", got.listener);
  await consumer.start();
  await got.waitCount(20);
  assert.deepEqual(got.bodies().sort(), Array.from({ length: 20 }, (_, i) => `tls-${i}`).sort());

  // A client that does not trust the certificate is refused by its own TLS layer, not served in plaintext.
  const untrusting = new RemotingClient({ tls: {}, connectTimeoutMs: 2000 });
  t.after(() => untrusting.close());
  await assert.rejects(
    untrusting.invoke(nameServer[0]!, createRequest(RequestCode.GET_BROKER_CLUSTER_INFO), 2000),
    /self-signed certificate|unable to verify/,
  );
});

test("enforcing: plaintext connections are dropped, TLS served; the broker registers over TLS", async (t) => {
  const { nameServer, b, cert } = await tlsCluster(t, "enforcing");
  const topic = uniq("TLS_E");
  b.server.broker.createTopic(topicConfig(topic, 2));
  const secure = new RemotingClient({ tls: { ca: cert } });
  const plain = new RemotingClient({ connectTimeoutMs: 2000 });
  t.after(async () => {
    await secure.close();
    await plain.close();
  });
  // The broker's registration carries the topic: only a broker that reached the NameServer over TLS gets here.
  let route: Awaited<ReturnType<typeof getRouteInfoByTopic>>;
  const end = Date.now() + 5000;
  do route = await getRouteInfoByTopic(secure, nameServer[0]!, topic);
  while (route === undefined && Date.now() < end && (await new Promise((r) => setTimeout(r, 100, true))));
  assert.ok(route, "the broker registered its topic with the enforcing NameServer");
  const res = await secure.invoke(
    b.addr,
    createRequest(RequestCode.GET_MAX_OFFSET, { topic, queueId: "0" }),
    3000,
  );
  assert.equal(res.code, ResponseCode.SUCCESS);
  await assert.rejects(
    plain.invoke(b.addr, createRequest(RequestCode.GET_MAX_OFFSET, { topic, queueId: "0" }), 2000),
  );
  await assert.rejects(
    plain.invoke(nameServer[0]!, createRequest(RequestCode.GET_BROKER_CLUSTER_INFO), 2000),
  );
});

test("enforcing: a slave copies its master over TLS on the HA port; a plaintext peer is dropped there", async (t) => {
  const { nameServer, b: master } = await tlsCluster(t, "enforcing");
  const fast = { registerIntervalMs: 200, haHeartbeatIntervalMs: 200, haReconnectMs: 200 };
  const slave = await startBroker({
    ...fast,
    namesrvAddrs: nameServer,
    tlsMode: "enforcing",
    brokerName: master.server.broker.config.brokerName,
    brokerId: 1,
  });
  t.after(() => slave.stop());
  const topic = uniq("TLS_HA");
  master.server.broker.createTopic(topicConfig(topic, 2));
  // Each broker has a self-signed certificate of its own: this producer trusts any, as RocketMQ clients do.
  const producer = new Producer({
    ...clientOpts({ nameServer }, uniq("PID")),
    tls: { rejectUnauthorized: false },
  });
  t.after(() => producer.shutdown());
  await producer.start();
  for (let i = 0; i < 10; i++) await producer.send(new Message(topic, "T", `ha-${i}`));
  await waitFor(
    () => slave.server.broker.store.stats().maxPhyOffset === master.server.broker.store.stats().maxPhyOffset,
    10_000,
    "the slave's log to catch up over TLS",
  );
  assert.ok(master.server.broker.store.stats().maxPhyOffset > 0);

  const bytes = await new Promise<number>((resolve) => {
    let n = 0;
    const sock = connect({ host: "127.0.0.1", port: master.server.haPort }, () =>
      sock.write(Buffer.alloc(8)),
    );
    setTimeout(() => sock.destroy(), 3000).unref();
    sock.on("data", (d: Buffer) => (n += d.length));
    sock.on("error", () => undefined);
    sock.on("close", () => resolve(n));
  });
  assert.equal(bytes, 0, "a plaintext peer gets nothing from an enforcing HA port");
});

test("a TLS handshake of garbage, or one cut short, closes that connection only; the port serves on", async (t) => {
  const { nameServer, b } = await tlsCluster(t, "permissive");
  for (const port of [
    Number(b.addr.split(":")[1]),
    Number(nameServer[0]!.split(":")[1]),
    b.server.grpcPort,
  ]) {
    for (const bytes of [Buffer.from([0x16, 0x03, 0x01, 0xff, 0xff, 1, 2, 3, 4, 5]), Buffer.from([0x16])]) {
      await new Promise<void>((resolve) => {
        const sock = connect({ host: "127.0.0.1", port }, () => {
          sock.write(bytes);
          // A cut-short handshake: the peer goes away without finishing it.
          if (bytes.length === 1) setTimeout(() => sock.destroy(), 100);
        });
        sock.on("error", () => undefined);
        sock.on("close", () => resolve());
        setTimeout(() => sock.destroy(), 3000).unref();
      });
    }
  }
  const plain = new RemotingClient();
  t.after(() => plain.close());
  const res = await plain.invoke(nameServer[0]!, createRequest(RequestCode.GET_BROKER_CLUSTER_INFO), 3000);
  assert.equal(res.code, ResponseCode.SUCCESS, "the NameServer still answers");
  const topic = uniq("TLS_G");
  b.server.broker.createTopic(topicConfig(topic, 1));
  const max = await plain.invoke(
    b.addr,
    createRequest(RequestCode.GET_MAX_OFFSET, { topic, queueId: "0" }),
    3000,
  );
  assert.equal(max.code, ResponseCode.SUCCESS, "the broker still answers");
});
