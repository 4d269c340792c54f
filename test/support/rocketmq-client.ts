// The official RocketMQ 5.x Node.js client (rocketmq-client-nodejs, gRPC), loaded for interop tests. Its default
// logger writes $HOME/logs/rocketmq/..., and its consume services always use that logger: HOME points at a temp
// dir (removed at exit) before the package is loaded. The protobuf enums are not exported from the package
// root; they come from its generated definition_pb.
import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";

type ClientModule = typeof import("rocketmq-client-nodejs");
type DefinitionPb = typeof import("rocketmq-client-nodejs/proto/apache/rocketmq/v2/definition_pb.js");

let loaded: { client: ClientModule; pb: DefinitionPb } | undefined;

export function rocketmqClient(): { client: ClientModule; pb: DefinitionPb } {
  if (!loaded) {
    const home = mkdtempSync(join(tmpdir(), "rmq-grpc-home-"));
    process.env.HOME = home;
    process.on("exit", () => rmSync(home, { recursive: true, force: true }));
    const require = createRequire(import.meta.url);
    loaded = {
      client: require("rocketmq-client-nodejs") as ClientModule,
      pb: require("rocketmq-client-nodejs/proto/apache/rocketmq/v2/definition_pb.js") as DefinitionPb,
    };
  }
  return loaded;
}

/** A logger that drops everything (pass it as `logger` to every client). */
export const quietLogger = { info() {}, warn() {}, error() {}, debug() {} };
