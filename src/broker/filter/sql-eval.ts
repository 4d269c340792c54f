// Evaluation of a parsed SQL92 selector against message properties, in SQL's three-valued logic: a condition is
// TRUE, FALSE or NULL (unknown), and a message matches only when the whole selector is TRUE.
//
// Values: property values are strings; literals are strings, 64-bit integers (bigint), doubles, booleans or NULL.
// Following RocketMQ's ComparisonExpression (which runs with string conversion switched on):
//  * A missing property is NULL. Comparisons, BETWEEN, IN and the boolean cast of a NULL are NULL; IS NULL is TRUE.
//  * `<`, `<=`, `>`, `>=` and BETWEEN compare numerically; a string operand is read as a number. A string that is
//    not a number makes the comparison NULL (RocketMQ throws, and its broker treats the throw as no match).
//  * `=` / `<>`: equal types compare directly (strings exactly); a string against a number is read as a number
//    (NULL when it is not one); a string against TRUE/FALSE is read as a boolean (only "true", in any case, is
//    TRUE); a number against a boolean is unequal.
//  * IN compares the property's string exactly, with no numeric conversion.
//  * CONTAINS / STARTSWITH / ENDSWITH are never NULL: they are FALSE (with or without NOT) for an empty search
//    string and for an operand that is missing or not a string.
//  * A bare property used as a condition is NULL when missing and otherwise FALSE (its value is a string, never a
//    boolean), as in RocketMQ.
//  * Unary minus reads a string operand as a number (RocketMQ yields NULL for a negated string).
import type { Literal, Node } from "./sql-parser.js";

export type Value = Literal;
export type PropertyLookup = (name: string) => string | undefined;
export type Evaluator = (get: PropertyLookup) => Value;
type Num = bigint | number;

const INT_RE = /^[+-]?\d+$/;
const DECIMAL_RE = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** Reads a property string as a number: integers exactly (as bigint), decimals as doubles; else undefined. */
export function parseNumber(s: string): Num | undefined {
  if (s.length <= 20 && INT_RE.test(s)) return BigInt(s);
  if (DECIMAL_RE.test(s)) return Number(s);
  return undefined;
}

function toNum(v: Value): Num | undefined {
  if (typeof v === "bigint" || typeof v === "number") return v;
  if (typeof v === "string") return parseNumber(v);
  return undefined;
}

function compareNum(a: Num, b: Num): number {
  if (typeof a === "bigint" && typeof b === "bigint") return a < b ? -1 : a > b ? 1 : 0;
  const x = Number(a);
  const y = Number(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Java's Boolean.valueOf(String). */
function stringAsBoolean(s: string): boolean {
  return s.length === 4 && s.toLowerCase() === "true";
}

/** -1 / 0 / 1, or null when either side is NULL or not a number. */
export function order(l: Value, r: Value): number | null {
  if (l === null || r === null) return null;
  const a = toNum(l);
  const b = toNum(r);
  if (a === undefined || b === undefined) return null;
  return compareNum(a, b);
}

export function equals(l: Value, r: Value): boolean | null {
  if (l === null || r === null) return null;
  if (typeof l === typeof r) return l === r;
  if (typeof l === "boolean" || typeof r === "boolean") {
    const b = typeof l === "boolean" ? l : (r as boolean);
    const other = typeof l === "boolean" ? r : l;
    return typeof other === "string" ? stringAsBoolean(other) === b : false;
  }
  const a = toNum(l);
  const b = toNum(r);
  if (a === undefined || b === undefined) return null;
  return compareNum(a, b) === 0;
}

function not(v: boolean | null): boolean | null {
  return v === null ? null : !v;
}

function asCondition(v: Value): boolean | null {
  return typeof v === "boolean" ? v : null;
}

/** Turns a tree into a closure. Its depth is bounded by the parser, so the recursion here is too. */
export function compileNode(n: Node): Evaluator {
  switch (n.k) {
    case "lit": {
      const v = n.v;
      return () => v;
    }
    case "prop": {
      const name = n.name;
      return (get) => get(name) ?? null;
    }
    case "neg": {
      const e = compileNode(n.e);
      return (get) => {
        const v = toNum(e(get));
        return v === undefined ? null : -v;
      };
    }
    case "cast": {
      const name = n.name;
      return (get) => (get(name) === undefined ? null : false);
    }
    case "not": {
      const e = compileNode(n.e);
      return (get) => not(asCondition(e(get)));
    }
    case "and": {
      const items = n.items.map(compileNode);
      return (get) => {
        let unknown = false;
        for (const item of items) {
          const v = asCondition(item(get));
          if (v === false) return false;
          if (v === null) unknown = true;
        }
        return unknown ? null : true;
      };
    }
    case "or": {
      const items = n.items.map(compileNode);
      return (get) => {
        let unknown = false;
        for (const item of items) {
          const v = asCondition(item(get));
          if (v === true) return true;
          if (v === null) unknown = true;
        }
        return unknown ? null : false;
      };
    }
    case "eq": {
      const l = compileNode(n.l);
      const r = compileNode(n.r);
      return n.not ? (get) => not(equals(l(get), r(get))) : (get) => equals(l(get), r(get));
    }
    case "order": {
      const l = compileNode(n.l);
      const r = compileNode(n.r);
      const test: (c: number) => boolean =
        n.op === "<"
          ? (c) => c < 0
          : n.op === "<="
            ? (c) => c <= 0
            : n.op === ">"
              ? (c) => c > 0
              : (c) => c >= 0;
      return (get) => {
        const c = order(l(get), r(get));
        return c === null ? null : test(c);
      };
    }
    case "isnull": {
      const e = compileNode(n.e);
      const negate = n.not;
      return (get) => (e(get) === null) !== negate;
    }
    case "between": {
      const e = compileNode(n.e);
      const lo = compileNode(n.lo);
      const hi = compileNode(n.hi);
      const negate = n.not;
      return (get) => {
        const v = e(get);
        const a = order(v, lo(get));
        const b = order(v, hi(get));
        if (negate) {
          // v < lo OR v > hi
          if ((a !== null && a < 0) || (b !== null && b > 0)) return true;
          return a === null || b === null ? null : false;
        }
        // v >= lo AND v <= hi
        if ((a !== null && a < 0) || (b !== null && b > 0)) return false;
        return a === null || b === null ? null : true;
      };
    }
    case "in": {
      const name = n.name;
      const set = new Set(n.values);
      const negate = n.not;
      return (get) => {
        const v = get(name);
        return v === undefined ? null : set.has(v) !== negate;
      };
    }
    case "strop": {
      const e = compileNode(n.e);
      const s = n.s;
      const negate = n.not;
      if (s === "") return () => false;
      const test: (v: string) => boolean =
        n.op === "CONTAINS"
          ? (v) => v.includes(s)
          : n.op === "STARTSWITH"
            ? (v) => v.startsWith(s)
            : (v) => v.endsWith(s);
      return (get) => {
        const v = e(get);
        return typeof v === "string" ? test(v) !== negate : false;
      };
    }
  }
}
