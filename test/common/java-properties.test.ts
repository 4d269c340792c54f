import { test } from "node:test";
import assert from "node:assert/strict";
import { formatJavaProperties, parseJavaProperties } from "../../src/common/java-properties.js";

test("Java properties text: separators, comments, escapes, continuations; later keys win", () => {
  const text = [
    "# comment",
    "! another",
    "",
    "  a=1",
    "b : two words ",
    "c\tthree",
    "d=",
    "e",
    "path=C\\:\\\\data\\\\x",
    "key\\ with\\ spaces=v",
    "uni=\\u00e9t\\u00E9",
    "long=first, \\",
    "     second",
    "a=override",
  ].join("\r\n");
  const p = parseJavaProperties(text);
  assert.deepEqual(Object.fromEntries(p), {
    a: "override",
    b: "two words ",
    c: "three",
    d: "",
    e: "",
    path: "C:\\data\\x",
    "key with spaces": "v",
    uni: "été",
    long: "first, second",
  });
  assert.equal(
    formatJavaProperties([
      ["x", 1],
      ["y", true],
      ["z", "s"],
    ]),
    "x=1\ny=true\nz=s\n",
  );
  assert.deepEqual(Object.fromEntries(parseJavaProperties(formatJavaProperties([["k", "v=w"]]))), {
    k: "v=w",
  });
});
