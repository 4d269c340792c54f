// Permissions of RocketMQ's plain ACL: bits an account owns on a topic or a group, and what a request needs.
// An owned DENY refuses everything; ANY (needed) is satisfied by PUB or SUB.

export const Perm = {
  DENY: 1,
  ANY: 2,
  PUB: 4,
  SUB: 8,
} as const;

/** "PUB", "SUB", "PUB|SUB", "SUB|PUB" or "DENY" (as plain_acl.yml writes them); anything else is an error. */
export function parsePerm(text: string, where: string): number {
  switch (text.replace(/\s+/g, "").toUpperCase()) {
    case "PUB":
      return Perm.PUB;
    case "SUB":
      return Perm.SUB;
    case "PUB|SUB":
    case "SUB|PUB":
      return Perm.PUB | Perm.SUB;
    case "DENY":
      return Perm.DENY;
    default:
      throw new Error(`${where}: expected PUB, SUB, PUB|SUB or DENY, got "${text}"`);
  }
}

export function permits(needed: number, owned: number): boolean {
  if (owned & Perm.DENY) return false;
  if (needed & Perm.ANY) return (owned & (Perm.PUB | Perm.SUB)) !== 0;
  return (needed & owned) !== 0;
}

export function permName(p: number): string {
  if (p & Perm.ANY) return "PUB or SUB";
  return [p & Perm.PUB ? "PUB" : "", p & Perm.SUB ? "SUB" : ""].filter(Boolean).join("|") || "DENY";
}
