// RocketMQ's ACL signature of a remoting request (the scheme of AclClientRPCHook, which ali-ons follows too):
// base64(HMAC-SHA1(secretKey, the values of every ext field except Signature, ordered by field name, then the
// body)). The AccessKey field is itself one of the signed fields. Clients sign; the broker checks.
import { createHmac } from "node:crypto";

export const ACCESS_KEY_FIELD = "AccessKey";
export const SIGNATURE_FIELD = "Signature";

export interface SessionCredentials {
  accessKey: string;
  secretKey: string;
}

/**
 * The signature of `fields` and `body` under `secret`. `omit` names one more field to leave out: Java clients up
 * to 4.9.3 add `_UNIQUE_KEY_QUERY` after signing, so a broker checks their queries without it.
 */
export function remotingSignature(
  secret: string,
  fields: Record<string, string>,
  body: Buffer | undefined,
  omit?: string,
): string {
  // Sorted by UTF-16 code units, as Java's TreeMap and JavaScript's default sort both order strings.
  const names = Object.keys(fields).sort();
  let text = "";
  for (const k of names) if (k !== SIGNATURE_FIELD && k !== omit) text += fields[k];
  const mac = createHmac("sha1", secret).update(text, "utf8");
  if (body !== undefined && body.length > 0) mac.update(body);
  return mac.digest("base64");
}

/** Adds AccessKey and Signature to a request's ext fields (in place), as a signing client does. */
export function signRemoting(
  fields: Record<string, string>,
  body: Buffer | undefined,
  creds: SessionCredentials,
): void {
  fields[ACCESS_KEY_FIELD] = creds.accessKey;
  fields[SIGNATURE_FIELD] = remotingSignature(creds.secretKey, fields, body);
}
