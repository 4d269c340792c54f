// Malformed SQL92 selectors are rejected when compiled, with SUBSCRIPTION_PARSE_FAILED and a message that names
// the position (counting from 1) and what was expected there.
import { test } from "node:test";
import assert from "node:assert/strict";
import { isBrokerError } from "../../../src/common/errors.js";
import { Sql92SyntaxError, compileSql92 } from "../../../src/broker/filter/sql-filter.js";

// [expression, position, a fragment of the message]
const MALFORMED: [string, number, string][] = [
  ["", 1, "expected a property name, a literal or '(' but found end of expression"],
  ["   ", 4, "found end of expression"],
  ["a >", 4, "expected a property name, a literal or '('"],
  ["a = ", 5, "found end of expression"],
  ["a > 'x'", 5, "string 'x' cannot be used with '>'"],
  ["'x' <= a", 1, "cannot be used with '<='"],
  ["a > TRUE", 5, "TRUE cannot be used with '>'"],
  ["(a = 1) > 2", 2, "a condition cannot be used with '>'"],
  ["a BETWEEN 'a' AND 'z'", 11, "string 'a' cannot be used with BETWEEN"],
  ["a between 10 and 0", 11, "lower bound 10 is greater than upper bound 0"],
  ["a between 2", 12, "expected AND between the bounds of BETWEEN"],
  ["a between 2 or 3", 13, "expected AND between the bounds of BETWEEN but found keyword OR"],
  ["a in (1, 2)", 7, "expected a string literal in the IN list but found number 1"],
  ["a in ()", 7, "expected a string literal in the IN list but found ')'"],
  ["a in 'x'", 6, "expected '(' after IN"],
  ["a in ('x' 'y')", 11, "expected ',' or ')' in the IN list"],
  ["a in ('x',)", 11, "expected a string literal in the IN list"],
  ["a in ('x'", 10, "expected ',' or ')' in the IN list but found end of expression"],
  ["'a' in ('x')", 1, "IN needs a property name on its left"],
  ["a not in", 9, "expected '(' after IN"],
  ["value contains x", 16, "expected a string literal after CONTAINS but found identifier x"],
  ["value contains 123", 16, "expected a string literal after CONTAINS but found number 123"],
  ["'axb' not contains ", 20, "expected a string literal after CONTAINS"],
  ["a startswith", 13, "after STARTSWITH"],
  ["a is 5", 6, "expected NULL or NOT NULL after IS but found number 5"],
  ["a is not", 9, "expected NULL after IS NOT"],
  ["a NOT = 1", 7, "expected BETWEEN, IN, CONTAINS, STARTSWITH or ENDSWITH after NOT"],
  ["a and between 2 and 10", 7, "found keyword BETWEEN"],
  ["a = NULL", 5, "NULL cannot be compared with '=', use IS NULL or IS NOT NULL"],
  ["NULL <> a", 1, "NULL cannot be compared with '<>'"],
  ["TRUE = 'x'", 6, "TRUE cannot be compared with string 'x'"],
  ["5", 1, "expected a condition but found number 5"],
  ["'abc'", 1, "expected a condition but found string 'abc'"],
  ["a = 1 AND 5", 11, "expected a condition but found number 5"],
  ["NOT 'x'", 5, "expected a condition"],
  ["-a", 1, "expected a condition but found a signed value"],
  ["-'a' > 1", 2, "'-' must be followed by a number or a property"],
  ["a > -TRUE", 6, "'-' must be followed by a number or a property, not TRUE"],
  ["a = 1 b", 7, "expected AND, OR, a comparison or the end of the expression but found identifier b"],
  ["a = 1)", 6, "unbalanced ')'"],
  ["(a = 1", 7, "expected ')' to close the '(' at position 1"],
  ["((a = 1)", 9, "to close the '(' at position 1"],
  ["a = 1 AND", 10, "found end of expression"],
  ["OR a = 1", 1, "found keyword OR"],
  ["a = = 1", 5, "found '='"],
  ["a == 1", 4, "found '='"],
  ["a != 1", 3, "'!=' is not supported, use '<>'"],
  ["!a", 1, "use NOT"],
  ["a = 1 && b = 2", 7, "use AND"],
  ["a = 1 || b = 2", 7, "use OR"],
  ['a = "x"', 5, "single quotes"],
  ["a = 'x", 5, "unterminated string literal"],
  ["a = 'it''s", 5, "unterminated string literal"],
  ["a = 1 /* open", 7, "unterminated comment"],
  ["a.b = 1", 2, "unexpected character '.'"],
  ["a = 1 * 2", 7, "unexpected character '*'"],
  ["a = 1 % 2", 7, "unexpected character '%'"],
  ["a LIKE 'x%'", 3, "found identifier LIKE"],
  ["a = 5abc", 6, "unexpected character 'a' after number 5"],
  ["a = 5.5.5", 8, "unexpected character '.' after number 5.5"],
  ["a = 1e", 6, "unexpected character 'e' after number 1"],
  ["a = 012", 5, "leading zero"],
  ["a > 100000000000000000000000", 5, "out of the range of a 64-bit long"],
  ["a > 9223372036854775808", 5, "out of the range of a 64-bit long"],
  ["a > 1e400", 5, "out of the range of a double"],
  ["城市 = 'x'", 1, "unexpected character '城'"],
  ["a = 1\u0000", 6, "unexpected character 'U+0000'"],
  ["a = 1\nAND\nb ==", 14, "found '='"],
  ["(".repeat(500) + "a = 1" + ")".repeat(500), 101, "nested more than 100 levels"],
  ["NOT ".repeat(500) + "a = 1", 401, "nested more than 100 levels"],
  ["a = " + "-".repeat(300).split("").join(" ") + " 1", 205, "nested more than 100 levels"],
  ["a" + " IS NULL".repeat(300), 1, "nested more than 200 levels"],
];

