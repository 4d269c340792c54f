// SQL92 selector semantics: each operator on true / false / missing-property inputs, numeric conversion of
// property strings, precedence, three-valued logic, literals, escapes and case-insensitive keywords. Expected
// values follow RocketMQ's filter module (ExpressionTest) where it defines them.
import { test } from "node:test";
import assert from "node:assert/strict";
import { compileSql92 } from "../../../src/broker/filter/sql-filter.js";

type Props = Record<string, string>;

function matches(expression: string, props: Props): boolean {
  return compileSql92(expression).evaluate(new Map(Object.entries(props)));
}

/** Each row: properties and the expected match. */
function check(expression: string, rows: [Props, boolean][]): void {
  for (const [props, want] of rows) {
    assert.equal(matches(expression, props), want, `${expression} with ${JSON.stringify(props)}`);
  }
}

test("the issue's example", () => {
  const e = "a > 5 AND region IN ('hz','sh') AND TAGS IS NOT NULL";
  check(e, [
    [{ a: "6", region: "hz", TAGS: "TagA" }, true],
    [{ a: "100", region: "sh", TAGS: "" }, true],
    [{ a: "5", region: "hz", TAGS: "TagA" }, false],
    [{ a: "6", region: "bj", TAGS: "TagA" }, false],
    [{ a: "6", region: "hz" }, false],
    [{ region: "hz", TAGS: "TagA" }, false],
    [{ a: "6", TAGS: "TagA" }, false],
    [{ a: "six", region: "hz", TAGS: "TagA" }, false],
  ]);
  assert.deepEqual(compileSql92(e).properties, ["a", "region", "TAGS"]);
});

test("= and <> against numbers, strings and missing properties", () => {
  check("a = 5", [
    [{ a: "5" }, true],
    [{ a: "6" }, false],
    [{ a: "5.0" }, true],
    [{ a: "+5" }, true],
    [{ a: "abc" }, false],
    [{}, false],
  ]);
  check("a <> 5", [
    [{ a: "6" }, true],
    [{ a: "5" }, false],
    [{ a: "abc" }, false], // not a number: unknown, as RocketMQ does not match it either
    [{}, false],
  ]);
  check("a = 'x'", [
    [{ a: "x" }, true],
    [{ a: "X" }, false],
    [{ a: "x " }, false],
    [{}, false],
  ]);
  check("a <> 'x'", [
    [{ a: "y" }, true],
    [{ a: "x" }, false],
    [{}, false],
  ]);
  check("a = ''", [
    [{ a: "" }, true],
    [{ a: " " }, false],
    [{}, false],
  ]);
  check("'x' = a", [
    [{ a: "x" }, true],
    [{}, false],
  ]);
  check("5 = 5.0", [[{}, true]]);
  check("'a' <> 'b'", [[{}, true]]);
});

test("ordering comparisons are numeric, with a missing property or a non-number never matching", () => {
  check("a < 5", [
    [{ a: "4" }, true],
    [{ a: "5" }, false],
    [{ a: "-10" }, true],
    [{ a: "4.99" }, true],
    [{ a: "x" }, false],
    [{}, false],
  ]);
  check("a <= 5", [
    [{ a: "5" }, true],
    [{ a: "5.0" }, true],
    [{ a: "5.01" }, false],
    [{}, false],
  ]);
  check("a > 5", [
    [{ a: "6" }, true],
    [{ a: "5" }, false],
    [{ a: "10" }, true], // as a string "10" < "5"
    [{ a: "5.5" }, true],
    [{ a: "1e1" }, true],
    [{}, false],
  ]);
  check("a >= 5", [
    [{ a: "5" }, true],
    [{ a: "4" }, false],
    [{}, false],
  ]);
  check("a > 5.5", [
    [{ a: "5.6" }, true],
    [{ a: "6" }, true],
    [{ a: "5.5" }, false],
  ]);
  check("a > -3", [
    [{ a: "-2" }, true],
    [{ a: "-4" }, false],
  ]);
  // RocketMQ ExpressionTest: exponent and float literals
  check("a > 3.1E10", [[{ a: String(3.1415 * Math.pow(10, 10)) }, true]]);
  check("a > 3.14", [[{ a: "3.1415" }, true]]);
  // Two properties compare numerically
  check("a > b", [
    [{ a: "20", b: "10" }, true],
    [{ a: "10", b: "20" }, false],
    [{ a: "10", b: "9" }, true],
    [{ a: "10", b: "x" }, false],
    [{ a: "10" }, false],
  ]);
  check("5 < 6", [[{}, true]]);
});

