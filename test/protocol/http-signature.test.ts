// The HTTP protocol's signature and Content-MD5 rules, against vectors computed independently (Python hmac) in
// the research notes, and the property string format.
import { test } from "node:test";
import assert from "node:assert/strict";
import { checkContentMd5, verifySignature } from "../../src/protocol/http/signature.js";
import { parsePropertyString, visibleProperties } from "../../src/protocol/http/message-codec.js";
import { parseAccountList } from "../../src/broker/acl/acl-config.js";
import { HttpError } from "../../src/protocol/http/http-error.js";
import { encodeProperties } from "../../src/common/properties.js";

const DATE = "Thu, 01 Jan 2026 00:00:00 GMT";
const NOW = Date.parse(DATE);
const accounts = (ak: string) => (ak === "testAk" ? "testSecret" : undefined);

function req(method: string, url: string, signature: string, extra: Record<string, string> = {}) {
  return {
    method,
    url,
    headers: {
      date: DATE,
      "x-mq-version": "2015-06-06",
      "content-type": "text/xml;charset=utf-8",
      authorization: `MQ testAk:${signature}`,
      ...extra,
    },
    body: undefined,
  };
}

const codeOf = (f: () => void) => {
  try {
    f();
    return "ok";
  } catch (e) {
    assert.ok(e instanceof HttpError);
    return e.code;
  }
};

test("known signatures verify; a changed byte does not", () => {
  const url = "/topics/TopicA/messages?consumer=GID_1&numOfMessages=3&waitseconds=3";
  assert.equal(
    codeOf(() => verifySignature(req("GET", url, "kx1JvCjwSujJ/e7dK/4QSWF4JDU="), accounts, 60_000, NOW)),
    "ok",
  );
  const post = req("POST", "/topics/TopicA/messages", "NSDnkyr2LVy8B1Jb5ZwZmE3uUxk=", {
    "content-md5": "ZmYzMzQzY2JiM2Y0YTI2NWQ4NWNiMzIwZjBkODExZDM=",
  });
  assert.equal(
    codeOf(() => verifySignature(post, accounts, 60_000, NOW)),
    "ok",
  );
  assert.equal(
    codeOf(() =>
      verifySignature(
        req("GET", url.replace("3", "4"), "kx1JvCjwSujJ/e7dK/4QSWF4JDU="),
        accounts,
        60_000,
        NOW,
      ),
    ),
    "SignatureDoesNotMatch",
  );
  assert.equal(
    codeOf(() =>
      verifySignature(req("GET", url, "kx1JvCjwSujJ/e7dK/4QSWF4JDU="), accounts, 60_000, NOW + 120_000),
    ),
    "TimeExpired",
  );
  assert.equal(
    codeOf(() =>
      verifySignature(req("GET", url, "x"), (ak) => (ak === "other" ? "s" : undefined), 60_000, NOW),
    ),
    "InvalidAccessKeyId",
  );
  const noAuth = req("GET", url, "");
  delete (noAuth.headers as Record<string, string | undefined>).authorization;
  assert.equal(
    codeOf(() => verifySignature(noAuth, accounts, 60_000, NOW)),
    "MissingAuthorizationHeader",
  );
});

test("Content-MD5 is base64 of the hex digest (the SDK's way) or of the raw digest", () => {
  const body = Buffer.from("hello");
  const hexStyle = Buffer.from("5d41402abc4b2a76b9719d911017c592").toString("base64");
  const rawStyle = Buffer.from("5d41402abc4b2a76b9719d911017c592", "hex").toString("base64");
  for (const md5 of [hexStyle, rawStyle]) {
    assert.equal(
      codeOf(() => checkContentMd5({ method: "POST", url: "/", headers: { "content-md5": md5 }, body })),
      "ok",
    );
  }
  assert.equal(
    codeOf(() =>
      checkContentMd5({
        method: "POST",
        url: "/",
        headers: { "content-md5": hexStyle },
        body: Buffer.from("x"),
      }),
    ),
    "InvalidDigest",
  );
});

test("property strings: parsed leniently, system bookkeeping hidden from consumers", () => {
  assert.deepEqual(
    [...parsePropertyString("a:1|KEYS:k|bad|:x|y:|")],
    [
      ["a", "1"],
      ["KEYS", "k"],
    ],
  );
  const stored = encodeProperties({
    TAGS: "T",
    KEYS: "k1",
    UNIQ_CLIENT_MESSAGE_ID_KEYIDX: "ID",
    __SHARDINGKEY: "s",
    CHECK_IMMUNITY_TIME_IN_SECONDS: "10",
    color: "red",
    "a|b": "x",
  });
  assert.equal(visibleProperties(stored), "KEYS:k1|__SHARDINGKEY:s|__TransCheckT:10|color:red");
  assert.deepEqual(parseAccountList(" ak:sk, ak2:s:k2 "), [
    { accessKey: "ak", secretKey: "sk", admin: true },
    { accessKey: "ak2", secretKey: "s:k2", admin: true },
  ]);
  assert.throws(() => parseAccountList("nosecret"), /accessKey:secretKey/);
});
