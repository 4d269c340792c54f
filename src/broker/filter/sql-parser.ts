// Recursive-descent parser for RocketMQ's SQL92 selector, with the compile-time checks of its filter module
// (ComparisonExpression.checkLessThanOperand / checkEqualOperand, createBetween, createInFilter, asBooleanExpression).
//
//   expr       := or EOF
//   or         := and (OR and)*
//   and        := not (AND not)*
//   not        := NOT not | equality
//   equality   := comparison ( ('=' | '<>') comparison | IS [NOT] NULL )*
//   comparison := unary ( ('<' | '<=' | '>' | '>=') unary
//                       | [NOT] BETWEEN unary AND unary
//                       | [NOT] IN '(' string (',' string)* ')'
//                       | [NOT] (CONTAINS | STARTSWITH | ENDSWITH) string )*
//   unary      := ('+' | '-') unary | primary
//   primary    := string | integer | decimal | TRUE | FALSE | NULL | identifier | '(' or ')'
//
// One deliberate difference from RocketMQ's grammar: there, prefix NOT is a unary operator binding tighter than
// comparisons, so `NOT a = 1` means `(NOT a) = 1` and `NOT a > 1` is rejected. Here NOT negates a whole
// comparison, as in SQL. The two agree on every expression whose NOT operand is parenthesised or a boolean.
// Also, RocketMQ's parser stops after the first complete expression and ignores what follows (`a = 1 b` and
// `a = 1)` are accepted there); here trailing tokens are an error.
import { type Keyword, type Punct, type Token, describeToken, syntaxError, tokenize } from "./sql-lexer.js";

export type Literal = string | bigint | number | boolean | null;
export type OrderOp = "<" | "<=" | ">" | ">=";
export type StringOp = "CONTAINS" | "STARTSWITH" | "ENDSWITH";

type NodeBody =
  | { k: "lit"; pos: number; v: Literal }
  | { k: "prop"; pos: number; name: string }
  | { k: "neg"; pos: number; e: Node }
  | { k: "and" | "or"; pos: number; items: Node[] }
  | { k: "not"; pos: number; e: Node }
  /** A property used where a condition is expected (RocketMQ's boolean cast). */
  | { k: "cast"; pos: number; name: string }
  | { k: "eq"; pos: number; l: Node; r: Node; not: boolean }
  | { k: "order"; pos: number; op: OrderOp; l: Node; r: Node }
  | { k: "isnull"; pos: number; e: Node; not: boolean }
  | { k: "between"; pos: number; e: Node; lo: Node; hi: Node; not: boolean }
  | { k: "in"; pos: number; name: string; values: string[]; not: boolean }
  | { k: "strop"; pos: number; op: StringOp; e: Node; s: string; not: boolean };

/** A syntax tree node; `d` is the depth of the subtree (bounded so evaluation cannot overflow the stack). */
export type Node = NodeBody & { d: number };

/** Parenthesis, NOT and sign nesting allowed in the source. */
export const MAX_NESTING = 100;
/** Depth allowed in the tree, which left-nested chains such as `a IS NULL IS NULL ...` also grow. */
export const MAX_DEPTH = 200;

function mk<T extends NodeBody>(body: T, ...children: Node[]): T & { d: number } {
  let d = 0;
  for (const c of children) if (c.d > d) d = c.d;
  d += 1;
  if (d > MAX_DEPTH) syntaxError(body.pos, `expression is nested more than ${MAX_DEPTH} levels deep`);
  return Object.assign(body, { d });
}

/** Whether a node yields TRUE / FALSE / NULL (a JMS BooleanExpression) rather than a plain value. */
export function isCondition(n: Node): boolean {
  switch (n.k) {
    case "lit":
      return typeof n.v === "boolean" || n.v === null;
    case "prop":
    case "neg":
      return false;
    default:
      return true;
  }
}

function describeNode(n: Node): string {
  switch (n.k) {
    case "lit":
      if (n.v === null) return "NULL";
      if (typeof n.v === "boolean") return n.v ? "TRUE" : "FALSE";
      if (typeof n.v === "string") {
        const s = n.v.length > 24 ? n.v.slice(0, 24) + "…" : n.v;
        return `string '${s.replace(/'/g, "''")}'`;
      }
      return `number ${String(n.v)}`;
    case "prop":
      return `property ${n.name}`;
    case "neg":
      return "a signed value";
    default:
      return "a condition";
  }
}

function isNumberLit(n: Node): n is Node & { k: "lit"; v: bigint | number } {
  return n.k === "lit" && (typeof n.v === "bigint" || typeof n.v === "number");
}

class Parser {
  private i = 0;
  private nesting = 0;
  constructor(private readonly toks: Token[]) {}

