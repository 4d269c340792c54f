// `start --acl-file` as an operator uses it: the broker checks requests against the file's accounts, picks up an
// edited file while running (RocketMQ watches plain_acl.yml the same way), and keeps the accounts in force when an
// edit does not parse.
import { test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { RemotingClient } from "../../src/protocol/remoting/client.js";
import { createRequest } from "../../src/protocol/remoting/command.js";
import { RequestCode } from "../../src/protocol/remoting/request-code.js";
import { ResponseCode } from "../../src/protocol/remoting/response-code.js";
import { freeStartPorts, startProcess } from "../support/start-process.js";
import { tempDir } from "../support/temp-dir.js";

function aclFile(path: string, accounts: Array<[string, string]>): void {
  writeFileSync(
    path,
    JSON.stringify({
      accounts: accounts.map(([accessKey, secretKey]) => ({ accessKey, secretKey, admin: true })),
    }),
  );
}

test("start --acl-file: an edited ACL file is applied while running; a broken edit is not", async (t) => {
  const { dir, cleanup } = tempDir("rmq-cli-acl-");
  t.after(cleanup);
  const acl = join(dir, "acl.json");
  aclFile(acl, [["alice", "alice-secret"]]);
  const ports = await freeStartPorts();
  const start = await startProcess(join(dir, "data"), ports, ["--acl-file", acl]);
  t.after(() => start.kill());
  const until = async (cond: () => boolean | Promise<boolean>, what: string, ms = 15_000) => {
    const end = Date.now() + ms;
    while (!(await cond())) {
      if (Date.now() > end) assert.fail(`timed out waiting for ${what}:\n${start.output()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  const broker = `127.0.0.1:${ports.broker}`;
  const as = (accessKey: string, secretKey: string) =>
    new RemotingClient({ credentials: { accessKey, secretKey } });
  const alice = as("alice", "alice-secret");
  const bob = as("bob", "bob-secret");
  t.after(async () => {
    await alice.close();
    await bob.close();
  });
  const code = async (c: RemotingClient) =>
    (
      await c.invoke(
        broker,
        createRequest(RequestCode.GET_MAX_OFFSET, { topic: "AclCli", queueId: "0" }),
        3000,
      )
    ).code;
  assert.notEqual(await code(alice), ResponseCode.NO_PERMISSION, "alice is an account");
  assert.equal(await code(bob), ResponseCode.NO_PERMISSION, "bob is not, yet");

  aclFile(acl, [["bob", "bob-secret"]]);
  await until(async () => (await code(bob)) !== ResponseCode.NO_PERMISSION, "bob to be let in");
  assert.equal(await code(alice), ResponseCode.NO_PERMISSION, "alice was removed");
  assert.match(start.output(), /ACL file reloaded/);

  writeFileSync(acl, "{ not json");
  await until(() => start.output().includes("ACL file not applied"), "the broken edit to be refused");
  assert.notEqual(await code(bob), ResponseCode.NO_PERMISSION, "bob's account stays in force");
});
