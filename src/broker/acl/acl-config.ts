// Access control settings, in the shape of RocketMQ's plain_acl.yml (as JSON): accounts with a secret, an admin
// flag, default and per-resource permissions, and address white lists. No accounts: access control is off and
// every request is served, as before. See README "Access control".
import { parsePerm } from "./permission.js";
import { addressMatcher } from "./remote-address.js";

export interface AclAccountConfig {
  accessKey: string;
  secretKey: string;
  /** Every right, including the admin requests (topic and group creation and deletion, broker config). */
  admin?: boolean;
  /** Requests from these addresses need no signature for this account (RocketMQ's whiteRemoteAddress). */
  whiteRemoteAddress?: string;
  /** Rights on topics not listed in topicPerms: PUB, SUB, PUB|SUB or DENY (the default). */
  defaultTopicPerm?: string;
  /** The same for groups (DENY by default). */
  defaultGroupPerm?: string;
  /** "topic=PERM" entries. */
  topicPerms?: string[];
  /** "group=PERM" entries. */
  groupPerms?: string[];
}

export interface AclConfig {
  accounts: AclAccountConfig[];
  /** Requests from these addresses are served without any check (RocketMQ's globalWhiteRemoteAddresses). */
  globalWhiteRemoteAddresses: string[];
  /**
   * RocketMQ's stateful authentication strategy: once a connection's request passed the signature check for an
   * account, that connection's requests for the account skip it for 60 s (rights are still checked each time).
   * Off by default, as in RocketMQ: every request's signature is checked.
   */
  statefulAuthentication?: boolean;
}

export function emptyAclConfig(): AclConfig {
  return { accounts: [], globalWhiteRemoteAddresses: [] };
}

/** "ak:sk,ak2:sk2" (the --accounts setting): accounts with every right. */
export function parseAccountList(spec: string): AclAccountConfig[] {
  const out: AclAccountConfig[] = [];
  for (const pair of spec.split(/[,;]/)) {
    const t = pair.trim();
    if (!t) continue;
    const i = t.indexOf(":");
    if (i <= 0 || i === t.length - 1) throw new Error(`accounts: expected "accessKey:secretKey", got "${t}"`);
    out.push({ accessKey: t.slice(0, i), secretKey: t.slice(i + 1), admin: true });
  }
  return out;
}

/** Checks a parsed ACL file (JSON) and names the first bad field. */
export function readAclConfig(raw: unknown, source: string): AclConfig {
  const fail = (what: string): never => {
    throw new Error(`${source}: ${what}`);
  };
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) fail("expected a JSON object");
  const o = raw as Record<string, unknown>;
  const strings = (v: unknown, field: string): string[] => {
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v) || v.some((x) => typeof x !== "string")) fail(`${field} must be a list of strings`);
    return v as string[];
  };
  const globals = strings(o["globalWhiteRemoteAddresses"], "globalWhiteRemoteAddresses");
  const stateful = o["statefulAuthentication"];
  if (stateful !== undefined && typeof stateful !== "boolean")
    fail("statefulAuthentication must be true or false");
  for (const g of globals) addressMatcher(g);
  const list = o["accounts"] ?? [];
  if (!Array.isArray(list)) fail("accounts must be a list");
  const seen = new Set<string>();
  const accounts = (list as unknown[]).map((a, i): AclAccountConfig => {
    const at = `accounts[${i}]`;
    if (typeof a !== "object" || a === null) fail(`${at} must be an object`);
    const r = a as Record<string, unknown>;
    const text = (k: string, required: boolean): string | undefined => {
      const v = r[k];
      if (v === undefined || v === null) return required ? fail(`${at}.${k} is required`) : undefined;
      if (typeof v !== "string" || (required && v.length === 0))
        fail(`${at}.${k} must be a non-empty string`);
      return v as string;
    };
    const accessKey = text("accessKey", true)!;
    if (seen.has(accessKey)) fail(`${at}.accessKey ${accessKey} appears twice`);
    seen.add(accessKey);
    const acc: AclAccountConfig = { accessKey, secretKey: text("secretKey", true)! };
    if (r["admin"] !== undefined) {
      if (typeof r["admin"] !== "boolean") fail(`${at}.admin must be true or false`);
      acc.admin = r["admin"] as boolean;
    }
    const white = text("whiteRemoteAddress", false);
    if (white) {
      addressMatcher(white);
      acc.whiteRemoteAddress = white;
    }
    for (const k of ["defaultTopicPerm", "defaultGroupPerm"] as const) {
      const v = text(k, false);
      if (v !== undefined) {
        parsePerm(v, `${source}: ${at}.${k}`);
        acc[k] = v;
      }
    }
    for (const k of ["topicPerms", "groupPerms"] as const) {
      const v = strings(r[k], `${at}.${k}`);
      for (const e of v) resourcePerm(e, `${source}: ${at}.${k}`);
      if (v.length > 0) acc[k] = v;
    }
    return acc;
  });
  return {
    accounts,
    globalWhiteRemoteAddresses: globals,
    ...(stateful === undefined ? {} : { statefulAuthentication: stateful as boolean }),
  };
}

/** "name=PERM" → [name, bits]. */
export function resourcePerm(entry: string, where: string): [string, number] {
  const i = entry.lastIndexOf("=");
  const name = i > 0 ? entry.slice(0, i).trim() : "";
  if (!name) throw new Error(`${where}: expected "name=PERM", got "${entry}"`);
  return [name, parsePerm(entry.slice(i + 1), `${where} (${entry})`)];
}
