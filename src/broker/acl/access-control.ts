// Who may do what: RocketMQ's plain ACL, checked the same way for the three protocols. A protocol states who
// is calling (access key, address, and how to check its signature under a secret) and what the request needs
// (admin, or PUB/SUB on topics and groups); check() passes or throws UNAUTHENTICATED / NO_PERMISSION, which
// each protocol maps to its own code at its edge.
//
// The order is RocketMQ's: a globally white-listed address passes; then the account must exist; a request from
// the account's white-listed addresses needs no signature, any other must carry a right one; then the rights.
// One difference: RocketMQ also skips the rights for an account's white-listed address; we check them.
import { BrokerError } from "../../common/errors.js";
import type { SessionCredentials } from "../../common/acl-signature.js";
import { resourcePerm } from "./acl-config.js";
import type { AclAccountConfig, AclConfig } from "./acl-config.js";
import { parsePerm, permName, permits, Perm } from "./permission.js";
import { addressMatcher } from "./remote-address.js";
import type { AddressMatcher } from "./remote-address.js";

export interface Caller {
  /** Undefined when the request carries none. */
  accessKey: string | undefined;
  /** The peer's IP address. */
  ip: string;
  /** Whether the request is signed with this secret. */
  signedWith(secret: string): boolean;
  /** The connection the request came on (stateful authentication remembers a checked signature per connection). */
  channel?: object;
}

export interface Needs {
  admin?: boolean;
  topics?: Array<readonly [string, number]>;
  groups?: Array<readonly [string, number]>;
}

interface Account {
  accessKey: string;
  secretKey: string;
  admin: boolean;
  white: AddressMatcher | undefined;
  defaultTopic: number;
  defaultGroup: number;
  topics: Map<string, number>;
  groups: Map<string, number>;
}

const RETRY_PREFIX = "%RETRY%";
/** How long a connection's checked signature is remembered (RocketMQ's statefulAuthenticationCacheExpiredSecond). */
const STATEFUL_TTL_MS = 60_000;

export class AccessControl {
  private accounts = new Map<string, Account>();
  private globalWhite: AddressMatcher[] = [];
  /** Stateful authentication: per connection, the accounts whose signature passed, and until when. */
  private passed: WeakMap<object, Map<string, number>> | undefined;
  private cfg: AclConfig = { accounts: [], globalWhiteRemoteAddresses: [] };

  constructor(cfg: AclConfig) {
    this.update(cfg);
  }

  /**
   * Takes a new configuration at once (an edited ACL file, as RocketMQ's watcher does): the next request is checked
   * against it, and signatures remembered by stateful authentication are forgotten. Compiled before anything is
   * replaced, so a bad configuration leaves the old one in force.
   */
  update(cfg: AclConfig): void {
    const globalWhite = cfg.globalWhiteRemoteAddresses.map(addressMatcher);
    const accounts = new Map(cfg.accounts.map((a) => [a.accessKey, compile(a)] as const));
    this.globalWhite = globalWhite;
    this.accounts = accounts;
    this.passed = cfg.statefulAuthentication ? new WeakMap() : undefined;
    this.cfg = cfg;
  }

  /** The configuration in force, without the secret keys (for the admin API). */
  describe(): {
    enabled: boolean;
    statefulAuthentication: boolean;
    globalWhiteRemoteAddresses: string[];
    accounts: Array<Omit<AclAccountConfig, "secretKey">>;
  } {
    return {
      enabled: this.enabled,
      statefulAuthentication: this.cfg.statefulAuthentication ?? false,
      globalWhiteRemoteAddresses: [...this.cfg.globalWhiteRemoteAddresses],
      accounts: this.cfg.accounts.map(({ secretKey: _secret, ...rest }) => ({
        ...rest,
        admin: rest.admin ?? false,
      })),
    };
  }

  /** Access control is on when at least one account is configured. */
  get enabled(): boolean {
    return this.accounts.size > 0;
  }

  get accountCount(): number {
    return this.accounts.size;
  }

