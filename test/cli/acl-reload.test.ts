// `start --acl-file` as an operator uses it: the broker checks requests against the file's accounts, picks up an
// edited file while running (RocketMQ watches plain_acl.yml the same way), and keeps the accounts in force when an
// edit does not parse.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { RemotingClient } from "../../src/protocol/remoting/client.js";
import { createRequest } from "../../src/protocol/remoting/command.js";
import { RequestCode } from "../../src/protocol/remoting/request-code.js";
import { ResponseCode } from "../../src/protocol/remoting/response-code.js";
import { freePort } from "../support/free-port.js";
import { tempDir } from "../support/temp-dir.js";

const main = fileURLToPath(new URL("../../src/cli/main.js", import.meta.url));

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
  const ports = [await freePort(), await freePort(), await freePort(), await freePort()];
  const child = spawn(
    process.execPath,
    [
      main,
      "start",
      "--data-dir",
      join(dir, "data"),
      "--host",
      "127.0.0.1",
      "--acl-file",
      acl,
      "--namesrv-port",
      String(ports[0]),
      "--broker-port",
      String(ports[1]),
      "--grpc-port",
      String(ports[2]),
      "--http-port",
      String(ports[3]),
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let out = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr.on("data", (d: Buffer) => (out += d.toString()));
  t.after(() => child.kill("SIGKILL"));
  const until = async (cond: () => boolean | Promise<boolean>, what: string, ms = 15_000) => {
    const end = Date.now() + ms;
    while (!(await cond())) {
      if (Date.now() > end) assert.fail(`timed out waiting for ${what}:\n${out}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  await until(() => out.includes("ready"), "the ready line");

  const broker = `127.0.0.1:${ports[1]}`;
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
  assert.match(out, /ACL file reloaded/);

  writeFileSync(acl, "{ not json");
  await until(() => out.includes("ACL file not applied"), "the broken edit to be refused");
  assert.notEqual(await code(bob), ResponseCode.NO_PERMISSION, "bob's account stays in force");
});
