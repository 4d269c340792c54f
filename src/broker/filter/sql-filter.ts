// RocketMQ's SQL92 property filter (expression type "SQL92", e.g. `a > 5 AND region IN ('hz','sh')`): compile
// once, cache by expression text, evaluate per message against the properties of its stored record.
import { BrokerError } from "../../common/errors.js";
import { readRecordProperties } from "../../common/message-record.js";
import { getProperty } from "../../common/properties.js";
import type { MessageFilter } from "../../store/message-store.js";
import { type PropertyLookup, compileNode } from "./sql-eval.js";
import { type Node, parseSql92 } from "./sql-parser.js";

export { Sql92SyntaxError } from "./sql-lexer.js";

export interface Sql92Filter {
  readonly expression: string;
  /** The property names the expression reads, in order of first use. */
  readonly properties: readonly string[];
  /** TRUE only when the selector is TRUE; FALSE and NULL (unknown) do not match. */
  evaluate(props: Map<string, string> | PropertyLookup): boolean;
}

export const SQL92_CACHE_CAPACITY = 1000;
const cache = new Map<string, Sql92Filter>();

/**
 * Compiles a selector, or returns the cached compilation of the same text. Throws
 * BrokerError("SUBSCRIPTION_PARSE_FAILED") naming the position and what was expected when it is malformed.
 */
export function compileSql92(expression: string): Sql92Filter {
  if (typeof expression !== "string") {
    throw new BrokerError("SUBSCRIPTION_PARSE_FAILED", "SQL92 expression must be a string");
  }
  const hit = cache.get(expression);
  if (hit) {
    // Most recently used moves to the end; the first key is the eviction candidate.
    cache.delete(expression);
    cache.set(expression, hit);
    return hit;
  }
  const filter = buildFilter(expression);
  cache.set(expression, filter);
  if (cache.size > SQL92_CACHE_CAPACITY) {
    const oldest = cache.keys().next();
    if (!oldest.done) cache.delete(oldest.value);
  }
  return filter;
}

export function clearSql92Cache(): void {
  cache.clear();
}

export function sql92CacheSize(): number {
  return cache.size;
}

function buildFilter(expression: string): Sql92Filter {
  const tree = parseSql92(expression);
  const run = compileNode(tree);
  const properties = referencedProperties(tree);
  return {
    expression,
    properties,
    evaluate(props) {
      const get: PropertyLookup = typeof props === "function" ? props : (name) => props.get(name);
      return run(get) === true;
    },
  };
}

function referencedProperties(root: Node): string[] {
  const seen = new Set<string>();
  const walk = (n: Node): void => {
    switch (n.k) {
      case "lit":
        return;
      case "prop":
      case "cast":
      case "in":
        seen.add(n.name);
        return;
      case "and":
      case "or":
        n.items.forEach(walk);
        return;
      case "eq":
      case "order":
        walk(n.l);
        walk(n.r);
        return;
      case "between":
        walk(n.e);
        walk(n.lo);
        walk(n.hi);
        return;
      case "neg":
      case "not":
      case "isnull":
      case "strop":
        walk(n.e);
        return;
    }
  };
  walk(root);
  return [...seen];
}

const NO_PROPERTIES: PropertyLookup = () => undefined;
const messageFilters = new WeakMap<Sql92Filter, MessageFilter>();

/**
 * A store filter for a compiled selector. The consume queue's tag hash says nothing about properties, so
 * matchTagsCode passes everything and matchRecord evaluates the record's properties (a malformed record does
 * not match).
 */
export function sql92MessageFilter(f: Sql92Filter): MessageFilter {
  let mf = messageFilters.get(f);
  if (!mf) {
    mf = {
      matchTagsCode: () => true,
      matchRecord: (record) => {
        const props = readRecordProperties(record);
        if (props === undefined) return false;
        return f.evaluate(props.length === 0 ? NO_PROPERTIES : (name) => getProperty(props, name));
      },
    };
    messageFilters.set(f, mf);
  }
  return mf;
}

// The record walker lives with the record codec; re-exported for the filter's callers.
export { readRecordProperties } from "../../common/message-record.js";