  private peek(ahead = 0): Token {
    const t = this.toks[Math.min(this.i + ahead, this.toks.length - 1)];
    if (!t) throw new Error("token list is empty");
    return t;
  }
  private next(): Token {
    const t = this.peek();
    if (this.i < this.toks.length - 1) this.i++;
    return t;
  }
  private isKw(t: Token, ...kws: Keyword[]): boolean {
    return t.kind === "kw" && kws.includes(t.kw);
  }
  private isPunct(t: Token, ...ps: Punct[]): boolean {
    return t.kind === "punct" && ps.includes(t.p);
  }
  private fail(t: Token, expected: string): never {
    return syntaxError(t.pos, `expected ${expected} but found ${describeToken(t)}`);
  }
  private enter(t: Token): void {
    if (++this.nesting > MAX_NESTING) {
      syntaxError(t.pos, `expression is nested more than ${MAX_NESTING} levels deep`);
    }
  }
  private leave(): void {
    this.nesting--;
  }

  parseSelector(): Node {
    const e = this.parseOr();
    const t = this.peek();
    if (t.kind !== "eof") {
      if (this.isPunct(t, ")")) syntaxError(t.pos, "unbalanced ')' with no matching '('");
      this.fail(t, "AND, OR, a comparison or the end of the expression");
    }
    return this.asCondition(e);
  }

  /** RocketMQ's asBooleanExpression: conditions pass, a property is cast, anything else is rejected. */
  private asCondition(n: Node): Node {
    if (isCondition(n)) return n;
    if (n.k === "prop") return mk({ k: "cast", pos: n.pos, name: n.name });
    return syntaxError(n.pos, `expected a condition but found ${describeNode(n)}, which is not a boolean`);
  }

  private parseOr(): Node {
    const first = this.parseAnd();
    if (!this.isKw(this.peek(), "OR")) return first;
    const items: Node[] = [];
    const add = (n: Node) => {
      const c = this.asCondition(n);
      if (c.k === "or") items.push(...c.items);
      else items.push(c);
    };
    add(first);
    while (this.isKw(this.peek(), "OR")) {
      this.next();
      add(this.parseAnd());
    }
    return mk({ k: "or", pos: first.pos, items }, ...items);
  }

  private parseAnd(): Node {
    const first = this.parseNot();
    if (!this.isKw(this.peek(), "AND")) return first;
    const items: Node[] = [];
    const add = (n: Node) => {
      const c = this.asCondition(n);
      if (c.k === "and") items.push(...c.items);
      else items.push(c);
    };
    add(first);
    while (this.isKw(this.peek(), "AND")) {
      this.next();
      add(this.parseNot());
    }
    return mk({ k: "and", pos: first.pos, items }, ...items);
  }

  private parseNot(): Node {
    const t = this.peek();
    if (!this.isKw(t, "NOT")) return this.parseEquality();
    this.next();
    this.enter(t);
    const e = this.asCondition(this.parseNot());
    this.leave();
    return mk({ k: "not", pos: t.pos, e }, e);
  }

  private parseEquality(): Node {
    let l = this.parseComparison();
    for (;;) {
      const t = this.peek();
      if (this.isPunct(t, "=", "<>")) {
        this.next();
        const r = this.parseComparison();
        const op = t.kind === "punct" ? t.p : "=";
        this.checkEqualOperands(l, r, op, t.pos);
        l = mk({ k: "eq", pos: l.pos, l, r, not: op === "<>" }, l, r);
      } else if (this.isKw(t, "IS")) {
        this.next();
        let not = false;
        if (this.isKw(this.peek(), "NOT")) {
          this.next();
          not = true;
        }
        const n = this.peek();
        if (!this.isKw(n, "NULL")) this.fail(n, not ? "NULL after IS NOT" : "NULL or NOT NULL after IS");
        this.next();
        l = mk({ k: "isnull", pos: l.pos, e: l, not }, l);
      } else {
        return l;
      }
    }
  }

