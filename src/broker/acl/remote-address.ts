// Address patterns of RocketMQ's ACL white lists: "*" (anyone), an address ("192.168.0.7", "::1"), IPv4 patterns
// whose parts are "*", a number, a range "1-100" or a set "{1,2,9}" ("192.168.*", "10.0.1-3.*",
// "192.168.0.{1,2}"), and comma-separated lists of those.

export type AddressMatcher = (ip: string) => boolean;

export function addressMatcher(pattern: string): AddressMatcher {
  const alternatives = splitTopLevel(pattern.trim());
  const parts = alternatives.map(one);
  return (ip) => parts.some((m) => m(normalise(ip)));
}

// "::ffff:10.0.0.1" is how Node reports an IPv4 peer on a dual-stack socket.
function normalise(ip: string): string {
  return ip.startsWith("::ffff:") && ip.includes(".") ? ip.slice(7) : ip;
}

function splitTopLevel(p: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = "";
  for (const ch of p) {
    if (ch === "{") depth++;
    if (ch === "}") depth--;
    if (ch === "," && depth === 0) {
      out.push(cur.trim());
      cur = "";
    } else cur += ch;
  }
  out.push(cur.trim());
  return out.filter((s) => s.length > 0);
}

function one(p: string): AddressMatcher {
  if (p === "*" || p === "*.*.*.*") return () => true;
  if (p.includes(":")) {
    const want = normalise(p).toLowerCase();
    return (ip) => ip.toLowerCase() === want;
  }
  const segs = p.split(".");
  if (segs.length > 4 || segs.some((s) => s.length === 0))
    throw new Error(`white remote address: cannot read "${p}"`);
  // A pattern with fewer than four parts must end in "*", which then covers the rest ("192.168.*").
  if (segs.length < 4 && segs[segs.length - 1] !== "*")
    throw new Error(`white remote address: "${p}" has fewer than four parts and does not end in *`);
  const tests = segs.map((s) => segment(s, p));
  return (ip) => {
    const got = ip.split(".");
    if (got.length !== 4 || got.some((g) => !/^\d{1,3}$/.test(g))) return false;
    // Parts past a short pattern's end fall under its final "*".
    return got.every((g, i) => tests[Math.min(i, tests.length - 1)]!(Number(g)));
  };
}

function segment(s: string, whole: string): (n: number) => boolean {
  if (s === "*") return () => true;
  const bad = (): never => {
    throw new Error(`white remote address: cannot read "${s}" in "${whole}"`);
  };
  const num = (t: string): number => {
    if (!/^\d{1,3}$/.test(t)) bad();
    const n = Number(t);
    if (n > 255) bad();
    return n;
  };
  if (s.startsWith("{") && s.endsWith("}")) {
    const set = new Set(
      s
        .slice(1, -1)
        .split(",")
        .map((t) => num(t.trim())),
    );
    return (n) => set.has(n);
  }
  const dash = s.indexOf("-");
  if (dash > 0) {
    const lo = num(s.slice(0, dash));
    const hi = num(s.slice(dash + 1));
    if (lo > hi) bad();
    return (n) => n >= lo && n <= hi;
  }
  const v = num(s);
  return (n) => n === v;
}
