// Tokenizer for RocketMQ's SQL92 message selector (the token set of the filter module's SelectorParser grammar):
// case-insensitive keywords, identifiers `[A-Za-z_$][A-Za-z0-9_$]*`, single-quoted strings with '' as the escape,
// integer literals (optional L suffix, 64-bit range), decimal/exponent literals, the operators = <> < <= > >=,
// ( ) , + -, and `--` line and `/* */` block comments. Every error names the 1-based character position.
import { BrokerError } from "../../common/errors.js";

/** A rejected expression. `position` counts characters from 1; it is also in the message. */
export class Sql92SyntaxError extends BrokerError {
  readonly position: number;
  constructor(position: number, detail: string) {
    super("SUBSCRIPTION_PARSE_FAILED", `SQL92 syntax error at position ${position}: ${detail}`);
    this.position = position;
  }
}

/** Throws a syntax error at 0-based offset `offset` of the expression. */
export function syntaxError(offset: number, detail: string): never {
  throw new Sql92SyntaxError(offset + 1, detail);
}

export const KEYWORDS = [
  "NOT",
  "AND",
  "OR",
  "BETWEEN",
  "IN",
  "TRUE",
  "FALSE",
  "NULL",
  "IS",
  "CONTAINS",
  "STARTSWITH",
  "ENDSWITH",
] as const;
export type Keyword = (typeof KEYWORDS)[number];
const KEYWORD_SET: ReadonlySet<string> = new Set(KEYWORDS);

export type Punct = "=" | "<>" | "<" | "<=" | ">" | ">=" | "(" | ")" | "," | "+" | "-";

export type Token =
  | { kind: "id"; pos: number; name: string }
  | { kind: "kw"; pos: number; kw: Keyword }
  | { kind: "str"; pos: number; value: string }
  | { kind: "int"; pos: number; value: bigint; text: string }
  | { kind: "float"; pos: number; value: number; text: string }
  | { kind: "punct"; pos: number; p: Punct }
  | { kind: "eof"; pos: number };

const LONG_MAX = (1n << 63n) - 1n;

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}
function isIdStart(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c === 36;
}
function isIdPart(c: number): boolean {
  return isIdStart(c) || isDigit(c);
}

function shorten(s: string, max = 24): string {
  return s.length > max ? s.slice(0, max) + "…" : s;
}

/** How a token is named in error messages. */
export function describeToken(t: Token): string {
  switch (t.kind) {
    case "eof":
      return "end of expression";
    case "id":
      return `identifier ${shorten(t.name)}`;
    case "kw":
      return `keyword ${t.kw}`;
    case "str":
      return `string '${shorten(t.value.replace(/'/g, "''"))}'`;
    case "int":
    case "float":
      return `number ${shorten(t.text)}`;
    case "punct":
      return `'${t.p}'`;
  }
}

