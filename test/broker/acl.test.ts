// Access control's parts on their own: permissions, white-list patterns, the ACL file's checks, the remoting
// signature (against bytes ali-ons produced), and the order of AccessControl.check's decisions.
import { test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { AccessControl } from "../../src/broker/acl/access-control.js";
import type { Caller } from "../../src/broker/acl/access-control.js";
import { readAclConfig } from "../../src/broker/acl/acl-config.js";
import { parsePerm, Perm, permits } from "../../src/broker/acl/permission.js";
import { addressMatcher } from "../../src/broker/acl/remote-address.js";
import { remotingSignature, signRemoting } from "../../src/common/acl-signature.js";
import { isBrokerError } from "../../src/common/errors.js";
import { aclConfigOf, DEFAULT_SETTINGS } from "../../src/cli/settings.js";
import { tempDir } from "../support/temp-dir.js";

test("permissions: DENY wins, ANY takes PUB or SUB, unknown words are refused", () => {
  assert.equal(parsePerm("PUB|SUB", "t"), Perm.PUB | Perm.SUB);
  assert.equal(parsePerm(" sub | pub ", "t"), Perm.PUB | Perm.SUB);
  assert.throws(() => parsePerm("READ", "topicPerms"), /topicPerms: expected PUB, SUB, PUB\|SUB or DENY/);
  assert.ok(permits(Perm.PUB, Perm.PUB | Perm.SUB));
  assert.ok(!permits(Perm.SUB, Perm.PUB));
  assert.ok(!permits(Perm.PUB, Perm.DENY | Perm.PUB));
  assert.ok(permits(Perm.ANY, Perm.SUB));
  assert.ok(!permits(Perm.ANY, Perm.DENY));
});

test("white-list patterns: addresses, *, ranges, sets, short forms, lists; nonsense refused", () => {
  const m = addressMatcher("10.0.1-3.*, 192.168.0.{1,7}, 172.16.*, ::1");
  for (const ip of ["10.0.2.200", "192.168.0.7", "172.16.9.9", "::1", "::ffff:10.0.3.1"])
    assert.ok(m(ip), ip);
  for (const ip of ["10.0.4.1", "192.168.0.2", "172.17.0.1", "::2", "garbage"]) assert.ok(!m(ip), ip);
  assert.ok(addressMatcher("*")("8.8.8.8"));
  assert.ok(addressMatcher("127.0.0.1")("127.0.0.1"));
  for (const bad of ["10.0.300.1", "10.0", "10..1.1", "10.0.5-2.1", "a.b.c.d"])
    assert.throws(() => addressMatcher(bad), /white remote address/, bad);
});

test("the ACL file: each bad field is named", () => {
  const ok = { accessKey: "ak", secretKey: "sk" };
  const cases: Array<[unknown, RegExp]> = [
    [[], /expected a JSON object/],
    [{ accounts: {} }, /accounts must be a list/],
    [{ accounts: [{ secretKey: "sk" }] }, /accounts\[0\]\.accessKey is required/],
    [{ accounts: [ok, ok] }, /accounts\[1\]\.accessKey ak appears twice/],
    [{ accounts: [{ ...ok, admin: "yes" }] }, /accounts\[0\]\.admin must be true or false/],
    [{ accounts: [{ ...ok, defaultTopicPerm: "ALL" }] }, /accounts\[0\]\.defaultTopicPerm/],
    [{ accounts: [{ ...ok, topicPerms: ["t"] }] }, /accounts\[0\]\.topicPerms: expected "name=PERM"/],
    [{ accounts: [{ ...ok, groupPerms: ["g=WRITE"] }] }, /accounts\[0\]\.groupPerms.*g=WRITE/],
    [{ accounts: [{ ...ok, whiteRemoteAddress: "1.2.3" }] }, /white remote address/],
    [{ globalWhiteRemoteAddresses: "10.*" }, /globalWhiteRemoteAddresses must be a list/],
  ];
  for (const [raw, want] of cases)
    assert.throws(() => readAclConfig(raw, "acl.json"), want, JSON.stringify(raw));
  const cfg = readAclConfig(
    { accounts: [{ ...ok, topicPerms: ["a=b=PUB"] }], globalWhiteRemoteAddresses: ["10.*"] },
    "acl.json",
  );
  assert.deepEqual(cfg.accounts[0]?.topicPerms, ["a=b=PUB"], "the last '=' separates the name");
});

test("the remoting signature: what ali-ons sent, and fields sorted by name with the body last", () => {
  // Captured from ali-ons 3.12.0 (AccessKey AK123, secret SK456) on an UNREGISTER_CLIENT-like header.
  const fields = {
    Signature: "6ZUcdqUqpphz9HMjC0fWPNjr0KY=",
    AccessKey: "AK123",
    OnsChannel: "ALIYUN",
    consumerGroup: "GID_TEST",
  };
  assert.equal(remotingSignature("SK456", fields, undefined), fields.Signature);
  const body = Buffer.from("body");
  const f: Record<string, string> = { b: "2", a: "1" };
  signRemoting(f, body, { accessKey: "K", secretKey: "S" });
  assert.equal(f["AccessKey"], "K");
  assert.equal(f["Signature"], remotingSignature("S", { a: "1", AccessKey: "K", b: "2" }, body));
  assert.notEqual(f["Signature"], remotingSignature("S", { a: "1", AccessKey: "K", b: "2" }, undefined));
  assert.notEqual(f["Signature"], remotingSignature("S", { a: "2", AccessKey: "K", b: "1" }, body));
});

test("AccessControl.check: global white list, account, its white list, signature, then rights", () => {
  const ac = new AccessControl({
    accounts: [
      { accessKey: "admin", secretKey: "as", admin: true },
      {
        accessKey: "app",
        secretKey: "ps",
        whiteRemoteAddress: "10.1.1.*",
        defaultTopicPerm: "SUB",
        topicPerms: ["orders=PUB|SUB", "secret=DENY"],
        groupPerms: ["GID_A=SUB"],
      },
    ],
    globalWhiteRemoteAddresses: ["192.168.9.9"],
  });
  const caller = (accessKey: string | undefined, secret: string | undefined, ip = "10.9.9.9"): Caller => ({
    accessKey,
    ip,
    signedWith: (s) => s === secret,
  });
  const code = (f: () => void): string | undefined => {
    try {
      f();
      return undefined;
    } catch (e) {
      assert.ok(isBrokerError(e), String(e));
      return e.code;
    }
  };
  const pubOrders = { topics: [["orders", Perm.PUB] as const] };
  assert.equal(
    code(() => ac.check(caller(undefined, undefined, "192.168.9.9"), { admin: true })),
    undefined,
  );
  assert.equal(
    code(() => ac.check(caller(undefined, undefined), pubOrders)),
    "UNAUTHENTICATED",
  );
  assert.equal(
    code(() => ac.check(caller("ghost", "x"), pubOrders)),
    "UNAUTHENTICATED",
  );
  assert.equal(
    code(() => ac.check(caller("app", "wrong"), pubOrders)),
    "UNAUTHENTICATED",
  );
  assert.equal(
    code(() => ac.check(caller("app", "wrong", "10.1.1.5"), pubOrders)),
    undefined,
    "white-listed",
  );
  assert.equal(
    code(() => ac.check(caller("app", "ps"), pubOrders)),
    undefined,
  );
  assert.equal(
    code(() => ac.check(caller("app", "ps"), { topics: [["other", Perm.SUB]] })),
    undefined,
  );
  assert.equal(
    code(() => ac.check(caller("app", "ps"), { topics: [["other", Perm.PUB]] })),
    "NO_PERMISSION",
  );
  assert.equal(
    code(() => ac.check(caller("app", "ps"), { topics: [["secret", Perm.SUB]] })),
    "NO_PERMISSION",
  );
  assert.equal(
    code(() => ac.check(caller("app", "ps"), { groups: [["GID_A", Perm.SUB]] })),
    undefined,
  );
  assert.equal(
    code(() => ac.check(caller("app", "ps"), { groups: [["GID_B", Perm.SUB]] })),
    "NO_PERMISSION",
  );
  // A retry topic is its group's.
  assert.equal(
    code(() => ac.check(caller("app", "ps"), { topics: [["%RETRY%GID_A", Perm.PUB]] })),
    undefined,
  );
  assert.equal(
    code(() => ac.check(caller("app", "ps"), { topics: [["%RETRY%GID_B", Perm.PUB]] })),
    "NO_PERMISSION",
  );
  assert.equal(
    code(() => ac.check(caller("app", "ps", "10.1.1.5"), { admin: true })),
    "NO_PERMISSION",
  );
  assert.equal(
    code(() => ac.check(caller("admin", "as"), { admin: true, topics: [["secret", Perm.PUB]] })),
    undefined,
  );
  assert.deepEqual(ac.ownCredentials(), { accessKey: "admin", secretKey: "as" });
  assert.ok(!new AccessControl({ accounts: [], globalWhiteRemoteAddresses: [] }).enabled);
});

test("settings: --acl-file and --accounts together; an account named twice is refused", (t) => {
  const { dir, cleanup } = tempDir("rmq-acl-");
  t.after(cleanup);
  const file = join(dir, "acl.json");
  writeFileSync(
    file,
    JSON.stringify({ accounts: [{ accessKey: "fromFile", secretKey: "s1", topicPerms: ["t=PUB"] }] }),
  );
  const cfg = aclConfigOf({ ...DEFAULT_SETTINGS, aclFile: file, accounts: "cli:s2", httpAccounts: "old:s3" });
  assert.deepEqual(
    cfg.accounts.map((a) => [a.accessKey, a.admin ?? false]),
    [
      ["fromFile", false],
      ["cli", true],
      ["old", true],
    ],
  );
  assert.throws(
    () => aclConfigOf({ ...DEFAULT_SETTINGS, aclFile: file, accounts: "fromFile:x" }),
    /fromFile is configured twice/,
  );
  assert.throws(
    () => aclConfigOf({ ...DEFAULT_SETTINGS, aclFile: join(dir, "missing.json") }),
    /ACL file .*missing\.json/,
  );
});

test("stateful authentication: a connection's checked signature is remembered per account; rights are not", () => {
  const cfg = {
    accounts: [{ accessKey: "app", secretKey: "ps", topicPerms: ["orders=PUB"] }],
    globalWhiteRemoteAddresses: [],
  };
  const connA = {};
  const connB = {};
  let checks = 0;
  const caller = (secret: string, channel: object): Caller => ({
    accessKey: "app",
    ip: "10.0.0.1",
    channel,
    signedWith: (s) => (checks++, s === secret),
  });
  const pub = (topic: string) => ({ topics: [[topic, Perm.PUB] as const] });
  const stateful = new AccessControl({ ...cfg, statefulAuthentication: true });
  assert.throws(() => stateful.check(caller("wrong", connA), pub("orders")), /signature check failed/);
  stateful.check(caller("ps", connA), pub("orders"));
  const before = checks;
  stateful.check(caller("wrong", connA), pub("orders"));
  assert.equal(checks, before, "the same connection's next request is not checked again");
  assert.throws(() => stateful.check(caller("wrong", connA), pub("other")), /may not PUB topic other/);
  assert.throws(() => stateful.check(caller("wrong", connB), pub("orders")), /signature check failed/);
  const stateless = new AccessControl(cfg);
  stateless.check(caller("ps", connA), pub("orders"));
  assert.throws(() => stateless.check(caller("wrong", connA), pub("orders")), /signature check failed/);
  assert.deepEqual(readAclConfig({ statefulAuthentication: true }, "f").statefulAuthentication, true);
  assert.throws(
    () => readAclConfig({ statefulAuthentication: "yes" }, "f"),
    /statefulAuthentication must be/,
  );
});