test("numbers versus strings: equality of two strings is exact, 64-bit integers compare exactly", () => {
  check("a = '10'", [
    [{ a: "10" }, true],
    [{ a: "10.0" }, false],
  ]);
  check("a = 10", [[{ a: "10.0" }, true]]);
  check("a = b", [
    [{ a: "3.14", b: "3.14" }, true],
    [{ a: "3.14", b: "3.140" }, false],
  ]);
  check("a <> b", [
    [{ a: "3.14", b: "3.141" }, true],
    [{ a: "3.14", b: "3.14" }, false],
  ]);
  check("a = 9223372036854775807", [
    [{ a: "9223372036854775807" }, true],
    [{ a: "9223372036854775806" }, false],
  ]);
  check("a < 9223372036854775807L", [[{ a: "9223372036854775806" }, true]]);
  check("a > -9223372036854775807", [[{ a: "-9223372036854775806" }, true]]);
  check("a IN ('5')", [
    [{ a: "5" }, true],
    [{ a: "5.0" }, false],
  ]);
});

test("TRUE, FALSE and NULL literals; a property compared with a boolean reads 'true' in any case", () => {
  check("TRUE", [[{}, true]]);
  check("FALSE", [[{}, false]]);
  check("NULL", [[{}, false]]);
  check("NOT FALSE", [[{}, true]]);
  check("a = TRUE", [
    [{ a: "true" }, true],
    [{ a: "TRUE" }, true],
    [{ a: "yes" }, false],
    [{}, false],
  ]);
  check("a = FALSE", [
    [{ a: "false" }, true],
    [{ a: "no" }, true], // Java's Boolean.valueOf: anything but "true" is false
    [{ a: "true" }, false],
  ]);
  // RocketMQ ExpressionTest.testEvaluate_boolean
  check("a=TRUE OR b=FALSE", [
    [{ a: "true", b: "false" }, true],
    [{ a: "false", b: "true" }, false],
  ]);
  check("(a > 1) = TRUE", [
    [{ a: "2" }, true],
    [{ a: "0" }, false],
    [{}, false],
  ]);
  check("a = 1 = FALSE", [
    [{ a: "2" }, true],
    [{ a: "1" }, false],
  ]);
  // a bare property as a condition: unknown when missing, else FALSE (its value is a string)
  check("a", [
    [{ a: "true" }, false],
    [{}, false],
  ]);
  check("NOT a", [
    [{ a: "x" }, true],
    [{}, false],
  ]);
});

test("BETWEEN is inclusive at both ends; NOT BETWEEN is its complement; missing matches neither", () => {
  check("a BETWEEN 2 AND 10", [
    [{ a: "2" }, true],
    [{ a: "10" }, true],
    [{ a: "3" }, true],
    [{ a: "1" }, false],
    [{ a: "11" }, false],
    [{ a: "1.999" }, false],
    [{ a: "10.0" }, true],
    [{ a: "abc" }, false],
    [{}, false],
  ]);
  check("a NOT BETWEEN 2 AND 10", [
    [{ a: "1" }, true],
    [{ a: "11" }, true],
    [{ a: "2" }, false],
    [{ a: "10" }, false],
    [{ a: "abc" }, false],
    [{}, false],
  ]);
  check("a BETWEEN -5 AND 5", [
    [{ a: "-5" }, true],
    [{ a: "-6" }, false],
  ]);
  check("a BETWEEN 1.5 AND 2", [
    [{ a: "1.5" }, true],
    [{ a: "1.4" }, false],
  ]);
  check("a BETWEEN lo AND hi", [
    [{ a: "5", lo: "1", hi: "9" }, true],
    [{ a: "5", lo: "6", hi: "9" }, false],
    [{ a: "5", lo: "1" }, false],
  ]);
  check("a between 5 and 5", [[{ a: "5" }, true]]);
  // the AND inside BETWEEN binds to it; the next AND is logical
  check("a BETWEEN 1 AND 2 AND b = 1", [
    [{ a: "2", b: "1" }, true],
    [{ a: "2", b: "2" }, false],
  ]);
  // RocketMQ ParserTest.betweenExpression
  check("(a between 2 and 10) AND (b not between 6 and 9)", [
    [{ a: "3", b: "10" }, true],
    [{ a: "3", b: "7" }, false],
  ]);
});

test("IN / NOT IN compare the string exactly; a missing property matches neither", () => {
  check("a IN ('3', '4', '5')", [
    [{ a: "3" }, true],
    [{ a: "5" }, true],
    [{ a: "8" }, false],
    [{ a: " 3" }, false],
    [{}, false],
  ]);
  check("a NOT IN ('3', '4', '5')", [
    [{ a: "8" }, true],
    [{ a: "4" }, false],
    [{}, false],
  ]);
  check("a IN ('x')", [[{ a: "x" }, true]]);
  check("a IN ('a','b','c','d','e','f','g')", [
    [{ a: "g" }, true],
    [{ a: "h" }, false],
  ]);
  check("(a not in ('6', '4', '5')) or (b in ('3', '4', '5'))", [
    [{ a: "6", b: "3" }, true],
    [{ a: "6", b: "9" }, false],
  ]);
});