export function tokenize(src: string): Token[] {
  const out: Token[] = [];
  const n = src.length;
  let i = 0;
  while (i < n) {
    const c = src.charCodeAt(i);
    // White space: the grammar's " ", \t, \n, \r, \f.
    if (c === 32 || c === 9 || c === 10 || c === 13 || c === 12) {
      i++;
      continue;
    }
    // `--` comment to end of line (or of input).
    if (c === 45 && src.charCodeAt(i + 1) === 45) {
      while (i < n && src.charCodeAt(i) !== 10 && src.charCodeAt(i) !== 13) i++;
      continue;
    }
    if (c === 47 && src.charCodeAt(i + 1) === 42) {
      const end = src.indexOf("*/", i + 2);
      if (end < 0) syntaxError(i, "unterminated comment: '/*' has no closing '*/'");
      i = end + 2;
      continue;
    }
    if (c === 39) {
      i = lexString(src, i, out);
      continue;
    }
    if (isDigit(c) || (c === 46 && isDigit(src.charCodeAt(i + 1)))) {
      i = lexNumber(src, i, out);
      continue;
    }
    if (isIdStart(c)) {
      const start = i;
      while (i < n && isIdPart(src.charCodeAt(i))) i++;
      const word = src.slice(start, i);
      const upper = word.toUpperCase();
      if (KEYWORD_SET.has(upper)) out.push({ kind: "kw", pos: start, kw: upper as Keyword });
      else out.push({ kind: "id", pos: start, name: word });
      continue;
    }
    const next = src[i + 1];
    switch (src[i]) {
      case "=":
      case "(":
      case ")":
      case ",":
      case "+":
      case "-":
        out.push({ kind: "punct", pos: i, p: src[i] as Punct });
        i++;
        continue;
      case "<":
        if (next === ">" || next === "=") {
          out.push({ kind: "punct", pos: i, p: next === ">" ? "<>" : "<=" });
          i += 2;
        } else {
          out.push({ kind: "punct", pos: i, p: "<" });
          i++;
        }
        continue;
      case ">":
        if (next === "=") {
          out.push({ kind: "punct", pos: i, p: ">=" });
          i += 2;
        } else {
          out.push({ kind: "punct", pos: i, p: ">" });
          i++;
        }
        continue;
      case "!":
        if (next === "=") syntaxError(i, "'!=' is not supported, use '<>'");
        syntaxError(i, "unexpected character '!', use NOT");
        break;
      case "&":
        syntaxError(i, "unexpected character '&', use AND");
        break;
      case "|":
        syntaxError(i, "unexpected character '|', use OR");
        break;
      case '"':
        syntaxError(i, "unexpected character '\"', string literals are written in single quotes");
        break;
      default: {
        const cp = src.codePointAt(i) ?? c;
        const shown =
          cp < 32 || cp === 127
            ? `U+${cp.toString(16).toUpperCase().padStart(4, "0")}`
            : String.fromCodePoint(cp);
        syntaxError(i, `unexpected character '${shown}'`);
      }
    }
  }
  out.push({ kind: "eof", pos: n });
  return out;
}

function lexString(src: string, start: number, out: Token[]): number {
  let value = "";
  let i = start + 1;
  let from = i;
  for (;;) {
    const q = src.indexOf("'", i);
    if (q < 0) syntaxError(start, "unterminated string literal: missing closing quote");
    if (src.charCodeAt(q + 1) === 39) {
      value += src.slice(from, q + 1);
      i = from = q + 2;
      continue;
    }
    value += src.slice(from, q);
    out.push({ kind: "str", pos: start, value });
    return q + 1;
  }
}

function lexNumber(src: string, start: number, out: Token[]): number {
  const n = src.length;
  let i = start;
  while (i < n && isDigit(src.charCodeAt(i))) i++;
  let isFloat = false;
  if (src.charCodeAt(i) === 46) {
    isFloat = true;
    i++;
    while (i < n && isDigit(src.charCodeAt(i))) i++;
  }
  const e = src.charCodeAt(i);
  if (e === 69 || e === 101) {
    let j = i + 1;
    const sign = src.charCodeAt(j);
    if (sign === 43 || sign === 45) j++;
    if (isDigit(src.charCodeAt(j))) {
      isFloat = true;
      while (j < n && isDigit(src.charCodeAt(j))) j++;
      i = j;
    }
  }
  const text = src.slice(start, i);
  if (isFloat) {
    if (isIdPart(src.charCodeAt(i)) || src.charCodeAt(i) === 46) {
      syntaxError(i, `unexpected character '${src[i]}' after number ${shorten(text)}`);
    }
    const value = Number(text);
    if (!Number.isFinite(value))
      syntaxError(start, `number ${shorten(text)} is out of the range of a double`);
    out.push({ kind: "float", pos: start, value, text });
    return i;
  }
  let end = i;
  const suffix = src.charCodeAt(i);
  if (suffix === 76 || suffix === 108) end = i + 1;
  if (isIdPart(src.charCodeAt(end)) || src.charCodeAt(end) === 46) {
    syntaxError(end, `unexpected character '${src[end]}' after number ${shorten(src.slice(start, end))}`);
  }
  if (text.length > 1 && text.charCodeAt(0) === 48) {
    syntaxError(start, `integer ${shorten(text)} has a leading zero`);
  }
  // Long.MAX_VALUE has 19 digits; a longer text is out of range without parsing it.
  const value = text.length > 19 ? LONG_MAX + 1n : BigInt(text);
  if (value > LONG_MAX) syntaxError(start, `integer ${shorten(text)} is out of the range of a 64-bit long`);
  out.push({ kind: "int", pos: start, value, text: src.slice(start, end) });
  return end;
}
