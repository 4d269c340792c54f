import { test } from "node:test";
import assert from "node:assert/strict";
import { BrokerError } from "../../../src/common/errors.js";
import { RemotingClient } from "../../../src/protocol/remoting/client.js";
import { createRequest, createResponse, isResponse } from "../../../src/protocol/remoting/command.js";
import type { RemotingConnection } from "../../../src/protocol/remoting/connection.js";
import { encodeCommand } from "../../../src/protocol/remoting/frame-codec.js";
import { RemotingClosedError, RemotingTimeoutError } from "../../../src/protocol/remoting/remoting-errors.js";
import { RequestCode } from "../../../src/protocol/remoting/request-code.js";
import { ResponseCode } from "../../../src/protocol/remoting/response-code.js";
import { RemotingServer } from "../../../src/protocol/remoting/server.js";
import { rawPeer, sleep } from "./helpers.js";

async function start(server: RemotingServer): Promise<string> {
  const port = await server.listen(0, "127.0.0.1");
  return `127.0.0.1:${port}`;
}

test("requests are answered by opaque, out of order, in the request's header encoding", async () => {
  const server = new RemotingServer();
  server.registerHandler(RequestCode.GET_MAX_OFFSET, async (req) => {
    await sleep(Number(req.extFields["delay"]));
    return createResponse(req, ResponseCode.SUCCESS, undefined, { offset: req.extFields["delay"] ?? "" });
  });
  const addr = await start(server);
  const client = new RemotingClient();
  try {
    const slow = createRequest(RequestCode.GET_MAX_OFFSET, { delay: "100" });
    const fast = createRequest(RequestCode.GET_MAX_OFFSET, { delay: "0" });
    fast.serializeType = 1;
    const order: string[] = [];
    const [a, b] = await Promise.all([
      client.invoke(addr, slow, 3000).then((r) => (order.push("slow"), r)),
      client.invoke(addr, fast, 3000).then((r) => (order.push("fast"), r)),
    ]);
    assert.deepEqual(order, ["fast", "slow"]);
    assert.equal(a.opaque, slow.opaque);
    assert.equal(a.extFields["offset"], "100");
    assert.equal(a.serializeType, 0);
    assert.equal(b.opaque, fast.opaque);
    assert.equal(b.serializeType, 1);
    assert.ok(isResponse(a) && isResponse(b));
  } finally {
    await client.close();
    await server.close();
  }
});

test("unknown code → REQUEST_CODE_NOT_SUPPORTED; handler errors → SYSTEM_ERROR or the error's own code", async () => {
  const server = new RemotingServer();
  server.registerHandler(1, () => {
    throw new Error("boom");
  });
  server.registerHandler(2, async () => {
    throw Object.assign(new Error("busy now"), { remotingCode: ResponseCode.SYSTEM_BUSY });
  });
  server.registerHandler(3, () => {
    throw new BrokerError("TOPIC_NOT_EXIST", "T1");
  });
  server.registerHandler(4, () => Promise.reject("not an Error"));
  const addr = await start(server);
  const client = new RemotingClient();
  try {
    const unknown = await client.invoke(addr, createRequest(999), 3000);
    assert.equal(unknown.code, ResponseCode.REQUEST_CODE_NOT_SUPPORTED);
    assert.match(unknown.remark ?? "", /999/);
    const e1 = await client.invoke(addr, createRequest(1), 3000);
    assert.equal(e1.code, ResponseCode.SYSTEM_ERROR);
    assert.equal(e1.remark, "boom");
    const e2 = await client.invoke(addr, createRequest(2), 3000);
    assert.equal(e2.code, ResponseCode.SYSTEM_BUSY);
    assert.equal(e2.remark, "busy now");
    const e3 = await client.invoke(addr, createRequest(3), 3000);
    assert.equal(e3.code, ResponseCode.TOPIC_NOT_EXIST);
    assert.equal(e3.remark, "topic does not exist: T1");
    const e4 = await client.invoke(addr, createRequest(4), 3000);
    assert.equal(e4.code, ResponseCode.SYSTEM_ERROR);
    assert.equal(e4.remark, "not an Error");
    // A default handler takes every code without its own.
    server.setDefaultHandler((req) => createResponse(req, ResponseCode.SUCCESS, `default ${req.code}`));
    const d = await client.invoke(addr, createRequest(999), 3000);
    assert.equal(d.code, ResponseCode.SUCCESS);
    assert.equal(d.remark, "default 999");
  } finally {
    await client.close();
    await server.close();
  }
});