  /** Requests from this address are served without any check. */
  globallyWhitelisted(ip: string): boolean {
    return this.globalWhite.some((m) => m(ip));
  }

  secretOf(accessKey: string): string | undefined {
    return this.accounts.get(accessKey)?.secretKey;
  }

  /** What a broker signs its own requests to its master with: the first admin account, else the first. */
  ownCredentials(): SessionCredentials | undefined {
    const all = [...this.accounts.values()];
    const a = all.find((x) => x.admin) ?? all[0];
    return a && { accessKey: a.accessKey, secretKey: a.secretKey };
  }

  /** Passes, or throws BrokerError UNAUTHENTICATED or NO_PERMISSION with a reason the caller can act on. */
  check(caller: Caller, needs: Needs): void {
    if (!this.enabled) return;
    if (this.globallyWhitelisted(caller.ip)) return;
    const ak = caller.accessKey;
    if (ak === undefined || ak === "")
      throw new BrokerError("UNAUTHENTICATED", "the request carries no AccessKey");
    const acc = this.accounts.get(ak);
    if (acc === undefined) throw new BrokerError("UNAUTHENTICATED", `no account ${ak}`);
    if (!(acc.white?.(caller.ip) ?? false) && !this.signed(caller, acc))
      throw new BrokerError("UNAUTHENTICATED", `signature check failed for AccessKey ${ak}`);
    if (acc.admin) return;
    if (needs.admin) throw new BrokerError("NO_PERMISSION", `${ak} is not an admin account`);
    for (const [topic, need] of needs.topics ?? []) {
      // A retry topic is its group's: sending to it (a consumer's send-back) is the group's SUB right.
      if (topic.startsWith(RETRY_PREFIX)) {
        this.need(acc, "group", topic.slice(RETRY_PREFIX.length), Perm.SUB);
        continue;
      }
      this.need(acc, "topic", topic, need);
    }
    for (const [group, need] of needs.groups ?? []) this.need(acc, "group", group, need);
  }

  private signed(caller: Caller, acc: Account): boolean {
    if (this.passed === undefined || caller.channel === undefined) return caller.signedWith(acc.secretKey);
    const now = Date.now();
    let seen = this.passed.get(caller.channel);
    const until = seen?.get(acc.accessKey);
    if (until !== undefined && until > now) return true;
    if (!caller.signedWith(acc.secretKey)) return false;
    if (seen === undefined) this.passed.set(caller.channel, (seen = new Map()));
    seen.set(acc.accessKey, now + STATEFUL_TTL_MS);
    return true;
  }

  private need(acc: Account, kind: "topic" | "group", name: string, need: number): void {
    const listed = (kind === "topic" ? acc.topics : acc.groups).get(name);
    const owned = listed ?? (kind === "topic" ? acc.defaultTopic : acc.defaultGroup);
    if (!permits(need, owned)) {
      throw new BrokerError(
        "NO_PERMISSION",
        `${acc.accessKey} may not ${permName(need)} ${kind} ${name}` +
          (listed === undefined ? " (default)" : ""),
      );
    }
  }
}

function compile(a: AclAccountConfig): Account {
  const table = (entries: string[] | undefined, kind: string): Map<string, number> =>
    new Map((entries ?? []).map((e) => resourcePerm(e, `account ${a.accessKey} ${kind}`)));
  return {
    accessKey: a.accessKey,
    secretKey: a.secretKey,
    admin: a.admin ?? false,
    white: a.whiteRemoteAddress ? addressMatcher(a.whiteRemoteAddress) : undefined,
    defaultTopic: a.defaultTopicPerm ? parsePerm(a.defaultTopicPerm, "defaultTopicPerm") : Perm.DENY,
    defaultGroup: a.defaultGroupPerm ? parsePerm(a.defaultGroupPerm, "defaultGroupPerm") : Perm.DENY,
    topics: table(a.topicPerms, "topicPerms"),
    groups: table(a.groupPerms, "groupPerms"),
  };
}

export const NO_ACCESS_CONTROL = new AccessControl({ accounts: [], globalWhiteRemoteAddresses: [] });
