// Access control on the HTTP endpoint: the request's own signature scheme (signature.ts) proves the account,
// then the broker's ACL decides the rights: publishing (and ending or pulling transaction checks) needs PUB on
// the topic, consuming and acking need SUB on the topic and on the group (the consumer).
import type { AccessControl, Needs } from "../../broker/acl/access-control.js";
import { Perm } from "../../broker/acl/permission.js";
import type { SignedRequest } from "./signature.js";
import { verifySignature } from "./signature.js";

export function checkAccess(
  acl: AccessControl,
  signed: SignedRequest,
  ip: string,
  method: string,
  topic: string,
  query: Record<string, string | undefined>,
  maxSkewMs: number,
): void {
  if (!acl.enabled || acl.globallyWhitelisted(ip)) return;
  const accessKey = verifySignature(signed, (ak) => acl.secretOf(ak), maxSkewMs);
  acl.check({ accessKey, ip, signedWith: () => true }, needsOf(method, topic, query));
}

function needsOf(method: string, topic: string, query: Record<string, string | undefined>): Needs {
  const trans = query["trans"];
  if (method === "POST" || trans === "pop" || trans === "commit" || trans === "rollback")
    return { topics: [[topic, Perm.PUB]] };
  const group = query["consumer"];
  return { topics: [[topic, Perm.SUB]], groups: group ? [[group, Perm.SUB]] : [] };
}