test("malformed expressions are rejected with SUBSCRIPTION_PARSE_FAILED naming the position", () => {
  for (const [expression, position, fragment] of MALFORMED) {
    const label = JSON.stringify(expression.length > 60 ? expression.slice(0, 60) + "…" : expression);
    assert.throws(
      () => compileSql92(expression),
      (e: unknown) => {
        assert.ok(
          isBrokerError(e, "SUBSCRIPTION_PARSE_FAILED"),
          `${label}: not a parse failure: ${String(e)}`,
        );
        assert.ok(e instanceof Sql92SyntaxError, label);
        assert.ok(e.message.includes(fragment), `${label}: message ${JSON.stringify(e.message)}`);
        assert.equal(e.position, position, `${label}: ${e.message}`);
        assert.ok(e.message.includes(`at position ${position}:`), `${label}: ${e.message}`);
        assert.equal(e.retriable, false);
        return true;
      },
    );
  }
});

test("the message carries the catalogue text and the detail", () => {
  assert.throws(
    () => compileSql92("a >"),
    (e: unknown) =>
      e instanceof Error &&
      e.message ===
        "subscription expression could not be parsed: SQL92 syntax error at position 4: " +
          "expected a property name, a literal or '(' but found end of expression",
  );
});

test("a non-string expression is a parse failure, not a TypeError", () => {
  assert.throws(
    () => compileSql92(undefined as unknown as string),
    (e: unknown) => isBrokerError(e, "SUBSCRIPTION_PARSE_FAILED"),
  );
});

test("a failed compilation is not cached and fails again", () => {
  for (let i = 0; i < 2; i++) {
    assert.throws(
      () => compileSql92("a >"),
      (e: unknown) => isBrokerError(e, "SUBSCRIPTION_PARSE_FAILED"),
    );
  }
});

test("long but flat expressions are accepted", () => {
  const terms = Array.from({ length: 5000 }, (_, i) => `p${i} = '${i}'`);
  const f = compileSql92(terms.join(" OR "));
  assert.equal(f.evaluate(new Map([["p4999", "4999"]])), true);
  assert.equal(f.evaluate(new Map([["p4999", "0"]])), false);
  const g = compileSql92(terms.join(" AND "));
  assert.equal(
    g.evaluate((name) => name.slice(1)),
    true,
  );
  const list = Array.from({ length: 5000 }, (_, i) => `'v${i}'`).join(",");
  assert.equal(compileSql92(`a IN (${list})`).evaluate(new Map([["a", "v4321"]])), true);
  const nested = "(".repeat(100) + "a = 1" + ")".repeat(100);
  assert.equal(compileSql92(nested).evaluate(new Map([["a", "1"]])), true);
});