test("oneway requests get no response, even on errors; handlers may answer later through conn.send", async () => {
  const server = new RemotingServer();
  const seen: number[] = [];
  server.registerHandler(RequestCode.UPDATE_CONSUMER_OFFSET, (req) => {
    seen.push(Number(req.extFields["n"]));
    return createResponse(req, ResponseCode.SUCCESS);
  });
  server.registerHandler(RequestCode.PULL_MESSAGE, (req, conn) => {
    setTimeout(() => conn.send(createResponse(req, ResponseCode.PULL_NOT_FOUND)), 50);
    return undefined;
  });
  const { port } = { port: await server.listen(0, "127.0.0.1") };
  const peer = await rawPeer(port);
  try {
    const ow = createRequest(RequestCode.UPDATE_CONSUMER_OFFSET, { n: "1" });
    ow.flag |= 2;
    const unknownOw = createRequest(999);
    unknownOw.flag |= 2;
    const pull = createRequest(RequestCode.PULL_MESSAGE);
    peer.socket.write(Buffer.concat([encodeCommand(ow), encodeCommand(unknownOw), encodeCommand(pull)]));
    const got = await peer.waitFor(1);
    await sleep(100);
    assert.equal(got.length, 1);
    assert.equal(got[0]?.opaque, pull.opaque);
    assert.equal(got[0]?.code, ResponseCode.PULL_NOT_FOUND);
    assert.deepEqual(seen, [1]);
  } finally {
    peer.socket.destroy();
    await server.close();
  }
});

test("server → client invoke is matched by opaque; an unanswered one times out with RemotingTimeoutError", async () => {
  const server = new RemotingServer();
  const conns: RemotingConnection[] = [];
  server.on("connection", (c) => conns.push(c));
  server.registerHandler(RequestCode.HEART_BEAT, (req) => createResponse(req, ResponseCode.SUCCESS));
  const addr = await start(server);
  const client = new RemotingClient();
  client.registerHandler(RequestCode.CHECK_TRANSACTION_STATE, async (req) => {
    await sleep(20);
    return createResponse(req, ResponseCode.TRANSACTION_SHOULD_COMMIT, undefined, {
      msgId: req.extFields["msgId"] ?? "",
    });
  });
  try {
    await client.invoke(addr, createRequest(RequestCode.HEART_BEAT), 3000);
    const conn = conns[0];
    assert.ok(conn);
    assert.match(conn.remoteAddress, /^127\.0\.0\.1:\d+$/);
    const check = createRequest(RequestCode.CHECK_TRANSACTION_STATE, { msgId: "M1" });
    const res = await conn.invoke(check, 2000);
    assert.equal(res.code, ResponseCode.TRANSACTION_SHOULD_COMMIT);
    assert.equal(res.extFields["msgId"], "M1");
    // The client has no handler for this one and answers REQUEST_CODE_NOT_SUPPORTED.
    const running = await conn.invoke(createRequest(RequestCode.GET_CONSUMER_RUNNING_INFO), 2000);
    assert.equal(running.code, ResponseCode.REQUEST_CODE_NOT_SUPPORTED);
    // A oneway notification gets no answer, and an invoke of one therefore times out.
    client.registerHandler(RequestCode.NOTIFY_CONSUMER_IDS_CHANGED, () => undefined);
    const t0 = Date.now();
    await assert.rejects(
      conn.invoke(createRequest(RequestCode.NOTIFY_CONSUMER_IDS_CHANGED), 150),
      (e: unknown) => {
        assert.ok(e instanceof RemotingTimeoutError);
        assert.equal(e.timeoutMs, 150);
        return true;
      },
    );
    assert.ok(Date.now() - t0 >= 140);
    assert.equal(conn.inFlight, 0);
    // The connection still works after the timeout.
    assert.equal((await conn.invoke(createRequest(RequestCode.CHECK_TRANSACTION_STATE), 2000)).code, 200);
  } finally {
    await client.close();
    await server.close();
  }
});

test("client invoke times out with RemotingTimeoutError when the server never answers", async () => {
  const server = new RemotingServer();
  server.registerHandler(RequestCode.PULL_MESSAGE, () => undefined);
  const addr = await start(server);
  const client = new RemotingClient();
  try {
    await assert.rejects(
      client.invoke(addr, createRequest(RequestCode.PULL_MESSAGE), 100),
      RemotingTimeoutError,
    );
  } finally {
    await client.close();
    await server.close();
  }
});

