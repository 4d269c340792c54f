// `start` as a user runs it: a child process on free ports that prints its addresses when ready, serves a real
// client, and stops cleanly on SIGTERM (the store's abort marker is gone afterwards).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { connect as tlsConnect } from "node:tls";
import { fileURLToPath } from "node:url";
import { RemotingClient } from "../../src/protocol/remoting/client.js";
import { createRequest } from "../../src/protocol/remoting/command.js";
import { RequestCode } from "../../src/protocol/remoting/request-code.js";
import { ResponseCode } from "../../src/protocol/remoting/response-code.js";
import { getRouteInfoByTopic } from "../../src/protocol/remoting/namesrv/namesrv-client.js";
import { freePort } from "../support/free-port.js";
import { tempDir } from "../support/temp-dir.js";

const main = fileURLToPath(new URL("../../src/cli/main.js", import.meta.url));

test("start: ready line, a working broker behind the NameServer, clean stop on SIGTERM", async (t) => {
  const { dir, cleanup } = tempDir("rmq-cli-");
  t.after(cleanup);
  const [nsPort, brokerPort, grpcPort, httpPort, haPort] = [
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
  ];
  // Settings come from a file, then the environment, then flags: the flag's port must win over the file's.
  const config = join(dir, "settings.json");
  writeFileSync(
    config,
    JSON.stringify({ namesrvPort: 1, logLevel: "info", flushMode: "sync", httpInvisibleSeconds: 2 }),
  );
  const child = spawn(
    process.execPath,
    [
      main,
      "start",
      "--config",
      config,
      "--data-dir",
      join(dir, "data"),
      "--namesrv-port",
      String(nsPort),
      "--grpc-port",
      String(grpcPort),
      "--host",
      "127.0.0.1",
      "--http-port",
      String(httpPort),
      "--ha-port",
      String(haPort),
    ],
    {
      env: { ...process.env, ROCKETMQ_TS_BROKER_PORT: String(brokerPort) },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let out = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr.on("data", (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
  t.after(() => child.kill("SIGKILL"));
  const deadline = Date.now() + 15_000;
  while (!out.includes("ready")) {
    if (Date.now() > deadline) assert.fail(`no ready line:\n${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.match(out, new RegExp(`NameServer 127\\.0\\.0\\.1:${nsPort}`));
  assert.match(out, new RegExp(`127\\.0\\.0\\.1:${brokerPort}`));
  assert.match(out, new RegExp(`127\\.0\\.0\\.1:${grpcPort} \\(gRPC\\)`));
  assert.match(out, new RegExp(`ASYNC_MASTER: slaves connect to 127\\.0\\.0\\.1:${haPort}`));
  assert.ok(existsSync(join(dir, "data", "store", "abort")), "the store is open");

  // TLS beside plaintext (permissive, the default) on the NameServer, broker and gRPC ports: one self-signed pair
  // for the process, made at the first TLS connection.
  assert.ok(!existsSync(join(dir, "data", "tls")), "no certificate before a TLS client");
  const fingerprints = new Set<string>();
  for (const port of [nsPort, brokerPort, grpcPort, httpPort]) {
    fingerprints.add(
      await new Promise<string>((resolve, reject) => {
        const s = tlsConnect({ host: "127.0.0.1", port, rejectUnauthorized: false }, () => {
          resolve(s.getPeerCertificate().fingerprint256);
          s.destroy();
        });
        s.on("error", reject);
      }),
    );
  }
  assert.equal(fingerprints.size, 1, "every port serves the one certificate");
  assert.ok(existsSync(join(dir, "data", "tls", "broker.crt")), "kept under the data dir");

  const client = new RemotingClient();
  try {
    const brokerAddr = `127.0.0.1:${brokerPort}`;
    const sent = await client.invoke(
      brokerAddr,
      createRequest(
        RequestCode.SEND_MESSAGE_V2,
        { a: "P", b: "CliTopic", e: "0", f: "0", g: "0", h: "0", i: "", j: "0" },
        Buffer.from("hi"),
      ),
      3000,
    );
    assert.equal(sent.code, ResponseCode.SUCCESS, sent.remark);
    let route;
    // Until the broker has registered the topic the NameServer answers with its guess for unknown topics (4
    // queues, what ali-ons and Java ask for); this send named no count, so the broker's default applies.
    for (let i = 0; i < 40 && route?.queueDatas[0]?.writeQueueNums !== 8; i++) {
      route = await getRouteInfoByTopic(client, `127.0.0.1:${nsPort}`, "CliTopic");
      if (route?.queueDatas[0]?.writeQueueNums !== 8) await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(route?.brokerDatas[0]?.brokerAddrs["0"], brokerAddr);
    assert.equal(route?.queueDatas[0]?.writeQueueNums, 8, "topics get 8 queues by default");
    // The HTTP endpoint serves the same broker: the message sent over remoting is consumable there.
    const res = await fetch(
      `http://127.0.0.1:${httpPort}/topics/CliTopic/messages?consumer=GID_CLI&numOfMessages=16&waitseconds=3`,
    );
    assert.equal(res.status, 200);
    assert.match(await res.text(), /<MessageBody><!\[CDATA\[hi\]\]><\/MessageBody>/);
    // Not acked: it comes back after the file's httpInvisibleSeconds (2 s), not the protocol's 5 minutes.
    const consumedAt = Date.now();
    const again = await fetch(
      `http://127.0.0.1:${httpPort}/topics/CliTopic/messages?consumer=GID_CLI&numOfMessages=16&waitseconds=10`,
    );
    assert.equal(again.status, 200);
    const text = await again.text();
    assert.match(text, /<MessageBody><!\[CDATA\[hi\]\]><\/MessageBody>/);
    assert.match(text, /<ConsumedTimes>2<\/ConsumedTimes>/);
    assert.ok(Date.now() - consumedAt < 9000, "back after about 2 s");
  } finally {
    client.close();
  }
  child.kill("SIGTERM");
  assert.equal(await exited, 0);
  assert.match(out, /stopped/);
  assert.ok(!existsSync(join(dir, "data", "store", "abort")), "a clean stop removes the abort marker");
});

test("start: a bad setting is refused with a message naming it", async () => {
  const child = spawn(process.execPath, [main, "start", "--flush-mode", "sometimes"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let err = "";
  child.stderr.on("data", (d: Buffer) => (err += d.toString()));
  const code = await new Promise<number | null>((r) => child.on("exit", (c) => r(c)));
  assert.notEqual(code, 0);
  assert.match(err, /flush-mode/);
  const zero = spawn(process.execPath, [main, "start", "--http-invisible-seconds", "0"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let zeroErr = "";
  zero.stderr.on("data", (d: Buffer) => (zeroErr += d.toString()));
  assert.notEqual(await new Promise<number | null>((r) => zero.on("exit", (c) => r(c))), 0);
  assert.match(zeroErr, /httpInvisibleSeconds: expected at least 1/);
});
