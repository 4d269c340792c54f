// Request signatures of the HTTP protocol: "MQ <AccessKey>:<base64(HMAC-SHA1(secret, StringToSign))>", where
// StringToSign = METHOD \n Content-MD5 \n Content-Type \n Date \n x-mq-* headers (sorted, "k:v\n") + the raw
// path and query from /topics/ on. Content-MD5, when sent, is base64 of the body's lower-case hex MD5 (the SDKs
// do that rather than RFC 1864's raw digest; both are accepted).
import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import { HttpError } from "./http-error.js";

export interface SignedRequest {
  method: string;
  /** Raw request URL as received. */
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer | undefined;
}

function header(req: SignedRequest, name: string): string {
  const v = req.headers[name];
  return Array.isArray(v) ? (v[0] ?? "") : (v ?? "");
}

/** Checks Content-MD5 against the body, when the header is present. */
export function checkContentMd5(req: SignedRequest): void {
  const md5 = header(req, "content-md5");
  if (!md5) return;
  const digest = createHash("md5")
    .update(req.body ?? Buffer.alloc(0))
    .digest();
  const sdkStyle = Buffer.from(digest.toString("hex")).toString("base64");
  if (md5 !== sdkStyle && md5 !== digest.toString("base64")) {
    throw new HttpError(400, "InvalidDigest", "Content-MD5 does not match the body");
  }
}

/**
 * Verifies the Authorization header, `secretOf` giving an access key's secret (undefined: no such account), and
 * returns the request's access key; throws the protocol's error when it fails.
 */
export function verifySignature(
  req: SignedRequest,
  secretOf: (accessKey: string) => string | undefined,
  maxSkewMs: number,
  now = Date.now(),
): string {
  const auth = header(req, "authorization");
  if (!auth)
    throw new HttpError(400, "MissingAuthorizationHeader", "the request has no Authorization header");
  const m = /^MQ ([^:\s]+):(\S+)$/.exec(auth);
  if (!m)
    throw new HttpError(
      400,
      "InvalidAuthorizationHeader",
      'Authorization must be "MQ <AccessKey>:<Signature>"',
    );
  const secret = secretOf(m[1]!);
  if (secret === undefined) throw new HttpError(403, "InvalidAccessKeyId", `unknown AccessKey ${m[1]}`);
  const date = header(req, "date");
  const when = Date.parse(date);
  if (!date || Number.isNaN(when))
    throw new HttpError(400, "InvalidDateHeader", "the request needs a valid Date header");
  if (Math.abs(now - when) > maxSkewMs) {
    throw new HttpError(
      408,
      "TimeExpired",
      `the request Date ${date} is more than ${maxSkewMs / 1000} s off`,
    );
  }
  const i = req.url.indexOf("/topics/");
  if (i < 0) throw new HttpError(400, "InvalidRequestURL", "the URL must contain /topics/");
  const mq = Object.keys(req.headers)
    .filter((k) => k.startsWith("x-mq-"))
    .sort()
    .map((k) => `${k}:${header(req, k)}\n`)
    .join("");
  const toSign = `${req.method}\n${header(req, "content-md5")}\n${header(req, "content-type")}\n${date}\n${mq}${req.url.slice(i)}`;
  const want = Buffer.from(createHmac("sha1", secret).update(toSign, "utf8").digest("base64"));
  const got = Buffer.from(m[2]!);
  if (want.length !== got.length || !timingSafeEqual(want, got)) {
    throw new HttpError(403, "SignatureDoesNotMatch", "the request signature does not match");
  }
  return m[1]!;
}