test("a bad frame closes only its connection, after an error response when its opaque was readable", async () => {
  const server = new RemotingServer();
  server.registerHandler(RequestCode.HEART_BEAT, (req) => createResponse(req, ResponseCode.SUCCESS));
  const closes: Array<Error | undefined> = [];
  server.on("connectionClose", (_c, err) => closes.push(err));
  const port = await server.listen(0, "127.0.0.1");
  const good = await rawPeer(port);
  const bad = await rawPeer(port);
  try {
    const ok = createRequest(RequestCode.HEART_BEAT);
    const header = Buffer.from('{"opaque":4242,"flag":0,"extFields":{}}');
    const f = Buffer.alloc(8);
    f.writeInt32BE(4 + header.length, 0);
    f.writeInt32BE(header.length, 4);
    // A good request first in the same chunk is still answered.
    bad.socket.write(
      Buffer.concat([encodeCommand(ok), f, header, encodeCommand(createRequest(RequestCode.HEART_BEAT))]),
    );
    await bad.closed;
    assert.equal(bad.received.length, 2);
    assert.equal(bad.received[0]?.opaque, ok.opaque);
    assert.equal(bad.received[0]?.code, ResponseCode.SUCCESS);
    assert.equal(bad.received[1]?.opaque, 4242);
    assert.equal(bad.received[1]?.code, ResponseCode.SYSTEM_ERROR);
    assert.match(bad.received[1]?.remark ?? "", /bad-json-header/);
    // An oversized length prefix: nothing to answer, just closed.
    const huge = await rawPeer(port);
    huge.socket.write(Buffer.from("7fffffff", "hex"));
    await huge.closed;
    assert.equal(huge.received.length, 0);
    // The other connection is unaffected.
    const r = createRequest(RequestCode.HEART_BEAT);
    good.socket.write(encodeCommand(r));
    const got = await good.waitFor(1);
    assert.equal(got[0]?.opaque, r.opaque);
    assert.equal(server.connections.size, 1);
    assert.equal(closes.length, 2);
    assert.ok(closes.every((e) => e?.name === "FrameError"));
  } finally {
    good.socket.destroy();
    await server.close();
  }
});

test("many small requests in one write come back coalesced and all matched", async () => {
  const server = new RemotingServer();
  server.registerHandler(RequestCode.GET_MAX_OFFSET, (req) => createResponse(req, ResponseCode.SUCCESS));
  const port = await server.listen(0, "127.0.0.1");
  const peer = await rawPeer(port);
  let chunks = 0;
  peer.socket.on("data", () => chunks++);
  try {
    const reqs = Array.from({ length: 500 }, () =>
      createRequest(RequestCode.GET_MAX_OFFSET, { topic: "T", queueId: "1" }),
    );
    peer.socket.write(Buffer.concat(reqs.map(encodeCommand)));
    const got = await peer.waitFor(500);
    assert.deepEqual(
      got.map((c) => c.opaque),
      reqs.map((r) => r.opaque),
    );
    assert.ok(chunks < 50, `500 responses arrived in ${chunks} reads`);
  } finally {
    peer.socket.destroy();
    await server.close();
  }
});

test("closing the server rejects in-flight client calls with RemotingClosedError and fires connectionClose", async () => {
  const server = new RemotingServer();
  server.registerHandler(RequestCode.PULL_MESSAGE, () => undefined);
  let closed = 0;
  server.on("connectionClose", () => closed++);
  const addr = await start(server);
  const client = new RemotingClient();
  try {
    const rejected = assert.rejects(
      client.invoke(addr, createRequest(RequestCode.PULL_MESSAGE), 5000),
      RemotingClosedError,
    );
    await sleep(50);
    await server.close();
    await rejected;
    assert.equal(closed, 1);
  } finally {
    await client.close();
  }
});

test("small and large response bodies written in one flush arrive intact and in order", async () => {
  const server = new RemotingServer();
  server.registerHandler(RequestCode.PULL_MESSAGE, (req) => {
    const n = Number(req.extFields["size"]);
    const body = Buffer.alloc(n);
    for (let i = 0; i < n; i++) body[i] = (i * 31 + n) & 0xff;
    return createResponse(req, ResponseCode.SUCCESS, undefined, {}, n === 0 ? undefined : body);
  });
  const port = await server.listen(0, "127.0.0.1");
  const peer = await rawPeer(port);
  try {
    const sizes = [0, 10, 16 * 1024, 16 * 1024 + 1, 5, 1024 * 1024, 3, 200 * 1024, 0];
    const reqs = sizes.map((size) => createRequest(RequestCode.PULL_MESSAGE, { size: String(size) }));
    peer.socket.write(Buffer.concat(reqs.map(encodeCommand)));
    const got = await peer.waitFor(sizes.length);
    sizes.forEach((n, k) => {
      const r = got[k];
      assert.equal(r?.opaque, reqs[k]?.opaque);
      const body = r?.body ?? Buffer.alloc(0);
      assert.equal(body.length, n);
      for (let i = 0; i < n; i += 997) assert.equal(body[i], (i * 31 + n) & 0xff);
    });
  } finally {
    peer.socket.destroy();
    await server.close();
  }
});
