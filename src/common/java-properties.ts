// Java properties text, the body RocketMQ's admin uses to read and change a NameServer's or broker's settings
// (GET/UPDATE_NAMESRV_CONFIG, GET/UPDATE_BROKER_CONFIG): `key=value` lines. Parsing follows
// java.util.Properties.load closely enough for what admin tools send: comments (# and !), `=` or `:` or blanks
// as the separator, backslash escapes, \uXXXX and continuation lines. Writing is what RocketMQ's
// MixAll.properties2String writes: `key=value` per line, no escaping.

/** Parses properties text; later keys win, as in Properties.load. */
export function parseJavaProperties(text: string): Map<string, string> {
  const out = new Map<string, string>();
  const lines = text.split(/\r\n|\r|\n/);
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i]!.replace(/^[ \t\f]+/, "");
    if (line === "" || line.startsWith("#") || line.startsWith("!")) continue;
    // A line ending in an odd number of backslashes continues on the next one (leading blanks dropped).
    while (/(^|[^\\])(\\\\)*\\$/.test(line) && i + 1 < lines.length) {
      line = line.slice(0, -1) + lines[++i]!.replace(/^[ \t\f]+/, "");
    }
    let k = 0;
    while (k < line.length && !"=: \t\f".includes(line[k]!)) k += line[k] === "\\" ? 2 : 1;
    const key = unescape(line.slice(0, k));
    let v = k;
    while (v < line.length && " \t\f".includes(line[v]!)) v++;
    if (v < line.length && (line[v] === "=" || line[v] === ":")) v++;
    while (v < line.length && " \t\f".includes(line[v]!)) v++;
    out.set(key, unescape(line.slice(v)));
  }
  return out;
}

function unescape(s: string): string {
  if (!s.includes("\\")) return s;
  return s.replace(/\\(u[0-9a-fA-F]{4}|.)/g, (_, c: string) => {
    if (c.length === 5) return String.fromCharCode(parseInt(c.slice(1), 16));
    if (c === "t") return "\t";
    if (c === "n") return "\n";
    if (c === "r") return "\r";
    if (c === "f") return "\f";
    return c;
  });
}

/** `key=value` lines, in the order given. */
export function formatJavaProperties(
  entries: Iterable<readonly [string, string | number | boolean]>,
): string {
  let out = "";
  for (const [k, v] of entries) out += `${k}=${String(v)}\n`;
  return out;
}