test("IS NULL / IS NOT NULL", () => {
  check("a IS NULL", [
    [{}, true],
    [{ a: "" }, false],
    [{ a: "x" }, false],
  ]);
  check("a IS NOT NULL", [
    [{ a: "" }, true],
    [{}, false],
  ]);
  // a comparison with a missing operand is itself NULL
  check("(a > 1) IS NULL", [
    [{}, true],
    [{ a: "2" }, false],
  ]);
  // RocketMQ ExpressionTest.testEvaluate_nullOr and testEvaluate_equal
  check("a is null OR a='hello'", [
    [{}, true],
    [{ a: "hello" }, true],
    [{ a: "abc" }, false],
  ]);
  check("a is not null and a='hello'", [
    [{ a: "hello" }, true],
    [{}, false],
  ]);
});

test("CONTAINS / STARTSWITH / ENDSWITH and their NOT forms", () => {
  const v = { value: "axb" };
  check("value contains 'x'", [
    [v, true],
    [{ value: "ab" }, false],
    [{}, false],
  ]);
  check("value startswith 'ax'", [
    [v, true],
    [{ value: "xa" }, false],
  ]);
  check("value endswith 'xb'", [
    [v, true],
    [{ value: "bx" }, false],
  ]);
  check("value not contains 'x'", [
    [v, false],
    [{ value: "ab" }, true],
    [{}, false],
  ]);
  check("value not startswith 'x'", [
    [v, true],
    [{}, false],
  ]);
  check("value not endswith 'b'", [
    [v, false],
    [{ value: "ba" }, true],
  ]);
  // an empty search string never matches, with or without NOT (RocketMQ ExpressionTest)
  for (const op of ["contains", "startswith", "endswith"]) {
    check(`value ${op} ''`, [[v, false]]);
    check(`value not ${op} ''`, [[v, false]]);
  }
  check("'axb' contains 'x'", [[{}, true]]);
  check("' ' startswith ' '", [[{}, true]]);
  check("'s' endswith '\\'", [[{}, false]]);
  check("value contains 'it''s'", [[{ value: "so it's here" }, true]]);
  // a number is not a string
  check("5 contains '5'", [[{}, false]]);
  // RocketMQ ExpressionTest: the three together
  check("a not in ('4', '4', '5') and b between 3 and 10 and c not contains 'axbc'", [
    [{ a: "3", b: "3", c: "axb" }, true],
    [{ a: "4", b: "3", c: "axb" }, false],
  ]);
});

test("precedence: NOT binds tighter than AND, AND tighter than OR; parentheses override", () => {
  const e = "a = 1 OR b = 1 AND c = 1";
  check(e, [
    [{ a: "1", b: "0", c: "0" }, true],
    [{ a: "0", b: "1", c: "0" }, false],
    [{ a: "0", b: "1", c: "1" }, true],
  ]);
  check("(a = 1 OR b = 1) AND c = 1", [
    [{ a: "1", b: "0", c: "0" }, false],
    [{ a: "1", b: "0", c: "1" }, true],
  ]);
  check("b = 1 AND c = 1 OR a = 1", [
    [{ a: "1", b: "0", c: "0" }, true],
    [{ a: "0", b: "1", c: "0" }, false],
  ]);
  // NOT applies to the comparison, then AND
  check("NOT a = 1 AND b = 1", [
    [{ a: "2", b: "1" }, true],
    [{ a: "1", b: "1" }, false],
  ]);
  check("NOT a = 1 OR b = 1", [
    [{ a: "1", b: "1" }, true],
    [{ a: "1", b: "2" }, false],
  ]);
  check("NOT (a = 1 OR b = 1)", [
    [{ a: "2", b: "2" }, true],
    [{ a: "1", b: "2" }, false],
  ]);
  check("NOT a > 5", [
    [{ a: "3" }, true],
    [{ a: "7" }, false],
    [{}, false],
  ]);
  check("NOT NOT a = 1", [[{ a: "1" }, true]]);
  check("NOT a IS NULL", [
    [{ a: "x" }, true],
    [{}, false],
  ]);
  check("((((a = 1))))", [[{ a: "1" }, true]]);
  // RocketMQ ParserTest / ExpressionTest and / or expressions
  check("a=3 and b<>4 And c>5 AND d<=4", [
    [{ a: "3", b: "5", c: "6", d: "1" }, true],
    [{ a: "4", b: "5", c: "6", d: "1" }, false],
  ]);
  check("a=3 or b<>4 Or c>5 OR d<=4", [
    [{ a: "3" }, true],
    [{ a: "4", b: "5" }, true],
    [{ a: "4", b: "4", c: "3", d: "2" }, true],
    [{ a: "4", b: "4", c: "3", d: "10" }, false],
  ]);
});

