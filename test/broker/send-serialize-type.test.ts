import { test } from "node:test";
import assert from "node:assert/strict";
import { decodeRecord } from "../../src/common/message-record.js";
import { encodeProperties, getProperty } from "../../src/common/properties.js";
import { RemotingClient } from "../../src/protocol/remoting/client.js";
import { createRequest, SerializeType } from "../../src/protocol/remoting/command.js";
import type { SerializeTypeCode } from "../../src/protocol/remoting/command.js";
import { RequestCode } from "../../src/protocol/remoting/request-code.js";
import { ResponseCode } from "../../src/protocol/remoting/response-code.js";
import { startBroker } from "../support/broker-fixture.js";

function sendRequest(type: SerializeTypeCode, queueId: number, body: string, uniq: string) {
  const req = createRequest(
    RequestCode.SEND_MESSAGE_V2,
    {
      a: "PG",
      b: "SerTopic",
      c: "TBW102",
      d: "4",
      e: String(queueId),
      f: "0",
      g: "1700000000000",
      h: "0",
      i: encodeProperties({ TAGS: "t", UNIQ_KEY: uniq, "user-é": 'värde "q" \\' }),
      j: "0",
      k: "false",
    },
    Buffer.from(body),
  );
  req.serializeType = type;
  return req;
}

test("sends with JSON and binary headers are stored alike and answered in their own header type", async (t) => {
  const b = await startBroker();
  const client = new RemotingClient();
  t.after(async () => {
    await client.close();
    await b.stop();
  });
  const json = await client.invoke(b.addr, sendRequest(SerializeType.JSON, 2, "j", "U1"), 3000);
  const bin = await client.invoke(b.addr, sendRequest(SerializeType.ROCKETMQ, 2, "b", "U2"), 3000);
  for (const [res, type, offset] of [
    [json, SerializeType.JSON, "0"],
    [bin, SerializeType.ROCKETMQ, "1"],
  ] as const) {
    assert.equal(res.code, ResponseCode.SUCCESS, res.remark);
    assert.equal(res.serializeType, type);
    assert.deepEqual(Object.keys(res.extFields), [
      "msgId",
      "queueId",
      "queueOffset",
      "MSG_REGION",
      "TRACE_ON",
    ]);
    assert.equal(res.extFields.queueId, "2");
    assert.equal(res.extFields.queueOffset, offset);
    assert.match(res.extFields.msgId ?? "", /^7F000001[0-9A-F]{24}$/);
  }
  const pulled = await client.invoke(
    b.addr,
    createRequest(RequestCode.PULL_MESSAGE, {
      consumerGroup: "CG",
      topic: "SerTopic",
      queueId: "2",
      queueOffset: "0",
      maxMsgNums: "32",
      sysFlag: "4",
      commitOffset: "0",
      suspendTimeoutMillis: "0",
      subscription: "*",
      subVersion: "0",
      expressionType: "TAG",
    }),
    3000,
  );
  assert.equal(pulled.code, ResponseCode.SUCCESS, pulled.remark);
  const records = [];
  for (let p = 0, body = pulled.body!; p < body.length;) {
    const size = body.readInt32BE(p);
    records.push(decodeRecord(body.subarray(p, p + size)));
    p += size;
  }
  assert.deepEqual(
    records.map((r) => [r.body.toString(), getProperty(r.properties, "UNIQ_KEY"), r.bornTimestamp]),
    [
      ["j", "U1", 1700000000000],
      ["b", "U2", 1700000000000],
    ],
  );
  for (const r of records) assert.equal(getProperty(r.properties, "user-é"), 'värde "q" \\');
});
