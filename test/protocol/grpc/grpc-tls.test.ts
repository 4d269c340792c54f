// TLS on the gRPC port, in RocketMQ's three modes. Permissive (the default) serves plaintext and TLS on one port:
// the official client with `sslEnabled` (which verifies the certificate, so the test trusts the broker's own
// self-signed one through grpc-js's GRPC_DEFAULT_SSL_ROOTS_FILE_PATH, see grpc-tls-roots.ts) and without it,
// against one broker.
// Enforcing drops plaintext connections; disabled has no TLS. A configured key and certificate that cannot be
// read stop the start.
import { ROOTS_FILE } from "../../support/grpc-tls-roots.js";
import { test } from "node:test";
import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { copyFileSync, existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { connect } from "node:tls";
import type { PeerCertificate } from "node:tls";
import * as grpc from "@grpc/grpc-js";
import { topicConfig } from "../../../src/common/topic.js";
import { loadTlsMaterial } from "../../../src/server/tls-material.js";
import { startBroker } from "../../support/broker-fixture.js";
import { RawClient } from "../../support/grpc-raw-client.js";
import type { RawStatus } from "../../support/grpc-raw-client.js";
import { quietLogger, receiveN, rocketmqClient, startSimpleConsumer } from "../../support/rocketmq-client.js";
import { tempDir } from "../../support/temp-dir.js";

const { client } = rocketmqClient();

/** A TLS handshake that, like the RocketMQ 5 Java client, trusts any certificate; resolves with the peer's. */
function handshake(port: number): Promise<PeerCertificate> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: "127.0.0.1", port, rejectUnauthorized: false, ALPNProtocols: ["h2"] }, () => {
      const cert = s.getPeerCertificate();
      s.destroy();
      resolve(cert);
    });
    s.on("error", reject);
  });
}

test("permissive (default): the official client over TLS and over plaintext on the same port", async (t) => {
  const b = await startBroker();
  const clients: Array<{ shutdown(): Promise<void> }> = [];
  t.after(async () => {
    for (const c of clients) await c.shutdown();
    await b.stop();
  });
  const port = Number(b.grpcAddr.split(":")[1]);
  const certFile = join(b.dataDir, "tls", "broker.crt");
  assert.ok(!existsSync(certFile), "no certificate is made before a TLS client comes");
  const peer = await handshake(port);
  const kept = new X509Certificate(readFileSync(certFile));
  assert.equal(peer.fingerprint256, kept.fingerprint256, "the broker serves the self-signed pair it kept");
  assert.match(kept.subjectAltName ?? "", /IP Address:127\.0\.0\.1/);

  b.server.broker.createTopic(topicConfig("TlsTopic", 2));
  copyFileSync(certFile, ROOTS_FILE);
  const producer = new client.Producer({
    endpoints: b.grpcAddr,
    namespace: "",
    sslEnabled: true,
    logger: quietLogger,
  });
  await producer.startup();
  clients.push(producer);
  const sent = await producer.send({ topic: "TlsTopic", tag: "T", body: Buffer.from("over TLS") });
  assert.ok(sent.messageId);
  const consumer = await startSimpleConsumer(b.grpcAddr, "GID_TLS", { TlsTopic: "*" });
  clients.push(consumer);
  const got = await receiveN(consumer, 1, 10_000, 15_000);
  assert.equal(got[0]?.body.toString(), "over TLS", "sent over TLS, received over plaintext");
  await consumer.ack(got[0]!);
});

test("enforcing: TLS with a configured pair is served, plaintext is dropped", async (t) => {
  const { dir, cleanup } = tempDir("rmq-tls-");
  t.after(cleanup);
  // A pair of the user's own, made where the broker would not look for its self-signed one.
  const pair = await loadTlsMaterial({ certPath: "", keyPath: "", dir, hosts: [] });
  const b = await startBroker({
    tlsMode: "enforcing",
    tlsCertPath: join(dir, "broker.crt"),
    tlsKeyPath: join(dir, "broker.key"),
  });
  t.after(() => b.stop());
  const secure = new RawClient(b.grpcAddr, undefined, grpc.credentials.createSsl(pair.cert));
  const plain = new RawClient(b.grpcAddr);
  t.after(() => {
    secure.close();
    plain.close();
  });
  b.server.broker.createTopic(topicConfig("TlsOnly", 2));
  const ok = await secure.unary<{ status: RawStatus }>("QueryRoute", { topic: { name: "TlsOnly" } });
  assert.equal(ok.status.code, "OK");
  await assert.rejects(
    plain.unary("QueryRoute", { topic: { name: "TlsOnly" } }, 3000),
    (e: grpc.ServiceError) => e.code === grpc.status.UNAVAILABLE || e.code === grpc.status.DEADLINE_EXCEEDED,
  );
  assert.ok(!existsSync(join(b.dataDir, "tls")), "a configured pair: no self-signed one is made");
});

test("disabled: no TLS handshake; a configured pair that cannot be read stops the start", async (t) => {
  const b = await startBroker({ tlsMode: "disabled" });
  t.after(() => b.stop());
  await assert.rejects(handshake(Number(b.grpcAddr.split(":")[1])));
  const plain = new RawClient(b.grpcAddr);
  t.after(() => plain.close());
  b.server.broker.createTopic(topicConfig("PlainOnly", 2));
  const ok = await plain.unary<{ status: RawStatus }>("QueryRoute", { topic: { name: "PlainOnly" } });
  assert.equal(ok.status.code, "OK");

  await assert.rejects(
    startBroker({ tlsCertPath: "/nonexistent/broker.crt", tlsKeyPath: "/nonexistent/broker.key" }),
    /TLS: tlsCertPath \/nonexistent\/broker\.crt/,
  );
  await assert.rejects(startBroker({ tlsCertPath: "/x.crt" }), /both tlsCertPath and tlsKeyPath/);
  await assert.rejects(startBroker({ tlsMode: "sometimes" as "disabled" }), /bad tlsMode sometimes/);
});
