// Unresolved transactions survive a SIGKILL of the broker: every half message it acknowledged is still pending
// after the restart, can be committed or rolled back, and an earlier decision is not forgotten.
import { test } from "node:test";
import assert from "node:assert/strict";
import { RemotingClient } from "../../src/protocol/remoting/client.js";
import { createRequest } from "../../src/protocol/remoting/command.js";
import { RequestCode } from "../../src/protocol/remoting/request-code.js";
import { ResponseCode } from "../../src/protocol/remoting/response-code.js";
import { encodeProperties } from "../../src/common/properties.js";
import { startBroker } from "../support/broker-fixture.js";
import { startBrokerProcess } from "../support/broker-process.js";
import { tempDir } from "../support/temp-dir.js";

test("half messages and decisions survive SIGKILL of the broker", async (t) => {
  const { dir, cleanup } = tempDir();
  const cfg = { transactionTimeoutMs: 600_000 };
  const child = await startBrokerProcess(dir, cfg);
  const addr = `127.0.0.1:${child.port}`;
  const client = new RemotingClient();
  const halves: { off: number; phy: number; body: string }[] = [];
  for (let i = 0; i < 20; i++) {
    const body = `tx-${i}`;
    const r = await client.invoke(
      addr,
      createRequest(
        RequestCode.SEND_MESSAGE_V2,
        {
          a: "TXG",
          b: "TxCrash",
          e: "0",
          f: "4",
          g: String(Date.now()),
          h: "0",
          j: "0",
          i: encodeProperties({ TRAN_MSG: "true", PGROUP: "TXG", UNIQ_CLIENT_MESSAGE_ID_KEYIDX: body }),
        },
        Buffer.from(body),
      ),
      3000,
    );
    assert.equal(r.code, ResponseCode.SUCCESS);
    halves.push({
      off: Number(r.extFields.queueOffset),
      phy: parseInt(r.extFields.msgId!.slice(16), 16),
      body,
    });
  }
  const end = (a: string, h: (typeof halves)[number], type: number, via = client) =>
    via.invoke(
      a,
      createRequest(RequestCode.END_TRANSACTION, {
        producerGroup: "TXG",
        tranStateTableOffset: String(h.off),
        commitLogOffset: String(h.phy),
        commitOrRollback: String(type),
      }),
      3000,
    );
  // Decide the first five before the crash: commit the even ones, roll back the odd ones.
  for (let i = 0; i < 5; i++)
    assert.equal((await end(addr, halves[i]!, i % 2 ? 12 : 8)).code, ResponseCode.SUCCESS);
  await child.kill();
  client.close();

  const b = await startBroker(cfg, dir);
  const c2 = new RemotingClient();
  t.after(async () => {
    c2.close();
    await b.server.stop();
    cleanup();
  });
  assert.equal(b.server.broker.store.recovery.aborted, true);
  assert.equal(b.server.broker.transactions.unresolved, 15, "every undecided half message is still pending");
  for (let i = 0; i < 5; i++) {
    const again = await end(b.addr, halves[i]!, i % 2 ? 8 : 12, c2);
    assert.equal(again.code, ResponseCode.NO_PERMISSION, `decision ${i} was remembered across the crash`);
  }
  for (let i = 5; i < 20; i++)
    assert.equal((await end(b.addr, halves[i]!, 8, c2)).code, ResponseCode.SUCCESS);
  let delivered = 0;
  for (let q = 0; q < 8; q++) delivered += b.server.broker.getMaxOffset("TxCrash", q);
  assert.equal(delivered, 3 + 15, "commits before the crash (0, 2, 4) and after it, once each");
});
