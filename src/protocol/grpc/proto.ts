// The apache.rocketmq.v2 protos (our copy under proto/, Apache-2.0), loaded with proto-loader. Messages decode to
// plain objects: camelCase fields, enums as their names, int64 as numbers, absent fields left out (so a missing
// field is told apart from a zero), and each oneof's set member named by the oneof's own field.
import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";

/** The project's proto directory, from dist/src/protocol/grpc/ (compiled) or src/protocol/grpc/ (sources). */
export const PROTO_DIR = fileURLToPath(new URL("../../../../proto", import.meta.url));

const LOADER_OPTIONS: protoLoader.Options = {
  keepCase: false,
  longs: Number,
  enums: String,
  defaults: false,
  oneofs: true,
  includeDirs: [PROTO_DIR],
};

interface V2Package {
  MessagingService: grpc.ServiceClientConstructor;
}

let cached: V2Package | undefined;

function v2(): V2Package {
  if (!cached) {
    const def = protoLoader.loadSync("apache/rocketmq/v2/service.proto", LOADER_OPTIONS);
    const root = grpc.loadPackageDefinition(def) as unknown as { apache: { rocketmq: { v2: V2Package } } };
    cached = root.apache.rocketmq.v2;
  }
  return cached;
}

/** The MessagingService definition a server registers its handlers under. */
export function messagingServiceDefinition(): grpc.ServiceDefinition {
  return v2().MessagingService.service;
}

/** A client constructor for MessagingService with the same decoding (tests and tools use it). */
export function messagingServiceClient(): grpc.ServiceClientConstructor {
  return v2().MessagingService;
}