  private parseComparison(): Node {
    let l = this.parseUnary();
    for (;;) {
      const t = this.peek();
      if (t.kind === "punct" && (t.p === "<" || t.p === "<=" || t.p === ">" || t.p === ">=")) {
        this.next();
        const r = this.parseUnary();
        this.checkOrderOperand(l, `'${t.p}'`);
        this.checkOrderOperand(r, `'${t.p}'`);
        l = mk({ k: "order", pos: l.pos, op: t.p, l, r }, l, r);
        continue;
      }
      let not = false;
      let op = t;
      if (this.isKw(t, "NOT")) {
        op = this.peek(1);
        if (!this.isKw(op, "BETWEEN", "IN", "CONTAINS", "STARTSWITH", "ENDSWITH")) {
          this.fail(op, "BETWEEN, IN, CONTAINS, STARTSWITH or ENDSWITH after NOT");
        }
        this.next();
        not = true;
      }
      if (op.kind !== "kw") return l;
      switch (op.kw) {
        case "BETWEEN": {
          this.next();
          const lo = this.parseUnary();
          const and = this.peek();
          if (!this.isKw(and, "AND")) this.fail(and, "AND between the bounds of BETWEEN");
          this.next();
          const hi = this.parseUnary();
          for (const n of [l, lo, hi]) this.checkOrderOperand(n, not ? "NOT BETWEEN" : "BETWEEN");
          if (isNumberLit(lo) && isNumberLit(hi) && Number(lo.v) > Number(hi.v)) {
            syntaxError(
              lo.pos,
              `BETWEEN lower bound ${String(lo.v)} is greater than upper bound ${String(hi.v)}`,
            );
          }
          l = mk({ k: "between", pos: l.pos, e: l, lo, hi, not }, l, lo, hi);
          continue;
        }
        case "IN": {
          if (l.k !== "prop") {
            syntaxError(
              l.pos,
              `${not ? "NOT IN" : "IN"} needs a property name on its left, not ${describeNode(l)}`,
            );
          }
          this.next();
          const open = this.peek();
          if (!this.isPunct(open, "(")) this.fail(open, "'(' after IN");
          this.next();
          const values: string[] = [];
          for (;;) {
            const v = this.peek();
            if (v.kind !== "str") this.fail(v, "a string literal in the IN list");
            values.push(v.value);
            this.next();
            const sep = this.peek();
            if (this.isPunct(sep, ",")) {
              this.next();
              continue;
            }
            if (this.isPunct(sep, ")")) {
              this.next();
              break;
            }
            this.fail(sep, "',' or ')' in the IN list");
          }
          l = mk({ k: "in", pos: l.pos, name: l.name, values, not });
          continue;
        }
        case "CONTAINS":
        case "STARTSWITH":
        case "ENDSWITH": {
          this.next();
          const s = this.peek();
          if (s.kind !== "str") this.fail(s, `a string literal after ${op.kw}`);
          this.next();
          l = mk({ k: "strop", pos: l.pos, op: op.kw, e: l, s: s.value, not }, l);
          continue;
        }
        default:
          return l;
      }
    }
  }

  private parseUnary(): Node {
    const t = this.peek();
    if (!this.isPunct(t, "+", "-")) return this.parsePrimary();
    this.next();
    this.enter(t);
    const e = this.parseUnary();
    this.leave();
    const sign = t.kind === "punct" ? t.p : "-";
    if (e.k === "lit") {
      if (typeof e.v === "bigint") return sign === "-" ? mk({ k: "lit", pos: t.pos, v: -e.v }) : e;
      if (typeof e.v === "number") return sign === "-" ? mk({ k: "lit", pos: t.pos, v: -e.v }) : e;
    }
    if (e.k !== "prop" && e.k !== "neg") {
      syntaxError(e.pos, `'${sign}' must be followed by a number or a property, not ${describeNode(e)}`);
    }
    return sign === "-" ? mk({ k: "neg", pos: t.pos, e }, e) : e;
  }

  private parsePrimary(): Node {
    const t = this.peek();
    switch (t.kind) {
      case "str":
      case "int":
      case "float":
        this.next();
        return mk({ k: "lit", pos: t.pos, v: t.value });
      case "id":
        this.next();
        return mk({ k: "prop", pos: t.pos, name: t.name });
      case "kw":
        if (t.kw === "TRUE" || t.kw === "FALSE" || t.kw === "NULL") {
          this.next();
          return mk({ k: "lit", pos: t.pos, v: t.kw === "NULL" ? null : t.kw === "TRUE" });
        }
        break;
      case "punct":
        if (t.p === "(") {
          this.next();
          this.enter(t);
          const e = this.parseOr();
          this.leave();
          const close = this.peek();
          if (!this.isPunct(close, ")")) this.fail(close, `')' to close the '(' at position ${t.pos + 1}`);
          this.next();
          return e;
        }
        break;
      default:
        break;
    }
    return this.fail(t, "a property name, a literal or '('");
  }

  /** checkLessThanOperand: ordering takes numbers, properties and signed values; not strings or conditions. */
  private checkOrderOperand(n: Node, op: string): void {
    if (n.k === "prop" || n.k === "neg" || isNumberLit(n)) return;
    syntaxError(n.pos, `${describeNode(n)} cannot be used with ${op}, which compares numbers`);
  }

  /** checkEqualOperand and checkEqualOperandCompatability. */
  private checkEqualOperands(l: Node, r: Node, op: string, pos: number): void {
    for (const n of [l, r]) {
      if (n.k === "lit" && n.v === null) {
        syntaxError(n.pos, `NULL cannot be compared with '${op}', use IS NULL or IS NOT NULL`);
      }
    }
    if (l.k === "lit" && r.k === "lit" && (typeof l.v === "boolean") !== (typeof r.v === "boolean")) {
      syntaxError(pos, `${describeNode(l)} cannot be compared with ${describeNode(r)}`);
    }
  }
}

/** Parses a selector into a tree whose root is a condition; throws Sql92SyntaxError (a BrokerError). */
export function parseSql92(expression: string): Node {
  return new Parser(tokenize(expression)).parseSelector();
}
