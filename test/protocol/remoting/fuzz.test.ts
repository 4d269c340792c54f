import { test } from "node:test";
import assert from "node:assert/strict";
import { connect } from "node:net";
import { RemotingClient } from "../../../src/protocol/remoting/client.js";
import { createRequest, createResponse } from "../../../src/protocol/remoting/command.js";
import { encodeCommand } from "../../../src/protocol/remoting/frame-codec.js";
import { RequestCode } from "../../../src/protocol/remoting/request-code.js";
import { ResponseCode } from "../../../src/protocol/remoting/response-code.js";
import { RemotingServer } from "../../../src/protocol/remoting/server.js";
import { sleep } from "./helpers.js";

// Deterministic so a failure can be replayed.
let seed = 0x5eed;
function rnd(n: number): number {
  seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
  return (seed >>> 8) % n;
}

function randomBytes(n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = rnd(256);
  return b;
}

function fuzzInput(): Buffer {
  const req = createRequest(
    RequestCode.GET_MAX_OFFSET,
    { topic: "T", queueId: String(rnd(8)) },
    randomBytes(rnd(40)),
  );
  req.serializeType = rnd(2) as 0 | 1;
  const valid = encodeCommand(req);
  switch (rnd(6)) {
    case 0:
      return randomBytes(1 + rnd(200));
    case 1: {
      // Flip a few bytes anywhere, the length words included.
      const b = Buffer.from(valid);
      for (let k = 0, m = 1 + rnd(6); k < m; k++) b[rnd(b.length)] = rnd(256);
      return b;
    }
    case 2:
      return valid.subarray(0, rnd(valid.length));
    case 3: {
      // A plausible length prefix followed by garbage of another size.
      const b = randomBytes(8 + rnd(100));
      b.writeInt32BE(rnd(3) === 0 ? -rnd(1000) : rnd(200), 0);
      return b;
    }
    case 4: {
      // A valid frame, then junk.
      return Buffer.concat([valid, randomBytes(1 + rnd(30))]);
    }
    default: {
      // Mutate only the header, keeping the framing right.
      const b = Buffer.from(valid);
      const hl = b.readInt32BE(4) & 0xffffff;
      for (let k = 0, m = 1 + rnd(4); k < m; k++) b[8 + rnd(Math.max(hl, 1))] = rnd(256);
      return b;
    }
  }
}

function sendAndHangUp(port: number, input: Buffer): Promise<void> {
  return new Promise((resolve) => {
    const s = connect({ host: "127.0.0.1", port });
    const done = (): void => {
      clearTimeout(timer);
      s.destroy();
      resolve();
    };
    const timer = setTimeout(done, 1000);
    s.on("error", done);
    s.on("close", done);
    s.on("data", () => {});
    s.once("connect", () => {
      // Half the time split the input across two writes.
      const cut = rnd(2) === 0 ? input.length : rnd(input.length + 1);
      s.write(input.subarray(0, cut));
      if (cut < input.length) s.write(input.subarray(cut));
      s.end();
    });
  });
}

test("2000 random, truncated and mutated frames over real sockets leave the server serving others", async () => {
  const server = new RemotingServer({ maxFrameBytes: 64 * 1024 });
  let handled = 0;
  server.registerHandler(RequestCode.GET_MAX_OFFSET, (req) => {
    handled++;
    return createResponse(req, ResponseCode.SUCCESS, undefined, { offset: req.extFields["queueId"] ?? "-" });
  });
  const port = await server.listen(0, "127.0.0.1");
  const addr = `127.0.0.1:${port}`;
  const client = new RemotingClient();
  try {
    const check = async (q: number): Promise<void> => {
      const r = await client.invoke(
        addr,
        createRequest(RequestCode.GET_MAX_OFFSET, { queueId: String(q) }),
        2000,
      );
      assert.equal(r.code, ResponseCode.SUCCESS);
      assert.equal(r.extFields["offset"], String(q));
    };
    await check(-1);
    const deadline = Date.now() + 5000;
    let sent = 0;
    while (sent < 2000 && Date.now() < deadline) {
      const batch: Promise<void>[] = [];
      for (let i = 0; i < 50 && sent < 2000; i++, sent++) batch.push(sendAndHangUp(port, fuzzInput()));
      await Promise.all(batch);
      await check(sent);
    }
    assert.ok(sent >= 500, `only ${sent} inputs in the time budget`);
    for (let i = 0; i < 20; i++) await check(i);
    // Every fuzz connection is gone; only the well-behaved client remains.
    for (let i = 0; i < 100 && server.connections.size > 1; i++) await sleep(20);
    assert.equal(server.connections.size, 1);
    assert.ok(handled > 0);
  } finally {
    await client.close();
    await server.close();
  }
});
