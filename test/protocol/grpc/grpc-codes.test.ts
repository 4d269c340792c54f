// Every gRPC code the broker can answer must be a value of apache.rocketmq.v2.Code: the official clients turn
// any other code (0 included) into an "unsupported" error, whatever the broker meant.
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import * as protoLoader from "@grpc/proto-loader";
import { ErrorCatalog } from "../../../src/common/errors.js";
import { PROTO_DIR } from "../../../src/protocol/grpc/proto.js";
import { Code } from "../../../src/protocol/grpc/status.js";

test("ErrorCatalog's grpc codes and the endpoint's own codes are all v2 Code values", () => {
  const def = protoLoader.loadSync(join(PROTO_DIR, "apache/rocketmq/v2/definition.proto"));
  const codeEnum = def["apache.rocketmq.v2.Code"] as unknown as {
    type: { value: { name: string; number: number }[] };
  };
  const known = new Map(codeEnum.type.value.map((v) => [v.number, v.name]));
  assert.ok(known.size > 40, "the Code enum was read");
  for (const [name, spec] of Object.entries(ErrorCatalog)) {
    assert.ok(known.has(spec.grpc), `${name}.grpc = ${spec.grpc} is not a v2 Code`);
    assert.notEqual(spec.grpc, 0);
  }
  for (const [name, code] of Object.entries(Code)) assert.equal(known.get(code), name, `Code.${name}`);
});
