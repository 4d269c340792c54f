// The HTTP endpoint over HTTPS, beside plain HTTP on the same port (TLS permissive, the default). The SDK verifies
// certificates with Node's CA list, which a process takes from NODE_EXTRA_CA_CERTS at start: the HTTPS client
// therefore runs in a child process that trusts the broker's certificate; the plain client runs here.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createRequire } from "node:module";
import { join } from "node:path";
import { promisify } from "node:util";
import { loadTlsMaterial } from "../../src/server/tls-material.js";
import { startBroker } from "../support/broker-fixture.js";
import { tempDir } from "../support/temp-dir.js";
import type { HttpSdk } from "./mq-http-sdk.js";

const require = createRequire(import.meta.url);
const sdk = require("@aliyunmq/mq-http-sdk") as HttpSdk;

// Publishes one message over HTTPS, then consumes (and acks) until it has two, and prints their bodies.
const CHILD = `
const { MQClient } = require(${JSON.stringify(require.resolve("@aliyunmq/mq-http-sdk"))});
(async () => {
  const client = new MQClient(process.argv[1], "ak", "sk");
  await client.getProducer("", "HttpsTopic").publishMessage("over https", "T");
  const consumer = client.getConsumer("", "HttpsTopic", "GID_HTTPS");
  const bodies = [];
  const end = Date.now() + 15000;
  while (bodies.length < 2 && Date.now() < end) {
    try {
      const r = await consumer.consumeMessage(16, 1);
      for (const m of r.body) bodies.push(m.MessageBody);
      await consumer.ackMessage(r.body.map((m) => m.ReceiptHandle));
    } catch (e) {
      if (e.Code !== "MessageNotExist") throw e;
    }
  }
  console.log(JSON.stringify(bodies.sort()));
})().catch((e) => { console.error(e); process.exit(1); });
`;

test("HTTPS and HTTP on one port: the SDK over HTTPS consumes what it and a plain client published", async (t) => {
  const { dir, cleanup } = tempDir("rmq-https-");
  t.after(cleanup);
  await loadTlsMaterial({ certPath: "", keyPath: "", dir, hosts: [] });
  const certFile = join(dir, "broker.crt");
  const b = await startBroker({ tlsCertPath: certFile, tlsKeyPath: join(dir, "broker.key") }, undefined, {
    http: { port: 0, host: "127.0.0.1" },
  });
  t.after(() => b.stop());
  const port = b.server.httpPort;
  const plain = new sdk.MQClient(`http://127.0.0.1:${port}`, "ak", "sk");
  assert.equal((await plain.getProducer("", "HttpsTopic").publishMessage("over http", "T")).code, 201);

  const run = promisify(execFile);
  const { stdout } = await run(process.execPath, ["-e", CHILD, `https://127.0.0.1:${port}`], {
    env: { ...process.env, NODE_EXTRA_CA_CERTS: certFile },
    timeout: 30_000,
  });
  assert.deepEqual(JSON.parse(stdout.trim()), ["over http", "over https"]);

  // Without trusting the certificate the SDK refuses the connection: the port really spoke TLS.
  await assert.rejects(
    run(process.execPath, ["-e", CHILD, `https://127.0.0.1:${port}`], { timeout: 30_000 }),
    /self-signed certificate|unable to verify/,
  );
});
