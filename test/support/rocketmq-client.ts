// The official RocketMQ 5.x Node.js client (rocketmq-client-nodejs, gRPC), loaded for interop tests. Its default
// logger writes $HOME/logs/rocketmq/..., and its consume services always use that logger: HOME points at a temp
// dir (removed at exit) before the package is loaded. The protobuf enums are not exported from the package
// root; they come from its generated definition_pb.
import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before } from "node:test";
import { startBroker } from "./broker-fixture.js";

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

type SimpleConsumer = InstanceType<ClientModule["SimpleConsumer"]>;
type MessageView = Awaited<ReturnType<SimpleConsumer["receive"]>>[number];

/** A started SimpleConsumer of `group` (TAG expressions by topic) with a short long-poll. */
export async function startSimpleConsumer(
  endpoints: string,
  group: string,
  subscriptions: Record<string, string>,
  awaitDuration = 2000,
): Promise<SimpleConsumer> {
  const c = new (rocketmqClient().client.SimpleConsumer)({
    endpoints,
    namespace: "",
    consumerGroup: group,
    subscriptions: new Map(Object.entries(subscriptions)),
    awaitDuration,
    logger: quietLogger,
  });
  await c.startup();
  return c;
}

/** Receives until `n` messages came (or the time is up), each receive asking for `invisibleMs`. */
export async function receiveN(
  c: SimpleConsumer,
  n: number,
  invisibleMs: number,
  timeoutMs = 30_000,
): Promise<MessageView[]> {
  const out: MessageView[] = [];
  const end = Date.now() + timeoutMs;
  while (out.length < n && Date.now() < end)
    out.push(...(await c.receive(Math.min(32, n - out.length), invisibleMs)));
  return out;
}

type Producer = InstanceType<ClientModule["Producer"]>;

/**
 * A broker started before a file's tests, with one started Producer of the official client; both stop after
 * them. Read `b` and `producer` inside tests (they are set once the before hook ran).
 */
export function brokerWithProducer(): { b: Awaited<ReturnType<typeof startBroker>>; producer: Producer } {
  const env = {} as { b: Awaited<ReturnType<typeof startBroker>>; producer: Producer };
  before(async () => {
    env.b = await startBroker();
    env.producer = new (rocketmqClient().client.Producer)({
      endpoints: env.b.grpcAddr,
      namespace: "",
      logger: quietLogger,
    });
    await env.producer.startup();
  });
  after(async () => {
    await env.producer.shutdown();
    await env.b.stop();
  });
  return env;
}
