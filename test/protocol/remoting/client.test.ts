import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:net";
import { parseAddress, RemotingClient } from "../../../src/protocol/remoting/client.js";
import { createRequest, createResponse } from "../../../src/protocol/remoting/command.js";
import {
  RemotingClosedError,
  RemotingConnectError,
  RemotingTimeoutError,
} from "../../../src/protocol/remoting/remoting-errors.js";
import { RequestCode } from "../../../src/protocol/remoting/request-code.js";
import { ResponseCode } from "../../../src/protocol/remoting/response-code.js";
import { RemotingServer } from "../../../src/protocol/remoting/server.js";
import { sleep } from "./helpers.js";

function echoServer(tag: string): RemotingServer {
  return new RemotingServer().registerHandler(RequestCode.GET_ROUTEINFO_BY_TOPIC, (req) =>
    createResponse(req, ResponseCode.SUCCESS, tag),
  );
}

test("the client reconnects on the next invoke after the server restarts on the same port", async () => {
  const first = echoServer("first");
  const port = await first.listen(0, "127.0.0.1");
  const addr = `127.0.0.1:${port}`;
  const client = new RemotingClient();
  const closes: string[] = [];
  client.on("connectionClose", (a) => closes.push(a));
  try {
    const r1 = await client.invoke(addr, createRequest(RequestCode.GET_ROUTEINFO_BY_TOPIC), 3000);
    assert.equal(r1.remark, "first");
    const c1 = await client.getConnection(addr);
    assert.equal((await client.getConnection(addr)) === c1, true, "one shared connection per address");
    await first.close();
    // While nothing listens, a call fails with a typed connect error.
    await sleep(20);
    await assert.rejects(
      client.invoke(addr, createRequest(RequestCode.GET_ROUTEINFO_BY_TOPIC), 1000),
      RemotingConnectError,
    );
    const second = echoServer("second");
    await second.listen(port, "127.0.0.1");
    try {
      const r2 = await client.invoke(addr, createRequest(RequestCode.GET_ROUTEINFO_BY_TOPIC), 3000);
      assert.equal(r2.remark, "second");
      assert.notEqual(await client.getConnection(addr), c1);
      assert.deepEqual(closes, [addr]);
    } finally {
      await second.close();
    }
  } finally {
    await client.close();
  }
});

test("connect errors and timeouts are typed; connecting counts against the invoke timeout", async () => {
  // A listener that accepts but never answers: the call is sent and then times out.
  const silent = createServer((s) => s.resume());
  await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
  const port = (silent.address() as { port: number }).port;
  const client = new RemotingClient({ connectTimeoutMs: 500 });
  try {
    await assert.rejects(
      client.invoke(`127.0.0.1:${port}`, createRequest(RequestCode.HEART_BEAT), 100),
      RemotingTimeoutError,
    );
    await assert.rejects(
      client.invoke("no-port", createRequest(RequestCode.HEART_BEAT), 100),
      RemotingConnectError,
    );
    // Nothing listens on the port we just had and closed.
    const tmp = createServer();
    await new Promise<void>((r) => tmp.listen(0, "127.0.0.1", r));
    const dead = (tmp.address() as { port: number }).port;
    await new Promise<void>((r) => tmp.close(() => r()));
    await assert.rejects(client.invoke(`127.0.0.1:${dead}`, createRequest(1), 1000), (e: unknown) => {
      assert.ok(e instanceof RemotingConnectError);
      assert.equal(e.addr, `127.0.0.1:${dead}`);
      return true;
    });
  } finally {
    await client.close();
    silent.close();
    silent.unref();
  }
  await assert.rejects(client.invoke("127.0.0.1:1", createRequest(1), 100), RemotingClosedError);
});

test("invokeOneway sends with the oneway flag and expects nothing back", async () => {
  const server = new RemotingServer();
  const got: number[] = [];
  server.registerHandler(RequestCode.UNREGISTER_CLIENT, (req) => {
    got.push(req.flag);
    return createResponse(req, ResponseCode.SUCCESS);
  });
  const port = await server.listen(0, "127.0.0.1");
  const client = new RemotingClient();
  try {
    await client.invokeOneway(`127.0.0.1:${port}`, createRequest(RequestCode.UNREGISTER_CLIENT));
    await sleep(50);
    assert.deepEqual(got, [2]);
  } finally {
    await client.close();
    await server.close();
  }
});

test("parseAddress takes host:port and [v6]:port", () => {
  assert.deepEqual(parseAddress("127.0.0.1:9876"), { host: "127.0.0.1", port: 9876 });
  assert.deepEqual(parseAddress("[::1]:10911"), { host: "::1", port: 10911 });
  assert.throws(() => parseAddress("host"), RemotingConnectError);
  assert.throws(() => parseAddress("host:0"), RemotingConnectError);
});

test("requests on one connection time out on their own deadlines, whatever order they were sent in", async () => {
  // Answers only requests whose remark says "answer"; the others wait for their timeout.
  const server = new RemotingServer().registerHandler(RequestCode.HEART_BEAT, (req) =>
    req.remark === "answer" ? createResponse(req, ResponseCode.SUCCESS) : undefined,
  );
  const port = await server.listen(0, "127.0.0.1");
  const addr = `127.0.0.1:${port}`;
  const client = new RemotingClient();
  const request = (remark: string) => {
    const r = createRequest(RequestCode.HEART_BEAT);
    r.remark = remark;
    return r;
  };
  const timedOutAfter = async (remark: string, timeoutMs: number, t0: number): Promise<number> => {
    await assert.rejects(client.invoke(addr, request(remark), timeoutMs), (e: unknown) => {
      assert.ok(e instanceof RemotingTimeoutError);
      return true;
    });
    return performance.now() - t0;
  };
  try {
    await client.invoke(addr, request("answer"), 1000);
    const t0 = performance.now();
    const slow = timedOutAfter("wait", 600, t0);
    const fast = timedOutAfter("wait", 80, t0);
    const answered = client.invoke(addr, request("answer"), 50);
    assert.equal((await answered).code, ResponseCode.SUCCESS);
    const fastMs = await fast;
    assert.ok(fastMs >= 75 && fastMs < 450, `the 80 ms request timed out after ${fastMs} ms`);
    const conn = await client.getConnection(addr);
    assert.equal(conn.inFlight, 1, "only the 600 ms request still waits");
    const slowMs = await slow;
    assert.ok(slowMs >= 595, `the 600 ms request timed out after ${slowMs} ms`);
    assert.equal(conn.inFlight, 0);
    // Later requests still time out after the sweep has run dry.
    const againMs = await timedOutAfter("wait", 60, performance.now());
    assert.ok(againMs >= 55, `timed out after ${againMs} ms`);
  } finally {
    await client.close();
    await server.close();
  }
});
