// Bad input against the real broker: well-framed requests with random codes, fields and bodies, and broken
// frames (random bytes, truncation, a 100 MiB length prefix, a header that is not JSON). Every request gets a
// response or its connection is closed; the broker keeps serving, and acknowledged messages stay readable.
import { test } from "node:test";
import assert from "node:assert/strict";
import { connect } from "node:net";
import { RemotingClient } from "../../src/protocol/remoting/client.js";
import { createRequest } from "../../src/protocol/remoting/command.js";
import { RequestCode } from "../../src/protocol/remoting/request-code.js";
import { ResponseCode } from "../../src/protocol/remoting/response-code.js";
import { decodeRecord } from "../../src/common/message-record.js";
import { startBroker } from "../support/broker-fixture.js";

let seed = 0xb40c3;
function rnd(n: number): number {
  seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
  return (seed >>> 8) % n;
}
function pick<T>(xs: readonly T[]): T {
  return xs[rnd(xs.length)]!;
}
function junk(n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = rnd(256);
  return b;
}

const CODES = (Object.values(RequestCode) as unknown[]).filter((c): c is number => typeof c === "number");
const FIELDS = [
  "topic",
  "queueId",
  "consumerGroup",
  "group",
  "queueOffset",
  "maxMsgNums",
  "sysFlag",
  "commitOffset",
  "offset",
  "suspendTimeoutMillis",
  "subscription",
  "key",
  "maxNum",
  "timestamp",
  "clientID",
  "producerGroup",
  "delayLevel",
  "a",
  "b",
  "e",
  "f",
  "i",
  "j",
  "l",
  "readQueueNums",
  "writeQueueNums",
  "perm",
  "beginTimestamp",
  "endTimestamp",
];
const VALUES = [
  "",
  "0",
  "-1",
  "1",
  "7",
  "99999999999999999999",
  "NaN",
  "abc",
  "TopicF",
  "%RETRY%G",
  "a||b",
  "true",
  "1e308",
  "{",
  "测试",
];

function randomRequest() {
  const ext: Record<string, string> = {};
  for (let k = 0, n = rnd(8); k < n; k++) ext[pick(FIELDS)] = pick(VALUES);
  // Short suspend times so held pulls end inside the test's budget.
  if ("suspendTimeoutMillis" in ext) ext["suspendTimeoutMillis"] = "10";
  const body =
    rnd(3) === 0
      ? undefined
      : rnd(2)
        ? junk(rnd(300))
        : Buffer.from(
            JSON.stringify({ clientID: pick(VALUES), consumerDataSet: [{ groupName: pick(VALUES) }] }),
          );
  return createRequest(pick(CODES), ext, body);
}

function rawSend(port: number, bytes: Buffer): Promise<void> {
  return new Promise((resolve) => {
    const s = connect({ host: "127.0.0.1", port });
    const done = () => {
      clearTimeout(timer);
      s.destroy();
      resolve();
    };
    const timer = setTimeout(done, 1000);
    s.on("error", done);
    s.on("close", done);
    s.on("data", () => {});
    s.once("connect", () => s.end(bytes));
  });
}

test("random requests and broken frames: clear errors, the broker keeps serving, nothing acknowledged is lost", async (t) => {
  const b = await startBroker({ longPollingMaxMs: 50 });
  const client = new RemotingClient();
  t.after(async () => {
    client.close();
    await b.stop();
  });
  const send = (body: string) =>
    client.invoke(
      b.addr,
      createRequest(
        RequestCode.SEND_MESSAGE_V2,
        { a: "P", b: "Safe", e: "0", f: "0", g: String(Date.now()), h: "0", i: "", j: "0" },
        Buffer.from(body),
      ),
      3000,
    );
  const before = await send("before");
  assert.equal(before.code, ResponseCode.SUCCESS);

  const deadline = Date.now() + 8000;
  let answered = 0;
  let requests = 0;
  while (requests < 1500 && Date.now() < deadline) {
    const batch = Array.from({ length: 30 }, () => {
      requests++;
      return client.invoke(b.addr, randomRequest(), 3000).then(
        (r) => {
          answered++;
          // Errors are answered with a code and, for our own checks, a remark that says what was wrong.
          if (
            r.code !== ResponseCode.SUCCESS &&
            r.code !== ResponseCode.PULL_NOT_FOUND &&
            r.code !== ResponseCode.PULL_RETRY_IMMEDIATELY &&
            r.code !== ResponseCode.PULL_OFFSET_MOVED
          ) {
            assert.ok((r.remark ?? "").length > 0, `code ${r.code} came without a remark`);
          }
        },
        (e: Error) => assert.fail(`a well-framed request got no answer: ${e.message}`),
      );
    });
    await Promise.all(batch);
  }
  assert.ok(requests >= 300, `only ${requests} requests in the budget`);
  assert.equal(answered, requests);

  // Broken frames on their own connections.
  const big = Buffer.alloc(8);
  big.writeInt32BE(100 * 1024 * 1024, 0);
  const notJson = Buffer.alloc(8 + 9);
  notJson.writeInt32BE(4 + 9, 0);
  notJson.writeInt32BE(9, 4);
  notJson.write("{not json", 8);
  await rawSend(b.server.port, big);
  await rawSend(b.server.port, notJson);
  for (let i = 0; i < 200; i++) await rawSend(b.server.port, junk(1 + rnd(100)));

  const after = await send("after");
  assert.equal(after.code, ResponseCode.SUCCESS);
  const pulled = await client.invoke(
    b.addr,
    createRequest(RequestCode.PULL_MESSAGE, {
      consumerGroup: "G",
      topic: "Safe",
      queueId: "0",
      queueOffset: "0",
      maxMsgNums: "10",
      sysFlag: "0",
      subscription: "*",
    }),
    3000,
  );
  assert.equal(pulled.code, ResponseCode.SUCCESS);
  const bodies: string[] = [];
  for (let p = 0; p < pulled.body!.length; p += pulled.body!.readInt32BE(p))
    bodies.push(decodeRecord(pulled.body!, p).body.toString());
  assert.deepEqual(bodies, ["before", "after"]);
});