test("three-valued logic: unknown OR true matches, NOT unknown does not", () => {
  check("a = 1 OR b = 1", [
    [{ b: "1" }, true],
    [{ b: "2" }, false],
    [{}, false],
  ]);
  check("a = 1 AND b = 1", [[{ b: "1" }, false]]);
  check("NOT (a = 1)", [[{}, false]]);
  check("NOT (a = 1 AND b = 1)", [
    [{ b: "2" }, true], // unknown AND false = false
    [{ b: "1" }, false], // unknown AND true = unknown
  ]);
  check("NOT (a = 1 OR b = 1)", [
    [{ b: "1" }, false],
    [{ b: "2" }, false], // unknown OR false = unknown
  ]);
});

test("string literals: '' escapes a quote; any character may appear inside", () => {
  check("TAGS = 'it''s'", [
    [{ TAGS: "it's" }, true],
    [{ TAGS: "its" }, false],
  ]);
  // RocketMQ ExpressionTest.stringHasString
  check("TAGS is not null and TAGS='''''tag'''''", [[{ TAGS: "''tag''" }, true]]);
  check("a IN ('o''neil', 'x')", [[{ a: "o'neil" }, true]]);
  check("a = ''''", [[{ a: "'" }, true]]);
  check("a = 'AND OR -- /* ('", [[{ a: "AND OR -- /* (" }, true]]);
  check("a = '杭州 🚀'", [[{ a: "杭州 🚀" }, true]]);
  check("a = 'line\nbreak'", [[{ a: "line\nbreak" }, true]]);
});

test("keywords are case-insensitive; property names are case-sensitive", () => {
  check("a between 1 and 3 AnD b Is NoT nUlL oR c iN ('x')", [
    [{ a: "2", b: "" }, true],
    [{ c: "x" }, true],
    [{ a: "5", b: "" }, false],
  ]);
  check("a not between 1 and 3 and b not in ('x') and c is null and d = true and e ConTains 'q'", [
    [{ a: "4", b: "y", d: "TRUE", e: "aqa" }, true],
  ]);
  check("A = 1", [
    [{ a: "1" }, false],
    [{ A: "1" }, true],
  ]);
  // identifiers that begin with a keyword are identifiers
  check("notes = 'x' AND Android = 'y' AND INx = 'z' AND isnull IS NULL AND $a_1 = 'w' AND _b = 'v'", [
    [{ notes: "x", Android: "y", INx: "z", $a_1: "w", _b: "v" }, true],
  ]);
  check("TAGS = 'TagA'", [[{ TAGS: "TagA" }, true]]);
  check("now >= 5", [[{ now: "6" }, true]]);
});

test("numeric literals: L suffix, decimals, exponents, signs; comments and white space are skipped", () => {
  check("a = 5L", [[{ a: "5" }, true]]);
  check("a = 0", [[{ a: "0" }, true]]);
  check("a = .5", [[{ a: "0.5" }, true]]);
  check("a = 5.", [[{ a: "5" }, true]]);
  check("a = 1e3", [[{ a: "1000" }, true]]);
  check("a = 1E-2", [[{ a: "0.01" }, true]]);
  check("a = 2.5e+1", [[{ a: "25" }, true]]);
  check("a = +5", [[{ a: "5" }, true]]);
  check("a = - -5", [[{ a: "5" }, true]]);
  check("a = -0.5", [[{ a: "-0.5" }, true]]);
  check("a > 0.0", [[{ a: "0.1" }, true]]);
  check("-a > 5", [
    [{ a: "-6" }, true],
    [{ a: "6" }, false],
    [{ a: "x" }, false],
  ]);
  check("a = 1 -- trailing comment", [[{ a: "1" }, true]]);
  check("a = 1 -- comment\n AND b = 2", [
    [{ a: "1", b: "2" }, true],
    [{ a: "1", b: "3" }, false],
  ]);
  check("a /* block */ = /* another\n one */ 1", [[{ a: "1" }, true]]);
  check("\ta\n=\r\n1\f", [[{ a: "1" }, true]]);
});

test("evaluate takes a Map or a lookup function", () => {
  const f = compileSql92("a = 'x' AND b > 1");
  assert.equal(
    f.evaluate(
      new Map([
        ["a", "x"],
        ["b", "2"],
      ]),
    ),
    true,
  );
  assert.equal(
    f.evaluate((name) => ({ a: "x", b: "2" })[name]),
    true,
  );
  assert.equal(
    f.evaluate(() => undefined),
    false,
  );
  assert.equal(f.expression, "a = 'x' AND b > 1");
});
